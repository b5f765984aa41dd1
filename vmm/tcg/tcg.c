/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "tcg" accelerator: vCPUs on the software CPU, with the chipset KVM
 * would otherwise keep in the kernel (8259 pair, 8254, I/O APIC, one local
 * APIC per vCPU) in user space, all driven by host time.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "accel.h"
#include "cpu.h"
#include "error.h"
#include "layout.h"
#include "log.h"
#include "ops.h"
#include "profile.h"
#include "vm.h"

/* --- time --- */

/* The host TSC rate, measured against CLOCK_MONOTONIC over ~20 ms. */
static uint64_t measure_tsc_hz(void)
{
	static uint64_t hz;
	struct timespec a, b;
	uint64_t t0, t1;

	if (hz)
		return hz;
	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = __builtin_ia32_rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec) < 20000000LL);
	t1 = __builtin_ia32_rdtsc();
	hz = (uint64_t)((double)(t1 - t0) * 1e9 /
			(double)((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)));
	return hz;
}

static uint64_t guest_tsc(void *opaque)
{
	struct tcg_cpu *cpu = opaque;

	return cpu_tsc(cpu);
}

/* --- interrupt wiring --- */

static void tcg_set_irq(void *opaque, unsigned int gsi, bool level)
{
	struct tcg_vm *vm = opaque;

	/* GSI n: 8259 input n (not the cascade) and I/O APIC pin n; GSI 0 is pin 2. */
	if (gsi < 16 && gsi != 2)
		pic_set_irq(vm->pic, gsi, level);
	if (gsi < IOAPIC_NUM_PINS && gsi != 2)
		ioapic_set_irq(vm->ioapic, gsi == 0 ? 2 : gsi, level);
}

static void pic_intr_changed(void *opaque, bool level)
{
	struct tcg_vm *vm = opaque;
	struct tcg_cpu *bsp;

	/* The 8259's INTR goes to the boot CPU's LINT0 (virtual wire). */
	g_mutex_lock(&vm->cpus_lock);
	bsp = vm->cpus[0];
	if (bsp && bsp->lapic)
		lapic_set_lint(bsp->lapic, 0, level);
	g_mutex_unlock(&vm->cpus_lock);
}

static unsigned int pic_ack(void *opaque)
{
	return pic_acknowledge(opaque);
}

static void pit_irq(void *opaque, unsigned int gsi, bool level)
{
	tcg_set_irq(opaque, gsi, level);
}

/* --- vCPU wake-ups --- */

static void cpu_wake(struct tcg_cpu *cpu)
{
	g_mutex_lock(&cpu->halt_lock);
	__atomic_store_n(&cpu->interrupt_request, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cpu->exit_request, 1, __ATOMIC_SEQ_CST);
	g_cond_signal(&cpu->halt_cond);
	g_mutex_unlock(&cpu->halt_lock);
}

static void lapic_kick(void *opaque)
{
	cpu_wake(opaque);
}

static void lapic_init(void *opaque)
{
	struct tcg_cpu *cpu = opaque;

	__atomic_store_n(&cpu->init_pending, 1, __ATOMIC_SEQ_CST);
	cpu_wake(cpu);
}

static void lapic_startup(void *opaque, uint8_t vector)
{
	struct tcg_cpu *cpu = opaque;

	__atomic_store_n(&cpu->sipi_vector, (int)vector | 0x100, __ATOMIC_SEQ_CST);
	cpu_wake(cpu);
}

static const struct lapic_cpu_ops tcg_lapic_ops = {
	.kick = lapic_kick,
	.init = lapic_init,
	.startup = lapic_startup,
};

/* --- VM --- */

static void tcg_vm_destroy(void *opaque)
{
	struct tcg_vm *vm = opaque;

	if (!vm)
		return;
	if (vm->pic) {
		bus_unregister(vm->env.pio, PIC_MASTER_PORT, vm->pic);
		bus_unregister(vm->env.pio, PIC_SLAVE_PORT, vm->pic);
		bus_unregister(vm->env.pio, PIC_ELCR_PORT, vm->pic);
	}
	if (vm->pit) {
		bus_unregister(vm->env.pio, PIT_PORT, vm->pit);
		bus_unregister(vm->env.pio, PIT_SPEAKER_PORT, vm->pit);
	}
	if (vm->ioapic)
		bus_unregister(vm->env.mmio, IOAPIC_DEFAULT_BASE, vm->ioapic);
	pit_free(vm->pit);
	ioapic_free(vm->ioapic);
	pic_free(vm->pic);
	apic_bus_free(vm->apic_bus);
	timer_service_free(vm->timers);
	g_free(vm->code_pages);
	g_free(vm->page_gen);
	for (unsigned int i = 0; i < GUEST_MEMORY_MAX_DEVICE_RAM; i++)
		g_free(vm->device_ram_dirty[i]);
	g_mutex_clear(&vm->device_ram_lock);
	g_mutex_clear(&vm->cpus_lock);
	g_free(vm);
}

