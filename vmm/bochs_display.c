/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bochs_display.h"

#include <string.h>

#include "error.h"
#include "log.h"

/* Dispi register indices and values (Bochs vbe.h, as the Linux driver uses them). */
enum dispi_index {
	DISPI_ID,
	DISPI_XRES,
	DISPI_YRES,
	DISPI_BPP,
	DISPI_ENABLE,
	DISPI_BANK,
	DISPI_VIRT_WIDTH,
	DISPI_VIRT_HEIGHT,
	DISPI_X_OFFSET,
	DISPI_Y_OFFSET,
	DISPI_VIDEO_MEMORY_64K,
	DISPI_NR_REGS,
};

#define DISPI_ID0		0xb0c0
#define DISPI_ID5		0xb0c5
#define DISPI_ENABLED		0x01
#define DISPI_GETCAPS		0x02
#define DISPI_8BIT_DAC		0x20
#define DISPI_LFB_ENABLED	0x40
#define DISPI_NOCLEARMEM	0x80

/* BAR2 layout (QEMU's bochs-display, which Linux's driver expects). */
#define MMIO_BAR_SIZE		0x1000
#define MMIO_VGA_BASE		0x400	/* VGA port 0x3c0 + n at 0x400 + n */
#define MMIO_VGA_END		0x420
#define MMIO_DISPI_BASE		0x500
#define MMIO_DISPI_END		(MMIO_DISPI_BASE + 2 * DISPI_NR_REGS)
#define MMIO_EXT_BASE		0x600	/* 0x600: size of this block, 0x604: endianness */
#define MMIO_EXT_SIZE		8
#define ENDIAN_LITTLE		0x1e1e1e1e

#define VGA_ATTR_INDEX		0x3c0	/* bit 5 (PAS): 0 blanks the screen */
#define VGA_DAC_WRITE_INDEX	0x3c8
#define VGA_DAC_DATA		0x3c9

#define PCI_VENDOR_QEMU_BOCHS	0x1234
#define PCI_DEVICE_BOCHS_DISPLAY 0x1111
#define PCI_CLASS_DISPLAY_OTHER	0x038000

struct bochs_display {
	GMutex lock;
	struct pci_device pci;
	struct guest_memory *mem;
	struct display *display;
	int vram_index;
	uint8_t *vram;
	uint64_t vram_size_bytes;
	const struct bochs_display_host_ops *host_ops;
	void *host_opaque;

	uint16_t regs[DISPI_NR_REGS];
	uint16_t port_index;
	bool blanked;
	uint8_t dac_index, dac_component, dac_rgb[3];
	uint32_t palette[256];

	struct display_surface published;	/* what the display was last told */

	/* Pages written through the bus (BAR0 not mapped as RAM, e.g. over RAM). */
	uint64_t *bus_dirty;
};

static unsigned int bytes_per_pixel(unsigned int bpp)
{
	return bpp == 15 ? 2 : bpp / 8;
}

static enum display_format format_of(unsigned int bpp)
{
	switch (bpp) {
	case 8: return DISPLAY_FORMAT_C8;
	case 15: return DISPLAY_FORMAT_XRGB1555;
	case 16: return DISPLAY_FORMAT_RGB565;
	case 24: return DISPLAY_FORMAT_RGB888;
	case 32: return DISPLAY_FORMAT_XRGB8888;
	}
	return DISPLAY_FORMAT_NONE;
}

