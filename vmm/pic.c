/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pic.h"

#include <glib.h>
#include <pthread.h>

#include "log.h"

/*
 * Two 8259A chips (Intel 8259A data sheet, "Programming the 8259A"), the
 * slave's INT output wired to the master's IR2 as on every PC, and the PIIX
 * edge/level control registers.
 *
 * Locking: `lock` guards both chips.  The master's INTR goes out through
 * intr_changed() with `lock` released, under `output_lock`, which only
 * serialises the reports so they arrive in the order the level changed
 * (the LAPIC the callback feeds calls pic_acknowledge() with no lock of its
 * own held, so no cycle exists).  intr_changed() must not call back into
 * the PIC.
 */
#define CASCADE_IRQ	2
#define ELCR_MASTER_WRITABLE	0xf8	/* IRQ 0, 1, 2 are always edge (PIIX ELCR1) */
#define ELCR_SLAVE_WRITABLE	0xde	/* IRQ 8 and 13 are always edge (PIIX ELCR2) */

#define ICW1		0x10
#define ICW1_IC4	0x01
#define ICW1_SNGL	0x02
#define ICW1_LTIM	0x08
#define ICW4_UPM	0x01
#define ICW4_AEOI	0x02
#define ICW4_SFNM	0x10
#define OCW3		0x08
#define OCW3_RIS	0x01
#define OCW3_RR		0x02
#define OCW3_POLL	0x04
#define OCW3_SMM	0x20
#define OCW3_ESMM	0x40
#define POLL_INTERRUPT	0x80

