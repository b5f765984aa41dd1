/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * General-purpose instructions (Intel SDM Vol. 2, AMD APM Vol. 3): integer
 * arithmetic and logic, shifts, multiplication and division, bit operations,
 * data movement, the stack, control flow and string instructions.
 *
 * Rule for every handler: do everything that may fault (memory reads,
 * translation of memory writes) before changing registers or flags.
 */
#include "ops.h"

#include "log.h"

/* --- read-modify-write of the r/m operand --- */

/*
 * A memory destination is translated for writing first, so the instruction
 * faults (if it must) before any register or flag changes.
 */
struct rmw {
	void *host;		/* direct pointer, or NULL: slow path (MMIO, page-crossing) */
	uint64_t linear;
};

static uint64_t rmw_begin(struct tcg_cpu *cpu, const struct insn *in, unsigned int size, struct rmw *w)
{
	if (!(in->flags & INSN_MEM)) {
		w->host = NULL;
		return reg_read(cpu, in->rm, size);
	}
	w->linear = seg_linear(cpu, in->seg, insn_ea(cpu, in), size, ACCESS_WRITE);
	w->host = mem_host_ptr(cpu, w->linear, size, ACCESS_WRITE);
	if (w->host)
		return load_host(w->host, size);
	mem_check_write(cpu, w->linear, size);
	return mem_read_slow(cpu, w->linear, size);
}

static void rmw_commit(struct tcg_cpu *cpu, const struct insn *in, unsigned int size, struct rmw *w,
		       uint64_t value)
{
	if (!(in->flags & INSN_MEM))
		reg_write(cpu, in->rm, size, value);
	else if (w->host)
		store_host(w->host, size, value);
	else
		mem_write_slow(cpu, w->linear, size, value);
}

/* Atomic compare-and-swap on a host pointer of the given size. */
static bool cas(void *p, unsigned int size, uint64_t *expected, uint64_t desired)
{
	switch (size) {
	case 1: {
		uint8_t e = (uint8_t)*expected;
		bool ok = __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	case 2: {
		uint16_t e = (uint16_t)*expected;
		bool ok = __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	case 4: {
		uint32_t e = (uint32_t)*expected;
		bool ok = __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*expected = e;
		return ok;
	}
	default:
		return __atomic_compare_exchange_n((uint64_t *)p, expected, desired, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
}

/* Lazy flags computed by an operation, applied after the write-back. */
struct cc {
	enum cc_op op;
	unsigned int size;
	uint64_t dst, src, src2;
};

static void cc_apply(struct tcg_cpu *cpu, const struct cc *cc)
{
	cpu->cc_op = cc->op;
	cpu->cc_size = cc->size;
	cpu->cc_dst = cc->dst;
	cpu->cc_src = cc->src;
	cpu->cc_src2 = cc->src2;
}

static uint64_t alu(struct tcg_cpu *cpu, unsigned int op, unsigned int size, uint64_t a, uint64_t b,
		    struct cc *cc)
{
	uint64_t mask = size_mask(size), r, carry;

	a &= mask;
	b &= mask;
	*cc = (struct cc){ .size = size, .src = b };
	switch (op) {
	case 0: r = a + b; cc->op = CC_ADD; break;
	case 1: r = a | b; cc->op = CC_LOGIC; break;
	case 2: carry = cpu_get_cf(cpu); r = a + b + carry; cc->op = CC_ADC; cc->src2 = carry; break;
	case 3: carry = cpu_get_cf(cpu); r = a - b - carry; cc->op = CC_SBB; cc->src2 = carry; break;
	case 4: r = a & b; cc->op = CC_LOGIC; break;
	case 5: case 7: r = a - b; cc->op = CC_SUB; break;
	default: r = a ^ b; cc->op = CC_LOGIC; break;
	}
	r &= mask;
	cc->dst = r;
	return r;
}

uint64_t alu_compute(struct tcg_cpu *cpu, unsigned int op, unsigned int size, uint64_t a, uint64_t b)
{
	struct cc cc;
	uint64_t r = alu(cpu, op, size, a, b, &cc);

	cc_apply(cpu, &cc);
	return r;
}

/* ALU on the r/m operand with `b`; handles LOCK and CMP (op 7: no write). */
static int alu_rm(struct tcg_cpu *cpu, const struct insn *in, unsigned int size, uint64_t b)
{
	unsigned int op = in->op;
	struct rmw w;
	struct cc cc;
	uint64_t a, r;

	if (op == 7) {
		a = rm_read(cpu, in, size);
		alu(cpu, op, size, a, b, &cc);
		cc_apply(cpu, &cc);
		return insn_done(cpu, in);
	}
	a = rmw_begin(cpu, in, size, &w);
	if ((in->flags & INSN_LOCK) && w.host) {
		do
			r = alu(cpu, op, size, a, b, &cc);
		while (!cas(w.host, size, &a, r));
	} else {
		r = alu(cpu, op, size, a, b, &cc);
		rmw_commit(cpu, in, size, &w, r);
	}
	cc_apply(cpu, &cc);
	return insn_done(cpu, in);
}

int op_alu_rm_reg(struct tcg_cpu *cpu, const struct insn *in)
{
	return alu_rm(cpu, in, in->size, reg_read(cpu, in->reg, in->size));
}

int op_alu_reg_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t b = rm_read(cpu, in, size);
	uint64_t r = alu_compute(cpu, in->op, size, reg_read(cpu, in->reg, size), b);

	if (in->op != 7)
		reg_write(cpu, in->reg, size, r);
	return insn_done(cpu, in);
}

int op_alu_rm_imm(struct tcg_cpu *cpu, const struct insn *in)
{
	return alu_rm(cpu, in, in->size, in->imm);
}

int op_test_rm_reg(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t a = rm_read(cpu, in, in->size);

	cc_set(cpu, CC_LOGIC, in->size, a & reg_read(cpu, in->reg, in->size), 0);
	return insn_done(cpu, in);
}

int op_test_rm_imm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t a = rm_read(cpu, in, in->size);

	cc_set(cpu, CC_LOGIC, in->size, a & in->imm & size_mask(in->size), 0);
	return insn_done(cpu, in);
}

int op_inc_dec(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t mask = size_mask(size), a, r;
	uint64_t cf = cpu_get_cf(cpu) ? FLAG_CF : 0;
	struct rmw w;

	a = rmw_begin(cpu, in, size, &w);
	if ((in->flags & INSN_LOCK) && w.host) {
		do
			r = (in->op ? a - 1 : a + 1) & mask;
		while (!cas(w.host, size, &a, r));
	} else {
		r = (in->op ? a - 1 : a + 1) & mask;
		rmw_commit(cpu, in, size, &w, r);
	}
	cc_set(cpu, in->op ? CC_DEC : CC_INC, size, r, 0);
	cpu->cc_src2 = cf;
	return insn_done(cpu, in);
}

int op_not(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	struct rmw w;
	uint64_t a = rmw_begin(cpu, in, size, &w), r;

	if ((in->flags & INSN_LOCK) && w.host) {
		do
			r = ~a & size_mask(size);
		while (!cas(w.host, size, &a, r));
	} else {
		rmw_commit(cpu, in, size, &w, ~a & size_mask(size));
	}
	return insn_done(cpu, in);
}

int op_neg(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	struct rmw w;
	uint64_t a = rmw_begin(cpu, in, size, &w), r;

	if ((in->flags & INSN_LOCK) && w.host) {
		do
			r = (0 - a) & size_mask(size);
		while (!cas(w.host, size, &a, r));
	} else {
		r = (0 - a) & size_mask(size);
		rmw_commit(cpu, in, size, &w, r);
	}
	cc_set(cpu, CC_NEG, size, r, a);
	return insn_done(cpu, in);
}

/* --- multiplication and division --- */

int op_mul(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t b = rm_read(cpu, in, size), a = reg_read(cpu, 0, size);
	unsigned __int128 p = (unsigned __int128)a * b;
	uint64_t lo = (uint64_t)p & size_mask(size);
	uint64_t hi = size == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> (size * 8)) & size_mask(size);

	if (size == 1) {
		reg_write(cpu, 0, 2, (uint64_t)p);
	} else {
		reg_write(cpu, 0, size, lo);
		reg_write(cpu, 2, size, hi);
	}
	cc_set(cpu, CC_MUL, size, lo, hi != 0);
	return insn_done(cpu, in);
}

int op_imul1(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	int64_t b = sign_extend(rm_read(cpu, in, size), size);
	int64_t a = sign_extend(reg_read(cpu, 0, size), size);
	__int128 p = (__int128)a * b;
	uint64_t lo = (uint64_t)p & size_mask(size);
	uint64_t hi = size == 8 ? (uint64_t)((unsigned __int128)p >> 64) :
				  (uint64_t)(p >> (size * 8)) & size_mask(size);
	bool overflow = p != (__int128)sign_extend(lo, size);

	if (size == 1) {
		reg_write(cpu, 0, 2, (uint64_t)p);
	} else {
		reg_write(cpu, 0, size, lo);
		reg_write(cpu, 2, size, hi);
	}
	cc_set(cpu, CC_MUL, size, lo, overflow);
	return insn_done(cpu, in);
}

static int imul2(struct tcg_cpu *cpu, const struct insn *in, int64_t a, int64_t b)
{
	unsigned int size = in->size;
	__int128 p = (__int128)a * b;
	uint64_t lo = (uint64_t)p & size_mask(size);

	reg_write(cpu, in->reg, size, lo);
	cc_set(cpu, CC_MUL, size, lo, p != (__int128)sign_extend(lo, size));
	return insn_done(cpu, in);
}

int op_imul_reg_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	int64_t b = sign_extend(rm_read(cpu, in, in->size), in->size);

	return imul2(cpu, in, sign_extend(reg_read(cpu, in->reg, in->size), in->size), b);
}

