/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU mode bookkeeping, control registers, and conversion to and from the
 * accelerator-neutral struct x86_cpu_state.
 */
#include "cpu.h"

#include "apic.h"

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_EM		(1ULL << 2)
#define CR0_TS		(1ULL << 3)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_AM		(1ULL << 18)
#define CR0_NW		(1ULL << 29)
#define CR0_CD		(1ULL << 30)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_PGE		(1ULL << 7)
#define EFER_SCE	(1ULL << 0)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NXE	(1ULL << 11)
#define MISC_ENABLE_FAST_STRINGS	(1ULL << 0)
#define MISC_ENABLE_BTS_UNAVAILABLE	(1ULL << 11)
#define MISC_ENABLE_PEBS_UNAVAILABLE	(1ULL << 12)

static bool flat(const struct segment *s, bool code)
{
	return s->base == 0 && s->limit == 0xffffffff && !(s->flags & DESC_UNUSABLE) &&
	       (s->flags & DESC_P) && (code ? (s->flags & DESC_READABLE) :
		(!(s->flags & DESC_CODE) && (s->flags & DESC_WRITABLE) && !(s->flags & DESC_EXPAND_DOWN)));
}

const struct tlb_entry tlb_always_miss[TLB_SIZE] = {
	[0 ... TLB_SIZE - 1] = { .read_tag = TLB_INVALID, .write_tag = TLB_INVALID,
				 .exec_tag = TLB_INVALID, .io_tag = TLB_INVALID },
};

void cpu_update_alignment_check(struct tcg_cpu *cpu)
{
	cpu->alignment_check = cpu->cpl == 3 && (cpu->cr0 & CR0_AM) && (cpu->eflags & FLAG_AC);
	cpu->tlb = cpu->alignment_check ? tlb_always_miss : cpu->tlb_sets[cpu->cpl == 3];
}

void cpu_set_cpl(struct tcg_cpu *cpu, unsigned int cpl)
{
	cpu->cpl = (uint8_t)cpl;
	cpu_update_alignment_check(cpu);
}

void cpu_update_mode(struct tcg_cpu *cpu)
{
	const struct segment *cs = &cpu->seg[SEG_CS];

	cpu->protected_mode = cpu->cr0 & CR0_PE;
	cpu->paging = (cpu->cr0 & CR0_PG) && cpu->protected_mode;
	cpu->long_mode = cpu->efer & EFER_LMA;
	cpu->code64 = cpu->long_mode && (cs->flags & DESC_L);
	if (!cpu->protected_mode) {
		/* Real mode: CPL 0; the D bit still picks 16 or 32-bit code (unreal mode). */
		cpu_set_cpl(cpu, 0);
	} else if (cpu->eflags & FLAG_VM) {
		cpu_set_cpl(cpu, 3);
	}
	cpu->code32 = !cpu->code64 && (cs->flags & DESC_DB) && !(cpu->eflags & FLAG_VM);
	cpu->stack32 = (cpu->seg[SEG_SS].flags & DESC_DB) != 0;
	cpu->flat_segments = !cpu->code64 && cpu->protected_mode && !(cpu->eflags & FLAG_VM) &&
			     flat(cs, true) && flat(&cpu->seg[SEG_DS], false) &&
			     flat(&cpu->seg[SEG_ES], false) && flat(&cpu->seg[SEG_SS], false);
	cpu->mode_key = (uint8_t)((cpu->code64 ? MODE_KEY_CODE64 : 0) | (cpu->code32 ? MODE_KEY_CODE32 : 0) |
				  (cpu->flat_segments ? MODE_KEY_FLAT : 0));
	cpu_update_alignment_check(cpu);
}

void cpu_write_cr0(struct tcg_cpu *cpu, uint64_t value)
{
	uint64_t changed = cpu->cr0 ^ value;

	/* Reserved bits 63:32 and invalid combinations: #GP (Vol. 3A §2.5). */
	if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
	    ((value & CR0_NW) && !(value & CR0_CD)))
		cpu_raise_gp0(cpu);
	if ((value & CR0_PG) && !(cpu->cr0 & CR0_PG) && (cpu->efer & EFER_LME)) {
		/* Activating long mode needs PAE; CS.L must be clear. */
		if (!(cpu->cr4 & CR4_PAE))
			cpu_raise_gp0(cpu);
		cpu->efer |= EFER_LMA;
	}
	if (!(value & CR0_PG) && (cpu->cr0 & CR0_PG)) {
		if (cpu->code64)
			cpu_raise_gp0(cpu);
		cpu->efer &= ~EFER_LMA;
	}
	cpu->cr0 = value | CR0_ET;
	if (changed & (CR0_PG | CR0_WP | CR0_PE))
		tlb_flush(cpu, true);
	cpu_update_mode(cpu);
}

void cpu_write_cr3(struct tcg_cpu *cpu, uint64_t value)
{
	cpu->cr3 = value;
	tlb_flush(cpu, false);
}

void cpu_write_cr4(struct tcg_cpu *cpu, uint64_t value)
{
	/* Bits 2-11 (TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR, OSXMMEXCPT, UMIP):
	 * what CPUID lets a guest expect.  VME/PVI and everything newer are reserved. */
	const uint64_t allowed = 0xffc;

	if (value & ~allowed)
		cpu_raise_gp0(cpu);
	if (cpu->long_mode && !(value & CR4_PAE))
		cpu_raise_gp0(cpu);
	if ((value ^ cpu->cr4) & (CR4_PAE | CR4_PGE | (1ULL << 4)))
		tlb_flush(cpu, true);
	cpu->cr4 = value;
	cpu_update_mode(cpu);
}

