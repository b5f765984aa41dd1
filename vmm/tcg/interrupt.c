/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Exceptions and interrupts (Intel SDM Vol. 3A ch. 6): delivery through the
 * real-mode IVT or the IDT (32-bit and 64-bit gates, stack switch through
 * the TSS, IST), the double-fault rules and the triple fault; and IRET.
 */
#include "cpu.h"

#include "log.h"

#include <stdio.h>

void cpu_raise(struct tcg_cpu *cpu, int vector, uint32_t error_code)
{
	cpu->pending_vector = vector;
	cpu->pending_error = error_code;
	cpu_longjmp(cpu);
}

static bool vector_has_error_code(int vector)
{
	return vector == EXC_DF || (vector >= EXC_TS && vector <= EXC_PF) || vector == EXC_AC;
}

static bool contributory(int vector)
{
	return vector == EXC_DE || (vector >= EXC_TS && vector <= EXC_GP);
}

void cpu_handle_exception(struct tcg_cpu *cpu)
{
	int vector = cpu->pending_vector, first = cpu->delivering_vector;
	uint32_t error = cpu->pending_error;
	static int trace = -1;

	/* VESSEL_TCG_TRACE_EXCEPTIONS=1: one stderr line per exception (debugging). */
	if (unlikely(trace)) {
		if (trace < 0)
			trace = g_getenv("VESSEL_TCG_TRACE_EXCEPTIONS") != NULL;
		if (trace) {
			fprintf(stderr, "tcg %u: exception %d error 0x%x at rip 0x%" G_GINT64_MODIFIER "x rsp 0x%" G_GINT64_MODIFIER "x cr2 0x%" G_GINT64_MODIFIER "x cpl %u cr3 0x%" G_GINT64_MODIFIER "x\n",
				cpu->index, vector, error, cpu->rip, cpu->regs[4], cpu->cr2, cpu->cpl, cpu->cr3);
			if (vector == EXC_PF && cpu->long_mode) {
				uint64_t table = cpu->cr3 & 0xffffffffff000ULL;

				for (int level = 4; level >= 1; level--) {
					uint64_t e = phys_read(cpu, table + ((cpu->cr2 >> (12 + 9 * (level - 1))) & 0x1ff) * 8, 8);

					fprintf(stderr, "    level %d entry 0x%016" G_GINT64_MODIFIER "x\n", level, e);
					if (!(e & 1) || (e & 0x80))
						break;
					table = e & 0xffffffffff000ULL;
				}
			}
		}
	}

	/* A fault while delivering an exception (Vol. 3A §6.15, Table 6-5). */
	if (first >= 0) {
		if (first == EXC_DF) {
			cpu->shutdown = true;
			cpu->delivering_vector = -1;
			return;
		}
		if ((contributory(first) && contributory(vector)) ||
		    (first == EXC_PF && (contributory(vector) || vector == EXC_PF))) {
			vector = EXC_DF;
			error = 0;
		}
	}
	cpu->delivering_vector = vector;
	cpu_deliver_event(cpu, vector, EVENT_EXCEPTION, vector_has_error_code(vector), error, cpu->rip);
	cpu->delivering_vector = -1;
}

/* Real mode: the IVT at IDTR.base, 4 bytes per vector (Vol. 3A §20.1.4). */
static void deliver_real(struct tcg_cpu *cpu, int vector, uint64_t next_rip)
{
	uint64_t entry = (uint64_t)vector * 4;
	uint32_t ivt;

	if (entry + 3 > cpu->idtr.limit)
		cpu_raise_gp0(cpu);
	ivt = (uint32_t)sys_read(cpu, cpu->idtr.base + entry, 4);
	push(cpu, 2, cpu_get_eflags(cpu));
	push(cpu, 2, cpu->seg[SEG_CS].selector);
	push(cpu, 2, next_rip);
	cpu->eflags &= ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF);
	seg_load_real(cpu, SEG_CS, (uint16_t)(ivt >> 16));
	cpu->rip = ivt & 0xffff;
}

/* Stack pointer for privilege level dpl (or IST n) from the current TSS. */
static uint64_t tss_stack64(struct tcg_cpu *cpu, unsigned int dpl, unsigned int ist)
{
	unsigned int offset = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * dpl;
	const struct segment *tr = &cpu->seg[SEG_TR];

	if (offset + 7 > tr->limit)
		cpu_raise(cpu, EXC_TS, tr->selector & ~3u);
	return sys_read(cpu, tr->base + offset, 8);
}

