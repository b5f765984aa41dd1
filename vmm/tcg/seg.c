/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Segmentation (Intel SDM Vol. 3A ch. 3 and ch. 5): descriptor loads with
 * their protection checks, and linear addresses with limit checks in the
 * legacy modes.  64-bit mode ignores base and limit except for FS and GS.
 */
#include "cpu.h"

#define SELECTOR_TI	0x4
#define SELECTOR_RPL	0x3

bool seg_read_descriptor(struct tcg_cpu *cpu, uint16_t selector, uint64_t *descriptor)
{
	uint64_t base, limit, offset = selector & ~7u;

	if (selector & SELECTOR_TI) {
		if (cpu->seg[SEG_LDTR].flags & DESC_UNUSABLE || !(cpu->seg[SEG_LDTR].selector & ~3))
			return false;
		base = cpu->seg[SEG_LDTR].base;
		limit = cpu->seg[SEG_LDTR].limit;
	} else {
		base = cpu->gdtr.base;
		limit = cpu->gdtr.limit;
	}
	if (offset + 7 > limit)
		return false;
	*descriptor = sys_read(cpu, base + offset, 8);
	return true;
}

void seg_from_descriptor(struct segment *s, uint16_t selector, uint64_t d)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

	s->selector = selector;
	s->base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
	s->flags = (uint16_t)((d >> 40) & 0xf0ff);
	s->limit = (s->flags & DESC_G) ? (limit << 12) | 0xfff : limit;
}

void seg_set_accessed(struct tcg_cpu *cpu, uint16_t selector, uint64_t d)
{
	uint64_t base = (selector & SELECTOR_TI) ? cpu->seg[SEG_LDTR].base : cpu->gdtr.base;

	if (!(d & (1ULL << 40)))
		sys_write(cpu, base + (selector & ~7u) + 5, 1, ((d >> 40) & 0xff) | 1);
}

void seg_load_real(struct tcg_cpu *cpu, unsigned int seg, uint16_t selector)
{
	struct segment *s = &cpu->seg[seg];

	s->selector = selector;
	s->base = (uint64_t)selector << 4;
	/* Real and virtual-8086 mode loads keep the hidden limit and attributes,
	 * except that they become a present, usable, accessed segment. */
	s->flags = (uint16_t)((s->flags & ~DESC_UNUSABLE) | DESC_P | DESC_S | DESC_ACCESSED);
	if (cpu->eflags & FLAG_VM) {
		s->limit = 0xffff;
		s->flags = DESC_P | DESC_S | DESC_WRITABLE | DESC_ACCESSED | (3 << DESC_DPL_SHIFT) |
			   (seg == SEG_CS ? DESC_CODE : 0);
	}
	cpu_update_mode(cpu);
}

void seg_load(struct tcg_cpu *cpu, unsigned int seg, uint16_t selector)
{
	unsigned int rpl = selector & SELECTOR_RPL, cpl = cpu->cpl, dpl;
	struct segment *s = &cpu->seg[seg];
	uint64_t d;
	uint16_t type;

	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM)) {
		seg_load_real(cpu, seg, selector);
		return;
	}
	if ((selector & ~3u) == 0) {
		/* Null selector: fine for data segments; SS only at CPL < 3 in 64-bit mode. */
		if (seg == SEG_SS && !(cpu->code64 && cpl != 3 && rpl == cpl))
			cpu_raise_gp0(cpu);
		s->selector = selector;
		s->base = 0;
		s->limit = 0;
		s->flags = DESC_UNUSABLE | (seg == SEG_SS ? (uint16_t)(cpl << DESC_DPL_SHIFT) : 0);
		cpu_update_mode(cpu);
		return;
	}
	if (!seg_read_descriptor(cpu, selector, &d))
		cpu_raise(cpu, EXC_GP, selector & ~3u);
	type = (uint16_t)((d >> 40) & 0x1f);	/* S + type */
	dpl = (d >> 45) & 3;
	if (seg == SEG_SS) {
		/* Writable data, RPL = DPL = CPL (Vol. 3A §5.7). */
		if ((type & (DESC_S | DESC_CODE | DESC_WRITABLE)) != (DESC_S | DESC_WRITABLE) ||
		    rpl != cpl || dpl != cpl)
			cpu_raise(cpu, EXC_GP, selector & ~3u);
		if (!(d & (1ULL << 47)))
			cpu_raise(cpu, EXC_SS, selector & ~3u);
	} else {
		/* Data, or readable code (Vol. 3A §5.6). */
		if (!(type & DESC_S) || (type & (DESC_CODE | DESC_READABLE)) == DESC_CODE)
			cpu_raise(cpu, EXC_GP, selector & ~3u);
		if ((!(type & DESC_CODE) || !(type & DESC_CONFORMING)) && (dpl < cpl || dpl < rpl))
			cpu_raise(cpu, EXC_GP, selector & ~3u);
		if (!(d & (1ULL << 47)))
			cpu_raise(cpu, EXC_NP, selector & ~3u);
	}
	seg_set_accessed(cpu, selector, d);
	seg_from_descriptor(s, selector, d | (1ULL << 40));
	cpu_update_mode(cpu);
}

void seg_raise_stack_noncanonical(struct tcg_cpu *cpu)
{
	cpu_raise(cpu, EXC_SS, 0);
}

static __attribute__((noreturn)) void segment_fault(struct tcg_cpu *cpu, unsigned int seg)
{
	cpu_raise(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
}

uint64_t seg_linear_slow(struct tcg_cpu *cpu, unsigned int seg, uint64_t offset, unsigned int size,
			 enum access access)
{
	const struct segment *s = &cpu->seg[seg];
	uint64_t last;

	if (cpu->code64)
		return seg >= SEG_FS ? s->base + offset : offset;
	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM)) {
		/* Real mode: the cached limit still applies (64 KiB normally). */
		if (offset + size - 1 > s->limit)
			segment_fault(cpu, seg);
		return (s->base + offset) & 0xffffffff;
	}
	if (s->flags & DESC_UNUSABLE)
		segment_fault(cpu, seg);
	if ((s->flags & DESC_CODE) && seg != SEG_CS) {
		if (access == ACCESS_WRITE || !(s->flags & DESC_READABLE))
			segment_fault(cpu, seg);
	} else if (!(s->flags & DESC_CODE) && access == ACCESS_WRITE && !(s->flags & DESC_WRITABLE)) {
		segment_fault(cpu, seg);
	}
	last = offset + size - 1;
	if (!(s->flags & DESC_CODE) && (s->flags & DESC_EXPAND_DOWN)) {
		uint64_t upper = (s->flags & DESC_DB) ? 0xffffffff : 0xffff;

		if (offset <= s->limit || last > upper)
			segment_fault(cpu, seg);
	} else if (last > s->limit) {
		segment_fault(cpu, seg);
	}
	return (s->base + offset) & 0xffffffff;
}
