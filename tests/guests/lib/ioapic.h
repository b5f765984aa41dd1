/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_IOAPIC_H
#define GUEST_IOAPIC_H

#include <stdint.h>

#define IOAPIC_DEFAULT_BASE	0xfec00000ULL

/* 82093AA datasheet §3.2: registers behind IOREGSEL/IOWIN. */
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_REDTBL	0x10	/* + 2 * pin: low dword, + 1: high */

/* Redirection entry, low dword (82093AA §3.2.4). */
#define IOAPIC_RTE_ACTIVE_LOW	0x02000
#define IOAPIC_RTE_LEVEL	0x08000
#define IOAPIC_RTE_MASKED	0x10000

uint32_t ioapic_read(uint64_t base, uint8_t reg);
void ioapic_write(uint64_t base, uint8_t reg, uint32_t value);
/* Number of redirection entries (version register bits 23:16, plus one). */
unsigned int ioapic_pin_count(uint64_t base);
/* Fixed delivery, physical destination mode. */
void ioapic_route(uint64_t base, unsigned int pin, uint8_t vector,
		  uint32_t flags, uint8_t dest_apic_id);
void ioapic_mask(uint64_t base, unsigned int pin);

#endif
