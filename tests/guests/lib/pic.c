/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pic.h"
#include "io.h"

/* Intel 8259A datasheet: initialization and operation command words. */
#define ICW1_ICW4	0x01
#define ICW1_INIT	0x10
#define ICW4_8086	0x01
#define OCW2_EOI	0x20	/* non-specific end of interrupt */
#define OCW3_READ_ISR	0x0b
#define PIC_CASCADE_IRQ	2

void pic_init(void)
{
	/* ICW1-ICW4 for each chip: edge triggered, cascaded, 8086 mode. */
	outb(PIC_MASTER_CMD, ICW1_INIT | ICW1_ICW4);
	outb(PIC_MASTER_DATA, PIC_MASTER_VECTOR);
	outb(PIC_MASTER_DATA, 1 << PIC_CASCADE_IRQ);	/* slave on IR2 */
	outb(PIC_MASTER_DATA, ICW4_8086);
	outb(PIC_SLAVE_CMD, ICW1_INIT | ICW1_ICW4);
	outb(PIC_SLAVE_DATA, PIC_SLAVE_VECTOR);
	outb(PIC_SLAVE_DATA, PIC_CASCADE_IRQ);		/* slave identity */
	outb(PIC_SLAVE_DATA, ICW4_8086);
	pic_mask_all();
}

void pic_mask_all(void)
{
	outb(PIC_MASTER_DATA, 0xff);
	outb(PIC_SLAVE_DATA, 0xff);
}

void pic_mask(unsigned int irq)
{
	uint16_t port = irq < 8 ? PIC_MASTER_DATA : PIC_SLAVE_DATA;

	outb(port, inb(port) | (1 << (irq & 7)));
}

void pic_unmask(unsigned int irq)
{
	uint16_t port = irq < 8 ? PIC_MASTER_DATA : PIC_SLAVE_DATA;

	outb(port, inb(port) & ~(1 << (irq & 7)));
	/* Slave interrupts pass through the master's IR2. */
	if (irq >= 8)
		outb(PIC_MASTER_DATA,
		     inb(PIC_MASTER_DATA) & ~(1 << PIC_CASCADE_IRQ));
}

void pic_eoi(unsigned int irq)
{
	if (irq >= 8)
		outb(PIC_SLAVE_CMD, OCW2_EOI);
	outb(PIC_MASTER_CMD, OCW2_EOI);
}

uint16_t pic_read_isr(void)
{
	outb(PIC_MASTER_CMD, OCW3_READ_ISR);
	outb(PIC_SLAVE_CMD, OCW3_READ_ISR);
	return inb(PIC_MASTER_CMD) | (inb(PIC_SLAVE_CMD) << 8);
}

uint16_t pic_read_imr(void)
{
	return inb(PIC_MASTER_DATA) | (inb(PIC_SLAVE_DATA) << 8);
}