/* The surface the registers describe, published to the display (lock held). */
static void publish_mode(struct bochs_display *bd)
{
	const uint16_t *r = bd->regs;
	struct display_surface s = { .format = DISPLAY_FORMAT_NONE };
	enum display_format format = format_of(r[DISPI_BPP]);

	if ((r[DISPI_ENABLE] & DISPI_ENABLED) && !bd->blanked && format != DISPLAY_FORMAT_NONE &&
	    r[DISPI_XRES] && r[DISPI_YRES]) {
		unsigned int bpp = bytes_per_pixel(r[DISPI_BPP]);
		uint64_t stride = (uint64_t)r[DISPI_VIRT_WIDTH] * bpp;
		uint64_t offset = (uint64_t)r[DISPI_Y_OFFSET] * stride + (uint64_t)r[DISPI_X_OFFSET] * bpp;

		s = (struct display_surface){
			.width = r[DISPI_XRES], .height = r[DISPI_YRES],
			.stride_bytes = (unsigned int)stride, .format = format,
		};
		/* display_set_mode() checks the whole surface; this keeps the pointer sane. */
		s.pixels = offset < bd->vram_size_bytes ? bd->vram + offset : NULL;
		memcpy(s.palette, bd->palette, sizeof(s.palette));
	}
	/* Register writes on the way to a mode are not mode changes of their own. */
	if (s.format == bd->published.format && s.width == bd->published.width &&
	    s.height == bd->published.height && s.stride_bytes == bd->published.stride_bytes &&
	    s.pixels == bd->published.pixels &&
	    (s.format != DISPLAY_FORMAT_C8 || !memcmp(s.palette, bd->published.palette, sizeof(s.palette))))
		return;
	bd->published = s;
	if (!display_set_mode(bd->display, &s))
		log_guest_once("bochs-display: mode %ux%u at %u bpp (line %u, offset %u,%u) does not fit in %" G_GUINT64_FORMAT " MiB of video memory; showing nothing",
			       r[DISPI_XRES], r[DISPI_YRES], r[DISPI_BPP], r[DISPI_VIRT_WIDTH],
			       r[DISPI_X_OFFSET], r[DISPI_Y_OFFSET], bd->vram_size_bytes >> 20);
}

/* Virtual height follows from the line length: as many lines as memory holds. */
static void update_virt_height(struct bochs_display *bd)
{
	unsigned int bpp = bytes_per_pixel(bd->regs[DISPI_BPP]);
	uint64_t line = (uint64_t)bd->regs[DISPI_VIRT_WIDTH] * (bpp ? bpp : 1);

	bd->regs[DISPI_VIRT_HEIGHT] = line ? (uint16_t)MIN(bd->vram_size_bytes / line, 0xffff) : 0;
}

static uint16_t dispi_read(struct bochs_display *bd, unsigned int index)
{
	bool caps = bd->regs[DISPI_ENABLE] & DISPI_GETCAPS;

	switch (index) {
	case DISPI_XRES:
		return caps ? BOCHS_DISPLAY_MAX_WIDTH : bd->regs[index];
	case DISPI_YRES:
		return caps ? BOCHS_DISPLAY_MAX_HEIGHT : bd->regs[index];
	case DISPI_BPP:
		return caps ? 32 : bd->regs[index];
	case DISPI_VIDEO_MEMORY_64K:
		return (uint16_t)(bd->vram_size_bytes >> 16);
	default:
		return index < DISPI_NR_REGS ? bd->regs[index] : 0;
	}
}

static void dispi_write(struct bochs_display *bd, unsigned int index, uint16_t value)
{
	uint16_t *r = bd->regs;

	switch (index) {
	case DISPI_ID:
		if (value >= DISPI_ID0 && value <= DISPI_ID5)
			r[DISPI_ID] = value;
		return;
	case DISPI_XRES:
		r[index] = MIN(value, BOCHS_DISPLAY_MAX_WIDTH);
		break;
	case DISPI_YRES:
		r[index] = MIN(value, BOCHS_DISPLAY_MAX_HEIGHT);
		break;
	case DISPI_BPP:
		/* 0 means 8, as in Bochs; anything else unknown shows nothing. */
		r[index] = value ? value : 8;
		update_virt_height(bd);
		break;
	case DISPI_ENABLE:
		if ((value & DISPI_ENABLED) && !(r[DISPI_ENABLE] & DISPI_ENABLED)) {
			/* Enabling starts a fresh mode: the virtual screen is the visible one. */
			r[DISPI_VIRT_WIDTH] = r[DISPI_XRES];
			r[DISPI_X_OFFSET] = r[DISPI_Y_OFFSET] = 0;
			update_virt_height(bd);
			if (!(value & DISPI_NOCLEARMEM)) {
				uint64_t used = (uint64_t)r[DISPI_VIRT_WIDTH] * bytes_per_pixel(r[DISPI_BPP]) *
						r[DISPI_YRES];

				guest_memory_device_ram_zero(bd->mem, (unsigned int)bd->vram_index, used);
				display_invalidate(bd->display);
			}
		}
		r[index] = value & (DISPI_ENABLED | DISPI_GETCAPS | DISPI_8BIT_DAC | DISPI_LFB_ENABLED);
		break;
	case DISPI_BANK:
		/* Banked access goes through the legacy VGA window, which this device lacks. */
		r[index] = 0;
		return;
	case DISPI_VIRT_WIDTH:
		r[index] = value;
		update_virt_height(bd);
		break;
	case DISPI_VIRT_HEIGHT:
		/* Follows from VIRT_WIDTH and the memory size. */
		return;
	case DISPI_X_OFFSET:
	case DISPI_Y_OFFSET:
		r[index] = value;
		break;
	default:
		return;
	}
	publish_mode(bd);
}

