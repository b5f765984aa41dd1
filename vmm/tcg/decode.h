/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_TCG_DECODE_H
#define VESSEL_TCG_DECODE_H

#include "cpu.h"

/* Instruction bytes being fetched for decoding: up to two pages. */
struct fetch {
	struct tcg_cpu *cpu;
	uint64_t linear;	/* linear address of the first instruction */
	unsigned int len;	/* bytes consumed so far */
	unsigned int insn_start;	/* where the current instruction began */
	uint64_t page[2];	/* linear pages seen */
	uint64_t phys[2];	/* their physical pages */
	const uint8_t *host[2];	/* RAM pointers, NULL for MMIO */
	bool valid[2];
	bool crossed;		/* an instruction reached into the second page */
	bool from_mmio;
};

/* Decodes the instruction at f->linear + f->len; returns its length. */
unsigned int decode_one(struct fetch *f, struct insn *in);

#endif
