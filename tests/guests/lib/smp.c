/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "smp.h"
#include "idt.h"
#include "lapic.h"
#include "string.h"

extern const char smp_trampoline_start[], smp_trampoline_end[];

static smp_ap_fn ap_fn;

void smp_prepare(smp_ap_fn fn)
{
	ap_fn = fn;
	memcpy((void *)SMP_TRAMPOLINE_ADDR, smp_trampoline_start,
	       smp_trampoline_end - smp_trampoline_start);
}

bool smp_start_ap(uint8_t apic_id)
{
	uint32_t vector = SMP_TRAMPOLINE_ADDR >> 12;

	/* Appendix B.4: INIT, wait 10 ms, STARTUP, 200 us, STARTUP again. */
	if (!lapic_send_ipi(apic_id, LAPIC_ICR_INIT | LAPIC_ICR_LEVEL |
				     LAPIC_ICR_ASSERT))
		return false;
	/* The de-assert only matters to 82489DX APICs but does no harm. */
	if (!lapic_send_ipi(apic_id, LAPIC_ICR_INIT | LAPIC_ICR_LEVEL))
		return false;
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		if (!lapic_send_ipi(apic_id, LAPIC_ICR_STARTUP | vector))
			return false;
		udelay(200);
	}
	return true;
}

/* From boot.S, on the AP's own stack. */
void smp_ap_start(unsigned int index)
{
	idt_load();
	if (ap_fn)
		ap_fn(index);
}
