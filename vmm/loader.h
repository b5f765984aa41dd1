/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_LOADER_H
#define VESSEL_VMM_LOADER_H

#include <glib.h>
#include <stdbool.h>

#include "guest_memory.h"
#include "layout.h"
#include "x86_state.h"

/*
 * Direct kernel boot: puts a kernel (and initrd, command line) into guest RAM
 * and describes the boot CPU's entry state.  Two formats:
 *
 *  - Linux bzImage through the 64-bit boot protocol (loader_linux.c,
 *    Documentation/x86/boot.rst "64-bit Boot Protocol"); its compressed
 *    kernel is normally unpacked on the host (loader_unpack.c) and loaded
 *    as an ELF (loader_vmlinux.c),
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
	/*
	 * Linux: copy the bzImage and let its own decompressor unpack the
	 * kernel in the guest, as firmware-booted kernels do.  By default the
	 * loader unpacks it on the host when it knows the compression, and
	 * enters the uncompressed kernel directly (docs/boot.md).
	 */
	bool guest_decompress;
	/*
	 * The linear framebuffer firmware set up (size_bytes 0: none).  Linux
	 * finds it in boot_params.screen_info, so its simpledrm/simplefb shows
	 * the console from the first line.  XRGB8888 only.
	 */
	struct boot_framebuffer {
		uint64_t base;
		uint32_t width, height, stride_bytes;
		uint64_t size_bytes;		/* all of video memory */
	} framebuffer;
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

/*
 * The boot GDT both loaders write at LAYOUT_BOOT_GDT_ADDR.  Selectors 0x10 and
 * 0x18 are the ones the Linux boot protocol names (__BOOT_CS, __BOOT_DS);
 * multiboot kernels get the same layout with a 32-bit code segment.  The TSS
 * only exists because hardware virtualization insists on a usable TR; it sits
 * in the same boot-GDT page, below the zero page.
 */
#define LOADER_BOOT_CS		0x10
#define LOADER_BOOT_DS		0x18
#define LOADER_BOOT_TSS		0x20	/* 16-byte descriptor in long mode */
#define LOADER_BOOT_GDT_ENTRIES	6
#define LOADER_BOOT_TSS_ADDR	(LAYOUT_BOOT_GDT_ADDR + 0x80)
#define LOADER_BOOT_TSS_SIZE	104	/* the architectural minimum */

/* Helpers shared by the format loaders (loader.c). */

/*
 * Reads a regular, non-empty file into memory.  `what` ("kernel", "initrd")
 * starts the error messages: "cannot open initrd 'X': ...".
 */
GBytes *loader_read_file(const char *path, const char *what, GError **error);
/* guest_memory_write() with an error naming what did not fit. */
bool loader_write_guest(const struct guest_memory *mem, uint64_t guest_phys_addr,
			const void *src, size_t len, const char *what, GError **error);
/*
 * Writes the boot GDT and TSS and loads CS/DS/ES/FS/GS/SS, TR, LDTR, GDTR and
 * IDTR of `cpu` to match: 64-bit code segment if long_mode, else 32-bit.
 */
bool loader_setup_boot_segments(const struct guest_memory *mem, bool long_mode,
				struct x86_cpu_state *cpu, GError **error);

#endif
