/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pit.h"

#include <glib.h>
#include <pthread.h>

#include "log.h"

/*
 * The 8254 (Intel 8254 data sheet, "Modes of Operation").  Nothing ticks:
 * every counter value and output level is a function of host time since the
 * count was loaded (`start_ns`), so reads are exact however late the timer
 * thread runs; Linux's TSC calibration polls channel 2 and would see any
 * drift.  The timer service only signals channel 0's output edges on IRQ 0.
 *
 * Locking: `lock` guards the channels and is a leaf (only the timer service
 * lock is taken under it).  IRQ 0 is driven with `lock` released, under
 * `irq_lock`, which keeps the two halves of every pulse together.
 *
 * IRQ 0 carries the *rising edges* of OUT0 as pulses (high, then low at
 * once): the PIC (IRQ 0 is always edge-triggered, PIIX ELCR) and the IOAPIC
 * (pin 2, edge per the MP table) see one edge per event, and the line rests
 * low between events.  The OUT level itself, as status bytes and port 0x61
 * show it, follows the data sheet.
 */
#define CHANNELS		3
#define SPEAKER_CHANNEL		2
#define CONTROL_PORT		3
#define BINARY_MODULUS		65536u
#define BCD_MODULUS		10000u

/* Periodic IRQ 0 no faster than this, whatever count the guest loads. */
#define MIN_IRQ_INTERVAL_NS	100000

#define CONTROL_SELECT_SHIFT	6
#define CONTROL_READ_BACK	3
#define CONTROL_ACCESS_SHIFT	4
#define CONTROL_MODE_SHIFT	1
#define CONTROL_BCD		0x01
#define READ_BACK_NO_COUNT	0x20
#define READ_BACK_NO_STATUS	0x10
#define STATUS_OUT		0x80
#define STATUS_NULL_COUNT	0x40

/* Port 0x61 (NMI status and control, as on PC/AT chipsets). */
#define PORT61_GATE2		0x01
#define PORT61_SPEAKER_DATA	0x02
#define PORT61_WRITABLE		0x0f
#define PORT61_REFRESH		0x10
#define PORT61_OUT2		0x20
/* The refresh request flips every 18 clocks (channel 1 as a BIOS sets it, ~15 us). */
#define REFRESH_TICKS		18

enum access {
	ACCESS_LATCH = 0,
	ACCESS_LSB = 1,
	ACCESS_MSB = 2,
	ACCESS_WORD = 3,	/* LSB then MSB */
};

enum counter_state {
	IDLE,			/* control word written; no count loaded (or mode 0 half written) */
	WAITING_TRIGGER,	/* modes 1 and 5: count loaded, waiting for a gate edge */
	COUNTING,
};

struct pit_channel {
	uint8_t control;		/* RW1 RW0 M2 M1 M0 BCD, for status bytes */
	uint8_t mode;			/* 0-5 (6 and 7 are 2 and 3) */
	enum access access;
	bool bcd;
	bool gate;
	bool null_count;

	bool write_msb_next;		/* word access: the next write is the MSB */
	uint8_t write_lsb;
	bool read_msb_next;		/* word access: the next live read is the MSB */

	bool count_latched;
	uint16_t latched_count;
	bool latched_msb_next;
	bool status_latched;
	uint8_t latched_status;

	/* The counting element. */
	enum counter_state state;
	uint32_t initial;		/* N: 1..65536 (binary) or 1..10000 (BCD) */
	uint32_t trigger_initial;	/* modes 1, 5: loaded at the next trigger */
	int64_t start_ns;		/* when counting from N (re)started */
	uint64_t ticks_before;		/* counted before start_ns (modes 0, 4 paused by the gate) */
	uint32_t held_value;		/* what reads return while not counting */
	bool reload_pending;		/* modes 2, 3: N changes at the end of this period */
	uint32_t next_initial;
	int64_t reload_ns;

	int64_t events_signalled;	/* IRQ 0 edges given for this count (see channel0_check) */
};

struct pit {
	pthread_mutex_t lock;
	pthread_mutex_t irq_lock;
	struct pit_channel channels[CHANNELS];
	uint8_t port61;			/* the writable bits */
	struct timer *timer;		/* channel 0's next output edge */
	struct irq_line irq0;
};

static uint64_t ns_to_ticks(int64_t ns)
{
	if (ns <= 0)
		return 0;
	return (uint64_t)((unsigned __int128)ns * PIT_FREQUENCY_HZ / 1000000000u);
}

