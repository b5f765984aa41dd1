/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <pthread.h>

#include "apic.h"
#include "apic_internal.h"
#include "log.h"

/*
 * The 82093AA I/O APIC (data sheet §3: IOREGSEL at +0x00, IOWIN at +0x10;
 * registers ID 0x00, version 0x01, arbitration 0x02, redirection table
 * 0x10-0x3f).  Messages go out through the APIC bus with `lock` released
 * (the locking rule is in apic.c); the remote IRR, set under the lock
 * before sending, is what keeps a level-triggered pin from firing twice.
 */
#define IOAPIC_VERSION		0x11
#define IOAPIC_VERSION_VALUE	(IOAPIC_VERSION | ((IOAPIC_NUM_PINS - 1) << 16))

#define IOREGSEL		0x00
#define IOWIN			0x10

#define REG_ID			0x00
#define REG_VERSION		0x01
#define REG_ARBITRATION		0x02
#define REG_REDIRECTION		0x10

#define RTE_VECTOR		0xffull
#define RTE_DELIVERY_MODE_SHIFT	8
#define RTE_LOGICAL		(1ull << 11)
#define RTE_DELIVERY_STATUS	(1ull << 12)
#define RTE_POLARITY_LOW	(1ull << 13)
#define RTE_REMOTE_IRR		(1ull << 14)
#define RTE_LEVEL		(1ull << 15)
#define RTE_MASKED		(1ull << 16)
#define RTE_DEST_SHIFT		56
#define RTE_WRITABLE		(0xff00000000000000ull | RTE_MASKED | RTE_LEVEL | \
				 RTE_POLARITY_LOW | RTE_LOGICAL | 0x7ffull)

struct ioapic {
	pthread_mutex_t lock;
	struct apic_bus *bus;
	uint8_t select;			/* IOREGSEL */
	uint8_t id;			/* bits 27:24 of the ID register */
	uint64_t rte[IOAPIC_NUM_PINS];
	bool pin_level[IOAPIC_NUM_PINS];	/* the wire, before polarity */
};

static unsigned int delivery_mode(uint64_t rte)
{
	return (rte >> RTE_DELIVERY_MODE_SHIFT) & 7;
}

/* Only fixed and lowest-priority interrupts can be level-triggered. */
static bool is_level(uint64_t rte)
{
	unsigned int mode = delivery_mode(rte);

	return (rte & RTE_LEVEL) && (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST);
}

static bool asserted(const struct ioapic *io, unsigned int pin)
{
	return io->pin_level[pin] != !!(io->rte[pin] & RTE_POLARITY_LOW);
}

static struct apic_message message_of(uint64_t rte)
{
	return (struct apic_message){
		.dest = (uint32_t)(rte >> RTE_DEST_SHIFT),
		.dest_logical = rte & RTE_LOGICAL,
		.delivery_mode = (enum apic_delivery_mode)delivery_mode(rte),
		.vector = (uint8_t)(rte & RTE_VECTOR),
		.level_triggered = is_level(rte),
		.assert = true,
	};
}

/* Messages decided under the lock, sent after it. */
struct outbox {
	unsigned int count;
	unsigned int pins[IOAPIC_NUM_PINS];
	struct apic_message msgs[IOAPIC_NUM_PINS];
};

/* A level pin that is asserted, unmasked and not in service sends now. */
static void check_level_pin(struct ioapic *io, unsigned int pin, struct outbox *out)
{
	uint64_t rte = io->rte[pin];

	if (!is_level(rte) || (rte & (RTE_MASKED | RTE_REMOTE_IRR)) || !asserted(io, pin))
		return;
	io->rte[pin] |= RTE_REMOTE_IRR;
	out->pins[out->count] = pin;
	out->msgs[out->count++] = message_of(io->rte[pin]);
}

static void send(struct ioapic *io, const struct outbox *out)
{
	for (unsigned int i = 0; i < out->count; i++) {
		if (apic_bus_deliver_counted(io->bus, &out->msgs[i]) || !out->msgs[i].level_triggered)
			continue;
		/*
		 * Remote IRR is set when a local APIC accepts the interrupt (data
		 * sheet, "Remote IRR"); nobody did, so no EOI will ever clear it.
		 */
		pthread_mutex_lock(&io->lock);
		io->rte[out->pins[i]] &= ~RTE_REMOTE_IRR;
		pthread_mutex_unlock(&io->lock);
	}
}