/* The VGA ports this device keeps: blanking and the 8-bpp palette. */
static void vga_write(struct bochs_display *bd, unsigned int port, uint8_t value)
{
	switch (port) {
	case VGA_ATTR_INDEX: {
		bool blanked = !(value & 0x20);

		if (blanked != bd->blanked) {
			bd->blanked = blanked;
			publish_mode(bd);
		}
		break;
	}
	case VGA_DAC_WRITE_INDEX:
		bd->dac_index = value;
		bd->dac_component = 0;
		break;
	case VGA_DAC_DATA:
		bd->dac_rgb[bd->dac_component++] = value;
		if (bd->dac_component == 3) {
			uint32_t rgb = 0;

			for (unsigned int i = 0; i < 3; i++) {
				uint32_t c = bd->dac_rgb[i];

				/* A 6-bit DAC unless the guest asked for 8 bits. */
				if (!(bd->regs[DISPI_ENABLE] & DISPI_8BIT_DAC))
					c = ((c & 0x3f) << 2) | ((c & 0x3f) >> 4);
				rgb = rgb << 8 | c;
			}
			bd->palette[bd->dac_index++] = rgb;
			bd->dac_component = 0;
			if (format_of(bd->regs[DISPI_BPP]) == DISPLAY_FORMAT_C8)
				publish_mode(bd);
		}
		break;
	}
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct bochs_display *bd = opaque;
	uint64_t value = 0;

	g_mutex_lock(&bd->lock);
	if (offset >= MMIO_DISPI_BASE && offset < MMIO_DISPI_END) {
		/* 16-bit registers; wider or unaligned reads see the neighbours. */
		for (unsigned int i = 0; i < size; i++) {
			uint64_t at = offset + i - MMIO_DISPI_BASE;
			uint16_t reg = at / 2 < DISPI_NR_REGS ? dispi_read(bd, (unsigned int)(at / 2)) : 0;

			value |= (uint64_t)((reg >> (8 * (at & 1))) & 0xff) << (8 * i);
		}
	} else if (offset == MMIO_EXT_BASE && size == 4) {
		value = MMIO_EXT_SIZE;
	} else if (offset == MMIO_EXT_BASE + 4 && size == 4) {
		value = ENDIAN_LITTLE;
	} else if (offset == MMIO_VGA_BASE + (VGA_ATTR_INDEX - 0x3c0)) {
		value = bd->blanked ? 0 : 0x20;
	}
	g_mutex_unlock(&bd->lock);
	return value;
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct bochs_display *bd = opaque;

	g_mutex_lock(&bd->lock);
	if (offset >= MMIO_DISPI_BASE && offset + size <= MMIO_DISPI_END && !(offset & 1) && size >= 2) {
		for (unsigned int i = 0; i < size; i += 2)
			dispi_write(bd, (unsigned int)((offset - MMIO_DISPI_BASE + i) / 2),
				    (uint16_t)(value >> (8 * i)));
	} else if (offset >= MMIO_VGA_BASE && offset < MMIO_VGA_END) {
		for (unsigned int i = 0; i < size && offset + i < MMIO_VGA_END; i++)
			vga_write(bd, 0x3c0 + (unsigned int)(offset + i - MMIO_VGA_BASE),
				  (uint8_t)(value >> (8 * i)));
	} else if (offset == MMIO_EXT_BASE + 4 && size == 4 && value != ENDIAN_LITTLE) {
		log_guest_once("bochs-display: big-endian framebuffer requested (0x%08" G_GINT64_MODIFIER "x); staying little-endian",
			       value);
	}
	g_mutex_unlock(&bd->lock);
}

static const struct bus_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

