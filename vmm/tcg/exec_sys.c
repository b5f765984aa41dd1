/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System instructions (Intel SDM Vol. 2 and Vol. 3A): control and debug
 * registers, descriptor tables, segment registers, far transfers and IRET,
 * SYSCALL/SYSRET and SYSENTER/SYSEXIT, MSRs, TSC, port I/O dispatch.
 */
#include "ops.h"

#include "apic.h"
#include "log.h"

#define CR0_TS		(1ULL << 3)
#define CR4_TSD		(1ULL << 2)
#define CR4_DE		(1ULL << 3)
#define CR4_UMIP	(1ULL << 11)
#define EFER_SCE	(1ULL << 0)

/* UMIP: SGDT, SIDT, SLDT, SMSW and STR are privileged (Vol. 3A §2.5, CR4.UMIP). */
static void check_umip(struct tcg_cpu *cpu)
{
	if ((cpu->cr4 & CR4_UMIP) && cpu->protected_mode && cpu->cpl > 0)
		cpu_raise_gp0(cpu);
}

static void require_cpl0(struct tcg_cpu *cpu)
{
	if (cpu->protected_mode && cpu->cpl != 0)
		cpu_raise_gp0(cpu);
}

/* --- port I/O --- */

uint64_t io_read(struct tcg_cpu *cpu, uint16_t port, unsigned int size)
{
	uint64_t v;

	bus_read(cpu->pio, port, size, &v);
	return v;
}

void io_write(struct tcg_cpu *cpu, uint16_t port, unsigned int size, uint64_t value)
{
	bus_write(cpu->pio, port, size, value);
}

/* --- control and debug registers --- */

int op_mov_from_cr(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	require_cpl0(cpu);
	switch (in->reg) {
	case 0: v = cpu->cr0; break;
	case 2: v = cpu->cr2; break;
	case 3: v = cpu->cr3; break;
	case 4: v = cpu->cr4; break;
	case 8: {
		uint64_t tpr = 0;

		if (cpu->lapic)
			tpr = lapic_mmio_read(cpu->lapic, 0x80) >> 4;
		v = tpr & 0xf;
		break;
	}
	default:
		cpu_raise_ud(cpu);
	}
	reg_write(cpu, in->rm, cpu->code64 ? 8 : 4, v);
	return insn_done(cpu, in);
}

int op_mov_to_cr(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = reg_read(cpu, in->rm, cpu->code64 ? 8 : 4);

	require_cpl0(cpu);
	switch (in->reg) {
	case 0: cpu_write_cr0(cpu, v); break;
	case 2: cpu->cr2 = v; break;
	case 3: cpu_write_cr3(cpu, cpu->long_mode ? v : v & 0xffffffff); break;
	case 4: cpu_write_cr4(cpu, v); break;
	case 8:
		if (v & ~0xfULL)
			cpu_raise_gp0(cpu);
		if (cpu->lapic)
			lapic_mmio_write(cpu->lapic, 0x80, (uint32_t)(v << 4));
		break;
	default:
		cpu_raise_ud(cpu);
	}
	cpu->rip += in->len;
	return END_BLOCK;	/* the mode, paging or priority may have changed */
}

static unsigned int debug_register(struct tcg_cpu *cpu, unsigned int r)
{
	if (r == 4 || r == 5) {
		if (cpu->cr4 & CR4_DE)
			cpu_raise_ud(cpu);
		r += 2;
	}
	if (r > 7)
		cpu_raise_ud(cpu);
	return r;
}

int op_mov_from_dr(struct tcg_cpu *cpu, const struct insn *in)
{
	require_cpl0(cpu);
	reg_write(cpu, in->rm, cpu->code64 ? 8 : 4, cpu->dr[debug_register(cpu, in->reg)]);
	return insn_done(cpu, in);
}

int op_mov_to_dr(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int r;
	uint64_t v = reg_read(cpu, in->rm, cpu->code64 ? 8 : 4);

	require_cpl0(cpu);
	r = debug_register(cpu, in->reg);
	/* Breakpoints are stored, not armed: the software CPU has no debug traps yet. */
	if (r == 6)
		v = (v & 0xe00f) | 0xffff0ff0;
	else if (r == 7)
		v = (v & ~0xd800ULL) | 0x400;
	cpu->dr[r] = v;
	return insn_done(cpu, in);
}

/* --- segment registers --- */

int op_mov_rm_sreg(struct tcg_cpu *cpu, const struct insn *in)
{
	if (in->reg > SEG_GS)
		cpu_raise_ud(cpu);
	if (in->flags & INSN_MEM)
		rm_write(cpu, in, 2, cpu->seg[in->reg].selector);
	else
		reg_write(cpu, in->rm, in->size, cpu->seg[in->reg].selector);
	return insn_done(cpu, in);
}

int op_mov_sreg_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t sel;

	if (in->reg > SEG_GS || in->reg == SEG_CS)
		cpu_raise_ud(cpu);
	sel = (uint16_t)rm_read(cpu, in, 2);
	seg_load(cpu, in->reg, sel);
	cpu->rip += in->len;
	if (in->reg == SEG_SS)
		cpu->interrupt_shadow = true;	/* so SS:SP load atomically */
	return END_BLOCK;
}

