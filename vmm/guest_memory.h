/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_GUEST_MEMORY_H
#define VESSEL_VMM_GUEST_MEMORY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Guest RAM: anonymous host memory, split around the PCI hole below 4 GiB
 * (see layout.h).  One table maps guest-physical ranges to host pointers; both
 * accelerators, the loaders and DMA-capable devices use it.
 *
 * Every lookup takes guest-controlled addresses and lengths and is overflow
 * safe: a range that is not entirely RAM yields NULL/false, never a pointer
 * past the mapping.
 */
#define GUEST_MEMORY_MAX_REGIONS 2

struct guest_memory_region {
	uint64_t guest_phys_addr;
	uint64_t size_bytes;
	uint8_t *host;
};

/*
 * Memory a device owns and the guest maps through a PCI BAR (video memory):
 * host memory of a fixed size whose guest-physical address changes when the
 * guest moves the BAR.  guest_phys_addr is read and written atomically, so
 * vCPU threads may look it up while another thread moves it.
 */
#define GUEST_MEMORY_MAX_DEVICE_RAM 2
#define GUEST_MEMORY_UNMAPPED UINT64_MAX

struct guest_memory_device_ram {
	const char *name;
	uint8_t *host;
	uint64_t size_bytes;		/* a multiple of 4 KiB */
	uint64_t guest_phys_addr;	/* atomic; GUEST_MEMORY_UNMAPPED when not mapped */
};

struct guest_memory {
	struct guest_memory_region regions[GUEST_MEMORY_MAX_REGIONS];
	unsigned int nr_regions;
	struct guest_memory_device_ram device_ram[GUEST_MEMORY_MAX_DEVICE_RAM];
	unsigned int nr_device_ram;
	uint64_t ram_size_bytes;	/* total, as the user asked */
	uint8_t *mapping;		/* one host mapping backs all regions */
};

/* Parses "512M", "4G", "1024" (MiB when no suffix, as QEMU does), "64MiB". */
bool guest_memory_parse_size(const char *text, uint64_t *size_bytes, GError **error);

bool guest_memory_init(struct guest_memory *mem, uint64_t ram_size_bytes, GError **error);
void guest_memory_destroy(struct guest_memory *mem);

/*
 * Adds device memory of size_bytes (zeroed, not mapped).  Returns its index
 * or -1 with *error set.  It lives until guest_memory_destroy().
 */
int guest_memory_add_device_ram(struct guest_memory *mem, const char *name, uint64_t size_bytes,
				GError **error);
/*
 * Maps device memory `index` at guest_phys_addr (GUEST_MEMORY_UNMAPPED:
 * unmaps it).  Device memory lives below 4 GiB and never over RAM: a place
 * that breaks either rule leaves it unmapped and returns false.
 */
bool guest_memory_map_device_ram(struct guest_memory *mem, unsigned int index,
				 uint64_t guest_phys_addr);
uint64_t guest_memory_device_ram_addr(const struct guest_memory *mem, unsigned int index);
/*
 * Zeroes the first len bytes of device memory `index` by giving the pages
 * back to the host (they read as zero and cost nothing until written), as
 * a device clearing its memory does.
 */
void guest_memory_device_ram_zero(struct guest_memory *mem, unsigned int index, uint64_t len);

/*
 * Host pointer to [guest_phys_addr, +len) when it lies inside one region of
 * RAM or of mapped device memory.
 */
void *guest_memory_ptr(const struct guest_memory *mem, uint64_t guest_phys_addr,
		       uint64_t len);
/* Copies that may cross RAM regions (not device memory); false if any byte is not RAM. */
bool guest_memory_read(const struct guest_memory *mem, uint64_t guest_phys_addr,
		       void *dst, size_t len);
bool guest_memory_write(const struct guest_memory *mem, uint64_t guest_phys_addr,
			const void *src, size_t len);
/* RAM below the PCI hole and above 4 GiB. */
uint64_t guest_memory_low_end(const struct guest_memory *mem);
uint64_t guest_memory_high_size(const struct guest_memory *mem);

#endif
