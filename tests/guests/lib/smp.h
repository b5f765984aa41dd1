/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "boot.h"

/*
 * Where smp_start_ap copies the real-mode trampoline: a page below 1 MiB
 * whose number is the STARTUP IPI vector (SDM vol. 3A §9.4.4.1).
 */
#define SMP_TRAMPOLINE_ADDR	0x8000

/*
 * Called on each AP in long mode with its own stack, the BSP's GDT, page
 * tables and IDT; `index` counts the APs in order of arrival from 0.
 * Returning halts the AP.
 */
typedef void (*smp_ap_fn)(unsigned int index);

/* Copy the trampoline and remember what the APs should run. */
void smp_prepare(smp_ap_fn fn);
/*
 * The INIT-SIPI-SIPI sequence of MP spec 1.4 appendix B.4 ("universal
 * start-up algorithm") to one AP.  Needs lapic_enable() on the BSP.
 * Returns false if an IPI could not be sent.
 */
bool smp_start_ap(uint8_t apic_id);

void smp_ap_start(unsigned int index);

#endif
