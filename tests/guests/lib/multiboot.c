/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "multiboot.h"
#include "cmdline.h"
#include "printf.h"
#include "string.h"

/* Multiboot 0.6.96 §3.3, "Boot information format". */
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;
	uint32_t mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
} __attribute__((packed));

/* `size` does not count itself; entries follow at +size+4. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));

struct boot_info boot_info;

bool multiboot_parse(uint32_t magic, uint32_t info_addr)
{
	const struct multiboot_info *info;

	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		printf("multiboot: bad magic %#x in EAX (want %#x)\n", magic,
		       MULTIBOOT_BOOTLOADER_MAGIC);
		return false;
	}
	if (!info_addr) {
		printf("multiboot: no information structure (EBX = 0)\n");
		return false;
	}
	info = (const struct multiboot_info *)(uintptr_t)info_addr;
	boot_info.flags = info->flags;
	if (info->flags & MULTIBOOT_INFO_MEMORY) {
		boot_info.mem_lower_kib = info->mem_lower;
		boot_info.mem_upper_kib = info->mem_upper;
	}
	if (info->flags & MULTIBOOT_INFO_MODS)
		boot_info.mods_count = info->mods_count;
	if ((info->flags & MULTIBOOT_INFO_CMDLINE) && info->cmdline) {
		const char *cmdline = (const char *)(uintptr_t)info->cmdline;
		size_t n = strnlen(cmdline, BOOT_CMDLINE_MAX - 1);

		memcpy(boot_info.cmdline, cmdline, n);
		boot_info.cmdline[n] = '\0';
	}
	if (info->flags & MULTIBOOT_INFO_MEM_MAP) {
		uint64_t addr = info->mmap_addr;
		uint64_t end = addr + info->mmap_length;

		while (addr + sizeof(struct multiboot_mmap_entry) <= end &&
		       boot_info.mmap_count < BOOT_MMAP_MAX) {
			const struct multiboot_mmap_entry *e =
				(const void *)(uintptr_t)addr;
			struct boot_mmap_entry *out =
				&boot_info.mmap[boot_info.mmap_count++];

			out->base = e->base_addr;
			out->length = e->length;
			out->type = e->type;
			if (e->size < 20) {
				printf("multiboot: memory map entry size %u < 20\n",
				       e->size);
				return false;
			}
			addr += (uint64_t)e->size + 4;
		}
	}
	return true;
}

void multiboot_print(void)
{
	printf("multiboot: flags %#x, cmdline \"%s\"\n", boot_info.flags,
	       boot_info.cmdline);
	if (boot_info.flags & MULTIBOOT_INFO_MEMORY)
		printf("multiboot: mem_lower %u KiB, mem_upper %u KiB\n",
		       boot_info.mem_lower_kib, boot_info.mem_upper_kib);
	for (unsigned int i = 0; i < boot_info.mmap_count; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];

		printf("multiboot: mmap %#011lx-%#011lx type %u\n", e->base,
		       e->base + e->length - 1, e->type);
	}
}

uint64_t multiboot_ram_top_below_4g(void)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < boot_info.mmap_count; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];

		if (e->type == MULTIBOOT_MEMORY_AVAILABLE &&
		    e->base <= 0x100000 && e->base + e->length > 0x100000)
			top = e->base + e->length;
	}
	if (top > 0x100000000ULL)
		top = 0x100000000ULL;
	return top;
}

uint64_t multiboot_ram_total(void)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < boot_info.mmap_count; i++) {
		if (boot_info.mmap[i].type == MULTIBOOT_MEMORY_AVAILABLE)
			total += boot_info.mmap[i].length;
	}
	return total;
}

uint64_t multiboot_ram_above_4g(void)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < boot_info.mmap_count; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];

		if (e->type == MULTIBOOT_MEMORY_AVAILABLE &&
		    e->base >= 0x100000000ULL)
			total += e->length;
	}
	return total;
}

bool cmdline_get(const char *key, char *buf, size_t size)
{
	return cmdline_find_value(boot_info.cmdline, key, buf, size);
}

bool cmdline_get_u64(const char *key, uint64_t *value)
{
	return cmdline_find_u64(boot_info.cmdline, key, value);
}
