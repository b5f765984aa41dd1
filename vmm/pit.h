/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_PIT_H
#define VESSEL_VMM_PIT_H

#include "bus.h"
#include "irq.h"
#include "timer.h"

/*
 * The 8254 programmable interval timer (Intel 8254 data sheet) at 0x40-0x43,
 * 1.193182 MHz, counting in host time, for the software CPU (KVM has its own):
 * all six modes, binary and BCD, LSB/MSB/word access, counter latch and
 * read-back commands, status bytes.  Channel 0 drives IRQ 0; channel 2's gate
 * and output are bits 0 and 5 of port 0x61 (NMI status and control), which
 * Linux uses to calibrate the TSC.
 */
#define PIT_PORT		0x40
#define PIT_PORT_COUNT		4
#define PIT_SPEAKER_PORT	0x61
#define PIT_FREQUENCY_HZ	1193182

struct pit;

struct pit *pit_new(struct timer_service *timers, struct irq_line irq0);
void pit_free(struct pit *pit);
void pit_reset(struct pit *pit);

extern const struct bus_ops pit_ops;		/* 4 ports at PIT_PORT */
extern const struct bus_ops pit_speaker_ops;	/* 1 port at PIT_SPEAKER_PORT */

#endif
