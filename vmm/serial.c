/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "serial.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

/* Register offsets (PC16550D data sheet, Table 2). */
enum {
	UART_RBR_THR = 0,	/* DLL when LCR.DLAB */
	UART_IER = 1,		/* DLM when LCR.DLAB */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* transmitter holding register empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_TIMEOUT	0x0c
#define IIR_FIFO_ON	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_ERROR_BITS	0x1e	/* OE, PE, FE, BI: cleared when LSR is read */

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTAS	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

#define RX_FIFO_SIZE	16

struct serial {
	GMutex lock;
	struct irq_line irq;
	int out_fd;
	bool irq_level;

	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint16_t divisor;
	bool thr_interrupt;	/* THRE interrupt pending (cleared by IIR read / THR write) */

	uint8_t rx_fifo[RX_FIFO_SIZE];
	unsigned int rx_head, rx_count;

	uint8_t backlog[SERIAL_BACKLOG_BYTES];	/* host input not yet in the FIFO */
	unsigned int backlog_head, backlog_count;
};

static unsigned int rx_capacity(const struct serial *s)
{
	/* With FIFOs off the UART holds one character (16450 mode). */
	return (s->fcr & FCR_ENABLE) ? RX_FIFO_SIZE : 1;
}

static unsigned int rx_trigger_level(const struct serial *s)
{
	static const unsigned int levels[4] = { 1, 4, 8, 14 };

	return (s->fcr & FCR_ENABLE) ? levels[s->fcr >> 6] : 1;
}

static void rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count >= rx_capacity(s)) {
		s->lsr |= LSR_OE;
		/*
		 * PC16550D, LSR bit 1: in 16450 mode the new character overwrites
		 * the unread one in RBR; in FIFO mode the character in the shift
		 * register is lost and the FIFO is kept.
		 */
		if (!(s->fcr & FCR_ENABLE))
			s->rx_fifo[s->rx_head] = byte;
		return;
	}
	s->rx_fifo[(s->rx_head + s->rx_count) % RX_FIFO_SIZE] = byte;
	s->rx_count++;
	s->lsr |= LSR_DR;
}

static void backlog_to_fifo(struct serial *s)
{
	/* In loopback the receiver is connected to the transmitter only. */
	if (s->mcr & MCR_LOOP)
		return;
	while (s->backlog_count && s->rx_count < rx_capacity(s)) {
		rx_push(s, s->backlog[s->backlog_head]);
		s->backlog_head = (s->backlog_head + 1) % SERIAL_BACKLOG_BYTES;
		s->backlog_count--;
	}
}

static uint8_t interrupt_identification(const struct serial *s)
{
	/* Priority order of the data sheet's Table 4. */
	if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERROR_BITS))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count)
		return s->rx_count >= rx_trigger_level(s) ? IIR_RDI : IIR_TIMEOUT;
	if ((s->ier & IER_THRI) && s->thr_interrupt)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

static void update_irq(struct serial *s)
{
	/* On the PC, OUT2 gates the UART's interrupt onto the ISA bus. */
	bool level = interrupt_identification(s) != IIR_NO_INT && (s->mcr & MCR_OUT2);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

/* Modem inputs: looped back from MCR in loopback, else a connected modem. */
static void update_msr(struct serial *s)
{
	uint8_t inputs, old = s->msr;

	if (s->mcr & MCR_LOOP) {
		inputs = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
			 ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
	} else {
		inputs = MSR_CTS | MSR_DSR | MSR_DCD;
	}
	s->msr = (old & MSR_DELTAS) | inputs;
	if ((old ^ inputs) & MSR_CTS)
		s->msr |= MSR_DCTS;
	if ((old ^ inputs) & MSR_DSR)
		s->msr |= MSR_DDSR;
	if ((old & MSR_RI) && !(inputs & MSR_RI))
		s->msr |= MSR_TERI;
	if ((old ^ inputs) & MSR_DCD)
		s->msr |= MSR_DDCD;
}

static void transmit(struct serial *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP) {
		rx_push(s, byte);
	} else if (s->out_fd >= 0) {
		ssize_t n;

		do
			n = write(s->out_fd, &byte, 1);
		while (n < 0 && errno == EINTR);
		/* A closed terminal or full disk must not stop the guest. */
	}
	/* Transmission is instantaneous, so the holding register is empty again. */
	s->thr_interrupt = true;
}

