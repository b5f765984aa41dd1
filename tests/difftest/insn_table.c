/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opcodes from the Intel SDM Vol. 2 (Appendix A opcode map) and the AMD APM
 * Vol. 3; flag effects from each instruction's "Flags Affected" section.
 */
#include <glib.h>

#include "insn_table.h"

#define OP1(a)		.opcode_len = 1, .opcode = { a }
#define OP2(a, b)	.opcode_len = 2, .opcode = { a, b }
#define OP3(a, b, c)	.opcode_len = 3, .opcode = { a, b, c }

#define R_AX	(1u << 0)
#define R_CX	(1u << 1)
#define R_DX	(1u << 2)
#define R_BX	(1u << 3)
#define R_SP	(1u << 4)
#define R_BP	(1u << 5)
#define R_SI	(1u << 6)
#define R_DI	(1u << 7)

/* The eight classic ALU operations, opcode base 00/08/.../38, group-1 digit. */
#define ALU(name, base, ext, fx, write, extra)					\
	{ name, F_MR, OP1((base) + 1), .opcode8 = (base), .sizes = SZ_ALL, .flags = fx,	\
	  .weight = 6, .attrs = (write) ? A_W_RM | A_LOCK | (extra) : (extra) },	\
	{ name, F_RM, OP1((base) + 3), .opcode8 = (base) + 2, .sizes = SZ_ALL,		\
	  .flags = fx, .weight = 6, .attrs = (write) ? A_W_REG | (extra) : (extra) },	\
	{ name, F_MI, OP1(0x81), .opcode8 = 0x80, .digit = ext, .sizes = SZ_ALL,	\
	  .imm = IMM_Z, .flags = fx, .weight = 4,					\
	  .attrs = (write) ? A_W_RM | A_LOCK | (extra) : (extra) },			\
	{ name, F_MI, OP1(0x83), .digit = ext, .sizes = SZ_WDQ, .imm = IMM_8,	\
	  .flags = fx, .weight = 4, .attrs = (write) ? A_W_RM | A_LOCK | (extra) : (extra) }, \
	{ name, F_AI, OP1((base) + 5), .opcode8 = (base) + 4, .sizes = SZ_ALL,		\
	  .imm = IMM_Z, .flags = fx, .weight = 2, .attrs = (extra),			\
	  .implicit_writes = (write) ? R_AX : 0 }

/* Group-2 shifts and rotates: by 1, by CL, by imm8. */
#define SHIFT(name, ext, fx, extra)							\
	{ name, F_M1, OP1(0xd1), .opcode8 = 0xd0, .digit = ext, .sizes = SZ_ALL,	\
	  .flags = fx, .weight = 2, .attrs = A_W_RM | (extra) },			\
	{ name, F_MC, OP1(0xd3), .opcode8 = 0xd2, .digit = ext, .sizes = SZ_ALL,	\
	  .flags = fx, .special = SP_SHIFT_CL, .weight = 3, .attrs = A_W_RM | (extra) }, \
	{ name, F_MI, OP1(0xc1), .opcode8 = 0xc0, .digit = ext, .sizes = SZ_ALL,	\
	  .imm = IMM_8, .flags = fx, .weight = 3, .attrs = A_W_RM | (extra) }

/* BT, BTS, BTR, BTC: register offset (register base, or memory with a small offset), imm8. */
#define BITOP(name, op, ext, write)							\
	{ name, F_MR, OP2(0x0f, op), .sizes = SZ_WDQ, .flags = FX_BT, .weight = 2,	\
	  .attrs = A_REG | ((write) ? A_W_RM : 0) },					\
	{ name, F_MR, OP2(0x0f, op), .sizes = SZ_WDQ, .flags = FX_BT,			\
	  .special = SP_BT_MEM, .weight = 1,						\
	  .attrs = A_MEM | ((write) ? A_W_RM | A_LOCK : 0) },				\
	{ name, F_MI, OP2(0x0f, 0xba), .digit = ext, .sizes = SZ_WDQ, .imm = IMM_8,	\
	  .flags = FX_BT, .weight = 2, .attrs = (write) ? A_W_RM | A_LOCK : 0 }

#define STRING(name, op, fx, reps, writes)						\
	{ name, F_NONE, OP1((op) + 1), .opcode8 = (op), .sizes = SZ_ALL, .flags = fx,	\
	  .special = SP_STRING, .weight = 2, .attrs = (reps), .implicit_writes = (writes) }

