/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 8254 on host time, read through its ports as guests do.  Counts are
 * checked against host time bracketing the load and the read: with t0/t1
 * around the count write and t2/t3 around the read, the counter must show
 * a value for some elapsed time in [t2 - t1, t3 - t0].  A PIT that drifted,
 * counted at the wrong rate or in the wrong direction fails, which is what
 * Linux's TSC calibration would notice.
 */
#include <glib.h>

#include "pit.h"

#define MS		1000000ll
#define READ_BACK	0xc0
#define RB_NO_COUNT	0x20
#define RB_NO_STATUS	0x10

struct irq_probe {
	gint rises;
	gint level;
};

static void probe_set_level(void *opaque, unsigned int gsi, bool level)
{
	struct irq_probe *p = opaque;

	g_assert_cmpuint(gsi, ==, 0);
	if (level && !g_atomic_int_get(&p->level))
		g_atomic_int_inc(&p->rises);
	g_atomic_int_set(&p->level, level);
}

struct fixture {
	struct timer_service *timers;
	struct pit *pit;
	struct irq_probe irq;
};

static void fixture_set_up(struct fixture *f, gconstpointer data)
{
	f->timers = timer_service_new();
	f->irq = (struct irq_probe){ 0 };
	f->pit = pit_new(f->timers, (struct irq_line){ probe_set_level, &f->irq, 0 });
}

static void fixture_tear_down(struct fixture *f, gconstpointer data)
{
	pit_free(f->pit);
	timer_service_free(f->timers);
}

static void outb(struct fixture *f, uint16_t port, uint8_t value)
{
	if (port == PIT_SPEAKER_PORT)
		pit_speaker_ops.write(f->pit, 0, value, 1);
	else
		pit_ops.write(f->pit, port - PIT_PORT, value, 1);
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
	if (port == PIT_SPEAKER_PORT)
		return (uint8_t)pit_speaker_ops.read(f->pit, 0, 1);
	return (uint8_t)pit_ops.read(f->pit, port - PIT_PORT, 1);
}

/*
 * For checks that hold only while a deadline is ahead: true if less than
 * `ns` has passed since `since`, now (so also when the value was read).  A
 * host that starved the test for longer skips the check instead of failing.
 */
static bool still_before(int64_t since, int64_t ns)
{
	return timer_now_ns() - since < ns;
}

/*
 * IRQ 0 edges, once at least `want` have come or after two seconds.  Edges
 * are never early, but a host that starves the PIT's timer thread makes them
 * late: checks that they come wait for them rather than sleep a fixed time.
 */
static int wait_rises(struct fixture *f, int want)
{
	int64_t start = timer_now_ns();
	int rises;

	while ((rises = g_atomic_int_get(&f->irq.rises)) < want && timer_now_ns() - start < 2000 * MS)
		g_usleep(500);
	return rises;
}

/* Milliseconds since `since`. */
static int64_t ms_since(int64_t since)
{
	return (timer_now_ns() - since) / MS;
}

static uint64_t ticks(int64_t ns)
{
	return ns <= 0 ? 0 : (uint64_t)((unsigned __int128)ns * PIT_FREQUENCY_HZ / 1000000000);
}

struct bracket {
	int64_t lo, hi;
};

/* Control word (LSB/MSB access) and count; returns when the load happened. */
static struct bracket program(struct fixture *f, unsigned int channel, unsigned int mode,
			      uint16_t count, bool bcd)
{
	struct bracket load;

	outb(f, 0x43, (uint8_t)((channel << 6) | 0x30 | (mode << 1) | (bcd ? 1 : 0)));
	outb(f, (uint16_t)(0x40 + channel), (uint8_t)count);
	load.lo = timer_now_ns();
	outb(f, (uint16_t)(0x40 + channel), (uint8_t)(count >> 8));
	load.hi = timer_now_ns();
	return load;
}

/* Counter latch command, then LSB and MSB; `at` brackets the latch. */
static uint16_t latch_read(struct fixture *f, unsigned int channel, struct bracket *at)
{
	uint16_t v;

	at->lo = timer_now_ns();
	outb(f, 0x43, (uint8_t)(channel << 6));
	at->hi = timer_now_ns();
	v = inb(f, (uint16_t)(0x40 + channel));
	v |= (uint16_t)(inb(f, (uint16_t)(0x40 + channel)) << 8);
	return v;
}

