/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "i8042.h"

#include <glib.h>

/* Status register (IBM PS/2 Technical Reference, keyboard/auxiliary controller). */
#define STATUS_OBF		0x01	/* output buffer full */
#define STATUS_SYS		0x04	/* system flag, set after self-test */
#define STATUS_CMD		0x08	/* last write was to the command port */
#define STATUS_UNLOCKED		0x10	/* keyboard not inhibited */
#define STATUS_AUX_OBF		0x20	/* output buffer holds auxiliary data */

/* Controller command byte. */
#define CCB_KBD_INT		0x01
#define CCB_AUX_INT		0x02
#define CCB_SYS			0x04
#define CCB_KBD_DISABLE		0x10
#define CCB_AUX_DISABLE		0x20
#define CCB_XLATE		0x40

/* Output port. */
#define OUTPUT_RESET_LINE	0x01	/* active low: 0 resets the CPU */
#define OUTPUT_A20		0x02

enum i8042_command {
	CMD_READ_CCB = 0x20,
	CMD_WRITE_CCB = 0x60,
	CMD_AUX_DISABLE = 0xa7,
	CMD_AUX_ENABLE = 0xa8,
	CMD_AUX_TEST = 0xa9,
	CMD_SELF_TEST = 0xaa,
	CMD_KBD_TEST = 0xab,
	CMD_KBD_DISABLE = 0xad,
	CMD_KBD_ENABLE = 0xae,
	CMD_READ_INPUT = 0xc0,
	CMD_READ_OUTPUT = 0xd0,
	CMD_WRITE_OUTPUT = 0xd1,
	CMD_WRITE_KBD_OBUF = 0xd2,
	CMD_WRITE_AUX_OBUF = 0xd3,
	CMD_WRITE_AUX = 0xd4,
	CMD_DISABLE_A20 = 0xdd,
	CMD_ENABLE_A20 = 0xdf,
	CMD_PULSE_FIRST = 0xf0,	/* 0xf0-0xff pulse output port bits 0-3 low */
};

#define QUEUE_SIZE 64

struct i8042_byte {
	uint8_t value;
	bool aux;
};

struct i8042 {
	GMutex lock;
	struct irq_line kbd_irq, aux_irq;
	void (*request_reset)(void *opaque);
	void *reset_opaque;

	const struct ps2_device_ops *kbd_ops, *aux_ops;
	void *kbd_opaque, *aux_opaque;

	uint8_t status, ccb, output_port;
	uint8_t pending_command;	/* command waiting for its data byte, or 0 */
	struct i8042_byte obuf;		/* what port 0x60 returns */
	struct i8042_byte queue[QUEUE_SIZE];
	unsigned int queue_head, queue_count;
	bool kbd_level, aux_level;
};

static void update_irqs(struct i8042 *c)
{
	bool full = c->status & STATUS_OBF;
	bool kbd = full && !c->obuf.aux && (c->ccb & CCB_KBD_INT);
	bool aux = full && c->obuf.aux && (c->ccb & CCB_AUX_INT);

	if (kbd != c->kbd_level) {
		c->kbd_level = kbd;
		irq_line_set(&c->kbd_irq, kbd);
	}
	if (aux != c->aux_level) {
		c->aux_level = aux;
		irq_line_set(&c->aux_irq, aux);
	}
}

/* Moves the next queued byte into the output buffer if it is free. */
static void refill_obuf(struct i8042 *c)
{
	if ((c->status & STATUS_OBF) || !c->queue_count)
		return;
	c->obuf = c->queue[c->queue_head];
	c->queue_head = (c->queue_head + 1) % QUEUE_SIZE;
	c->queue_count--;
	c->status |= STATUS_OBF;
	if (c->obuf.aux)
		c->status |= STATUS_AUX_OBF;
	else
		c->status &= ~STATUS_AUX_OBF;
}

static void enqueue(struct i8042 *c, uint8_t value, bool aux)
{
	if (c->queue_count == QUEUE_SIZE)
		return;	/* the guest stopped reading: drop, as an overrun would */
	c->queue[(c->queue_head + c->queue_count) % QUEUE_SIZE] = (struct i8042_byte){ value, aux };
	c->queue_count++;
	refill_obuf(c);
}

static void i8042_reset_locked(struct i8042 *c)
{
	c->status = STATUS_UNLOCKED;
	c->ccb = CCB_KBD_INT | CCB_AUX_INT | CCB_XLATE | CCB_SYS;
	c->output_port = OUTPUT_RESET_LINE | OUTPUT_A20;
	c->pending_command = 0;
	c->queue_head = c->queue_count = 0;
	c->obuf = (struct i8042_byte){ 0, false };
	update_irqs(c);
}

struct i8042 *i8042_new(struct irq_line kbd_irq, struct irq_line aux_irq,
			void (*request_reset)(void *opaque), void *reset_opaque)
{
	struct i8042 *c = g_new0(struct i8042, 1);

	g_mutex_init(&c->lock);
	c->kbd_irq = kbd_irq;
	c->aux_irq = aux_irq;
	c->request_reset = request_reset;
	c->reset_opaque = reset_opaque;
	i8042_reset_locked(c);
	return c;
}

void i8042_free(struct i8042 *c)
{
	if (!c)
		return;
	g_mutex_clear(&c->lock);
	g_free(c);
}

void i8042_reset(struct i8042 *c)
{
	g_mutex_lock(&c->lock);
	i8042_reset_locked(c);
	g_mutex_unlock(&c->lock);
}

