/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyboard: the PS/2 keyboard behind the i8042, set up the way Linux's
 * i8042 and atkbd drivers do it, then typed on by the host.
 *
 * Asserts, with interrupts off and both ports disabled (AD, A7): the
 * output buffer drains; the command byte reads (20); the controller
 * self-test (AA) answers 55; a command byte with IRQ 1, the system flag
 * and translation on and the aux port disabled reads back as written.
 * Port 1 is enabled (AE) and the keyboard answers reset (FF) with ACK FA
 * and BAT OK AA, and the LED (ED 07) and enable (F4) commands with FA.
 *
 * Then it prints "READY" and reports every byte IRQ 1 brings (vector
 * 0x21) as "SC xx": set 2 as translated to set 1 by the controller.
 * Known keys also give "KEY <name> DOWN" or "UP" (set 1 make codes, with
 * the E0 prefix for the right Ctrl/Alt and the arrows).  The make and
 * break codes of Escape (01, 81) pass the test; so does a 'q' on COM1.
 * Without either within 60 s it fails.
 *
 * With mouse=1 on the command line the aux port is set up too (command
 * byte with IRQ 12, A8), and the mouse answers reset (D4 FF) with FA AA 00
 * and enable (D4 F4) with FA.  Each 3-byte packet that IRQ 12 (vector
 * 0x2c) brings is printed as "MOUSE <buttons> <dx> <dy>": buttons bit 0
 * left, 1 right, 2 middle; dy positive is up (IBM PS/2 Technical
 * Reference, "Pointing Device", data report).  A first byte without its
 * always-one bit 3 fails the test: the packets are out of step.
 */
#include "lib/i8042.h"
#include "lib/idt.h"
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/multiboot.h"
#include "lib/pic.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/test.h"

const char guest_name[] = "keyboard";

/* Status register (IBM PS/2 Technical Reference, 8042 status). */
#define STATUS_OBF		0x01	/* output buffer full: a byte to read */
#define STATUS_AUX		0x20	/* ... and it came from the aux port */

/* Controller commands. */
#define CTRL_READ_CMD_BYTE	0x20
#define CTRL_WRITE_CMD_BYTE	0x60
#define CTRL_DISABLE_AUX	0xa7
#define CTRL_ENABLE_AUX		0xa8
#define CTRL_SELF_TEST		0xaa
#define CTRL_DISABLE_KBD	0xad
#define CTRL_ENABLE_KBD		0xae
#define CTRL_SELF_TEST_OK	0x55
#define CTRL_WRITE_AUX		0xd4	/* the next data byte goes to the mouse */

/* Command byte bits. */
#define CMD_KBD_IRQ		0x01
#define CMD_AUX_IRQ		0x02
#define CMD_SYSTEM_FLAG		0x04
#define CMD_KBD_DISABLED	0x10
#define CMD_AUX_DISABLED	0x20
#define CMD_TRANSLATE		0x40

/* Keyboard commands and answers. */
#define KBD_SET_LEDS		0xed
#define KBD_ENABLE		0xf4
#define KBD_RESET		0xff
#define KBD_ACK			0xfa
#define KBD_BAT_OK		0xaa
#define LEDS_ALL		0x07	/* scroll, num and caps lock */
#define MOUSE_ID_STANDARD	0x00	/* after BAT: a plain 3-byte mouse */

/* Mouse data report, first byte. */
#define MOUSE_BUTTONS		0x07
#define MOUSE_ALWAYS_ONE	0x08
#define MOUSE_X_SIGN		0x10
#define MOUSE_Y_SIGN		0x20

#define KBD_IRQ			1
#define KBD_VECTOR		(PIC_MASTER_VECTOR + KBD_IRQ)
#define AUX_IRQ			12
#define AUX_VECTOR		(PIC_SLAVE_VECTOR + AUX_IRQ - 8)
#define REPLY_TIMEOUT_MS	500
#define FLUSH_LIMIT		16	/* Linux's I8042_BUFFER_SIZE */
#define WAIT_SECONDS		60

/* Set 1 (translated) scan codes. */
#define SC_EXTENDED		0xe0
#define SC_BREAK		0x80
#define SC_ESCAPE		0x01

struct key_name {
	uint8_t code;		/* make code, without the E0 prefix */
	const char *name;
};

