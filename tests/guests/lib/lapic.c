/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lapic.h"
#include "idt.h"
#include "io.h"

#define LAPIC_TIMER_ONESHOT	0x00000
#define LAPIC_TIMER_DIVIDE_1	0x0b	/* SDM vol. 3A §12.5.4, figure 12-10 */
#define LAPIC_TICKS_PER_US	1000	/* 1 GHz, see lapic.h */
#define IPI_POLL_LIMIT		1000

static volatile bool timeout_fired;
static uint32_t timeout_initial_count;

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_DEFAULT_BASE + reg);
}

void lapic_write(uint32_t reg, uint32_t value)
{
	mmio_write32(LAPIC_DEFAULT_BASE + reg, value);
}

uint8_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_enable(void)
{
	uint64_t base = rdmsr(IA32_APIC_BASE_MSR);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(IA32_APIC_BASE_MSR, base | APIC_BASE_ENABLE);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	lapic_write(LAPIC_TPR, 0);
	if (base & APIC_BASE_BSP) {
		lapic_write(LAPIC_LVT_LINT0, LAPIC_DELIVERY_EXTINT);
		lapic_write(LAPIC_LVT_LINT1, LAPIC_DELIVERY_NMI);
	}
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

bool lapic_send_ipi(uint8_t apic_id, uint32_t icr_low)
{
	lapic_write(LAPIC_ICR_HIGH, (uint32_t)apic_id << 24);
	lapic_write(LAPIC_ICR_LOW, icr_low);	/* this write sends */
	for (int i = 0; i < IPI_POLL_LIMIT; i++) {
		if (!(lapic_read(LAPIC_ICR_LOW) & LAPIC_ICR_PENDING))
			return true;
		cpu_relax();
	}
	return false;
}

static void timeout_interrupt(struct trap_frame *frame)
{
	timeout_fired = true;
	lapic_eoi();
}

void timeout_start(uint32_t ms)
{
	uint64_t count = (uint64_t)ms * 1000 * LAPIC_TICKS_PER_US;

	if (count > 0xffffffffULL)
		count = 0xffffffffULL;
	if (!count)
		count = 1;
	timeout_fired = false;
	timeout_initial_count = (uint32_t)count;
	idt_set_handler(TIMEOUT_VECTOR, timeout_interrupt);
	lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_TIMER_DIVIDE_1);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_ONESHOT | TIMEOUT_VECTOR);
	lapic_write(LAPIC_TIMER_INITIAL, timeout_initial_count);
}

bool timeout_expired(void)
{
	/* The count stops at zero in one-shot mode (SDM vol. 3A §12.5.4). */
	return timeout_fired || lapic_read(LAPIC_TIMER_CURRENT) == 0;
}

uint64_t timeout_elapsed_us(void)
{
	uint32_t current = lapic_read(LAPIC_TIMER_CURRENT);

	return (timeout_initial_count - current) / LAPIC_TICKS_PER_US;
}

uint32_t timeout_elapsed_ms(void)
{
	return (uint32_t)(timeout_elapsed_us() / 1000);
}

void timeout_stop(void)
{
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | TIMEOUT_VECTOR);
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	timeout_fired = false;
}

void udelay(uint32_t us)
{
	uint32_t ms = (us + 999) / 1000;

	timeout_start(ms ? ms : 1);
	if (us < 1000) {
		/* Short waits: poll the count instead of a whole millisecond. */
		while (!timeout_expired() && timeout_elapsed_us() < us)
			cpu_relax();
	} else {
		while (!timeout_expired())
			irq_wait();
	}
	timeout_stop();
}
