/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_TCG_JIT_EMIT_H
#define VESSEL_TCG_JIT_EMIT_H

/*
 * A small x86-64 instruction encoder for the JIT (jit.c), written from the
 * Intel SDM Vol. 2 (§2.1-2.2: prefixes, REX, ModRM, SIB; the instruction
 * pages for each opcode).  It encodes only what the JIT emits.  Writes past
 * the end of the buffer are dropped and remembered: the caller checks
 * emit_ok() once at the end and throws the code away if it overflowed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum host_reg {
	RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15,
};

/* Condition codes, as in Jcc/SETcc (the same numbering as the guest's). */
enum host_cc { HCC_O, HCC_NO, HCC_B, HCC_AE, HCC_E, HCC_NE, HCC_BE, HCC_A, HCC_S, HCC_NS, HCC_P, HCC_NP,
	       HCC_L, HCC_GE, HCC_LE, HCC_G };

struct emit {
	uint8_t *p, *end;
	bool overflow;
};

static inline bool emit_ok(const struct emit *e)
{
	return !e->overflow;
}

static inline void emit_u8(struct emit *e, uint8_t v)
{
	if (e->p < e->end)
		*e->p++ = v;
	else
		e->overflow = true;
}

static inline void emit_u32(struct emit *e, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		emit_u8(e, (uint8_t)(v >> (8 * i)));
}

static inline void emit_u64(struct emit *e, uint64_t v)
{
	emit_u32(e, (uint32_t)v);
	emit_u32(e, (uint32_t)(v >> 32));
}

static inline bool fits_s32(int64_t v)
{
	return v == (int32_t)v;
}

static inline bool fits_s8(int64_t v)
{
	return v == (int8_t)v;
}

/* REX: W (64-bit operand), R (ModRM.reg), X (SIB.index), B (ModRM.rm / SIB.base). */
static inline void emit_rex(struct emit *e, bool w, unsigned int reg, unsigned int index, unsigned int base)
{
	uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) |
				((base & 8) ? 1 : 0));

	if (rex != 0x40)
		emit_u8(e, rex);
}

/* ModRM (and SIB, displacement) for [base + disp]. */
static inline void emit_modrm_mem(struct emit *e, unsigned int reg, unsigned int base, int32_t disp)
{
	unsigned int mod = disp == 0 && (base & 7) != RBP ? 0 : fits_s8(disp) ? 1 : 2;

	emit_u8(e, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (base & 7)));
	if ((base & 7) == RSP)
		emit_u8(e, 0x24);	/* SIB: no index, base */
	if (mod == 1)
		emit_u8(e, (uint8_t)disp);
	else if (mod == 2)
		emit_u32(e, (uint32_t)disp);
}

/* ModRM + SIB for [base + index * 2^scale + disp]; index must not be RSP. */
static inline void emit_modrm_sib(struct emit *e, unsigned int reg, unsigned int base, unsigned int index,
				  unsigned int scale, int32_t disp)
{
	unsigned int mod = disp == 0 && (base & 7) != RBP ? 0 : fits_s8(disp) ? 1 : 2;

	emit_u8(e, (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4));
	emit_u8(e, (uint8_t)((scale << 6) | ((index & 7) << 3) | (base & 7)));
	if (mod == 1)
		emit_u8(e, (uint8_t)disp);
	else if (mod == 2)
		emit_u32(e, (uint32_t)disp);
}

