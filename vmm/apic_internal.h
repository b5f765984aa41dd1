/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_APIC_INTERNAL_H
#define VESSEL_VMM_APIC_INTERNAL_H

#include <stdint.h>

#include "apic.h"

/*
 * Between apic.c and ioapic.c only: the local APICs broadcast the EOI of a
 * level-triggered vector to the I/O APIC (Intel SDM Vol. 3A §11.8.5), which
 * clears the remote IRR of the pins using that vector.  The bus calls
 * `eoi` with no lock held.
 */
void apic_bus_set_ioapic(struct apic_bus *bus, void (*eoi)(void *opaque, uint8_t vector),
			 void *opaque);

/* apic_bus_deliver(), saying how many local APICs took the message. */
unsigned int apic_bus_deliver_counted(struct apic_bus *bus, const struct apic_message *msg);

#endif
