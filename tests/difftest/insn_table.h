/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_INSN_TABLE_H
#define DIFFTEST_INSN_TABLE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The instructions the random generator emits: one row per encoding form,
 * with what the generator must know to use it safely: operand sizes, which
 * operands it writes, the status flags it reads, and how it leaves the
 * status flags (flags_effect()), from the Intel SDM Vol. 2 "Flags Affected"
 * sections and the AMD APM Vol. 3 Appendix F; where the two manuals differ,
 * a flag either calls undefined is treated as undefined.
 */

/* RFLAGS bits (SDM Vol. 1 §3.4.3). */
#define FL_CF	0x0001u
#define FL_PF	0x0004u
#define FL_AF	0x0010u
#define FL_ZF	0x0040u
#define FL_SF	0x0080u
#define FL_TF	0x0100u
#define FL_IF	0x0200u
#define FL_DF	0x0400u
#define FL_OF	0x0800u
#define FL_NT	0x4000u
#define FL_RF	0x10000u
#define FL_AC	0x40000u
#define FL_ID	0x200000u
#define FL_STATUS (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Operand sizes a form allows. */
#define SZ_B	0x1
#define SZ_W	0x2
#define SZ_D	0x4
#define SZ_Q	0x8
#define SZ_WDQ	(SZ_W | SZ_D | SZ_Q)
#define SZ_ALL	(SZ_B | SZ_WDQ)

enum insn_form_kind {
	F_MR,		/* op r/m, reg (ModRM.rm first) */
	F_RM,		/* op reg, r/m */
	F_M,		/* op r/m (ModRM.reg is the digit) */
	F_MI,		/* op r/m, imm (digit) */
	F_RMI,		/* op reg, r/m, imm */
	F_M1,		/* op r/m, 1 (digit) */
	F_MC,		/* op r/m, cl (digit) */
	F_MRI,		/* op r/m, reg, imm8 */
	F_MRC,		/* op r/m, reg, cl */
	F_O,		/* register in the opcode's low bits */
	F_OI,		/* register in the opcode, immediate */
	F_AO,		/* op rAX, reg-in-opcode (XCHG) */
	F_AI,		/* op AL/AX/EAX/RAX, imm */
	F_I,		/* op imm */
	F_NONE,		/* no explicit operand */
};

enum imm_kind {
	IMM_NONE,
	IMM_8,		/* one byte */
	IMM_Z,		/* 1, 2 or 4 bytes by operand size; 4 sign-extended at 64 */
	IMM_V,		/* the full operand size, 8 bytes at 64 (MOV r64, imm64) */
	IMM_ENTER,	/* ENTER: imm16 then imm8 */
};

/* How an instruction leaves the status flags. */
enum flags_class {
	FX_NONE,	/* unaffected */
	FX_ARITH,	/* all six defined */
	FX_LOGIC,	/* AF undefined, the rest defined */
	FX_INCDEC,	/* CF unaffected, the rest defined */
	FX_MUL,		/* CF, OF defined; SF, ZF, AF, PF undefined */
	FX_DIV,		/* all six undefined */
	FX_SHIFT,	/* SHL/SHR/SAR: by count */
	FX_ROT,		/* ROL/ROR: CF, OF by count */
	FX_RCX,		/* RCL/RCR: CF, OF by count */
	FX_SHXD,	/* SHLD/SHRD: by count */
	FX_BT,		/* CF defined; OF, SF, ZF, AF, PF undefined */
	FX_BSF,		/* ZF defined, the rest undefined */
	FX_LZCNT,	/* CF, ZF defined; OF, SF, AF, PF undefined */
	FX_CMPXCHG8B,	/* ZF defined */
	FX_CF,		/* CLC/STC/ADCX: CF defined */
	FX_OF,		/* ADOX: OF defined */
	FX_SAHF,	/* SF, ZF, AF, PF, CF defined */
	FX_POPF,	/* everything defined */
};

