/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H

#include <stdint.h>

/* The two cascaded 8259As of the PC/AT. */
#define PIC_MASTER_CMD		0x20
#define PIC_MASTER_DATA		0x21
#define PIC_SLAVE_CMD		0xa0
#define PIC_SLAVE_DATA		0xa1

/* Where pic_init moves IRQ 0-15: clear of the exception vectors. */
#define PIC_MASTER_VECTOR	0x20
#define PIC_SLAVE_VECTOR	0x28

/* Initialise both PICs (vectors 0x20-0x2f), every IRQ masked. */
void pic_init(void);
void pic_mask(unsigned int irq);
void pic_unmask(unsigned int irq);
void pic_mask_all(void);
void pic_eoi(unsigned int irq);
/* In-service register (OCW3), slave in the high byte. */
uint16_t pic_read_isr(void);
uint16_t pic_read_imr(void);

#endif
