/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_GEN_H
#define DIFFTEST_GEN_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "encode.h"
#include "insn_table.h"
#include "rng.h"
#include "sandbox.h"

/*
 * A test case: the initial CPU state, the sandbox pages (code, data, stack
 * included) and, for reports and flag masks, what each instruction is.
 */
#define DT_MAX_INSNS 96

struct dt_insn {
	uint16_t offset;		/* from SB_CODE_ADDR */
	uint8_t length;
	struct flags_effect flags;
	char text[96];
};

struct dt_case {
	char name[80];
	enum sb_code_mode mode;
	struct x86_cpu_state state;
	uint8_t pages[SB_NR_PAGES * SB_PAGE_SIZE];
	size_t code_length;		/* including the final OUT */
	struct dt_insn insns[DT_MAX_INSNS];
	unsigned int nr_insns;
};

/*
 * Status flags that are undefined where the case stopped: every instruction
 * that completed before user_rip (the RIP after the snippet, or the one an
 * exception frame holds) is taken into account.
 */
uint32_t dt_case_undefined_flags(const struct dt_case *c, uint64_t user_rip);
/* The instruction containing guest address rip, or -1. */
int dt_case_insn_at(const struct dt_case *c, uint64_t rip);

/*
 * The builder both the random generator and the hand-picked cases use:
 * dt_begin() sets up a case with randomised registers and data from rng,
 * dt_emit*() append instructions, dt_finish() appends the final OUT.
 */
struct dt_builder {
	struct dt_case *c;
	struct rng *rng;
	uint32_t undefined;		/* status flags undefined at the end of the code so far */
	bool overflow;			/* ran out of code space or instruction slots */

	/* What the generator knows about registers, to address memory. */
	uint64_t data_base;		/* R15 */
	uint64_t data_index;		/* R14 */
	uint64_t seg_base[6];		/* by segment register number (ES CS SS DS FS GS) */
	bool rsp_known, rbp_known;
	uint64_t rsp, rbp;
	bool df;
};

/* Registers the random generator never writes: the stack pointer and the data pointers. */
#define DT_REG_DATA_BASE	15	/* R15: points into the data pages */
#define DT_REG_DATA_INDEX	14	/* R14: a small index */

void dt_begin(struct dt_builder *b, struct dt_case *c, const uint8_t *base_pages,
	      struct rng *rng, const char *name);
/* Appends an encoded instruction; text is its disassembly. */
bool dt_emit(struct dt_builder *b, const struct insn *insn, struct flags_effect flags,
	     uint32_t gpr_writes, const char *fmt, ...) G_GNUC_PRINTF(5, 6);
/* Appends raw bytes as one instruction (hand-picked cases, invalid opcodes). */
bool dt_emit_bytes(struct dt_builder *b, const uint8_t *bytes, size_t length,
		   struct flags_effect flags, const char *text);
/*
 * Places an instruction at a given code address without moving the end of
 * the snippet (targets of jumps, instructions straddling the code's end).
 */
void dt_place_bytes(struct dt_builder *b, uint64_t addr, const uint8_t *bytes, size_t length,
		    const char *text);
/* Guest address the next instruction will have. */
uint64_t dt_here(const struct dt_builder *b);
void dt_finish(struct dt_builder *b);

/* Loads a register with a value through a MOV the report shows. */
bool dt_emit_mov_imm(struct dt_builder *b, unsigned int reg, uint64_t value);

struct gen_config {
	uint32_t features;		/* 1 << enum cpu_feature: what both sides have */
	unsigned int min_insns, max_insns;
	unsigned int simd_percent;	/* share of x87/MMX/SSE instructions (gen_simd.c) */
};

/*
 * A memory operand of size bytes aligned to align the generator can reach:
 * mostly the data pages, sometimes (edges_ok) a page that faults or an
 * access straddling into one.  False when no encoding reaches the target.
 */
bool dt_pick_mem(struct dt_builder *b, struct mem_operand *m, unsigned int size, bool edges_ok,
		 unsigned int align);

/* Random case number index of the run seeded with seed. */
void gen_random_case(struct dt_case *c, const uint8_t *base_pages, uint64_t seed, uint64_t index,
		     const struct gen_config *config);

#endif