static void *tcg_vm_create(const struct accel_env *env, GError **error)
{
	struct tcg_vm *vm = g_new0(struct tcg_vm, 1);
	const struct guest_memory *mem = env->mem;

	vm->env = *env;
	g_mutex_init(&vm->cpus_lock);
	for (unsigned int i = 0; i < mem->nr_regions; i++)
		vm->ram_top = MAX(vm->ram_top, mem->regions[i].guest_phys_addr + mem->regions[i].size_bytes);
	/* Page flags also cover video memory, which lives in the PCI hole below 4 GiB. */
	vm->nr_pages = MAX(vm->ram_top, LAYOUT_4GIB) >> 12;
	vm->code_pages = g_try_malloc0(vm->nr_pages);
	vm->page_gen = g_try_malloc0(vm->nr_pages * sizeof(vm->page_gen[0]));
	if (!vm->code_pages || !vm->page_gen) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY,
			    "not enough memory for the software CPU's code tracking");
		goto fail;
	}
	g_mutex_init(&vm->device_ram_lock);
	for (unsigned int i = 0; i < mem->nr_device_ram; i++) {
		vm->device_ram_addr[i] = GUEST_MEMORY_UNMAPPED;
		vm->device_ram_dirty[i] = g_new0(uint64_t, ((mem->device_ram[i].size_bytes >> 12) + 63) / 64);
		tcg_device_ram_changed(vm, i);
	}
	vm->tsc_hz = measure_tsc_hz();
	vm->tsc_offset = -(int64_t)__builtin_ia32_rdtsc();
	vm->timers = timer_service_new();
	vm->apic_bus = apic_bus_new();
	/* Interrupt controllers first: the PIT drives IRQ 0 as soon as it exists. */
	vm->pic = pic_new(pic_intr_changed, vm);
	vm->ioapic = ioapic_new(vm->apic_bus);
	vm->pit = pit_new(vm->timers, (struct irq_line){ .set_level = pit_irq, .opaque = vm, .gsi = 0 });
	apic_bus_set_extint(vm->apic_bus, pic_ack, vm->pic);
	if (!bus_register(env->pio, PIC_MASTER_PORT, 2, &pic_master_ops, vm->pic, "8259 master", error) ||
	    !bus_register(env->pio, PIC_SLAVE_PORT, 2, &pic_slave_ops, vm->pic, "8259 slave", error) ||
	    !bus_register(env->pio, PIC_ELCR_PORT, 2, &pic_elcr_ops, vm->pic, "ELCR", error) ||
	    !bus_register(env->pio, PIT_PORT, PIT_PORT_COUNT, &pit_ops, vm->pit, "8254", error) ||
	    !bus_register(env->pio, PIT_SPEAKER_PORT, 1, &pit_speaker_ops, vm->pit, "port 0x61", error) ||
	    !bus_register(env->mmio, IOAPIC_DEFAULT_BASE, 0x1000, &ioapic_ops, vm->ioapic, "I/O APIC", error))
		goto fail;
	return vm;
fail:
	tcg_vm_destroy(vm);
	return NULL;
}

/* --- vCPUs --- */

static void tcg_vcpu_destroy(void *opaque)
{
	struct tcg_cpu *cpu = opaque;

	if (!cpu)
		return;
	g_mutex_lock(&cpu->vm->cpus_lock);
	if (cpu->index < G_N_ELEMENTS(cpu->vm->cpus) && cpu->vm->cpus[cpu->index] == cpu)
		cpu->vm->cpus[cpu->index] = NULL;
	g_mutex_unlock(&cpu->vm->cpus_lock);
	tcg_profile_stop(cpu->profile);
	lapic_free(cpu->lapic);
	block_cache_destroy(cpu);
	g_mutex_clear(&cpu->halt_lock);
	g_cond_clear(&cpu->halt_cond);
	g_free(cpu);
}

