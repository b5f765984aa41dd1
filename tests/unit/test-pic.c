/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 8259A pair as guests program it: through its ports, with the CPU side
 * (INTR, INTA) played by the test.  Every check is what a guest would see:
 * which vector its handler runs for, what IRR/ISR/poll reads return.
 */
#include <glib.h>

#include "pic.h"

struct cpu {
	bool intr;
	int rises;
	int changes;
};

static void intr_changed(void *opaque, bool level)
{
	struct cpu *cpu = opaque;

	if (level && !cpu->intr)
		cpu->rises++;
	cpu->intr = level;
	cpu->changes++;
}

static void outb(struct pic *pic, uint16_t port, uint8_t value)
{
	if (port >= PIC_ELCR_PORT)
		pic_elcr_ops.write(pic, port - PIC_ELCR_PORT, value, 1);
	else if (port >= PIC_SLAVE_PORT)
		pic_slave_ops.write(pic, port - PIC_SLAVE_PORT, value, 1);
	else
		pic_master_ops.write(pic, port - PIC_MASTER_PORT, value, 1);
}

static uint8_t inb(struct pic *pic, uint16_t port)
{
	if (port >= PIC_ELCR_PORT)
		return (uint8_t)pic_elcr_ops.read(pic, port - PIC_ELCR_PORT, 1);
	if (port >= PIC_SLAVE_PORT)
		return (uint8_t)pic_slave_ops.read(pic, port - PIC_SLAVE_PORT, 1);
	return (uint8_t)pic_master_ops.read(pic, port - PIC_MASTER_PORT, 1);
}

/* ICW1-ICW4 for both chips, cascade on IR2, as a BIOS and Linux do. */
static void init_pair(struct pic *pic, uint8_t master_base, uint8_t slave_base, uint8_t icw4)
{
	outb(pic, 0x20, 0x11);		/* ICW1: edge, cascade, ICW4 follows */
	outb(pic, 0x21, master_base);	/* ICW2 */
	outb(pic, 0x21, 0x04);		/* ICW3: slave on IR2 */
	outb(pic, 0x21, icw4);		/* ICW4: 8086 mode (+ AEOI) */
	outb(pic, 0xa0, 0x11);
	outb(pic, 0xa1, slave_base);
	outb(pic, 0xa1, 0x02);		/* ICW3: slave ID 2 */
	outb(pic, 0xa1, icw4);
}

static struct pic *new_pic(struct cpu *cpu)
{
	struct pic *pic = pic_new(intr_changed, cpu);

	*cpu = (struct cpu){ 0 };
	init_pair(pic, 0x20, 0x28, 0x01);
	outb(pic, 0x21, 0x00);
	outb(pic, 0xa1, 0x00);
	return pic;
}

static void pulse(struct pic *pic, unsigned int irq)
{
	pic_set_irq(pic, irq, true);
	pic_set_irq(pic, irq, false);
}

static uint8_t read_isr(struct pic *pic, uint16_t port)
{
	outb(pic, port, 0x0b);		/* OCW3: read ISR */
	return inb(pic, port);
}

static uint8_t read_irr(struct pic *pic, uint16_t port)
{
	outb(pic, port, 0x0a);		/* OCW3: read IRR */
	return inb(pic, port);
}

static void test_reset_state(void)
{
	struct cpu cpu = { 0 };
	struct pic *pic = pic_new(intr_changed, &cpu);

	/* Before any ICW1 nothing reaches the CPU, even with a line high. */
	pic_set_irq(pic, 1, true);
	g_assert_false(cpu.intr);
	g_assert_cmphex(inb(pic, 0x21), ==, 0xff);
	pic_free(pic);
}

