/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_TCG_FPU_H
#define VESSEL_TCG_FPU_H

/*
 * What exec_fpu.c (state, availability, memory), exec_x87.c (D8-DF) and
 * exec_sse.c (MMX/SSE/SSE2) share, and the decoder's hooks into them.
 * The state is cpu->fpu, in the FXSAVE layout (Intel SDM Vol. 1 §10.5.1).
 */
#include "ops.h"

/* x87 status word (Vol. 1 §8.1.3). */
#define FSW_IE		0x0001u
#define FSW_DE		0x0002u
#define FSW_ZE		0x0004u
#define FSW_OE		0x0008u
#define FSW_UE		0x0010u
#define FSW_PE		0x0020u
#define FSW_SF		0x0040u
#define FSW_ES		0x0080u
#define FSW_TOP_SHIFT	11
#define FSW_TOP		0x3800u
#define FSW_B		0x8000u
#define FSW_EXCEPTIONS	0x003fu	/* IE..PE: the flags FCW can mask */
#define FSW_STICKY	0x007fu	/* exception flags and SF: only FNCLEX & co. clear them */

/* x87 control word (Vol. 1 §8.1.5): bit 6 reads as 1, bits 7 and 13-15 as 0. */
#define FCW_MASKS	0x003fu
#define FCW_WRITABLE	0x1f3fu
#define FCW_ONES	0x0040u

/* MXCSR (Vol. 1 §10.2.3). */
#define MXCSR_FLAGS	0x003fu
#define MXCSR_IE	0x0001u
#define MXCSR_UE	0x0010u
#define MXCSR_MASKS	0x1f80u
#define MXCSR_MASK_SHIFT 7
#define MXCSR_MASK	0xffffu	/* writable MXCSR bits (FXSAVE's MXCSR_MASK): DAZ, no MM */

#define CR0_MP		(1ULL << 1)
#define CR0_EM		(1ULL << 2)
#define CR0_TS		(1ULL << 3)
#define CR0_NE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)

/* --- availability (exec_fpu.c) --- */

/* MMX registers: #UD if CR0.EM, #NM if CR0.TS, #MF if an x87 exception is pending. */
void fpu_check_mmx(struct tcg_cpu *cpu);
/* A waiting x87/MMX instruction: #MF for a pending unmasked x87 exception (Vol. 1 §8.6). */
void fpu_check_pending(struct tcg_cpu *cpu);

/* --- x87 status helpers (exec_fpu.c) --- */

/* ES and B follow the unmasked exception flags, as loads of FCW/FSW leave them. */
static inline uint16_t fsw_with_summary(uint16_t fsw, uint16_t fcw)
{
	fsw &= (uint16_t)~(FSW_ES | FSW_B);
	if (fsw & ~fcw & FSW_EXCEPTIONS)
		fsw |= FSW_ES | FSW_B;
	return fsw;
}

/*
 * Changes TOP keeping the physical registers where they are: the FXSAVE
 * image holds them in stack order, ST(i) = R((TOP + i) mod 8).
 */
static inline void fpu_set_top(struct x86_fxsave *fx, unsigned int top)
{
	unsigned int old = (fx->fsw & FSW_TOP) >> FSW_TOP_SHIFT;

	if (top != old) {
		uint8_t st[8][16];

		for (unsigned int i = 0; i < 8; i++)
			memcpy(st[i], fx->st[(top + i - old) & 7], 16);
		memcpy(fx->st, st, sizeof(st));
		fx->fsw = (uint16_t)((fx->fsw & ~FSW_TOP) | top << FSW_TOP_SHIFT);
	}
}

static inline uint16_t fcw_normalize(uint16_t fcw)
{
	return (uint16_t)((fcw & FCW_WRITABLE) | FCW_ONES);
}

/* --- guest memory as byte ranges (exec_fpu.c) --- */

/*
 * #AC for an operand that alignment checking (CPL 3, CR0.AM, RFLAGS.AC)
 * wants aligned to `align` bytes: as measured, the operand size for
 * 2/4/8/16-byte operands (MOVUPS too), 8 for m80 and MASKMOV*, 4 for the
 * FNSTENV/FNSAVE images (2 with 16-bit operands).
 */
void fpu_check_alignment(struct tcg_cpu *cpu, uint64_t linear, unsigned int align);

/* Reads size bytes at seg:ea (segment checks over the whole range). */
void fpu_read(struct tcg_cpu *cpu, unsigned int seg, uint64_t ea, void *buf, unsigned int size,
	      unsigned int align);
/* Checks that every page of seg:ea..+size is writable (raising as a write would). */
uint64_t fpu_check_write(struct tcg_cpu *cpu, unsigned int seg, uint64_t ea, unsigned int size,
			 unsigned int align);
/* Writes size bytes; the whole range is checked before the first byte is written. */
void fpu_write(struct tcg_cpu *cpu, unsigned int seg, uint64_t ea, const void *buf, unsigned int size,
	       unsigned int align);

/* --- decoder hooks --- */

/*
 * D8-DF with its ModRM byte: fills in->op, in->imm, in->imm2 for the
 * handler it returns; NULL for an encoding that raises #UD.
 */
insn_fn x87_decode(struct insn *in, uint8_t opcode, uint8_t modrm);

/* Mandatory-prefix selector of the 0F map (Vol. 2A §2.1.2). */
enum sse_prefix { SSE_NP, SSE_66, SSE_F3, SSE_F2 };

/*
 * A 0F opcode of the MMX/SSE/SSE2 space with its prefix and ModRM byte
 * (0 when the opcode has none): the handler, or NULL for #UD.
 */
insn_fn sse_decode(struct insn *in, uint8_t opcode, enum sse_prefix prefix, uint8_t modrm);

#endif