const struct insn_form insn_forms[] = {
	ALU("add", 0x00, 0, FX_ARITH, true, 0),
	ALU("or", 0x08, 1, FX_LOGIC, true, 0),
	ALU("adc", 0x10, 2, FX_ARITH, true, A_READS_CF),
	ALU("sbb", 0x18, 3, FX_ARITH, true, A_READS_CF),
	ALU("and", 0x20, 4, FX_LOGIC, true, 0),
	ALU("sub", 0x28, 5, FX_ARITH, true, 0),
	ALU("xor", 0x30, 6, FX_LOGIC, true, 0),
	ALU("cmp", 0x38, 7, FX_ARITH, false, 0),

	{ "test", F_MR, OP1(0x85), .opcode8 = 0x84, .sizes = SZ_ALL, .flags = FX_LOGIC, .weight = 4 },
	{ "test", F_MI, OP1(0xf7), .opcode8 = 0xf6, .digit = 0, .sizes = SZ_ALL, .imm = IMM_Z,
	  .flags = FX_LOGIC, .weight = 3 },
	{ "test", F_AI, OP1(0xa9), .opcode8 = 0xa8, .sizes = SZ_ALL, .imm = IMM_Z,
	  .flags = FX_LOGIC, .weight = 1 },
	{ "inc", F_M, OP1(0xff), .opcode8 = 0xfe, .digit = 0, .sizes = SZ_ALL, .flags = FX_INCDEC,
	  .weight = 3, .attrs = A_W_RM | A_LOCK },
	{ "dec", F_M, OP1(0xff), .opcode8 = 0xfe, .digit = 1, .sizes = SZ_ALL, .flags = FX_INCDEC,
	  .weight = 3, .attrs = A_W_RM | A_LOCK },
	{ "not", F_M, OP1(0xf7), .opcode8 = 0xf6, .digit = 2, .sizes = SZ_ALL, .weight = 2,
	  .attrs = A_W_RM | A_LOCK },
	{ "neg", F_M, OP1(0xf7), .opcode8 = 0xf6, .digit = 3, .sizes = SZ_ALL, .flags = FX_ARITH,
	  .weight = 3, .attrs = A_W_RM | A_LOCK },

	{ "mul", F_M, OP1(0xf7), .opcode8 = 0xf6, .digit = 4, .sizes = SZ_ALL, .flags = FX_MUL,
	  .weight = 3, .implicit_writes = R_AX | R_DX },
	{ "imul", F_M, OP1(0xf7), .opcode8 = 0xf6, .digit = 5, .sizes = SZ_ALL, .flags = FX_MUL,
	  .weight = 3, .implicit_writes = R_AX | R_DX },
	{ "imul", F_RM, OP2(0x0f, 0xaf), .sizes = SZ_WDQ, .flags = FX_MUL, .weight = 3,
	  .attrs = A_W_REG },
	{ "imul", F_RMI, OP1(0x69), .sizes = SZ_WDQ, .imm = IMM_Z, .flags = FX_MUL, .weight = 2,
	  .attrs = A_W_REG },
	{ "imul", F_RMI, OP1(0x6b), .sizes = SZ_WDQ, .imm = IMM_8, .flags = FX_MUL, .weight = 2,
	  .attrs = A_W_REG },
	{ "div", F_M, OP1(0xf7), .opcode8 = 0xf6, .digit = 6, .sizes = SZ_ALL, .flags = FX_DIV,
	  .special = SP_DIV, .weight = 3, .implicit_writes = R_AX | R_DX },
	{ "idiv", F_M, OP1(0xf7), .opcode8 = 0xf6, .digit = 7, .sizes = SZ_ALL, .flags = FX_DIV,
	  .special = SP_DIV, .weight = 3, .implicit_writes = R_AX | R_DX },

	SHIFT("rol", 0, FX_ROT, 0),
	SHIFT("ror", 1, FX_ROT, 0),
	SHIFT("rcl", 2, FX_RCX, A_READS_CF),
	SHIFT("rcr", 3, FX_RCX, A_READS_CF),
	SHIFT("shl", 4, FX_SHIFT, 0),
	SHIFT("shr", 5, FX_SHIFT, 0),
	SHIFT("sar", 7, FX_SHIFT, 0),
	{ "shld", F_MRI, OP2(0x0f, 0xa4), .sizes = SZ_WDQ, .imm = IMM_8, .flags = FX_SHXD,
	  .special = SP_SHXD_16, .weight = 2, .attrs = A_W_RM },
	{ "shld", F_MRC, OP2(0x0f, 0xa5), .sizes = SZ_WDQ, .flags = FX_SHXD, .special = SP_SHXD_16,
	  .weight = 2, .attrs = A_W_RM },
	{ "shrd", F_MRI, OP2(0x0f, 0xac), .sizes = SZ_WDQ, .imm = IMM_8, .flags = FX_SHXD,
	  .special = SP_SHXD_16, .weight = 2, .attrs = A_W_RM },
	{ "shrd", F_MRC, OP2(0x0f, 0xad), .sizes = SZ_WDQ, .flags = FX_SHXD, .special = SP_SHXD_16,
	  .weight = 2, .attrs = A_W_RM },

	BITOP("bt", 0xa3, 4, false),
	BITOP("bts", 0xab, 5, true),
	BITOP("btr", 0xb3, 6, true),
	BITOP("btc", 0xbb, 7, true),
	{ "bsf", F_RM, OP2(0x0f, 0xbc), .sizes = SZ_WDQ, .flags = FX_BSF, .weight = 2,
	  .attrs = A_W_REG },
	{ "bsr", F_RM, OP2(0x0f, 0xbd), .sizes = SZ_WDQ, .flags = FX_BSF, .weight = 2,
	  .attrs = A_W_REG },
	{ "tzcnt", F_RM, .prefix = 0xf3, OP2(0x0f, 0xbc), .sizes = SZ_WDQ, .flags = FX_LZCNT,
	  .feature = FEAT_BMI1, .weight = 2, .attrs = A_W_REG },
	{ "lzcnt", F_RM, .prefix = 0xf3, OP2(0x0f, 0xbd), .sizes = SZ_WDQ, .flags = FX_LZCNT,
	  .feature = FEAT_LZCNT, .weight = 2, .attrs = A_W_REG },
	{ "popcnt", F_RM, .prefix = 0xf3, OP2(0x0f, 0xb8), .sizes = SZ_WDQ, .flags = FX_ARITH,
	  .feature = FEAT_POPCNT, .weight = 2, .attrs = A_W_REG },

	{ "mov", F_MR, OP1(0x89), .opcode8 = 0x88, .sizes = SZ_ALL, .weight = 6, .attrs = A_W_RM },
	{ "mov", F_RM, OP1(0x8b), .opcode8 = 0x8a, .sizes = SZ_ALL, .weight = 6, .attrs = A_W_REG },
	{ "mov", F_MI, OP1(0xc7), .opcode8 = 0xc6, .digit = 0, .sizes = SZ_ALL, .imm = IMM_Z,
	  .weight = 3, .attrs = A_W_RM },
	{ "mov", F_OI, OP1(0xb8), .opcode8 = 0xb0, .sizes = SZ_ALL, .imm = IMM_V, .weight = 3,
	  .attrs = A_W_REG },
	{ "movzx", F_RM, OP2(0x0f, 0xb6), .sizes = SZ_WDQ, .src_size = 1, .weight = 3,
	  .attrs = A_W_REG },
	{ "movzx", F_RM, OP2(0x0f, 0xb7), .sizes = SZ_D | SZ_Q, .src_size = 2, .weight = 3,
	  .attrs = A_W_REG },
	{ "movsx", F_RM, OP2(0x0f, 0xbe), .sizes = SZ_WDQ, .src_size = 1, .weight = 3,
	  .attrs = A_W_REG },
	{ "movsx", F_RM, OP2(0x0f, 0xbf), .sizes = SZ_D | SZ_Q, .src_size = 2, .weight = 3,
	  .attrs = A_W_REG },
	{ "movsxd", F_RM, OP1(0x63), .sizes = SZ_Q, .src_size = 4, .weight = 3, .attrs = A_W_REG },
	{ "cmov", F_RM, OP2(0x0f, 0x40), .sizes = SZ_WDQ, .weight = 4,
	  .attrs = A_W_REG | A_CC | A_READS_CC },
	{ "set", F_M, OP2(0x0f, 0x90), .digit = 0, .sizes = SZ_B, .weight = 3,
	  .attrs = A_W_RM | A_CC | A_READS_CC },
	{ "lea", F_RM, OP1(0x8d), .sizes = SZ_WDQ, .weight = 3, .attrs = A_W_REG | A_MEM },
	{ "mov", F_MR, OP1(0x8c), .sizes = SZ_W | SZ_D | SZ_Q, .special = SP_MOV_FROM_SREG,
	  .weight = 1, .attrs = A_W_RM },
	{ "mov", F_RM, OP1(0x8e), .sizes = SZ_D, .special = SP_MOV_TO_SREG, .weight = 1 },

	{ "xchg", F_MR, OP1(0x87), .opcode8 = 0x86, .sizes = SZ_ALL, .weight = 3,
	  .attrs = A_W_RM | A_W_REG | A_LOCK },
	{ "xchg", F_AO, OP1(0x90), .sizes = SZ_WDQ, .weight = 1, .attrs = A_W_REG,
	  .implicit_writes = R_AX },
	{ "xadd", F_MR, OP2(0x0f, 0xc1), .opcode8 = 0xc0, .sizes = SZ_ALL, .flags = FX_ARITH,
	  .weight = 3, .attrs = A_W_RM | A_W_REG | A_LOCK },
	{ "cmpxchg", F_MR, OP2(0x0f, 0xb1), .opcode8 = 0xb0, .sizes = SZ_ALL, .flags = FX_ARITH,
	  .weight = 3, .attrs = A_W_RM | A_LOCK, .implicit_writes = R_AX },
	{ "cmpxchg8b", F_M, OP2(0x0f, 0xc7), .digit = 1, .sizes = SZ_Q, .flags = FX_CMPXCHG8B,
	  .weight = 2, .attrs = A_MEM | A_W_RM | A_LOCK | A_NO_W, .implicit_writes = R_AX | R_DX },
	{ "cmpxchg16b", F_M, OP2(0x0f, 0xc7), .digit = 1, .sizes = SZ_Q, .src_size = 16,
	  .flags = FX_CMPXCHG8B, .special = SP_CMPXCHG16B, .feature = FEAT_CX16, .weight = 2,
	  .attrs = A_MEM | A_W_RM | A_LOCK, .implicit_writes = R_AX | R_DX },
	{ "bswap", F_O, OP2(0x0f, 0xc8), .sizes = SZ_D | SZ_Q, .weight = 2, .attrs = A_W_REG },
	{ "movbe", F_RM, OP3(0x0f, 0x38, 0xf0), .sizes = SZ_WDQ, .feature = FEAT_MOVBE,
	  .weight = 2, .attrs = A_W_REG | A_MEM },
	{ "movbe", F_MR, OP3(0x0f, 0x38, 0xf1), .sizes = SZ_WDQ, .feature = FEAT_MOVBE,
	  .weight = 2, .attrs = A_W_RM | A_MEM },
	{ "crc32", F_RM, .prefix = 0xf2, OP3(0x0f, 0x38, 0xf0), .sizes = SZ_B, .special = SP_CRC32,
	  .feature = FEAT_SSE42, .weight = 2, .attrs = A_W_REG },
	{ "crc32", F_RM, .prefix = 0xf2, OP3(0x0f, 0x38, 0xf1), .sizes = SZ_WDQ,
	  .special = SP_CRC32, .feature = FEAT_SSE42, .weight = 2, .attrs = A_W_REG },
	{ "adcx", F_RM, .prefix = 0x66, OP3(0x0f, 0x38, 0xf6), .sizes = SZ_D | SZ_Q, .flags = FX_CF,
	  .feature = FEAT_ADX, .weight = 2, .attrs = A_W_REG | A_READS_CF },
	{ "adox", F_RM, .prefix = 0xf3, OP3(0x0f, 0x38, 0xf6), .sizes = SZ_D | SZ_Q, .flags = FX_OF,
	  .feature = FEAT_ADX, .weight = 2, .attrs = A_W_REG | A_READS_OF },

	{ "push", F_O, OP1(0x50), .sizes = SZ_W | SZ_Q, .special = SP_PUSH, .weight = 2,
	  .attrs = A_DEF64, .implicit_writes = R_SP },
	{ "pop", F_O, OP1(0x58), .sizes = SZ_W | SZ_Q, .special = SP_POP, .weight = 2,
	  .attrs = A_DEF64 | A_W_REG, .implicit_writes = R_SP },
	{ "push", F_M, OP1(0xff), .digit = 6, .sizes = SZ_W | SZ_Q, .special = SP_PUSH, .weight = 1,
	  .attrs = A_DEF64, .implicit_writes = R_SP },
	{ "pop", F_M, OP1(0x8f), .digit = 0, .sizes = SZ_W | SZ_Q, .special = SP_POP, .weight = 1,
	  .attrs = A_DEF64 | A_W_RM, .implicit_writes = R_SP },
	{ "push", F_I, OP1(0x6a), .sizes = SZ_W | SZ_Q, .imm = IMM_8, .special = SP_PUSH,
	  .weight = 1, .attrs = A_DEF64, .implicit_writes = R_SP },
	{ "push", F_I, OP1(0x68), .sizes = SZ_W | SZ_Q, .imm = IMM_Z, .special = SP_PUSH,
	  .weight = 1, .attrs = A_DEF64, .implicit_writes = R_SP },
	{ "pushf", F_NONE, OP1(0x9c), .sizes = SZ_W | SZ_Q, .special = SP_PUSHF, .weight = 1,
	  .attrs = A_DEF64 | A_READS_ALL, .implicit_writes = R_SP },
	{ "popf", F_NONE, OP1(0x9d), .sizes = SZ_W | SZ_Q, .flags = FX_POPF, .special = SP_POPF,
	  .weight = 1, .attrs = A_DEF64, .implicit_writes = R_SP },
	{ "enter", F_I, OP1(0xc8), .sizes = SZ_W | SZ_Q, .imm = IMM_ENTER, .special = SP_ENTER,
	  .weight = 1, .attrs = A_DEF64, .implicit_writes = R_SP | R_BP },
	{ "leave", F_NONE, OP1(0xc9), .sizes = SZ_W | SZ_Q, .special = SP_LEAVE, .weight = 1,
	  .attrs = A_DEF64, .implicit_writes = R_SP | R_BP },

	{ "cbw", F_NONE, OP1(0x98), .sizes = SZ_WDQ, .weight = 1, .implicit_writes = R_AX },
	{ "cwd", F_NONE, OP1(0x99), .sizes = SZ_WDQ, .weight = 1, .implicit_writes = R_DX },
	{ "clc", F_NONE, OP1(0xf8), .sizes = SZ_D, .flags = FX_CF, .weight = 1 },
	{ "stc", F_NONE, OP1(0xf9), .sizes = SZ_D, .flags = FX_CF, .weight = 1 },
	{ "cmc", F_NONE, OP1(0xf5), .sizes = SZ_D, .weight = 1 },
	{ "cld", F_NONE, OP1(0xfc), .sizes = SZ_D, .weight = 1 },
	{ "std", F_NONE, OP1(0xfd), .sizes = SZ_D, .weight = 1 },
	{ "sahf", F_NONE, OP1(0x9e), .sizes = SZ_D, .flags = FX_SAHF, .feature = FEAT_LAHF64,
	  .weight = 1 },
	{ "lahf", F_NONE, OP1(0x9f), .sizes = SZ_D, .feature = FEAT_LAHF64, .weight = 1,
	  .attrs = A_READS_ALL, .implicit_writes = R_AX },
	{ "xlat", F_NONE, OP1(0xd7), .sizes = SZ_B, .special = SP_XLAT, .weight = 1,
	  .implicit_writes = R_AX },
	{ "nop", F_NONE, OP1(0x90), .sizes = SZ_D, .weight = 1 },
	{ "nop", F_M, OP2(0x0f, 0x1f), .digit = 0, .sizes = SZ_W | SZ_D, .weight = 1 },
	{ "pause", F_NONE, .prefix = 0xf3, OP1(0x90), .sizes = SZ_D, .weight = 1 },

	STRING("movs", 0xa4, FX_NONE, A_REP, R_SI | R_DI | R_CX),
	STRING("stos", 0xaa, FX_NONE, A_REP, R_DI | R_CX),
	STRING("lods", 0xac, FX_NONE, A_REP, R_AX | R_SI | R_CX),
	STRING("cmps", 0xa6, FX_ARITH, A_REP | A_REPNE, R_SI | R_DI | R_CX),
	STRING("scas", 0xae, FX_ARITH, A_REP | A_REPNE, R_DI | R_CX),
};