typedef uint32_t (*count_model)(uint64_t elapsed, uint32_t n);

static uint32_t model_mode0(uint64_t e, uint32_t n)
{
	return (uint32_t)((n + 65536 - e % 65536) % 65536);
}

static uint32_t model_lsb_mode0(uint64_t e, uint32_t n)
{
	return model_mode0(e, n) & 0xff;
}

static uint32_t model_mode2(uint64_t e, uint32_t n)
{
	return (uint32_t)(n - e % n);
}

static uint32_t model_mode3(uint64_t e, uint32_t n)
{
	uint64_t phase = e % n, high = (n + 1) / 2;

	return (uint32_t)((n & ~1u) - 2 * (phase < high ? phase : phase - high));
}

/* Whether `value` is what the model shows for some elapsed time in the brackets. */
static void assert_count(count_model model, uint32_t n, struct bracket load, struct bracket read,
			 uint32_t value, const char *what)
{
	uint64_t lo = ticks(read.lo - load.hi), hi = ticks(read.hi - load.lo) + 1;

	for (uint64_t e = lo; e <= hi && e <= lo + 2 * 65536; e++) {
		if (model(e, n) == value)
			return;
	}
	g_error("%s: counter read %u; for %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
		" ticks since the load a guest expects %u..%u", what, value, lo, hi, model(hi, n),
		model(lo, n));
}

static uint8_t status(struct fixture *f, unsigned int channel)
{
	outb(f, 0x43, (uint8_t)(READ_BACK | RB_NO_COUNT | (2u << channel)));
	return inb(f, (uint16_t)(0x40 + channel));
}

static void test_mode0(struct fixture *f, gconstpointer data)
{
	struct bracket load, read;
	uint16_t v;
	int rises;

	load = program(f, 0, 0, 0xffff, false);
	g_assert_cmphex(status(f, 0) & 0x80, ==, 0);		/* OUT low while counting */
	for (int i = 0; i < 3; i++) {
		g_usleep(3000);
		v = latch_read(f, 0, &read);
		assert_count(model_mode0, 0xffff, load, read, v, "mode 0");
	}
	rises = g_atomic_int_get(&f->irq.rises);
	if (still_before(load.lo, 50 * MS))
		g_assert_cmpint(rises, ==, 0);

	/* 2 ms: OUT rises once at terminal count, and IRQ 0 sees one edge. */
	load = program(f, 0, 0, 2386, false);
	g_usleep(10000);
	g_assert_cmphex(status(f, 0) & 0x80, ==, 0x80);
	g_assert_cmpint(wait_rises(f, 1), ==, 1);
	/* The counter wraps past 0 and keeps going down. */
	v = latch_read(f, 0, &read);
	g_assert_cmpuint(v, >, 2386);
	assert_count(model_mode0, 2386, load, read, v, "mode 0 after terminal count");
	g_usleep(10000);
	g_assert_cmpint(g_atomic_int_get(&f->irq.rises), ==, 1);
}

static void test_mode0_bcd(struct fixture *f, gconstpointer data)
{
	struct bracket load, read;
	uint16_t v;
	unsigned int decimal;

	load = program(f, 0, 0, 0x9999, true);
	g_usleep(3000);
	v = latch_read(f, 0, &read);
	for (int shift = 0; shift < 16; shift += 4)
		g_assert_cmpuint((v >> shift) & 0xf, <=, 9);
	decimal = ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
	g_assert_cmpuint(decimal, <=, 9999);
	{
		/* The BCD count wraps every 10000 ticks (8.4 ms); a stalled host may see that. */
		uint64_t lo = ticks(read.lo - load.hi), hi = ticks(read.hi - load.lo) + 1;
		uint64_t since_lo = (9999 - decimal + 10000 - lo % 10000) % 10000;

		if (hi - lo < 10000)
			g_assert_cmpuint(since_lo, <=, hi - lo);
	}
}