static const struct key_name plain_keys[] = {
	{ 0x01, "Escape" }, { 0x02, "1" }, { 0x03, "2" }, { 0x04, "3" },
	{ 0x05, "4" }, { 0x06, "5" }, { 0x07, "6" }, { 0x08, "7" },
	{ 0x09, "8" }, { 0x0a, "9" }, { 0x0b, "0" }, { 0x0e, "Backspace" },
	{ 0x0f, "Tab" }, { 0x10, "q" }, { 0x11, "w" }, { 0x12, "e" },
	{ 0x13, "r" }, { 0x14, "t" }, { 0x15, "y" }, { 0x16, "u" },
	{ 0x17, "i" }, { 0x18, "o" }, { 0x19, "p" }, { 0x1c, "Enter" },
	{ 0x1d, "LeftCtrl" }, { 0x1e, "a" }, { 0x1f, "s" }, { 0x20, "d" },
	{ 0x21, "f" }, { 0x22, "g" }, { 0x23, "h" }, { 0x24, "j" },
	{ 0x25, "k" }, { 0x26, "l" }, { 0x2a, "LeftShift" }, { 0x2c, "z" },
	{ 0x2d, "x" }, { 0x2e, "c" }, { 0x2f, "v" }, { 0x30, "b" },
	{ 0x31, "n" }, { 0x32, "m" }, { 0x36, "RightShift" },
	{ 0x38, "LeftAlt" }, { 0x39, "Space" },
};

static const struct key_name extended_keys[] = {
	{ 0x1d, "RightCtrl" }, { 0x38, "RightAlt" }, { 0x48, "Up" },
	{ 0x4b, "Left" }, { 0x4d, "Right" }, { 0x50, "Down" },
};

#define RING_SIZE		256

struct byte_ring {
	uint8_t bytes[RING_SIZE];
	volatile uint32_t head, tail;
	volatile uint32_t irqs, dropped;
};

static struct byte_ring kbd_ring, aux_ring;

static uint8_t read_status(void)
{
	return inb(I8042_STATUS);
}

static void wait_input_empty(const char *what)
{
	timeout_start(REPLY_TIMEOUT_MS);
	while (read_status() & I8042_STATUS_IBF) {
		if (timeout_expired())
			test_fail("i8042 input buffer still full after %u ms (%s)",
				  REPLY_TIMEOUT_MS, what);
		cpu_relax();
	}
	timeout_stop();
}

static void ctrl_command(uint8_t command)
{
	wait_input_empty("controller command");
	outb(I8042_COMMAND, command);
}

static void data_write(uint8_t byte)
{
	wait_input_empty("data byte");
	outb(I8042_DATA, byte);
}

/*
 * The next byte by polling: from the keyboard (or the controller) or, with
 * aux, from the mouse; bytes from the other port are reported and skipped.
 */
static uint8_t port_read(const char *what, bool aux)
{
	uint8_t status, byte;

	timeout_start(REPLY_TIMEOUT_MS);
	for (;;) {
		status = read_status();
		if (status & STATUS_OBF) {
			byte = inb(I8042_DATA);
			if (!(status & STATUS_AUX) == !aux)
				break;
			printf("keyboard: ignoring %s byte %02x\n",
			       aux ? "keyboard" : "aux", byte);
		} else if (timeout_expired()) {
			test_fail("no answer to %s within %u ms (status %#x)",
				  what, REPLY_TIMEOUT_MS, status);
		}
		cpu_relax();
	}
	timeout_stop();
	return byte;
}

static uint8_t data_read(const char *what)
{
	return port_read(what, false);
}

static void expect_byte(uint8_t want, const char *what, bool aux)
{
	uint8_t got = port_read(what, aux);

	test_assert(got == want, "%s answered %02x, want %02x", what, got, want);
}

static void kbd_command(uint8_t byte, const char *what)
{
	data_write(byte);
	expect_byte(KBD_ACK, what, false);
}

static void aux_command(uint8_t byte, const char *what)
{
	ctrl_command(CTRL_WRITE_AUX);
	data_write(byte);
	expect_byte(KBD_ACK, what, true);
}

static uint8_t read_command_byte(void)
{
	ctrl_command(CTRL_READ_CMD_BYTE);
	return data_read("read command byte (20)");
}

