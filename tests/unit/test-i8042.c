/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 8042 keyboard controller through ports 0x60 (data) and 0x64
 * (status/command), with fake IRQ 1/12 lines, a fake reset line and fake
 * PS/2 devices that answer like a keyboard and a mouse.
 */
#include <glib.h>
#include <string.h>

#include "i8042.h"

#define ST_OBF		0x01
#define ST_SYS		0x04
#define ST_CMD		0x08
#define ST_AUX		0x20

struct fake_irq {
	bool level;
	unsigned int raises;
};

static void fake_irq_set(void *opaque, unsigned int gsi, bool level)
{
	struct fake_irq *irq = opaque;

	if (level && !irq->level)
		irq->raises++;
	irq->level = level;
}

/* A PS/2 device that logs what it gets and answers through the controller. */
struct fake_device {
	struct i8042 *controller;
	bool aux;
	GByteArray *received;
};

static void fake_device_receive(void *opaque, uint8_t byte)
{
	struct fake_device *dev = opaque;
	void (*send)(struct i8042 *, uint8_t) = dev->aux ? i8042_aux_send : i8042_keyboard_send;

	g_byte_array_append(dev->received, &byte, 1);
	send(dev->controller, 0xfa);		/* ACK */
	if (byte == 0xff) {			/* reset: self-test passed */
		send(dev->controller, 0xaa);
		if (dev->aux)
			send(dev->controller, 0x00);	/* mouse ID */
	}
}

/* Separate ops per port, so a byte routed through the wrong port's ops shows. */
static void fake_keyboard_receive(void *opaque, uint8_t byte)
{
	g_assert_false(((struct fake_device *)opaque)->aux);
	fake_device_receive(opaque, byte);
}

static void fake_mouse_receive(void *opaque, uint8_t byte)
{
	g_assert_true(((struct fake_device *)opaque)->aux);
	fake_device_receive(opaque, byte);
}

static const struct ps2_device_ops fake_keyboard_ops = {
	.receive = fake_keyboard_receive,
};

static const struct ps2_device_ops fake_mouse_ops = {
	.receive = fake_mouse_receive,
};

struct fixture {
	struct i8042 *c;
	struct fake_irq kbd_irq, aux_irq;
	unsigned int resets;
	struct fake_device kbd, mouse;
};

static void count_reset(void *opaque)
{
	(*(unsigned int *)opaque)++;
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	memset(f, 0, sizeof(*f));
	f->c = i8042_new((struct irq_line){ fake_irq_set, &f->kbd_irq, I8042_KBD_GSI },
			 (struct irq_line){ fake_irq_set, &f->aux_irq, I8042_AUX_GSI },
			 count_reset, &f->resets);
	f->kbd = (struct fake_device){ f->c, false, g_byte_array_new() };
	f->mouse = (struct fake_device){ f->c, true, g_byte_array_new() };
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	i8042_free(f->c);
	g_byte_array_unref(f->kbd.received);
	g_byte_array_unref(f->mouse.received);
}

static uint8_t status(struct fixture *f)
{
	return (uint8_t)i8042_command_ops.read(f->c, 0, 1);
}

static void command(struct fixture *f, uint8_t cmd)
{
	i8042_command_ops.write(f->c, 0, cmd, 1);
}

static uint8_t data_read(struct fixture *f)
{
	return (uint8_t)i8042_data_ops.read(f->c, 0, 1);
}

static void data_write(struct fixture *f, uint8_t value)
{
	i8042_data_ops.write(f->c, 0, value, 1);
}

/* Reads one byte the way Linux's i8042 driver does: wait for OBF first. */
static uint8_t read_response(struct fixture *f)
{
	g_assert_cmphex(status(f) & ST_OBF, ==, ST_OBF);
	return data_read(f);
}

static void assert_empty(struct fixture *f)
{
	g_assert_cmphex(status(f) & (ST_OBF | ST_AUX), ==, 0);
	g_assert_false(f->kbd_irq.level);
	g_assert_false(f->aux_irq.level);
}