int op_imul_reg_rm_imm(struct tcg_cpu *cpu, const struct insn *in)
{
	int64_t a = sign_extend(rm_read(cpu, in, in->size), in->size);

	return imul2(cpu, in, a, sign_extend(in->imm, in->size));
}

int op_div(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t d = rm_read(cpu, in, size);
	unsigned __int128 n, q;

	if (d == 0)
		cpu_raise(cpu, EXC_DE, 0);
	if (size == 1)
		n = reg_read(cpu, 0, 2);
	else
		n = ((unsigned __int128)reg_read(cpu, 2, size) << (size * 8)) | reg_read(cpu, 0, size);
	q = n / d;
	if (q > size_mask(size))
		cpu_raise(cpu, EXC_DE, 0);
	if (size == 1) {
		reg_write(cpu, 0, 1, (uint64_t)q);
		reg_write(cpu, REG8_HIGH, 1, (uint64_t)(n % d));
	} else {
		reg_write(cpu, 0, size, (uint64_t)q);
		reg_write(cpu, 2, size, (uint64_t)(n % d));
	}
	return insn_done(cpu, in);
}

int op_idiv(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	int64_t d = sign_extend(rm_read(cpu, in, size), size);
	__int128 n, q, r;

	if (d == 0)
		cpu_raise(cpu, EXC_DE, 0);
	if (size == 1) {
		n = sign_extend(reg_read(cpu, 0, 2), 2);
	} else if (size == 8) {
		n = (__int128)(((unsigned __int128)cpu->regs[2] << 64) | cpu->regs[0]);
	} else {
		uint64_t wide = (reg_read(cpu, 2, size) << (size * 8)) | reg_read(cpu, 0, size);

		n = sign_extend(wide, size * 2);
	}
	/* The one quotient __int128 cannot hold: -2^127 / -1 (also out of range). */
	if (size == 8 && d == -1 && n == -n && n != 0)
		cpu_raise(cpu, EXC_DE, 0);
	q = n / d;
	r = n % d;
	if (q > (__int128)(sign_bit(size) - 1) || q < -(__int128)sign_bit(size))
		cpu_raise(cpu, EXC_DE, 0);
	if (size == 1) {
		reg_write(cpu, 0, 1, (uint64_t)q);
		reg_write(cpu, REG8_HIGH, 1, (uint64_t)r);
	} else {
		reg_write(cpu, 0, size, (uint64_t)q);
		reg_write(cpu, 2, size, (uint64_t)r);
	}
	return insn_done(cpu, in);
}

/* --- shifts and rotates --- */

static unsigned int shift_count(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int count = in->imm == 0x100 ? (unsigned int)cpu->regs[1] : (unsigned int)in->imm;

	return count & (in->size == 8 ? 0x3f : 0x1f);
}

int op_shift(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size, bits = size * 8, count = shift_count(cpu, in);
	uint64_t mask = size_mask(size), sign = sign_bit(size), a, r = 0;
	bool cf = false, of = false;
	struct rmw w;

	a = rmw_begin(cpu, in, size, &w) & mask;
	if (count == 0) {
		/* No change, not even to the flags; but a 32-bit register destination
		 * is still written, so its upper half is cleared. */
		if (size == 4 && !(in->flags & INSN_MEM))
			reg_write(cpu, in->rm, 4, a);
		return insn_done(cpu, in);
	}
	switch (in->op) {
	case 0: {	/* ROL */
		unsigned int c = count % bits;

		r = c ? ((a << c) | (a >> (bits - c))) & mask : a;
		cf = r & 1;
		of = !!(r & sign) != cf;
		break;
	}
	case 1: {	/* ROR */
		unsigned int c = count % bits;

		r = c ? ((a >> c) | (a << (bits - c))) & mask : a;
		cf = r & sign;
		of = !!(r & sign) != !!(r & (sign >> 1));
		break;
	}
	case 2: {	/* RCL: rotate through CF, a (bits + 1)-bit rotation */
		unsigned int c = count % (bits + 1);

		cf = cpu_get_cf(cpu);
		r = a;
		for (unsigned int i = 0; i < c; i++) {
			bool out = r & sign;

			r = ((r << 1) | cf) & mask;
			cf = out;
		}
		of = !!(r & sign) != cf;
		break;
	}
	case 3: {	/* RCR */
		unsigned int c = count % (bits + 1);

		cf = cpu_get_cf(cpu);
		r = a;
		of = !!(r & sign) != cf;
		for (unsigned int i = 0; i < c; i++) {
			bool out = r & 1;

			r = (r >> 1) | (cf ? sign : 0);
			cf = out;
		}
		break;
	}
	case 4:
	case 6:		/* SHL / SAL */
		r = count < bits ? (a << count) & mask : 0;
		cf = count <= bits ? (a >> (bits - count)) & 1 : 0;
		of = !!(r & sign) != cf;
		break;
	case 5:		/* SHR */
		r = count < bits ? a >> count : 0;
		cf = count <= bits ? (a >> (count - 1)) & 1 : 0;
		of = a & sign;
		break;
	default: {	/* SAR */
		int64_t s = sign_extend(a, size);

		r = (uint64_t)(s >> (count < bits ? count : bits - 1)) & mask;
		cf = (s >> (count - 1 < bits ? count - 1 : bits - 1)) & 1;
		of = false;
		break;
	}
	}
	rmw_commit(cpu, in, size, &w, r);
	if (in->op < 4) {
		/* Rotates change only CF and OF. */
		cpu_set_eflags(cpu, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0), FLAG_CF | FLAG_OF);
	} else {
		cc_set(cpu, in->op == 5 ? CC_SHR : in->op == 7 ? CC_SAR : CC_SHL, size, r, cf);
		cpu->cc_src2 = of;
	}
	return insn_done(cpu, in);
}