int op_lseg_far(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t ea;
	uint64_t offset;
	uint16_t sel;

	if (!(in->flags & INSN_MEM))
		cpu_raise_ud(cpu);
	ea = insn_ea(cpu, in);
	offset = mem_read(cpu, in->seg, ea, in->size);
	sel = (uint16_t)mem_read(cpu, in->seg, (ea + in->size) & size_mask(in->asize), 2);
	seg_load(cpu, in->op, sel);
	reg_write(cpu, in->reg, in->size, offset);
	cpu->rip += in->len;
	return END_BLOCK;
}

/* --- descriptor tables --- */

int op_lgdt_lidt(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t ea, base;
	uint16_t limit;

	if (!(in->flags & INSN_MEM))
		cpu_raise_ud(cpu);
	require_cpl0(cpu);
	ea = insn_ea(cpu, in);
	limit = (uint16_t)mem_read(cpu, in->seg, ea, 2);
	if (cpu->code64) {
		base = mem_read(cpu, in->seg, ea + 2, 8);
	} else {
		base = mem_read(cpu, in->seg, (ea + 2) & size_mask(in->asize), 4);
		if (in->size == 2)
			base &= 0xffffff;
	}
	if (in->op) {
		cpu->idtr.base = base;
		cpu->idtr.limit = limit;
	} else {
		cpu->gdtr.base = base;
		cpu->gdtr.limit = limit;
	}
	return insn_done(cpu, in);
}

int op_sgdt_sidt(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t ea;

	check_umip(cpu);
	uint64_t base = in->op ? cpu->idtr.base : cpu->gdtr.base;
	uint16_t limit = (uint16_t)(in->op ? cpu->idtr.limit : cpu->gdtr.limit);

	if (!(in->flags & INSN_MEM))
		cpu_raise_ud(cpu);
	ea = insn_ea(cpu, in);
	if (cpu->code64) {
		mem_write(cpu, in->seg, ea + 2, 8, base);
	} else {
		mem_write(cpu, in->seg, (ea + 2) & size_mask(in->asize), 4, base & 0xffffffff);
	}
	mem_write(cpu, in->seg, ea, 2, limit);
	return insn_done(cpu, in);
}

int op_lldt(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint64_t d, hi = 0;

	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM))
		cpu_raise_ud(cpu);
	require_cpl0(cpu);
	sel = (uint16_t)rm_read(cpu, in, 2);
	if ((sel & ~3u) == 0) {
		cpu->seg[SEG_LDTR] = (struct segment){ .selector = sel, .flags = DESC_UNUSABLE };
		return insn_done(cpu, in);
	}
	if ((sel & 4) || !seg_read_descriptor(cpu, sel, &d) || ((d >> 40) & 0x1f) != 0x02)
		cpu_raise(cpu, EXC_GP, sel & ~3u);
	if (!(d & (1ULL << 47)))
		cpu_raise(cpu, EXC_NP, sel & ~3u);
	if (cpu->long_mode)
		hi = sys_read(cpu, cpu->gdtr.base + (sel & ~7u) + 8, 8);
	seg_from_descriptor(&cpu->seg[SEG_LDTR], sel, d);
	cpu->seg[SEG_LDTR].base |= (hi & 0xffffffff) << 32;
	return insn_done(cpu, in);
}

int op_ltr(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint64_t d, hi = 0, table = cpu->gdtr.base;
	unsigned int type;

	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM))
		cpu_raise_ud(cpu);
	require_cpl0(cpu);
	sel = (uint16_t)rm_read(cpu, in, 2);
	if ((sel & ~3u) == 0 || (sel & 4) || !seg_read_descriptor(cpu, sel, &d))
		cpu_raise(cpu, EXC_GP, sel & ~3u);
	type = (d >> 40) & 0x1f;
	/* An available TSS: 16-bit (1) only outside long mode, 32/64-bit (9). */
	if (type != 0x09 && !(type == 0x01 && !cpu->long_mode))
		cpu_raise(cpu, EXC_GP, sel & ~3u);
	if (!(d & (1ULL << 47)))
		cpu_raise(cpu, EXC_NP, sel & ~3u);
	if (cpu->long_mode)
		hi = sys_read(cpu, table + (sel & ~7u) + 8, 8);
	/* Mark it busy in the GDT (type bit 1). */
	sys_write(cpu, table + (sel & ~7u) + 5, 1, ((d >> 40) & 0xff) | 0x02);
	seg_from_descriptor(&cpu->seg[SEG_TR], sel, d | (2ULL << 40));
	cpu->seg[SEG_TR].base |= (hi & 0xffffffff) << 32;
	return insn_done(cpu, in);
}

int op_sldt_str(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t sel = cpu->seg[in->op ? SEG_TR : SEG_LDTR].selector;

	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM))
		cpu_raise_ud(cpu);
	check_umip(cpu);
	if (in->flags & INSN_MEM)
		rm_write(cpu, in, 2, sel);
	else
		reg_write(cpu, in->rm, in->size, sel);
	return insn_done(cpu, in);
}

