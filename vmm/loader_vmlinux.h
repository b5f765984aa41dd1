/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_LOADER_VMLINUX_H
#define VESSEL_VMM_LOADER_VMLINUX_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest_memory.h"

/*
 * The uncompressed x86-64 kernel ("vmlinux", an ELF64 executable) that a
 * bzImage carries as its payload, loaded the way the kernel's own
 * decompressor would without KASLR: every PT_LOAD segment at its physical
 * address p_paddr.
 */
struct vmlinux_segment {
	uint64_t paddr;			/* guest-physical destination */
	uint64_t filesz;		/* bytes from the file; zeroes up to memsz */
	uint64_t memsz;
	const uint8_t *data;		/* filesz bytes inside the ELF */
};

struct vmlinux {
	uint8_t *elf;			/* the whole file, owned */
	GArray *segments;		/* struct vmlinux_segment, by address */
	uint64_t entry;			/* guest-physical entry point (startup_64) */
	uint64_t start;			/* lowest segment address: where it was linked to run */
	uint64_t end;			/* one past its highest byte, bss included */
};

/*
 * Takes elf (g_malloc'ed) into *kernel, checks everything the loader uses
 * from it (header, program headers, file ranges, overlaps, the entry point)
 * and fills in the rest.  Segments must lie between 1 MiB and the PCI hole;
 * whether guest RAM covers them is the caller's check.  `path` names the
 * bzImage in messages.  Free with loader_vmlinux_clear(), also after a
 * failure.
 */
bool loader_vmlinux_parse(const char *path, uint8_t *elf, size_t size,
			  struct vmlinux *kernel, GError **error);
void loader_vmlinux_clear(struct vmlinux *kernel);

/* Copies the segments to guest RAM and zeroes their bss. */
bool loader_vmlinux_write(const struct guest_memory *mem, const struct vmlinux *kernel,
			  GError **error);

#endif