static int double_shift(struct tcg_cpu *cpu, const struct insn *in, bool left)
{
	unsigned int size = in->size, bits = size * 8;
	unsigned int count = (in->imm == 0x100 ? (unsigned int)cpu->regs[1] : (unsigned int)in->imm) &
			     (size == 8 ? 0x3f : 0x1f);
	uint64_t mask = size_mask(size), sign = sign_bit(size), a, b, r;
	unsigned __int128 wide;
	bool cf;
	struct rmw w;

	a = rmw_begin(cpu, in, size, &w) & mask;
	b = reg_read(cpu, in->reg, size);
	if (count == 0) {
		if (size == 4 && !(in->flags & INSN_MEM))
			reg_write(cpu, in->rm, 4, a);
		return insn_done(cpu, in);
	}
	if (size == 2) {
		/* 16-bit with count > 16: the result is undefined; model a 32-bit pattern. */
		uint64_t pat = left ? (a << 16) | b : (b << 16) | a;
		uint64_t rot = left ? (pat << 32 | pat) << count >> 32 : ((pat << 32 | pat) >> count);

		if (left) {
			r = (rot >> 16) & 0xffff;
			cf = (((pat << 32 | pat) << (count - 1)) >> 63) & 1;
		} else {
			r = rot & 0xffff;
			cf = ((pat << 32 | pat) >> (count - 1)) & 1;
		}
	} else if (left) {
		wide = ((unsigned __int128)a << bits) | b;
		r = (uint64_t)((wide << count) >> bits) & mask;
		cf = (a >> (bits - count)) & 1;
	} else {
		wide = ((unsigned __int128)b << bits) | a;
		r = (uint64_t)(wide >> count) & mask;
		cf = (a >> (count - 1)) & 1;
	}
	rmw_commit(cpu, in, size, &w, r);
	cc_set(cpu, left ? CC_SHL : CC_SHR, size, r, cf);
	cpu->cc_src2 = !!(r & sign) != !!(a & sign);
	return insn_done(cpu, in);
}

int op_shld(struct tcg_cpu *cpu, const struct insn *in)
{
	return double_shift(cpu, in, true);
}

int op_shrd(struct tcg_cpu *cpu, const struct insn *in)
{
	return double_shift(cpu, in, false);
}

/* --- data movement --- */

int op_mov_rm_reg(struct tcg_cpu *cpu, const struct insn *in)
{
	rm_write(cpu, in, in->size, reg_read(cpu, in->reg, in->size));
	return insn_done(cpu, in);
}

int op_mov_reg_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in->reg, in->size, rm_read(cpu, in, in->size));
	return insn_done(cpu, in);
}

int op_mov_rm_imm(struct tcg_cpu *cpu, const struct insn *in)
{
	rm_write(cpu, in, in->size, in->imm);
	return insn_done(cpu, in);
}

int op_mov_reg_imm(struct tcg_cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in->rm, in->size, in->imm);
	return insn_done(cpu, in);
}

int op_mov_moffs_load(struct tcg_cpu *cpu, const struct insn *in)
{
	reg_write(cpu, 0, in->size, mem_read(cpu, in->seg, in->imm, in->size));
	return insn_done(cpu, in);
}

int op_mov_moffs_store(struct tcg_cpu *cpu, const struct insn *in)
{
	mem_write(cpu, in->seg, in->imm, in->size, reg_read(cpu, 0, in->size));
	return insn_done(cpu, in);
}

int op_movzx(struct tcg_cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in->reg, in->op, rm_read(cpu, in, in->size));
	return insn_done(cpu, in);
}

int op_movsx(struct tcg_cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in->reg, in->op, (uint64_t)sign_extend(rm_read(cpu, in, in->size), in->size));
	return insn_done(cpu, in);
}

int op_movsxd(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->size == 8 ? 4 : in->size);

	reg_write(cpu, in->reg, in->size, in->size == 8 ? (uint64_t)sign_extend(v, 4) : v);
	return insn_done(cpu, in);
}

int op_lea(struct tcg_cpu *cpu, const struct insn *in)
{
	reg_write(cpu, in->reg, in->size, insn_ea(cpu, in));
	return insn_done(cpu, in);
}

static uint64_t xchg_atomic(void *p, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1: return __atomic_exchange_n((uint8_t *)p, (uint8_t)v, __ATOMIC_SEQ_CST);
	case 2: return __atomic_exchange_n((uint16_t *)p, (uint16_t)v, __ATOMIC_SEQ_CST);
	case 4: return __atomic_exchange_n((uint32_t *)p, (uint32_t)v, __ATOMIC_SEQ_CST);
	default: return __atomic_exchange_n((uint64_t *)p, v, __ATOMIC_SEQ_CST);
	}
}

int op_xchg(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t b = reg_read(cpu, in->reg, size), a;
	struct rmw w;

	/* XCHG with memory is always locked. */
	a = rmw_begin(cpu, in, size, &w);
	if (w.host)
		a = xchg_atomic(w.host, size, b);
	else
		rmw_commit(cpu, in, size, &w, b);
	reg_write(cpu, in->reg, size, a);
	return insn_done(cpu, in);
}

int op_xchg_ax(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t a = reg_read(cpu, 0, in->size), b = reg_read(cpu, in->rm, in->size);

	reg_write(cpu, 0, in->size, b);
	reg_write(cpu, in->rm, in->size, a);
	return insn_done(cpu, in);
}

int op_nop(struct tcg_cpu *cpu, const struct insn *in)
{
	return insn_done(cpu, in);
}

int op_pause(struct tcg_cpu *cpu, const struct insn *in)
{
	/* A spin-wait hint: let another vCPU thread in. */
	__builtin_ia32_pause();
	cpu->rip += in->len;
	return END_BLOCK;
}

int op_cbw(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;

	reg_write(cpu, 0, size, (uint64_t)sign_extend(reg_read(cpu, 0, size / 2), size / 2));
	return insn_done(cpu, in);
}

int op_cwd(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;

	reg_write(cpu, 2, size, (reg_read(cpu, 0, size) & sign_bit(size)) ? ~0ULL : 0);
	return insn_done(cpu, in);
}

/* --- stack --- */

int op_push_reg(struct tcg_cpu *cpu, const struct insn *in)
{
	push(cpu, in->size, reg_read(cpu, in->rm, in->size));
	return insn_done(cpu, in);
}

int op_pop_reg(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = pop_peek(cpu, in->size, 0);

	pop_commit(cpu, in->size);
	reg_write(cpu, in->rm, in->size, v);
	return insn_done(cpu, in);
}