/*
 * Port 0x1ce: the register index; port 0x1cf: its value.  Both are 16-bit
 * registers used with 16-bit accesses; byte accesses reach the byte they
 * address (0x1d0 being the high byte of the value).
 */
static uint64_t port_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct bochs_display *bd = opaque;
	uint64_t value;

	g_mutex_lock(&bd->lock);
	if (offset == 0)
		value = bd->port_index;
	else
		value = dispi_read(bd, bd->port_index) >> (offset == 2 ? 8 : 0);
	g_mutex_unlock(&bd->lock);
	return size == 1 ? value & 0xff : value;
}

static void port_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct bochs_display *bd = opaque;
	uint16_t v = (uint16_t)value;

	g_mutex_lock(&bd->lock);
	if (offset == 0) {
		bd->port_index = size == 1 ? (uint16_t)((bd->port_index & 0xff00) | (v & 0xff)) : v;
	} else {
		if (size == 1) {
			uint16_t old = dispi_read(bd, bd->port_index);

			v = offset == 2 ? (uint16_t)((old & 0x00ff) | (v & 0xff) << 8) :
					  (uint16_t)((old & 0xff00) | (v & 0xff));
		}
		dispi_write(bd, bd->port_index, v);
	}
	g_mutex_unlock(&bd->lock);
}

const struct bus_ops bochs_display_port_ops = { .read = port_read, .write = port_write };

/*
 * BAR0 through the bus: only when the guest placed it where it cannot be
 * RAM (over RAM, above 4 GiB).  Slow, but correct, and dirty-tracked here.
 */
static uint64_t vram_bus_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct bochs_display *bd = opaque;
	uint64_t value = 0;

	if (offset < bd->vram_size_bytes && size <= bd->vram_size_bytes - offset)
		memcpy(&value, bd->vram + offset, size);
	return value;
}

static void vram_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct bochs_display *bd = opaque;
	uint64_t page = offset >> 12;

	if (offset >= bd->vram_size_bytes || size > bd->vram_size_bytes - offset)
		return;
	memcpy(bd->vram + offset, &value, size);
	__atomic_or_fetch(&bd->bus_dirty[page / 64], 1ULL << (page % 64), __ATOMIC_SEQ_CST);
	if (((offset + size - 1) >> 12) != page) {
		page++;
		__atomic_or_fetch(&bd->bus_dirty[page / 64], 1ULL << (page % 64), __ATOMIC_SEQ_CST);
	}
}

static const struct bus_ops vram_bus_ops = { .read = vram_bus_read, .write = vram_bus_write };

static void bar_moved(struct pci_device *dev, unsigned int bar, bool mapped, uint64_t addr)
{
	struct bochs_display *bd = G_STRUCT_MEMBER_P(dev, -G_STRUCT_OFFSET(struct bochs_display, pci));

	if (bar != 0)
		return;
	if (mapped && !guest_memory_map_device_ram(bd->mem, (unsigned int)bd->vram_index, addr))
		log_guest_once("bochs-display: video memory at 0x%" G_GINT64_MODIFIER "x overlaps RAM or lies above 4 GiB; it works, but slowly",
			       addr);
	if (!mapped)
		guest_memory_map_device_ram(bd->mem, (unsigned int)bd->vram_index, GUEST_MEMORY_UNMAPPED);
	bd->host_ops->vram_moved(bd->host_opaque, (unsigned int)bd->vram_index);
	/* The dirty log started afresh at the new place: repaint everything. */
	display_invalidate(bd->display);
}

static bool harvest_dirty(void *opaque, uint64_t *bitmap, uint64_t nr_pages)
{
	struct bochs_display *bd = opaque;
	bool ok = bd->host_ops->vram_dirty(bd->host_opaque, (unsigned int)bd->vram_index, bitmap);

	for (uint64_t w = 0; w < (nr_pages + 63) / 64; w++)
		if (__atomic_load_n(&bd->bus_dirty[w], __ATOMIC_RELAXED))
			bitmap[w] |= __atomic_exchange_n(&bd->bus_dirty[w], 0, __ATOMIC_SEQ_CST);
	return ok;
}

static const struct display_source_ops source_ops = { .harvest_dirty = harvest_dirty };

