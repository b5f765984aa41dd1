/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_LOADER_H
#define VESSEL_VMM_LOADER_H

#include <glib.h>
#include <stdbool.h>

#include "guest_memory.h"
#include "x86_state.h"

/*
 * Direct kernel boot: puts a kernel (and initrd, command line) into guest RAM
 * and describes the boot CPU's entry state.  Two formats:
 *
 *  - Linux bzImage through the 64-bit boot protocol (loader_linux.c,
 *    Documentation/x86/boot.rst "64-bit Boot Protocol"),
 *  - multiboot v1 ELF32 kernels (loader_multiboot.c, Multiboot Specification
 *    0.6.96 §3), which the test guests use.
 *
 * Loaders only write guest RAM inside the ranges layout.h gives them and
 * never touch [LAYOUT_EBDA_ADDR, LAYOUT_HIGH_MEMORY_ADDR), which belongs to
 * the machine (MP table, BIOS area).  Called again on every guest reset.
 */
struct boot_config {
	const char *kernel_path;
	const char *initrd_path;	/* NULL: no initrd */
	const char *cmdline;		/* NULL: empty command line */
};

struct boot_entry {
	struct x86_cpu_state bsp;	/* boot CPU registers at kernel entry */
	const char *protocol;		/* "linux" or "multiboot", for messages */
};

/* Detects the kernel format and loads it.  Errors name the file and the fix. */
bool loader_load(const struct guest_memory *mem, const struct boot_config *config,
		 struct boot_entry *entry, GError **error);

/* One loader each; loader_load() picks by looking at the file. */
bool loader_linux_probe(const uint8_t *image, size_t size);
bool loader_linux_load(const struct guest_memory *mem, const struct boot_config *config,
		       const uint8_t *image, size_t size, struct boot_entry *entry,
		       GError **error);
bool loader_multiboot_probe(const uint8_t *image, size_t size);
bool loader_multiboot_load(const struct guest_memory *mem, const struct boot_config *config,
			   const uint8_t *image, size_t size, struct boot_entry *entry,
			   GError **error);

#endif
