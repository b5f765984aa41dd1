/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC	0x2badb002

/* Multiboot 0.6.96 §3.3: flags saying which information fields are valid. */
#define MULTIBOOT_INFO_MEMORY		0x001
#define MULTIBOOT_INFO_CMDLINE		0x004
#define MULTIBOOT_INFO_MODS		0x008
#define MULTIBOOT_INFO_MEM_MAP		0x040

#define MULTIBOOT_MEMORY_AVAILABLE	1

#define BOOT_MMAP_MAX			32
#define BOOT_CMDLINE_MAX		1024

struct boot_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

/*
 * What the loader told us, copied out of its multiboot information at
 * start-up: afterwards the guest may reuse the memory the loader used.
 */
struct boot_info {
	uint32_t flags;
	uint32_t mem_lower_kib;
	uint32_t mem_upper_kib;
	uint32_t mods_count;
	char cmdline[BOOT_CMDLINE_MAX];
	unsigned int mmap_count;
	struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
};

extern struct boot_info boot_info;

/* Returns false (and says why) if the loader's information is unusable. */
bool multiboot_parse(uint32_t magic, uint32_t info_addr);
void multiboot_print(void);

/*
 * End of the available RAM that starts at 1 MiB (the "top of memory" below
 * the 4 GiB hole, as CMOS 0x34/0x35 describes it), 0 if there is none.
 */
uint64_t multiboot_ram_top_below_4g(void);
/* Sum of all available ranges. */
uint64_t multiboot_ram_total(void);
/* Sum of the available ranges at or above 4 GiB. */
uint64_t multiboot_ram_above_4g(void);

/*
 * cmdline_find_value and cmdline_find_u64 (cmdline.h) on the multiboot
 * command line.  (QEMU puts the kernel's file name first, like GRUB.)
 */
bool cmdline_get(const char *key, char *buf, size_t size);
bool cmdline_get_u64(const char *key, uint64_t *value);

#endif
