/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "i8042.h"

#include <glib.h>
#include <pthread.h>

#include "keymap.h"

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

/* The set 2 break prefix, which translation folds into bit 7. */
#define SET2_BREAK_PREFIX	0xf0
#define SET1_BREAK_BIT		0x80

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

/* Who produced a byte: devices' bytes wait while their port is disabled. */
enum i8042_source {
	SOURCE_CONTROLLER,	/* command answers, D2/D3 loopback */
	SOURCE_KBD,
	SOURCE_AUX,
};

struct i8042_byte {
	uint8_t value;
	bool aux;		/* status AUX_OBF and IRQ 12 */
	uint8_t source;		/* enum i8042_source */
};

enum { PORT_KBD, PORT_AUX, PORT_COUNT };

/* IRQ level changes decided under the lock, made after it is dropped. */
#define IRQ_CHANGES_MAX	8

struct irq_change {
	bool aux;
	bool level;
};

struct i8042 {
	/*
	 * output_lock is taken before lock and held across the IRQ call-outs,
	 * so lines change in the order the state changed (see "Locking rule"
	 * in docs/architecture.md).  Neither is held while a device runs.
	 */
	pthread_mutex_t output_lock;
	pthread_mutex_t lock;
	struct irq_line kbd_irq, aux_irq;
	void (*request_reset)(void *opaque);
	void *reset_opaque;

	const struct ps2_device_ops *ops[PORT_COUNT];
	void *opaque[PORT_COUNT];
	/* The device sent bytes the guest has not all read yet. */
	bool undrained[PORT_COUNT];

	uint8_t status, ccb, output_port;
	uint8_t pending_command;	/* command waiting for its data byte, or 0 */
	bool xlate_break;		/* translation saw F0: set bit 7 of the next byte */
	struct i8042_byte obuf;		/* what port 0x60 returns */
	struct i8042_byte queue[QUEUE_SIZE];
	unsigned int queue_head, queue_count;
	bool kbd_level, aux_level;
	struct irq_change irq_changes[IRQ_CHANGES_MAX];
	unsigned int irq_change_count;
};

static void note_irq(struct i8042 *c, bool aux, bool level)
{
	bool *current = aux ? &c->aux_level : &c->kbd_level;

	if (*current == level)
		return;
	*current = level;
	/* At most two changes per line per update; the array cannot fill. */
	g_assert(c->irq_change_count < IRQ_CHANGES_MAX);
	c->irq_changes[c->irq_change_count++] = (struct irq_change){ aux, level };
}

static void update_irqs(struct i8042 *c)
{
	bool full = c->status & STATUS_OBF;

	note_irq(c, false, full && !c->obuf.aux && (c->ccb & CCB_KBD_INT));
	note_irq(c, true, full && c->obuf.aux && (c->ccb & CCB_AUX_INT));
}

/* Called with output_lock held and lock dropped. */
static void flush_irqs(struct i8042 *c, const struct irq_change *changes, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++)
		irq_line_set(changes[i].aux ? &c->aux_irq : &c->kbd_irq, changes[i].level);
}

static void lock_controller(struct i8042 *c)
{
	pthread_mutex_lock(&c->output_lock);
	pthread_mutex_lock(&c->lock);
}

/* Drops the state lock, makes the IRQ changes decided under it, then the output lock. */
static void unlock_controller(struct i8042 *c)
{
	struct irq_change changes[IRQ_CHANGES_MAX];
	unsigned int count;

	update_irqs(c);
	count = c->irq_change_count;
	for (unsigned int i = 0; i < count; i++)
		changes[i] = c->irq_changes[i];
	c->irq_change_count = 0;
	pthread_mutex_unlock(&c->lock);
	flush_irqs(c, changes, count);
	pthread_mutex_unlock(&c->output_lock);
}

static bool source_enabled(const struct i8042 *c, uint8_t source)
{
	switch (source) {
	case SOURCE_KBD:
		return !(c->ccb & CCB_KBD_DISABLE);
	case SOURCE_AUX:
		return !(c->ccb & CCB_AUX_DISABLE);
	default:
		return true;
	}
}

/*
 * Moves the oldest byte the guest may see into the output buffer if it is
 * free.  Bytes of a disabled port are skipped, not dropped: they wait until
 * the port is enabled again, keeping their order within the port.
 */