const unsigned int insn_forms_count = G_N_ELEMENTS(insn_forms);

uint32_t cc_flags(unsigned int cc)
{
	static const uint32_t flags[8] = {
		FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF, FL_SF | FL_OF,
		FL_ZF | FL_SF | FL_OF,
	};

	return flags[(cc >> 1) & 7];
}

const char *cc_suffix(unsigned int cc)
{
	static const char *const suffix[16] = {
		"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
	};

	return suffix[cc & 15];
}

static struct flags_effect effect(uint32_t defined, uint32_t undefined)
{
	return (struct flags_effect){ defined, undefined };
}

/* SHL/SHR/SAR (SDM Vol. 2B "SAL/SAR/SHL/SHR—Shift", Flags Affected). */
static struct flags_effect shift_effect(unsigned int size, int count)
{
	/* A count the size or more leaves CF undefined (only 8/16 bits get there). */
	uint32_t cf_maybe_undefined = size < 4 ? FL_CF : 0;

	if (count < 0)
		return effect(0, FL_OF | FL_AF | cf_maybe_undefined);
	if (count == 0)
		return effect(0, 0);
	if ((unsigned int)count >= size * 8)
		return effect(FL_SF | FL_ZF | FL_PF, FL_CF | FL_OF | FL_AF);
	if (count == 1)
		return effect(FL_CF | FL_OF | FL_SF | FL_ZF | FL_PF, FL_AF);
	return effect(FL_CF | FL_SF | FL_ZF | FL_PF, FL_OF | FL_AF);
}