static void ioapic_eoi(void *opaque, uint8_t vector)
{
	struct ioapic *io = opaque;
	struct outbox out = { 0 };

	pthread_mutex_lock(&io->lock);
	for (unsigned int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		if ((io->rte[pin] & RTE_VECTOR) != vector || !(io->rte[pin] & RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		/* Still asserted: the device has more to say. */
		check_level_pin(io, pin, &out);
	}
	pthread_mutex_unlock(&io->lock);
	send(io, &out);
}

struct ioapic *ioapic_new(struct apic_bus *bus)
{
	struct ioapic *io = g_new0(struct ioapic, 1);

	pthread_mutex_init(&io->lock, NULL);
	io->bus = bus;
	ioapic_reset(io);
	apic_bus_set_ioapic(bus, ioapic_eoi, io);
	return io;
}

void ioapic_free(struct ioapic *ioapic)
{
	if (!ioapic)
		return;
	apic_bus_set_ioapic(ioapic->bus, NULL, NULL);
	pthread_mutex_destroy(&ioapic->lock);
	g_free(ioapic);
}

void ioapic_reset(struct ioapic *ioapic)
{
	pthread_mutex_lock(&ioapic->lock);
	ioapic->select = 0;
	ioapic->id = 0;
	for (unsigned int pin = 0; pin < IOAPIC_NUM_PINS; pin++)
		ioapic->rte[pin] = RTE_MASKED;
	pthread_mutex_unlock(&ioapic->lock);
}

void ioapic_set_irq(struct ioapic *ioapic, unsigned int pin, bool level)
{
	struct outbox out = { 0 };
	bool was_asserted;

	if (pin >= IOAPIC_NUM_PINS) {
		log_guest_once("IOAPIC: no pin %u", pin);
		return;
	}
	pthread_mutex_lock(&ioapic->lock);
	was_asserted = asserted(ioapic, pin);
	ioapic->pin_level[pin] = level;
	if (is_level(ioapic->rte[pin])) {
		check_level_pin(ioapic, pin, &out);
	} else if (asserted(ioapic, pin) && !was_asserted && !(ioapic->rte[pin] & RTE_MASKED)) {
		/* Edges on a masked pin are lost, not held (data sheet, "Interrupt Mask"). */
		out.msgs[out.count++] = message_of(ioapic->rte[pin]);
	}
	pthread_mutex_unlock(&ioapic->lock);
	send(ioapic, &out);
}

static uint32_t read_register(struct ioapic *io, uint8_t reg)
{
	unsigned int pin;

	switch (reg) {
	case REG_ID:
	case REG_ARBITRATION:
		return (uint32_t)io->id << 24;
	case REG_VERSION:
		return IOAPIC_VERSION_VALUE;
	default:
		if (reg < REG_REDIRECTION || reg >= REG_REDIRECTION + 2 * IOAPIC_NUM_PINS)
			return 0;
		pin = (reg - REG_REDIRECTION) / 2;
		/* Delivery status is always idle: messages are accepted synchronously. */
		return (uint32_t)(io->rte[pin] >> ((reg & 1) ? 32 : 0));
	}
}

static void write_register(struct ioapic *io, uint8_t reg, uint32_t value, struct outbox *out)
{
	unsigned int pin;
	uint64_t rte, kept;

	if (reg == REG_ID) {
		io->id = (value >> 24) & 0xf;
		return;
	}
	if (reg < REG_REDIRECTION || reg >= REG_REDIRECTION + 2 * IOAPIC_NUM_PINS)
		return;		/* version, arbitration: read-only */
	pin = (reg - REG_REDIRECTION) / 2;
	rte = io->rte[pin];
	if (reg & 1)
		rte = (rte & 0xffffffffull) | ((uint64_t)value << 32);
	else
		rte = (rte & ~0xffffffffull) | value;
	kept = io->rte[pin] & (RTE_REMOTE_IRR | RTE_DELIVERY_STATUS);
	rte = (rte & RTE_WRITABLE) | kept;
	/*
	 * An edge-triggered entry has no remote IRR.  Linux relies on this to
	 * clear a stuck one on IOAPICs without an EOI register (version 0x11):
	 * it flips the entry to edge and back.
	 */
	if (!(rte & RTE_LEVEL))
		rte &= ~RTE_REMOTE_IRR;
	io->rte[pin] = rte;
	/* Unmasked (or polarity flipped) while the level is asserted: it fires. */
	check_level_pin(io, pin, out);
}

static uint64_t ioapic_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct ioapic *io = opaque;
	uint64_t value = 0;

	pthread_mutex_lock(&io->lock);
	if (offset == IOREGSEL)
		value = io->select;
	else if (offset >= IOWIN && offset < IOWIN + 4)
		value = read_register(io, io->select) >> (8 * (offset - IOWIN));
	pthread_mutex_unlock(&io->lock);
	if (size < 8)
		value &= (1ull << (8 * size)) - 1;
	return value;
}

static void ioapic_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct ioapic *io = opaque;
	struct outbox out = { 0 };

	pthread_mutex_lock(&io->lock);
	if (offset == IOREGSEL) {
		io->select = (uint8_t)value;
	} else if (offset == IOWIN && size >= 4) {
		write_register(io, io->select, (uint32_t)value, &out);
	} else {
		pthread_mutex_unlock(&io->lock);
		log_guest_once("IOAPIC: %u-byte write at offset %#llx ignored", size,
			       (unsigned long long)offset);
		return;
	}
	pthread_mutex_unlock(&io->lock);
	send(io, &out);
}

const struct bus_ops ioapic_ops = { .read = ioapic_read, .write = ioapic_write };