void i8042_attach_keyboard(struct i8042 *c, const struct ps2_device_ops *ops, void *opaque)
{
	g_mutex_lock(&c->lock);
	c->kbd_ops = ops;
	c->kbd_opaque = opaque;
	g_mutex_unlock(&c->lock);
}

void i8042_attach_aux(struct i8042 *c, const struct ps2_device_ops *ops, void *opaque)
{
	g_mutex_lock(&c->lock);
	c->aux_ops = ops;
	c->aux_opaque = opaque;
	g_mutex_unlock(&c->lock);
}

void i8042_keyboard_send(struct i8042 *c, uint8_t byte)
{
	g_mutex_lock(&c->lock);
	enqueue(c, byte, false);
	update_irqs(c);
	g_mutex_unlock(&c->lock);
}

void i8042_aux_send(struct i8042 *c, uint8_t byte)
{
	g_mutex_lock(&c->lock);
	enqueue(c, byte, true);
	update_irqs(c);
	g_mutex_unlock(&c->lock);
}

/* Returns true when the output port change asks for a CPU reset. */
static bool write_output_port(struct i8042 *c, uint8_t value)
{
	c->output_port = value | OUTPUT_RESET_LINE;
	return !(value & OUTPUT_RESET_LINE);
}

/*
 * Runs a controller command; returns true if the machine must reset.  The
 * device callbacks may call back into i8042_*_send, so they are called by
 * the caller after the lock is dropped (see i8042_data_write).
 */
static bool run_command(struct i8042 *c, uint8_t command)
{
	switch (command) {
	case CMD_READ_CCB:
		enqueue(c, c->ccb, false);
		break;
	case CMD_WRITE_CCB:
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		c->pending_command = command;
		break;
	case CMD_AUX_DISABLE:
		c->ccb |= CCB_AUX_DISABLE;
		break;
	case CMD_AUX_ENABLE:
		c->ccb &= ~CCB_AUX_DISABLE;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		enqueue(c, 0x00, false);	/* interface OK */
		break;
	case CMD_SELF_TEST:
		c->status |= STATUS_SYS;
		enqueue(c, 0x55, false);
		break;
	case CMD_KBD_DISABLE:
		c->ccb |= CCB_KBD_DISABLE;
		break;
	case CMD_KBD_ENABLE:
		c->ccb &= ~CCB_KBD_DISABLE;
		break;
	case CMD_READ_INPUT:
		enqueue(c, 0x80, false);	/* keyboard not locked */
		break;
	case CMD_READ_OUTPUT:
		enqueue(c, c->output_port, false);
		break;
	case CMD_DISABLE_A20:
		c->output_port &= ~OUTPUT_A20;
		break;
	case CMD_ENABLE_A20:
		c->output_port |= OUTPUT_A20;
		break;
	default:
		/* 0xf0-0xff: pulse the output bits whose mask bit is clear. */
		if (command >= CMD_PULSE_FIRST && !(command & OUTPUT_RESET_LINE))
			return true;
		break;
	}
	return false;
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct i8042 *c = opaque;
	uint8_t value;

	g_mutex_lock(&c->lock);
	value = c->obuf.value;	/* reading an empty buffer repeats the last byte */
	c->status &= ~(STATUS_OBF | STATUS_AUX_OBF);
	/*
	 * Drop the line before loading the next byte: IRQ 1 and 12 are
	 * edge-triggered ISA interrupts and guests (Linux's i8042 driver) read
	 * one byte per interrupt, so each queued byte needs its own rising edge,
	 * as the real controller gives by emptying the buffer between bytes.
	 */
	update_irqs(c);
	refill_obuf(c);
	update_irqs(c);
	g_mutex_unlock(&c->lock);
	return value;
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value64, unsigned int size)
{
	struct i8042 *c = opaque;
	uint8_t value = (uint8_t)value64;
	const struct ps2_device_ops *ops = NULL;
	void *device = NULL;
	bool reset = false;

	g_mutex_lock(&c->lock);
	c->status &= ~STATUS_CMD;
	switch (c->pending_command) {
	case CMD_WRITE_CCB:
		c->ccb = value;
		c->status = (uint8_t)((c->status & ~STATUS_SYS) | (value & CCB_SYS));
		break;
	case CMD_WRITE_OUTPUT:
		reset = write_output_port(c, value);
		break;
	case CMD_WRITE_KBD_OBUF:
		enqueue(c, value, false);
		break;
	case CMD_WRITE_AUX_OBUF:
		enqueue(c, value, true);
		break;
	case CMD_WRITE_AUX:
		ops = c->aux_ops;
		device = c->aux_opaque;
		break;
	default:
		ops = c->kbd_ops;
		device = c->kbd_opaque;
		break;
	}
	c->pending_command = 0;
	update_irqs(c);
	g_mutex_unlock(&c->lock);

	if (ops && ops->receive)
		ops->receive(device, value);
	if (reset && c->request_reset)
		c->request_reset(c->reset_opaque);
}

static uint64_t i8042_status_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct i8042 *c = opaque;
	uint8_t value;

	g_mutex_lock(&c->lock);
	value = c->status;
	g_mutex_unlock(&c->lock);
	return value;
}

static void i8042_command_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct i8042 *c = opaque;
	bool reset;

	g_mutex_lock(&c->lock);
	c->status |= STATUS_CMD;
	c->pending_command = 0;
	reset = run_command(c, (uint8_t)value);
	update_irqs(c);
	g_mutex_unlock(&c->lock);
	if (reset && c->request_reset)
		c->request_reset(c->reset_opaque);
}

const struct bus_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

const struct bus_ops i8042_command_ops = {
	.read = i8042_status_read,
	.write = i8042_command_write,
};