static void test_linux_init(void)
{
	struct cpu cpu = { 0 };
	struct pic *pic = pic_new(intr_changed, &cpu);

	/* Linux's init_8259A(): mask all, ICWs with vectors 0x30/0x38, then unmask. */
	outb(pic, 0x21, 0xff);
	outb(pic, 0xa1, 0xff);
	g_assert_cmphex(inb(pic, 0x21), ==, 0xff);	/* probe_8259A reads this back */
	init_pair(pic, 0x30, 0x38, 0x01);
	g_assert_cmphex(inb(pic, 0x21), ==, 0x00);	/* ICW1 cleared the mask */
	outb(pic, 0x21, 0xfb);
	outb(pic, 0xa1, 0xff);

	pulse(pic, 0);
	g_assert_false(cpu.intr);			/* masked */
	outb(pic, 0x21, 0xfa);
	g_assert_true(cpu.intr);			/* the request waited in IRR */
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x30);
	g_assert_false(cpu.intr);
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x01);
	outb(pic, 0x20, 0x20);				/* non-specific EOI */
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x00);
	pic_free(pic);
}

static void test_bios_remap(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	/* Vectors 0x20-0x2f as a protected-mode BIOS or OS remaps them. */
	pulse(pic, 1);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x21);
	outb(pic, 0x20, 0x20);
	pulse(pic, 14);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x2e);
	pic_free(pic);
}

static void test_priority_and_nesting(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	pulse(pic, 3);
	pulse(pic, 1);
	g_assert_cmphex(read_irr(pic, 0x20), ==, 0x0a);
	/* IR1 outranks IR3. */
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x21);
	/* IR3 is lower than IR1 in service: INTR stays low until EOI. */
	g_assert_false(cpu.intr);
	pulse(pic, 0);
	g_assert_true(cpu.intr);			/* IR0 may nest */
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x20);
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x03);
	outb(pic, 0x20, 0x20);				/* EOI clears the highest: IR0 */
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x02);
	g_assert_false(cpu.intr);
	outb(pic, 0x20, 0x20);
	g_assert_true(cpu.intr);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x23);
	outb(pic, 0x20, 0x63);				/* specific EOI for IR3 */
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x00);
	pic_free(pic);
}

static void test_specific_eoi(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	pulse(pic, 5);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x25);
	pulse(pic, 4);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x24);
	/* Specific EOI for the lower level leaves the higher one in service. */
	outb(pic, 0x20, 0x65);
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x10);
	outb(pic, 0x20, 0x64);
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x00);
	pic_free(pic);
}

static void test_cascade(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	/* IRQ 10 goes out through the slave and the master's IR2. */
	pic_set_irq(pic, 10, true);
	g_assert_true(cpu.intr);
	g_assert_cmphex(read_irr(pic, 0x20), ==, 0x04);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x2a);
	g_assert_cmphex(read_isr(pic, 0xa0), ==, 0x04);
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x04);
	pic_set_irq(pic, 10, false);

	/* While the slave is in service, another slave IRQ waits (fully nested). */
	pulse(pic, 9);
	g_assert_false(cpu.intr);
	/* The guest's handler EOIs the slave, then the master. */
	outb(pic, 0xa0, 0x20);
	g_assert_false(cpu.intr);
	outb(pic, 0x20, 0x20);
	g_assert_true(cpu.intr);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x29);

	/* Masking IR2 on the master hides the whole slave. */
	outb(pic, 0xa0, 0x20);
	outb(pic, 0x20, 0x20);
	outb(pic, 0x21, 0x04);
	pulse(pic, 12);
	g_assert_false(cpu.intr);
	outb(pic, 0x21, 0x00);
	g_assert_true(cpu.intr);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x2c);
	pic_free(pic);
}

static void test_cascade_priority(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	/* Slave IRQs rank where IR2 does: above IR3, below IR1. */
	pulse(pic, 3);
	pulse(pic, 8);
	pulse(pic, 1);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x21);
	outb(pic, 0x20, 0x20);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x28);
	outb(pic, 0xa0, 0x20);
	outb(pic, 0x20, 0x20);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x23);
	pic_free(pic);
}

static void test_auto_eoi(void)
{
	struct cpu cpu = { 0 };
	struct pic *pic = pic_new(intr_changed, &cpu);

	init_pair(pic, 0x20, 0x28, 0x03);	/* ICW4: 8086, auto-EOI */
	outb(pic, 0x21, 0x00);
	outb(pic, 0xa1, 0x00);
	pulse(pic, 4);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x24);
	/* No EOI needed: nothing stays in service, the next IRQ comes at once. */
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x00);
	pulse(pic, 6);
	g_assert_true(cpu.intr);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x26);
	pic_free(pic);
}