/* The first instant at which ns_to_ticks() reaches `ticks`. */
static int64_t ticks_to_ns(uint64_t ticks)
{
	return (int64_t)(((unsigned __int128)ticks * 1000000000u + PIT_FREQUENCY_HZ - 1) /
			 PIT_FREQUENCY_HZ);
}

static unsigned int from_bcd(uint16_t v)
{
	return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

static uint16_t to_bcd(unsigned int v)
{
	return (uint16_t)(((v / 1000 % 10) << 12) | ((v / 100 % 10) << 8) | ((v / 10 % 10) << 4) |
			  (v % 10));
}

static uint32_t modulus(const struct pit_channel *ch)
{
	return ch->bcd ? BCD_MODULUS : BINARY_MODULUS;
}

/* Modes 0 and 4 stop counting while the gate is low; 2 and 3 stop and restart. */
static bool gate_pauses(const struct pit_channel *ch)
{
	return ch->mode == 0 || ch->mode == 2 || ch->mode == 3 || ch->mode == 4;
}

static bool paused(const struct pit_channel *ch)
{
	return !ch->gate && gate_pauses(ch);
}

/* A mode 2/3 count written mid-period takes over at the period's end. */
static void catch_up(struct pit_channel *ch, int64_t now)
{
	if (!ch->reload_pending || now < ch->reload_ns)
		return;
	ch->reload_pending = false;
	ch->initial = ch->next_initial;
	ch->start_ns = ch->reload_ns;
	ch->ticks_before = 0;
	ch->null_count = false;
	/* The boundary at the switch is the old period's end: an edge still due. */
	ch->events_signalled = -1;
}

static uint64_t elapsed_ticks(const struct pit_channel *ch, int64_t now)
{
	if (paused(ch))
		return ch->ticks_before;
	return ch->ticks_before + ns_to_ticks(now - ch->start_ns);
}

/* The counting element as a binary number (65536 reads as 0). */
static uint32_t counter_value(const struct pit_channel *ch, int64_t now)
{
	uint64_t t, n = ch->initial;
	uint32_t m = modulus(ch);

	if (ch->state != COUNTING)
		return ch->held_value % m;
	t = elapsed_ticks(ch, now);
	switch (ch->mode) {
	case 2:
		return (uint32_t)((n - t % n) % m);
	case 3: {
		/* Down by two from N (odd N: N - 1), reloaded at each half period. */
		uint64_t phase = t % n, high_ticks = (n + 1) / 2;
		uint64_t in_half = phase < high_ticks ? phase : phase - high_ticks;

		return (uint32_t)(((n & ~1ull) - 2 * in_half) % m);
	}
	default:
		/* Modes 0, 1, 4, 5 keep counting down through 0, wrapping. */
		return (uint32_t)((n % m + m - t % m) % m);
	}
}

static bool out_level(const struct pit_channel *ch, int64_t now)
{
	uint64_t t, n = ch->initial;

	if (ch->state == IDLE)
		return ch->mode != 0;
	if (ch->state == WAITING_TRIGGER)
		return true;
	t = elapsed_ticks(ch, now);
	switch (ch->mode) {
	case 0:
	case 1:
		return t >= n;
	case 2:
		return paused(ch) || n < 2 || t % n != n - 1;
	case 3:
		return paused(ch) || t % n < (n + 1) / 2;
	default:
		/* Modes 4 and 5: one clock low at terminal count. */
		return t != n;
	}
}

static uint16_t encode_count(const struct pit_channel *ch, uint32_t value)
{
	return ch->bcd ? to_bcd(value) : (uint16_t)value;
}

static void start_counting(struct pit_channel *ch, uint32_t initial, int64_t now)
{
	ch->state = COUNTING;
	ch->initial = initial;
	ch->start_ns = now;
	ch->ticks_before = 0;
	ch->reload_pending = false;
	ch->null_count = false;
	ch->events_signalled = 0;
}

/* Stops counting, keeping the present value (a control word, or mode 0's first byte). */
static void stop_counting(struct pit_channel *ch, int64_t now)
{
	ch->held_value = counter_value(ch, now);
	ch->state = IDLE;
	ch->reload_pending = false;
}

/* Arms the timer for channel 0's next output edge, or cancels it. */
static void channel0_arm_locked(struct pit *pit, int64_t now)
{
	struct pit_channel *ch = &pit->channels[0];
	int64_t deadline;
	uint64_t n = ch->initial;

	if (ch->state != COUNTING || paused(ch)) {
		timer_cancel(pit->timer);
		return;
	}
	switch (ch->mode) {
	case 0:
	case 4:
		if (ch->events_signalled > 0) {
			timer_cancel(pit->timer);
			return;
		}
		/* Mode 0: OUT rises at terminal count; mode 4: the strobe ends there. */
		deadline = ch->start_ns + ticks_to_ns(n - ch->ticks_before);
		break;
	case 2:
	case 3:
		/* A pending reload happens at one of these boundaries (catch_up). */
		deadline = ch->start_ns + ticks_to_ns((uint64_t)(ch->events_signalled + 1) * n);
		/* Missed periods are not replayed, and tiny counts do not flood. */
		if (deadline < now + MIN_IRQ_INTERVAL_NS && n < ns_to_ticks(MIN_IRQ_INTERVAL_NS))
			deadline = now + MIN_IRQ_INTERVAL_NS;
		break;
	default:
		/* Modes 1 and 5 need a gate edge, and channel 0's gate is tied high. */
		timer_cancel(pit->timer);
		return;
	}
	timer_arm_ns(pit->timer, deadline);
}

/* Whether channel 0 has reached an output edge not yet signalled on IRQ 0. */
static bool channel0_check_locked(struct pit *pit, int64_t now)
{
	struct pit_channel *ch = &pit->channels[0];
	uint64_t t;
	int64_t periods;

	catch_up(ch, now);
	if (ch->state != COUNTING || paused(ch))
		return false;
	t = elapsed_ticks(ch, now);
	switch (ch->mode) {
	case 0:
	case 4:
		if (ch->events_signalled > 0 || t < ch->initial)
			return false;
		ch->events_signalled = 1;
		return true;
	case 2:
	case 3:
		/* One edge however many periods passed since the last one. */
		periods = (int64_t)(t / ch->initial);
		if (periods <= ch->events_signalled)
			return false;
		ch->events_signalled = periods;
		return true;
	default:
		return false;
	}
}

static void pulse_irq0(struct pit *pit)
{
	pthread_mutex_lock(&pit->irq_lock);
	irq_line_set(&pit->irq0, true);
	irq_line_set(&pit->irq0, false);
	pthread_mutex_unlock(&pit->irq_lock);
}

static void channel0_timer(void *opaque)
{
	struct pit *pit = opaque;
	int64_t now = timer_now_ns();
	bool edge;

	pthread_mutex_lock(&pit->lock);
	edge = channel0_check_locked(pit, now);
	channel0_arm_locked(pit, now);
	pthread_mutex_unlock(&pit->lock);
	if (edge)
		pulse_irq0(pit);
}

/* A count fully written: the data sheet's per-mode "new count" rules. */
static void load_count(struct pit_channel *ch, uint16_t raw, int64_t now)
{
	uint32_t n = raw ? (ch->bcd ? from_bcd(raw) : raw) : modulus(ch);

	if (n == 0)	/* BCD digits above 9 decoding to a multiple of 10000 */
		n = BCD_MODULUS;
	switch (ch->mode) {
	case 1:
	case 5:
		ch->trigger_initial = n;
		if (ch->state == IDLE) {
			ch->state = WAITING_TRIGGER;
			ch->held_value = n;
		}
		break;
	case 2:
	case 3:
		if (ch->state == COUNTING && !paused(ch)) {
			uint64_t t = elapsed_ticks(ch, now);

			ch->next_initial = n;
			ch->reload_pending = true;
			ch->reload_ns = ch->start_ns + ticks_to_ns((t / ch->initial + 1) * ch->initial);
			break;
		}
		start_counting(ch, n, now);
		break;
	default:
		start_counting(ch, n, now);
		break;
	}
}

static void write_control(struct pit *pit, uint8_t value, int64_t now)
{
	unsigned int select = value >> CONTROL_SELECT_SHIFT;
	struct pit_channel *ch;

	if (select == CONTROL_READ_BACK) {
		for (unsigned int i = 0; i < CHANNELS; i++) {
			if (!(value & (2u << i)))
				continue;
			ch = &pit->channels[i];
			catch_up(ch, now);
			if (!(value & READ_BACK_NO_STATUS) && !ch->status_latched) {
				ch->status_latched = true;
				ch->latched_status = (uint8_t)((out_level(ch, now) ? STATUS_OUT : 0) |
							       (ch->null_count ? STATUS_NULL_COUNT : 0) |
							       ch->control);
			}
			if (!(value & READ_BACK_NO_COUNT) && !ch->count_latched) {
				ch->count_latched = true;
				ch->latched_msb_next = false;
				ch->latched_count = encode_count(ch, counter_value(ch, now));
			}
		}
		return;
	}

	ch = &pit->channels[select];
	catch_up(ch, now);
	if (((value >> CONTROL_ACCESS_SHIFT) & 3) == ACCESS_LATCH) {
		/* Counter latch command; a second one before the read is ignored. */
		if (!ch->count_latched) {
			ch->count_latched = true;
			ch->latched_msb_next = false;
			ch->latched_count = encode_count(ch, counter_value(ch, now));
		}
		return;
	}

	stop_counting(ch, now);
	ch->control = value & 0x3f;
	ch->access = (enum access)((value >> CONTROL_ACCESS_SHIFT) & 3);
	ch->mode = (value >> CONTROL_MODE_SHIFT) & 7;
	if (ch->mode > 5)
		ch->mode -= 4;
	ch->bcd = value & CONTROL_BCD;
	ch->null_count = true;
	ch->write_msb_next = false;
	ch->read_msb_next = false;
	ch->count_latched = false;
	ch->status_latched = false;
	if (select == 0)
		channel0_arm_locked(pit, now);
}

static void write_counter(struct pit *pit, unsigned int index, uint8_t value, int64_t now)
{
	struct pit_channel *ch = &pit->channels[index];
	uint16_t raw;

	catch_up(ch, now);
	switch (ch->access) {
	case ACCESS_LSB:
		raw = value;
		break;
	case ACCESS_MSB:
		raw = (uint16_t)(value << 8);
		break;
	case ACCESS_WORD:
		if (!ch->write_msb_next) {
			ch->write_msb_next = true;
			ch->write_lsb = value;
			ch->null_count = true;
			/* Mode 0: writing the first byte stops counting, OUT goes low. */
			if (ch->mode == 0 && ch->state == COUNTING) {
				stop_counting(ch, now);
				if (index == 0)
					channel0_arm_locked(pit, now);
			}
			return;
		}
		ch->write_msb_next = false;
		raw = (uint16_t)(ch->write_lsb | (value << 8));
		break;
	default:
		log_guest_once("8254: count written to channel %u before its control word", index);
		return;
	}
	load_count(ch, raw, now);
	if (index == 0)
		channel0_arm_locked(pit, now);
}

static uint8_t read_counter(struct pit *pit, unsigned int index, int64_t now)
{
	struct pit_channel *ch = &pit->channels[index];
	uint16_t value;

	catch_up(ch, now);
	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->latched_status;
	}
	if (ch->count_latched) {
		value = ch->latched_count;
		switch (ch->access) {
		case ACCESS_MSB:
			ch->count_latched = false;
			return (uint8_t)(value >> 8);
		case ACCESS_WORD:
			if (!ch->latched_msb_next) {
				ch->latched_msb_next = true;
				return (uint8_t)value;
			}
			ch->count_latched = false;
			return (uint8_t)(value >> 8);
		default:
			ch->count_latched = false;
			return (uint8_t)value;
		}
	}
	/* Not latched: whatever the counter holds at this instant, byte by byte. */
	value = encode_count(ch, counter_value(ch, now));
	switch (ch->access) {
	case ACCESS_MSB:
		return (uint8_t)(value >> 8);
	case ACCESS_WORD:
		ch->read_msb_next = !ch->read_msb_next;
		return ch->read_msb_next ? (uint8_t)value : (uint8_t)(value >> 8);
	default:
		return (uint8_t)value;
	}
}

