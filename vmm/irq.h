/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_IRQ_H
#define VESSEL_VMM_IRQ_H

#include <stdbool.h>

/*
 * An interrupt line from a device to the machine's interrupt controllers.
 * Devices drive the level; the machine routes GSI n to PIC input n (for
 * n < 16) and IOAPIC pin n, except GSI 0 which the MP table overrides to
 * IOAPIC pin 2 (the PC convention).  Devices never see the machine.
 */
struct irq_line {
	void (*set_level)(void *opaque, unsigned int gsi, bool level);
	void *opaque;
	unsigned int gsi;
};

static inline void irq_line_set(const struct irq_line *line, bool level)
{
	if (line->set_level)
		line->set_level(line->opaque, line->gsi, level);
}

#endif