static void test_self_test(struct fixture *f, gconstpointer data)
{
	assert_empty(f);
	g_assert_cmphex(status(f) & ST_SYS, ==, 0);

	command(f, 0xaa);
	g_assert_cmphex(status(f) & (ST_SYS | ST_CMD), ==, ST_SYS | ST_CMD);
	g_assert_cmphex(read_response(f), ==, 0x55);
	assert_empty(f);

	command(f, 0xab);	/* keyboard interface test */
	g_assert_cmphex(read_response(f), ==, 0x00);
	command(f, 0xa9);	/* aux interface test */
	g_assert_cmphex(read_response(f), ==, 0x00);
	assert_empty(f);
	/* The last write was a command until data is written. */
	data_write(f, 0xf4);
	g_assert_cmphex(status(f) & ST_CMD, ==, 0);
}

static void test_command_byte(struct fixture *f, gconstpointer data)
{
	/* Power-on CCB: translation, system flag, both interrupts. */
	command(f, 0x20);
	g_assert_cmphex(read_response(f), ==, 0x47);

	command(f, 0x60);
	data_write(f, 0x30);	/* both ports disabled, no interrupts, SYS clear */
	g_assert_cmphex(status(f) & ST_SYS, ==, 0);
	command(f, 0x20);
	g_assert_cmphex(read_response(f), ==, 0x30);

	/* The status SYS flag follows CCB bit 2. */
	command(f, 0x60);
	data_write(f, 0x04);
	g_assert_cmphex(status(f) & ST_SYS, ==, ST_SYS);

	/* 0xA7/0xA8 and 0xAD/0xAE flip the disable bits. */
	command(f, 0xa7);
	command(f, 0xad);
	command(f, 0x20);
	g_assert_cmphex(read_response(f), ==, 0x34);
	command(f, 0xa8);
	command(f, 0xae);
	command(f, 0x20);
	g_assert_cmphex(read_response(f), ==, 0x04);
	/* The data byte went to the CCB, not to a device. */
	g_assert_cmpuint(f->kbd.received->len, ==, 0);
}

static void test_output_port(struct fixture *f, gconstpointer data)
{
	/* Reset line high (not resetting), A20 on. */
	command(f, 0xd0);
	g_assert_cmphex(read_response(f) & 0x03, ==, 0x03);

	command(f, 0xd1);
	data_write(f, 0x01);	/* A20 off */
	command(f, 0xd0);
	g_assert_cmphex(read_response(f) & 0x03, ==, 0x01);
	command(f, 0xdf);
	command(f, 0xd0);
	g_assert_cmphex(read_response(f) & 0x03, ==, 0x03);
	command(f, 0xdd);
	command(f, 0xd0);
	g_assert_cmphex(read_response(f) & 0x03, ==, 0x01);
	g_assert_cmpuint(f->resets, ==, 0);
}

static void test_reset_line(struct fixture *f, gconstpointer data)
{
	/* 0xFE pulses output bit 0, the CPU reset line: how Linux reboots. */
	command(f, 0xfe);
	g_assert_cmpuint(f->resets, ==, 1);
	/* 0xFF pulses nothing. */
	command(f, 0xff);
	g_assert_cmpuint(f->resets, ==, 1);
	/* 0xF0-0xFE with bit 0 clear all pulse the reset line. */
	command(f, 0xf0);
	g_assert_cmpuint(f->resets, ==, 2);
	command(f, 0xfd);
	g_assert_cmpuint(f->resets, ==, 2);

	/* Writing the output port with bit 0 clear resets too... */
	command(f, 0xd1);
	data_write(f, 0x02);
	g_assert_cmpuint(f->resets, ==, 3);
	/* ...with it set, it does not. */
	command(f, 0xd1);
	data_write(f, 0x03);
	g_assert_cmpuint(f->resets, ==, 3);
	/* And the reset line reads back high afterwards. */
	command(f, 0xd0);
	g_assert_cmphex(read_response(f) & 0x01, ==, 0x01);
}