int op_smsw(struct tcg_cpu *cpu, const struct insn *in)
{
	check_umip(cpu);
	if (in->flags & INSN_MEM)
		rm_write(cpu, in, 2, cpu->cr0 & 0xffff);
	else
		reg_write(cpu, in->rm, in->size, cpu->cr0 & size_mask(in->size));
	return insn_done(cpu, in);
}

int op_lmsw(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	require_cpl0(cpu);
	v = rm_read(cpu, in, 2);
	/* Only PE, MP, EM, TS; PE can be set but not cleared. */
	cpu_write_cr0(cpu, (cpu->cr0 & ~0xeULL) | (v & 0xf) | (cpu->cr0 & 1));
	cpu->rip += in->len;
	return END_BLOCK;
}

int op_invlpg(struct tcg_cpu *cpu, const struct insn *in)
{
	if (!(in->flags & INSN_MEM))
		cpu_raise_ud(cpu);
	require_cpl0(cpu);
	tlb_flush_page(cpu, seg_linear(cpu, in->seg, insn_ea(cpu, in), 1, ACCESS_READ));
	cpu->rip += in->len;
	return END_BLOCK;
}

int op_clts(struct tcg_cpu *cpu, const struct insn *in)
{
	require_cpl0(cpu);
	cpu->cr0 &= ~CR0_TS;
	return insn_done(cpu, in);
}

int op_wbinvd(struct tcg_cpu *cpu, const struct insn *in)
{
	require_cpl0(cpu);
	return insn_done(cpu, in);
}

int op_lar_lsl(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	uint64_t d;
	unsigned int type, dpl;
	bool ok = false;

	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM))
		cpu_raise_ud(cpu);
	if ((sel & ~3u) && seg_read_descriptor(cpu, sel, &d)) {
		type = (d >> 40) & 0x1f;
		dpl = (d >> 45) & 3;
		if (type & 0x10) {
			/* Code or data: conforming code is always visible. */
			ok = ((type & 0x1c) == 0x1c) || (dpl >= cpu->cpl && dpl >= (sel & 3u));
		} else {
			static const bool lar_types[16] = { [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1,
							    [9] = 1, [11] = 1, [12] = 1 };
			static const bool lsl_types[16] = { [1] = 1, [2] = 1, [3] = 1, [9] = 1, [11] = 1 };

			ok = (in->op ? lsl_types : lar_types)[type & 0xf] &&
			     (!cpu->long_mode || (type & 0xf) == 2 || (type & 0xf) >= 9) &&
			     dpl >= cpu->cpl && dpl >= (sel & 3u);
		}
	}
	if (ok) {
		struct segment s;

		seg_from_descriptor(&s, sel, d);
		reg_write(cpu, in->reg, in->size, in->op ? s.limit : (d >> 32) & 0x00f0ff00);
	}
	cpu_set_eflags(cpu, ok ? FLAG_ZF : 0, FLAG_ZF);
	return insn_done(cpu, in);
}

int op_verr_verw(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	uint64_t d;
	bool ok = false;

	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM))
		cpu_raise_ud(cpu);
	if ((sel & ~3u) && seg_read_descriptor(cpu, sel, &d) && (d & (1ULL << 44))) {
		unsigned int type = (d >> 40) & 0xf, dpl = (d >> 45) & 3;
		bool conforming_code = (type & 0xc) == 0xc;

		if (conforming_code || (dpl >= cpu->cpl && dpl >= (sel & 3u)))
			ok = in->op ? (!(type & 8) && (type & 2)) : (!(type & 8) || (type & 2));
	}
	cpu_set_eflags(cpu, ok ? FLAG_ZF : 0, FLAG_ZF);
	return insn_done(cpu, in);
}

/* --- far transfers and IRET --- */

/*
 * Loads CS for a far JMP/CALL/RET to selector:offset at the same or (for
 * RET) an outer privilege level; call gates and task switches are not
 * supported (Linux does not use them).
 */
static void load_code_segment(struct tcg_cpu *cpu, uint16_t selector, unsigned int new_cpl)
{
	uint64_t d;
	unsigned int dpl;

	if ((selector & ~3u) == 0)
		cpu_raise_gp0(cpu);
	if (!seg_read_descriptor(cpu, selector, &d))
		cpu_raise(cpu, EXC_GP, selector & ~3u);
	if (!(d & (1ULL << 44)) || !(d & (1ULL << 43))) {
		if (!(d & (1ULL << 44)))
			log_guest_once("software CPU: far transfer through a gate or TSS (selector 0x%x) is not supported",
				       selector);
		cpu_raise(cpu, EXC_GP, selector & ~3u);
	}
	dpl = (d >> 45) & 3;
	if ((d & (1ULL << 42)) ? dpl > new_cpl : dpl != new_cpl)
		cpu_raise(cpu, EXC_GP, selector & ~3u);
	if (!(d & (1ULL << 47)))
		cpu_raise(cpu, EXC_NP, selector & ~3u);
	seg_set_accessed(cpu, selector, d);
	seg_from_descriptor(&cpu->seg[SEG_CS], (uint16_t)((selector & ~3u) | new_cpl), d | (1ULL << 40));
	cpu_set_cpl(cpu, new_cpl);
	cpu_update_mode(cpu);
}