static void serial_reset_locked(struct serial *s)
{
	s->ier = 0;
	s->lcr = 0;
	s->mcr = 0;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->msr = 0;
	s->scr = 0;
	s->fcr = 0;
	s->divisor = 12;	/* 9600 baud */
	s->thr_interrupt = false;
	s->rx_head = s->rx_count = 0;
	update_msr(s);
	s->msr &= ~MSR_DELTAS;
	/*
	 * Host input kept across the reset must reach the empty receiver now:
	 * otherwise DR stays clear and a polling guest never reads it.
	 */
	backlog_to_fifo(s);
	update_irq(s);
}

struct serial *serial_new(struct irq_line irq, int out_fd)
{
	struct serial *s = g_new0(struct serial, 1);

	g_mutex_init(&s->lock);
	s->irq = irq;
	s->out_fd = out_fd;
	serial_reset_locked(s);
	return s;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	g_mutex_clear(&s->lock);
	g_free(s);
}

void serial_reset(struct serial *s)
{
	g_mutex_lock(&s->lock);
	serial_reset_locked(s);
	/* Input typed before the reset is kept for the next boot, as a cable would. */
	g_mutex_unlock(&s->lock);
}

size_t serial_receive(struct serial *s, const uint8_t *data, size_t len)
{
	size_t taken = 0;

	g_mutex_lock(&s->lock);
	while (taken < len && s->backlog_count < SERIAL_BACKLOG_BYTES) {
		s->backlog[(s->backlog_head + s->backlog_count) % SERIAL_BACKLOG_BYTES] = data[taken++];
		s->backlog_count++;
	}
	backlog_to_fifo(s);
	update_irq(s);
	g_mutex_unlock(&s->lock);
	return taken;
}

static uint8_t serial_read_register(struct serial *s, unsigned int reg)
{
	uint8_t value;

	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->divisor & 0xff;
		if (!s->rx_count)
			return 0;
		value = s->rx_fifo[s->rx_head];
		s->rx_head = (s->rx_head + 1) % RX_FIFO_SIZE;
		s->rx_count--;
		backlog_to_fifo(s);
		if (!s->rx_count)
			s->lsr &= ~LSR_DR;
		return value;
	case UART_IER:
		return (s->lcr & LCR_DLAB) ? s->divisor >> 8 : s->ier;
	case UART_IIR_FCR:
		value = interrupt_identification(s);
		/* Reading IIR while it reports THRE clears that source (§8.6.3). */
		if (value == IIR_THRI)
			s->thr_interrupt = false;
		return value | ((s->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		value = s->lsr;
		s->lsr &= ~LSR_ERROR_BITS;
		return value;
	case UART_MSR:
		value = s->msr;
		s->msr &= ~MSR_DELTAS;
		return value;
	default:
		return s->scr;
	}
}

static void serial_write_register(struct serial *s, unsigned int reg, uint8_t value)
{
	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->divisor = (s->divisor & 0xff00) | value;
			return;
		}
		s->thr_interrupt = false;
		transmit(s, value);
		return;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | (value << 8));
			return;
		}
		/*
		 * Enabling ETBEI while THR is empty raises THRE at once; Linux's
		 * 8250 driver relies on this to start transmission.
		 */
		if (!(s->ier & IER_THRI) && (value & IER_THRI))
			s->thr_interrupt = true;
		s->ier = value & 0x0f;
		return;
	case UART_IIR_FCR:
		if ((value ^ s->fcr) & FCR_ENABLE)
			s->rx_head = s->rx_count = 0;	/* toggling FIFO mode resets them */
		if (value & FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		s->fcr = value & 0xc9;
		if (!s->rx_count)
			s->lsr &= ~LSR_DR;
		backlog_to_fifo(s);
		return;
	case UART_LCR:
		s->lcr = value;
		return;
	case UART_MCR:
		s->mcr = value & 0x1f;
		update_msr(s);
		backlog_to_fifo(s);
		return;
	case UART_LSR:
	case UART_MSR:
		return;	/* read-only in this model (factory test use only) */
	default:
		s->scr = value;
		return;
	}
}

static uint64_t serial_bus_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct serial *s = opaque;
	uint8_t value;

	g_mutex_lock(&s->lock);
	value = serial_read_register(s, offset & 7);
	update_irq(s);
	g_mutex_unlock(&s->lock);
	return value;
}

static void serial_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct serial *s = opaque;

	g_mutex_lock(&s->lock);
	serial_write_register(s, offset & 7, (uint8_t)value);
	update_irq(s);
	g_mutex_unlock(&s->lock);
}

const struct bus_ops serial_bus_ops = {
	.read = serial_bus_read,
	.write = serial_bus_write,
};