static inline void emit_modrm_reg(struct emit *e, unsigned int reg, unsigned int rm)
{
	emit_u8(e, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

/* opcode with a memory operand [base + disp]: "op reg, [mem]" or "op [mem], reg". */
static inline void emit_op_mem(struct emit *e, bool w, uint8_t opcode, unsigned int reg, unsigned int base,
			       int32_t disp)
{
	emit_rex(e, w, reg, 0, base);
	emit_u8(e, opcode);
	emit_modrm_mem(e, reg, base, disp);
}

/* opcode with two registers: ModRM.reg = reg, ModRM.rm = rm. */
static inline void emit_op_reg(struct emit *e, bool w, uint8_t opcode, unsigned int reg, unsigned int rm)
{
	emit_rex(e, w, reg, 0, rm);
	emit_u8(e, opcode);
	emit_modrm_reg(e, reg, rm);
}

/* MOV r, [base + disp] (32-bit loads zero-extend). */
static inline void emit_load(struct emit *e, bool w, unsigned int reg, unsigned int base, int32_t disp)
{
	emit_op_mem(e, w, 0x8b, reg, base, disp);
}

/* MOV [base + disp], r */
static inline void emit_store(struct emit *e, bool w, unsigned int reg, unsigned int base, int32_t disp)
{
	emit_op_mem(e, w, 0x89, reg, base, disp);
}

/* MOV dword [base + disp], imm32 / MOV qword [base + disp], simm32 */
static inline void emit_store_imm(struct emit *e, bool w, unsigned int base, int32_t disp, int32_t imm)
{
	emit_op_mem(e, w, 0xc7, 0, base, disp);
	emit_u32(e, (uint32_t)imm);
}

/* MOV dst, src */
static inline void emit_mov(struct emit *e, bool w, unsigned int dst, unsigned int src)
{
	emit_op_reg(e, w, 0x89, src, dst);
}

/* dst = imm, as short as it encodes. */
static inline void emit_mov_imm(struct emit *e, unsigned int dst, uint64_t imm)
{
	if (imm <= 0xffffffffULL) {			/* MOV r32, imm32 zero-extends */
		emit_rex(e, false, 0, 0, dst);
		emit_u8(e, (uint8_t)(0xb8 + (dst & 7)));
		emit_u32(e, (uint32_t)imm);
	} else if (fits_s32((int64_t)imm)) {		/* MOV r/m64, simm32 */
		emit_rex(e, true, 0, 0, dst);
		emit_u8(e, 0xc7);
		emit_modrm_reg(e, 0, dst);
		emit_u32(e, (uint32_t)imm);
	} else {					/* MOV r64, imm64 */
		emit_rex(e, true, 0, 0, dst);
		emit_u8(e, (uint8_t)(0xb8 + (dst & 7)));
		emit_u64(e, imm);
	}
}

/* reg = imm64 in the 10-byte form, whatever the value: returns where the imm64 is, to patch. */
static inline uint8_t *emit_mov_imm64(struct emit *e, unsigned int dst, uint64_t imm)
{
	emit_rex(e, true, 0, 0, dst);
	emit_u8(e, (uint8_t)(0xb8 + (dst & 7)));
	emit_u64(e, imm);
	return e->overflow ? NULL : e->p - 8;
}

/* CMP dword [base], imm32 in the long form: returns where the imm32 is, to patch. */
static inline uint8_t *emit_cmp_mem32_imm(struct emit *e, unsigned int base, uint32_t imm)
{
	emit_rex(e, false, 0, 0, base);
	emit_u8(e, 0x81);
	emit_modrm_mem(e, 7, base, 0);
	emit_u32(e, imm);
	return e->overflow ? NULL : e->p - 4;
}

/* ALU group ops: 0 ADD 1 OR 2 ADC 3 SBB 4 AND 5 SUB 6 XOR 7 CMP. */
enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

/* OP dst, src (registers) */
static inline void emit_alu(struct emit *e, bool w, enum alu_op op, unsigned int dst, unsigned int src)
{
	emit_op_reg(e, w, (uint8_t)(op * 8 + 1), src, dst);
}

/* OP reg, [base + disp] */
static inline void emit_alu_load(struct emit *e, bool w, enum alu_op op, unsigned int reg, unsigned int base,
				 int32_t disp)
{
	emit_op_mem(e, w, (uint8_t)(op * 8 + 3), reg, base, disp);
}

/* OP dst, simm32 (sign-extended to 64 bits with w) */
static inline void emit_alu_imm(struct emit *e, bool w, enum alu_op op, unsigned int dst, int32_t imm)
{
	emit_rex(e, w, 0, 0, dst);
	if (fits_s8(imm)) {
		emit_u8(e, 0x83);
		emit_modrm_reg(e, op, dst);
		emit_u8(e, (uint8_t)imm);
	} else {
		emit_u8(e, 0x81);
		emit_modrm_reg(e, op, dst);
		emit_u32(e, (uint32_t)imm);
	}
}

/* OP [base + disp], simm32: a qword with w, else a dword */
static inline void emit_alu_mem_imm_sized(struct emit *e, bool w, enum alu_op op, unsigned int base,
					  int32_t disp, int32_t imm)
{
	emit_rex(e, w, 0, 0, base);
	emit_u8(e, fits_s8(imm) ? 0x83 : 0x81);
	emit_modrm_mem(e, op, base, disp);
	if (fits_s8(imm))
		emit_u8(e, (uint8_t)imm);
	else
		emit_u32(e, (uint32_t)imm);
}

static inline void emit_alu_mem_imm(struct emit *e, enum alu_op op, unsigned int base, int32_t disp, int32_t imm)
{
	emit_alu_mem_imm_sized(e, true, op, base, disp, imm);
}

static inline void emit_alu_mem_imm32(struct emit *e, enum alu_op op, unsigned int base, int32_t disp,
				      int32_t imm)
{
	emit_alu_mem_imm_sized(e, false, op, base, disp, imm);
}

/* CMP byte [base + index], 0 */
static inline void emit_cmp_byte_zero(struct emit *e, unsigned int base, unsigned int index)
{
	emit_rex(e, false, 0, index, base);
	emit_u8(e, 0x80);
	emit_modrm_sib(e, 7, base, index, 0, 0);
	emit_u8(e, 0);
}

/* INC / DEC reg */
static inline void emit_incdec(struct emit *e, bool w, bool dec, unsigned int reg)
{
	emit_rex(e, w, 0, 0, reg);
	emit_u8(e, 0xff);
	emit_modrm_reg(e, dec ? 1 : 0, reg);
}

/* SHR reg, imm8 */
static inline void emit_shr_imm(struct emit *e, bool w, unsigned int reg, uint8_t count)
{
	emit_rex(e, w, 0, 0, reg);
	emit_u8(e, 0xc1);
	emit_modrm_reg(e, 5, reg);
	emit_u8(e, count);
}

/* IMUL dst, src, imm32 */
static inline void emit_imul_imm(struct emit *e, bool w, unsigned int dst, unsigned int src, int32_t imm)
{
	emit_op_reg(e, w, 0x69, dst, src);
	emit_u32(e, (uint32_t)imm);
}

/* LEA dst, [base + index * 2^scale + disp]; index NOREG_HOST: none. */
#define NOREG_HOST	0xff
static inline void emit_lea(struct emit *e, unsigned int dst, unsigned int base, unsigned int index,
			    unsigned int scale, int32_t disp)
{
	if (index == NOREG_HOST) {
		emit_op_mem(e, true, 0x8d, dst, base, disp);
		return;
	}
	emit_rex(e, true, dst, index, base);
	emit_u8(e, 0x8d);
	emit_modrm_sib(e, dst, base, index, scale, disp);
}

/*
 * REX for a byte register operand: SPL, BPL, SIL, DIL and R8B-R15B need one
 * (without it, 4-7 would be AH-BH, which the JIT never uses).
 */
static inline void emit_rex_byte(struct emit *e, unsigned int reg, unsigned int rm)
{
	if (reg >= 4 || rm >= 4)
		emit_u8(e, (uint8_t)(0x40 | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0)));
}

/* SETcc reg8 */
static inline void emit_setcc(struct emit *e, enum host_cc cc, unsigned int reg)
{
	emit_rex_byte(e, 0, reg);
	emit_u8(e, 0x0f);
	emit_u8(e, (uint8_t)(0x90 + cc));
	emit_modrm_reg(e, 0, reg);
}

/* MOVZX r32, r8 */
static inline void emit_movzx8(struct emit *e, unsigned int dst, unsigned int src)
{
	emit_rex_byte(e, dst, src);
	emit_u8(e, 0x0f);
	emit_u8(e, 0xb6);
	emit_modrm_reg(e, dst, src);
}

/* TEST r8, r8 (AL, CL, DL, BL) */
static inline void emit_test8(struct emit *e, unsigned int a, unsigned int b)
{
	emit_u8(e, 0x84);
	emit_modrm_reg(e, b, a);
}

/* TEST r32, r32 */
static inline void emit_test32(struct emit *e, unsigned int a, unsigned int b)
{
	emit_op_reg(e, false, 0x85, b, a);
}

/* Jcc / JMP rel32 to be patched: return where the rel32 goes. */
static inline uint8_t *emit_jcc_fwd(struct emit *e, enum host_cc cc)
{
	emit_u8(e, 0x0f);
	emit_u8(e, (uint8_t)(0x80 + cc));
	emit_u32(e, 0);
	return e->overflow ? NULL : e->p - 4;
}

static inline uint8_t *emit_jmp_fwd(struct emit *e)
{
	emit_u8(e, 0xe9);
	emit_u32(e, 0);
	return e->overflow ? NULL : e->p - 4;
}

/* Points a rel32 written by emit_jcc_fwd/emit_jmp_fwd at `target`. */
static inline void patch_rel32(uint8_t *rel, const uint8_t *target)
{
	int32_t d;

	if (!rel)
		return;
	d = (int32_t)(target - (rel + 4));
	memcpy(rel, &d, 4);
}

/* JMP rel32 backwards (or anywhere already emitted) */
static inline void emit_jmp_to(struct emit *e, const uint8_t *target)
{
	patch_rel32(emit_jmp_fwd(e), target);
}

/* CALL / JMP to an absolute address through RAX. */
static inline void emit_call_abs(struct emit *e, const void *fn)
{
	emit_mov_imm(e, RAX, (uint64_t)(uintptr_t)fn);
	emit_u8(e, 0xff);
	emit_modrm_reg(e, 2, RAX);
}

static inline void emit_jmp_abs(struct emit *e, const void *fn)
{
	emit_mov_imm(e, RAX, (uint64_t)(uintptr_t)fn);
	emit_u8(e, 0xff);
	emit_modrm_reg(e, 4, RAX);
}

static inline void emit_push(struct emit *e, unsigned int reg)
{
	emit_rex(e, false, 0, 0, reg);
	emit_u8(e, (uint8_t)(0x50 + (reg & 7)));
}

static inline void emit_pop(struct emit *e, unsigned int reg)
{
	emit_rex(e, false, 0, 0, reg);
	emit_u8(e, (uint8_t)(0x58 + (reg & 7)));
}

static inline void emit_ret(struct emit *e)
{
	emit_u8(e, 0xc3);
}

/*
 * Sized forms: size 1, 2, 4 or 8 bytes.  Byte registers are AL, CL, DL, BL
 * only (no REX, so no SPL-DIL confusion); 16-bit forms take the 66 prefix.
 */
static inline void emit_size_prefix(struct emit *e, unsigned int size)
{
	if (size == 2)
		emit_u8(e, 0x66);
}

/* OP dst, src at `size` (register operands) */
static inline void emit_alu_sized(struct emit *e, unsigned int size, enum alu_op op, unsigned int dst,
				  unsigned int src)
{
	emit_size_prefix(e, size);
	emit_op_reg(e, size == 8, (uint8_t)(op * 8 + (size == 1 ? 0 : 1)), src, dst);
}

/* TEST a, b at `size` */
static inline void emit_test_sized(struct emit *e, unsigned int size, unsigned int a, unsigned int b)
{
	emit_size_prefix(e, size);
	emit_op_reg(e, size == 8, size == 1 ? 0x84 : 0x85, b, a);
}

/* reg = zero-extended [base + disp] of `size` bytes */
static inline void emit_load_zx(struct emit *e, unsigned int size, unsigned int reg, unsigned int base,
				int32_t disp)
{
	if (size >= 4) {
		emit_load(e, size == 8, reg, base, disp);
		return;
	}
	emit_rex(e, false, reg, 0, base);
	emit_u8(e, 0x0f);
	emit_u8(e, size == 1 ? 0xb6 : 0xb7);
	emit_modrm_mem(e, reg, base, disp);
}

/* reg (64-bit) = sign-extended [base + disp] of `size` bytes (1, 2, 4) */
static inline void emit_load_sx(struct emit *e, unsigned int size, unsigned int reg, unsigned int base,
				int32_t disp)
{
	emit_rex(e, true, reg, 0, base);
	if (size == 4) {
		emit_u8(e, 0x63);		/* MOVSXD */
	} else {
		emit_u8(e, 0x0f);
		emit_u8(e, size == 1 ? 0xbe : 0xbf);
	}
	emit_modrm_mem(e, reg, base, disp);
}

/* [base + disp] = low `size` bytes of reg */
static inline void emit_store_sized(struct emit *e, unsigned int size, unsigned int reg, unsigned int base,
				    int32_t disp)
{
	emit_size_prefix(e, size);
	emit_op_mem(e, size == 8, size == 1 ? 0x88 : 0x89, reg, base, disp);
}

/* CMOVcc dst, src (32 or 64 bits) */
static inline void emit_cmov(struct emit *e, bool w, enum host_cc cc, unsigned int dst, unsigned int src)
{
	emit_rex(e, w, dst, 0, src);
	emit_u8(e, 0x0f);
	emit_u8(e, (uint8_t)(0x40 + cc));
	emit_modrm_reg(e, dst, src);
}

/* IMUL dst, src (32 or 64 bits) */
static inline void emit_imul(struct emit *e, bool w, unsigned int dst, unsigned int src)
{
	emit_rex(e, w, dst, 0, src);
	emit_u8(e, 0x0f);
	emit_u8(e, 0xaf);
	emit_modrm_reg(e, dst, src);
}

/* INC (0) / DEC (1) reg at `size` (byte registers: AL-BL) */
static inline void emit_incdec_sized(struct emit *e, unsigned int size, unsigned int dec, unsigned int reg)
{
	emit_size_prefix(e, size);
	emit_rex(e, size == 8, 0, 0, reg);
	emit_u8(e, size == 1 ? 0xfe : 0xff);
	emit_modrm_reg(e, dec ? 1 : 0, reg);
}

/* SHL (4) / SHR (5) / SAR (7) reg, imm8 at `size` (byte registers: AL-BL) */
static inline void emit_shift_sized(struct emit *e, unsigned int size, unsigned int kind, unsigned int reg,
				    uint8_t count)
{
	emit_size_prefix(e, size);
	emit_rex(e, size == 8, 0, 0, reg);
	emit_u8(e, size == 1 ? 0xc0 : 0xc1);
	emit_modrm_reg(e, kind, reg);
	emit_u8(e, count);
}

/* PUSHFQ; POP RAX: the host's flags into RAX */
static inline void emit_pushf_rax(struct emit *e)
{
	emit_u8(e, 0x9c);
	emit_u8(e, 0x58);
}

/* ROL (0) / ROR (1) reg, imm8 (32 or 64 bits) */
static inline void emit_rotate_imm(struct emit *e, bool w, unsigned int kind, unsigned int reg, uint8_t count)
{
	emit_shift_sized(e, w ? 8 : 4, kind, reg, count);
}

/* BT (4) / BTS (5) / BTR (6) / BTC (7) reg, imm8 at `size` (2, 4, 8) */
static inline void emit_bt_imm(struct emit *e, unsigned int size, unsigned int kind, unsigned int reg,
			       uint8_t bit)
{
	emit_size_prefix(e, size);
	emit_rex(e, size == 8, 0, 0, reg);
	emit_u8(e, 0x0f);
	emit_u8(e, 0xba);
	emit_modrm_reg(e, kind, reg);
	emit_u8(e, bit);
}

/* NOT (2) / NEG (3) reg at `size` (byte registers: AL-BL) */
static inline void emit_unary_sized(struct emit *e, unsigned int size, unsigned int kind, unsigned int reg)
{
	emit_size_prefix(e, size);
	emit_rex(e, size == 8, 0, 0, reg);
	emit_u8(e, size == 1 ? 0xf6 : 0xf7);
	emit_modrm_reg(e, kind, reg);
}

/* SSE: [prefix] 0F op with an xmm register and [base + disp] */
static inline void emit_sse_mem(struct emit *e, uint8_t prefix, uint8_t op, unsigned int xmm, unsigned int base,
				int32_t disp)
{
	emit_u8(e, prefix);
	emit_rex(e, false, xmm, 0, base);
	emit_u8(e, 0x0f);
	emit_u8(e, op);
	emit_modrm_mem(e, xmm, base, disp);
}

/* SSE: [prefix] 0F op reg, rm (registers) */
static inline void emit_sse_reg(struct emit *e, uint8_t prefix, uint8_t op, unsigned int reg, unsigned int rm)
{
	emit_u8(e, prefix);
	emit_rex(e, false, reg, 0, rm);
	emit_u8(e, 0x0f);
	emit_u8(e, op);
	emit_modrm_reg(e, reg, rm);
}

#define SSE_MOVDQU_LOAD		0xf3, 0x6f	/* MOVDQU xmm, m128 */
#define SSE_MOVDQU_STORE	0xf3, 0x7f	/* MOVDQU m128, xmm */
#define SSE_MOVQ_LOAD		0xf3, 0x7e	/* MOVQ xmm, m64 (upper half cleared) */
#define SSE_PMOVMSKB		0x66, 0xd7	/* PMOVMSKB r32, xmm */

/* TEST DL, imm8 */
static inline void emit_test_dl(struct emit *e, uint8_t imm)
{
	emit_u8(e, 0xf6);
	emit_modrm_reg(e, 0, RDX);
	emit_u8(e, imm);
}

/* PUSH RAX; POPFQ: the host's arithmetic flags from RAX */
static inline void emit_popf_rax(struct emit *e)
{
	emit_u8(e, 0x50);
	emit_u8(e, 0x9d);
}

#endif