static void test_loopback(struct fixture *f, gconstpointer data)
{
	/* 0xD2: the next data byte appears as if the keyboard sent it. */
	command(f, 0xd2);
	data_write(f, 0xab);
	g_assert_cmphex(status(f) & (ST_OBF | ST_AUX), ==, ST_OBF);
	g_assert_true(f->kbd_irq.level);
	g_assert_false(f->aux_irq.level);
	g_assert_cmphex(data_read(f), ==, 0xab);
	assert_empty(f);

	/* 0xD3: as if the mouse sent it (AUX bit, IRQ 12). */
	command(f, 0xd3);
	data_write(f, 0xcd);
	g_assert_cmphex(status(f) & (ST_OBF | ST_AUX), ==, ST_OBF | ST_AUX);
	g_assert_false(f->kbd_irq.level);
	g_assert_true(f->aux_irq.level);
	g_assert_cmphex(data_read(f), ==, 0xcd);
	assert_empty(f);
	g_assert_cmpuint(f->kbd.received->len, ==, 0);
}

static void test_devices(struct fixture *f, gconstpointer data)
{
	i8042_attach_keyboard(f->c, &fake_keyboard_ops, &f->kbd);
	i8042_attach_aux(f->c, &fake_mouse_ops, &f->mouse);

	/* A data byte without a command goes to the keyboard. */
	data_write(f, 0xff);
	g_assert_cmpuint(f->kbd.received->len, ==, 1);
	g_assert_cmphex(f->kbd.received->data[0], ==, 0xff);
	g_assert_cmpuint(f->mouse.received->len, ==, 0);
	g_assert_true(f->kbd_irq.level);
	g_assert_cmphex(read_response(f), ==, 0xfa);
	g_assert_cmphex(read_response(f), ==, 0xaa);
	assert_empty(f);

	/* 0xD4 sends the next byte to the mouse; its answers carry the AUX bit. */
	command(f, 0xd4);
	data_write(f, 0xff);
	g_assert_cmpuint(f->mouse.received->len, ==, 1);
	g_assert_cmpuint(f->kbd.received->len, ==, 1);
	for (unsigned int i = 0; i < 3; i++) {
		static const uint8_t answer[3] = { 0xfa, 0xaa, 0x00 };

		g_assert_cmphex(status(f) & (ST_OBF | ST_AUX), ==, ST_OBF | ST_AUX);
		g_assert_true(f->aux_irq.level);
		g_assert_false(f->kbd_irq.level);
		g_assert_cmphex(data_read(f), ==, answer[i]);
	}
	assert_empty(f);

	/* 0xD4 applies to one byte only. */
	command(f, 0xd4);
	data_write(f, 0xf4);
	data_write(f, 0xf4);
	g_assert_cmpuint(f->mouse.received->len, ==, 2);
	g_assert_cmpuint(f->kbd.received->len, ==, 2);
}

static void test_irq_follows_ccb(struct fixture *f, gconstpointer data)
{
	command(f, 0x60);
	data_write(f, 0x44);	/* interrupts off */
	i8042_keyboard_send(f->c, 0x1c);
	g_assert_cmphex(status(f) & ST_OBF, ==, ST_OBF);
	g_assert_false(f->kbd_irq.level);

	/* Enabling the interrupt with a byte waiting raises IRQ 1 at once. */
	command(f, 0x60);
	data_write(f, 0x45);
	g_assert_true(f->kbd_irq.level);
	g_assert_cmphex(data_read(f), ==, 0x1e);	/* translated: XLATE is on */
	g_assert_false(f->kbd_irq.level);

	/* Mouse bytes use IRQ 12 and CCB bit 1. */
	i8042_aux_send(f->c, 0x08);
	g_assert_false(f->aux_irq.level);
	command(f, 0x60);
	data_write(f, 0x47);
	g_assert_true(f->aux_irq.level);
	g_assert_false(f->kbd_irq.level);
	g_assert_cmphex(data_read(f), ==, 0x08);
	assert_empty(f);
}