static void set_gate(struct pit *pit, unsigned int index, bool gate, int64_t now)
{
	struct pit_channel *ch = &pit->channels[index];

	catch_up(ch, now);
	if (gate == ch->gate)
		return;
	if (!gate) {
		if (ch->state == COUNTING && gate_pauses(ch))
			ch->ticks_before += ns_to_ticks(now - ch->start_ns);
		ch->gate = false;
		return;
	}
	ch->gate = true;
	switch (ch->mode) {
	case 0:
	case 4:
		ch->start_ns = now;	/* resume where it stopped */
		break;
	case 2:
	case 3:
		if (ch->state == COUNTING)
			start_counting(ch, ch->reload_pending ? ch->next_initial : ch->initial, now);
		break;
	default:
		/* Modes 1 and 5: a trigger (re)loads the count and starts it. */
		if (ch->state != IDLE)
			start_counting(ch, ch->trigger_initial, now);
		break;
	}
}

struct pit *pit_new(struct timer_service *timers, struct irq_line irq0)
{
	struct pit *pit = g_new0(struct pit, 1);

	pthread_mutex_init(&pit->lock, NULL);
	pthread_mutex_init(&pit->irq_lock, NULL);
	pit->irq0 = irq0;
	pit->timer = timer_new(timers, channel0_timer, pit);
	pit_reset(pit);
	return pit;
}