int op_push_imm(struct tcg_cpu *cpu, const struct insn *in)
{
	push(cpu, in->size, in->imm);
	return insn_done(cpu, in);
}

int op_push_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	push(cpu, in->size, rm_read(cpu, in, in->size));
	return insn_done(cpu, in);
}

int op_pop_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = pop_peek(cpu, in->size, 0);
	uint64_t old_sp = cpu->regs[4];

	/* POP to memory addressed through RSP uses RSP after the pop (Vol. 2B "POP"). */
	pop_commit(cpu, in->size);
	if (in->flags & INSN_MEM) {
		uint64_t ea = insn_ea(cpu, in);
		uint64_t lin = seg_linear(cpu, in->seg, ea, in->size, ACCESS_WRITE);

		cpu->regs[4] = old_sp;
		lin_write(cpu, lin, in->size, v);
		pop_commit(cpu, in->size);
	} else {
		reg_write(cpu, in->rm, in->size, v);
	}
	return insn_done(cpu, in);
}

int op_push_seg(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t sp = stack_pointer(cpu) - in->size;

	/*
	 * A selector pushed with a 32/64-bit operand size is a 16-bit write into
	 * the slot; the rest of the slot keeps its bytes (Vol. 2B "PUSH").
	 */
	if (!cpu->code64)
		sp &= size_mask(stack_size(cpu));
	mem_write(cpu, SEG_SS, sp, 2, cpu->seg[in->op].selector);
	stack_pointer_set(cpu, sp);
	return insn_done(cpu, in);
}

int op_pop_seg(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t sel = (uint16_t)pop_peek(cpu, in->size, 0);

	seg_load(cpu, in->op, sel);
	pop_commit(cpu, in->size);
	cpu->rip += in->len;
	if (in->op == SEG_SS)
		cpu->interrupt_shadow = true;
	return END_BLOCK;
}

int op_pusha(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t sp = stack_pointer(cpu);

	for (unsigned int i = 0; i < 8; i++)
		mem_write(cpu, SEG_SS, (sp - size * (i + 1)) & size_mask(stack_size(cpu)), size,
			  i == 4 ? sp : reg_read(cpu, i, size));
	stack_pointer_set(cpu, sp - 8 * size);
	return insn_done(cpu, in);
}

int op_popa(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t v[8];

	for (unsigned int i = 0; i < 8; i++)
		v[i] = pop_peek(cpu, size, size * (7 - i));
	for (unsigned int i = 0; i < 8; i++)
		if (i != 4)
			reg_write(cpu, i, size, v[i]);
	pop_commit(cpu, 8 * size);
	return insn_done(cpu, in);
}

int op_pushf(struct tcg_cpu *cpu, const struct insn *in)
{
	if ((cpu->eflags & FLAG_VM) && ((cpu->eflags & FLAG_IOPL) >> 12) < 3)
		cpu_raise_gp0(cpu);
	/* VM and RF read as 0 in the pushed image. */
	push(cpu, in->size, cpu_get_eflags(cpu) & ~(FLAG_VM | FLAG_RF));
	return insn_done(cpu, in);
}

int op_popf(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int iopl = (cpu->eflags & FLAG_IOPL) >> 12;
	uint32_t v = (uint32_t)pop_peek(cpu, in->size, 0);
	uint32_t mask = FLAGS_ARITH | FLAG_TF | FLAG_DF | FLAG_NT | FLAG_AC | FLAG_ID;

	if ((cpu->eflags & FLAG_VM) && iopl < 3)
		cpu_raise_gp0(cpu);
	/* Vol. 2B "POPF": IOPL only at CPL 0, IF only when CPL <= IOPL. */
	if (cpu->cpl == 0)
		mask |= FLAG_IOPL;
	if (cpu->cpl <= iopl)
		mask |= FLAG_IF;
	if (in->size == 2)
		mask &= 0xffff;
	pop_commit(cpu, in->size);
	cpu_set_eflags(cpu, v, mask);
	cpu->eflags &= ~FLAG_RF;
	cpu->rip += in->len;
	return END_BLOCK;	/* IF or TF may have changed */
}

int op_sahf(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu_set_eflags(cpu, (uint32_t)reg_read(cpu, REG8_HIGH, 1),
		       FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF);
	return insn_done(cpu, in);
}

int op_lahf(struct tcg_cpu *cpu, const struct insn *in)
{
	reg_write(cpu, REG8_HIGH, 1, (cpu_get_eflags(cpu) & 0xd5) | FLAG_FIXED);
	return insn_done(cpu, in);
}

int op_flag_op(struct tcg_cpu *cpu, const struct insn *in)
{
	switch (in->op) {
	case 0: cpu_set_eflags(cpu, 0, FLAG_CF); break;
	case 1: cpu_set_eflags(cpu, FLAG_CF, FLAG_CF); break;
	case 2: cpu_set_eflags(cpu, cpu_get_cf(cpu) ? 0 : FLAG_CF, FLAG_CF); break;
	case 3: cpu->eflags &= ~FLAG_DF; break;
	default: cpu->eflags |= FLAG_DF; break;
	}
	return insn_done(cpu, in);
}

static bool iopl_allows(struct tcg_cpu *cpu)
{
	return !cpu->protected_mode || cpu->cpl <= ((cpu->eflags & FLAG_IOPL) >> 12);
}

int op_cli(struct tcg_cpu *cpu, const struct insn *in)
{
	if (!iopl_allows(cpu))
		cpu_raise_gp0(cpu);
	cpu->eflags &= ~FLAG_IF;
	return insn_done(cpu, in);
}

int op_sti(struct tcg_cpu *cpu, const struct insn *in)
{
	if (!iopl_allows(cpu))
		cpu_raise_gp0(cpu);
	/* Interrupts wait one more instruction (Vol. 2B "STI"). */
	if (!(cpu->eflags & FLAG_IF))
		cpu->interrupt_shadow = true;
	cpu->eflags |= FLAG_IF;
	cpu->rip += in->len;
	return END_BLOCK;
}

int op_setcc(struct tcg_cpu *cpu, const struct insn *in)
{
	rm_write(cpu, in, 1, cpu_condition(cpu, in->op));
	return insn_done(cpu, in);
}

int op_cmovcc(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->size);

	/* A 32-bit CMOV zero-extends even when the condition is false. */
	if (cpu_condition(cpu, in->op))
		reg_write(cpu, in->reg, in->size, v);
	else if (in->size == 4)
		reg_write(cpu, in->reg, 4, reg_read(cpu, in->reg, 4));
	return insn_done(cpu, in);
}

/* --- control flow --- */

/* The next RIP after a near branch, wrapped to the operand size outside 64-bit mode. */
static uint64_t branch_target(const struct tcg_cpu *cpu, const struct insn *in, uint64_t target)
{
	if (cpu->code64)
		return target;
	return in->size == 2 ? target & 0xffff : target & 0xffffffff;
}

int op_jcc(struct tcg_cpu *cpu, const struct insn *in)
{
	if (cpu_condition(cpu, in->op))
		cpu->rip = branch_target(cpu, in, cpu->rip + in->len + in->imm);
	else
		cpu->rip += in->len;
	return block_chain(cpu);
}

int op_jmp_rel(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu->rip = branch_target(cpu, in, cpu->rip + in->len + in->imm);
	return block_chain(cpu);
}