/* The bytes as the keyboard sends them (the CCB's power-on value but XLATE). */
static void no_translation(struct fixture *f)
{
	command(f, 0x60);
	data_write(f, 0x07);
}

static void test_queue_order(struct fixture *f, gconstpointer data)
{
	no_translation(f);
	/* Bytes come out in the order the devices sent them, each with its IRQ. */
	i8042_keyboard_send(f->c, 0x01);
	i8042_aux_send(f->c, 0x02);
	i8042_keyboard_send(f->c, 0x03);
	i8042_aux_send(f->c, 0x04);
	for (unsigned int i = 1; i <= 4; i++) {
		bool aux = !(i & 1);

		g_assert_cmphex(status(f) & (ST_OBF | ST_AUX), ==, ST_OBF | (aux ? ST_AUX : 0));
		g_assert_true(aux ? f->aux_irq.level : f->kbd_irq.level);
		g_assert_false(aux ? f->kbd_irq.level : f->aux_irq.level);
		g_assert_cmphex(data_read(f), ==, i);
	}
	assert_empty(f);
	/* An empty buffer reads the last byte again and raises nothing. */
	g_assert_cmphex(data_read(f), ==, 0x04);
	assert_empty(f);

	/* A guest that stops reading loses the newest bytes, never the oldest. */
	for (unsigned int i = 0; i < 200; i++)
		i8042_keyboard_send(f->c, (uint8_t)i);
	unsigned int n = 0;

	while (status(f) & ST_OBF) {
		g_assert_cmphex(data_read(f), ==, n);
		n++;
	}
	g_assert_cmpuint(n, >=, 16);
	g_assert_cmpuint(n, <, 200);
	i8042_keyboard_send(f->c, 0xee);
	g_assert_cmphex(read_response(f), ==, 0xee);
}

static void test_edge_per_byte(struct fixture *f, gconstpointer data)
{
	/*
	 * IRQ 1 and 12 are edge-triggered ISA interrupts and Linux's handler
	 * reads one byte per interrupt: every byte must bring a new rising edge,
	 * also when it was already queued behind the one just read.
	 */
	no_translation(f);
	i8042_keyboard_send(f->c, 0xe0);
	i8042_keyboard_send(f->c, 0x48);
	i8042_keyboard_send(f->c, 0xe0);
	g_assert_cmpuint(f->kbd_irq.raises, ==, 1);
	g_assert_cmphex(data_read(f), ==, 0xe0);
	g_assert_cmpuint(f->kbd_irq.raises, ==, 2);
	g_assert_true(f->kbd_irq.level);
	g_assert_cmphex(data_read(f), ==, 0x48);
	g_assert_cmpuint(f->kbd_irq.raises, ==, 3);
	g_assert_cmphex(data_read(f), ==, 0xe0);
	g_assert_cmpuint(f->kbd_irq.raises, ==, 3);
	assert_empty(f);

	/* Same for the mouse: a three-byte packet is three interrupts. */
	i8042_aux_send(f->c, 0x08);
	i8042_aux_send(f->c, 0x01);
	i8042_aux_send(f->c, 0xff);
	for (unsigned int i = 1; i <= 3; i++) {
		g_assert_cmpuint(f->aux_irq.raises, ==, i);
		g_assert_true(f->aux_irq.level);
		data_read(f);
	}
	g_assert_cmpuint(f->aux_irq.raises, ==, 3);
	assert_empty(f);
}

static void test_reset(struct fixture *f, gconstpointer data)
{
	i8042_attach_keyboard(f->c, &fake_keyboard_ops, &f->kbd);
	i8042_attach_aux(f->c, &fake_mouse_ops, &f->mouse);
	command(f, 0xaa);
	command(f, 0x60);
	data_write(f, 0x00);
	i8042_keyboard_send(f->c, 0x55);
	command(f, 0xd4);	/* a data byte for the mouse is pending */

	i8042_reset(f->c);
	assert_empty(f);
	command(f, 0x20);
	g_assert_cmphex(read_response(f), ==, 0x47);
	/* The pending 0xD4 is forgotten: data goes to the keyboard again. */
	data_write(f, 0xf2);
	g_assert_cmpuint(f->kbd.received->len, ==, 1);
	g_assert_cmpuint(f->mouse.received->len, ==, 0);
	g_assert_cmphex(read_response(f), ==, 0xfa);
	assert_empty(f);
}