void far_jump(struct tcg_cpu *cpu, uint16_t selector, uint64_t offset, bool call, unsigned int size,
	      uint64_t return_rip)
{
	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM)) {
		if (call) {
			push(cpu, size, cpu->seg[SEG_CS].selector);
			push(cpu, size, return_rip);
		}
		seg_load_real(cpu, SEG_CS, selector);
		cpu->rip = offset & size_mask(size);
		return;
	}
	if (call) {
		/* Push on the current stack before CS changes (both may fault). */
		uint64_t sp = stack_pointer(cpu);

		mem_write(cpu, SEG_SS, (sp - size) & size_mask(stack_size(cpu)), size, cpu->seg[SEG_CS].selector);
		mem_write(cpu, SEG_SS, (sp - 2 * size) & size_mask(stack_size(cpu)), size, return_rip);
		load_code_segment(cpu, selector, cpu->cpl);
		stack_pointer_set(cpu, sp - 2 * size);
	} else {
		load_code_segment(cpu, selector, cpu->cpl);
	}
	cpu->rip = cpu->code64 ? offset : offset & size_mask(size);
}

int op_jmp_far(struct tcg_cpu *cpu, const struct insn *in)
{
	far_jump(cpu, in->imm2, in->imm, false, in->size, 0);
	return END_BLOCK;
}

int op_call_far(struct tcg_cpu *cpu, const struct insn *in)
{
	far_jump(cpu, in->imm2, in->imm, true, in->size, cpu->rip + in->len);
	return END_BLOCK;
}

static void far_pointer(struct tcg_cpu *cpu, const struct insn *in, uint64_t *offset, uint16_t *sel)
{
	uint64_t ea;

	if (!(in->flags & INSN_MEM))
		cpu_raise_ud(cpu);
	ea = insn_ea(cpu, in);
	*offset = mem_read(cpu, in->seg, ea, in->size);
	*sel = (uint16_t)mem_read(cpu, in->seg, (ea + in->size) & size_mask(in->asize), 2);
}

int op_jmp_far_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t offset;
	uint16_t sel;

	far_pointer(cpu, in, &offset, &sel);
	far_jump(cpu, sel, offset, false, in->size, 0);
	return END_BLOCK;
}

int op_call_far_rm(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t offset;
	uint16_t sel;

	far_pointer(cpu, in, &offset, &sel);
	far_jump(cpu, sel, offset, true, in->size, cpu->rip + in->len);
	return END_BLOCK;
}

/* Loads SS for a return to an outer privilege level (RETF, IRET). */
static void load_outer_ss(struct tcg_cpu *cpu, uint16_t selector, unsigned int new_cpl, bool target64)
{
	uint64_t d;

	if ((selector & ~3u) == 0) {
		/* A null SS is allowed when returning to 64-bit code at CPL < 3. */
		if (!(cpu->long_mode && target64 && new_cpl != 3))
			cpu_raise_gp0(cpu);
		cpu->seg[SEG_SS] = (struct segment){ .selector = selector,
			.flags = (uint16_t)(DESC_UNUSABLE | (new_cpl << DESC_DPL_SHIFT)) };
		return;
	}
	if (!seg_read_descriptor(cpu, selector, &d) || (selector & 3u) != new_cpl ||
	    ((d >> 45) & 3) != new_cpl || ((d >> 40) & 0x1a) != 0x12)
		cpu_raise(cpu, EXC_GP, selector & ~3u);
	if (!(d & (1ULL << 47)))
		cpu_raise(cpu, EXC_SS, selector & ~3u);
	seg_set_accessed(cpu, selector, d);
	seg_from_descriptor(&cpu->seg[SEG_SS], selector, d | (1ULL << 40));
}

/* Data segments not accessible at the new (outer) level become null (Vol. 2A "RET"). */
static void clear_inaccessible_segments(struct tcg_cpu *cpu)
{
	static const unsigned int segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };

	for (unsigned int i = 0; i < G_N_ELEMENTS(segs); i++) {
		struct segment *s = &cpu->seg[segs[i]];
		bool conforming_code = (s->flags & (DESC_CODE | DESC_CONFORMING)) == (DESC_CODE | DESC_CONFORMING);

		if (!(s->flags & DESC_UNUSABLE) && !conforming_code && seg_dpl(s) < cpu->cpl) {
			s->selector = 0;
			s->flags |= DESC_UNUSABLE;
		}
	}
}

static bool descriptor_is_64bit_code(struct tcg_cpu *cpu, uint16_t selector)
{
	uint64_t d;

	return seg_read_descriptor(cpu, selector, &d) && (d & (1ULL << 53)) && !(d & (1ULL << 54));
}