/*
 * ROL/ROR: CF is defined for a non-zero masked count; OF only for a count of
 * one (the SDM's pseudo-code leaves OF undefined even for a count of zero).
 * RCL/RCR: a zero count changes nothing (SDM Vol. 2B "RCL/RCR/ROL/ROR").
 */
static struct flags_effect rotate_effect(bool through_carry, int count)
{
	if (count < 0)
		return effect(0, FL_OF);
	if (count == 0)
		return effect(0, through_carry ? 0 : FL_OF);
	if (count == 1)
		return effect(FL_CF | FL_OF, 0);
	return effect(FL_CF, FL_OF);
}

/* SHLD/SHRD; counts above the operand size are never generated. */
static struct flags_effect double_shift_effect(unsigned int size, int count)
{
	if (count < 0)
		return effect(0, FL_OF | FL_AF);
	if (count == 0)
		return effect(0, 0);
	if ((unsigned int)count > size * 8)
		return effect(0, FL_STATUS);
	if (count == 1)
		return effect(FL_CF | FL_OF | FL_SF | FL_ZF | FL_PF, FL_AF);
	return effect(FL_CF | FL_SF | FL_ZF | FL_PF, FL_OF | FL_AF);
}

struct flags_effect flags_effect(const struct insn_form *form, unsigned int size, int count)
{
	switch (form->flags) {
	case FX_NONE:
		return effect(0, 0);
	case FX_ARITH:
		return effect(FL_STATUS, 0);
	case FX_LOGIC:
		return effect(FL_STATUS & ~FL_AF, FL_AF);
	case FX_INCDEC:
		return effect(FL_STATUS & ~FL_CF, 0);
	case FX_MUL:
		return effect(FL_CF | FL_OF, FL_SF | FL_ZF | FL_AF | FL_PF);
	case FX_DIV:
		return effect(0, FL_STATUS);
	case FX_SHIFT:
		return shift_effect(size, count);
	case FX_ROT:
		return rotate_effect(false, count);
	case FX_RCX:
		return rotate_effect(true, count);
	case FX_SHXD:
		return double_shift_effect(size, count);
	case FX_BT:
		return effect(FL_CF, FL_OF | FL_SF | FL_ZF | FL_AF | FL_PF);
	case FX_BSF:
		return effect(FL_ZF, FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
	case FX_LZCNT:
		return effect(FL_CF | FL_ZF, FL_OF | FL_SF | FL_AF | FL_PF);
	case FX_CMPXCHG8B:
		return effect(FL_ZF, 0);
	case FX_CF:
		return effect(FL_CF, 0);
	case FX_OF:
		return effect(FL_OF, 0);
	case FX_SAHF:
		return effect(FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF, 0);
	case FX_POPF:
		return effect(FL_STATUS, 0);
	}
	return effect(0, FL_STATUS);
}
