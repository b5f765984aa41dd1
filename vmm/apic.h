/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_APIC_H
#define VESSEL_VMM_APIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "timer.h"

/*
 * Local APICs (one per vCPU), the I/O APIC and the "APIC bus" joining them,
 * for the software CPU (KVM has its own in the kernel).  Intel SDM Vol. 3A
 * ch. 11 (xAPIC at 0xfee00000 and x2APIC MSRs 0x800-0x8ff, LVT, timer in
 * one-shot, periodic and TSC-deadline modes, IPIs incl. INIT and STARTUP,
 * logical/physical destinations, priorities) and the 82093AA I/O APIC data
 * sheet (24 pins, version 0x11, redirection table, remote IRR for
 * level-triggered pins).
 *
 * As KVM does (and a BIOS would), the bootstrap processor's LINT0 starts in
 * virtual wire mode (ExtINT, unmasked) so the 8259's INTR reaches it, and
 * LINT1 is NMI.
 */
#define APIC_DEFAULT_BASE	0xfee00000ULL
#define IOAPIC_DEFAULT_BASE	0xfec00000ULL
#define IOAPIC_NUM_PINS		24
#define LAPIC_BUS_HZ		1000000000ULL	/* timer clock before division, as KVM */

/* Delivery modes (Intel SDM Vol. 3A §11.6.1). */
enum apic_delivery_mode {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

/* An interrupt message on the APIC bus (from the IOAPIC, an MSI or an IPI). */
struct apic_message {
	uint32_t dest;			/* APIC ID, or logical destination */
	bool dest_logical;
	enum apic_delivery_mode delivery_mode;
	uint8_t vector;
	bool level_triggered;
	bool assert;			/* INIT level de-assert is false */
};

struct apic_bus;
struct lapic;
struct ioapic;

/* How a local APIC reaches its CPU.  Callbacks may come from any thread. */
struct lapic_cpu_ops {
	/* An interrupt or NMI may now be deliverable: look, and wake from HLT. */
	void (*kick)(void *cpu);
	/* INIT: the CPU goes to wait-for-SIPI (APs) or resets (BSP), Vol. 3A §8.4. */
	void (*init)(void *cpu);
	/* STARTUP with its vector: a waiting CPU starts at vector << 12 in real mode. */
	void (*startup)(void *cpu, uint8_t vector);
};

/* The guest's time-stamp counter, for TSC-deadline mode. */
struct lapic_clock {
	uint64_t (*read_tsc)(void *opaque);
	void *opaque;
	uint64_t tsc_hz;
};

struct apic_bus *apic_bus_new(void);
void apic_bus_free(struct apic_bus *bus);
/* Sends a message to every local APIC it addresses. */
void apic_bus_deliver(struct apic_bus *bus, const struct apic_message *msg);
/* The 8259 behind LINT0 in ExtINT mode: its INTA cycle. */
void apic_bus_set_extint(struct apic_bus *bus, unsigned int (*acknowledge)(void *opaque),
			 void *opaque);

struct lapic *lapic_new(struct apic_bus *bus, struct timer_service *timers, uint32_t apic_id,
			bool bsp, const struct lapic_clock *clock, const struct lapic_cpu_ops *ops,
			void *cpu);
void lapic_free(struct lapic *lapic);
/* Power-on/RESET state (APIC_BASE too); INIT keeps APIC_BASE and the ID. */
void lapic_reset(struct lapic *lapic);
void lapic_init_ipi_reset(struct lapic *lapic);

/*
 * CPU side.  lapic_pending() is cheap and lock-free enough to call at every
 * block boundary; lapic_acknowledge() is the INTA: it returns the vector to
 * deliver (moving it from IRR to ISR, or running the 8259's INTA for ExtINT),
 * or -1 if nothing is deliverable any more.
 */
bool lapic_pending(struct lapic *lapic);
/* The flag lapic_pending() reads, for a run loop that wants it inline. */
const atomic_bool *lapic_pending_flag(struct lapic *lapic);
int lapic_acknowledge(struct lapic *lapic);
bool lapic_take_nmi(struct lapic *lapic);
/* LINT0 (8259 INTR) and LINT1 (NMI) input levels. */
void lapic_set_lint(struct lapic *lapic, unsigned int lint, bool level);

/* Register access.  The xAPIC page is wherever APIC_BASE puts it. */
uint64_t lapic_base_address(struct lapic *lapic);	/* 0 when not in xAPIC mode */
uint32_t lapic_mmio_read(struct lapic *lapic, uint32_t offset);
void lapic_mmio_write(struct lapic *lapic, uint32_t offset, uint32_t value);
/*
 * MSRs: IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE (0x6e0), x2APIC 0x800-0x8ff.
 * false means the access raises #GP (reserved bits, wrong mode, read-only).
 */
bool lapic_msr_read(struct lapic *lapic, uint32_t index, uint64_t *value);
bool lapic_msr_write(struct lapic *lapic, uint32_t index, uint64_t value);

struct ioapic *ioapic_new(struct apic_bus *bus);
void ioapic_free(struct ioapic *ioapic);
void ioapic_reset(struct ioapic *ioapic);
void ioapic_set_irq(struct ioapic *ioapic, unsigned int pin, bool level);
extern const struct bus_ops ioapic_ops;	/* 0x1000 bytes at IOAPIC_DEFAULT_BASE */

#endif
