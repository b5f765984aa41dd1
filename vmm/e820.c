/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "e820.h"

#include "layout.h"

unsigned int e820_build(const struct guest_memory *mem, struct e820_entry entries[E820_MAX_ENTRIES])
{
	uint64_t low_end = guest_memory_low_end(mem);
	uint64_t high_size = guest_memory_high_size(mem);
	unsigned int n = 0;

	/*
	 * Conventional memory stops 1 KiB short of 640 KiB: that KiB is the
	 * EBDA, where the BIOS area's pointer (0x40e) sends MP table scans.
	 */
	entries[n++] = (struct e820_entry){ 0, LAYOUT_EBDA_ADDR, E820_TYPE_RAM };
	entries[n++] = (struct e820_entry){ LAYOUT_EBDA_ADDR, LAYOUT_VGA_HOLE_ADDR - LAYOUT_EBDA_ADDR,
					    E820_TYPE_RESERVED };
	entries[n++] = (struct e820_entry){ LAYOUT_BIOS_AREA_ADDR,
					    LAYOUT_HIGH_MEMORY_ADDR - LAYOUT_BIOS_AREA_ADDR,
					    E820_TYPE_RESERVED };
	if (low_end > LAYOUT_HIGH_MEMORY_ADDR)
		entries[n++] = (struct e820_entry){ LAYOUT_HIGH_MEMORY_ADDR,
						    low_end - LAYOUT_HIGH_MEMORY_ADDR, E820_TYPE_RAM };
	/* KVM on Intel keeps its real-mode TSS and identity map here. */
	entries[n++] = (struct e820_entry){ LAYOUT_KVM_IDENTITY_MAP_ADDR, 0x4000, E820_TYPE_RESERVED };
	if (high_size)
		entries[n++] = (struct e820_entry){ LAYOUT_4GIB, high_size, E820_TYPE_RAM };
	return n;
}