int op_retf(struct tcg_cpu *cpu, const struct insn *in)
{
	unsigned int size = in->size;
	uint64_t offset = pop_peek(cpu, size, 0);
	uint16_t sel = (uint16_t)pop_peek(cpu, size, size);

	if (!cpu->protected_mode || (cpu->eflags & FLAG_VM)) {
		pop_commit(cpu, 2 * size + (unsigned int)in->imm);
		seg_load_real(cpu, SEG_CS, sel);
		cpu->rip = offset & size_mask(size);
		return END_BLOCK;
	}
	if ((sel & 3u) < cpu->cpl)
		cpu_raise(cpu, EXC_GP, sel & ~3u);
	if ((sel & 3u) > cpu->cpl) {
		/* Return to an outer level: SS:RSP follow CS:RIP on the stack. */
		unsigned int skip = 2 * size + (unsigned int)in->imm;
		uint64_t new_sp = pop_peek(cpu, size, skip);
		uint16_t new_ss = (uint16_t)pop_peek(cpu, size, skip + size);
		unsigned int new_cpl = sel & 3u;
		bool target64 = cpu->long_mode && descriptor_is_64bit_code(cpu, sel);

		load_code_segment(cpu, sel, new_cpl);
		load_outer_ss(cpu, new_ss, new_cpl, target64);
		cpu_update_mode(cpu);
		stack_pointer_set(cpu, new_sp + in->imm);
		clear_inaccessible_segments(cpu);
	} else {
		load_code_segment(cpu, sel, cpu->cpl);
		pop_commit(cpu, 2 * size + (unsigned int)in->imm);
	}
	cpu->rip = cpu->code64 ? offset : offset & size_mask(size);
	return END_BLOCK;
}

void cpu_iret(struct tcg_cpu *cpu, unsigned int size)
{
	uint64_t rip = pop_peek(cpu, size, 0);
	uint16_t cs = (uint16_t)pop_peek(cpu, size, size);
	uint32_t flags = (uint32_t)pop_peek(cpu, size, 2 * size);
	uint32_t mask = FLAGS_ARITH | FLAG_TF | FLAG_DF | FLAG_NT | FLAG_RF | FLAG_AC | FLAG_ID;
	unsigned int old_cpl = cpu->cpl, new_cpl = cs & 3u;

	if (!cpu->protected_mode) {
		pop_commit(cpu, 3 * size);
		seg_load_real(cpu, SEG_CS, cs);
		cpu->rip = rip & size_mask(size);
		cpu_set_eflags(cpu, flags, (mask | FLAG_IF | FLAG_IOPL) & (size == 2 ? 0xffff : ~0u));
		cpu->nmi_blocked = false;
		return;
	}
	if (cpu->eflags & FLAG_VM) {
		log_guest_once("software CPU: IRET in virtual-8086 mode is not supported");
		cpu_raise_gp0(cpu);
	}
	if (cpu->eflags & FLAG_NT) {
		log_guest_once("software CPU: IRET task return (NT set) is not supported");
		cpu_raise_gp0(cpu);
	}
	if (new_cpl < old_cpl)
		cpu_raise(cpu, EXC_GP, cs & ~3u);
	/* IOPL changes only at CPL 0; IF only when CPL <= IOPL (Vol. 2A "IRET"). */
	if (old_cpl == 0)
		mask |= FLAG_IOPL;
	if (old_cpl <= ((cpu->eflags & FLAG_IOPL) >> 12))
		mask |= FLAG_IF;
	if (size == 2)
		mask &= 0xffff;

	if (cpu->code64 || new_cpl != old_cpl) {
		/* 64-bit IRET always pops SS:RSP; legacy only when changing level. */
		uint64_t sp = pop_peek(cpu, size, 3 * size);
		uint16_t ss = (uint16_t)pop_peek(cpu, size, 4 * size);
		bool target64 = cpu->long_mode && descriptor_is_64bit_code(cpu, cs);

		load_code_segment(cpu, cs, new_cpl);
		load_outer_ss(cpu, ss, new_cpl, target64);
		cpu_update_mode(cpu);
		if (cpu->code64 || size == 8)
			cpu->regs[4] = sp;
		else
			stack_pointer_set(cpu, sp);
		if (new_cpl != old_cpl)
			clear_inaccessible_segments(cpu);
	} else {
		load_code_segment(cpu, cs, new_cpl);
		pop_commit(cpu, 3 * size);
	}
	cpu->rip = cpu->code64 ? rip : rip & size_mask(size);
	cpu_set_eflags(cpu, flags, mask);
	cpu->nmi_blocked = false;
	cpu_update_mode(cpu);
}

int op_iret(struct tcg_cpu *cpu, const struct insn *in)
{
	cpu_iret(cpu, in->size);
	return END_BLOCK;
}

/* --- fast system calls --- */

#define MSR_STAR_SYSCALL_CS(star)	((uint16_t)((star) >> 32))
#define MSR_STAR_SYSRET_CS(star)	((uint16_t)((star) >> 48))