void pit_free(struct pit *pit)
{
	if (!pit)
		return;
	timer_free(pit->timer);
	pthread_mutex_destroy(&pit->irq_lock);
	pthread_mutex_destroy(&pit->lock);
	g_free(pit);
}

void pit_reset(struct pit *pit)
{
	pthread_mutex_lock(&pit->lock);
	for (unsigned int i = 0; i < CHANNELS; i++) {
		/* Power-on state is undefined; nothing counts until programmed. */
		pit->channels[i] = (struct pit_channel){
			.gate = i != SPEAKER_CHANNEL,	/* channels 0 and 1: tied high */
			.initial = BINARY_MODULUS,
		};
	}
	pit->port61 = 0;
	timer_cancel(pit->timer);
	pthread_mutex_unlock(&pit->lock);
	pthread_mutex_lock(&pit->irq_lock);
	irq_line_set(&pit->irq0, false);
	pthread_mutex_unlock(&pit->irq_lock);
}

static uint8_t pit_read_byte(struct pit *pit, uint64_t port, int64_t now)
{
	if (port >= CONTROL_PORT)
		return 0xff;	/* the control word register cannot be read */
	return read_counter(pit, (unsigned int)port, now);
}

static void pit_write_byte(struct pit *pit, uint64_t port, uint8_t value, int64_t now)
{
	if (port == CONTROL_PORT)
		write_control(pit, value, now);
	else if (port < CONTROL_PORT)
		write_counter(pit, (unsigned int)port, value, now);
}

