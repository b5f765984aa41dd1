/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_PIT_H
#define GUEST_PIT_H

#include <stdint.h>

#define PIT_CHANNEL0	0x40
#define PIT_COMMAND	0x43
#define PIT_IRQ		0	/* ISA IRQ of channel 0 */
#define PIT_FREQ_HZ	1193182

/* Channel 0 in mode 2 (rate generator) at about hz interrupts a second. */
void pit_start_periodic(uint32_t hz);
/* Channel 0 in mode 0 with count 0: its output stays low, no more IRQs. */
void pit_stop(void);

#endif