/* OCW2 R, SL, EOI bits (data sheet, "Operation Command Words", table). */
enum ocw2_command {
	OCW2_ROTATE_AEOI_CLEAR = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

struct pic_chip {
	bool is_master;
	uint8_t irr;
	uint8_t isr;
	uint8_t imr;
	uint8_t pin_level;		/* input levels, for edge detection */
	uint8_t elcr;
	uint8_t elcr_writable;
	uint8_t vector_base;		/* ICW2 T7-T3 */
	uint8_t lowest_priority;	/* the IR with bottom priority; 7 after ICW1 */
	uint8_t icw3;
	uint8_t next_icw;		/* 2, 3 or 4 while initialising, else 0 */
	bool icw4_needed;
	bool single;
	bool level_all;			/* ICW1 LTIM */
	bool auto_eoi;
	bool rotate_on_auto_eoi;
	bool special_fully_nested;
	bool read_isr;			/* OCW3 RIS: command port reads ISR, not IRR */
	bool poll;			/* OCW3 P: the next command port read polls */
	bool special_mask;
};

struct pic {
	pthread_mutex_t lock;
	pthread_mutex_t output_lock;
	struct pic_chip master;
	struct pic_chip slave;
	bool intr;			/* the master's INTR as the chips compute it */
	bool intr_reported;		/* the level intr_changed() last reported */
	void (*intr_changed)(void *opaque, bool level);
	void *opaque;
};

static uint8_t irq_bit(unsigned int irq)
{
	return (uint8_t)(1u << irq);
}

static bool is_level_sensitive(const struct pic_chip *chip, unsigned int irq)
{
	return chip->level_all || (chip->elcr & irq_bit(irq));
}

/* The highest-priority IR whose bit is set in `bits`, or -1 (rotation aware). */
static int highest_priority(const struct pic_chip *chip, uint8_t bits)
{
	for (unsigned int i = 1; i <= 8; i++) {
		unsigned int irq = (chip->lowest_priority + i) & 7;

		if (bits & irq_bit(irq))
			return (int)irq;
	}
	return -1;
}

/* 0 is the highest priority. */
static unsigned int priority_of(const struct pic_chip *chip, unsigned int irq)
{
	return (irq - chip->lowest_priority - 1) & 7;
}

/*
 * The IR the chip would raise INT for: the highest unmasked request above
 * every level in service.  In special mask mode a masked in-service level
 * does not block; in special fully nested mode the master lets the slave
 * interrupt while it is itself in service (a higher IR of that slave).
 */
static int next_request(const struct pic_chip *chip)
{
	uint8_t in_service = chip->isr;
	int irq = highest_priority(chip, chip->irr & ~chip->imr);
	int blocking;

	if (irq < 0)
		return -1;
	if (chip->special_mask)
		in_service &= ~chip->imr;
	blocking = highest_priority(chip, in_service);
	if (blocking < 0)
		return irq;
	if (priority_of(chip, (unsigned int)irq) < priority_of(chip, (unsigned int)blocking))
		return irq;
	if (chip->is_master && chip->special_fully_nested && irq == CASCADE_IRQ &&
	    blocking == CASCADE_IRQ)
		return irq;
	return -1;
}

static void chip_set_input(struct pic_chip *chip, unsigned int irq, bool level)
{
	uint8_t bit = irq_bit(irq);

	if (is_level_sensitive(chip, irq)) {
		if (level)
			chip->irr |= bit;
		else
			chip->irr &= ~bit;
	} else if (level && !(chip->pin_level & bit)) {
		chip->irr |= bit;
	}
	/*
	 * An edge request stays in IRR when the line drops before INTA.  On the
	 * chip it would turn into IR7; devices here pulse their line within
	 * one host call, so keeping it is what makes every pulse count.
	 */
	if (level)
		chip->pin_level |= bit;
	else
		chip->pin_level &= ~bit;
}

/* Recomputes the cascade input and the master's INTR; call after any change. */
static void update_locked(struct pic *pic)
{
	bool slave_int = next_request(&pic->slave) >= 0;

	/* IR2 follows the slave's INT level, whatever the master's trigger mode. */
	if (slave_int)
		pic->master.irr |= irq_bit(CASCADE_IRQ);
	else
		pic->master.irr &= ~irq_bit(CASCADE_IRQ);
	pic->master.pin_level = (uint8_t)((pic->master.pin_level & ~irq_bit(CASCADE_IRQ)) |
					  (slave_int ? irq_bit(CASCADE_IRQ) : 0));
	pic->intr = next_request(&pic->master) >= 0;
}

/* Reports the INTR level if it changed; called without `lock`. */
static void update_output(struct pic *pic)
{
	bool level, changed;

	pthread_mutex_lock(&pic->output_lock);
	pthread_mutex_lock(&pic->lock);
	level = pic->intr;
	changed = level != pic->intr_reported;
	pic->intr_reported = level;
	pthread_mutex_unlock(&pic->lock);
	if (changed && pic->intr_changed)
		pic->intr_changed(pic->opaque, level);
	pthread_mutex_unlock(&pic->output_lock);
}

/* The first INTA pulse for `irq`: IRR to ISR (or straight through in AEOI). */
static void chip_acknowledge(struct pic_chip *chip, unsigned int irq)
{
	uint8_t bit = irq_bit(irq);

	if (!is_level_sensitive(chip, irq))
		chip->irr &= ~bit;
	if (chip->auto_eoi) {
		if (chip->rotate_on_auto_eoi)
			chip->lowest_priority = (uint8_t)irq;
	} else {
		chip->isr |= bit;
	}
}

static unsigned int acknowledge_locked(struct pic *pic)
{
	int irq = next_request(&pic->master);
	int slave_irq;

	/* Nothing requested any more at INTA: the chip answers with IR7. */
	if (irq < 0)
		return pic->master.vector_base | 7;
	chip_acknowledge(&pic->master, (unsigned int)irq);
	if (irq != CASCADE_IRQ)
		return pic->master.vector_base | (unsigned int)irq;

	slave_irq = next_request(&pic->slave);
	if (slave_irq < 0)
		return pic->slave.vector_base | 7;	/* master ISR2 stays set, as on a PC */
	chip_acknowledge(&pic->slave, (unsigned int)slave_irq);
	return pic->slave.vector_base | (unsigned int)slave_irq;
}

static void chip_reset(struct pic_chip *chip, bool is_master)
{
	uint8_t pin_level = chip->pin_level;

	*chip = (struct pic_chip){
		.is_master = is_master,
		.pin_level = pin_level,		/* the wires keep their level */
		/* Undefined at power-on; masked is what firmware would see as harmless. */
		.imr = 0xff,
		.lowest_priority = 7,
		.elcr_writable = is_master ? ELCR_MASTER_WRITABLE : ELCR_SLAVE_WRITABLE,
	};
}

static void write_icw1(struct pic_chip *chip, uint8_t value)
{
	/*
	 * "Initialization Command Words": the edge sense circuit is reset (an
	 * input already high must go low and high again), IMR cleared, IR7
	 * lowest priority, special mask mode cleared, status read set to IRR,
	 * and without IC4 the ICW4 functions are cleared.
	 */
	chip->icw4_needed = value & ICW1_IC4;
	chip->single = value & ICW1_SNGL;
	chip->level_all = value & ICW1_LTIM;
	if (!(value & ICW1_IC4)) {
		chip->auto_eoi = false;
		chip->special_fully_nested = false;
	}
	chip->imr = 0;
	chip->isr = 0;
	chip->irr = 0;
	for (unsigned int irq = 0; irq < 8; irq++) {
		if (is_level_sensitive(chip, irq) && (chip->pin_level & irq_bit(irq)))
			chip->irr |= irq_bit(irq);
	}
	chip->lowest_priority = 7;
	chip->special_mask = false;
	chip->read_isr = false;
	chip->poll = false;
	chip->rotate_on_auto_eoi = false;
	chip->next_icw = 2;
}

static void write_ocw2(struct pic_chip *chip, uint8_t value)
{
	unsigned int level = value & 7;
	int irq;

	switch ((enum ocw2_command)(value >> 5)) {
	case OCW2_ROTATE_AEOI_CLEAR:
		chip->rotate_on_auto_eoi = false;
		break;
	case OCW2_ROTATE_AEOI_SET:
		chip->rotate_on_auto_eoi = true;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		irq = highest_priority(chip, chip->isr);
		if (irq < 0)
			break;
		chip->isr &= ~irq_bit((unsigned int)irq);
		if ((value >> 5) == OCW2_ROTATE_EOI)
			chip->lowest_priority = (uint8_t)irq;
		break;
	case OCW2_SPECIFIC_EOI:
		chip->isr &= ~irq_bit(level);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		chip->isr &= ~irq_bit(level);
		chip->lowest_priority = (uint8_t)level;
		break;
	case OCW2_SET_PRIORITY:
		chip->lowest_priority = (uint8_t)level;
		break;
	case OCW2_NOP:
		break;
	}
}

static void write_command(struct pic_chip *chip, uint8_t value)
{
	if (value & ICW1) {
		write_icw1(chip, value);
	} else if (value & OCW3) {
		if (value & OCW3_POLL)
			chip->poll = true;
		if (value & OCW3_RR)
			chip->read_isr = value & OCW3_RIS;
		if (value & OCW3_ESMM)
			chip->special_mask = value & OCW3_SMM;
	} else {
		write_ocw2(chip, value);
	}
}

static void write_data(struct pic_chip *chip, uint8_t value)
{
	switch (chip->next_icw) {
	case 2:
		chip->vector_base = value & 0xf8;
		chip->next_icw = !chip->single ? 3 : chip->icw4_needed ? 4 : 0;
		break;
	case 3:
		chip->icw3 = value;
		chip->next_icw = chip->icw4_needed ? 4 : 0;
		break;
	case 4:
		if (!(value & ICW4_UPM))
			log_guest_once("8259A: MCS-80/85 mode requested; interrupts use 8086 vectors");
		chip->auto_eoi = value & ICW4_AEOI;
		chip->special_fully_nested = value & ICW4_SFNM;
		chip->next_icw = 0;
		break;
	default:
		chip->imr = value;	/* OCW1 */
		break;
	}
}

/* A poll command read: the highest request is acknowledged as by INTA. */
static uint8_t poll_locked(struct pic_chip *chip)
{
	int irq = next_request(chip);

	if (irq < 0)
		return 0;
	chip_acknowledge(chip, (unsigned int)irq);
	return POLL_INTERRUPT | (uint8_t)irq;
}

static uint8_t chip_read(struct pic *pic, struct pic_chip *chip, unsigned int port)
{
	uint8_t value;

	pthread_mutex_lock(&pic->lock);
	if (port == 1) {
		value = chip->imr;
	} else if (chip->poll) {
		chip->poll = false;
		value = poll_locked(chip);
		update_locked(pic);
	} else {
		value = chip->read_isr ? chip->isr : chip->irr;
	}
	pthread_mutex_unlock(&pic->lock);
	return value;
}

static void chip_write(struct pic *pic, struct pic_chip *chip, unsigned int port, uint8_t value)
{
	pthread_mutex_lock(&pic->lock);
	if (port == 0)
		write_command(chip, value);
	else
		write_data(chip, value);
	update_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	update_output(pic);
}

struct pic *pic_new(void (*intr_changed)(void *opaque, bool level), void *opaque)
{
	struct pic *pic = g_new0(struct pic, 1);

