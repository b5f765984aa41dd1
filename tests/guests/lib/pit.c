/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pit.h"
#include "io.h"

/* Intel 8254 datasheet, control word: SC1-0, RW1-0, M2-0, BCD. */
#define PIT_SEL_CHANNEL0	0x00
#define PIT_RW_LOHI		0x30
#define PIT_MODE_0		0x00	/* interrupt on terminal count */
#define PIT_MODE_2		0x04	/* rate generator */

void pit_start_periodic(uint32_t hz)
{
	uint32_t divisor = (PIT_FREQ_HZ + hz / 2) / hz;

	if (divisor > 0xffff)
		divisor = 0;		/* 0 means 65536 */
	outb(PIT_COMMAND, PIT_SEL_CHANNEL0 | PIT_RW_LOHI | PIT_MODE_2);
	outb(PIT_CHANNEL0, divisor & 0xff);
	outb(PIT_CHANNEL0, divisor >> 8);
}

void pit_stop(void)
{
	/* Mode 0 holds OUT low until the count is written and runs out. */
	outb(PIT_COMMAND, PIT_SEL_CHANNEL0 | PIT_RW_LOHI | PIT_MODE_0);
}
