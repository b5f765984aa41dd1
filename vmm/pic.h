/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_PIC_H
#define VESSEL_VMM_PIC_H

#include <stdbool.h>

#include "bus.h"

/*
 * The pair of cascaded 8259A interrupt controllers of a PC (Intel 8259A data
 * sheet), for the software CPU (KVM has its own in the kernel): master at
 * 0x20-0x21 with the slave on input 2, slave at 0xa0-0xa1, and the edge/level
 * control registers (ELCR, 0x4d0-0x4d1).  ICW1-ICW4, OCW1-OCW3 (IRR/ISR
 * reads, poll mode, specific and non-specific EOI, rotation), auto-EOI,
 * special mask mode, spurious IRQ 7/15.
 */
#define PIC_MASTER_PORT		0x20
#define PIC_SLAVE_PORT		0xa0
#define PIC_ELCR_PORT		0x4d0

struct pic;

/* intr_changed: the master's INTR output went to `level` (to the CPU/LINT0). */
struct pic *pic_new(void (*intr_changed)(void *opaque, bool level), void *opaque);
void pic_free(struct pic *pic);
void pic_reset(struct pic *pic);

/* An ISA interrupt line, 0-15 (2 is the cascade and is never driven). */
void pic_set_irq(struct pic *pic, unsigned int irq, bool level);
/* The INTA cycle: the vector of the highest-priority request (spurious 7/15). */
unsigned int pic_acknowledge(struct pic *pic);
bool pic_intr_level(struct pic *pic);

extern const struct bus_ops pic_master_ops;	/* 2 ports at PIC_MASTER_PORT */
extern const struct bus_ops pic_slave_ops;	/* 2 ports at PIC_SLAVE_PORT */
extern const struct bus_ops pic_elcr_ops;	/* 2 ports at PIC_ELCR_PORT */

#endif
