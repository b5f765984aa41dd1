/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O APIC through its IOREGSEL/IOWIN window, delivering to real local
 * APICs on an APIC bus.  What a guest sees: the vector arriving at the CPU
 * its redirection entry names, once per edge, and for level-triggered pins
 * once per EOI while the device keeps the line asserted.
 */
#include <glib.h>

#include "apic.h"

#define RTE_LOGICAL		(1u << 11)
#define RTE_DELIVERY_STATUS	(1u << 12)
#define RTE_POLARITY_LOW	(1u << 13)
#define RTE_REMOTE_IRR		(1u << 14)
#define RTE_LEVEL		(1u << 15)
#define RTE_MASKED		(1u << 16)

#define LAPIC_EOI	0xb0
#define LAPIC_SVR	0xf0
#define LAPIC_LDR	0xd0
#define LAPIC_TMR	0x180
#define LAPIC_IRR	0x200

struct fake_cpu {
	gint kicks;
};

static void cpu_kick(void *opaque)
{
	g_atomic_int_inc(&((struct fake_cpu *)opaque)->kicks);
}

static void cpu_nothing(void *opaque)
{
}

static void cpu_startup(void *opaque, uint8_t vector)
{
}

static const struct lapic_cpu_ops cpu_ops = { cpu_kick, cpu_nothing, cpu_startup };

struct machine {
	struct timer_service *timers;
	struct apic_bus *bus;
	struct lapic *lapic[2];
	struct fake_cpu cpu[2];
	struct ioapic *io;
};

static void machine_set_up(struct machine *m, gconstpointer data)
{
	*m = (struct machine){ 0 };
	m->timers = timer_service_new();
	m->bus = apic_bus_new();
	for (unsigned int i = 0; i < 2; i++) {
		m->lapic[i] = lapic_new(m->bus, m->timers, i, i == 0, NULL, &cpu_ops, &m->cpu[i]);
		lapic_mmio_write(m->lapic[i], LAPIC_SVR, 0x1ff);
		lapic_mmio_write(m->lapic[i], LAPIC_LDR, (1u << i) << 24);
	}
	m->io = ioapic_new(m->bus);
}

static void machine_tear_down(struct machine *m, gconstpointer data)
{
	ioapic_free(m->io);
	for (unsigned int i = 0; i < 2; i++)
		lapic_free(m->lapic[i]);
	apic_bus_free(m->bus);
	timer_service_free(m->timers);
}

static uint32_t io_read(struct machine *m, uint8_t reg)
{
	ioapic_ops.write(m->io, 0x00, reg, 4);
	return (uint32_t)ioapic_ops.read(m->io, 0x10, 4);
}

static void io_write(struct machine *m, uint8_t reg, uint32_t value)
{
	ioapic_ops.write(m->io, 0x00, reg, 4);
	ioapic_ops.write(m->io, 0x10, value, 4);
}

static void route(struct machine *m, unsigned int pin, uint32_t low, uint8_t dest)
{
	io_write(m, (uint8_t)(0x11 + 2 * pin), (uint32_t)dest << 24);
	io_write(m, (uint8_t)(0x10 + 2 * pin), low);
}

static uint32_t rte_low(struct machine *m, unsigned int pin)
{
	return io_read(m, (uint8_t)(0x10 + 2 * pin));
}

static bool lapic_bit(struct lapic *l, uint32_t base, unsigned int vector)
{
	return lapic_mmio_read(l, base + (vector / 32) * 16) & (1u << (vector % 32));
}

static int take_interrupt(struct lapic *l)
{
	return lapic_pending(l) ? lapic_acknowledge(l) : -1;
}

