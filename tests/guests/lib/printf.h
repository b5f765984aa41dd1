/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A small printf: flags '-', '0' and '#', a width, the length modifiers h, hh,
 * l, ll, z and the conversions d i u x X o c s p %.  Output goes to COM1.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