static void refill_obuf(struct i8042 *c)
{
	unsigned int i;

	if (c->status & STATUS_OBF)
		return;
	for (i = 0; i < c->queue_count; i++) {
		if (source_enabled(c, c->queue[(c->queue_head + i) % QUEUE_SIZE].source))
			break;
	}
	if (i == c->queue_count)
		return;
	c->obuf = c->queue[(c->queue_head + i) % QUEUE_SIZE];
	/* Close the gap: shift the skipped bytes up by one. */
	for (; i > 0; i--)
		c->queue[(c->queue_head + i) % QUEUE_SIZE] = c->queue[(c->queue_head + i - 1) % QUEUE_SIZE];
	c->queue_head = (c->queue_head + 1) % QUEUE_SIZE;
	c->queue_count--;
	c->status |= STATUS_OBF;
	if (c->obuf.aux)
		c->status |= STATUS_AUX_OBF;
	else
		c->status &= ~STATUS_AUX_OBF;
}

static void enqueue(struct i8042 *c, uint8_t value, bool aux, enum i8042_source source)
{
	if (c->queue_count == QUEUE_SIZE)
		return;	/* the guest stopped reading: drop, as an overrun would */
	c->queue[(c->queue_head + c->queue_count) % QUEUE_SIZE] =
		(struct i8042_byte){ value, aux, (uint8_t)source };
	c->queue_count++;
	refill_obuf(c);
}

static bool port_has_bytes(const struct i8042 *c, unsigned int port)
{
	uint8_t source = port == PORT_AUX ? SOURCE_AUX : SOURCE_KBD;

	if ((c->status & STATUS_OBF) && c->obuf.source == source)
		return true;
	for (unsigned int i = 0; i < c->queue_count; i++) {
		if (c->queue[(c->queue_head + i) % QUEUE_SIZE].source == source)
			return true;
	}
	return false;
}

/* Devices to tell that the guest has read all their bytes. */
struct drained_list {
	unsigned int count;
	const struct ps2_device_ops *ops[PORT_COUNT];
	void *opaque[PORT_COUNT];
};

static struct drained_list take_drained(struct i8042 *c)
{
	struct drained_list list = { 0 };

	for (unsigned int port = 0; port < PORT_COUNT; port++) {
		if (!c->undrained[port] || port_has_bytes(c, port))
			continue;
		c->undrained[port] = false;
		if (c->ops[port] && c->ops[port]->drained) {
			list.ops[list.count] = c->ops[port];
			list.opaque[list.count] = c->opaque[port];
			list.count++;
		}
	}
	return list;
}

/* Called with no lock held: the device may send again from the callback. */
static void notify_drained(const struct drained_list *list)
{
	for (unsigned int i = 0; i < list->count; i++)
		list->ops[i]->drained(list->opaque[i]);
}

static void i8042_reset_locked(struct i8042 *c)
{
	c->status = STATUS_UNLOCKED;
	c->ccb = CCB_KBD_INT | CCB_AUX_INT | CCB_XLATE | CCB_SYS;
	c->output_port = OUTPUT_RESET_LINE | OUTPUT_A20;
	c->pending_command = 0;
	c->xlate_break = false;
	c->queue_head = c->queue_count = 0;
	c->obuf = (struct i8042_byte){ 0, false, SOURCE_CONTROLLER };
	for (unsigned int port = 0; port < PORT_COUNT; port++)
		c->undrained[port] = false;
}

struct i8042 *i8042_new(struct irq_line kbd_irq, struct irq_line aux_irq,
			void (*request_reset)(void *opaque), void *reset_opaque)
{
	struct i8042 *c = g_new0(struct i8042, 1);

	pthread_mutex_init(&c->output_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
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
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->output_lock);
	g_free(c);
}

/*
 * The queue is emptied without telling the devices: they are reset with the
 * controller (machine reset), and a device told it may send again could
 * queue bytes from before its own reset.
 */
void i8042_reset(struct i8042 *c)
{
	lock_controller(c);
	i8042_reset_locked(c);
	unlock_controller(c);
}

static void attach(struct i8042 *c, unsigned int port, const struct ps2_device_ops *ops, void *opaque)
{
	lock_controller(c);
	c->ops[port] = ops;
	c->opaque[port] = opaque;
	unlock_controller(c);
}

void i8042_attach_keyboard(struct i8042 *c, const struct ps2_device_ops *ops, void *opaque)
{
	attach(c, PORT_KBD, ops, opaque);
}

void i8042_attach_aux(struct i8042 *c, const struct ps2_device_ops *ops, void *opaque)
{
	attach(c, PORT_AUX, ops, opaque);
}

