/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_ENCODE_H
#define DIFFTEST_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An x86 instruction encoder for the generator (Intel SDM Vol. 2A §2.1-2.2:
 * legacy prefixes, REX, opcode, ModRM, SIB, displacement, immediates).
 *
 * Registers are numbered as in ModRM/REX (0 = rAX ... 15 = r15).  As byte
 * registers, 4-7 are SPL, BPL, SIL, DIL (they need a REX prefix) and
 * REG_AH..REG_BH are AH, CH, DH, BH (they forbid one).
 */
#define REG_AH		16
#define REG_CH		17
#define REG_DH		18
#define REG_BH		19

#define MEM_NO_BASE	(-1)
#define MEM_RIP		(-2)	/* RIP-relative: disp is computed from target */
#define MEM_NO_INDEX	(-1)

struct mem_operand {
	int8_t base;		/* 0-15, MEM_NO_BASE or MEM_RIP */
	int8_t index;		/* 0-15 but not 4, or MEM_NO_INDEX */
	uint8_t scale;		/* 1, 2, 4 or 8 */
	uint8_t disp_size;	/* 0, 1 or 4; raised when the form needs more */
	int32_t disp;
	uint64_t rip_target;	/* MEM_RIP only */
	uint8_t segment;	/* override prefix (0x26 0x2e 0x36 0x3e 0x64 0x65) or 0 */
	bool addr32;		/* 0x67: 32-bit address computation */
};

enum operand_kind { OPND_NONE, OPND_REG, OPND_MEM };

struct operand {
	enum operand_kind kind;
	uint8_t reg;		/* OPND_REG */
	struct mem_operand mem;	/* OPND_MEM */
};

struct insn {
	uint8_t lock;		/* 0xf0 or 0 */
	uint8_t rep;		/* 0xf2 / 0xf3 (REP or mandatory prefix) or 0 */
	bool opsize;		/* 0x66 */
	bool rex_w;
	bool force_rex;		/* a REX (0x40) even when no bit is needed */
	bool byte_reg;		/* ModRM.reg / opcode register is a byte register */
	bool byte_rm;		/* ModRM.rm register is a byte register */
	uint8_t segment;	/* segment override without a ModRM memory operand (string ops) */
	bool addr32;		/* 0x67 without a ModRM memory operand */
	uint8_t opcode[3];
	uint8_t opcode_len;
	bool has_modrm;
	uint8_t modrm_reg;	/* register number, or the opcode extension if digit */
	bool digit;
	struct operand rm;
	int8_t opcode_reg;	/* register added to the last opcode byte, or -1 */
	uint64_t imm;
	uint8_t imm_size;	/* 0, 1, 2, 4 or 8 */
	uint64_t imm2;
	uint8_t imm2_size;	/* second immediate (ENTER) */
};

#define INSN_MAX_LENGTH 15

/*
 * Encodes insn as it will sit at guest address addr (for RIP-relative
 * operands).  Returns the length, or 0 when the operands cannot be encoded
 * (for example AH together with a REX prefix).
 */
size_t insn_encode(const struct insn *insn, uint64_t addr, uint8_t *out);

/* "eax", "r9w", "ah", ... for a register of size bytes. */
const char *reg_name(unsigned int reg, unsigned int size);
/* Intel syntax, e.g. "dword fs:[r15+r14*4+0x10]". */
void format_mem(char *buf, size_t len, const struct mem_operand *mem, unsigned int size);
void format_operand(char *buf, size_t len, const struct operand *op, unsigned int size);

#endif