static void tss_stack32(struct tcg_cpu *cpu, unsigned int dpl, uint16_t *ss, uint32_t *esp)
{
	const struct segment *tr = &cpu->seg[SEG_TR];
	bool tss32 = (tr->flags & DESC_TYPE_MASK) & 8;
	unsigned int offset = tss32 ? 4 + 8 * dpl : 2 + 4 * dpl;

	if (offset + (tss32 ? 7 : 3) > tr->limit)
		cpu_raise(cpu, EXC_TS, tr->selector & ~3u);
	if (tss32) {
		*esp = (uint32_t)sys_read(cpu, tr->base + offset, 4);
		*ss = (uint16_t)sys_read(cpu, tr->base + offset + 4, 2);
	} else {
		*esp = (uint32_t)sys_read(cpu, tr->base + offset, 2);
		*ss = (uint16_t)sys_read(cpu, tr->base + offset + 2, 2);
	}
}

/* Loads the target code segment of a gate; returns its descriptor. */
static uint64_t gate_code_segment(struct tcg_cpu *cpu, uint16_t selector, uint32_t ext)
{
	uint64_t d;

	if ((selector & ~3u) == 0)
		cpu_raise(cpu, EXC_GP, ext);
	if (!seg_read_descriptor(cpu, selector, &d))
		cpu_raise(cpu, EXC_GP, (selector & ~3u) | ext);
	if (!(d & (1ULL << 44)) || !(d & (1ULL << 43)) || ((d >> 45) & 3) > cpu->cpl)
		cpu_raise(cpu, EXC_GP, (selector & ~3u) | ext);
	if (!(d & (1ULL << 47)))
		cpu_raise(cpu, EXC_NP, (selector & ~3u) | ext);
	return d;
}

