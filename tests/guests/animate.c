/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * animate: the guest of the display benchmark (tests/bench/display.py).
 * Not a test of its own: it gives the host a screen to watch, does what
 * the host asks over COM1, and passes when told to quit.
 *
 * It finds the bochs-display (1234:1111) on bus 0, sets 1920x1080 at
 * 32 bpp through the MMIO registers (BAR2 + 0x500, which QEMU's
 * bochs-display has too), fills the screen once with BACKGROUND, prints
 * "READY 1920x1080" and then sleeps in STI;HLT with only the COM1 receive
 * interrupt unmasked: no timer runs, so an idle screen is an idle guest.
 * Commands, one byte each:
 *
 *   '0'..'7'  latency marker: write colour markers[c - '0'] into the pixel
 *             at (MARKER_X, MARKER_Y), then at once send the same byte
 *             back on COM1.  The host times the byte's arrival and then
 *             the colour's arrival in the window.
 *   'a'       animate: PIT channel 0 at FRAME_HZ; on every tick move a
 *             SQUARE x SQUARE square STEP pixels sideways (bouncing at
 *             the edges) and send '.' on COM1 for each frame drawn.  Any
 *             byte ends it: the guest then prints "STOPPED frames=F
 *             ticks=T" (ticks - frames is how many frames it missed) and
 *             goes back to sleep.
 *   'q'       pass and exit.
 *
 * Drawing is one string store per line, and a moving square is drawn as
 * two STEP-wide strips (the one it leaves, the one it enters): code at
 * CPL 0 is slow on the nested KVM of our development machines, and
 * repainting the whole square (256 string stores of 256 dwords) took
 * about 90 ms there, 11 frames a second.  The host sees the same dirty
 * pages either way: a 4 KiB page holds 1024 pixels of a line, so every
 * line of the square is one or two dirty pages whether 4 or 256 of its
 * pixels changed.
 */
#include "lib/idt.h"
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/pci.h"
#include "lib/pic.h"
#include "lib/pit.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"

const char guest_name[] = "animate";

#define BOCHS_VENDOR_ID		0x1234
#define BOCHS_DEVICE_ID		0x1111

/* The Bochs VBE registers ("dispi"), as tests/guests/display.c uses them. */
#define DISPI_MMIO_OFFSET	0x500	/* index i at + i * 2, 16 bits */
#define DISPI_INDEX_XRES	1
#define DISPI_INDEX_YRES	2
#define DISPI_INDEX_BPP		3
#define DISPI_INDEX_ENABLE	4
#define DISPI_INDEX_BANK	5
#define DISPI_INDEX_VIRT_WIDTH	6
#define DISPI_INDEX_VIRT_HEIGHT	7
#define DISPI_INDEX_X_OFFSET	8
#define DISPI_INDEX_Y_OFFSET	9
#define DISPI_ENABLED		0x01
#define DISPI_LFB_ENABLED	0x40

#define WIDTH			1920
#define HEIGHT			1080
#define BPP			32
#define STRIDE_BYTES		(WIDTH * 4)

#define BACKGROUND		0x203040
#define SQUARE_COLOUR		0xe0a020
#define MARKER_X		16
#define MARKER_Y		16
#define SQUARE			256
#define SQUARE_Y		((HEIGHT - SQUARE) / 2)
#define STEP			4	/* pixels per frame */
#define FRAME_HZ		60

/* Far apart from each other and from BACKGROUND, exact in 24-bit X visuals. */
static const uint32_t markers[8] = {
	0xff0000, 0x00ff00, 0x0000ff, 0xffff00,
	0x00ffff, 0xff00ff, 0xffffff, 0x800000,
};

static volatile unsigned int ticks;

static void dispi_write(uint64_t mmio_base, unsigned int index, uint16_t value)
{
	mmio_write16(mmio_base + DISPI_MMIO_OFFSET + index * 2, value);
}

static uint16_t dispi_read(uint64_t mmio_base, unsigned int index)
{
	return mmio_read16(mmio_base + DISPI_MMIO_OFFSET + index * 2);
}

static void fill_dwords(uint64_t dst, uint32_t value, uint64_t count)
{
	__asm__ volatile("rep stosl"
			 : "+D"(dst), "+c"(count)
			 : "a"(value)
			 : "memory");
}

static void fill_rect(uint64_t vram, unsigned int x, unsigned int y,
		      unsigned int width, unsigned int height, uint32_t colour)
{
	uint64_t line = vram + (uint64_t)y * STRIDE_BYTES + x * 4;

	for (unsigned int i = 0; i < height; i++, line += STRIDE_BYTES)
		fill_dwords(line, colour, width);
}

