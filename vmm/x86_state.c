/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "x86_state.h"

#include <string.h>

static struct x86_segment real_mode_segment(uint16_t selector, uint8_t type)
{
	return (struct x86_segment){
		.base = (uint64_t)selector << 4, .limit = 0xffff, .selector = selector,
		.type = type, .present = true, .s = true,
	};
}

void x86_cpu_state_init_reset(struct x86_cpu_state *state)
{
	memset(state, 0, sizeof(*state));
	state->rflags = X86_RFLAGS_FIXED;
	state->rip = 0xfff0;
	state->cs = real_mode_segment(0xf000, X86_SEG_TYPE_CODE_RX_ACCESSED);
	state->cs.base = 0xffff0000;
	state->ds = real_mode_segment(0, X86_SEG_TYPE_DATA_RW_ACCESSED);
	state->es = state->fs = state->gs = state->ss = state->ds;
	state->gdt.limit = state->idt.limit = 0xffff;
	state->ldt = (struct x86_segment){ .limit = 0xffff, .type = X86_SEG_TYPE_LDT, .present = true };
	state->tr = (struct x86_segment){ .limit = 0xffff, .type = X86_SEG_TYPE_TSS_BUSY, .present = true };
	state->cr0 = X86_CR0_ET | (1ULL << 30) /* CD */ | (1ULL << 29) /* NW */;
	state->fpu.fcw = X86_FCW_DEFAULT;
	state->fpu.mxcsr = X86_MXCSR_DEFAULT;
	state->fpu.mxcsr_mask = 0xffff;
	state->msr.pat = X86_PAT_DEFAULT;
}

struct x86_segment x86_flat_segment(uint16_t selector, uint8_t type, bool code64)
{
	return (struct x86_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
		.present = true, .s = true, .g = true, .l = code64, .db = !code64,
	};
}

uint64_t x86_segment_to_descriptor(const struct x86_segment *seg)
{
	uint32_t limit = seg->g ? seg->limit >> 12 : seg->limit;
	uint64_t d = 0;

	d |= limit & 0xffffULL;
	d |= (seg->base & 0xffffffULL) << 16;
	d |= (uint64_t)(seg->type & 0xf) << 40;
	d |= (uint64_t)seg->s << 44;
	d |= (uint64_t)(seg->dpl & 3) << 45;
	d |= (uint64_t)seg->present << 47;
	d |= (uint64_t)((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)seg->avl << 52;
	d |= (uint64_t)seg->l << 53;
	d |= (uint64_t)seg->db << 54;
	d |= (uint64_t)seg->g << 55;
	d |= ((seg->base >> 24) & 0xffULL) << 56;
	return d;
}