static void set_flat_segment(struct segment *s, uint16_t selector, bool code, bool code64, unsigned int dpl)
{
	s->selector = selector;
	s->base = 0;
	s->limit = 0xffffffff;
	s->flags = (uint16_t)(DESC_P | DESC_S | DESC_G | DESC_ACCESSED | (dpl << DESC_DPL_SHIFT) |
			      (code ? DESC_CODE | DESC_READABLE | (code64 ? DESC_L : DESC_DB) :
				      DESC_WRITABLE | DESC_DB));
}

int op_syscall(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t star = cpu->msr.star;
	uint16_t cs = MSR_STAR_SYSCALL_CS(star) & ~3u;

	/* Intel: only in 64-bit mode (Vol. 2B "SYSCALL"). */
	if (!(cpu->efer & EFER_SCE) || !cpu->code64)
		cpu_raise_ud(cpu);
	cpu->regs[1] = cpu->rip + in->len;
	cpu->regs[11] = cpu_get_eflags(cpu) & ~FLAG_RF;
	set_flat_segment(&cpu->seg[SEG_CS], cs, true, true, 0);
	set_flat_segment(&cpu->seg[SEG_SS], (uint16_t)(cs + 8), false, false, 0);
	cpu_set_eflags(cpu, 0, ((uint32_t)cpu->msr.sfmask | FLAG_RF) & FLAGS_SETTABLE);
	cpu_set_cpl(cpu, 0);
	cpu_update_mode(cpu);
	cpu->rip = cpu->msr.lstar;
	return END_BLOCK;
}

int op_sysret(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t base = MSR_STAR_SYSRET_CS(cpu->msr.star);
	bool to64 = in->size == 8;

	if (!(cpu->efer & EFER_SCE) || !cpu->code64)
		cpu_raise_ud(cpu);
	require_cpl0(cpu);
	/* Intel raises #GP in CPL 0 for a non-canonical return address. */
	if (to64 && (uint64_t)((int64_t)(cpu->regs[1] << 16) >> 16) != cpu->regs[1])
		cpu_raise_gp0(cpu);
	if (to64) {
		set_flat_segment(&cpu->seg[SEG_CS], (uint16_t)((base + 16) | 3), true, true, 3);
		cpu->rip = cpu->regs[1];
	} else {
		set_flat_segment(&cpu->seg[SEG_CS], (uint16_t)(base | 3), true, false, 3);
		cpu->rip = cpu->regs[1] & 0xffffffff;
	}
	/* SS keeps its cached base/limit semantics: flat, RPL 3. */
	set_flat_segment(&cpu->seg[SEG_SS], (uint16_t)((base + 8) | 3), false, false, 3);
	cpu_set_eflags(cpu, (uint32_t)cpu->regs[11], FLAGS_SETTABLE & ~(FLAG_VM | FLAG_RF | FLAG_VIF | FLAG_VIP));
	cpu_set_cpl(cpu, 3);
	cpu_update_mode(cpu);
	return END_BLOCK;
}

int op_sysenter(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t cs = (uint16_t)cpu->msr.sysenter_cs & ~3u;

	if (!cpu->protected_mode || cs == 0)
		cpu_raise_gp0(cpu);
	cpu_set_eflags(cpu, 0, FLAG_VM | FLAG_IF | FLAG_RF);
	set_flat_segment(&cpu->seg[SEG_CS], cs, true, cpu->long_mode, 0);
	set_flat_segment(&cpu->seg[SEG_SS], (uint16_t)(cs + 8), false, false, 0);
	cpu_set_cpl(cpu, 0);
	cpu_update_mode(cpu);
	if (cpu->long_mode) {
		cpu->regs[4] = cpu->msr.sysenter_esp;
		cpu->rip = cpu->msr.sysenter_eip;
	} else {
		cpu->regs[4] = cpu->msr.sysenter_esp & 0xffffffff;
		cpu->rip = cpu->msr.sysenter_eip & 0xffffffff;
	}
	return END_BLOCK;
}

int op_sysexit(struct tcg_cpu *cpu, const struct insn *in)
{
	uint16_t cs = (uint16_t)cpu->msr.sysenter_cs & ~3u;
	bool to64 = in->size == 8;

	if (!cpu->protected_mode || cs == 0)
		cpu_raise_gp0(cpu);
	require_cpl0(cpu);
	if (to64) {
		set_flat_segment(&cpu->seg[SEG_CS], (uint16_t)((cs + 32) | 3), true, true, 3);
		set_flat_segment(&cpu->seg[SEG_SS], (uint16_t)((cs + 40) | 3), false, false, 3);
		cpu->regs[4] = cpu->regs[1];
		cpu->rip = cpu->regs[2];
	} else {
		set_flat_segment(&cpu->seg[SEG_CS], (uint16_t)((cs + 16) | 3), true, false, 3);
		set_flat_segment(&cpu->seg[SEG_SS], (uint16_t)((cs + 24) | 3), false, false, 3);
		cpu->regs[4] = cpu->regs[1] & 0xffffffff;
		cpu->rip = cpu->regs[2] & 0xffffffff;
	}
	cpu_set_cpl(cpu, 3);
	cpu_update_mode(cpu);
	return END_BLOCK;
}