/* The sequence of Linux's bochs_hw_setmode(): disable, geometry, enable. */
static void set_mode(uint64_t mmio_base)
{
	dispi_write(mmio_base, DISPI_INDEX_ENABLE, 0);
	dispi_write(mmio_base, DISPI_INDEX_BPP, BPP);
	dispi_write(mmio_base, DISPI_INDEX_XRES, WIDTH);
	dispi_write(mmio_base, DISPI_INDEX_YRES, HEIGHT);
	dispi_write(mmio_base, DISPI_INDEX_BANK, 0);
	dispi_write(mmio_base, DISPI_INDEX_VIRT_WIDTH, WIDTH);
	dispi_write(mmio_base, DISPI_INDEX_VIRT_HEIGHT, HEIGHT);
	dispi_write(mmio_base, DISPI_INDEX_X_OFFSET, 0);
	dispi_write(mmio_base, DISPI_INDEX_Y_OFFSET, 0);
	dispi_write(mmio_base, DISPI_INDEX_ENABLE,
		    DISPI_ENABLED | DISPI_LFB_ENABLED);
	test_assert(dispi_read(mmio_base, DISPI_INDEX_XRES) == WIDTH &&
		    dispi_read(mmio_base, DISPI_INDEX_YRES) == HEIGHT &&
		    dispi_read(mmio_base, DISPI_INDEX_VIRT_WIDTH) == WIDTH,
		    "mode %ux%u (line %u) does not read back",
		    dispi_read(mmio_base, DISPI_INDEX_XRES),
		    dispi_read(mmio_base, DISPI_INDEX_YRES),
		    dispi_read(mmio_base, DISPI_INDEX_VIRT_WIDTH));
}

/* Sleeps until the host sends a byte; no deadline, the host kills a hung run. */
static int wait_byte(void)
{
	int c;

	while ((c = serial_rx_irq_getc()) < 0)
		irq_wait();
	return c;
}

static void timer_interrupt(struct trap_frame *frame)
{
	ticks++;
	pic_eoi(PIT_IRQ);
}

static void animate(uint64_t vram)
{
	unsigned int frames = 0, seen_ticks = 0, x = 0;
	int direction = 1, c = -1;

	fill_rect(vram, x, SQUARE_Y, SQUARE, SQUARE, SQUARE_COLOUR);
	ticks = 0;
	pic_unmask(PIT_IRQ);
	pit_start_periodic(FRAME_HZ);
	for (;;) {
		unsigned int old_x = x;

		while ((c = serial_rx_irq_getc()) < 0 &&
		       READ_ONCE(ticks) == seen_ticks)
			irq_wait();
		if (c >= 0)
			break;
		seen_ticks = READ_ONCE(ticks);

		if ((direction > 0 && x + STEP > WIDTH - SQUARE) ||
		    (direction < 0 && x < STEP))
			direction = -direction;
		x += direction * STEP;
		/*
		 * Interrupts on while drawing, so that ticks are counted as
		 * they come: a frame slower than a tick is followed by the
		 * next one at once, and ticks - frames is what was missed.
		 */
		irq_enable();
		/* Only the strip the square left and the one it entered. */
		if (x > old_x) {
			fill_rect(vram, old_x, SQUARE_Y, STEP, SQUARE, BACKGROUND);
			fill_rect(vram, old_x + SQUARE, SQUARE_Y, STEP, SQUARE,
				  SQUARE_COLOUR);
		} else {
			fill_rect(vram, x + SQUARE, SQUARE_Y, STEP, SQUARE,
				  BACKGROUND);
			fill_rect(vram, x, SQUARE_Y, STEP, SQUARE, SQUARE_COLOUR);
		}
		frames++;
		irq_disable();
		serial_putc('.');
	}
	pit_stop();
	pic_mask(PIT_IRQ);
	printf("\nSTOPPED frames=%u ticks=%u\n", frames, READ_ONCE(ticks));
	fill_rect(vram, x, SQUARE_Y, SQUARE, SQUARE, BACKGROUND);
}

int main(void)
{
	struct pci_location loc;
	uint32_t vram_bar, mmio_bar, vram_size;
	int c;

	lapic_enable();		/* LINT0 ExtINT: the 8259 reaches the CPU */
	test_assert(pci_find_device(BOCHS_VENDOR_ID, BOCHS_DEVICE_ID, &loc),
		    "no PCI device %04x:%04x on bus 0", BOCHS_VENDOR_ID,
		    BOCHS_DEVICE_ID);
	vram_bar = pci_read32(loc.bus, loc.dev, loc.fn, PCI_BAR0) &
		   PCI_BAR_MEM_ADDR_MASK;
	mmio_bar = pci_read32(loc.bus, loc.dev, loc.fn, PCI_BAR0 + 8) &
		   PCI_BAR_MEM_ADDR_MASK;
	vram_size = pci_bar_size32(&loc, 0);
	test_assert(vram_bar && mmio_bar, "BARs not assigned: %#x, %#x",
		    vram_bar, mmio_bar);
	test_assert(vram_size >= (uint32_t)STRIDE_BYTES * HEIGHT,
		    "video memory is %u KiB, a %ux%u screen needs %u KiB",
		    vram_size >> 10, WIDTH, HEIGHT, STRIDE_BYTES * HEIGHT >> 10);

	set_mode(mmio_bar);
	fill_rect(vram_bar, 0, 0, WIDTH, HEIGHT, BACKGROUND);
	idt_set_handler(PIC_MASTER_VECTOR + PIT_IRQ, timer_interrupt);
	serial_rx_irq_start(PIC_MASTER_VECTOR + COM1_IRQ);
	printf("READY %ux%u\n", WIDTH, HEIGHT);

	while ((c = wait_byte()) != 'q') {
		if (c >= '0' && c <= '7') {
			mmio_write32(vram_bar + MARKER_Y * STRIDE_BYTES +
				     MARKER_X * 4, markers[c - '0']);
			serial_putc((char)c);
		} else if (c == 'a') {
			animate(vram_bar);
		}
	}
	return 0;
}
