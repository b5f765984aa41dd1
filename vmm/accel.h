/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_ACCEL_H
#define VESSEL_VMM_ACCEL_H

#include <glib.h>
#include <stdbool.h>

#include "x86_state.h"

/*
 * An accelerator runs vCPUs: "kvm" (the host kernel's /dev/kvm with its
 * in-kernel PIC, IOAPIC, LAPIC and PIT) or "tcg" (our software CPU with
 * userspace interrupt controllers).  The machine drives every accelerator
 * through this table only.
 *
 * An accelerator handles port I/O and MMIO by calling the machine's buses
 * (machine_pio_bus()/machine_mmio_bus()); vcpu_run() returns to the machine
 * only for lifecycle events.
 */
struct machine;
struct vcpu;

enum vcpu_exit {
	VCPU_EXIT_KICKED,	/* vcpu_kick() was called, or a request is pending */
	VCPU_EXIT_RESET,	/* the CPU asks for a system reset (triple fault) */
	VCPU_EXIT_ERROR,	/* cannot continue; *error says why */
};

struct accel_ops {
	const char *name;

	/* Creates the VM: guest memory, interrupt controllers, timers. */
	void *(*vm_create)(struct machine *machine, GError **error);
	void (*vm_destroy)(void *vm);

	/* Called on the vCPU's own thread; vcpu->index 0 is the boot CPU. */
	void *(*vcpu_create)(void *vm, struct vcpu *vcpu, GError **error);
	void (*vcpu_destroy)(void *vcpu_state);
	bool (*vcpu_set_state)(void *vcpu_state, const struct x86_cpu_state *state,
			       GError **error);
	enum vcpu_exit (*vcpu_run)(void *vcpu_state, GError **error);
	/* From any thread: make vcpu_run() return VCPU_EXIT_KICKED soon. */
	void (*vcpu_kick)(void *vcpu_state);

	/* From any thread: drive an interrupt line (GSI) to a level. */
	void (*set_irq)(void *vm, unsigned int gsi, bool level);
};

extern const struct accel_ops kvm_accel_ops;

#endif