static void test_rotation(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	/* Rotate on non-specific EOI: the serviced level drops to the bottom. */
	pulse(pic, 1);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x21);
	outb(pic, 0x20, 0xa0);
	pulse(pic, 1);
	pulse(pic, 5);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x25);
	outb(pic, 0x20, 0x20);

	/* Set priority: IR4 lowest, so IR5 is highest. */
	outb(pic, 0x20, 0xc4);
	pulse(pic, 0);
	pulse(pic, 5);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x25);
	outb(pic, 0x20, 0x20);
	/* Nesting follows the rotated order: with IR6 in service, IR0 now ranks lower. */
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x20);
	outb(pic, 0x20, 0x20);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x21);	/* the IR1 left pending */
	outb(pic, 0x20, 0x20);
	pulse(pic, 6);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x26);
	pulse(pic, 0);
	g_assert_false(cpu.intr);
	pulse(pic, 5);
	g_assert_true(cpu.intr);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x25);
	pic_free(pic);
}

static void test_edge_and_level(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	/* ELCR: IRQ 0-2 cannot be level, 8 and 13 neither. */
	outb(pic, 0x4d0, 0xff);
	outb(pic, 0x4d1, 0xff);
	g_assert_cmphex(inb(pic, 0x4d0), ==, 0xf8);
	g_assert_cmphex(inb(pic, 0x4d1), ==, 0xde);
	outb(pic, 0x4d0, 0x00);
	outb(pic, 0x4d1, 0x02);			/* IRQ 9 level, as ACPI SCI / PCI INTx */

	/* Edge: a line held high interrupts once. */
	pic_set_irq(pic, 5, true);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x25);
	outb(pic, 0x20, 0x20);
	g_assert_false(cpu.intr);
	pic_set_irq(pic, 5, false);
	pic_set_irq(pic, 5, true);
	g_assert_true(cpu.intr);			/* a new edge */
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x25);
	outb(pic, 0x20, 0x20);
	pic_set_irq(pic, 5, false);

	/* Level: still asserted after EOI means interrupted again. */
	pic_set_irq(pic, 9, true);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x29);
	outb(pic, 0xa0, 0x20);
	outb(pic, 0x20, 0x20);
	g_assert_true(cpu.intr);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x29);
	/* The device is serviced (line drops) before EOI: nothing more. */
	pic_set_irq(pic, 9, false);
	outb(pic, 0xa0, 0x20);
	outb(pic, 0x20, 0x20);
	g_assert_false(cpu.intr);
	g_assert_cmphex(read_irr(pic, 0xa0), ==, 0x00);
	pic_free(pic);
}

static void test_edge_pulse_kept(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	/* Devices pulse their line in one call; the request must survive it. */
	pulse(pic, 4);
	g_assert_true(cpu.intr);
	g_assert_cmphex(read_irr(pic, 0x20), ==, 0x10);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x24);
	pic_free(pic);
}

static void test_spurious(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	/* A level request withdrawn before INTA: the master answers IR7, ISR clear. */
	outb(pic, 0x4d0, 0x20);			/* IRQ 5 level */
	pic_set_irq(pic, 5, true);
	g_assert_true(cpu.intr);
	pic_set_irq(pic, 5, false);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x27);
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x00);

	/*
	 * A slave request withdrawn also withdraws the master's IR2 (it follows
	 * the slave's INT), so the CPU sees the master's IR7, not IR15.
	 */
	outb(pic, 0x4d1, 0x08);			/* IRQ 11 level */
	pic_set_irq(pic, 11, true);
	g_assert_cmphex(read_irr(pic, 0x20), ==, 0x04);
	pic_set_irq(pic, 11, false);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x27);
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x00);
	g_assert_cmphex(read_isr(pic, 0xa0), ==, 0x00);
	pic_free(pic);
}

