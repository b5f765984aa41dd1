/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_E820_H
#define VESSEL_VMM_E820_H

#include <stdint.h>

#include "guest_memory.h"

/* The BIOS memory map (ACPI 6.5 §15, "System Address Map Interfaces"). */
#define E820_TYPE_RAM		1
#define E820_TYPE_RESERVED	2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

#define E820_MAX_ENTRIES 8

/*
 * Describes the guest's RAM and the reserved holes of layout.h, sorted by
 * address.  Returns the number of entries written to `entries`.
 */
unsigned int e820_build(const struct guest_memory *mem, struct e820_entry entries[E820_MAX_ENTRIES]);

#endif