static void test_translation(struct fixture *f, gconstpointer data)
{
	/*
	 * XLATE (CCB bit 6, on at power-on): set 2 from the keyboard reaches
	 * the guest as set 1; F0 is swallowed and sets bit 7 of the next byte.
	 */
	static const uint8_t set2[] = { 0x1c, 0xf0, 0x1c, 0xe0, 0x14, 0xe0, 0xf0, 0x14, 0xfa, 0x83 };
	static const uint8_t set1[] = { 0x1e, 0x9e, 0xe0, 0x1d, 0xe0, 0x9d, 0xfa, 0x41 };

	for (unsigned int i = 0; i < sizeof(set2); i++)
		i8042_keyboard_send(f->c, set2[i]);
	for (unsigned int i = 0; i < sizeof(set1); i++)
		g_assert_cmphex(read_response(f), ==, set1[i]);
	assert_empty(f);

	/* Mouse bytes are never translated. */
	i8042_aux_send(f->c, 0x1c);
	g_assert_cmphex(read_response(f), ==, 0x1c);

	/* Translation off: the bytes as sent. */
	command(f, 0x60);
	data_write(f, 0x07);
	for (unsigned int i = 0; i < sizeof(set2); i++)
		i8042_keyboard_send(f->c, set2[i]);
	for (unsigned int i = 0; i < sizeof(set2); i++)
		g_assert_cmphex(read_response(f), ==, set2[i]);
	assert_empty(f);

	/* Controller answers and D2 loopback bytes are not keyboard bytes: not translated. */
	command(f, 0x60);
	data_write(f, 0x47);
	command(f, 0xd2);
	data_write(f, 0x1c);
	g_assert_cmphex(read_response(f), ==, 0x1c);
}

static void test_port_disable_holds(struct fixture *f, gconstpointer data)
{
	command(f, 0x60);
	data_write(f, 0x03);	/* interrupts on, no translation */

	/* AD: the keyboard's bytes wait in the controller... */
	command(f, 0xad);
	i8042_keyboard_send(f->c, 0x1c);
	i8042_keyboard_send(f->c, 0x32);
	g_assert_cmphex(status(f) & ST_OBF, ==, 0);
	g_assert_false(f->kbd_irq.level);
	/* ...while the controller's own answers and the mouse's bytes pass. */
	i8042_aux_send(f->c, 0x08);
	command(f, 0x20);
	g_assert_cmphex(status(f) & ST_AUX, ==, ST_AUX);
	g_assert_true(f->aux_irq.level);
	g_assert_cmphex(data_read(f), ==, 0x08);
	g_assert_cmphex(read_response(f), ==, 0x13);
	assert_empty(f);
	/* AE lets them through, in order. */
	command(f, 0xae);
	g_assert_true(f->kbd_irq.level);
	g_assert_cmphex(read_response(f), ==, 0x1c);
	g_assert_cmphex(read_response(f), ==, 0x32);
	assert_empty(f);

	/* The same for the mouse with A7/A8, and through the command byte. */
	command(f, 0xa7);
	i8042_aux_send(f->c, 0x09);
	g_assert_cmphex(status(f) & ST_OBF, ==, 0);
	command(f, 0x60);
	data_write(f, 0x03);
	g_assert_true(f->aux_irq.level);
	g_assert_cmphex(data_read(f), ==, 0x09);
	assert_empty(f);
}

struct drain_device {
	struct fake_device dev;
	unsigned int drained;
};

static void counting_drained(void *opaque)
{
	((struct drain_device *)opaque)->drained++;
}

