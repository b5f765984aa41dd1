/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_DEFAULT_BASE	0xfee00000ULL

/* Local APIC register offsets (SDM vol. 3A §12.4.1, table 12-1). */
#define LAPIC_ID		0x020
#define LAPIC_VERSION		0x030
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_ISR		0x100
#define LAPIC_ESR		0x280
#define LAPIC_ICR_LOW		0x300
#define LAPIC_ICR_HIGH		0x310
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_LVT_ERROR		0x370
#define LAPIC_TIMER_INITIAL	0x380
#define LAPIC_TIMER_CURRENT	0x390
#define LAPIC_TIMER_DIVIDE	0x3e0

#define LAPIC_SVR_ENABLE	0x100
#define LAPIC_SPURIOUS_VECTOR	0xff
#define LAPIC_LVT_MASKED	0x10000
#define LAPIC_DELIVERY_NMI	0x400
#define LAPIC_DELIVERY_EXTINT	0x700

/* ICR (SDM vol. 3A §12.6.1, figure 12-12). */
#define LAPIC_ICR_INIT		0x00500
#define LAPIC_ICR_STARTUP	0x00600
#define LAPIC_ICR_PENDING	0x01000	/* delivery status: send pending */
#define LAPIC_ICR_ASSERT	0x04000
#define LAPIC_ICR_LEVEL		0x08000

#define IA32_APIC_BASE_MSR	0x1b
#define APIC_BASE_BSP		0x100
#define APIC_BASE_ENABLE	0x800

/* The vector of the timeout timer; kept below the spurious vector. */
#define TIMEOUT_VECTOR		0xfe

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
uint8_t lapic_id(void);
/*
 * Software-enable this CPU's LAPIC (spurious vector 0xff).  On the BSP the
 * local interrupt pins are set to "virtual wire" (MP spec 1.4 §3.6.2.2):
 * LINT0 ExtINT so the 8259's interrupts still arrive, LINT1 NMI.
 */
void lapic_enable(void);
void lapic_eoi(void);
/* Returns false if the ICR still showed "send pending" after a while. */
bool lapic_send_ipi(uint8_t apic_id, uint32_t icr_low);

/*
 * Timeouts from the LAPIC timer in one-shot mode.  KVM's in-kernel LAPIC
 * (and QEMU's) count at 1 GHz with divide-by-1; the guests assume that.
 * When the time is up, vector TIMEOUT_VECTOR wakes a halted CPU, so
 * `while (!cond && !timeout_expired()) irq_wait();` never hangs.
 * Needs lapic_enable() first; at most about 4 s.
 */
void timeout_start(uint32_t ms);
bool timeout_expired(void);
/* Milliseconds since timeout_start. */
uint32_t timeout_elapsed_ms(void);
/* Microseconds since timeout_start. */
uint64_t timeout_elapsed_us(void);
void timeout_stop(void);
/* Busy-wait (with HLT) for about us microseconds. */
void udelay(uint32_t us);

#endif