void cpu_write_efer(struct tcg_cpu *cpu, uint64_t value)
{
	const uint64_t allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

	if (value & ~allowed)
		cpu_raise_gp0(cpu);
	/* LME cannot change while paging is on; LMA is read-only. */
	if (((value ^ cpu->efer) & EFER_LME) && (cpu->cr0 & CR0_PG))
		cpu_raise_gp0(cpu);
	value = (value & ~EFER_LMA) | (cpu->efer & EFER_LMA);
	if ((value ^ cpu->efer) & EFER_NXE)
		tlb_flush(cpu, true);
	cpu->efer = value;
	cpu_update_mode(cpu);
}

static void segment_in(struct segment *s, const struct x86_segment *x)
{
	s->base = x->base;
	s->limit = x->limit;
	s->selector = x->selector;
	s->flags = (uint16_t)((x->type & 0xf) | (x->s ? DESC_S : 0) | ((x->dpl & 3) << DESC_DPL_SHIFT) |
			      (x->present ? DESC_P : 0) | (x->avl ? DESC_AVL : 0) | (x->l ? DESC_L : 0) |
			      (x->db ? DESC_DB : 0) | (x->g ? DESC_G : 0) |
			      (x->unusable ? DESC_UNUSABLE : 0));
}

static void segment_out(struct x86_segment *x, const struct segment *s)
{
	*x = (struct x86_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->flags & DESC_TYPE_MASK, .dpl = (uint8_t)seg_dpl(s),
		.present = s->flags & DESC_P, .s = s->flags & DESC_S, .db = s->flags & DESC_DB,
		.l = s->flags & DESC_L, .g = s->flags & DESC_G, .avl = s->flags & DESC_AVL,
		.unusable = s->flags & DESC_UNUSABLE,
	};
}

static const unsigned int state_order[8] = { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS,
					     SEG_LDTR, SEG_TR };

static struct x86_segment *state_segment(struct x86_cpu_state *s, unsigned int seg)
{
	switch (seg) {
	case SEG_ES: return &s->es;
	case SEG_CS: return &s->cs;
	case SEG_SS: return &s->ss;
	case SEG_DS: return &s->ds;
	case SEG_FS: return &s->fs;
	case SEG_GS: return &s->gs;
	case SEG_LDTR: return &s->ldt;
	default: return &s->tr;
	}
}

void cpu_set_state(struct tcg_cpu *cpu, const struct x86_cpu_state *state)
{
	memcpy(cpu->regs, state->gpr, sizeof(cpu->regs));
	cpu->rip = state->rip;
	cpu->eflags = (uint32_t)state->rflags | FLAG_FIXED;
	cpu->cc_op = CC_EFLAGS;
	for (unsigned int i = 0; i < 8; i++)
		segment_in(&cpu->seg[state_order[i]],
			   state_segment((struct x86_cpu_state *)state, state_order[i]));
	cpu->gdtr.base = state->gdt.base;
	cpu->gdtr.limit = state->gdt.limit;
	cpu->idtr.base = state->idt.base;
	cpu->idtr.limit = state->idt.limit;
	cpu->cr0 = state->cr0;
	cpu->cr2 = state->cr2;
	cpu->cr3 = state->cr3;
	cpu->cr4 = state->cr4;
	cpu->cr8 = state->cr8;
	cpu->efer = state->efer;
	cpu->fpu = state->fpu;
	cpu->msr = state->msr;
	cpu->halted = false;
	cpu->wait_for_sipi = false;
	cpu->pending_single_step = false;
	cpu_update_mode(cpu);
	/* CPL is the DPL of SS (Vol. 3A §5.5); CS.RPL in real mode is 0. */
	if (cpu->protected_mode && !(cpu->eflags & FLAG_VM))
		cpu_set_cpl(cpu, seg_dpl(&cpu->seg[SEG_SS]));
	tlb_flush(cpu, true);
}

void cpu_get_state(struct tcg_cpu *cpu, struct x86_cpu_state *state)
{
	memset(state, 0, sizeof(*state));
	memcpy(state->gpr, cpu->regs, sizeof(cpu->regs));
	state->rip = cpu->rip;
	state->rflags = cpu_get_eflags(cpu);
	for (unsigned int i = 0; i < 8; i++)
		segment_out(state_segment(state, state_order[i]), &cpu->seg[state_order[i]]);
	state->gdt.base = cpu->gdtr.base;
	state->gdt.limit = (uint16_t)cpu->gdtr.limit;
	state->idt.base = cpu->idtr.base;
	state->idt.limit = (uint16_t)cpu->idtr.limit;
	state->cr0 = cpu->cr0;
	state->cr2 = cpu->cr2;
	state->cr3 = cpu->cr3;
	state->cr4 = cpu->cr4;
	state->cr8 = cpu->cr8;
	state->efer = cpu->efer;
	state->fpu = cpu->fpu;
	state->msr = cpu->msr;
}

void cpu_reset(struct tcg_cpu *cpu)
{
	struct x86_cpu_state s;

	/* RESET/INIT state (Vol. 3A §9.1.1, Table 9-1). */
	x86_cpu_state_init_reset(&s);
	s.gpr[X86_RDX] = 0x600;	/* processor signature: family 6 */
	cpu_set_state(cpu, &s);
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = 0xffff0ff0;
	cpu->dr[7] = 0x400;
	cpu->xcr0 = 1;
	/*
	 * IA32_MISC_ENABLE as firmware leaves it: fast strings on (guests that
	 * see it off disable ERMS, yet trust FSRM to imply it), no BTS or PEBS.
	 */
	cpu->misc_enable = MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_BTS_UNAVAILABLE |
			   MISC_ENABLE_PEBS_UNAVAILABLE;
	cpu->interrupt_shadow = false;
	cpu->nmi_blocked = false;
	cpu->delivering_vector = -1;
	cpu->shutdown = false;
}