int op_call_rel(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t ret = cpu->rip + in->len;

	push(cpu, in->size, ret);
	cpu->rip = branch_target(cpu, in, ret + in->imm);
	return block_chain(cpu);
}

int op_jmp_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu->rip = branch_target(cpu, in, rm_read(cpu, in, in->size));
	return block_chain(cpu);
}

int op_call_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t target = rm_read(cpu, in, in->size);

	push(cpu, in->size, cpu->rip + in->len);
	cpu->rip = branch_target(cpu, in, target);
	return block_chain(cpu);
}

int op_ret(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t target = pop_peek(cpu, in->size, 0);

	pop_commit(cpu, in->size + (unsigned int)in->imm);
	cpu->rip = branch_target(cpu, in, target);
	return block_chain(cpu);
}

int op_loop(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int asize = in->asize;
	uint64_t count = reg_read(cpu, 1, asize);
	bool jump;

	if (in->op == 3) {
		jump = count == 0;	/* JCXZ / JECXZ / JRCXZ */
	} else {
		count = (count - 1) & size_mask(asize);
		reg_write(cpu, 1, asize, count);
		jump = count != 0;
		if (in->op == 0)
			jump = jump && !cpu_condition(cpu, 4);	/* LOOPNE: ZF = 0 */
		else if (in->op == 1)
			jump = jump && cpu_condition(cpu, 4);	/* LOOPE: ZF = 1 */
	}
	if (jump)
		cpu->rip = branch_target(cpu, in, cpu->rip + in->len + in->imm);
	else
		cpu->rip += in->len;
	return block_chain(cpu);
}

int op_enter(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size, level = in->imm2 & 31;
	uint64_t frame, bp = reg_read(cpu, 5, cpu->code64 ? 8 : stack_size(cpu));
	uint64_t sp = stack_pointer(cpu), smask = size_mask(stack_size(cpu));

	/* Build the frame with writes first, then move RBP/RSP (Vol. 2A "ENTER"). */
	sp = (sp - size) & smask;
	mem_write(cpu, SEG_SS, sp, size, reg_read(cpu, 5, size));
	frame = sp;
	for (unsigned int i = 1; i < level; i++) {
		bp = (bp - size) & size_mask(stack_size(cpu));
		sp = (sp - size) & smask;
		mem_write(cpu, SEG_SS, sp, size, mem_read(cpu, SEG_SS, bp, size));
	}
	if (level) {
		sp = (sp - size) & smask;
		mem_write(cpu, SEG_SS, sp, size, frame);
	}
	sp = (sp - in->imm) & smask;
	reg_write(cpu, 5, size, frame);
	stack_pointer_set(cpu, sp);
	return insn_done(cpu, in);
}

int op_leave(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t bp = cpu->code64 ? cpu->regs[5] : reg_read(cpu, 5, stack_size(cpu));
	uint64_t v = mem_read(cpu, SEG_SS, bp, in->size);

	stack_pointer_set(cpu, bp + in->size);
	reg_write(cpu, 5, in->size, v);
	return insn_done(cpu, in);
}

/* --- bit operations --- */

static int bit_op(struct tcg_cpu *cpu, const struct insn *in, int64_t offset, bool from_reg)
{
	unsigned int size = in->size, bits = size * 8;
	unsigned int bit = (unsigned int)(offset & (bits - 1));
	uint64_t mask = 1ULL << bit, a, r;
	struct rmw w;
	bool cf;

	if ((in->flags & INSN_MEM) && from_reg) {
		/* A register bit offset addresses a bit string around the operand. */
		int64_t words = offset >> (size == 8 ? 6 : size == 4 ? 5 : 4);
		uint64_t ea = (insn_ea(cpu, in) + (uint64_t)(words * (int64_t)size)) & size_mask(in->asize);

		w.linear = seg_linear(cpu, in->seg, ea, size, in->op ? ACCESS_WRITE : ACCESS_READ);
		if (in->op == 0) {
			a = lin_read(cpu, w.linear, size);
			cpu_set_eflags(cpu, (a & mask) ? FLAG_CF : 0, FLAG_CF);
			return insn_done(cpu, in);
		}
		w.host = mem_host_ptr(cpu, w.linear, size, ACCESS_WRITE);
		if (!w.host)
			mem_check_write(cpu, w.linear, size);
		a = w.host ? load_host(w.host, size) : mem_read_slow(cpu, w.linear, size);
	} else if (in->op == 0) {
		a = rm_read(cpu, in, size);
		cpu_set_eflags(cpu, (a & mask) ? FLAG_CF : 0, FLAG_CF);
		return insn_done(cpu, in);
	} else {
		a = rmw_begin(cpu, in, size, &w);
	}
	do {
		cf = a & mask;
		r = in->op == 1 ? a | mask : in->op == 2 ? a & ~mask : a ^ mask;
		if (!(in->flags & INSN_LOCK) || !(in->flags & INSN_MEM) || !w.host) {
			if (in->flags & INSN_MEM) {
				if (w.host)
					store_host(w.host, size, r);
				else
					mem_write_slow(cpu, w.linear, size, r);
			} else {
				reg_write(cpu, in->rm, size, r);
			}
			break;
		}
	} while (!cas(w.host, size, &a, r));
	cpu_set_eflags(cpu, cf ? FLAG_CF : 0, FLAG_CF);
	return insn_done(cpu, in);
}

int op_bt(struct tcg_cpu *cpu, const struct insn *in)
{
	return bit_op(cpu, in, sign_extend(reg_read(cpu, in->reg, in->size), in->size), true);
}

int op_bt_imm(struct tcg_cpu *cpu, const struct insn *in)
{
	return bit_op(cpu, in, (int64_t)(in->imm & (in->size * 8 - 1)), false);
}

int op_bsf(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->size);

	if (v == 0) {
		cpu_set_eflags(cpu, FLAG_ZF, FLAG_ZF);
	} else {
		reg_write(cpu, in->reg, in->size, (uint64_t)__builtin_ctzll(v));
		cpu_set_eflags(cpu, 0, FLAG_ZF);
	}
	return insn_done(cpu, in);
}

int op_bsr(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->size);

	if (v == 0) {
		cpu_set_eflags(cpu, FLAG_ZF, FLAG_ZF);
	} else {
		reg_write(cpu, in->reg, in->size, (uint64_t)(63 - __builtin_clzll(v)));
		cpu_set_eflags(cpu, 0, FLAG_ZF);
	}
	return insn_done(cpu, in);
}

int op_tzcnt(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->size);
	uint64_t n = v ? (uint64_t)__builtin_ctzll(v) : in->size * 8;

	reg_write(cpu, in->reg, in->size, n);
	cpu_set_eflags(cpu, (v == 0 ? FLAG_CF : 0) | (n == 0 ? FLAG_ZF : 0), FLAG_CF | FLAG_ZF);
	return insn_done(cpu, in);
}

int op_lzcnt(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->size);
	uint64_t n = v ? (uint64_t)(__builtin_clzll(v) - (64 - in->size * 8)) : in->size * 8;

	reg_write(cpu, in->reg, in->size, n);
	cpu_set_eflags(cpu, (v == 0 ? FLAG_CF : 0) | (n == 0 ? FLAG_ZF : 0), FLAG_CF | FLAG_ZF);
	return insn_done(cpu, in);
}

int op_popcnt(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->size);

	reg_write(cpu, in->reg, in->size, (uint64_t)__builtin_popcountll(v));
	cpu_set_eflags(cpu, v == 0 ? FLAG_ZF : 0, FLAGS_ARITH);
	return insn_done(cpu, in);
}