static void test_poll_cascade(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	/* Polling with interrupts off: the master names IR2, the slave its own level. */
	pulse(pic, 10);
	outb(pic, 0x20, 0x0c);
	g_assert_cmphex(inb(pic, 0x20), ==, 0x82);
	outb(pic, 0xa0, 0x0c);
	g_assert_cmphex(inb(pic, 0xa0), ==, 0x82);
	outb(pic, 0xa0, 0x0c);
	g_assert_cmphex(inb(pic, 0xa0), ==, 0x00);	/* nothing more */
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x04);
	g_assert_cmphex(read_isr(pic, 0xa0), ==, 0x04);
	pic_free(pic);
}

static void test_poll(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	outb(pic, 0x20, 0x0c);
	g_assert_cmphex(inb(pic, 0x20), ==, 0x00);	/* nothing pending */
	pulse(pic, 6);
	pulse(pic, 3);
	outb(pic, 0x20, 0x0c);
	/* Poll acknowledges like INTA: bit 7 plus the level; ISR now holds it. */
	g_assert_cmphex(inb(pic, 0x20), ==, 0x83);
	g_assert_cmphex(read_isr(pic, 0x20), ==, 0x08);
	/* One read only: the next read of the port is IRR/ISR again. */
	g_assert_cmphex(inb(pic, 0x20), ==, 0x08);
	pic_free(pic);
}

static void test_special_mask(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	pulse(pic, 3);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x23);
	pulse(pic, 6);
	g_assert_false(cpu.intr);			/* fully nested: IR6 waits */
	/* A handler masks its own level in special mask mode to let lower ones in. */
	outb(pic, 0x21, 0x08);
	outb(pic, 0x20, 0x68);			/* OCW3: set special mask mode */
	g_assert_true(cpu.intr);
	g_assert_cmpuint(pic_acknowledge(pic), ==, 0x26);
	outb(pic, 0x20, 0x48);			/* reset special mask mode */
	pic_free(pic);
}

static void test_imr_round_trip(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	outb(pic, 0x21, 0xa5);
	outb(pic, 0xa1, 0x5a);
	g_assert_cmphex(inb(pic, 0x21), ==, 0xa5);
	g_assert_cmphex(inb(pic, 0xa1), ==, 0x5a);
	/* A 16-bit read of 0x20 reaches 0x20 and 0x21 (IRR then IMR). */
	g_assert_cmphex(pic_master_ops.read(pic, 0, 2), ==, 0xa500);
	pic_free(pic);
}

static void test_reset(void)
{
	struct cpu cpu;
	struct pic *pic = new_pic(&cpu);

	pic_set_irq(pic, 1, true);
	g_assert_true(pic_intr_level(pic));
	/* A machine reset: masked, nothing in service, INTR low. */
	pic_reset(pic);
	g_assert_false(cpu.intr);
	g_assert_false(pic_intr_level(pic));
	g_assert_cmphex(inb(pic, 0x21), ==, 0xff);
	pic_free(pic);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pic/reset-state", test_reset_state);
	g_test_add_func("/pic/linux-init", test_linux_init);
	g_test_add_func("/pic/bios-remap", test_bios_remap);
	g_test_add_func("/pic/priority-and-nesting", test_priority_and_nesting);
	g_test_add_func("/pic/specific-eoi", test_specific_eoi);
	g_test_add_func("/pic/cascade", test_cascade);
	g_test_add_func("/pic/cascade-priority", test_cascade_priority);
	g_test_add_func("/pic/auto-eoi", test_auto_eoi);
	g_test_add_func("/pic/rotation", test_rotation);
	g_test_add_func("/pic/edge-and-level", test_edge_and_level);
	g_test_add_func("/pic/edge-pulse-kept", test_edge_pulse_kept);
	g_test_add_func("/pic/spurious", test_spurious);
	g_test_add_func("/pic/poll-cascade", test_poll_cascade);
	g_test_add_func("/pic/poll", test_poll);
	g_test_add_func("/pic/special-mask", test_special_mask);
	g_test_add_func("/pic/imr-round-trip", test_imr_round_trip);
	g_test_add_func("/pic/reset", test_reset);
	return g_test_run();
}