static void test_mode2(struct fixture *f, gconstpointer data)
{
	struct bracket load, read;
	uint16_t v;

	/* Linux's periodic clockevent and its clocksource: mode 2, 1 ms. */
	load = program(f, 0, 2, 1193, false);
	for (int i = 0; i < 5; i++) {
		g_usleep(1700);
		v = latch_read(f, 0, &read);
		g_assert_cmpuint(v, >=, 1);
		g_assert_cmpuint(v, <=, 1193);
		assert_count(model_mode2, 1193, load, read, v, "mode 2");
	}
}

static void test_mode3(struct fixture *f, gconstpointer data)
{
	struct bracket load, read;
	uint16_t v;

	/* The BIOS's 18.2 Hz tick; the count goes down by two. */
	load = program(f, 0, 3, 0, false);
	for (int i = 0; i < 5; i++) {
		g_usleep(3000);
		v = latch_read(f, 0, &read);
		g_assert_cmpuint(v & 1, ==, 0);
		assert_count(model_mode3, 65536, load, read, v, "mode 3");
	}
	{
		uint8_t st = status(f, 0);

		if (still_before(load.lo, 27 * MS))	/* first half of 54.9 ms: OUT high */
			g_assert_cmphex(st & 0x80, ==, 0x80);
	}
}

static void test_mode4(struct fixture *f, gconstpointer data)
{
	struct bracket load;
	int rises;

	/* Linux's one-shot clockevent: mode 4; one strobe, one IRQ 0 edge. */
	load = program(f, 0, 4, 2386, false);
	g_assert_cmphex(status(f, 0) & 0x80, ==, 0x80);
	g_usleep(1000);
	rises = g_atomic_int_get(&f->irq.rises);
	if (still_before(load.lo, 2 * MS))
		g_assert_cmpint(rises, ==, 0);
	g_usleep(20000);
	g_assert_cmpint(wait_rises(f, 1), ==, 1);
	g_usleep(5000);
	g_assert_cmpint(g_atomic_int_get(&f->irq.rises), ==, 1);
	g_assert_cmphex(status(f, 0) & 0x80, ==, 0x80);
}

static void test_latch(struct fixture *f, gconstpointer data)
{
	struct bracket load, at, ignored;
	uint16_t v;

	load = program(f, 0, 0, 0xffff, false);
	g_usleep(2000);
	at.lo = timer_now_ns();
	outb(f, 0x43, 0x00);
	at.hi = timer_now_ns();
	g_usleep(5000);
	/* A second latch before the read changes nothing (8254: "ignored"). */
	ignored.lo = timer_now_ns();
	outb(f, 0x43, 0x00);
	ignored.hi = timer_now_ns();
	v = inb(f, 0x40);
	v |= (uint16_t)(inb(f, 0x40) << 8);
	/* The value is from the latch, 5 ms before the read. */
	assert_count(model_mode0, 0xffff, load, at, v, "latched count");
	g_assert_cmpuint(ticks(ignored.lo - at.hi), >, 1000);
	/* After both bytes the counter reads live again. */
	v = latch_read(f, 0, &at);
	assert_count(model_mode0, 0xffff, load, at, v, "second latch");
}

static void test_lsb_only_and_msb_only(struct fixture *f, gconstpointer data)
{
	struct bracket load, read;
	uint16_t v;

	/* LSB-only access: the count written is 0x00nn. */
	outb(f, 0x43, 0x10);			/* channel 0, LSB, mode 0 */
	load.lo = timer_now_ns();
	outb(f, 0x40, 0xff);
	load.hi = timer_now_ns();
	read.lo = timer_now_ns();
	outb(f, 0x43, 0x00);
	read.hi = timer_now_ns();
	v = inb(f, 0x40);
	assert_count(model_lsb_mode0, 0xff, load, read, v & 0xff, "LSB-only");

	/* MSB-only: 0xnn00, and reads return the MSB. */
	outb(f, 0x43, 0x20);
	load.lo = timer_now_ns();
	outb(f, 0x40, 0x80);
	load.hi = timer_now_ns();
	read.lo = timer_now_ns();
	v = (uint16_t)(inb(f, 0x40) << 8);
	read.hi = timer_now_ns();
	g_assert_cmpuint(v, <=, 0x8000);
	g_assert_cmpuint(v, >=, 0x8000 - 0x100 - (ticks(read.hi - load.lo) & ~0xffull));
}