static void test_registers(struct machine *m, gconstpointer data)
{
	/* Version 0x11, 24 entries (max redirection entry 23). */
	g_assert_cmphex(io_read(m, 0x01), ==, 0x00170011);
	g_assert_cmphex(io_read(m, 0x00), ==, 0);
	/* Linux's setup_ioapic_ids_from_mpc(): ID in bits 27:24. */
	io_write(m, 0x00, 0x0f000000 | 0xf0ffffff);
	g_assert_cmphex(io_read(m, 0x00), ==, 0x0f000000);
	g_assert_cmphex(io_read(m, 0x02), ==, 0x0f000000);	/* arbitration ID follows */
	io_write(m, 0x01, 0);
	g_assert_cmphex(io_read(m, 0x01), ==, 0x00170011);
	/* Reset: every pin masked. */
	for (unsigned int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		g_assert_cmphex(rte_low(m, pin), ==, RTE_MASKED);
		g_assert_cmphex(io_read(m, (uint8_t)(0x11 + 2 * pin)), ==, 0);
	}
	/* Round trip; delivery status and remote IRR are read-only. */
	io_write(m, 0x10 + 2 * 23, 0xffffffff);
	g_assert_cmphex(rte_low(m, 23), ==, 0x1afff);
	io_write(m, 0x11 + 2 * 23, 0xffffffff);
	g_assert_cmphex(io_read(m, 0x11 + 2 * 23), ==, 0xff000000);
	/* IOREGSEL reads back; registers past the table read 0. */
	ioapic_ops.write(m->io, 0x00, 0x3f, 4);
	g_assert_cmphex(ioapic_ops.read(m->io, 0x00, 4), ==, 0x3f);
	g_assert_cmphex(io_read(m, 0x40), ==, 0);
	/* A byte read of IOWIN gives the register's low byte. */
	ioapic_ops.write(m->io, 0x00, 0x01, 4);
	g_assert_cmphex(ioapic_ops.read(m->io, 0x10, 1), ==, 0x11);
	g_assert_cmphex(ioapic_ops.read(m->io, 0x12, 1), ==, 0x17);
	/* Pins past 23 do not exist. */
	ioapic_set_irq(m->io, 24, true);
	/* A reset masks everything again. */
	route(m, 3, 0x33, 0);
	ioapic_reset(m->io);
	g_assert_cmphex(rte_low(m, 3), ==, RTE_MASKED);
}

static void test_edge(struct machine *m, gconstpointer data)
{
	/* The PIT on pin 2 as Linux routes it: fixed, edge, physical CPU 1. */
	route(m, 2, 0x30, 1);
	ioapic_set_irq(m->io, 2, true);
	g_assert_true(lapic_bit(m->lapic[1], LAPIC_IRR, 0x30));
	g_assert_false(lapic_bit(m->lapic[1], LAPIC_TMR, 0x30));
	g_assert_false(lapic_pending(m->lapic[0]));
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].kicks), ==, 1);
	g_assert_cmpint(take_interrupt(m->lapic[1]), ==, 0x30);
	lapic_mmio_write(m->lapic[1], LAPIC_EOI, 0);
	/* Held high: no second interrupt; a new edge gives one. */
	ioapic_set_irq(m->io, 2, true);
	g_assert_false(lapic_pending(m->lapic[1]));
	ioapic_set_irq(m->io, 2, false);
	g_assert_false(lapic_pending(m->lapic[1]));
	ioapic_set_irq(m->io, 2, true);
	ioapic_set_irq(m->io, 2, false);
	g_assert_cmpint(take_interrupt(m->lapic[1]), ==, 0x30);
	lapic_mmio_write(m->lapic[1], LAPIC_EOI, 0);
	/* Edge entries never show remote IRR. */
	g_assert_cmphex(rte_low(m, 2) & RTE_REMOTE_IRR, ==, 0);
}

static void test_masking(struct machine *m, gconstpointer data)
{
	route(m, 4, RTE_MASKED | 0x34, 0);
	/* An edge on a masked pin is lost, not held (82093AA "Interrupt Mask"). */
	ioapic_set_irq(m->io, 4, true);
	ioapic_set_irq(m->io, 4, false);
	route(m, 4, 0x34, 0);
	g_assert_false(lapic_pending(m->lapic[0]));
	/* A masked level pin waits; unmasking delivers it. */
	route(m, 9, RTE_MASKED | RTE_LEVEL | 0x39, 0);
	ioapic_set_irq(m->io, 9, true);
	g_assert_false(lapic_pending(m->lapic[0]));
	route(m, 9, RTE_LEVEL | 0x39, 0);
	g_assert_cmpint(take_interrupt(m->lapic[0]), ==, 0x39);
	g_assert_true(lapic_bit(m->lapic[0], LAPIC_TMR, 0x39));
}

