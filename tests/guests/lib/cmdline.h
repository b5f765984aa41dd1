/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A command line is whitespace-separated words; key=value words give
 * parameters.  cmdline_find_value copies the value of the last `key=` word
 * of `line` into buf (truncated to size - 1 characters).
 */
bool cmdline_find_value(const char *line, const char *key, char *buf,
			size_t size);
/* The same, parsed as a decimal or 0x-hex number that fills the value. */
bool cmdline_find_u64(const char *line, const char *key, uint64_t *value);

#endif
