/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lazy arithmetic flags: instructions record the operation and operands
 * (cc_set); CF, PF, AF, ZF, SF and OF are computed here only when something
 * reads them (Intel SDM Vol. 1 §3.4.3.1 and each instruction's "Flags
 * Affected").
 */
#include "cpu.h"

static uint32_t parity_flag(uint64_t result)
{
	return __builtin_parity((unsigned int)(result & 0xff)) ? 0 : FLAG_PF;
}

static uint32_t compute_arith(const struct tcg_cpu *cpu)
{
	unsigned int size = cpu->cc_size;
	uint64_t mask, sign, res, src, op1;
	uint32_t f = 0;
	bool carry;

	if (cpu->cc_op == CC_EFLAGS)
		return cpu->eflags & FLAGS_ARITH;
	mask = size_mask(size);
	sign = sign_bit(size);
	res = cpu->cc_dst & mask;
	src = cpu->cc_src & mask;
	switch (cpu->cc_op) {
	case CC_EFLAGS:
		break;
	case CC_ADD:
		op1 = (res - src) & mask;
		if (res < src)
			f |= FLAG_CF;
		if ((op1 ^ res) & (src ^ res) & sign)
			f |= FLAG_OF;
		f |= (uint32_t)((op1 ^ src ^ res) & FLAG_AF);
		break;
	case CC_ADC:
		carry = cpu->cc_src2 & 1;
		op1 = (res - src - carry) & mask;
		if (carry ? res <= src : res < src)
			f |= FLAG_CF;
		if ((op1 ^ res) & (src ^ res) & sign)
			f |= FLAG_OF;
		f |= (uint32_t)((op1 ^ src ^ res) & FLAG_AF);
		break;
	case CC_SUB:
		op1 = (res + src) & mask;
		if (op1 < src)
			f |= FLAG_CF;
		if ((op1 ^ src) & (op1 ^ res) & sign)
			f |= FLAG_OF;
		f |= (uint32_t)((op1 ^ src ^ res) & FLAG_AF);
		break;
	case CC_SBB:
		carry = cpu->cc_src2 & 1;
		op1 = (res + src + carry) & mask;
		if (carry ? op1 <= src : op1 < src)
			f |= FLAG_CF;
		if ((op1 ^ src) & (op1 ^ res) & sign)
			f |= FLAG_OF;
		f |= (uint32_t)((op1 ^ src ^ res) & FLAG_AF);
		break;
	case CC_LOGIC:
		break;
	case CC_INC:
		f |= (uint32_t)(cpu->cc_src2 & FLAG_CF);
		if (res == sign)
			f |= FLAG_OF;
		if ((res & 0xf) == 0)
			f |= FLAG_AF;
		break;
	case CC_DEC:
		f |= (uint32_t)(cpu->cc_src2 & FLAG_CF);
		if (res == sign - 1)
			f |= FLAG_OF;
		if ((res & 0xf) == 0xf)
			f |= FLAG_AF;
		break;
	case CC_NEG:
		if (src != 0)
			f |= FLAG_CF;
		if (src == sign)
			f |= FLAG_OF;
		f |= (uint32_t)((src ^ res) & FLAG_AF);
		break;
	case CC_SHL:
	case CC_SAR:
	case CC_SHR:
		f |= (uint32_t)(cpu->cc_src & FLAG_CF);
		if (cpu->cc_src2)
			f |= FLAG_OF;
		break;
	case CC_MUL:
		if (cpu->cc_src)
			f |= FLAG_CF | FLAG_OF;
		break;
	}
	if (res == 0)
		f |= FLAG_ZF;
	if (res & sign)
		f |= FLAG_SF;
	return f | parity_flag(res);
}

uint32_t cpu_get_eflags(struct tcg_cpu *cpu)
{
	return (cpu->eflags & ~FLAGS_ARITH) | compute_arith(cpu) | FLAG_FIXED;
}

void cpu_set_eflags(struct tcg_cpu *cpu, uint32_t value, uint32_t mask)
{
	uint32_t current = cpu_get_eflags(cpu);

	cpu->eflags = ((current & ~mask) | (value & mask)) | FLAG_FIXED;
	cpu->cc_op = CC_EFLAGS;
	if (mask & FLAG_AC)
		cpu_update_alignment_check(cpu);
}

bool cpu_get_cf(struct tcg_cpu *cpu)
{
	switch (cpu->cc_op) {
	case CC_EFLAGS:
		return cpu->eflags & FLAG_CF;
	case CC_LOGIC:
		return false;
	case CC_INC:
	case CC_DEC:
		return cpu->cc_src2 & FLAG_CF;
	case CC_SHL:
	case CC_SHR:
	case CC_SAR:
		return cpu->cc_src & 1;
	case CC_SUB: {
		uint64_t mask = size_mask(cpu->cc_size);

		return ((cpu->cc_dst + cpu->cc_src) & mask) < (cpu->cc_src & mask);
	}
	case CC_ADD: {
		uint64_t mask = size_mask(cpu->cc_size);

		return (cpu->cc_dst & mask) < (cpu->cc_src & mask);
	}
	default:
		return compute_arith(cpu) & FLAG_CF;
	}
}

/* Jcc/SETcc/CMOVcc conditions (Vol. 1 Appendix B, Table B-1). */
bool cpu_condition(struct tcg_cpu *cpu, unsigned int cc)
{
	uint32_t f;
	bool r;

	/* ZF and SF come from the result for every lazy operation. */
	if (cpu->cc_op != CC_EFLAGS) {
		uint64_t mask = size_mask(cpu->cc_size);
		uint64_t res = cpu->cc_dst & mask;

		switch (cc >> 1) {
		case 2:	/* E / NE */
			r = res == 0;
			return (cc & 1) ? !r : r;
		case 4:	/* S / NS */
			r = res & sign_bit(cpu->cc_size);
			return (cc & 1) ? !r : r;
		case 1:	/* B / AE */
			r = cpu_get_cf(cpu);
			return (cc & 1) ? !r : r;
		default:
			break;
		}
		if (cpu->cc_op == CC_SUB) {
			uint64_t src = cpu->cc_src & mask, op1 = (res + src) & mask;
			int64_t s1 = sign_extend(op1, cpu->cc_size), s2 = sign_extend(src, cpu->cc_size);

			switch (cc >> 1) {
			case 3:	r = op1 <= src; break;		/* BE / A */
			case 6:	r = s1 < s2; break;		/* L / GE */
			case 7:	r = s1 <= s2; break;		/* LE / G */
			default: goto slow;
			}
			return (cc & 1) ? !r : r;
		}
	}
slow:
	f = cpu_get_eflags(cpu);
	switch (cc >> 1) {
	case 0: r = f & FLAG_OF; break;
	case 1: r = f & FLAG_CF; break;
	case 2: r = f & FLAG_ZF; break;
	case 3: r = f & (FLAG_CF | FLAG_ZF); break;
	case 4: r = f & FLAG_SF; break;
	case 5: r = f & FLAG_PF; break;
	case 6: r = !!(f & FLAG_SF) != !!(f & FLAG_OF); break;
	default: r = (f & FLAG_ZF) || (!!(f & FLAG_SF) != !!(f & FLAG_OF)); break;
	}
	return (cc & 1) ? !r : r;
}