static void test_level_remote_irr(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[0];

	/* An ACPI SCI style pin: level, active high, to CPU 0. */
	route(m, 9, RTE_LEVEL | 0x49, 0);
	ioapic_set_irq(m->io, 9, true);
	g_assert_cmphex(rte_low(m, 9) & RTE_REMOTE_IRR, ==, RTE_REMOTE_IRR);
	g_assert_cmphex(rte_low(m, 9) & RTE_DELIVERY_STATUS, ==, 0);
	g_assert_cmpint(take_interrupt(l), ==, 0x49);
	g_assert_true(lapic_bit(l, LAPIC_TMR, 0x49));
	/* While in service, the asserted line sends nothing more. */
	ioapic_set_irq(m->io, 9, true);
	g_assert_false(lapic_bit(l, LAPIC_IRR, 0x49));
	/* EOI with the device still asserting: remote IRR cleared, and it fires again. */
	lapic_mmio_write(l, LAPIC_EOI, 0);
	g_assert_true(lapic_bit(l, LAPIC_IRR, 0x49));
	g_assert_cmphex(rte_low(m, 9) & RTE_REMOTE_IRR, ==, RTE_REMOTE_IRR);
	g_assert_cmpint(take_interrupt(l), ==, 0x49);
	/* The handler serviced the device: line low, EOI, quiet. */
	ioapic_set_irq(m->io, 9, false);
	lapic_mmio_write(l, LAPIC_EOI, 0);
	g_assert_cmphex(rte_low(m, 9) & RTE_REMOTE_IRR, ==, 0);
	g_assert_false(lapic_pending(l));
	/* An EOI for an edge vector leaves level pins alone. */
	route(m, 3, 0x49 + 0x10, 0);
	ioapic_set_irq(m->io, 9, true);
	ioapic_set_irq(m->io, 3, true);
	g_assert_cmpint(take_interrupt(l), ==, 0x59);
	lapic_mmio_write(l, LAPIC_EOI, 0);
	g_assert_cmphex(rte_low(m, 9) & RTE_REMOTE_IRR, ==, RTE_REMOTE_IRR);
}

static void test_edge_switch_clears_remote_irr(struct machine *m, gconstpointer data)
{
	/*
	 * Linux's __eoi_ioapic_pin() on an IOAPIC without an EOI register:
	 * mask, switch to edge, restore — remote IRR must be gone afterwards.
	 */
	route(m, 11, RTE_LEVEL | 0x4b, 0);
	ioapic_set_irq(m->io, 11, true);
	g_assert_cmphex(rte_low(m, 11) & RTE_REMOTE_IRR, ==, RTE_REMOTE_IRR);
	ioapic_set_irq(m->io, 11, false);
	route(m, 11, RTE_MASKED | 0x4b, 0);
	g_assert_cmphex(rte_low(m, 11) & RTE_REMOTE_IRR, ==, 0);
	route(m, 11, RTE_LEVEL | 0x4b, 0);
	g_assert_cmphex(rte_low(m, 11) & RTE_REMOTE_IRR, ==, 0);
}

static void test_polarity(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];

	/* Active low, level (a PCI INTx line): the wire high is idle. */
	ioapic_set_irq(m->io, 16, true);
	route(m, 16, RTE_POLARITY_LOW | RTE_LEVEL | 0x60, 1);
	g_assert_false(lapic_pending(l));
	ioapic_set_irq(m->io, 16, false);		/* pulled low: asserted */
	g_assert_cmpint(take_interrupt(l), ==, 0x60);
	ioapic_set_irq(m->io, 16, true);
	lapic_mmio_write(l, LAPIC_EOI, 0);
	g_assert_false(lapic_pending(l));
	/* Active low, edge: the falling edge of the wire is the interrupt. */
	route(m, 17, RTE_POLARITY_LOW | 0x61, 1);
	ioapic_set_irq(m->io, 17, true);
	g_assert_false(lapic_pending(l));
	ioapic_set_irq(m->io, 17, false);
	g_assert_cmpint(take_interrupt(l), ==, 0x61);
}