static void *tcg_vcpu_create(void *vm_opaque, struct vcpu *vcpu, GError **error)
{
	struct tcg_vm *vm = vm_opaque;
	struct tcg_cpu *cpu = g_try_malloc0(sizeof(*cpu));
	struct lapic_clock clock;

	if (!cpu) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY, "cannot allocate vCPU %u", vcpu->index);
		return NULL;
	}
	if (vcpu->index >= G_N_ELEMENTS(vm->cpus)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the software CPU runs at most %zu vCPUs", G_N_ELEMENTS(vm->cpus));
		g_free(cpu);
		return NULL;
	}
	cpu->vm = vm;
	cpu->vcpu = vcpu;
	cpu->index = vcpu->index;
	cpu->mem = vm->env.mem;
	cpu->pio = vm->env.pio;
	cpu->mmio = vm->env.mmio;
	cpu->code_pages = vm->code_pages;
	cpu->tsc_offset = vm->tsc_offset;
	g_mutex_init(&cpu->halt_lock);
	g_cond_init(&cpu->halt_cond);
	if (!block_cache_init(cpu)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY,
			    "cannot allocate the code cache of vCPU %u", vcpu->index);
		g_free(cpu);
		return NULL;
	}
	cpu_reset(cpu);
	clock = (struct lapic_clock){ .read_tsc = guest_tsc, .opaque = cpu, .tsc_hz = vm->tsc_hz };
	cpu->lapic = lapic_new(vm->apic_bus, vm->timers, vcpu->index, vcpu->index == 0, &clock,
			       &tcg_lapic_ops, cpu);
	cpu->lapic_intr_pending = lapic_pending_flag(cpu->lapic);
	/* Application processors wait for INIT-SIPI-SIPI (Vol. 3A §8.4). */
	cpu->wait_for_sipi = vcpu->index != 0;
	g_mutex_lock(&vm->cpus_lock);
	vm->cpus[vcpu->index] = cpu;
	g_mutex_unlock(&vm->cpus_lock);
	cpu->profile = tcg_profile_start(cpu);
	return cpu;
}

static bool tcg_vcpu_set_state(void *opaque, const struct x86_cpu_state *state, GError **error)
{
	struct tcg_cpu *cpu = opaque;

	cpu_set_state(cpu, state);
	block_cache_flush(cpu);
	return true;
}

static bool tcg_vcpu_get_state(void *opaque, struct x86_cpu_state *state, GError **error)
{
	cpu_get_state(opaque, state);
	return true;
}

/* INIT: the processor's INIT state, waiting for STARTUP unless it is the BSP. */
static void handle_init(struct tcg_cpu *cpu)
{
	cpu_reset(cpu);
	lapic_init_ipi_reset(cpu->lapic);
	block_cache_flush(cpu);
	cpu->wait_for_sipi = cpu->index != 0;
	cpu->halted = false;
}

/* STARTUP: real mode at vector << 12 (Vol. 3A §8.4.4.1). */
static void handle_startup(struct tcg_cpu *cpu, uint8_t vector)
{
	seg_load_real(cpu, SEG_CS, (uint16_t)(vector << 8));
	cpu->rip = 0;
	cpu->wait_for_sipi = false;
	cpu->halted = false;
}

static void sleep_until_event(struct tcg_cpu *cpu)
{
	g_mutex_lock(&cpu->halt_lock);
	while (!__atomic_load_n(&cpu->interrupt_request, __ATOMIC_SEQ_CST))
		g_cond_wait(&cpu->halt_cond, &cpu->halt_lock);
	g_mutex_unlock(&cpu->halt_lock);
}

/*
 * Events at a block boundary: the machine's kick, INIT/STARTUP, NMI and
 * interrupts.  Returns true when vcpu_run must return to the machine.
 */