	pthread_mutex_init(&pic->lock, NULL);
	pthread_mutex_init(&pic->output_lock, NULL);
	pic->intr_changed = intr_changed;
	pic->opaque = opaque;
	chip_reset(&pic->master, true);
	chip_reset(&pic->slave, false);
	return pic;
}

void pic_free(struct pic *pic)
{
	if (!pic)
		return;
	pthread_mutex_destroy(&pic->output_lock);
	pthread_mutex_destroy(&pic->lock);
	g_free(pic);
}

void pic_reset(struct pic *pic)
{
	pthread_mutex_lock(&pic->lock);
	chip_reset(&pic->master, true);
	chip_reset(&pic->slave, false);
	update_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	update_output(pic);
}

void pic_set_irq(struct pic *pic, unsigned int irq, bool level)
{
	if (irq >= 16 || irq == CASCADE_IRQ) {
		log_guest_once("8259A: no input for IRQ %u", irq);
		return;
	}
	pthread_mutex_lock(&pic->lock);
	if (irq < 8)
		chip_set_input(&pic->master, irq, level);
	else
		chip_set_input(&pic->slave, irq - 8, level);
	update_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	update_output(pic);
}

unsigned int pic_acknowledge(struct pic *pic)
{
	unsigned int vector;

	pthread_mutex_lock(&pic->lock);
	vector = acknowledge_locked(pic);
	update_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	update_output(pic);
	return vector;
}

bool pic_intr_level(struct pic *pic)
{
	bool level;

	pthread_mutex_lock(&pic->lock);
	level = pic->intr;
	pthread_mutex_unlock(&pic->lock);
	return level;
}

/* Port accesses wider than a byte reach consecutive ports. */
static uint64_t chip_port_read(struct pic *pic, struct pic_chip *chip, uint64_t offset,
			       unsigned int size)
{
	uint64_t value = 0;

	for (unsigned int i = 0; i < size; i++) {
		if (offset + i < 2)
			value |= (uint64_t)chip_read(pic, chip, (unsigned int)(offset + i)) << (8 * i);
		else
			value |= 0xffull << (8 * i);
	}
	return value;
}

static void chip_port_write(struct pic *pic, struct pic_chip *chip, uint64_t offset,
			    uint64_t value, unsigned int size)
{
	for (unsigned int i = 0; i < size && offset + i < 2; i++)
		chip_write(pic, chip, (unsigned int)(offset + i), (uint8_t)(value >> (8 * i)));
}

static uint64_t master_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct pic *pic = opaque;