int op_swapgs(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t tmp;

	if (!cpu->code64)
		cpu_raise_ud(cpu);
	require_cpl0(cpu);
	tmp = cpu->seg[SEG_GS].base;
	cpu->seg[SEG_GS].base = cpu->msr.kernel_gs_base;
	cpu->msr.kernel_gs_base = tmp;
	return insn_done(cpu, in);
}

/* --- identification, time, MSRs --- */

int op_cpuid(struct tcg_cpu *cpu, const struct insn *in)
{
	uint32_t out[4];

	cpu_cpuid(cpu, (uint32_t)cpu->regs[0], (uint32_t)cpu->regs[1], out);
	cpu->regs[0] = out[0];
	cpu->regs[3] = out[1];
	cpu->regs[1] = out[2];
	cpu->regs[2] = out[3];
	return insn_done(cpu, in);
}

/* RDTSC's work, shared with RDTSCP: EDX:EAX = TSC. */
static void rdtsc(struct tcg_cpu *cpu)
{
	uint64_t tsc;

	if ((cpu->cr4 & CR4_TSD) && cpu->protected_mode && cpu->cpl != 0)
		cpu_raise_gp0(cpu);
	tsc = cpu_tsc(cpu);
	cpu->regs[0] = tsc & 0xffffffff;
	cpu->regs[2] = tsc >> 32;
}

int op_rdtsc(struct tcg_cpu *cpu, const struct insn *in)
{
	rdtsc(cpu);
	return insn_done(cpu, in);
}

int op_rdtscp(struct tcg_cpu *cpu, const struct insn *in)
{
	rdtsc(cpu);
	cpu->regs[1] = cpu->msr.tsc_aux & 0xffffffff;
	return insn_done(cpu, in);
}

int op_rdmsr(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v;

	require_cpl0(cpu);
	if (!cpu_rdmsr(cpu, (uint32_t)cpu->regs[1], &v))
		cpu_raise_gp0(cpu);
	cpu->regs[0] = v & 0xffffffff;
	cpu->regs[2] = v >> 32;
	return insn_done(cpu, in);
}

int op_wrmsr(struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t v = (cpu->regs[2] << 32) | (cpu->regs[0] & 0xffffffff);

	require_cpl0(cpu);
	if (!cpu_wrmsr(cpu, (uint32_t)cpu->regs[1], v))
		cpu_raise_gp0(cpu);
	cpu->rip += in->len;
	return END_BLOCK;
}

int op_rdpmc(struct tcg_cpu *cpu, const struct insn *in)
{
	/* No performance counters are advertised. */
	cpu_raise_gp0(cpu);
}

int op_fence(struct tcg_cpu *cpu, const struct insn *in)
{
	/* MFENCE orders stores before later loads even on x86 (TSO). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return insn_done(cpu, in);
}

int op_clflush(struct tcg_cpu *cpu, const struct insn *in)
{
	/* Faults like a 1-byte read; caches are not modelled. */
	mem_read(cpu, in->seg, insn_ea(cpu, in), 1);
	return insn_done(cpu, in);
}

int op_xgetbv(struct tcg_cpu *cpu, const struct insn *in)
{
	/* XSAVE is not advertised. */
	cpu_raise_ud(cpu);
}

/* MSR indices (Intel SDM Vol. 4). */
#define MSR_TSC			0x10
#define MSR_APIC_BASE		0x1b
#define MSR_UCODE_REV		0x8b
#define MSR_MTRRCAP		0xfe
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_MISC_ENABLE		0x1a0
#define MSR_MTRR_PHYS_FIRST	0x200
#define MSR_MTRR_PHYS_LAST	0x20f
#define MSR_MTRR_FIX64K		0x250
#define MSR_MTRR_FIX16K_80000	0x258
#define MSR_MTRR_FIX16K_A0000	0x259
#define MSR_MTRR_FIX4K_FIRST	0x268
#define MSR_MTRR_FIX4K_LAST	0x26f
#define MSR_PAT			0x277
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_X2APIC_FIRST	0x800
#define MSR_X2APIC_LAST		0x8ff
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_TSC_AUX		0xc0000103

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static int fixed_mtrr_index(uint32_t index)
{
	if (index == MSR_MTRR_FIX64K)
		return 0;
	if (index == MSR_MTRR_FIX16K_80000 || index == MSR_MTRR_FIX16K_A0000)
		return (int)(index - MSR_MTRR_FIX16K_80000) + 1;
	if (index >= MSR_MTRR_FIX4K_FIRST && index <= MSR_MTRR_FIX4K_LAST)
		return (int)(index - MSR_MTRR_FIX4K_FIRST) + 3;
	return -1;
}

