/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rtc.h"

#include <glib.h>
#include <string.h>
#include <time.h>

#include "timer.h"

/* Register indices (MC146818A data sheet, "Address Map"). */
enum {
	RTC_SECONDS = 0x00,
	RTC_SECONDS_ALARM = 0x01,
	RTC_MINUTES = 0x02,
	RTC_MINUTES_ALARM = 0x03,
	RTC_HOURS = 0x04,
	RTC_HOURS_ALARM = 0x05,
	RTC_DAY_OF_WEEK = 0x06,
	RTC_DAY_OF_MONTH = 0x07,
	RTC_MONTH = 0x08,
	RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a,
	RTC_REG_B = 0x0b,
	RTC_REG_C = 0x0c,
	RTC_REG_D = 0x0d,
};

#define REG_A_UIP	0x80
#define REG_A_DEFAULT	0x26	/* 32.768 kHz time base, 1024 Hz periodic rate */
#define REG_B_SET	0x80
#define REG_B_DM_BINARY	0x04
#define REG_B_24H	0x02
#define REG_B_DEFAULT	REG_B_24H
#define REG_B_INTERRUPT_ENABLES	0x78	/* PIE, AIE, UIE, SQWE */
#define REG_B_PIE	0x40	/* periodic interrupt */
#define REG_B_AIE	0x20	/* alarm interrupt */
#define REG_B_UIE	0x10	/* update-ended interrupt */
#define REG_C_IRQF	0x80	/* an enabled flag below is set: IRQ 8 asserted */
#define REG_C_PF	0x40
#define REG_C_AF	0x20
#define REG_C_UF	0x10
#define ALARM_DONT_CARE	0xc0	/* an alarm byte of 0xC0-0xFF matches every value */
#define REG_D_VRT	0x80	/* valid RAM and time: the battery is fine */
#define INDEX_MASK	0x7f

/* The update cycle takes 1984 us, announced 244 us ahead by UIP (data sheet). */
#define UIP_WINDOW_US	(244 + 1984)

struct rtc {
	GMutex lock;
	uint8_t cmos[RTC_CMOS_SIZE];
	uint8_t index;
	int64_t offset_s;		/* guest time = host time + offset */
	int64_t frozen_s;		/* guest time while SET is on */
	int64_t (*now_us)(void);
	/* Interrupts (rtc_attach): a timer runs while one is enabled. */
	struct irq_line irq;
	struct timer *timer;
	int64_t next_periodic_ns;	/* timer_now_ns() of the next periodic tick */
	int64_t next_update_ns;		/* ... of the next update cycle's end */
	bool irq_level;
	/* When register C was last read: flags of disabled interrupts catch up then. */
	int64_t c_read_us, c_read_ns;
};

static int64_t host_now_us(void)
{
	return g_get_real_time();
}