int op_bswap(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = reg_read(cpu, in->rm, in->size);

	if (in->size == 8)
		v = __builtin_bswap64(v);
	else if (in->size == 4)
		v = __builtin_bswap32((uint32_t)v);
	else
		v = 0;	/* BSWAP of a 16-bit register is undefined; CPUs give 0 */
	reg_write(cpu, in->rm, in->size, v);
	return insn_done(cpu, in);
}

int op_cmpxchg(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t acc = reg_read(cpu, 0, size), src = reg_read(cpu, in->reg, size), old;
	struct rmw w;
	struct cc cc;

	old = rmw_begin(cpu, in, size, &w);
	if ((in->flags & INSN_MEM) && w.host) {
		uint64_t expected = acc;

		cas(w.host, size, &expected, src);
		old = expected;
	} else if (in->flags & INSN_MEM) {
		/* Memory is written either way (with its old value on mismatch). */
		rmw_commit(cpu, in, size, &w, old == acc ? src : old);
	} else if (old == acc) {
		/* A register is written only on a match: a 32-bit miss keeps its upper half. */
		rmw_commit(cpu, in, size, &w, src);
	}
	alu(cpu, 7, size, acc, old, &cc);
	cc_apply(cpu, &cc);
	if (old != acc)
		reg_write(cpu, 0, size, old);
	return insn_done(cpu, in);
}

int op_cmpxchg8b(struct tcg_cpu *cpu, const struct insn *in)
{
	bool wide = in->size == 8;
	unsigned int size = wide ? 16 : 8;
	uint64_t lin;
	void *p;
	bool equal;

	if (!(in->flags & INSN_MEM))
		cpu_raise_ud(cpu);
	lin = seg_linear(cpu, in->seg, insn_ea(cpu, in), size, ACCESS_WRITE);
	if (wide && (lin & 15))
		cpu_raise_gp0(cpu);
	p = mem_host_ptr(cpu, lin, size, ACCESS_WRITE);
	if (wide) {
		unsigned __int128 expected = ((unsigned __int128)cpu->regs[2] << 64) | cpu->regs[0];
		unsigned __int128 desired = ((unsigned __int128)cpu->regs[1] << 64) | cpu->regs[3];
		unsigned __int128 old;

		if (p) {
			uint64_t lo = (uint64_t)expected, hi = (uint64_t)(expected >> 64);

			__asm__ volatile("lock cmpxchg16b %0"
					 : "+m"(*(unsigned __int128 *)p), "+a"(lo), "+d"(hi)
					 : "b"((uint64_t)desired), "c"((uint64_t)(desired >> 64))
					 : "memory", "cc");
			old = ((unsigned __int128)hi << 64) | lo;
		} else {
			mem_check_write(cpu, lin, 16);
			old = mem_read_slow(cpu, lin, 8) | ((unsigned __int128)mem_read_slow(cpu, lin + 8, 8) << 64);
			if (old == expected) {
				mem_write_slow(cpu, lin, 8, (uint64_t)desired);
				mem_write_slow(cpu, lin + 8, 8, (uint64_t)(desired >> 64));
			}
		}
		equal = old == expected;
		if (!equal) {
			cpu->regs[0] = (uint64_t)old;
			cpu->regs[2] = (uint64_t)(old >> 64);
		}
	} else {
		uint64_t expected = (reg_read(cpu, 2, 4) << 32) | reg_read(cpu, 0, 4);
		uint64_t desired = (reg_read(cpu, 1, 4) << 32) | reg_read(cpu, 3, 4);
		uint64_t old = expected;

		if (p) {
			cas(p, 8, &old, desired);
		} else {
			mem_check_write(cpu, lin, 8);
			old = mem_read_slow(cpu, lin, 8);
			if (old == expected)
				mem_write_slow(cpu, lin, 8, desired);
		}
		equal = old == expected;
		if (!equal) {
			reg_write(cpu, 0, 4, old & 0xffffffff);
			reg_write(cpu, 2, 4, old >> 32);
		}
	}
	cpu_set_eflags(cpu, equal ? FLAG_ZF : 0, FLAG_ZF);
	return insn_done(cpu, in);
}

int op_xadd(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t src = reg_read(cpu, in->reg, size), old, r;
	struct rmw w;
	struct cc cc;

	old = rmw_begin(cpu, in, size, &w);
	if ((in->flags & INSN_LOCK) && w.host) {
		do
			r = alu(cpu, 0, size, old, src, &cc);
		while (!cas(w.host, size, &old, r));
	} else {
		r = alu(cpu, 0, size, old, src, &cc);
		rmw_commit(cpu, in, size, &w, r);
	}
	/* The source register gets the old value; for XADD reg,reg the destination wins. */
	reg_write(cpu, in->reg, size, old);
	if (!(in->flags & INSN_MEM))
		reg_write(cpu, in->rm, size, r);
	cc_apply(cpu, &cc);
	return insn_done(cpu, in);
}

int op_xlat(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t ea = (reg_read(cpu, 3, in->asize) + reg_read(cpu, 0, 1)) & size_mask(in->asize);

	reg_write(cpu, 0, 1, mem_read(cpu, in->seg, ea, 1));
	return insn_done(cpu, in);
}

/* --- strings --- */

/*
 * A REP string instruction runs at most this many iterations per execution,
 * then ends the block with RIP still on it, so interrupts get a chance and
 * the instruction continues where it stopped (as hardware does).
 */
#define REP_CHUNK	4096

static int64_t string_step(const struct tcg_cpu *cpu, unsigned int size)
{
	return (cpu->eflags & FLAG_DF) ? -(int64_t)size : (int64_t)size;
}

static uint64_t areg(const struct tcg_cpu *cpu, unsigned int r, unsigned int asize)
{
	return reg_read(cpu, r, asize);
}

static void areg_add(struct tcg_cpu *cpu, unsigned int r, unsigned int asize, int64_t delta)
{
	reg_write(cpu, r, asize, areg(cpu, r, asize) + (uint64_t)delta);
}

/* Iterations to run now; 0 when a REP count is already zero. */
static uint64_t rep_iterations(const struct tcg_cpu *cpu, const struct insn *in)
{
	if (!(in->flags & (INSN_REP | INSN_REPNE)))
		return 1;
	return MIN(areg(cpu, 1, in->asize), REP_CHUNK);
}

/* After a chunk: finish, or stay on the instruction for another round. */
static int rep_finish(struct tcg_cpu *cpu, const struct insn *in, bool stopped_by_flags)
{
	if ((in->flags & (INSN_REP | INSN_REPNE)) && !stopped_by_flags && areg(cpu, 1, in->asize) != 0)
		return END_BLOCK;
	cpu->rip += in->len;
	return (in->flags & (INSN_REP | INSN_REPNE)) ? END_BLOCK : insn_next(cpu, in);
}

/*
 * Fast path for REP MOVS: copies up to n elements forward within one page on
 * each side with memmove; returns how many it copied (0: take the slow path).
 */
