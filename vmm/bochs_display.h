/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_BOCHS_DISPLAY_H
#define VESSEL_VMM_BOCHS_DISPLAY_H

#include <glib.h>
#include <stdint.h>

#include "display.h"
#include "guest_memory.h"
#include "pci.h"

/*
 * A linear framebuffer with the Bochs "dispi" (VBE) register interface, as
 * Linux's `bochs` DRM driver and QEMU's bochs-display know it: PCI 1234:1111,
 * class 0x0380.
 *
 *   BAR0  video memory, 32-bit prefetchable, mapped as guest RAM (so the
 *         guest writes pixels at memory speed) with dirty tracking;
 *   BAR2  4 KiB of registers: 0x400-0x41f the VGA ports 0x3c0-0x3df (the
 *         attribute index for blanking, the DAC palette for 8 bpp),
 *         0x500-0x515 the dispi registers (16 bits each, index * 2),
 *         0x600-0x607 the framebuffer endianness registers;
 *   ports 0x1ce (index) and 0x1cf (data): the dispi registers again.
 *
 * Every mode the guest programs reaches the display; one that does not fit
 * in video memory shows nothing (and is logged), never a read outside it.
 */
#define BOCHS_DISPLAY_PORT		0x1ce
#define BOCHS_DISPLAY_PORT_COUNT	3	/* a 16-bit access at 0x1cf ends at 0x1d0 */
#define BOCHS_DISPLAY_DEFAULT_VRAM	(16ULL << 20)
#define BOCHS_DISPLAY_MAX_WIDTH		8192
#define BOCHS_DISPLAY_MAX_HEIGHT	8192

/* How the device asks its machine to move video memory and read its dirty log. */
struct bochs_display_host_ops {
	void (*vram_moved)(void *opaque, unsigned int device_ram_index);
	bool (*vram_dirty)(void *opaque, unsigned int device_ram_index, uint64_t *bitmap);
};

struct bochs_display;

struct bochs_display *bochs_display_new(struct guest_memory *mem, struct display *display,
					uint64_t vram_size_bytes,
					const struct bochs_display_host_ops *host_ops, void *host_opaque,
					GError **error);
void bochs_display_free(struct bochs_display *bd);
/* Power-on state: display disabled, video memory kept (as on a warm reset). */
void bochs_display_reset(struct bochs_display *bd);
struct pci_device *bochs_display_pci_device(struct bochs_display *bd);

/*
 * What firmware does before it starts a kernel: a linear mode of
 * width x height at 32 bpp, memory cleared.  Needs BAR0 to be mapped.
 * *lfb_addr receives the guest-physical address of the first pixel.
 */
bool bochs_display_set_boot_mode(struct bochs_display *bd, unsigned int width, unsigned int height,
				 uint64_t *lfb_addr, GError **error);

extern const struct bus_ops bochs_display_port_ops;	/* at BOCHS_DISPLAY_PORT */

#endif
