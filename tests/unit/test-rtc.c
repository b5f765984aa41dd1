/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MC146818 RTC through ports 0x70/0x71 with a fake clock, so every
 * expected register value is computed by hand from a known instant.
 */
#include <glib.h>
#include <string.h>

#include "rtc.h"
#include "timer.h"

enum { SEC = 0x00, MIN = 0x02, HOUR = 0x04, DOW = 0x06, DOM = 0x07, MON = 0x08, YEAR = 0x09,
       REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d };

#define B_SET	0x80
#define B_DM	0x04	/* binary */
#define B_24H	0x02
#define A_UIP	0x80

static int64_t fake_now_us;

static int64_t fake_clock(void)
{
	return fake_now_us;
}

/* Microseconds since the epoch for a UTC date, computed with GLib. */
static int64_t utc_us(int year, int month, int day, int hour, int minute, int second, int us)
{
	g_autoptr(GDateTime) dt = g_date_time_new_utc(year, month, day, hour, minute, second);

	g_assert_nonnull(dt);
	return g_date_time_to_unix(dt) * G_USEC_PER_SEC + us;
}

static struct rtc *new_rtc(int64_t now_us)
{
	struct rtc *rtc = rtc_new();

	fake_now_us = now_us;
	rtc_set_clock(rtc, fake_clock);
	return rtc;
}

static uint8_t cmos_read(struct rtc *rtc, uint8_t index)
{
	rtc_bus_ops.write(rtc, 0, index, 1);
	return (uint8_t)rtc_bus_ops.read(rtc, 1, 1);
}

static void cmos_write(struct rtc *rtc, uint8_t index, uint8_t value)
{
	rtc_bus_ops.write(rtc, 0, index, 1);
	rtc_bus_ops.write(rtc, 1, value, 1);
}

struct rtc_time {
	uint8_t sec, min, hour, dow, dom, mon, year, century;
};

static struct rtc_time read_time(struct rtc *rtc)
{
	return (struct rtc_time){
		cmos_read(rtc, SEC), cmos_read(rtc, MIN), cmos_read(rtc, HOUR), cmos_read(rtc, DOW),
		cmos_read(rtc, DOM), cmos_read(rtc, MON), cmos_read(rtc, YEAR),
		cmos_read(rtc, CMOS_CENTURY),
	};
}

static void assert_time(struct rtc *rtc, const struct rtc_time expected)
{
	struct rtc_time t = read_time(rtc);

	g_assert_cmphex(t.sec, ==, expected.sec);
	g_assert_cmphex(t.min, ==, expected.min);
	g_assert_cmphex(t.hour, ==, expected.hour);
	g_assert_cmphex(t.dow, ==, expected.dow);
	g_assert_cmphex(t.dom, ==, expected.dom);
	g_assert_cmphex(t.mon, ==, expected.mon);
	g_assert_cmphex(t.year, ==, expected.year);
	g_assert_cmphex(t.century, ==, expected.century);
}

static void test_bcd(void)
{
	/* Thursday 29 February 2024, 13:45:56.5 UTC. */
	struct rtc *rtc = new_rtc(utc_us(2024, 2, 29, 13, 45, 56, 500000));

	/* Power-on: BCD, 24-hour, battery good. */
	g_assert_cmphex(cmos_read(rtc, REG_B), ==, B_24H);
	g_assert_cmphex(cmos_read(rtc, REG_D), ==, 0x80);
	assert_time(rtc, (struct rtc_time){ 0x56, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20 });

	/* The clock runs with the host clock. */
	fake_now_us += 4 * G_USEC_PER_SEC;
	g_assert_cmphex(cmos_read(rtc, SEC), ==, 0x00);
	g_assert_cmphex(cmos_read(rtc, MIN), ==, 0x46);
	rtc_free(rtc);
}