static uint64_t pit_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct pit *pit = opaque;
	int64_t now = timer_now_ns();
	uint64_t value = 0;

	pthread_mutex_lock(&pit->lock);
	for (unsigned int i = 0; i < size; i++)
		value |= (uint64_t)(offset + i < PIT_PORT_COUNT ? pit_read_byte(pit, offset + i, now) : 0xff)
			 << (8 * i);
	pthread_mutex_unlock(&pit->lock);
	return value;
}

static void pit_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct pit *pit = opaque;
	int64_t now = timer_now_ns();

	pthread_mutex_lock(&pit->lock);
	for (unsigned int i = 0; i < size && offset + i < PIT_PORT_COUNT; i++)
		pit_write_byte(pit, offset + i, (uint8_t)(value >> (8 * i)), now);
	pthread_mutex_unlock(&pit->lock);
}

/* Wider accesses reach ports above this one, which nothing here claims. */
static uint64_t all_ones_above_first_byte(uint8_t value, unsigned int size)
{
	uint64_t result = value;

	for (unsigned int i = 1; i < size; i++)
		result |= 0xffull << (8 * i);
	return result;
}

static uint64_t speaker_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct pit *pit = opaque;
	int64_t now = timer_now_ns();
	struct pit_channel *ch = &pit->channels[SPEAKER_CHANNEL];
	uint8_t value;

	pthread_mutex_lock(&pit->lock);
	catch_up(ch, now);
	value = pit->port61 & PORT61_WRITABLE;
	if ((ns_to_ticks(now) / REFRESH_TICKS) & 1)
		value |= PORT61_REFRESH;
	if (out_level(ch, now))
		value |= PORT61_OUT2;
	pthread_mutex_unlock(&pit->lock);
	return all_ones_above_first_byte(value, size);
}

static void speaker_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct pit *pit = opaque;
	int64_t now = timer_now_ns();

	pthread_mutex_lock(&pit->lock);
	pit->port61 = (uint8_t)value & PORT61_WRITABLE;
	set_gate(pit, SPEAKER_CHANNEL, value & PORT61_GATE2, now);
	pthread_mutex_unlock(&pit->lock);
}

const struct bus_ops pit_ops = { .read = pit_read, .write = pit_write };
const struct bus_ops pit_speaker_ops = { .read = speaker_read, .write = speaker_write };
