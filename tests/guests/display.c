/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * display: the bochs-display framebuffer (PCI 1234:1111) and its VBE
 * "dispi" registers, as Linux's bochs DRM driver programs them.
 *
 * Asserts: the device is on bus 0 with class 0300 (VGA) or 0380 (other
 * display); BAR0 is a 32-bit prefetchable memory BAR (the video memory)
 * and BAR2 a 32-bit 4 KiB memory BAR (the registers), both assigned by the
 * firmware, naturally aligned, restored after the all-ones size probe
 * (PCI spec 3.0 §6.2.5.1), with memory decoding on.  The dispi ID reads
 * 0xB0C0..0xB0C5 through MMIO (BAR2 + 0x500 + index * 2) and through the
 * index/data ports 0x1CE/0x1CF, which reach the same registers.
 * VIDEO_MEMORY_64K * 64 KiB is BAR0's size.  After each mode set, XRES,
 * YRES and BPP read back, ENABLE has its enabled and LFB bits, VIRT_WIDTH
 * is at least XRES and the offsets are 0; pixels written read back.
 *
 * Then the host checks the picture.  Mode 1 is set through MMIO, mode 2
 * through the ports (ports=0 on the command line uses MMIO for both, for
 * QEMU's bochs-display, which has no ports).  After drawing each mode the
 * guest prints "READY <w>x<h>" and waits (up to 60 s) for a byte on COM1:
 * 'n' moves to the next mode, 'q' passes.  The patterns, which
 * tests/display-guests/patterns.py computes the same way:
 *
 * Mode 1, 640x480, 32 bpp (0x00RRGGBB):
 *   y < 240:  eight vertical bars 80 px wide, left to right 0xFF0000,
 *             0x00FF00, 0x0000FF, 0xFFFF00, 0x00FFFF, 0xFF00FF, 0xFFFFFF,
 *             0x808080;
 *   y >= 240: R = x * 255 / 639, G = y - 240, B = x & 0xFF.
 * Mode 2, 800x600, 16 bpp (RGB565: R in bits 15-11, G 10-5, B 4-0):
 *   y < 300:  eight bars 100 px wide, 0xF800, 0x07E0, 0x001F, 0xFFE0,
 *             0x07FF, 0xF81F, 0xFFFF, 0x8410;
 *   y >= 300: R5 = x * 31 / 799, G6 = (y - 300) * 63 / 299, B5 = x & 31.
 * (Integer division throughout.)  The lower halves differ from pixel to
 * pixel in both directions, so a wrong stride, offset or byte order shows.
 *
 * flip_x=X flip_y=Y on the command line makes the guest change the low
 * blue bit of pixel (X,Y) after its own read-back, in both modes: the host
 * test must then find exactly that pixel wrong, which shows that its
 * comparison can fail.
 *
 * draw_delay_ms=N waits N ms between setting a mode and drawing, so a
 * window showing the screen sees the blank mode first and must get the
 * picture through the dirty tracking of video memory (test_window.py).
 *
 * Drawing is a row at a time into RAM, then one string copy per row: code
 * at CPL 0 is slow on the nested KVM of our development machines.
 */
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/multiboot.h"
#include "lib/pci.h"
#include "lib/pic.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"

const char guest_name[] = "display";

#define BOCHS_VENDOR_ID		0x1234
#define BOCHS_DEVICE_ID		0x1111
#define CLASS_DISPLAY_VGA	0x0300
#define CLASS_DISPLAY_OTHER	0x0380
#define MMIO_BAR_SIZE		4096

/* The Bochs VBE interface ("dispi"), as vbe.h of the Bochs BIOS names it. */
#define DISPI_MMIO_OFFSET	0x500	/* index i at + i * 2, 16 bits */
#define DISPI_IOPORT_INDEX	0x1ce
#define DISPI_IOPORT_DATA	0x1cf

enum dispi_index {
	DISPI_INDEX_ID = 0,
	DISPI_INDEX_XRES = 1,
	DISPI_INDEX_YRES = 2,
	DISPI_INDEX_BPP = 3,
	DISPI_INDEX_ENABLE = 4,
	DISPI_INDEX_BANK = 5,
	DISPI_INDEX_VIRT_WIDTH = 6,
	DISPI_INDEX_VIRT_HEIGHT = 7,
	DISPI_INDEX_X_OFFSET = 8,
	DISPI_INDEX_Y_OFFSET = 9,
	DISPI_INDEX_VIDEO_MEMORY_64K = 10,
};

#define DISPI_ID_FIRST		0xb0c0
#define DISPI_ID_LAST		0xb0c5
#define DISPI_ENABLED		0x01
#define DISPI_LFB_ENABLED	0x40

#define WAIT_SECONDS		60
#define MAX_WIDTH		800
#define BARS			8

struct dispi {
	uint64_t mmio_base;	/* BAR2 */
	bool use_ports;		/* this interface, not MMIO */
};

struct mode {
	unsigned int width, height, bpp;
};

static const struct mode mode_rgb32 = { 640, 480, 32 };
static const struct mode mode_rgb565 = { 800, 600, 16 };

static const uint32_t bars_rgb32[BARS] = {
	0xff0000, 0x00ff00, 0x0000ff, 0xffff00,
	0x00ffff, 0xff00ff, 0xffffff, 0x808080,
};
static const uint16_t bars_rgb565[BARS] = {
	0xf800, 0x07e0, 0x001f, 0xffe0, 0x07ff, 0xf81f, 0xffff, 0x8410,
};

/* One line of pixels on its way to video memory. */
static uint32_t row_pixels[MAX_WIDTH];
static uint32_t row_base[MAX_WIDTH];

static uint16_t dispi_read(const struct dispi *d, enum dispi_index index)
{
	if (d->use_ports) {
		outw(DISPI_IOPORT_INDEX, index);
		return inw(DISPI_IOPORT_DATA);
	}
	return mmio_read16(d->mmio_base + DISPI_MMIO_OFFSET + index * 2);
}

static void dispi_write(const struct dispi *d, enum dispi_index index,
			uint16_t value)
{
	if (d->use_ports) {
		outw(DISPI_IOPORT_INDEX, index);
		outw(DISPI_IOPORT_DATA, value);
		return;
	}
	mmio_write16(d->mmio_base + DISPI_MMIO_OFFSET + index * 2, value);
}

static const char *dispi_name(const struct dispi *d)
{
	return d->use_ports ? "ports 0x1ce/0x1cf" : "MMIO";
}

/* The reference for both patterns; the drawing code below is faster. */
static uint32_t pattern_rgb32(unsigned int x, unsigned int y)
{
	if (y < 240)
		return bars_rgb32[x / 80];
	return (x * 255 / 639) << 16 | (y - 240) << 8 | (x & 0xff);
}

static uint16_t pattern_rgb565(unsigned int x, unsigned int y)
{
	if (y < 300)
		return bars_rgb565[x / 100];
	return (uint16_t)((x * 31 / 799) << 11 | ((y - 300) * 63 / 299) << 5 |
			  (x & 31));
}

static void copy_dwords(uint64_t dst, const void *src, uint64_t count)
{
	__asm__ volatile("rep movsl"
			 : "+D"(dst), "+S"(src), "+c"(count)
			 : : "memory");
}

static void draw_rgb32(uint64_t vram, unsigned int stride_bytes)
{
	unsigned int x, y;

	for (x = 0; x < 640; x++) {
		row_pixels[x] = bars_rgb32[x / 80];
		row_base[x] = (x * 255 / 639) << 16 | (x & 0xff);
	}
	for (y = 0; y < 240; y++)
		copy_dwords(vram + (uint64_t)y * stride_bytes, row_pixels, 640);
	for (y = 240; y < 480; y++) {
		/* Two pixels per step: G is the same all along the line. */
		uint64_t green = (uint64_t)(y - 240) << 8;
		uint64_t *out = (uint64_t *)row_pixels;
		const uint64_t *base = (const uint64_t *)row_base;

		green |= green << 32;
		for (x = 0; x < 640 / 2; x++)
			out[x] = base[x] | green;
		copy_dwords(vram + (uint64_t)y * stride_bytes, row_pixels, 640);
	}
}

static void draw_rgb565(uint64_t vram, unsigned int stride_bytes)
{
	uint16_t *pixels = (uint16_t *)row_pixels;
	uint16_t *base = (uint16_t *)row_base;
	unsigned int x, y;

	for (x = 0; x < 800; x++) {
		pixels[x] = bars_rgb565[x / 100];
		base[x] = (uint16_t)((x * 31 / 799) << 11 | (x & 31));
	}
	for (y = 0; y < 300; y++)
		copy_dwords(vram + (uint64_t)y * stride_bytes, row_pixels,
			    800 / 2);
	for (y = 300; y < 600; y++) {
		/* Four pixels per step: G is the same all along the line. */
		uint64_t green = (uint64_t)((y - 300) * 63 / 299) << 5;
		uint64_t *out = (uint64_t *)row_pixels;
		const uint64_t *in = (const uint64_t *)row_base;

		green |= green << 16;
		green |= green << 32;
		for (x = 0; x < 800 / 4; x++)
			out[x] = in[x] | green;
		copy_dwords(vram + (uint64_t)y * stride_bytes, row_pixels,
			    800 / 2);
	}
}

struct bar {
	uint32_t raw;		/* as the firmware left it */
	uint32_t addr;
	uint32_t size_bytes;
};

static void check_bar(const struct pci_location *loc, unsigned int index,
		      struct bar *bar)
{
	unsigned int reg = PCI_BAR0 + 4 * index;
	uint32_t after;

	bar->raw = pci_read32(loc->bus, loc->dev, loc->fn, reg);
	bar->addr = bar->raw & PCI_BAR_MEM_ADDR_MASK;
	test_assert(!(bar->raw & PCI_BAR_IO) &&
		    (bar->raw & PCI_BAR_MEM_TYPE_MASK) == 0,
		    "BAR%u is %#x, want a 32-bit memory BAR", index, bar->raw);
	bar->size_bytes = pci_bar_size32(loc, index);
	after = pci_read32(loc->bus, loc->dev, loc->fn, reg);
	printf("display: BAR%u %#x: address %#x, %u KiB%s\n", index, bar->raw,
	       bar->addr, bar->size_bytes >> 10,
	       bar->raw & PCI_BAR_MEM_PREFETCH ? ", prefetchable" : "");
	test_assert(after == bar->raw, "BAR%u reads %#x after the size probe, was %#x",
		    index, after, bar->raw);
	test_assert(bar->size_bytes && !(bar->size_bytes & (bar->size_bytes - 1)),
		    "BAR%u size probe gives %#x, not a power of two", index,
		    bar->size_bytes);
	test_assert(bar->addr != 0, "BAR%u was not assigned an address", index);
	test_assert(!(bar->addr & (bar->size_bytes - 1)),
		    "BAR%u at %#x is not aligned to its size %#x", index,
		    bar->addr, bar->size_bytes);
}

/*
 * Moves the BAR as an OS does (decoding off, new address, decoding on):
 * video memory must follow, and the old place must no longer show it
 * (vessel-vmm reads all ones there, as a PC does; QEMU reads zeros).
 */
#define VRAM_MOVED_ADDR 0xd0000000u

static void move_bar(const struct pci_location *loc, unsigned int index, struct bar *bar,
		     uint32_t new_addr)
{
	unsigned int reg = PCI_BAR0 + 4 * index;
	uint16_t command = pci_read16(loc->bus, loc->dev, loc->fn, PCI_COMMAND);
	volatile uint32_t *old_vram = (volatile uint32_t *)(uintptr_t)bar->addr;
	volatile uint32_t *new_vram = (volatile uint32_t *)(uintptr_t)new_addr;
	uint32_t raw;

	*old_vram = 0x12345678;
	pci_write16(loc->bus, loc->dev, loc->fn, PCI_COMMAND, command & ~PCI_COMMAND_MEMORY);
	pci_write32(loc->bus, loc->dev, loc->fn, reg, new_addr);
	pci_write16(loc->bus, loc->dev, loc->fn, PCI_COMMAND, command);
	raw = pci_read32(loc->bus, loc->dev, loc->fn, reg);
	test_assert((raw & PCI_BAR_MEM_ADDR_MASK) == new_addr,
		    "BAR%u reads %#x after moving it to %#x", index, raw, new_addr);
	test_assert(*new_vram == 0x12345678,
		    "video memory did not follow BAR%u to %#x (reads %#x)", index, new_addr,
		    *new_vram);
	test_assert(*old_vram != 0x12345678,
		    "the old place %#x of BAR%u still shows video memory", bar->addr, index);
	printf("display: BAR%u moved from %#x to %#x\n", index, bar->addr, new_addr);
	bar->raw = raw;
	bar->addr = new_addr;
}

static uint16_t check_id(const struct dispi *d)
{
	uint16_t id = dispi_read(d, DISPI_INDEX_ID);

	printf("display: dispi ID through %s: %#x\n", dispi_name(d), id);
	test_assert(id >= DISPI_ID_FIRST && id <= DISPI_ID_LAST,
		    "dispi ID through %s is %#x, want 0xb0c0..0xb0c5",
		    dispi_name(d), id);
	return id;
}

/* The sequence of Linux's bochs_hw_setmode(): disable, geometry, enable. */
static void set_mode(const struct dispi *d, const struct dispi *other,
		     const struct mode *m, unsigned int *stride_bytes)
{
	uint16_t xres, yres, bpp, enable, virt_width, virt_height, xoff, yoff;

	dispi_write(d, DISPI_INDEX_ENABLE, 0);
	dispi_write(d, DISPI_INDEX_BPP, (uint16_t)m->bpp);
	dispi_write(d, DISPI_INDEX_XRES, (uint16_t)m->width);
	dispi_write(d, DISPI_INDEX_YRES, (uint16_t)m->height);
	dispi_write(d, DISPI_INDEX_BANK, 0);
	dispi_write(d, DISPI_INDEX_VIRT_WIDTH, (uint16_t)m->width);
	dispi_write(d, DISPI_INDEX_VIRT_HEIGHT, (uint16_t)m->height);
	dispi_write(d, DISPI_INDEX_X_OFFSET, 0);
	dispi_write(d, DISPI_INDEX_Y_OFFSET, 0);
	dispi_write(d, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);

	xres = dispi_read(d, DISPI_INDEX_XRES);
	yres = dispi_read(d, DISPI_INDEX_YRES);
	bpp = dispi_read(d, DISPI_INDEX_BPP);
	enable = dispi_read(d, DISPI_INDEX_ENABLE);
	virt_width = dispi_read(d, DISPI_INDEX_VIRT_WIDTH);
	virt_height = dispi_read(d, DISPI_INDEX_VIRT_HEIGHT);
	xoff = dispi_read(d, DISPI_INDEX_X_OFFSET);
	yoff = dispi_read(d, DISPI_INDEX_Y_OFFSET);
	printf("display: mode through %s: %ux%ux%u enable %#x virtual %ux%u offset %u,%u\n",
	       dispi_name(d), xres, yres, bpp, enable, virt_width, virt_height,
	       xoff, yoff);
	test_assert(xres == m->width && yres == m->height && bpp == m->bpp,
		    "mode reads back %ux%ux%u, wrote %ux%ux%u", xres, yres,
		    bpp, m->width, m->height, m->bpp);
	test_assert((enable & (DISPI_ENABLED | DISPI_LFB_ENABLED)) ==
		    (DISPI_ENABLED | DISPI_LFB_ENABLED),
		    "ENABLE reads %#x after writing %#x", enable,
		    DISPI_ENABLED | DISPI_LFB_ENABLED);
	test_assert(virt_width >= xres, "VIRT_WIDTH %u < XRES %u", virt_width,
		    xres);
	test_assert(virt_height >= yres, "VIRT_HEIGHT %u < YRES %u",
		    virt_height, yres);
	test_assert(xoff == 0 && yoff == 0, "offsets read %u,%u, wrote 0,0",
		    xoff, yoff);
	if (other) {
		/* Both interfaces are views of one register file. */
		uint16_t other_xres = dispi_read(other, DISPI_INDEX_XRES);
		uint16_t other_bpp = dispi_read(other, DISPI_INDEX_BPP);

		test_assert(other_xres == xres && other_bpp == bpp,
			    "%s reads XRES %u BPP %u, %s %u %u",
			    dispi_name(other), other_xres, other_bpp,
			    dispi_name(d), xres, bpp);
	}
	*stride_bytes = virt_width * (m->bpp / 8);
}

static void check_pixels(uint64_t vram, const struct mode *m,
			 unsigned int stride_bytes)
{
	/* Corners, bar edges and the first line of the lower half. */
	static const unsigned int points[][2] = {
		{ 0, 0 }, { 79, 0 }, { 80, 1 }, { 639, 239 }, { 0, 240 },
		{ 1, 240 }, { 321, 300 }, { 639, 479 }, { 799, 599 },
		{ 100, 299 }, { 555, 444 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(points); i++) {
		unsigned int x = points[i][0], y = points[i][1];
		uint64_t addr = vram + (uint64_t)y * stride_bytes;
		uint32_t got, want;

		if (x >= m->width || y >= m->height)
			continue;
		if (m->bpp == 32) {
			got = mmio_read32(addr + x * 4);
			want = pattern_rgb32(x, y);
		} else {
			got = mmio_read16(addr + x * 2);
			want = pattern_rgb565(x, y);
		}
		test_assert(got == want, "pixel (%u,%u) reads %#x, wrote %#x", x,
			    y, got, want);
	}
}

static void flip_pixel(uint64_t vram, const struct mode *m,
		       unsigned int stride_bytes, uint64_t x, uint64_t y)
{
	uint64_t addr = vram + y * stride_bytes + x * (m->bpp / 8);

	if (x >= m->width || y >= m->height)
		return;
	printf("display: flipping the low blue bit of pixel (%lu,%lu)\n", x, y);
	if (m->bpp == 32)
		mmio_write32(addr, mmio_read32(addr) ^ 1);
	else
		mmio_write16(addr, mmio_read16(addr) ^ 1);
}

/* The next 'n' or 'q' from the host; fails after WAIT_SECONDS. */
static int wait_command(void)
{
	int c = -1;

	for (unsigned int s = 0; s < WAIT_SECONDS; s++) {
		timeout_start(1000);
		while (!timeout_expired()) {
			c = serial_rx_irq_getc();
			if (c == 'n' || c == 'q')
				break;
			if (c < 0)
				irq_wait();
		}
		timeout_stop();
		if (c == 'n' || c == 'q')
			return c;
	}
	test_fail("no 'n' or 'q' on COM1 within %u s", WAIT_SECONDS);
}

int main(void)
{
	struct pci_location loc;
	struct bar vram_bar, mmio_bar;
	struct dispi mmio, ports;
	uint64_t ports_opt = 1, flip_x, flip_y, draw_delay_ms = 0;
	uint32_t class_rev;
	uint16_t command, class_code, memory_64k;
	unsigned int stride_bytes;
	bool have_ports, flip;

	lapic_enable();		/* for the deadlines */
	cmdline_get_u64("ports", &ports_opt);
	cmdline_get_u64("draw_delay_ms", &draw_delay_ms);
	have_ports = ports_opt != 0;
	flip = cmdline_get_u64("flip_x", &flip_x) &&
	       cmdline_get_u64("flip_y", &flip_y);

	test_assert(pci_find_device(BOCHS_VENDOR_ID, BOCHS_DEVICE_ID, &loc),
		    "no PCI device %04x:%04x on bus 0", BOCHS_VENDOR_ID,
		    BOCHS_DEVICE_ID);
	class_rev = pci_read32(loc.bus, loc.dev, loc.fn, PCI_REVISION_CLASS);
	class_code = class_rev >> 16;
	command = pci_read16(loc.bus, loc.dev, loc.fn, PCI_COMMAND);
	printf("display: %02x:%02x.%u %04x:%04x class %04x command %#x\n",
	       loc.bus, loc.dev, loc.fn, BOCHS_VENDOR_ID, BOCHS_DEVICE_ID,
	       class_code, command);
	test_assert(class_code == CLASS_DISPLAY_VGA ||
		    class_code == CLASS_DISPLAY_OTHER,
		    "class %04x, want 0300 or 0380", class_code);
	test_assert(command & PCI_COMMAND_MEMORY,
		    "memory decoding is off (command %#x)", command);

	check_bar(&loc, 0, &vram_bar);
	test_assert(vram_bar.raw & PCI_BAR_MEM_PREFETCH,
		    "BAR0 (video memory) is not prefetchable");
	move_bar(&loc, 0, &vram_bar, VRAM_MOVED_ADDR);
	check_bar(&loc, 2, &mmio_bar);
	test_assert(mmio_bar.size_bytes == MMIO_BAR_SIZE,
		    "BAR2 is %u bytes, want %u", mmio_bar.size_bytes,
		    MMIO_BAR_SIZE);

	mmio = (struct dispi){ .mmio_base = mmio_bar.addr, .use_ports = false };
	ports = (struct dispi){ .mmio_base = 0, .use_ports = true };
	if (have_ports)
		test_assert(check_id(&mmio) == check_id(&ports),
			    "the ID differs between MMIO and the ports");
	else
		check_id(&mmio);

	memory_64k = dispi_read(&mmio, DISPI_INDEX_VIDEO_MEMORY_64K);
	printf("display: VIDEO_MEMORY_64K %u (%u KiB)\n", memory_64k,
	       memory_64k * 64);
	test_assert((uint64_t)memory_64k * 65536 == vram_bar.size_bytes,
		    "VIDEO_MEMORY_64K * 64 KiB = %u KiB, BAR0 is %u KiB",
		    memory_64k * 64, vram_bar.size_bytes >> 10);

	serial_rx_irq_start(PIC_MASTER_VECTOR + COM1_IRQ);

	set_mode(&mmio, have_ports ? &ports : NULL, &mode_rgb32, &stride_bytes);
	/* A window's refresh sees the blank mode first: the picture must come by dirty tracking. */
	if (draw_delay_ms)
		udelay((uint32_t)draw_delay_ms * 1000);
	draw_rgb32(vram_bar.addr, stride_bytes);
	check_pixels(vram_bar.addr, &mode_rgb32, stride_bytes);
	if (flip)
		flip_pixel(vram_bar.addr, &mode_rgb32, stride_bytes, flip_x, flip_y);
	printf("READY %ux%u\n", mode_rgb32.width, mode_rgb32.height);
	if (wait_command() == 'q')
		return 0;

	set_mode(have_ports ? &ports : &mmio, have_ports ? &mmio : NULL,
		 &mode_rgb565, &stride_bytes);
	if (draw_delay_ms)
		udelay((uint32_t)draw_delay_ms * 1000);
	draw_rgb565(vram_bar.addr, stride_bytes);
	check_pixels(vram_bar.addr, &mode_rgb565, stride_bytes);
	if (flip)
		flip_pixel(vram_bar.addr, &mode_rgb565, stride_bytes, flip_x, flip_y);
	printf("READY %ux%u\n", mode_rgb565.width, mode_rgb565.height);
	while (wait_command() != 'q')
		;
	return 0;
}