static void controller_init(bool mouse)
{
	uint8_t byte, command_byte, readback;
	unsigned int flushed = 0;

	ctrl_command(CTRL_DISABLE_KBD);
	ctrl_command(CTRL_DISABLE_AUX);
	while ((read_status() & STATUS_OBF) && flushed < FLUSH_LIMIT) {
		byte = inb(I8042_DATA);
		printf("keyboard: flushed %02x\n", byte);
		flushed++;
	}
	test_assert(!(read_status() & STATUS_OBF),
		    "output buffer still full after %u reads", flushed);

	command_byte = read_command_byte();
	printf("keyboard: command byte %02x\n", command_byte);

	ctrl_command(CTRL_SELF_TEST);
	byte = data_read("controller self-test (AA)");
	printf("keyboard: self-test %02x\n", byte);
	test_assert(byte == CTRL_SELF_TEST_OK, "controller self-test gives %02x, want 55",
		    byte);

	/*
	 * What Linux's i8042 driver wants: IRQ 1 and translation; the aux
	 * port stays disabled until A8 enables it, with IRQ 12 for a mouse.
	 */
	command_byte &= ~(CMD_AUX_IRQ | CMD_KBD_DISABLED);
	command_byte |= CMD_KBD_IRQ | CMD_SYSTEM_FLAG | CMD_TRANSLATE |
			CMD_AUX_DISABLED;
	if (mouse)
		command_byte |= CMD_AUX_IRQ;
	ctrl_command(CTRL_WRITE_CMD_BYTE);
	data_write(command_byte);
	readback = read_command_byte();
	printf("keyboard: wrote command byte %02x, reads %02x\n", command_byte,
	       readback);
	test_assert(readback == command_byte, "command byte reads %02x, wrote %02x",
		    readback, command_byte);

	ctrl_command(CTRL_ENABLE_KBD);
	readback = read_command_byte();
	test_assert(!(readback & CMD_KBD_DISABLED),
		    "command byte %02x still has the keyboard disabled after AE",
		    readback);
	if (!mouse)
		return;
	ctrl_command(CTRL_ENABLE_AUX);
	readback = read_command_byte();
	test_assert(!(readback & CMD_AUX_DISABLED),
		    "command byte %02x still has the aux port disabled after A8",
		    readback);
}

static void keyboard_init(void)
{
	kbd_command(KBD_RESET, "keyboard reset (FF)");
	expect_byte(KBD_BAT_OK, "keyboard self-test after reset", false);
	kbd_command(KBD_SET_LEDS, "set LEDs (ED)");
	kbd_command(LEDS_ALL, "LED state 07");
	kbd_command(KBD_ENABLE, "enable scanning (F4)");
	printf("keyboard: reset, LEDs set, scanning enabled\n");
}

static void mouse_init(void)
{
	aux_command(KBD_RESET, "mouse reset (D4 FF)");
	expect_byte(KBD_BAT_OK, "mouse self-test after reset", true);
	expect_byte(MOUSE_ID_STANDARD, "mouse ID after reset", true);
	aux_command(KBD_ENABLE, "mouse enable reporting (D4 F4)");
	printf("keyboard: mouse reset, reporting enabled\n");
}

static void ring_put(struct byte_ring *ring, uint8_t byte)
{
	if (ring->head - ring->tail < RING_SIZE) {
		ring->bytes[ring->head % RING_SIZE] = byte;
		ring->head++;
	} else {
		ring->dropped++;
	}
}

/*
 * IRQ 1 and IRQ 12 alike: drain the output buffer, sorting bytes by the
 * AUX status bit (the 8259 sees edges, so a byte left behind would never
 * raise another interrupt).
 */
static void i8042_interrupt(struct trap_frame *frame)
{
	uint8_t status;

	if (frame->vector == AUX_VECTOR)
		aux_ring.irqs++;
	else
		kbd_ring.irqs++;
	while ((status = read_status()) & STATUS_OBF) {
		uint8_t byte = inb(I8042_DATA);

		ring_put(status & STATUS_AUX ? &aux_ring : &kbd_ring, byte);
	}
	pic_eoi(frame->vector == AUX_VECTOR ? AUX_IRQ : KBD_IRQ);
}

/* Call with interrupts off. */
static int ring_get(struct byte_ring *ring)
{
	int c;

	if (ring->tail == ring->head)
		return -1;
	c = ring->bytes[ring->tail % RING_SIZE];
	ring->tail++;
	return c;
}

