/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Specialized handlers for the most frequent instruction forms: ALU, MOV,
 * TEST, INC/DEC on 32- and 64-bit registers.  The decoder picks them after
 * decoding (insn_specialize), so the generic handlers' size switches and
 * operand-form branches are paid only by the rarer forms.
 */
#include "ops.h"

/* One form: destination register rm, source `src`, operands of type T. */
#define DEFINE_ALU_FORM(name, T, size, src, expr, cc_kind, writes)			\
static int name(struct tcg_cpu *cpu, const struct insn *in)				\
{											\
	T a = (T)cpu->regs[in->rm], b = (T)(src);					\
	T r = (T)(expr);								\
	if (writes)									\
		cpu->regs[in->rm] = r;							\
	cpu->cc_op = cc_kind; cpu->cc_size = size; cpu->cc_dst = r; cpu->cc_src = b;	\
	return insn_done(cpu, in);							\
}

#define DEFINE_ALU(opname, op_index, expr, cc_kind, writes)					\
DEFINE_ALU_FORM(alu_##opname##_r32_r32, uint32_t, 4, cpu->regs[in->reg], expr, cc_kind, writes)	\
DEFINE_ALU_FORM(alu_##opname##_r64_r64, uint64_t, 8, cpu->regs[in->reg], expr, cc_kind, writes)	\
DEFINE_ALU_FORM(alu_##opname##_r32_imm, uint32_t, 4, in->imm, expr, cc_kind, writes)		\
DEFINE_ALU_FORM(alu_##opname##_r64_imm, uint64_t, 8, in->imm, expr, cc_kind, writes)

DEFINE_ALU(add, 0, a + b, CC_ADD, 1)
DEFINE_ALU(or, 1, a | b, CC_LOGIC, 1)
DEFINE_ALU(and, 4, a & b, CC_LOGIC, 1)
DEFINE_ALU(sub, 5, a - b, CC_SUB, 1)
DEFINE_ALU(xor, 6, a ^ b, CC_LOGIC, 1)
DEFINE_ALU(cmp, 7, a - b, CC_SUB, 0)
DEFINE_ALU(test, 8, a & b, CC_LOGIC, 0)

/* [op][0: r32,r32 1: r64,r64 2: r32,imm 3: r64,imm]; NULL: keep generic. */
static const insn_fn alu_fast[9][4] = {
	[0] = { alu_add_r32_r32, alu_add_r64_r64, alu_add_r32_imm, alu_add_r64_imm },
	[1] = { alu_or_r32_r32, alu_or_r64_r64, alu_or_r32_imm, alu_or_r64_imm },
	[4] = { alu_and_r32_r32, alu_and_r64_r64, alu_and_r32_imm, alu_and_r64_imm },
	[5] = { alu_sub_r32_r32, alu_sub_r64_r64, alu_sub_r32_imm, alu_sub_r64_imm },
	[6] = { alu_xor_r32_r32, alu_xor_r64_r64, alu_xor_r32_imm, alu_xor_r64_imm },
	[7] = { alu_cmp_r32_r32, alu_cmp_r64_r64, alu_cmp_r32_imm, alu_cmp_r64_imm },
	[8] = { alu_test_r32_r32, alu_test_r64_r64, alu_test_r32_imm, alu_test_r64_imm },
};

static int mov_r32_r32(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu->regs[in->rm] = (uint32_t)cpu->regs[in->reg];
	return insn_done(cpu, in);
}

static int mov_r64_r64(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu->regs[in->rm] = cpu->regs[in->reg];
	return insn_done(cpu, in);
}

static int mov_r_imm(struct tcg_cpu *cpu, const struct insn *in)
{
	/* The decoder stores the already zero- or sign-extended value. */
	cpu->regs[in->rm] = in->imm;
	return insn_done(cpu, in);
}

static int mov_r64_m64(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu->regs[in->reg] = mem_read(cpu, in->seg, insn_ea(cpu, in), 8);
	return insn_done(cpu, in);
}

static int mov_m64_r64(struct tcg_cpu *cpu, const struct insn *in)
{
	mem_write(cpu, in->seg, insn_ea(cpu, in), 8, cpu->regs[in->reg]);
	return insn_done(cpu, in);
}

static int mov_r32_m32(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu->regs[in->reg] = mem_read(cpu, in->seg, insn_ea(cpu, in), 4);
	return insn_done(cpu, in);
}

static int mov_m32_r32(struct tcg_cpu *cpu, const struct insn *in)
{
	mem_write(cpu, in->seg, insn_ea(cpu, in), 4, (uint32_t)cpu->regs[in->reg]);
	return insn_done(cpu, in);
}

#define DEFINE_INCDEC(name, size, T, delta, kind)						\
static int name(struct tcg_cpu *cpu, const struct insn *in)				\
{											\
	T r = (T)((T)cpu->regs[in->rm] + (T)(delta));					\
	cpu->cc_src2 = cpu_get_cf(cpu) ? FLAG_CF : 0;					\
	cpu->regs[in->rm] = r;								\
	cpu->cc_op = kind; cpu->cc_size = size; cpu->cc_dst = r;			\
	return insn_done(cpu, in);							\
}

DEFINE_INCDEC(inc_r32, 4, uint32_t, 1, CC_INC)
DEFINE_INCDEC(dec_r32, 4, uint32_t, -1, CC_DEC)
DEFINE_INCDEC(inc_r64, 8, uint64_t, 1, CC_INC)
DEFINE_INCDEC(dec_r64, 8, uint64_t, -1, CC_DEC)

static int lea_r64(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu->regs[in->reg] = insn_ea(cpu, in);
	return insn_done(cpu, in);
}

insn_fn insn_specialize(struct insn *in)
{
	bool mem = in->flags & INSN_MEM;
	unsigned int wide = in->size == 8;

	if (in->flags & INSN_LOCK)
		return in->fn;
	if (in->size != 4 && in->size != 8)
		return in->fn;
	if (in->fn == op_alu_rm_reg && !mem && alu_fast[in->op][wide])
		return alu_fast[in->op][wide];
	if (in->fn == op_alu_reg_rm && !mem && alu_fast[in->op][wide]) {
		/* Normalize to destination in rm, source in reg. */
		uint8_t t = in->rm;

		in->rm = in->reg;
		in->reg = t;
		return alu_fast[in->op][wide];
	}
	if (in->fn == op_alu_rm_imm && !mem && alu_fast[in->op][2 + wide]) {
		if (!wide)
			in->imm &= 0xffffffff;
		return alu_fast[in->op][2 + wide];
	}
	if (in->fn == op_test_rm_reg && !mem)
		return alu_fast[8][wide];
	if (in->fn == op_test_rm_imm && !mem) {
		if (!wide)
			in->imm &= 0xffffffff;
		return alu_fast[8][2 + wide];
	}
	if (in->fn == op_mov_rm_reg)
		return mem ? (wide ? mov_m64_r64 : mov_m32_r32) : (wide ? mov_r64_r64 : mov_r32_r32);
	if (in->fn == op_mov_reg_rm) {
		if (mem)
			return wide ? mov_r64_m64 : mov_r32_m32;
		uint8_t t = in->rm;

		in->rm = in->reg;
		in->reg = t;
		return wide ? mov_r64_r64 : mov_r32_r32;
	}
	if (in->fn == op_mov_reg_imm) {
		if (!wide)
			in->imm &= 0xffffffff;
		return mov_r_imm;
	}
	if (in->fn == op_mov_rm_imm && !mem) {
		if (!wide)
			in->imm &= 0xffffffff;
		return mov_r_imm;
	}
	if (in->fn == op_inc_dec && !mem)
		return in->op ? (wide ? dec_r64 : dec_r32) : (wide ? inc_r64 : inc_r32);
	if (in->fn == op_lea && wide)
		return lea_r64;
	return in->fn;
}

/*
 * What a specialized handler does, for the JIT (jit.c): it compiles the same
 * forms inline and calls the handler for everything else.
 */
bool insn_fast_form(const struct insn *in, struct fast_form *form)
{
	static const struct {
		insn_fn fn;
		enum fast_kind kind;
		uint8_t size, op;
	} simple[] = {
		{ mov_r32_r32, FAST_MOV_RR, 4, 0 }, { mov_r64_r64, FAST_MOV_RR, 8, 0 },
		{ mov_r_imm, FAST_MOV_RI, 8, 0 },
		{ mov_r32_m32, FAST_LOAD, 4, 0 }, { mov_r64_m64, FAST_LOAD, 8, 0 },
		{ mov_m32_r32, FAST_STORE, 4, 0 }, { mov_m64_r64, FAST_STORE, 8, 0 },
		{ inc_r32, FAST_INCDEC, 4, 0 }, { inc_r64, FAST_INCDEC, 8, 0 },
		{ dec_r32, FAST_INCDEC, 4, 1 }, { dec_r64, FAST_INCDEC, 8, 1 },
		{ lea_r64, FAST_LEA, 8, 0 },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(simple); i++) {
		if (in->fn == simple[i].fn) {
			*form = (struct fast_form){ simple[i].kind, simple[i].size, simple[i].op };
			return true;
		}
	}
	for (unsigned int op = 0; op < G_N_ELEMENTS(alu_fast); op++) {
		for (unsigned int variant = 0; variant < 4; variant++) {
			if (alu_fast[op][variant] && in->fn == alu_fast[op][variant]) {
				*form = (struct fast_form){ variant < 2 ? FAST_ALU_RR : FAST_ALU_RI,
							    (variant & 1) ? 8 : 4, (uint8_t)op };
				return true;
			}
		}
	}
	return false;
}
