/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_CMOS_H
#define GUEST_CMOS_H

#include <stdbool.h>
#include <stdint.h>

#define CMOS_INDEX		0x70
#define CMOS_DATA		0x71

/* MC146818A registers (datasheet "Address map") and PC/AT CMOS bytes. */
#define CMOS_SECONDS		0x00
#define CMOS_MINUTES		0x02
#define CMOS_HOURS		0x04
#define CMOS_DAY_OF_MONTH	0x07
#define CMOS_MONTH		0x08
#define CMOS_YEAR		0x09
#define CMOS_REG_A		0x0a
#define CMOS_REG_B		0x0b
#define CMOS_REG_C		0x0c
#define CMOS_EXT_MEM_LOW_ALT	0x17	/* KiB above 1 MiB, low byte */
#define CMOS_EXT_MEM_HIGH_ALT	0x18
#define CMOS_EXT_MEM_LOW	0x30	/* same value again */
#define CMOS_EXT_MEM_HIGH	0x31
#define CMOS_CENTURY		0x32
#define CMOS_MEM_ABOVE_16M_LOW	0x34	/* 64 KiB units, below 4 GiB */
#define CMOS_MEM_ABOVE_16M_HIGH	0x35

#define CMOS_REG_A_UIP		0x80	/* update in progress */
#define CMOS_REG_B_24H		0x02
#define CMOS_REG_B_UIE		0x10	/* update-ended interrupt */
#define CMOS_REG_B_PIE		0x40	/* periodic interrupt */
#define CMOS_REG_C_IRQF		0x80
#define CMOS_REG_C_PF		0x40
#define CMOS_REG_C_UF		0x10
#define CMOS_IRQ		8
#define CMOS_REG_B_DM_BINARY	0x04

/* Reading and writing keep NMIs enabled (index bit 7 clear). */
uint8_t cmos_read(uint8_t reg);
void cmos_write(uint8_t reg, uint8_t value);

struct rtc_time {
	unsigned int year;	/* e.g. 2024 */
	unsigned int month;	/* 1-12 */
	unsigned int day;	/* 1-31 */
	unsigned int hour;	/* 0-23 */
	unsigned int minute;
	unsigned int second;
	uint8_t reg_b;		/* format the RTC used */
};

/*
 * Reads a consistent date and time: waits (bounded) for UIP to clear and
 * reads until two passes agree, then decodes BCD and 12-hour values.
 * Returns false if the clock never settled or holds nonsense.
 */
bool rtc_read(struct rtc_time *t);
/* Seconds since 1970-01-01 00:00:00 UTC. */
uint64_t rtc_to_unix(const struct rtc_time *t);

#endif