struct bochs_display *bochs_display_new(struct guest_memory *mem, struct display *display,
					uint64_t vram_size_bytes,
					const struct bochs_display_host_ops *host_ops, void *host_opaque,
					GError **error)
{
	struct bochs_display *bd;
	int index;

	/* The dispi interface counts memory in 64 KiB units, and a BAR is a power of two. */
	if (vram_size_bytes < (1ULL << 20) || vram_size_bytes > (256ULL << 20) ||
	    (vram_size_bytes & (vram_size_bytes - 1))) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "video memory must be a power of two from 1 to 256 MiB");
		return NULL;
	}
	index = guest_memory_add_device_ram(mem, "video memory", vram_size_bytes, error);
	if (index < 0)
		return NULL;
	bd = g_new0(struct bochs_display, 1);
	g_mutex_init(&bd->lock);
	bd->mem = mem;
	bd->display = display;
	bd->vram_index = index;
	bd->vram = mem->device_ram[index].host;
	bd->vram_size_bytes = vram_size_bytes;
	bd->host_ops = host_ops;
	bd->host_opaque = host_opaque;
	bd->bus_dirty = g_new0(uint64_t, ((vram_size_bytes >> 12) + 63) / 64);

	/* Revision 2: the endianness registers at 0x600 exist (Linux reads them then). */
	pci_device_init(&bd->pci, "bochs-display", PCI_VENDOR_QEMU_BOCHS, PCI_DEVICE_BOCHS_DISPLAY,
			PCI_CLASS_DISPLAY_OTHER, 2);
	pci_device_set_bar(&bd->pci, 0, PCI_BAR_MEM32, true, vram_size_bytes, &vram_bus_ops, bd);
	pci_device_set_bar(&bd->pci, 2, PCI_BAR_MEM32, false, MMIO_BAR_SIZE, &mmio_ops, bd);
	bd->pci.bar_moved = bar_moved;
	display_set_source(display, bd->vram, vram_size_bytes, &source_ops, bd);
	bochs_display_reset(bd);
	return bd;
}

void bochs_display_free(struct bochs_display *bd)
{
	if (!bd)
		return;
	g_free(bd->bus_dirty);
	g_mutex_clear(&bd->lock);
	g_free(bd);
}

void bochs_display_reset(struct bochs_display *bd)
{
	g_mutex_lock(&bd->lock);
	memset(bd->regs, 0, sizeof(bd->regs));
	bd->regs[DISPI_ID] = DISPI_ID5;
	bd->regs[DISPI_BPP] = 8;
	bd->port_index = 0;
	bd->blanked = false;
	bd->dac_index = bd->dac_component = 0;
	/* Publish the disabled state even if it was the last thing published. */
	bd->published = (struct display_surface){ .format = DISPLAY_FORMAT_XRGB8888 };
	/* A grey ramp, so 8 bpp before any palette write still shows something. */
	for (unsigned int i = 0; i < 256; i++)
		bd->palette[i] = i << 16 | i << 8 | i;
	publish_mode(bd);
	g_mutex_unlock(&bd->lock);
}

struct pci_device *bochs_display_pci_device(struct bochs_display *bd)
{
	return &bd->pci;
}

bool bochs_display_set_boot_mode(struct bochs_display *bd, unsigned int width, unsigned int height,
				 uint64_t *lfb_addr, GError **error)
{
	uint64_t addr = guest_memory_device_ram_addr(bd->mem, (unsigned int)bd->vram_index);

	if (addr == GUEST_MEMORY_UNMAPPED) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the framebuffer's video memory is not mapped");
		return false;
	}
	if (!width || !height || width > BOCHS_DISPLAY_MAX_WIDTH || height > BOCHS_DISPLAY_MAX_HEIGHT ||
	    (uint64_t)width * height * 4 > bd->vram_size_bytes) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "a %ux%u screen does not fit in %" G_GUINT64_FORMAT " MiB of video memory: choose a smaller --resolution",
			    width, height, bd->vram_size_bytes >> 20);
		return false;
	}
	g_mutex_lock(&bd->lock);
	dispi_write(bd, DISPI_ENABLE, 0);
	dispi_write(bd, DISPI_XRES, (uint16_t)width);
	dispi_write(bd, DISPI_YRES, (uint16_t)height);
	dispi_write(bd, DISPI_BPP, 32);
	dispi_write(bd, DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	g_mutex_unlock(&bd->lock);
	*lfb_addr = addr;
	return true;
}