static uint8_t to_bcd(unsigned int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned int from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t encode(const struct rtc *rtc, unsigned int v)
{
	return (rtc->cmos[RTC_REG_B] & REG_B_DM_BINARY) ? (uint8_t)v : to_bcd(v);
}

static unsigned int decode(const struct rtc *rtc, uint8_t v)
{
	return (rtc->cmos[RTC_REG_B] & REG_B_DM_BINARY) ? v : from_bcd(v);
}

static uint8_t encode_hour(const struct rtc *rtc, unsigned int hour)
{
	if (rtc->cmos[RTC_REG_B] & REG_B_24H)
		return encode(rtc, hour);
	/* 12-hour mode: 12, 1..11 with bit 7 as PM. */
	return (uint8_t)(encode(rtc, hour % 12 ? hour % 12 : 12) | (hour >= 12 ? 0x80 : 0));
}

static unsigned int decode_hour(const struct rtc *rtc, uint8_t v)
{
	unsigned int hour;

	if (rtc->cmos[RTC_REG_B] & REG_B_24H)
		return decode(rtc, v);
	hour = decode(rtc, v & 0x7f) % 12;
	return (v & 0x80) ? hour + 12 : hour;
}

static int64_t guest_seconds(const struct rtc *rtc)
{
	if (rtc->cmos[RTC_REG_B] & REG_B_SET)
		return rtc->frozen_s;
	return rtc->now_us() / G_USEC_PER_SEC + rtc->offset_s;
}

/* Writes the current guest time into the time registers. */
static void latch_time(struct rtc *rtc)
{
	time_t t = (time_t)guest_seconds(rtc);
	struct tm tm;

	gmtime_r(&t, &tm);
	rtc->cmos[RTC_SECONDS] = encode(rtc, (unsigned int)tm.tm_sec);
	rtc->cmos[RTC_MINUTES] = encode(rtc, (unsigned int)tm.tm_min);
	rtc->cmos[RTC_HOURS] = encode_hour(rtc, (unsigned int)tm.tm_hour);
	rtc->cmos[RTC_DAY_OF_WEEK] = encode(rtc, (unsigned int)tm.tm_wday + 1);
	rtc->cmos[RTC_DAY_OF_MONTH] = encode(rtc, (unsigned int)tm.tm_mday);
	rtc->cmos[RTC_MONTH] = encode(rtc, (unsigned int)tm.tm_mon + 1);
	rtc->cmos[RTC_YEAR] = encode(rtc, (unsigned int)(tm.tm_year % 100));
	rtc->cmos[CMOS_CENTURY] = encode(rtc, (unsigned int)(1900 + tm.tm_year) / 100);
}

/* The guest finished setting the clock: remember its offset from host time. */
static void commit_time(struct rtc *rtc)
{
	struct tm tm = { 0 };
	unsigned int year = decode(rtc, rtc->cmos[RTC_YEAR]) + 100 * decode(rtc, rtc->cmos[CMOS_CENTURY]);
	time_t t;

	tm.tm_sec = (int)decode(rtc, rtc->cmos[RTC_SECONDS]);
	tm.tm_min = (int)decode(rtc, rtc->cmos[RTC_MINUTES]);
	tm.tm_hour = (int)decode_hour(rtc, rtc->cmos[RTC_HOURS]);
	tm.tm_mday = (int)decode(rtc, rtc->cmos[RTC_DAY_OF_MONTH]);
	tm.tm_mon = (int)decode(rtc, rtc->cmos[RTC_MONTH]) - 1;
	/* A guest that leaves the century register alone means this century. */
	if (year < 1970)
		year = 2000 + year % 100;
	tm.tm_year = (int)year - 1900;
	t = timegm(&tm);
	if (t != (time_t)-1)
		rtc->offset_s = (int64_t)t - rtc->now_us() / G_USEC_PER_SEC;
}

static bool update_in_progress(const struct rtc *rtc)
{
	int64_t us_into_second = rtc->now_us() % G_USEC_PER_SEC;

	if (rtc->cmos[RTC_REG_B] & REG_B_SET)
		return false;
	return us_into_second >= G_USEC_PER_SEC - UIP_WINDOW_US;
}

/* --- interrupts (data sheet "Interrupts"; register C) --- */

/* The periodic interrupt's period from register A's rate select, 0: none. */
static int64_t periodic_ns(const struct rtc *rtc)
{
	unsigned int rs = rtc->cmos[RTC_REG_A] & 0x0f, dv = (rtc->cmos[RTC_REG_A] >> 4) & 7;

	/* Only the 32.768 kHz time base (divider 010) runs the chain. */
	if (rs == 0 || dv != 2)
		return 0;
	/* Rates 1 and 2 are 256 and 128 Hz; rate n >= 3 is 65536 >> n Hz. */
	if (rs < 3)
		rs += 7;
	return (int64_t)(G_GINT64_CONSTANT(1000000000) << rs) / 65536;
}

/* IRQF and IRQ 8 follow the flags that are enabled (level: until register C is read). */
static void update_irq(struct rtc *rtc)
{
	uint8_t c = rtc->cmos[RTC_REG_C] & (uint8_t)~REG_C_IRQF;
	bool level = c & rtc->cmos[RTC_REG_B] & (REG_B_PIE | REG_B_AIE | REG_B_UIE);

	rtc->cmos[RTC_REG_C] = (uint8_t)(c | (level ? REG_C_IRQF : 0));
	if (level != rtc->irq_level) {
		rtc->irq_level = level;
		irq_line_set(&rtc->irq, level);
	}
}

static bool alarm_matches(const struct rtc *rtc)
{
	static const unsigned int pairs[][2] = {
		{ RTC_SECONDS_ALARM, RTC_SECONDS }, { RTC_MINUTES_ALARM, RTC_MINUTES }, { RTC_HOURS_ALARM, RTC_HOURS },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(pairs); i++) {
		uint8_t alarm = rtc->cmos[pairs[i][0]];

		if ((alarm & ALARM_DONT_CARE) != ALARM_DONT_CARE && alarm != rtc->cmos[pairs[i][1]])
			return false;
	}
	return true;
}

/* Host time of the end of the update cycle that starts the next guest second. */
static int64_t next_update_ns(const struct rtc *rtc)
{
	int64_t us = rtc->now_us(), into = us % G_USEC_PER_SEC;

	return timer_now_ns() + (G_USEC_PER_SEC - into) * 1000;
}

/*
 * Arms the timer for the next event an enabled interrupt needs: periodic
 * ticks while PIE is set, update cycles while UIE or AIE is (the clock
 * runs).  The flags of disabled interrupts catch up when register C is
 * read (catch_up_flags).
 */
static void schedule(struct rtc *rtc)
{
	uint8_t b = rtc->cmos[RTC_REG_B];
	int64_t period = periodic_ns(rtc), now = timer_now_ns(), deadline = INT64_MAX;

	if (!rtc->timer)
		return;
	if ((b & REG_B_PIE) && period) {
		if (rtc->next_periodic_ns <= 0)
			rtc->next_periodic_ns = now + period;
		deadline = rtc->next_periodic_ns;
	} else {
		rtc->next_periodic_ns = 0;
	}
	if ((b & (REG_B_UIE | REG_B_AIE)) && !(b & REG_B_SET)) {
		if (rtc->next_update_ns <= 0)
			rtc->next_update_ns = next_update_ns(rtc);
		deadline = MIN(deadline, rtc->next_update_ns);
	} else {
		rtc->next_update_ns = 0;
	}
	if (deadline == INT64_MAX)
		timer_cancel(rtc->timer);
	else
		timer_arm_ns(rtc->timer, deadline);
}

static void rtc_timer(void *opaque)
{
	struct rtc *rtc = opaque;
	int64_t now, period;

	g_mutex_lock(&rtc->lock);
	now = timer_now_ns();
	period = periodic_ns(rtc);
	if (rtc->next_periodic_ns > 0 && now >= rtc->next_periodic_ns && period) {
		rtc->cmos[RTC_REG_C] |= REG_C_PF;
		/* Ticks the guest could not see (a busy host) are one tick late, not many. */
		rtc->next_periodic_ns += period;
		if (rtc->next_periodic_ns <= now)
			rtc->next_periodic_ns = now + period;
	}
	if (rtc->next_update_ns > 0 && now >= rtc->next_update_ns) {
		rtc->cmos[RTC_REG_C] |= REG_C_UF;
		latch_time(rtc);
		if (alarm_matches(rtc))
			rtc->cmos[RTC_REG_C] |= REG_C_AF;
		rtc->next_update_ns = next_update_ns(rtc);
		/* Just past the boundary the host clock may not have moved on: at least 0.5 s. */
		if (rtc->next_update_ns < now + 500000000)
			rtc->next_update_ns += 1000000000;
	}
	update_irq(rtc);
	schedule(rtc);
	g_mutex_unlock(&rtc->lock);
}

/*
 * The chip sets PF, UF and AF whether their interrupts are enabled or not.
 * For disabled ones nothing runs in the background: when register C is
 * read, a periodic tick or a new second since the last read sets PF or UF,
 * and AF is set when the alarm matches the time of the read.
 */
static void catch_up_flags(struct rtc *rtc)
{
	int64_t us = rtc->now_us(), ns = timer_now_ns(), period = periodic_ns(rtc);

	if (!(rtc->cmos[RTC_REG_B] & REG_B_SET) && us / G_USEC_PER_SEC != rtc->c_read_us / G_USEC_PER_SEC) {
		rtc->cmos[RTC_REG_C] |= REG_C_UF;
		latch_time(rtc);
		if (alarm_matches(rtc))
			rtc->cmos[RTC_REG_C] |= REG_C_AF;
	}
	if (period && ns - rtc->c_read_ns >= period)
		rtc->cmos[RTC_REG_C] |= REG_C_PF;
	rtc->c_read_us = us;
	rtc->c_read_ns = ns;
}

void rtc_attach(struct rtc *rtc, struct irq_line irq, struct timer_service *timers)
{
	g_mutex_lock(&rtc->lock);
	rtc->irq = irq;
	rtc->timer = timer_new(timers, rtc_timer, rtc);
	g_mutex_unlock(&rtc->lock);
}

static void rtc_power_on(struct rtc *rtc)
{
	rtc->cmos[RTC_REG_A] = REG_A_DEFAULT;
	rtc->cmos[RTC_REG_B] = REG_B_DEFAULT;
	rtc->cmos[RTC_REG_D] = REG_D_VRT;
}

struct rtc *rtc_new(void)
{
	struct rtc *rtc = g_new0(struct rtc, 1);

	g_mutex_init(&rtc->lock);
	rtc->now_us = host_now_us;
	rtc->c_read_us = host_now_us();
	rtc->c_read_ns = timer_now_ns();
	rtc_power_on(rtc);
	return rtc;
}

void rtc_free(struct rtc *rtc)
{
	if (!rtc)
		return;
	if (rtc->timer)
		timer_free(rtc->timer);
	g_mutex_clear(&rtc->lock);
	g_free(rtc);
}

/* The chip's RESET pin (the machine reset) clears the interrupt enables and
 * flags; the battery keeps the time and the data format (MC146818A, "RESET"). */
void rtc_reset(struct rtc *rtc)
{
	g_mutex_lock(&rtc->lock);
	rtc->index = 0;
	rtc->cmos[RTC_REG_B] &= (uint8_t)~REG_B_INTERRUPT_ENABLES;
	rtc->cmos[RTC_REG_C] = 0;
	rtc->cmos[RTC_REG_D] = REG_D_VRT;
	update_irq(rtc);
	schedule(rtc);
	g_mutex_unlock(&rtc->lock);
}

void rtc_cmos_set(struct rtc *rtc, unsigned int index, uint8_t value)
{
	g_mutex_lock(&rtc->lock);
	rtc->cmos[index & INDEX_MASK] = value;
	g_mutex_unlock(&rtc->lock);
}

uint8_t rtc_cmos_get(struct rtc *rtc, unsigned int index)
{
	uint8_t value;

	g_mutex_lock(&rtc->lock);
	value = rtc->cmos[index & INDEX_MASK];
	g_mutex_unlock(&rtc->lock);
	return value;
}

void rtc_set_clock(struct rtc *rtc, int64_t (*now_us)(void))
{
	g_mutex_lock(&rtc->lock);
	rtc->now_us = now_us;
	rtc->c_read_us = now_us();
	g_mutex_unlock(&rtc->lock);
}

void rtc_set_memory_fields(struct rtc *rtc, uint64_t low_ram_bytes, uint64_t high_ram_bytes,
			   unsigned int nr_cpus)
{
	uint64_t ext_kib = low_ram_bytes > (1ULL << 20) ? (low_ram_bytes - (1ULL << 20)) >> 10 : 0;
	uint64_t above_16m = low_ram_bytes > (16ULL << 20) ? (low_ram_bytes - (16ULL << 20)) >> 16 : 0;
	uint64_t above_4g = high_ram_bytes >> 16;

	ext_kib = MIN(ext_kib, 0xffff);
	above_16m = MIN(above_16m, 0xffff);
	rtc_cmos_set(rtc, CMOS_BASE_MEMORY_LO, 640 & 0xff);
	rtc_cmos_set(rtc, CMOS_BASE_MEMORY_HI, 640 >> 8);
	rtc_cmos_set(rtc, CMOS_EXT_MEMORY_LO, ext_kib & 0xff);
	rtc_cmos_set(rtc, CMOS_EXT_MEMORY_HI, (uint8_t)(ext_kib >> 8));
	rtc_cmos_set(rtc, CMOS_EXT_MEMORY2_LO, ext_kib & 0xff);
	rtc_cmos_set(rtc, CMOS_EXT_MEMORY2_HI, (uint8_t)(ext_kib >> 8));
	rtc_cmos_set(rtc, CMOS_MEM_ABOVE_16M_LO, above_16m & 0xff);
	rtc_cmos_set(rtc, CMOS_MEM_ABOVE_16M_HI, (uint8_t)(above_16m >> 8));
	rtc_cmos_set(rtc, CMOS_MEM_ABOVE_4G_LO, above_4g & 0xff);
	rtc_cmos_set(rtc, CMOS_MEM_ABOVE_4G_MID, (uint8_t)(above_4g >> 8));
	rtc_cmos_set(rtc, CMOS_MEM_ABOVE_4G_HI, (uint8_t)(above_4g >> 16));
	rtc_cmos_set(rtc, CMOS_NR_CPUS_MINUS_ONE, (uint8_t)(nr_cpus - 1));
}

static uint8_t rtc_read_data(struct rtc *rtc)
{
	unsigned int index = rtc->index;
	uint8_t value;

	switch (index) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case CMOS_CENTURY:
		if (!(rtc->cmos[RTC_REG_B] & REG_B_SET))
			latch_time(rtc);
		return rtc->cmos[index];
	case RTC_REG_A:
		return (uint8_t)((rtc->cmos[RTC_REG_A] & ~REG_A_UIP) |
				 (update_in_progress(rtc) ? REG_A_UIP : 0));
	case RTC_REG_C:
		catch_up_flags(rtc);
		/* Reading acknowledges: the flags clear and IRQ 8 drops. */
		value = rtc->cmos[RTC_REG_C];
		rtc->cmos[RTC_REG_C] = 0;
		update_irq(rtc);
		return value;
	default:
		return rtc->cmos[index];
	}
}

