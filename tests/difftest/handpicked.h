/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_HANDPICKED_H
#define DIFFTEST_HANDPICKED_H

#include <stdbool.h>
#include <stdint.h>

#include "gen.h"

/*
 * Edge cases written by hand: flags of shifts by 0, #DE, faults in the
 * middle of REP string instructions, invalid and privileged instructions,
 * page-fault error codes, alignment checks, single-stepping, addressing
 * corner cases, compatibility mode, ...
 */
unsigned int handpicked_count(void);
const char *handpicked_name(unsigned int index);
/* Builds case index; false when it needs a CPU feature one side lacks. */
bool handpicked_build(unsigned int index, struct dt_case *c, const uint8_t *base_pages,
		      uint64_t seed, uint32_t features);

#endif