static void test_read_back(struct fixture *f, gconstpointer data)
{
	struct bracket load, read;
	uint8_t st;
	uint16_t v;

	/* After a control word, before the count: null count, OUT low in mode 0. */
	outb(f, 0x43, 0xb0);			/* channel 2, LSB/MSB, mode 0 */
	st = status(f, 2);
	g_assert_cmphex(st, ==, 0x40 | 0x30);
	program(f, 2, 2, 5000, false);
	/* Gate low held mode 2 stopped; its rising edge starts the count. */
	load.lo = timer_now_ns();
	outb(f, 0x61, 0x01);
	load.hi = timer_now_ns();
	/* Status and count in one command: status first, then the count. */
	g_usleep(1000);
	read.lo = timer_now_ns();
	outb(f, 0x43, READ_BACK | 0x08);	/* channel 2, count + status */
	read.hi = timer_now_ns();
	st = inb(f, 0x42);
	g_assert_cmphex(st & 0x7f, ==, 0x30 | (2 << 1));
	v = inb(f, 0x42);
	v |= (uint16_t)(inb(f, 0x42) << 8);
	assert_count(model_mode2, 5000, load, read, v, "read-back count");
	/* Read-back of several channels at once: channel 0 is untouched mode 0. */
	outb(f, 0x43, READ_BACK | RB_NO_COUNT | 0x02 | 0x08);
	g_assert_cmphex(inb(f, 0x40) & 0x3f, ==, 0x00);
	g_assert_cmphex(inb(f, 0x42) & 0x3f, ==, 0x34);
}

static void test_channel2_gate_and_out2(struct fixture *f, gconstpointer data)
{
	struct bracket load, read;
	uint16_t v;
	uint8_t port61;

	/* Linux's pit_calibrate_tsc(): gate off, speaker off, mode 0, wait for OUT2. */
	outb(f, 0x61, (uint8_t)((inb(f, 0x61) & ~0x02) & ~0x01));
	program(f, 2, 0, 11932, false);			/* 10 ms */
	g_usleep(3000);
	/* Gate low: mode 0 does not count. */
	v = latch_read(f, 2, &read);
	g_assert_cmpuint(v, ==, 11932);
	g_assert_cmphex(inb(f, 0x61) & 0x20, ==, 0);

	load.lo = timer_now_ns();
	outb(f, 0x61, 0x01);
	port61 = inb(f, 0x61);
	g_assert_cmphex(port61 & 0x03, ==, 0x01);
	if (still_before(load.lo, 10 * MS))
		g_assert_cmphex(port61 & 0x20, ==, 0);	/* counting: OUT2 low */
	g_usleep(5000);
	port61 = inb(f, 0x61);
	if (still_before(load.lo, 10 * MS))
		g_assert_cmphex(port61 & 0x20, ==, 0);
	g_usleep(8000);
	g_assert_cmphex(inb(f, 0x61) & 0x20, ==, 0x20);	/* terminal count reached */

	/* Gate low pauses mode 0: the count stays where it was. */
	program(f, 2, 0, 0xffff, false);
	g_usleep(2000);
	outb(f, 0x61, 0x00);
	v = latch_read(f, 2, &read);
	g_usleep(3000);
	g_assert_cmpuint(latch_read(f, 2, &read), ==, v);
	outb(f, 0x61, 0x01);
	g_usleep(3000);
	g_assert_cmpuint(latch_read(f, 2, &read), <, v);
	/* Channel 2 never touches IRQ 0. */
	g_assert_cmpint(g_atomic_int_get(&f->irq.rises), ==, 0);
}