static void test_binary(void)
{
	struct rtc *rtc = new_rtc(utc_us(2100, 3, 1, 9, 5, 7, 0));

	cmos_write(rtc, REG_B, B_24H | B_DM);
	g_assert_cmphex(cmos_read(rtc, REG_B), ==, B_24H | B_DM);
	/* Monday 1 March 2100: century 21 in binary. */
	assert_time(rtc, (struct rtc_time){ 7, 5, 9, 2, 1, 3, 0, 21 });
	rtc_free(rtc);
}

static void test_12_hour(void)
{
	static const struct { int hour; uint8_t bcd, bin; } cases[] = {
		{ 0, 0x12, 12 },		/* midnight is 12 AM */
		{ 1, 0x01, 1 },
		{ 11, 0x11, 11 },
		{ 12, 0x92, 0x80 | 12 },	/* noon is 12 PM */
		{ 13, 0x81, 0x80 | 1 },
		{ 23, 0x91, 0x80 | 11 },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rtc *rtc = new_rtc(utc_us(2021, 7, 4, cases[i].hour, 30, 0, 0));

		cmos_write(rtc, REG_B, 0);
		g_assert_cmphex(cmos_read(rtc, HOUR), ==, cases[i].bcd);
		g_assert_cmphex(cmos_read(rtc, MIN), ==, 0x30);
		cmos_write(rtc, REG_B, B_DM);
		g_assert_cmphex(cmos_read(rtc, HOUR), ==, cases[i].bin);
		g_assert_cmphex(cmos_read(rtc, MIN), ==, 30);
		rtc_free(rtc);
	}
}

static void test_update_in_progress(void)
{
	int64_t second = utc_us(2024, 1, 1, 0, 0, 0, 0);
	struct rtc *rtc = new_rtc(second);

	/* UIP is set from 244 us before the update through its 1984 us: 2228 us. */
	static const struct { int us; bool uip; } cases[] = {
		{ 0, false }, { 500000, false }, { 997771, false },
		{ 997772, true }, { 999000, true }, { 999999, true },
	};
	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		fake_now_us = second + cases[i].us;
		g_assert_cmphex(cmos_read(rtc, REG_A), ==, 0x26 | (cases[i].uip ? A_UIP : 0));
	}

	/* Nothing updates while SET is on, so UIP stays clear. */
	cmos_write(rtc, REG_B, B_SET | B_24H);
	g_assert_cmphex(cmos_read(rtc, REG_A), ==, 0x26);
	cmos_write(rtc, REG_B, B_24H);
	g_assert_cmphex(cmos_read(rtc, REG_A), ==, 0x26 | A_UIP);

	/* UIP is read-only; the rate bits are the guest's. */
	cmos_write(rtc, REG_A, 0x2f);
	fake_now_us = second + 100;
	g_assert_cmphex(cmos_read(rtc, REG_A), ==, 0x2f);
	rtc_free(rtc);
}