/* What the generator must arrange around a form. */
enum insn_special {
	SP_NONE,
	SP_DIV,		/* maybe clear/sign-extend rDX first */
	SP_SHIFT_CL,	/* maybe load CL with a known count first */
	SP_SHXD_16,	/* 16-bit SHLD/SHRD: counts above 16 are undefined; keep them known */
	SP_BT_MEM,	/* BTx m, reg: load the bit offset register with a small value */
	SP_STRING,	/* set RSI/RDI/RCX and maybe DF; REP prefix */
	SP_XLAT,	/* point RBX at data */
	SP_PUSH,
	SP_POP,
	SP_PUSHF,	/* only when every status flag is defined */
	SP_POPF,	/* pop a value we pushed */
	SP_ENTER,
	SP_LEAVE,
	SP_CMPXCHG16B,	/* mostly 16-byte aligned */
	SP_CRC32,	/* destination 32 or 64 bits, source by form */
	SP_MOV_TO_SREG,	/* load a selector value that exists in both GDTs */
	SP_MOV_FROM_SREG,
};

enum cpu_feature {
	FEAT_NONE,
	FEAT_POPCNT,
	FEAT_LZCNT,
	FEAT_BMI1,
	FEAT_ADX,
	FEAT_SSE42,
	FEAT_CX16,
	FEAT_MOVBE,
	FEAT_LAHF64,
	FEAT_COUNT,
};

/* Attributes. */
#define A_W_RM		0x0001	/* writes the r/m operand */
#define A_W_REG		0x0002	/* writes the reg (or opcode-register) operand */
#define A_LOCK		0x0004	/* LOCK is legal with a memory r/m */
#define A_MEM		0x0008	/* r/m must be memory */
#define A_REG		0x0010	/* r/m must be a register */
#define A_READS_CF	0x0020
#define A_READS_OF	0x0040
#define A_READS_CC	0x0080	/* condition code in the opcode's low nibble */
#define A_READS_ALL	0x0100	/* reads every status flag (PUSHF, LAHF) */
#define A_CC		0x0200	/* the opcode's low nibble is a condition code */
#define A_REP		0x0400	/* string op: REP/REPE allowed */
#define A_REPNE		0x0800	/* string op: REPNE allowed */
#define A_DEF64		0x1000	/* default operand size 64 (stack ops) */
#define A_NO_W		0x2000	/* 64-bit size without REX.W (CMPXCHG8B) */

struct insn_form {
	const char *mnemonic;
	uint8_t form;			/* enum insn_form_kind */
	uint8_t prefix;			/* mandatory prefix 0x66/0xf2/0xf3, or 0 */
	uint8_t opcode_len;
	uint8_t opcode[3];		/* the last byte is for word/dword/qword size */
	uint8_t opcode8;		/* last opcode byte for byte size */
	uint8_t digit;			/* ModRM.reg for F_M, F_MI, F_M1, F_MC */
	uint8_t sizes;			/* SZ_* */
	uint8_t src_size;		/* fixed r/m size in bytes (MOVZX ...), 0 = operand size */
	uint8_t imm;			/* enum imm_kind */
	uint8_t flags;			/* enum flags_class */
	uint8_t special;		/* enum insn_special */
	uint8_t feature;		/* enum cpu_feature */
	uint8_t weight;			/* relative frequency in random streams */
	uint16_t attrs;			/* A_* */
	uint16_t implicit_writes;	/* GPRs written besides the explicit operands */
};

extern const struct insn_form insn_forms[];
extern const unsigned int insn_forms_count;

struct flags_effect {
	uint32_t defined;	/* written with an architecturally defined value */
	uint32_t undefined;	/* written with an undefined value */
};

/*
 * The effect of one execution of a form on the status flags.  count is the
 * masked shift/rotate count, or -1 when the generator does not know it.
 */
struct flags_effect flags_effect(const struct insn_form *form, unsigned int size, int count);
/* Flags a condition code (0-15, SDM Vol. 1 Table B-1) reads. */
uint32_t cc_flags(unsigned int cc);
const char *cc_suffix(unsigned int cc);

#endif