static void test_channel2_mode1_trigger(struct fixture *f, gconstpointer data)
{
	int64_t trigger;
	uint8_t port61;

	outb(f, 0x61, 0x00);
	program(f, 2, 1, 2386, false);		/* 2 ms one-shot on the gate's edge */
	g_assert_cmphex(inb(f, 0x61) & 0x20, ==, 0x20);	/* OUT high until triggered */
	g_usleep(3000);
	g_assert_cmphex(inb(f, 0x61) & 0x20, ==, 0x20);
	trigger = timer_now_ns();
	outb(f, 0x61, 0x01);
	port61 = inb(f, 0x61);
	if (still_before(trigger, 2 * MS))
		g_assert_cmphex(port61 & 0x20, ==, 0);
	g_usleep(5000);
	g_assert_cmphex(inb(f, 0x61) & 0x20, ==, 0x20);
}

static void test_refresh_toggle(struct fixture *f, gconstpointer data)
{
	int64_t end = timer_now_ns() + 2 * MS;
	bool seen[2] = { false, false };
	int flips = 0;
	bool last = inb(f, 0x61) & 0x10;

	/* Old delay loops wait for bit 4 to flip (~15 us); it must move. */
	while (timer_now_ns() < end) {
		bool bit = inb(f, 0x61) & 0x10;

		seen[bit] = true;
		if (bit != last)
			flips++;
		last = bit;
	}
	g_assert_true(seen[0] && seen[1]);
	g_assert_cmpint(flips, >=, 2);
	g_assert_cmpint(flips, <=, 2 * MS / 15000 + 2);	/* not faster than ~15 us */
	/* The writable bits read back; the status bits cannot be written. */
	outb(f, 0x61, 0xff);
	g_assert_cmphex(inb(f, 0x61) & 0xcf, ==, 0x0f);
}

static void test_quick_calibration(struct fixture *f, gconstpointer data)
{
	struct bracket load, read = { 0 };
	int64_t start;
	uint8_t first_msb = 0, msb = 0, prev = 0xff;
	uint64_t lo, hi;

	/* Linux quick_pit_calibrate(): mode 0, 0xffff, read LSB+MSB unlatched. */
	outb(f, 0x61, (uint8_t)((inb(f, 0x61) & ~0x02) | 0x01));
	load = program(f, 2, 0, 0xffff, false);
	start = timer_now_ns();
	for (int i = 0; timer_now_ns() - start < 5 * MS; i++) {
		inb(f, 0x42);
		read.lo = timer_now_ns();
		msb = inb(f, 0x42);
		read.hi = timer_now_ns();
		if (i == 0)
			first_msb = msb;
		/* Never runs backwards, until it wraps at 55 ms (a host that stalls us). */
		if (read.hi - load.lo < 54 * MS)
			g_assert_cmpuint(msb, <=, prev);
		prev = msb;
	}
	g_assert_cmpuint(first_msb, >=, 0xfe);
	/* The last MSB read is the count's top byte for the host time it was read at. */
	lo = ticks(read.lo - load.hi);
	hi = ticks(read.hi - load.lo) + 1;
	if (hi <= 0xffff) {
		g_assert_cmpuint(msb, >=, (0xffff - hi) >> 8);
		g_assert_cmpuint(msb, <=, (0xffff - lo) >> 8);
	}
	/* 5 ms is ~23 MSB steps; only checkable if the host did not stall us
	 * between that last read and the loop's end (the brackets above hold anyway). */
	if (read.lo - load.hi >= 4 * MS)
		g_assert_cmpuint(msb, <, 0xff - 15);
}

static void test_periodic_irq0(struct fixture *f, gconstpointer data)
{
	unsigned int mode = GPOINTER_TO_UINT(data);
	int rises;

	/*
	 * 1 kHz (count 1193) for 100 ms: a HZ=1000 guest expects ~100 ticks.
	 * Never more; fewer only when this host starves the timer thread
	 * (missed periods coalesce), so the lower bound is loose.
	 */
	struct bracket load = program(f, 0, mode, 1193, false);
	int64_t elapsed_ms;

	g_usleep(100000);
	rises = wait_rises(f, 50);
	elapsed_ms = ms_since(load.lo);
	if (rises < 50 || rises > elapsed_ms + 2)
		g_error("mode %u at 1 kHz gave %d IRQ 0 edges in %" G_GINT64_FORMAT " ms", mode, rises,
			elapsed_ms);
	/* A control word stops the channel: no more ticks. */
	outb(f, 0x43, 0x30);
	g_usleep(2000);
	rises = g_atomic_int_get(&f->irq.rises);
	g_usleep(20000);
	g_assert_cmpint(g_atomic_int_get(&f->irq.rises), ==, rises);
}