static bool handle_events(struct tcg_cpu *cpu, bool shadowed)
{
	for (;;) {
		int sipi;

		__atomic_store_n(&cpu->interrupt_request, 0, __ATOMIC_SEQ_CST);
		if (__atomic_exchange_n(&cpu->machine_kick, 0, __ATOMIC_SEQ_CST))
			return true;
		if (__atomic_exchange_n(&cpu->tlb_flush_request, 0, __ATOMIC_SEQ_CST))
			tlb_flush(cpu, true);
		if (__atomic_exchange_n(&cpu->init_pending, 0, __ATOMIC_SEQ_CST))
			handle_init(cpu);
		sipi = __atomic_exchange_n(&cpu->sipi_vector, 0, __ATOMIC_SEQ_CST);
		if (sipi && cpu->wait_for_sipi)
			handle_startup(cpu, (uint8_t)sipi);
		if (cpu->wait_for_sipi) {
			sleep_until_event(cpu);
			continue;
		}
		if (!shadowed) {
			if (!cpu->nmi_blocked && lapic_take_nmi(cpu->lapic)) {
				cpu_deliver_event(cpu, EXC_NMI, EVENT_HARDWARE, false, 0, cpu->rip);
				return false;
			}
			if ((cpu->eflags & FLAG_IF) && lapic_pending(cpu->lapic)) {
				int vector = lapic_acknowledge(cpu->lapic);

				if (vector >= 0) {
					cpu_deliver_event(cpu, vector, EVENT_HARDWARE, false, 0, cpu->rip);
					return false;
				}
			}
		}
		if (!cpu->halted)
			return false;
		/* HLT: sleep until an interrupt (or NMI, INIT, the machine) wakes us. */
		if ((cpu->eflags & FLAG_IF) && lapic_pending(cpu->lapic))
			continue;
		sleep_until_event(cpu);
	}
}

/* VESSEL_TCG_TRACE=1: one line per executed instruction on stderr (slow). */
static int trace_enabled = -1;

static void trace_insn(struct tcg_cpu *cpu, const struct insn *in)
{
	fprintf(stderr, "tcg %u: rip=%016" G_GINT64_MODIFIER "x op=%02x len=%u rax=%" G_GINT64_MODIFIER "x rbx=%" G_GINT64_MODIFIER "x rcx=%" G_GINT64_MODIFIER "x rdx=%" G_GINT64_MODIFIER "x rsi=%" G_GINT64_MODIFIER "x rdi=%" G_GINT64_MODIFIER "x rsp=%" G_GINT64_MODIFIER "x rbp=%" G_GINT64_MODIFIER "x fl=%x\n",
		cpu->index, cpu->rip, in->opcode, in->len, cpu->regs[0], cpu->regs[3], cpu->regs[1],
		cpu->regs[2], cpu->regs[6], cpu->regs[7], cpu->regs[4], cpu->regs[5], cpu_get_eflags(cpu));
}

/*
 * Runs one instruction alone: a copy of it followed by the end sentinel, so
 * the threaded dispatch stops after it.  Handlers never look at neighbouring
 * instructions, only at their own operands.
 */
static void run_one(struct tcg_cpu *cpu, const struct insn *in)
{
	struct insn step[2] = { *in, { .fn = op_end_block } };

	cpu->chain_budget = 0;
	step[0].fn(cpu, &step[0]);
}

static void run_block(struct tcg_cpu *cpu, const struct block *b)
{
	const struct insn *in = b->insns;

	if (unlikely(trace_enabled)) {
		if (trace_enabled < 0) {
			trace_enabled = g_getenv("VESSEL_TCG_TRACE") != NULL;
			if (!trace_enabled)
				goto run;
		}
		/* One at a time, to print each; a REP instruction or a branch ends the run. */
		for (uint64_t rip = cpu->rip; in->fn != op_end_block && in->fn != op_crosses_page; in++) {
			trace_insn(cpu, in);
			run_one(cpu, in);
			rip += in->len;
			if (cpu->rip != rip || __atomic_load_n(&cpu->exit_request, __ATOMIC_RELAXED))
				return;
		}
		return;
	}
run:
	if (b->jit)
		((int (*)(struct tcg_cpu *))b->jit)(cpu);
	else
		in->fn(cpu, in);
}

/*
 * RFLAGS.TF: run one instruction, then a single-step #DB trap with DR6.BS
 * (Vol. 3A §17.3.1.4).  After MOV SS / POP SS the trap waits one more
 * instruction, like interrupts.
 */
