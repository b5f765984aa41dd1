/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_ACCEL_H
#define VESSEL_VMM_ACCEL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "x86_state.h"

/*
 * An accelerator runs vCPUs: "kvm" (the host kernel's /dev/kvm with its
 * in-kernel PIC, IOAPIC, LAPIC and PIT) or "tcg" (our software CPU with
 * userspace interrupt controllers).  The machine drives every accelerator
 * through this table only.
 *
 * An accelerator handles port I/O and MMIO by calling the buses it is given;
 * vcpu_run() returns only for lifecycle events.  It knows nothing of
 * struct machine, so tools (the differential CPU tester) can drive any
 * accelerator over their own memory and buses.
 */
#include "bus.h"
#include "guest_memory.h"

/* A vCPU as the accelerator sees it. */
struct vcpu {
	void *owner;			/* the machine or tool running it */
	unsigned int index;		/* also its APIC ID; 0 is the boot CPU */
	GThread *thread;
	void *accel_state;		/* owned by the accelerator */
};

/* What an accelerator runs on; it must outlive the VM. */
struct accel_env {
	const struct guest_memory *mem;
	struct bus *pio;
	struct bus *mmio;
	unsigned int nr_cpus;
};

enum vcpu_exit {
	VCPU_EXIT_KICKED,	/* vcpu_kick() was called, or a request is pending */
	VCPU_EXIT_RESET,	/* the CPU asks for a system reset (triple fault) */
	VCPU_EXIT_ERROR,	/* cannot continue; *error says why */
};

struct accel_ops {
	const char *name;

	/* Creates the VM: guest memory, interrupt controllers, timers. */
	void *(*vm_create)(const struct accel_env *env, GError **error);
	void (*vm_destroy)(void *vm);

	/* Called on the vCPU's own thread; vcpu->index 0 is the boot CPU. */
	void *(*vcpu_create)(void *vm, struct vcpu *vcpu, GError **error);
	void (*vcpu_destroy)(void *vcpu_state);
	bool (*vcpu_set_state)(void *vcpu_state, const struct x86_cpu_state *state,
			       GError **error);
	/* The full architectural state, FPU/SSE and MSRs included. */
	bool (*vcpu_get_state)(void *vcpu_state, struct x86_cpu_state *state, GError **error);
	enum vcpu_exit (*vcpu_run)(void *vcpu_state, GError **error);
	/* From any thread: make vcpu_run() return VCPU_EXIT_KICKED soon. */
	void (*vcpu_kick)(void *vcpu_state);

	/* From any thread: drive an interrupt line (GSI) to a level. */
	void (*set_irq)(void *vm, unsigned int gsi, bool level);

	/*
	 * Device memory `index` of env->mem (video memory) was mapped, moved or
	 * unmapped: guest accesses must follow.  Any thread.  vm_create maps
	 * what is mapped at the time.
	 */
	void (*device_ram_changed)(void *vm, unsigned int index);
	/*
	 * Sets a bit in bitmap (bit i of bitmap[i / 64] for the i-th 4 KiB
	 * page) for each page of device memory `index` the guest wrote since
	 * the previous call, and starts tracking afresh.  Returns false when
	 * writes cannot be tracked (the caller must assume every page changed).
	 */
	bool (*device_ram_dirty)(void *vm, unsigned int index, uint64_t *bitmap);
};

extern const struct accel_ops kvm_accel_ops;
extern const struct accel_ops tcg_accel_ops;

#endif