static const struct ps2_device_ops draining_mouse_ops = {
	.receive = fake_mouse_receive,
	.drained = counting_drained,
};

static void test_drained(struct fixture *f, gconstpointer data)
{
	struct drain_device mouse = { { f->c, true, g_byte_array_new() }, 0 };

	i8042_attach_aux(f->c, &draining_mouse_ops, &mouse);
	i8042_aux_send(f->c, 0x08);
	i8042_aux_send(f->c, 0x01);
	i8042_keyboard_send(f->c, 0x1c);
	i8042_aux_send(f->c, 0x02);
	data_read(f);
	data_read(f);
	data_read(f);
	g_assert_cmpuint(mouse.drained, ==, 0);
	/* The device hears once the guest has read its last byte. */
	data_read(f);
	g_assert_cmpuint(mouse.drained, ==, 1);
	assert_empty(f);
	/* Not again for other reads. */
	i8042_keyboard_send(f->c, 0x1c);
	data_read(f);
	g_assert_cmpuint(mouse.drained, ==, 1);
	g_byte_array_unref(mouse.dev.received);
}

#define SENDER_ROUNDS	200
#define SENDER_BURST	40

struct sender {
	struct i8042 *c;
	gint round_read;	/* rounds the reader has finished */
};

static gpointer sender_run(gpointer data)
{
	struct sender *s = data;

	for (int round = 0; round < SENDER_ROUNDS; round++) {
		while (g_atomic_int_get(&s->round_read) < round)
			g_thread_yield();
		for (int i = 0; i < SENDER_BURST; i++)
			i8042_keyboard_send(s->c, (uint8_t)i);
	}
	return NULL;
}

static void count_edges(void *opaque, unsigned int gsi, bool level)
{
	if (level)
		g_atomic_int_inc((gint *)opaque);
}

static void test_other_thread(struct fixture *f, gconstpointer data)
{
	/*
	 * Keys come from the window's thread while a vCPU reads the port: no
	 * byte is lost, reordered or read twice, and every byte raises IRQ 1.
	 */
	gint edges = 0;
	struct i8042 *c = i8042_new((struct irq_line){ count_edges, &edges, I8042_KBD_GSI },
				    (struct irq_line){ 0 }, NULL, NULL);
	struct sender s = { c, 0 };
	GThread *thread;

	i8042_command_ops.write(c, 0, 0x60, 1);
	i8042_data_ops.write(c, 0, 0x01, 1);
	thread = g_thread_new("keys", sender_run, &s);
	for (int round = 0; round < SENDER_ROUNDS; round++) {
		for (int i = 0; i < SENDER_BURST; i++) {
			while (!(i8042_command_ops.read(c, 0, 1) & ST_OBF))
				g_thread_yield();
			g_assert_cmpuint(i8042_data_ops.read(c, 0, 1), ==, i);
		}
		g_atomic_int_set(&s.round_read, round + 1);
	}
	g_thread_join(thread);
	g_assert_cmphex(i8042_command_ops.read(c, 0, 1) & ST_OBF, ==, 0);
	g_assert_cmpint(g_atomic_int_get(&edges), ==, SENDER_ROUNDS * SENDER_BURST);
	i8042_free(c);
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/i8042/self-test", test_self_test);
	ADD("/i8042/command-byte", test_command_byte);
	ADD("/i8042/output-port", test_output_port);
	ADD("/i8042/reset-line", test_reset_line);
	ADD("/i8042/loopback", test_loopback);
	ADD("/i8042/devices", test_devices);
	ADD("/i8042/irq-follows-ccb", test_irq_follows_ccb);
	ADD("/i8042/queue-order", test_queue_order);
	ADD("/i8042/edge-per-byte", test_edge_per_byte);
	ADD("/i8042/reset", test_reset);
	ADD("/i8042/translation", test_translation);
	ADD("/i8042/port-disable-holds", test_port_disable_holds);
	ADD("/i8042/drained", test_drained);
	ADD("/i8042/other-thread", test_other_thread);
	return g_test_run();
}