static void test_set_time(void)
{
	struct rtc *rtc = new_rtc(utc_us(2024, 5, 5, 5, 5, 5, 250000));

	/* What Linux's mc146818_set_time does: SET, write BCD fields, clear SET. */
	cmos_write(rtc, REG_B, B_SET | B_24H);
	cmos_write(rtc, SEC, 0x58);
	cmos_write(rtc, MIN, 0x59);
	cmos_write(rtc, HOUR, 0x23);
	cmos_write(rtc, DOM, 0x31);
	cmos_write(rtc, MON, 0x12);
	cmos_write(rtc, YEAR, 0x99);
	cmos_write(rtc, CMOS_CENTURY, 0x19);
	/* While SET is on the registers hold what was written; time stands still. */
	fake_now_us += 10 * G_USEC_PER_SEC;
	g_assert_cmphex(cmos_read(rtc, SEC), ==, 0x58);
	g_assert_cmphex(cmos_read(rtc, YEAR), ==, 0x99);
	cmos_write(rtc, REG_B, B_24H);

	assert_time(rtc, (struct rtc_time){ 0x58, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x19 });
	/* Three seconds later it is Saturday, 1 January 2000. */
	fake_now_us += 3 * G_USEC_PER_SEC;
	assert_time(rtc, (struct rtc_time){ 0x01, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
	/* A register reset keeps the time. */
	rtc_reset(rtc);
	assert_time(rtc, (struct rtc_time){ 0x01, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
	rtc_free(rtc);
}

static void test_set_time_format_switch(void)
{
	struct rtc *rtc = new_rtc(utc_us(2024, 5, 5, 5, 5, 5, 0));

	/* Written in BCD 24-hour; the write that clears SET also picks binary 12-hour. */
	cmos_write(rtc, REG_B, B_SET | B_24H);
	cmos_write(rtc, SEC, 0x00);
	cmos_write(rtc, MIN, 0x30);
	cmos_write(rtc, HOUR, 0x15);
	cmos_write(rtc, DOM, 0x04);
	cmos_write(rtc, MON, 0x07);
	cmos_write(rtc, YEAR, 0x21);
	cmos_write(rtc, CMOS_CENTURY, 0x20);
	cmos_write(rtc, REG_B, B_DM);
	/* 3:30:00 PM, Sunday 4 July 2021, read in the new format. */
	assert_time(rtc, (struct rtc_time){ 0, 30, 0x80 | 3, 1, 4, 7, 21, 20 });

	/* The other way: written in binary 12-hour, SET cleared into BCD 24-hour. */
	cmos_write(rtc, REG_B, B_SET | B_DM);
	cmos_write(rtc, SEC, 9);
	cmos_write(rtc, MIN, 8);
	cmos_write(rtc, HOUR, 0x80 | 12);	/* 12 PM = noon */
	cmos_write(rtc, DOM, 19);
	cmos_write(rtc, MON, 1);
	cmos_write(rtc, YEAR, 38);
	cmos_write(rtc, CMOS_CENTURY, 20);
	cmos_write(rtc, REG_B, B_24H);
	assert_time(rtc, (struct rtc_time){ 0x09, 0x08, 0x12, 0x03, 0x19, 0x01, 0x38, 0x20 });
	fake_now_us += 60 * G_USEC_PER_SEC;
	g_assert_cmphex(cmos_read(rtc, MIN), ==, 0x09);
	rtc_free(rtc);
}

static void test_set_without_century(void)
{
	struct rtc *rtc = new_rtc(utc_us(2024, 5, 5, 5, 5, 5, 0));

	/* A guest that never touches 0x32 and writes a zero there means this century. */
	cmos_write(rtc, REG_B, B_SET | B_24H);
	cmos_write(rtc, CMOS_CENTURY, 0x00);
	cmos_write(rtc, YEAR, 0x30);
	cmos_write(rtc, MON, 0x06);
	cmos_write(rtc, DOM, 0x15);
	cmos_write(rtc, REG_B, B_24H);
	g_assert_cmphex(cmos_read(rtc, YEAR), ==, 0x30);
	g_assert_cmphex(cmos_read(rtc, CMOS_CENTURY), ==, 0x20);
	g_assert_cmphex(cmos_read(rtc, MON), ==, 0x06);
	rtc_free(rtc);
}

static void test_status_registers(void)
{
	struct rtc *rtc = new_rtc(utc_us(2024, 1, 1, 0, 0, 0, 0));

	/* C: no interrupt flags (with the periodic rate off); reading clears; read-only. */
	cmos_write(rtc, REG_A, 0x20);
	cmos_read(rtc, REG_C);
	g_assert_cmphex(cmos_read(rtc, REG_C), ==, 0);
	cmos_write(rtc, REG_C, 0xf0);
	g_assert_cmphex(cmos_read(rtc, REG_C), ==, 0);
	/* D: VRT (the battery is fine); read-only. */
	cmos_write(rtc, REG_D, 0x00);
	g_assert_cmphex(cmos_read(rtc, REG_D), ==, 0x80);
	rtc_free(rtc);
}

/* The flags of disabled interrupts, as a guest polling register C sees them. */
static void test_flags_without_interrupts(void)
{
	struct rtc *rtc = new_rtc(utc_us(2024, 1, 1, 0, 0, 0, 100000));

	cmos_write(rtc, REG_A, 0x20);			/* no periodic rate */
	cmos_read(rtc, REG_C);
	g_assert_cmphex(cmos_read(rtc, REG_C), ==, 0);
	/* The next second: an update cycle ended (UF), no IRQF: UIE is off. */
	fake_now_us += G_USEC_PER_SEC;
	g_assert_cmphex(cmos_read(rtc, REG_C), ==, 0x10);
	g_assert_cmphex(cmos_read(rtc, REG_C), ==, 0);
	/* An alarm at 00:00:02 matches the next second: AF too. */
	cmos_write(rtc, 0x01, 0x02);
	cmos_write(rtc, 0x03, 0x00);
	cmos_write(rtc, 0x05, 0x00);
	fake_now_us += G_USEC_PER_SEC;
	g_assert_cmphex(cmos_read(rtc, REG_C), ==, 0x30);
	fake_now_us += G_USEC_PER_SEC;
	g_assert_cmphex(cmos_read(rtc, REG_C), ==, 0x10);	/* 00:00:03: no alarm */
	/* While SET holds the clock, no update cycles. */
	cmos_write(rtc, REG_B, B_24H | B_SET);
	fake_now_us += G_USEC_PER_SEC;
	g_assert_cmphex(cmos_read(rtc, REG_C), ==, 0);
	cmos_write(rtc, REG_B, B_24H);
	/* 1024 Hz periodic rate: after 5 ms, PF (host time). */
	cmos_write(rtc, REG_A, 0x26);
	cmos_read(rtc, REG_C);
	g_usleep(5000);
	g_assert_cmphex(cmos_read(rtc, REG_C) & 0x40, ==, 0x40);
	rtc_free(rtc);
}

/* --- interrupts, on real time: an IRQ line that records its level --- */

static gint irq_level, irq_rises;

static void record_irq(void *opaque, unsigned int gsi, bool level)
{
	g_assert_cmpuint(gsi, ==, RTC_GSI);
	if (level && !g_atomic_int_get(&irq_level))
		g_atomic_int_inc(&irq_rises);
	g_atomic_int_set(&irq_level, level);
}

static struct rtc *new_rtc_with_irq(struct timer_service *timers)
{
	struct rtc *rtc = rtc_new();

	g_atomic_int_set(&irq_level, 0);
	g_atomic_int_set(&irq_rises, 0);
	rtc_attach(rtc, (struct irq_line){ .set_level = record_irq, .gsi = RTC_GSI }, timers);
	return rtc;
}

/* Waits (up to timeout_ms) for IRQ 8; then register C is read, which must lower it. */
static uint8_t wait_irq_and_ack(struct rtc *rtc, unsigned int timeout_ms)
{
	uint8_t c;

	for (unsigned int ms = 0; !g_atomic_int_get(&irq_level); ms++) {
		if (ms >= timeout_ms)
			return 0;
		g_usleep(1000);
	}
	c = cmos_read(rtc, REG_C);
	g_assert_cmpint(g_atomic_int_get(&irq_level), ==, 0);
	return c;
}

static void test_periodic_interrupt(void)
{
	struct timer_service *timers = timer_service_new();
	struct rtc *rtc = new_rtc_with_irq(timers);
	int64_t start = g_get_monotonic_time(), elapsed_us;

	/* 32.768 kHz base, rate 10: 64 Hz; nothing comes before PIE is set. */
	cmos_write(rtc, REG_A, 0x2a);
	g_usleep(50000);
	g_assert_cmpint(g_atomic_int_get(&irq_rises), ==, 0);
	cmos_write(rtc, REG_B, B_24H | 0x40);
	/* IRQF | PF (UF may come too: the flags of disabled interrupts catch up on a read). */
	for (int i = 0; i < 8; i++)
		g_assert_cmphex(wait_irq_and_ack(rtc, 1000) & 0xe0, ==, 0xc0);
	elapsed_us = g_get_monotonic_time() - start;
	/* 8 ticks of 15.6 ms after 50 ms: at least 100 ms in all (and a loose upper bound). */
	g_assert_cmpint(elapsed_us, >=, 50000 + 8 * 15625 - 15625);
	g_assert_cmpint(elapsed_us, <, 5000000);
	/* Off again: no more interrupts; PF still comes (the chip sets it anyway), IRQF not. */
	cmos_write(rtc, REG_B, B_24H);
	cmos_read(rtc, REG_C);
	g_atomic_int_set(&irq_rises, 0);
	g_usleep(100000);
	g_assert_cmpint(g_atomic_int_get(&irq_rises), ==, 0);
	g_assert_cmphex(cmos_read(rtc, REG_C) & 0xc0, ==, 0x40);
	rtc_free(rtc);
	timer_service_free(timers);
}

static void test_update_and_alarm_interrupts(void)
{
	struct timer_service *timers = timer_service_new();
	struct rtc *rtc = new_rtc_with_irq(timers);
	uint8_t c;

	/* Update-ended only: once a second, with UF (no periodic rate, so no PF). */
	cmos_write(rtc, REG_A, 0x20);
	cmos_write(rtc, REG_B, B_24H | 0x10);
	g_assert_cmphex(wait_irq_and_ack(rtc, 2500) & 0xd0, ==, 0x90);	/* IRQF | UF */
	/* An alarm of "don't care" everywhere matches every second: AF too. */
	cmos_write(rtc, 0x01, 0xff);
	cmos_write(rtc, 0x03, 0xff);
	cmos_write(rtc, 0x05, 0xff);
	cmos_write(rtc, REG_B, B_24H | 0x20);
	c = wait_irq_and_ack(rtc, 2500);
	g_assert_cmphex(c & 0xa0, ==, 0xa0);				/* IRQF | AF */
	/* An alarm that cannot match (hour 25) with AIE alone: no interrupt. */
	cmos_write(rtc, 0x05, 0x25);
	g_atomic_int_set(&irq_rises, 0);
	g_usleep(1200000);
	g_assert_cmpint(g_atomic_int_get(&irq_rises), ==, 0);
	/* The machine's reset clears the enables and drops the line. */
	cmos_write(rtc, REG_B, B_24H | 0x10);
	for (int ms = 0; ms < 2500 && !g_atomic_int_get(&irq_level); ms++)
		g_usleep(1000);
	g_assert_cmpint(g_atomic_int_get(&irq_level), ==, 1);
	rtc_reset(rtc);
	g_assert_cmpint(g_atomic_int_get(&irq_level), ==, 0);
	g_assert_cmphex(cmos_read(rtc, REG_B) & 0x70, ==, 0);
	rtc_free(rtc);
	timer_service_free(timers);
}

static void test_index_port(void)
{
	struct rtc *rtc = new_rtc(utc_us(2024, 1, 1, 0, 0, 0, 0));

	/* Bit 7 of the index masks NMI; the register number is the low 7 bits. */
	rtc_bus_ops.write(rtc, 0, 0x80 | REG_D, 1);
	g_assert_cmphex(rtc_bus_ops.read(rtc, 1, 1), ==, 0x80);
	rtc_bus_ops.write(rtc, 0, 0x80 | REG_B, 1);
	g_assert_cmphex(rtc_bus_ops.read(rtc, 1, 1), ==, B_24H);
	/* The index register is write-only. */
	g_assert_cmphex(rtc_bus_ops.read(rtc, 0, 1), ==, 0xff);

	/* Plain CMOS RAM keeps what the guest stores, through a reset too. */
	cmos_write(rtc, 0x40, 0xa5);
	cmos_write(rtc, 0x7f, 0x5a);
	rtc_reset(rtc);
	g_assert_cmphex(cmos_read(rtc, 0x40), ==, 0xa5);
	g_assert_cmphex(cmos_read(rtc, 0x80 | 0x7f), ==, 0x5a);
	g_assert_cmphex(rtc_cmos_get(rtc, 0x40), ==, 0xa5);
	rtc_cmos_set(rtc, 0x41, 0x11);
	g_assert_cmphex(cmos_read(rtc, 0x41), ==, 0x11);
	rtc_free(rtc);
}

static unsigned int cmos16(struct rtc *rtc, uint8_t lo)
{
	return cmos_read(rtc, lo) | cmos_read(rtc, (uint8_t)(lo + 1)) << 8;
}

static void test_memory_fields(void)
{
	static const struct {
		uint64_t guest_bytes;
		unsigned int nr_cpus;
		unsigned int ext_kib, above_16m, above_4g;
	} cases[] = {
		/* 63 MiB above 1 MiB; 48 MiB above 16 MiB = 768 x 64 KiB. */
		{ 64ULL << 20, 1, 0xfc00, 0x0300, 0 },
		/* Capped at 0xffff KiB; 3 GiB - 16 MiB = 0xbf00 x 64 KiB; all below 4 GiB. */
		{ 3ULL << 30, 2, 0xffff, 0xbf00, 0 },
		/* 3 GiB below the PCI hole, 3 GiB above 4 GiB = 0xc000 x 64 KiB. */
		{ 6ULL << 30, 4, 0xffff, 0xbf00, 0xc000 },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rtc *rtc = new_rtc(0);
		uint64_t low = MIN(cases[i].guest_bytes, 0xc0000000ULL);

		rtc_set_memory_fields(rtc, low, cases[i].guest_bytes - low, cases[i].nr_cpus);
		g_assert_cmpuint(cmos16(rtc, CMOS_BASE_MEMORY_LO), ==, 640);
		g_assert_cmphex(cmos16(rtc, CMOS_EXT_MEMORY_LO), ==, cases[i].ext_kib);
		g_assert_cmphex(cmos16(rtc, CMOS_EXT_MEMORY2_LO), ==, cases[i].ext_kib);
		g_assert_cmphex(cmos16(rtc, CMOS_MEM_ABOVE_16M_LO), ==, cases[i].above_16m);
		g_assert_cmphex(cmos16(rtc, CMOS_MEM_ABOVE_4G_LO) | cmos_read(rtc, CMOS_MEM_ABOVE_4G_HI) << 16,
				==, cases[i].above_4g);
		g_assert_cmpuint(cmos_read(rtc, CMOS_NR_CPUS_MINUS_ONE), ==, cases[i].nr_cpus - 1);
		rtc_free(rtc);
	}
}

static void test_reset_keeps_format(void)
{
	struct rtc *rtc = new_rtc(utc_us(2024, 5, 5, 15, 5, 5, 0));

	/* The guest chose binary 12-hour and enabled update interrupts. */
	cmos_write(rtc, REG_B, B_DM | 0x10);
	rtc_reset(rtc);
	/* A machine reset does not touch the battery-backed format... */
	g_assert_cmphex(cmos_read(rtc, REG_B), ==, B_DM);
	/* ...so the hour still reads 3 PM in binary 12-hour form. */
	g_assert_cmphex(cmos_read(rtc, HOUR), ==, 0x80 | 3);
	rtc_free(rtc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/bcd", test_bcd);
	g_test_add_func("/rtc/binary", test_binary);
	g_test_add_func("/rtc/12-hour", test_12_hour);
	g_test_add_func("/rtc/update-in-progress", test_update_in_progress);
	g_test_add_func("/rtc/set-time", test_set_time);
	g_test_add_func("/rtc/set-time-format-switch", test_set_time_format_switch);
	g_test_add_func("/rtc/set-without-century", test_set_without_century);
	g_test_add_func("/rtc/status-registers", test_status_registers);
	g_test_add_func("/rtc/index-port", test_index_port);
	g_test_add_func("/rtc/flags-without-interrupts", test_flags_without_interrupts);
	g_test_add_func("/rtc/periodic-interrupt", test_periodic_interrupt);
	g_test_add_func("/rtc/update-and-alarm-interrupts", test_update_and_alarm_interrupts);
	g_test_add_func("/rtc/memory-fields", test_memory_fields);
	g_test_add_func("/rtc/reset-keeps-format", test_reset_keeps_format);
	return g_test_run();
}