static void test_tiny_period_bounded(struct fixture *f, gconstpointer data)
{
	int rises;

	/* Count 2 asks for 600 kHz; the host delivers at most one per 100 us. */
	struct bracket load = program(f, 0, 2, 2, false);

	g_usleep(100000);
	rises = wait_rises(f, 11);
	g_assert_cmpint(rises, >, 10);
	g_assert_cmpint(rises, <=, ms_since(load.lo) * 10 + 10);
}

static void test_mode2_new_count_next_period(struct fixture *f, gconstpointer data)
{
	struct bracket load, read;
	int64_t elapsed_ms;
	uint16_t v;
	int rises;

	/* 20 ms period, then a new count (no control word): the period runs out first. */
	load = program(f, 0, 2, 23864, false);
	g_usleep(2000);
	outb(f, 0x40, 0xa9);
	outb(f, 0x40, 0x04);			/* 1193: 1 ms */
	v = latch_read(f, 0, &read);
	assert_count(model_mode2, 23864, load, read, v, "mode 2 before reload");
	g_usleep(60000);
	/*
	 * From 20 ms on, 1 ms periods: about 40 edges in 62 ms, plus the 20 ms
	 * one.  A busy host oversleeps; the upper bound follows the time that
	 * really passed (edges come late, never early).
	 */
	rises = wait_rises(f, 15);
	elapsed_ms = ms_since(load.lo);
	if (rises < 15 || rises > elapsed_ms - 20 + 1 + 3)
		g_error("reprogrammed mode 2 gave %d edges in %" G_GINT64_FORMAT " ms", rises, elapsed_ms);
	v = latch_read(f, 0, &read);
	g_assert_cmpuint(v, <=, 1193);
}

static void test_reset(struct fixture *f, gconstpointer data)
{
	int rises;

	program(f, 0, 2, 1193, false);
	g_usleep(5000);
	/* A machine reset stops the timer: the rebooting guest gets no ticks. */
	pit_reset(f->pit);
	rises = g_atomic_int_get(&f->irq.rises);
	g_usleep(10000);
	g_assert_cmpint(g_atomic_int_get(&f->irq.rises), ==, rises);
	g_assert_cmphex(inb(f, 0x61) & 0x0f, ==, 0);
}

#define ADD(path, fn) \
	g_test_add(path, struct fixture, NULL, fixture_set_up, fn, fixture_tear_down)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/pit/mode0", test_mode0);
	ADD("/pit/mode0-bcd", test_mode0_bcd);
	ADD("/pit/mode2", test_mode2);
	ADD("/pit/mode3", test_mode3);
	ADD("/pit/mode4", test_mode4);
	ADD("/pit/latch", test_latch);
	ADD("/pit/lsb-msb-only", test_lsb_only_and_msb_only);
	ADD("/pit/read-back", test_read_back);
	ADD("/pit/channel2-gate-out2", test_channel2_gate_and_out2);
	ADD("/pit/channel2-mode1-trigger", test_channel2_mode1_trigger);
	ADD("/pit/refresh-toggle", test_refresh_toggle);
	ADD("/pit/quick-calibration", test_quick_calibration);
	g_test_add("/pit/periodic-irq0-mode2", struct fixture, GUINT_TO_POINTER(2), fixture_set_up,
		   test_periodic_irq0, fixture_tear_down);
	g_test_add("/pit/periodic-irq0-mode3", struct fixture, GUINT_TO_POINTER(3), fixture_set_up,
		   test_periodic_irq0, fixture_tear_down);
	ADD("/pit/tiny-period-bounded", test_tiny_period_bounded);
	ADD("/pit/mode2-new-count-next-period", test_mode2_new_count_next_period);
	ADD("/pit/reset", test_reset);
	return g_test_run();
}