static void rtc_write_data(struct rtc *rtc, uint8_t value)
{
	unsigned int index = rtc->index;

	switch (index) {
	case RTC_REG_A:
		/* UIP is read-only. */
		rtc->cmos[RTC_REG_A] = (uint8_t)((value & ~REG_A_UIP) | (rtc->cmos[RTC_REG_A] & REG_A_UIP));
		rtc->next_periodic_ns = 0;	/* a new rate starts now */
		schedule(rtc);
		return;
	case RTC_REG_B:
		if ((value & REG_B_SET) && !(rtc->cmos[RTC_REG_B] & REG_B_SET)) {
			/* Freeze the clock; the guest now writes the time registers. */
			latch_time(rtc);
			rtc->frozen_s = guest_seconds(rtc);
			rtc->cmos[RTC_REG_B] = value;
		} else if (!(value & REG_B_SET) && (rtc->cmos[RTC_REG_B] & REG_B_SET)) {
			/* Decode in the format the guest wrote in, then switch. */
			commit_time(rtc);
			rtc->cmos[RTC_REG_B] = value;
		} else {
			rtc->cmos[RTC_REG_B] = value;
		}
		schedule(rtc);
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return;	/* read-only */
	default:
		rtc->cmos[index] = value;
		return;
	}
}

static uint64_t rtc_bus_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct rtc *rtc = opaque;
	uint8_t value;

	if (offset == 0)
		return 0xff;	/* the index register is write-only */
	g_mutex_lock(&rtc->lock);
	value = rtc_read_data(rtc);
	g_mutex_unlock(&rtc->lock);
	return value;
}

static void rtc_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct rtc *rtc = opaque;

	g_mutex_lock(&rtc->lock);
	if (offset == 0)
		rtc->index = value & INDEX_MASK;	/* bit 7 masks NMI, which we never raise */
	else
		rtc_write_data(rtc, (uint8_t)value);
	g_mutex_unlock(&rtc->lock);
}

const struct bus_ops rtc_bus_ops = {
	.read = rtc_bus_read,
	.write = rtc_bus_write,
};
