/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_TCG_JIT_H
#define VESSEL_TCG_JIT_H

/*
 * The JIT: translates decoded blocks of 64-bit code and of flat 32-bit code
 * into host x86-64 code (jit.c).  The interpreter stays the reference: every instruction the JIT
 * has no inline code for runs its handler through a call, single-step and
 * tracing run the interpreter, and VESSEL_TCG_JIT=0 turns the JIT off.
 */
#include <stdbool.h>
#include <stdint.h>

struct tcg_cpu;
struct block;

/* Maps the code buffer unless VESSEL_TCG_JIT=0 (or mapping fails: then it says so). */
void jit_init(struct tcg_cpu *cpu);
void jit_destroy(struct tcg_cpu *cpu);
/* Forgets all code (with block_cache_flush()). */
void jit_flush(struct tcg_cpu *cpu);
/* Whether the buffer has room for a block of n instructions. */
bool jit_room(const struct tcg_cpu *cpu, unsigned int n_insns);
/* Compiles b, decoded at `linear`, if it can (b->jit stays NULL if not); needs jit_room(). */
void jit_compile(struct tcg_cpu *cpu, struct block *b, uint64_t linear);

/* Instructions of scratch space a block needs for the JIT's handler calls. */
#define JIT_INSN_COPIES(n)	(2 * (n))

#endif