static uint64_t block_copy(struct tcg_cpu *cpu, const struct insn *in, uint64_t n)
{
	unsigned int size = in->size;
	uint64_t src, dst, room;
	uint8_t *s, *d;

	if (n < 2 || in->asize != 8 || (cpu->eflags & FLAG_DF) || cpu->alignment_check)
		return 0;
	src = seg_linear(cpu, in->seg, cpu->regs[6], size, ACCESS_READ);
	dst = seg_linear(cpu, SEG_ES, cpu->regs[7], size, ACCESS_WRITE);
	room = MIN(0x1000 - (src & 0xfff), 0x1000 - (dst & 0xfff)) / size;
	n = MIN(n, room);
	if (n < 2)
		return 0;
	s = mem_host_ptr(cpu, src, (unsigned int)(n * size), ACCESS_READ);
	d = mem_host_ptr(cpu, dst, (unsigned int)(n * size), ACCESS_WRITE);
	/* MMIO, or an overlap where element-by-element copying replicates. */
	if (!s || !d || (d > s && d < s + n * size))
		return 0;
	memmove(d, s, n * size);
	cpu->regs[6] += n * size;
	cpu->regs[7] += n * size;
	if (in->flags & (INSN_REP | INSN_REPNE))
		cpu->regs[1] -= n;
	return n;
}

int op_movs(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	int64_t step = string_step(cpu, size);
	uint64_t n = rep_iterations(cpu, in);

	while (n) {
		uint64_t copied = block_copy(cpu, in, n);

		if (copied) {
			n -= copied;
			continue;
		}
		uint64_t v = mem_read(cpu, in->seg, areg(cpu, 6, in->asize), size);

		mem_write(cpu, SEG_ES, areg(cpu, 7, in->asize), size, v);
		areg_add(cpu, 6, in->asize, step);
		areg_add(cpu, 7, in->asize, step);
		if (in->flags & (INSN_REP | INSN_REPNE))
			areg_add(cpu, 1, in->asize, -1);
		n--;
	}
	return rep_finish(cpu, in, false);
}

int op_stos(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	int64_t step = string_step(cpu, size);
	uint64_t n = rep_iterations(cpu, in), v = reg_read(cpu, 0, size);

	while (n) {
		uint64_t dst = seg_linear(cpu, SEG_ES, areg(cpu, 7, in->asize), size, ACCESS_WRITE);
		uint64_t room = (0x1000 - (dst & 0xfff)) / size;
		uint8_t *d;

		if (n > 1 && room > 1 && in->asize == 8 && !(cpu->eflags & FLAG_DF) && !cpu->alignment_check &&
		    (d = mem_host_ptr(cpu, dst, (unsigned int)(MIN(n, room) * size), ACCESS_WRITE))) {
			uint64_t k = MIN(n, room);

			if (size == 1) {
				memset(d, (int)v, k);
			} else {
				for (uint64_t i = 0; i < k; i++)
					store_host(d + i * size, size, v);
			}
			cpu->regs[7] += k * size;
			if (in->flags & (INSN_REP | INSN_REPNE))
				cpu->regs[1] -= k;
			n -= k;
			continue;
		}
		lin_write(cpu, dst, size, v);
		areg_add(cpu, 7, in->asize, step);
		if (in->flags & (INSN_REP | INSN_REPNE))
			areg_add(cpu, 1, in->asize, -1);
		n--;
	}
	return rep_finish(cpu, in, false);
}

int op_lods(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	int64_t step = string_step(cpu, size);
	uint64_t n = rep_iterations(cpu, in);

	while (n--) {
		uint64_t v = mem_read(cpu, in->seg, areg(cpu, 6, in->asize), size);

		reg_write(cpu, 0, size, v);
		areg_add(cpu, 6, in->asize, step);
		if (in->flags & (INSN_REP | INSN_REPNE))
			areg_add(cpu, 1, in->asize, -1);
	}
	return rep_finish(cpu, in, false);
}

/* CMPS/SCAS: REPE stops when ZF = 0, REPNE when ZF = 1. */
static bool rep_stops(const struct insn *in, bool zf)
{
	if (in->flags & INSN_REP)
		return !zf;
	if (in->flags & INSN_REPNE)
		return zf;
	return false;
}

int op_cmps(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	int64_t step = string_step(cpu, size);
	uint64_t n = rep_iterations(cpu, in);
	bool stopped = false;

	while (n-- && !stopped) {
		uint64_t a = mem_read(cpu, in->seg, areg(cpu, 6, in->asize), size);
		uint64_t b = mem_read(cpu, SEG_ES, areg(cpu, 7, in->asize), size);
		uint64_t r = alu_compute(cpu, 7, size, a, b);

		areg_add(cpu, 6, in->asize, step);
		areg_add(cpu, 7, in->asize, step);
		if (in->flags & (INSN_REP | INSN_REPNE))
			areg_add(cpu, 1, in->asize, -1);
		stopped = rep_stops(in, r == 0);
	}
	return rep_finish(cpu, in, stopped);
}

int op_scas(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	int64_t step = string_step(cpu, size);
	uint64_t n = rep_iterations(cpu, in), a = reg_read(cpu, 0, size);
	bool stopped = false;

	while (n-- && !stopped) {
		uint64_t b = mem_read(cpu, SEG_ES, areg(cpu, 7, in->asize), size);
		uint64_t r = alu_compute(cpu, 7, size, a, b);

		areg_add(cpu, 7, in->asize, step);
		if (in->flags & (INSN_REP | INSN_REPNE))
			areg_add(cpu, 1, in->asize, -1);
		stopped = rep_stops(in, r == 0);
	}
	return rep_finish(cpu, in, stopped);
}

/* --- port I/O --- */

/*
 * Protected mode with CPL > IOPL (or virtual-8086 mode) needs the TSS I/O
 * permission bitmap to allow every byte of the access (Vol. 1 §19.5.2).
 */
static void io_check(struct tcg_cpu *cpu, uint16_t port, unsigned int size)
{
	const struct segment *tr = &cpu->seg[SEG_TR];
	uint64_t bitmap, bits;
	unsigned int type = tr->flags & DESC_TYPE_MASK;

	if (!cpu->protected_mode || (!(cpu->eflags & FLAG_VM) && iopl_allows(cpu)))
		return;
	if ((type != 9 && type != 11) || tr->limit < 0x67)
		cpu_raise_gp0(cpu);
	bitmap = sys_read(cpu, tr->base + 0x66, 2);
	if (bitmap + port / 8 + 1 > tr->limit)
		cpu_raise_gp0(cpu);
	bits = sys_read(cpu, tr->base + bitmap + port / 8, 2);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		cpu_raise_gp0(cpu);
}

int op_in(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t port = in->op ? (uint16_t)cpu->regs[2] : (uint16_t)in->imm;

	io_check(cpu, port, in->size);
	reg_write(cpu, 0, in->size, io_read(cpu, port, in->size));
	cpu->rip += in->len;
	return END_BLOCK;
}

int op_out(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t port = in->op ? (uint16_t)cpu->regs[2] : (uint16_t)in->imm;

	io_check(cpu, port, in->size);
	io_write(cpu, port, in->size, reg_read(cpu, 0, in->size));
	cpu->rip += in->len;
	return END_BLOCK;
}

int op_ins(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint16_t port = (uint16_t)cpu->regs[2];
	int64_t step = string_step(cpu, size);
	uint64_t n = rep_iterations(cpu, in);

	io_check(cpu, port, size);
	while (n--) {
		uint64_t dst = seg_linear(cpu, SEG_ES, areg(cpu, 7, in->asize), size, ACCESS_WRITE);

		/* Translate before the port is read: a port read has side effects. */
		if (!mem_host_ptr(cpu, dst, size, ACCESS_WRITE))
			mmu_translate(cpu, dst, ACCESS_WRITE, cpu->cpl == 3);
		lin_write(cpu, dst, size, io_read(cpu, port, size));
		areg_add(cpu, 7, in->asize, step);
		if (in->flags & (INSN_REP | INSN_REPNE))
			areg_add(cpu, 1, in->asize, -1);
	}
	rep_finish(cpu, in, false);
	return END_BLOCK;
}