bool cpu_rdmsr(struct tcg_cpu *cpu, uint32_t index, uint64_t *value)
{
	int fixed = fixed_mtrr_index(index);

	if (fixed >= 0) {
		*value = cpu->mtrr_fixed[fixed];
		return true;
	}
	if (index >= MSR_MTRR_PHYS_FIRST && index <= MSR_MTRR_PHYS_LAST) {
		*value = cpu->mtrr_var[index - MSR_MTRR_PHYS_FIRST];
		return true;
	}
	if (index == MSR_APIC_BASE || index == MSR_TSC_DEADLINE ||
	    (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST))
		return cpu->lapic && lapic_msr_read(cpu->lapic, index, value);
	switch (index) {
	case MSR_TSC: *value = cpu_tsc(cpu); return true;
	case MSR_UCODE_REV: *value = 0; return true;
	case MSR_MTRRCAP: *value = 0x508; return true;	/* 8 variable, fixed, WC */
	case MSR_SYSENTER_CS: *value = cpu->msr.sysenter_cs; return true;
	case MSR_SYSENTER_ESP: *value = cpu->msr.sysenter_esp; return true;
	case MSR_SYSENTER_EIP: *value = cpu->msr.sysenter_eip; return true;
	case MSR_MISC_ENABLE: *value = cpu->misc_enable; return true;
	case MSR_PAT: *value = cpu->msr.pat; return true;
	case MSR_MTRR_DEF_TYPE: *value = cpu->mtrr_def_type; return true;
	case MSR_EFER: *value = cpu->efer; return true;
	case MSR_STAR: *value = cpu->msr.star; return true;
	case MSR_LSTAR: *value = cpu->msr.lstar; return true;
	case MSR_CSTAR: *value = cpu->msr.cstar; return true;
	case MSR_SFMASK: *value = cpu->msr.sfmask; return true;
	case MSR_FS_BASE: *value = cpu->seg[SEG_FS].base; return true;
	case MSR_GS_BASE: *value = cpu->seg[SEG_GS].base; return true;
	case MSR_KERNEL_GS_BASE: *value = cpu->msr.kernel_gs_base; return true;
	case MSR_TSC_AUX: *value = cpu->msr.tsc_aux; return true;
	default:
		log_debug("software CPU: RDMSR 0x%x: not implemented, #GP", index);
		return false;
	}
}

static bool valid_pat(uint64_t v)
{
	/* Each of the 8 entries: 0, 1, 4, 5, 6 or 7 (2 and 3 are reserved). */
	for (int i = 0; i < 8; i++) {
		unsigned int t = (v >> (8 * i)) & 0xff;

		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

bool cpu_wrmsr(struct tcg_cpu *cpu, uint32_t index, uint64_t value)
{
	int fixed = fixed_mtrr_index(index);

	if (fixed >= 0) {
		cpu->mtrr_fixed[fixed] = value;
		return true;
	}
	if (index >= MSR_MTRR_PHYS_FIRST && index <= MSR_MTRR_PHYS_LAST) {
		cpu->mtrr_var[index - MSR_MTRR_PHYS_FIRST] = value;
		return true;
	}
	if (index == MSR_APIC_BASE || index == MSR_TSC_DEADLINE ||
	    (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST)) {
		bool ok = cpu->lapic && lapic_msr_write(cpu->lapic, index, value);

		cpu->exit_request = 1;	/* an IPI or EOI may make something deliverable */
		return ok;
	}
	switch (index) {
	case MSR_TSC:
		cpu->tsc_offset = (int64_t)(value - __builtin_ia32_rdtsc());
		return true;
	case MSR_UCODE_REV:
		return true;
	case MSR_SYSENTER_CS: cpu->msr.sysenter_cs = value & 0xffff; return true;
	case MSR_SYSENTER_ESP:
		if (!canonical(value))
			return false;
		cpu->msr.sysenter_esp = value;
		return true;
	case MSR_SYSENTER_EIP:
		if (!canonical(value))
			return false;
		cpu->msr.sysenter_eip = value;
		return true;
	case MSR_MISC_ENABLE:
		cpu->misc_enable = value;
		return true;
	case MSR_PAT:
		if (!valid_pat(value))
			return false;
		cpu->msr.pat = value;
		return true;
	case MSR_MTRR_DEF_TYPE:
		if (value & ~0xcffULL)
			return false;
		cpu->mtrr_def_type = value;
		return true;
	case MSR_EFER: {
		/* cpu_write_efer raises #GP itself for reserved bits or a bad LME change. */
		cpu_write_efer(cpu, value);
		return true;
	}
	case MSR_STAR: cpu->msr.star = value; return true;
	case MSR_LSTAR:
		if (!canonical(value))
			return false;
		cpu->msr.lstar = value;
		return true;
	case MSR_CSTAR:
		if (!canonical(value))
			return false;
		cpu->msr.cstar = value;
		return true;
	case MSR_SFMASK: cpu->msr.sfmask = value & 0xffffffff; return true;
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
		if (!canonical(value))
			return false;
		if (index == MSR_FS_BASE)
			cpu->seg[SEG_FS].base = value;
		else if (index == MSR_GS_BASE)
			cpu->seg[SEG_GS].base = value;
		else
			cpu->msr.kernel_gs_base = value;
		return true;
	case MSR_TSC_AUX:
		if (value >> 32)
			return false;
		cpu->msr.tsc_aux = value;
		return true;
	default:
		log_debug("software CPU: WRMSR 0x%x = 0x%" G_GINT64_MODIFIER "x: not implemented, #GP",
			  index, value);
		return false;
	}
}