void cpu_deliver_event(struct tcg_cpu *cpu, int vector, enum event_kind kind,
		       bool has_error, uint32_t error_code, uint64_t next_rip)
{
	uint32_t ext = kind == EVENT_HARDWARE || kind == EVENT_EXCEPTION ? 1 : 0;
	uint32_t idt_error = (uint32_t)vector * 8 + 2 + ext;
	uint32_t old_flags = cpu_get_eflags(cpu);
	unsigned int old_cpl = cpu->cpl, gate_type, dpl, new_cpl;
	uint64_t lo, hi = 0, target, d;
	uint16_t selector;

	cpu->halted = false;
	/* Faults push RF set, so IRET does not re-trigger a code breakpoint (Vol. 3A §17.3.1.1). */
	if (kind == EVENT_EXCEPTION && vector != EXC_DB)
		old_flags |= FLAG_RF;
	if (!cpu->protected_mode) {
		deliver_real(cpu, vector, next_rip);
		return;
	}
	if (cpu->eflags & FLAG_VM) {
		log_guest_once("software CPU: virtual-8086 mode interrupts are not supported");
		cpu->shutdown = true;
		return;
	}

	if (cpu->long_mode) {
		if ((uint64_t)vector * 16 + 15 > cpu->idtr.limit)
			cpu_raise(cpu, EXC_GP, idt_error);
		lo = sys_read(cpu, cpu->idtr.base + (uint64_t)vector * 16, 8);
		hi = sys_read(cpu, cpu->idtr.base + (uint64_t)vector * 16 + 8, 8);
	} else {
		if ((uint64_t)vector * 8 + 7 > cpu->idtr.limit)
			cpu_raise(cpu, EXC_GP, idt_error);
		lo = sys_read(cpu, cpu->idtr.base + (uint64_t)vector * 8, 8);
	}
	gate_type = (lo >> 40) & 0xf;
	dpl = (lo >> 45) & 3;
	/* 64-bit mode allows only 64-bit interrupt (0xe) and trap (0xf) gates. */
	if (cpu->long_mode ? (gate_type != 0xe && gate_type != 0xf) :
			     (gate_type != 0x6 && gate_type != 0x7 && gate_type != 0xe && gate_type != 0xf)) {
		if (!cpu->long_mode && gate_type == 0x5)
			log_guest_once("software CPU: task gates are not supported (vector %d)", vector);
		cpu_raise(cpu, EXC_GP, idt_error);
	}
	if ((kind == EVENT_SOFTWARE) && dpl < old_cpl)
		cpu_raise(cpu, EXC_GP, idt_error);
	if (!(lo & (1ULL << 47)))
		cpu_raise(cpu, EXC_NP, idt_error);

	selector = (uint16_t)(lo >> 16);
	target = (lo & 0xffff) | ((lo >> 32) & 0xffff0000);
	if (cpu->long_mode)
		target |= hi << 32;
	d = gate_code_segment(cpu, selector, ext);
	/* A conforming code segment runs at the current privilege. */
	new_cpl = (d & (1ULL << 42)) ? old_cpl : (unsigned int)((d >> 45) & 3);

	if (cpu->long_mode) {
		unsigned int ist = (unsigned int)(lo >> 32) & 7;
		uint64_t rsp = cpu->regs[4];
		uint16_t old_ss = cpu->seg[SEG_SS].selector;

		if (!(d & (1ULL << 53)) || (d & (1ULL << 54)))
			cpu_raise(cpu, EXC_GP, (selector & ~3u) | ext);	/* not 64-bit code */
		if (ist || new_cpl != old_cpl)
			rsp = tss_stack64(cpu, new_cpl, ist);
		rsp &= ~0xfULL;	/* 64-bit frames are 16-byte aligned (Vol. 3A §6.14.2) */
		/* Write the whole frame before changing any state. */
		uint64_t frame[6];
		unsigned int n = 0;

		if (has_error)
			frame[n++] = error_code;
		frame[n++] = next_rip;
		frame[n++] = cpu->seg[SEG_CS].selector;
		frame[n++] = old_flags;
		frame[n++] = cpu->regs[4];
		frame[n++] = old_ss;
		for (unsigned int i = 0; i < n; i++)
			sys_write(cpu, rsp - 8 * (n - i), 8, frame[i]);
		rsp -= 8 * n;

		if (new_cpl != old_cpl) {
			/* SS becomes a null selector with RPL = new CPL. */
			cpu->seg[SEG_SS] = (struct segment){ .selector = (uint16_t)new_cpl,
				.flags = (uint16_t)(DESC_UNUSABLE | (new_cpl << DESC_DPL_SHIFT)) };
		}
		seg_set_accessed(cpu, selector, d);
		seg_from_descriptor(&cpu->seg[SEG_CS], (uint16_t)((selector & ~3u) | new_cpl), d | (1ULL << 40));
		cpu_set_cpl(cpu, new_cpl);
		cpu->regs[4] = rsp;
		cpu->rip = target;
	} else {
		bool gate32 = gate_type & 8;
		unsigned int push_size = gate32 ? 4 : 2;
		uint16_t new_ss = cpu->seg[SEG_SS].selector;
		uint64_t esp = stack_pointer(cpu);
		struct segment ss_cache = cpu->seg[SEG_SS];
		bool outer = new_cpl < old_cpl;

		if (outer) {
			uint32_t tss_esp;
			uint64_t ssd;

			tss_stack32(cpu, new_cpl, &new_ss, &tss_esp);
			if ((new_ss & ~3u) == 0 || !seg_read_descriptor(cpu, new_ss, &ssd) ||
			    (new_ss & 3) != new_cpl || ((ssd >> 45) & 3) != new_cpl ||
			    ((ssd >> 40) & 0x1a) != 0x12)
				cpu_raise(cpu, EXC_TS, new_ss & ~3u);
			if (!(ssd & (1ULL << 47)))
				cpu_raise(cpu, EXC_SS, new_ss & ~3u);
			seg_from_descriptor(&ss_cache, new_ss, ssd);
			esp = tss_esp;
		}
		uint64_t frame[6];
		unsigned int n = 0;

		if (has_error)
			frame[n++] = error_code;
		frame[n++] = next_rip;
		frame[n++] = cpu->seg[SEG_CS].selector;
		frame[n++] = old_flags;
		if (outer) {
			frame[n++] = stack_pointer(cpu);
			frame[n++] = cpu->seg[SEG_SS].selector;
		}
		uint64_t mask = (ss_cache.flags & DESC_DB) ? 0xffffffff : 0xffff;

		for (unsigned int i = 0; i < n; i++)
			sys_write(cpu, ss_cache.base + ((esp - push_size * (n - i)) & mask), push_size, frame[i]);
		esp -= push_size * n;
		if (outer)
			cpu->seg[SEG_SS] = ss_cache;
		seg_set_accessed(cpu, selector, d);
		seg_from_descriptor(&cpu->seg[SEG_CS], (uint16_t)((selector & ~3u) | new_cpl), d | (1ULL << 40));
		cpu_set_cpl(cpu, new_cpl);
		if (ss_cache.flags & DESC_DB)
			cpu->regs[4] = (cpu->regs[4] & ~0xffffffffULL) | (esp & 0xffffffff);
		else
			cpu->regs[4] = (cpu->regs[4] & ~0xffffULL) | (esp & 0xffff);
		cpu->rip = gate32 ? target : target & 0xffff;
	}

	/* Interrupt gates clear IF; both clear TF, NT, RF, VM (Vol. 3A §6.12.1.3). */
	cpu->eflags = cpu_get_eflags(cpu) & ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM);
	cpu->cc_op = CC_EFLAGS;
	if (!(gate_type & 1))
		cpu->eflags &= ~FLAG_IF;
	if (vector == EXC_NMI && kind == EVENT_HARDWARE)
		cpu->nmi_blocked = true;
	cpu_update_mode(cpu);
}