static void single_step(struct tcg_cpu *cpu, const struct block *b)
{
	run_one(cpu, &b->insns[0]);
	if (cpu->interrupt_shadow)
		return;
	cpu->dr[6] |= 1ULL << 14;	/* BS */
	/*
	 * If the machine wants the vCPU back (the instruction was an I/O exit
	 * point, say), the trap stays pending across the return, as it does in
	 * hardware virtualization; it is delivered first when the vCPU resumes.
	 */
	if (__atomic_load_n(&cpu->machine_kick, __ATOMIC_SEQ_CST)) {
		cpu->pending_single_step = true;
		return;
	}
	cpu_deliver_event(cpu, EXC_DB, EVENT_EXCEPTION, false, 0, cpu->rip);
}

/*
 * The execution loop proper, kept out of tcg_vcpu_run(): a function that
 * calls __builtin_setjmp keeps its variables in memory, this one in registers.
 * Returns when vcpu_run must return.
 */
static __attribute__((noinline)) enum vcpu_exit exec_loop(struct tcg_cpu *cpu)
{
	if (unlikely(cpu->pending_single_step)) {
		cpu->pending_single_step = false;
		cpu_deliver_event(cpu, EXC_DB, EVENT_EXCEPTION, false, 0, cpu->rip);
	}
	for (;;) {
		const struct block *b;
		bool shadowed = false;

		/* One test for everything that is rare between two blocks. */
		if (unlikely(cpu->shutdown | cpu->interrupt_shadow | cpu->halted | cpu->wait_for_sipi |
			     __atomic_load_n(&cpu->interrupt_request, __ATOMIC_RELAXED) |
			     ((cpu->eflags & FLAG_IF) &&
			      atomic_load_explicit(cpu->lapic_intr_pending, memory_order_acquire)))) {
			shadowed = cpu->interrupt_shadow;

			if (cpu->shutdown) {
				cpu->shutdown = false;
				log_info("vCPU %u triple-faulted at RIP 0x%" G_GINT64_MODIFIER "x: resetting the machine",
					 cpu->index, cpu->rip);
				return VCPU_EXIT_RESET;
			}
			cpu->interrupt_shadow = false;
			if ((__atomic_load_n(&cpu->interrupt_request, __ATOMIC_RELAXED) || cpu->halted ||
			     cpu->wait_for_sipi || (!shadowed && (cpu->eflags & FLAG_IF) && lapic_pending(cpu->lapic))) &&
			    handle_events(cpu, shadowed))
				return VCPU_EXIT_KICKED;
			if (cpu->shutdown)
				continue;
		}
		__atomic_store_n(&cpu->exit_request, 0, __ATOMIC_RELAXED);
		b = block_lookup(cpu);
		if (unlikely(cpu->eflags & FLAG_TF)) {
			single_step(cpu, b);
			continue;
		}
		/*
		 * After STI (or MOV SS) the shadow held interrupts back for this
		 * block: it runs alone, so the next boundary delivers them.  Direct
		 * links and return prediction test only kicks (interrupt_request),
		 * not an interrupt that was pending while IF was clear; chained on,
		 * a short STI ... CLI window would pass without it.
		 */
		cpu->chain_budget = shadowed ? 1 : CHAIN_BUDGET;
		run_block(cpu, b);
	}
}

static enum vcpu_exit tcg_vcpu_run(void *opaque, GError **error)
{
	struct tcg_cpu *cpu = opaque;

	if (__builtin_setjmp(cpu->jmp_env)) {
		/* An instruction (or the delivery of an event) raised an exception. */
		cpu_handle_exception(cpu);
	}
	return exec_loop(cpu);
}

static void tcg_vcpu_kick(void *opaque)
{
	struct tcg_cpu *cpu = opaque;

	__atomic_store_n(&cpu->machine_kick, 1, __ATOMIC_SEQ_CST);
	cpu_wake(cpu);
}

const struct accel_ops tcg_accel_ops = {
	.name = "tcg",
	.vm_create = tcg_vm_create,
	.vm_destroy = tcg_vm_destroy,
	.vcpu_create = tcg_vcpu_create,
	.vcpu_destroy = tcg_vcpu_destroy,
	.vcpu_set_state = tcg_vcpu_set_state,
	.vcpu_get_state = tcg_vcpu_get_state,
	.vcpu_run = tcg_vcpu_run,
	.vcpu_kick = tcg_vcpu_kick,
	.set_irq = tcg_set_irq,
	.device_ram_changed = tcg_device_ram_changed,
	.device_ram_dirty = tcg_device_ram_dirty,
};