	return chip_port_read(pic, &pic->master, offset, size);
}

static void master_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct pic *pic = opaque;

	chip_port_write(pic, &pic->master, offset, value, size);
}

static uint64_t slave_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct pic *pic = opaque;

	return chip_port_read(pic, &pic->slave, offset, size);
}

static void slave_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct pic *pic = opaque;

	chip_port_write(pic, &pic->slave, offset, value, size);
}

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct pic *pic = opaque;
	uint64_t value = 0;

	pthread_mutex_lock(&pic->lock);
	for (unsigned int i = 0; i < size; i++) {
		if (offset + i < 2)
			value |= (uint64_t)(offset + i == 0 ? pic->master.elcr : pic->slave.elcr) << (8 * i);
		else
			value |= 0xffull << (8 * i);
	}
	pthread_mutex_unlock(&pic->lock);
	return value;
}

static void elcr_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct pic *pic = opaque;

	pthread_mutex_lock(&pic->lock);
	for (unsigned int i = 0; i < size && offset + i < 2; i++) {
		struct pic_chip *chip = offset + i == 0 ? &pic->master : &pic->slave;

		chip->elcr = (uint8_t)(value >> (8 * i)) & chip->elcr_writable;
		/* A line now level-sensitive requests for as long as it is high. */
		for (unsigned int irq = 0; irq < 8; irq++) {
			uint8_t bit = irq_bit(irq);

			if (chip->elcr & bit)
				chip->irr = (uint8_t)((chip->irr & ~bit) | (chip->pin_level & bit));
		}
	}
	update_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	update_output(pic);
}

const struct bus_ops pic_master_ops = { .read = master_read, .write = master_write };
const struct bus_ops pic_slave_ops = { .read = slave_read, .write = slave_write };
const struct bus_ops pic_elcr_ops = { .read = elcr_read, .write = elcr_write };
