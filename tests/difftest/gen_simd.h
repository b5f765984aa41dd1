/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_GEN_SIMD_H
#define DIFFTEST_GEN_SIMD_H

#include "gen.h"

/*
 * x87, MMX, SSE and SSE2 for the random generator (--simd): what the
 * software CPU advertises in CPUID, nothing later (the host may have SSE3
 * and more; those encodings would rightly differ).
 */

/* Random x87/MXCSR state, registers and FP-shaped data for a case. */
void gen_simd_setup(struct dt_builder *b);
/* Appends one random x87, MMX or SSE/SSE2 instruction (with any set-up it needs). */
void gen_simd_insn(struct dt_builder *b);
/*
 * Stores what the comparison of states cannot see: MXCSR (not reported by
 * KVM here) and an FXSAVE image with the fields that legitimately differ
 * between processors cleared.
 */
void gen_simd_epilogue(struct dt_builder *b);

#endif