static void test_logical_and_lowest(struct machine *m, gconstpointer data)
{
	int taken = 0;

	/* Logical flat destination 0x3: both CPUs. */
	route(m, 5, RTE_LOGICAL | 0x65, 0x03);
	ioapic_set_irq(m->io, 5, true);
	g_assert_true(lapic_bit(m->lapic[0], LAPIC_IRR, 0x65));
	g_assert_true(lapic_bit(m->lapic[1], LAPIC_IRR, 0x65));
	/* Lowest priority to both: exactly one gets it. */
	route(m, 6, RTE_LOGICAL | (1u << 8) | 0x66, 0x03);
	ioapic_set_irq(m->io, 6, true);
	for (unsigned int i = 0; i < 2; i++)
		taken += lapic_bit(m->lapic[i], LAPIC_IRR, 0x66);
	g_assert_cmpint(taken, ==, 1);
	/* NMI delivery mode: no vector, no IRR. */
	route(m, 7, (4u << 8), 1);
	ioapic_set_irq(m->io, 7, true);
	g_assert_true(lapic_take_nmi(m->lapic[1]));
}

static void test_level_nobody_accepts(struct machine *m, gconstpointer data)
{
	/* To a CPU that does not exist, a level interrupt leaves no stuck remote IRR. */
	route(m, 12, RTE_LEVEL | 0x4c, 7);
	ioapic_set_irq(m->io, 12, true);
	g_assert_cmphex(rte_low(m, 12) & RTE_REMOTE_IRR, ==, 0);
	/* Redirected to CPU 1 later (irqbalance), the asserted line is delivered. */
	io_write(m, 0x11 + 2 * 12, 1u << 24);
	route(m, 12, RTE_LEVEL | 0x4c, 1);
	g_assert_cmpint(take_interrupt(m->lapic[1]), ==, 0x4c);
}

struct storm {
	struct machine *m;
	struct lapic *lapic;
	int rounds;
};

static gpointer device_storm(gpointer opaque)
{
	struct storm *s = opaque;

	for (int i = 0; i < s->rounds; i++) {
		ioapic_set_irq(s->m->io, 9, true);
		ioapic_set_irq(s->m->io, 9, false);
	}
	return NULL;
}

static gpointer cpu_eoi_storm(gpointer opaque)
{
	struct storm *s = opaque;

	for (int i = 0; i < s->rounds; i++) {
		lapic_acknowledge(s->lapic);
		lapic_mmio_write(s->lapic, LAPIC_EOI, 0);
	}
	return NULL;
}

static void test_concurrent_eoi_and_delivery(struct machine *m, gconstpointer data)
{
	struct storm dev = { m, NULL, 20000 }, cpu = { m, m->lapic[0], 20000 };
	GThread *a, *b;

	/* A device thread delivering while the CPU broadcasts EOIs: no deadlock. */
	route(m, 9, RTE_LEVEL | 0x49, 0);
	a = g_thread_new("device", device_storm, &dev);
	b = g_thread_new("cpu", cpu_eoi_storm, &cpu);
	g_thread_join(a);
	g_thread_join(b);
	/* Settled: line low; after one more EOI the pin is idle. */
	lapic_acknowledge(m->lapic[0]);
	lapic_mmio_write(m->lapic[0], LAPIC_EOI, 0);
	lapic_mmio_write(m->lapic[0], LAPIC_EOI, 0);
	g_assert_cmphex(rte_low(m, 9) & RTE_REMOTE_IRR, ==, 0);
}

#define ADD(path, fn) \
	g_test_add(path, struct machine, NULL, machine_set_up, fn, machine_tear_down)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/ioapic/registers", test_registers);
	ADD("/ioapic/edge", test_edge);
	ADD("/ioapic/masking", test_masking);
	ADD("/ioapic/level-remote-irr", test_level_remote_irr);
	ADD("/ioapic/edge-switch-clears-remote-irr", test_edge_switch_clears_remote_irr);
	ADD("/ioapic/polarity", test_polarity);
	ADD("/ioapic/logical-and-lowest", test_logical_and_lowest);
	ADD("/ioapic/level-nobody-accepts", test_level_nobody_accepts);
	ADD("/ioapic/concurrent-eoi-and-delivery", test_concurrent_eoi_and_delivery);
	return g_test_run();
}
