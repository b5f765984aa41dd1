/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cmos.h"
#include "io.h"

#define RTC_UIP_POLL_LIMIT	20000
#define RTC_READ_ATTEMPTS	10
#define RTC_HOUR_PM		0x80	/* 12-hour mode (MC146818A table 3) */

uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg & 0x7f);
	return inb(CMOS_DATA);
}

void cmos_write(uint8_t reg, uint8_t value)
{
	outb(CMOS_INDEX, reg & 0x7f);
	outb(CMOS_DATA, value);
}

struct rtc_raw {
	uint8_t second, minute, hour, day, month, year, century;
};

/*
 * MC146818A "Update cycle": with UIP clear, at least 244 us remain before
 * the registers change, enough for one pass over them.
 */
static bool rtc_read_raw(struct rtc_raw *r)
{
	int i;

	for (i = 0; i < RTC_UIP_POLL_LIMIT; i++) {
		if (!(cmos_read(CMOS_REG_A) & CMOS_REG_A_UIP))
			break;
	}
	if (i == RTC_UIP_POLL_LIMIT)
		return false;
	r->second = cmos_read(CMOS_SECONDS);
	r->minute = cmos_read(CMOS_MINUTES);
	r->hour = cmos_read(CMOS_HOURS);
	r->day = cmos_read(CMOS_DAY_OF_MONTH);
	r->month = cmos_read(CMOS_MONTH);
	r->year = cmos_read(CMOS_YEAR);
	r->century = cmos_read(CMOS_CENTURY);
	return true;
}

static unsigned int bcd_decode(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

static bool bcd_valid(uint8_t v)
{
	return (v >> 4) <= 9 && (v & 0x0f) <= 9;
}

bool rtc_read(struct rtc_time *t)
{
	struct rtc_raw a, b;
	bool binary, h24, pm;
	int attempt;

	/* The slow emulated path may straddle an update: compare two reads. */
	for (attempt = 0; attempt < RTC_READ_ATTEMPTS; attempt++) {
		if (!rtc_read_raw(&a) || !rtc_read_raw(&b))
			return false;
		if (a.second == b.second && a.minute == b.minute &&
		    a.hour == b.hour && a.day == b.day &&
		    a.month == b.month && a.year == b.year)
			break;
	}
	if (attempt == RTC_READ_ATTEMPTS)
		return false;

	t->reg_b = cmos_read(CMOS_REG_B);
	binary = t->reg_b & CMOS_REG_B_DM_BINARY;
	h24 = t->reg_b & CMOS_REG_B_24H;
	pm = !h24 && (a.hour & RTC_HOUR_PM);
	a.hour &= h24 ? 0xff : 0x7f;
	if (!binary) {
		if (!bcd_valid(a.second) || !bcd_valid(a.minute) ||
		    !bcd_valid(a.hour) || !bcd_valid(a.day) ||
		    !bcd_valid(a.month) || !bcd_valid(a.year))
			return false;
		a.second = bcd_decode(a.second);
		a.minute = bcd_decode(a.minute);
		a.hour = bcd_decode(a.hour);
		a.day = bcd_decode(a.day);
		a.month = bcd_decode(a.month);
		a.year = bcd_decode(a.year);
		a.century = bcd_valid(a.century) ? bcd_decode(a.century) : 0;
	}
	/* 12-hour mode: 12 AM is midnight, 12 PM noon. */
	if (!h24) {
		if (a.hour == 12)
			a.hour = 0;
		if (pm)
			a.hour += 12;
	}
	/* Register 0x32 is the PC century byte; trust it only if sane. */
	if (a.century < 19 || a.century > 21)
		a.century = 20;
	t->year = a.century * 100 + a.year;
	t->month = a.month;
	t->day = a.day;
	t->hour = a.hour;
	t->minute = a.minute;
	t->second = a.second;
	return t->second < 60 && t->minute < 60 && t->hour < 24 &&
	       t->day >= 1 && t->day <= 31 && t->month >= 1 &&
	       t->month <= 12 && a.year <= 99;
}

/*
 * Days from 1970-01-01 to the given civil date in the proleptic Gregorian
 * calendar, counting in 400-year eras that start on March 1st (the
 * "days_from_civil" method H. Hinnant describes in "chrono-Compatible
 * Low-Level Date Algorithms").
 */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

uint64_t rtc_to_unix(const struct rtc_time *t)
{
	int64_t days = days_from_civil(t->year, t->month, t->day);

	return (uint64_t)(days * 86400 + t->hour * 3600 + t->minute * 60 +
			  t->second);
}