static const char *key_name(uint8_t code, bool extended)
{
	const struct key_name *table = extended ? extended_keys : plain_keys;
	unsigned int count = extended ? ARRAY_SIZE(extended_keys) :
					ARRAY_SIZE(plain_keys);

	for (unsigned int i = 0; i < count; i++)
		if (table[i].code == code)
			return table[i].name;
	return NULL;
}

struct decoder {
	bool extended;		/* the previous byte was E0 */
	bool escape_down;
	uint8_t packet[3];	/* mouse */
	unsigned int packet_len;
};

/* Returns true when Escape has gone down and up again. */
static bool decode_byte(struct decoder *dec, uint8_t byte)
{
	bool down = !(byte & SC_BREAK), extended = dec->extended;
	uint8_t code = byte & ~SC_BREAK;
	const char *name;

	printf("SC %02X\n", byte);
	if (byte == SC_EXTENDED) {
		dec->extended = true;
		return false;
	}
	dec->extended = false;
	name = key_name(code, extended);
	if (name)
		printf("KEY %s %s\n", name, down ? "DOWN" : "UP");
	else
		printf("KEY unknown %s%02X %s\n", extended ? "E0 " : "", code,
		       down ? "DOWN" : "UP");
	if (extended || code != SC_ESCAPE)
		return false;
	if (down) {
		dec->escape_down = true;
		return false;
	}
	return dec->escape_down;
}

static void decode_mouse_byte(struct decoder *dec, uint8_t byte)
{
	const uint8_t *p = dec->packet;
	int dx, dy;

	if (dec->packet_len == 0)
		test_assert(byte & MOUSE_ALWAYS_ONE,
			    "mouse packet starts with %02x: bit 3 is clear", byte);
	dec->packet[dec->packet_len++] = byte;
	if (dec->packet_len < 3)
		return;
	dec->packet_len = 0;
	dx = p[1] - (p[0] & MOUSE_X_SIGN ? 256 : 0);
	dy = p[2] - (p[0] & MOUSE_Y_SIGN ? 256 : 0);
	printf("MOUSE %u %d %d\n", p[0] & MOUSE_BUTTONS, dx, dy);
}

int main(void)
{
	struct decoder dec = { 0 };
	uint64_t mouse = 0;
	int c;

	lapic_enable();		/* for the deadlines */
	cmdline_get_u64("mouse", &mouse);
	controller_init(mouse != 0);
	keyboard_init();
	if (mouse)
		mouse_init();

	idt_set_handler(KBD_VECTOR, i8042_interrupt);
	pic_unmask(KBD_IRQ);
	if (mouse) {
		idt_set_handler(AUX_VECTOR, i8042_interrupt);
		pic_unmask(AUX_IRQ);
	}
	serial_rx_irq_start(PIC_MASTER_VECTOR + COM1_IRQ);
	printf("READY\n");

	for (unsigned int s = 0; s < WAIT_SECONDS; s++) {
		timeout_start(1000);
		while (!timeout_expired()) {
			bool idle = true;

			while ((c = ring_get(&aux_ring)) >= 0) {
				idle = false;
				decode_mouse_byte(&dec, (uint8_t)c);
			}
			while ((c = ring_get(&kbd_ring)) >= 0) {
				idle = false;
				if (decode_byte(&dec, (uint8_t)c)) {
					printf("keyboard: Escape pressed and released, %u IRQs (%u aux)\n",
					       kbd_ring.irqs, aux_ring.irqs);
					test_assert(!kbd_ring.dropped && !aux_ring.dropped,
						    "%u keyboard and %u mouse bytes dropped",
						    kbd_ring.dropped, aux_ring.dropped);
					return 0;
				}
			}
			while ((c = serial_rx_irq_getc()) >= 0) {
				idle = false;
				if (c == 'q') {
					printf("keyboard: 'q' on COM1, %u IRQs (%u aux)\n",
					       kbd_ring.irqs, aux_ring.irqs);
					return 0;
				}
			}
			if (idle)
				irq_wait();
		}
		timeout_stop();
	}
	test_fail("no Escape press and release within %u s (%u IRQs)",
		  WAIT_SECONDS, kbd_ring.irqs);
}