int op_outs(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint16_t port = (uint16_t)cpu->regs[2];
	int64_t step = string_step(cpu, size);
	uint64_t n = rep_iterations(cpu, in);

	io_check(cpu, port, size);
	while (n--) {
		uint64_t v = mem_read(cpu, in->seg, areg(cpu, 6, in->asize), size);

		io_write(cpu, port, size, v);
		areg_add(cpu, 6, in->asize, step);
		if (in->flags & (INSN_REP | INSN_REPNE))
			areg_add(cpu, 1, in->asize, -1);
	}
	rep_finish(cpu, in, false);
	return END_BLOCK;
}

/* --- legacy-mode only: BCD adjustment, BOUND, ARPL, SALC --- */

static void set_szp_from_al(struct tcg_cpu *cpu, uint32_t keep_mask, uint32_t flags)
{
	uint8_t al = (uint8_t)cpu->regs[0];

	flags |= (al == 0 ? FLAG_ZF : 0) | ((al & 0x80) ? FLAG_SF : 0) |
		 (__builtin_parity(al) ? 0 : FLAG_PF);
	cpu_set_eflags(cpu, flags, FLAGS_ARITH & ~keep_mask);
}

int op_daa_das(struct tcg_cpu *cpu, const struct insn *in)
{
	uint32_t f = cpu_get_eflags(cpu);
	uint8_t al = (uint8_t)cpu->regs[0], old_al = al;
	bool cf = f & FLAG_CF, af = false;
	bool sub = in->op;

	/* Intel SDM Vol. 2A "DAA"/"DAS". */
	if ((al & 0xf) > 9 || (f & FLAG_AF)) {
		cf = cf || (sub ? al < 6 : al > 0xf9);
		al = (uint8_t)(sub ? al - 6 : al + 6);
		af = true;
	}
	if (old_al > 0x99 || (f & FLAG_CF)) {
		al = (uint8_t)(sub ? al - 0x60 : al + 0x60);
		cf = true;
	}
	reg_write(cpu, 0, 1, al);
	set_szp_from_al(cpu, FLAG_OF, (cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0));
	return insn_done(cpu, in);
}

int op_aaa_aas(struct tcg_cpu *cpu, const struct insn *in)
{
	uint32_t f = cpu_get_eflags(cpu);
	uint16_t ax = (uint16_t)cpu->regs[0];
	bool adjust = (ax & 0xf) > 9 || (f & FLAG_AF);

	if (adjust) {
		if (in->op)	/* AAS */
			ax = (uint16_t)(((ax - 6) & 0xff) | ((ax - 0x100) & 0xff00));
		else		/* AAA */
			ax = (uint16_t)(ax + 0x106);
	}
	reg_write(cpu, 0, 2, ax & 0xff0f);
	cpu_set_eflags(cpu, adjust ? FLAG_CF | FLAG_AF : 0, FLAG_CF | FLAG_AF);
	return insn_done(cpu, in);
}

int op_aam(struct tcg_cpu *cpu, const struct insn *in)
{
	uint8_t base = (uint8_t)in->imm, al = (uint8_t)cpu->regs[0];

	if (base == 0)
		cpu_raise(cpu, EXC_DE, 0);
	reg_write(cpu, REG8_HIGH, 1, al / base);
	reg_write(cpu, 0, 1, al % base);
	set_szp_from_al(cpu, 0, 0);
	return insn_done(cpu, in);
}

int op_aad(struct tcg_cpu *cpu, const struct insn *in)
{
	uint8_t base = (uint8_t)in->imm;
	uint8_t al = (uint8_t)(reg_read(cpu, 0, 1) + reg_read(cpu, REG8_HIGH, 1) * base);

	reg_write(cpu, 0, 2, al);
	set_szp_from_al(cpu, 0, 0);
	return insn_done(cpu, in);
}

int op_salc(struct tcg_cpu *cpu, const struct insn *in)
{
	reg_write(cpu, 0, 1, cpu_get_cf(cpu) ? 0xff : 0);
	return insn_done(cpu, in);
}

int op_bound(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t ea;
	int64_t index, lower, upper;

	if (!(in->flags & INSN_MEM))
		cpu_raise_ud(cpu);
	ea = insn_ea(cpu, in);
	index = sign_extend(reg_read(cpu, in->reg, size), size);
	lower = sign_extend(mem_read(cpu, in->seg, ea, size), size);
	upper = sign_extend(mem_read(cpu, in->seg, (ea + size) & size_mask(in->asize), size), size);
	if (index < lower || index > upper)
		cpu_raise(cpu, EXC_BR, 0);
	return insn_done(cpu, in);
}

int op_arpl(struct tcg_cpu *cpu, const struct insn *in)
{
	struct rmw w;
	uint16_t dst, src = (uint16_t)reg_read(cpu, in->reg, 2);

	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM))
		cpu_raise_ud(cpu);
	dst = (uint16_t)rmw_begin(cpu, in, 2, &w);
	if ((dst & 3) < (src & 3)) {
		rmw_commit(cpu, in, 2, &w, (dst & ~3u) | (src & 3));
		cpu_set_eflags(cpu, FLAG_ZF, FLAG_ZF);
	} else {
		cpu_set_eflags(cpu, 0, FLAG_ZF);
	}
	return insn_done(cpu, in);
}

/* --- traps and halts --- */

int op_ud(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu_raise_ud(cpu);
}

int op_int3(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu_deliver_event(cpu, EXC_BP, EVENT_SOFTWARE, false, 0, cpu->rip + in->len);
	return END_BLOCK;
}

int op_int(struct tcg_cpu *cpu, const struct insn *in)
{
	if ((cpu->eflags & FLAG_VM) && ((cpu->eflags & FLAG_IOPL) >> 12) < 3)
		cpu_raise_gp0(cpu);
	cpu_deliver_event(cpu, (int)(in->imm & 0xff), EVENT_SOFTWARE, false, 0, cpu->rip + in->len);
	return END_BLOCK;
}

int op_into(struct tcg_cpu *cpu, const struct insn *in)
{
	if (!cpu_condition(cpu, 0))
		return insn_done(cpu, in);
	cpu_deliver_event(cpu, EXC_OF, EVENT_SOFTWARE, false, 0, cpu->rip + in->len);
	return END_BLOCK;
}

int op_int1(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu_deliver_event(cpu, EXC_DB, EVENT_ICEBP, false, 0, cpu->rip + in->len);
	return END_BLOCK;
}

int op_hlt(struct tcg_cpu *cpu, const struct insn *in)
{
	if (cpu->protected_mode && cpu->cpl != 0)
		cpu_raise_gp0(cpu);
	cpu->halted = true;
	cpu->rip += in->len;
	return END_BLOCK;
}

int op_end_block(struct tcg_cpu *cpu, const struct insn *in)
{
	return block_chain(cpu);
}

int op_crosses_page(struct tcg_cpu *cpu, const struct insn *in)
{
	return block_chain(cpu);
}