/*
 * The 8042's set 2 -> set 1 translation (IBM PS/2 Technical Reference,
 * "Keyboard/auxiliary device controller", command byte bit 6): each byte
 * from the keyboard goes through the controller's table; an F0 is not
 * passed on but sets bit 7 of the next byte, turning a set 2 break into a
 * set 1 break.  Everything from the keyboard is translated, command answers
 * included, which is why a translated MF2 keyboard identifies as AB 41.
 */
void i8042_keyboard_send(struct i8042 *c, uint8_t byte)
{
	lock_controller(c);
	c->undrained[PORT_KBD] = true;
	if (c->ccb & CCB_XLATE) {
		if (byte == SET2_BREAK_PREFIX) {
			c->xlate_break = true;
		} else {
			uint8_t value = keymap_set2_to_set1(byte);

			if (c->xlate_break)
				value |= SET1_BREAK_BIT;
			c->xlate_break = false;
			enqueue(c, value, false, SOURCE_KBD);
		}
	} else {
		enqueue(c, byte, false, SOURCE_KBD);
	}
	unlock_controller(c);
}

void i8042_aux_send(struct i8042 *c, uint8_t byte)
{
	lock_controller(c);
	c->undrained[PORT_AUX] = true;
	enqueue(c, byte, true, SOURCE_AUX);
	unlock_controller(c);
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
		enqueue(c, c->ccb, false, SOURCE_CONTROLLER);
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
		enqueue(c, 0x00, false, SOURCE_CONTROLLER);	/* interface OK */
		break;
	case CMD_SELF_TEST:
		c->status |= STATUS_SYS;
		enqueue(c, 0x55, false, SOURCE_CONTROLLER);
		break;
	case CMD_KBD_DISABLE:
		c->ccb |= CCB_KBD_DISABLE;
		break;
	case CMD_KBD_ENABLE:
		c->ccb &= ~CCB_KBD_DISABLE;
		break;
	case CMD_READ_INPUT:
		enqueue(c, 0x80, false, SOURCE_CONTROLLER);	/* keyboard not locked */
		break;
	case CMD_READ_OUTPUT:
		enqueue(c, c->output_port, false, SOURCE_CONTROLLER);
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
	/* A port enabled again lets its waiting bytes through. */
	refill_obuf(c);
	return false;
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct i8042 *c = opaque;
	struct drained_list drained;
	uint8_t value;

	lock_controller(c);
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
	drained = take_drained(c);
	unlock_controller(c);
	notify_drained(&drained);
	return value;
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value64, unsigned int size)
{
	struct i8042 *c = opaque;
	uint8_t value = (uint8_t)value64;
	const struct ps2_device_ops *ops = NULL;
	void *device = NULL;
	bool reset = false;

	lock_controller(c);
	c->status &= ~STATUS_CMD;
	switch (c->pending_command) {
	case CMD_WRITE_CCB:
		c->ccb = value;
		c->status = (uint8_t)((c->status & ~STATUS_SYS) | (value & CCB_SYS));
		if (!(value & CCB_XLATE))
			c->xlate_break = false;
		refill_obuf(c);	/* a port may have been enabled */
		break;
	case CMD_WRITE_OUTPUT:
		reset = write_output_port(c, value);
		break;
	case CMD_WRITE_KBD_OBUF:
		enqueue(c, value, false, SOURCE_CONTROLLER);
		break;
	case CMD_WRITE_AUX_OBUF:
		/* Linux's AUX loopback probe: must arrive with AUX set, on IRQ 12. */
		enqueue(c, value, true, SOURCE_CONTROLLER);
		break;
	case CMD_WRITE_AUX:
		ops = c->ops[PORT_AUX];
		device = c->opaque[PORT_AUX];
		break;
	default:
		ops = c->ops[PORT_KBD];
		device = c->opaque[PORT_KBD];
		break;
	}
	c->pending_command = 0;
	unlock_controller(c);

	if (ops && ops->receive)
		ops->receive(device, value);
	if (reset && c->request_reset)
		c->request_reset(c->reset_opaque);
}

static uint64_t i8042_status_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct i8042 *c = opaque;
	uint8_t value;

	pthread_mutex_lock(&c->lock);
	value = c->status;
	pthread_mutex_unlock(&c->lock);
	return value;
}

static void i8042_command_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct i8042 *c = opaque;
	bool reset;

	lock_controller(c);
	c->status |= STATUS_CMD;
	c->pending_command = 0;
	reset = run_command(c, (uint8_t)value);
	unlock_controller(c);
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
