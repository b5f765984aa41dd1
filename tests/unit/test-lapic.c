/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Local APICs on one APIC bus, with fake CPUs that record what the LAPIC
 * told them (kick, INIT, STARTUP) and take interrupts the way the software
 * CPU will: lapic_pending() at a boundary, lapic_acknowledge() for the
 * vector, EOI through the register.  Each check is what a guest kernel
 * would see: the vector its handler runs for, register values it reads,
 * timer interrupts it counts, APs that start.
 */
#include <glib.h>
#include <stdatomic.h>

#include "apic.h"

#define MS		1000000ll

#define MSR_APIC_BASE	0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define X2APIC_MSR(reg)	(0x800 + ((reg) >> 4))

enum {
	ID = 0x20, VERSION = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0, LDR = 0xd0,
	DFR = 0xe0, SVR = 0xf0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280,
	ICR_LOW = 0x300, ICR_HIGH = 0x310, LVT_TIMER = 0x320, LVT_THERMAL = 0x330,
	LVT_PMC = 0x340, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370,
	TIMER_INITIAL = 0x380, TIMER_CURRENT = 0x390, TIMER_DIVIDE = 0x3e0, SELF_IPI = 0x3f0,
};

#define APIC_BASE_BSP	(1ull << 8)
#define APIC_BASE_EXTD	(1ull << 10)
#define APIC_BASE_EN	(1ull << 11)
#define LVT_MASKED	0x10000u
#define SVR_ENABLED	0x100u

struct fake_cpu {
	gint kicks;
	gint inits;
	gint startups;
	gint startup_vector;
};

static void cpu_kick(void *opaque)
{
	g_atomic_int_inc(&((struct fake_cpu *)opaque)->kicks);
}

static void cpu_init(void *opaque)
{
	g_atomic_int_inc(&((struct fake_cpu *)opaque)->inits);
}

static void cpu_startup(void *opaque, uint8_t vector)
{
	struct fake_cpu *cpu = opaque;

	g_atomic_int_set(&cpu->startup_vector, vector);
	g_atomic_int_inc(&cpu->startups);
}

static const struct lapic_cpu_ops cpu_ops = { cpu_kick, cpu_init, cpu_startup };

/* A guest TSC the test moves by hand. */
struct fake_tsc {
	atomic_uint_least64_t value;
};

static uint64_t read_fake_tsc(void *opaque)
{
	return atomic_load(&((struct fake_tsc *)opaque)->value);
}

struct machine {
	struct timer_service *timers;
	struct apic_bus *bus;
	struct lapic *lapic[3];
	struct fake_cpu cpu[3];
	struct fake_tsc tsc;
	struct lapic_clock clock;
	gint extint_acks;
	unsigned int extint_vector;
};

static unsigned int fake_pic_ack(void *opaque)
{
	struct machine *m = opaque;

	g_atomic_int_inc(&m->extint_acks);
	return m->extint_vector;
}

static void machine_set_up(struct machine *m, gconstpointer data)
{
	*m = (struct machine){ 0 };
	m->timers = timer_service_new();
	m->bus = apic_bus_new();
	m->clock = (struct lapic_clock){ read_fake_tsc, &m->tsc, 1000000000 };
	for (unsigned int i = 0; i < 3; i++)
		m->lapic[i] = lapic_new(m->bus, m->timers, i, i == 0, &m->clock, &cpu_ops, &m->cpu[i]);
	m->extint_vector = 0x30;
	apic_bus_set_extint(m->bus, fake_pic_ack, m);
}

static void machine_tear_down(struct machine *m, gconstpointer data)
{
	for (unsigned int i = 0; i < 3; i++)
		lapic_free(m->lapic[i]);
	apic_bus_free(m->bus);
	timer_service_free(m->timers);
}

static uint32_t rd(struct lapic *l, uint32_t reg)
{
	return lapic_mmio_read(l, reg);
}

static void wr(struct lapic *l, uint32_t reg, uint32_t value)
{
	lapic_mmio_write(l, reg, value);
}

/* What Linux's setup_local_APIC() leaves: enabled, TPR 0, flat logical ID. */
static void enable(struct lapic *l, unsigned int logical_bit)
{
	wr(l, SVR, SVR_ENABLED | 0xff);
	wr(l, DFR, 0xffffffff);
	wr(l, LDR, (1u << logical_bit) << 24);
	wr(l, TPR, 0);
}

static bool vector_bit(struct lapic *l, uint32_t base, unsigned int vector)
{
	return rd(l, base + (vector / 32) * 16) & (1u << (vector % 32));
}

/* The CPU's interrupt window: pending, then INTA. */
static int take_interrupt(struct lapic *l)
{
	if (!lapic_pending(l))
		return -1;
	return lapic_acknowledge(l);
}

static void send_ipi(struct lapic *l, uint8_t dest, uint32_t low)
{
	wr(l, ICR_HIGH, (uint32_t)dest << 24);
	wr(l, ICR_LOW, low);
}

/* ---- registers ---- */

static void test_xapic_reset_values(struct machine *m, gconstpointer data)
{
	struct lapic *bsp = m->lapic[0], *ap = m->lapic[1];
	uint64_t base;

	g_assert_true(lapic_msr_read(bsp, MSR_APIC_BASE, &base));
	g_assert_cmphex(base, ==, APIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP);
	g_assert_true(lapic_msr_read(ap, MSR_APIC_BASE, &base));
	g_assert_cmphex(base, ==, APIC_DEFAULT_BASE | APIC_BASE_EN);
	g_assert_cmphex(lapic_base_address(bsp), ==, APIC_DEFAULT_BASE);

	g_assert_cmphex(rd(ap, ID), ==, 1u << 24);
	/* Version 0x14, six LVT entries (max LVT entry 5). */
	g_assert_cmphex(rd(bsp, VERSION), ==, 0x50014);
	g_assert_cmphex(rd(bsp, SVR), ==, 0xff);
	g_assert_cmphex(rd(bsp, DFR), ==, 0xffffffff);
	g_assert_cmphex(rd(bsp, LDR), ==, 0);
	g_assert_cmphex(rd(ap, LVT_TIMER), ==, LVT_MASKED);
	g_assert_cmphex(rd(ap, LVT_LINT0), ==, LVT_MASKED);
	g_assert_cmphex(rd(ap, LVT_ERROR), ==, LVT_MASKED);
	/* The BSP starts in virtual wire mode: LINT0 ExtINT, LINT1 NMI. */
	g_assert_cmphex(rd(bsp, LVT_LINT0), ==, 0x700);
	g_assert_cmphex(rd(bsp, LVT_LINT1), ==, 0x400);
	/* Not in x2APIC mode: its MSRs raise #GP. */
	uint64_t v;
	g_assert_false(lapic_msr_read(bsp, X2APIC_MSR(ID), &v));
}

static void test_xapic_round_trips(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];

	wr(l, SVR, 0x1ff);
	g_assert_cmphex(rd(l, SVR), ==, 0x1ff);
	wr(l, SVR, 0xffffffff);
	g_assert_cmphex(rd(l, SVR), ==, 0x3ff);		/* no EOI-broadcast suppression */
	wr(l, TPR, 0x1234);
	g_assert_cmphex(rd(l, TPR), ==, 0x34);
	wr(l, LDR, 0xffffffff);
	g_assert_cmphex(rd(l, LDR), ==, 0xff000000);
	wr(l, DFR, 0);
	g_assert_cmphex(rd(l, DFR), ==, 0x0fffffff);	/* cluster model */
	wr(l, ICR_HIGH, 0xffffffff);
	g_assert_cmphex(rd(l, ICR_HIGH), ==, 0xff000000);
	wr(l, TIMER_DIVIDE, 0xffffffff);
	g_assert_cmphex(rd(l, TIMER_DIVIDE), ==, 0xb);
	wr(l, LVT_TIMER, 0xffffffff);
	g_assert_cmphex(rd(l, LVT_TIMER), ==, 0x700ff);
	wr(l, LVT_LINT0, 0xffffffff);
	g_assert_cmphex(rd(l, LVT_LINT0), ==, 0x1a7ff);	/* no remote IRR / delivery status */
	wr(l, LVT_THERMAL, 0xffffffff);
	g_assert_cmphex(rd(l, LVT_THERMAL), ==, 0x107ff);
	wr(l, LVT_PMC, 0x400);				/* NMI, unmasked */
	g_assert_cmphex(rd(l, LVT_PMC), ==, 0x400);
	wr(l, LVT_ERROR, 0xffffffff);
	g_assert_cmphex(rd(l, LVT_ERROR), ==, 0x100ff);
	/* Read-only registers ignore writes. */
	wr(l, VERSION, 0);
	g_assert_cmphex(rd(l, VERSION), ==, 0x50014);
	wr(l, PPR, 0xff);
	g_assert_cmphex(rd(l, PPR), ==, 0x34);
	/* xAPIC ID is writable (Linux never does; firmware may). */
	wr(l, ID, 0x07000000);
	g_assert_cmphex(rd(l, ID), ==, 0x07000000);
	/* Sub-register offsets read as reserved. */
	g_assert_cmphex(lapic_mmio_read(l, VERSION + 4), ==, 0);
	g_assert_cmphex(lapic_mmio_read(l, VERSION + 2), ==, 0x5);
}

static void test_software_disable_masks_lvts(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];

	enable(l, 1);
	wr(l, LVT_TIMER, 0x40);
	wr(l, LVT_LINT0, 0x700);
	g_assert_cmphex(rd(l, LVT_TIMER), ==, 0x40);
	/* SVR bit 8 cleared: every LVT masked, and they stay masked (§11.4.7.2). */
	wr(l, SVR, 0xff);
	g_assert_cmphex(rd(l, LVT_TIMER), ==, 0x10040);
	g_assert_cmphex(rd(l, LVT_LINT0), ==, 0x10700);
	wr(l, LVT_TIMER, 0x41);
	g_assert_cmphex(rd(l, LVT_TIMER), ==, 0x10041);
	/* Fixed interrupts are not accepted while software-disabled. */
	apic_bus_deliver(m->bus, &(struct apic_message){ .dest = 1, .vector = 0x50, .assert = true });
	g_assert_false(vector_bit(l, IRR, 0x50));
	g_assert_false(lapic_pending(l));
	/* NMIs are. */
	apic_bus_deliver(m->bus, &(struct apic_message){ .dest = 1, .delivery_mode = APIC_DM_NMI,
							 .assert = true });
	g_assert_true(lapic_take_nmi(l));
	g_assert_false(lapic_take_nmi(l));
}

static void test_apic_base_transitions(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];
	uint64_t base = APIC_DEFAULT_BASE | APIC_BASE_EN, v;

	/* xAPIC -> disabled -> x2APIC is illegal, disabled -> xAPIC -> x2APIC is fine. */
	g_assert_false(lapic_msr_write(l, MSR_APIC_BASE, APIC_DEFAULT_BASE | APIC_BASE_EXTD));
	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE, APIC_DEFAULT_BASE));
	g_assert_cmphex(lapic_base_address(l), ==, 0);
	g_assert_false(lapic_msr_write(l, MSR_APIC_BASE, base | APIC_BASE_EXTD));
	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE, base));
	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE, base | APIC_BASE_EXTD));
	g_assert_cmphex(lapic_base_address(l), ==, 0);	/* no MMIO page in x2APIC mode */
	/* x2APIC -> xAPIC is illegal; only via disabled. */
	g_assert_false(lapic_msr_write(l, MSR_APIC_BASE, base));
	g_assert_true(lapic_msr_read(l, MSR_APIC_BASE, &v));
	g_assert_cmphex(v, ==, base | APIC_BASE_EXTD);
	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE, APIC_DEFAULT_BASE));
	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE, base));
	/* Reserved bits are #GP; the page moves where the guest puts it. */
	g_assert_false(lapic_msr_write(l, MSR_APIC_BASE, base | 0x1));
	g_assert_false(lapic_msr_write(l, MSR_APIC_BASE, base | (1ull << 63)));
	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE, 0xfed00000 | APIC_BASE_EN));
	g_assert_cmphex(lapic_base_address(l), ==, 0xfed00000);
	/* The BSP flag is the hardware's: writes do not change it. */
	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE, base | APIC_BASE_BSP));
	g_assert_true(lapic_msr_read(l, MSR_APIC_BASE, &v));
	g_assert_cmphex(v, ==, base);
}

static void test_x2apic_registers(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[2];
	uint64_t v;

	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE,
				      APIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD));
	g_assert_true(lapic_msr_read(l, X2APIC_MSR(ID), &v));
	g_assert_cmphex(v, ==, 2);				/* 32-bit x2APIC ID */
	g_assert_true(lapic_msr_read(l, X2APIC_MSR(VERSION), &v));
	g_assert_cmphex(v, ==, 0x50014);
	g_assert_true(lapic_msr_read(l, X2APIC_MSR(LDR), &v));
	g_assert_cmphex(v, ==, 0x4);				/* cluster 0, bit 2 */
	/* LDR and ID are read-only, DFR and ICR high do not exist. */
	g_assert_false(lapic_msr_write(l, X2APIC_MSR(LDR), 0x1));
	g_assert_false(lapic_msr_write(l, X2APIC_MSR(ID), 0x5));
	g_assert_false(lapic_msr_read(l, X2APIC_MSR(DFR), &v));
	g_assert_false(lapic_msr_read(l, X2APIC_MSR(ICR_HIGH), &v));
	/* EOI and SELF IPI are write-only. */
	g_assert_false(lapic_msr_read(l, X2APIC_MSR(EOI), &v));
	g_assert_false(lapic_msr_read(l, X2APIC_MSR(SELF_IPI), &v));
	/* Reserved bits are #GP, not ignored (§11.12.1.3). */
	g_assert_false(lapic_msr_write(l, X2APIC_MSR(TPR), 0x100));
	g_assert_false(lapic_msr_write(l, X2APIC_MSR(TPR), 1ull << 32));
	g_assert_false(lapic_msr_write(l, X2APIC_MSR(EOI), 1));
	g_assert_false(lapic_msr_write(l, X2APIC_MSR(ESR), 1));
	g_assert_false(lapic_msr_write(l, X2APIC_MSR(LVT_TIMER), 0x80000));
	g_assert_true(lapic_msr_write(l, X2APIC_MSR(TPR), 0x20));
	g_assert_true(lapic_msr_read(l, X2APIC_MSR(TPR), &v));
	g_assert_cmphex(v, ==, 0x20);
	g_assert_true(lapic_msr_write(l, X2APIC_MSR(SVR), 0x1ff));
	g_assert_true(lapic_msr_read(l, X2APIC_MSR(SVR), &v));
	g_assert_cmphex(v, ==, 0x1ff);
	g_assert_true(lapic_msr_write(l, X2APIC_MSR(LVT_LINT1), 0x400));
	g_assert_true(lapic_msr_read(l, X2APIC_MSR(LVT_LINT1), &v));
	g_assert_cmphex(v, ==, 0x400);
	g_assert_true(lapic_msr_write(l, X2APIC_MSR(ESR), 0));
	/* ICR is one 64-bit register: destination in the high half. */
	g_assert_true(lapic_msr_write(l, X2APIC_MSR(ICR_LOW), (1ull << 32) | 0x4040));
	g_assert_true(lapic_msr_read(l, X2APIC_MSR(ICR_LOW), &v));
	g_assert_cmphex(v, ==, (1ull << 32) | 0x4040);
	g_assert_false(lapic_msr_write(l, X2APIC_MSR(ICR_LOW), 0x2040));	/* bit 13 */
	/* The MMIO page is gone. */
	g_assert_cmphex(lapic_mmio_read(l, VERSION), ==, 0);
	/* MSRs outside the APIC: not ours. */
	g_assert_false(lapic_msr_read(l, 0x10, &v));
}

/* ---- priorities ---- */

static void deliver_fixed(struct machine *m, uint32_t dest, uint8_t vector, bool level)
{
	apic_bus_deliver(m->bus, &(struct apic_message){ .dest = dest, .vector = vector,
							 .level_triggered = level, .assert = true });
}

static void test_priority_and_eoi(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];

	enable(l, 1);
	deliver_fixed(m, 1, 0x31, false);
	deliver_fixed(m, 1, 0x61, false);
	deliver_fixed(m, 1, 0x45, false);
	g_assert_true(vector_bit(l, IRR, 0x31));
	g_assert_true(vector_bit(l, IRR, 0x61));
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].kicks), >=, 1);

	/* Highest vector first; the ISR class then blocks its class and below. */
	g_assert_cmpint(take_interrupt(l), ==, 0x61);
	g_assert_true(vector_bit(l, ISR, 0x61));
	g_assert_false(vector_bit(l, IRR, 0x61));
	g_assert_cmphex(rd(l, PPR), ==, 0x60);
	g_assert_false(lapic_pending(l));
	/* A higher class interrupts the handler. */
	deliver_fixed(m, 1, 0x71, false);
	g_assert_cmpint(take_interrupt(l), ==, 0x71);
	g_assert_cmphex(rd(l, PPR), ==, 0x70);
	/* Same class as in service: waits. */
	deliver_fixed(m, 1, 0x7f, false);
	g_assert_false(lapic_pending(l));
	/* EOI clears the highest ISR bit; 0x7f may come now. */
	wr(l, EOI, 0);
	g_assert_false(vector_bit(l, ISR, 0x71));
	g_assert_cmpint(take_interrupt(l), ==, 0x7f);
	wr(l, EOI, 0);
	wr(l, EOI, 0);
	g_assert_cmphex(rd(l, PPR), ==, 0x00);
	/* TPR holds back classes at or below it. */
	wr(l, TPR, 0x40);
	g_assert_cmphex(rd(l, PPR), ==, 0x40);
	g_assert_false(lapic_pending(l));		/* 0x45 and 0x31 wait */
	g_assert_cmphex(rd(l, APR), ==, 0x40);
	wr(l, TPR, 0x3f);
	g_assert_cmpint(take_interrupt(l), ==, 0x45);
	wr(l, EOI, 0);
	g_assert_false(lapic_pending(l));		/* 0x31 is class 3 = TPR class */
	wr(l, TPR, 0);
	g_assert_cmpint(take_interrupt(l), ==, 0x31);
	wr(l, EOI, 0);
	g_assert_cmphex(rd(l, ISR + 0x10), ==, 0);
	/* An EOI with nothing in service does nothing. */
	wr(l, EOI, 0);
	g_assert_false(lapic_pending(l));
	g_assert_cmpint(lapic_acknowledge(l), ==, -1);
}

static void test_spurious_vector(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];

	enable(l, 1);
	wr(l, SVR, SVR_ENABLED | 0xef);
	deliver_fixed(m, 1, 0x50, false);
	g_assert_true(lapic_pending(l));
	/* TPR raised between INTR and INTA: the spurious vector, no ISR bit (§11.9). */
	wr(l, TPR, 0x80);
	g_assert_cmpint(lapic_acknowledge(l), ==, 0xef);
	g_assert_cmphex(rd(l, ISR + 0x70), ==, 0);
	g_assert_true(vector_bit(l, IRR, 0x50));	/* still requested */
	wr(l, TPR, 0);
	g_assert_cmpint(take_interrupt(l), ==, 0x50);
}

static void test_tmr_and_illegal_vector(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];

	enable(l, 1);
	deliver_fixed(m, 1, 0x90, true);
	g_assert_true(vector_bit(l, TMR, 0x90));
	deliver_fixed(m, 1, 0x91, false);
	g_assert_false(vector_bit(l, TMR, 0x91));
	/* Vectors 0-15 are illegal: refused and reported in ESR after a write. */
	deliver_fixed(m, 1, 0x05, false);
	g_assert_false(vector_bit(l, IRR, 0x05));
	g_assert_cmphex(rd(l, ESR), ==, 0);
	wr(l, ESR, 0);
	g_assert_cmphex(rd(l, ESR), ==, 0x40);
	wr(l, ESR, 0);
	g_assert_cmphex(rd(l, ESR), ==, 0);
	/* Sending one is an error too, with the LVT error interrupt if unmasked. */
	wr(l, LVT_ERROR, 0xfe);
	send_ipi(l, 2, 0x08);
	wr(l, ESR, 0);
	g_assert_cmphex(rd(l, ESR), ==, 0x20);
	g_assert_true(vector_bit(l, IRR, 0xfe));
	g_assert_false(vector_bit(m->lapic[2], IRR, 0x08));
}

/* ---- timer ---- */

/*
 * Interrupts with `vector` taken within `window_ns`; if fewer than `want`
 * came, it goes on waiting for them up to two seconds more.  Timer
 * interrupts are never early, but a host that starves the timer thread makes
 * them late, and a check that one comes must not fail for that.
 */
static int wait_interrupts(struct lapic *l, int64_t window_ns, uint8_t vector, int want)
{
	int64_t start = timer_now_ns(), end = start + window_ns;
	int count = 0, v;

	while (timer_now_ns() < end || (count < want && timer_now_ns() < end + 2000 * MS)) {
		while ((v = take_interrupt(l)) >= 0) {
			g_assert_cmpint(v, ==, vector);
			count++;
			wr(l, EOI, 0);
		}
		g_usleep(200);
	}
	return count;
}

static int count_interrupts(struct lapic *l, int64_t window_ns, uint8_t vector)
{
	return wait_interrupts(l, window_ns, vector, 0);
}

/* Takes whatever is already requested (a tick that raced the end of a window). */
static void drain(struct lapic *l)
{
	while (take_interrupt(l) >= 0)
		wr(l, EOI, 0);
}

static void test_timer_one_shot(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];
	uint32_t c1, c2;
	int64_t t0, t1, t2, t3;
	bool pending;

	enable(l, 1);
	wr(l, TIMER_DIVIDE, 0xb);			/* divide by 1: 1 ns per tick */
	wr(l, LVT_TIMER, 0xe0);
	t0 = timer_now_ns();
	wr(l, TIMER_INITIAL, 5000000);			/* 5 ms */
	g_assert_cmpuint(rd(l, TIMER_INITIAL), ==, 5000000);
	c1 = rd(l, TIMER_CURRENT);
	g_usleep(1000);
	c2 = rd(l, TIMER_CURRENT);
	g_assert_cmpuint(c1, <=, 5000000);
	g_assert_cmpuint(c2, <, c1 - 900000);		/* 1 ms gone at 1 GHz */
	pending = lapic_pending(l);
	if (timer_now_ns() - t0 < 5 * MS)		/* unless this host starved us */
		g_assert_false(pending);
	/* Fires once, then the count stays 0. */
	g_assert_cmpint(wait_interrupts(l, 30 * MS, 0xe0, 1), ==, 1);
	g_assert_cmpuint(rd(l, TIMER_CURRENT), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].kicks), >=, 1);

	/* Divide by 16: one tick per 16 ns, checked against host time around the accesses. */
	wr(l, TIMER_DIVIDE, 0x3);
	t0 = timer_now_ns();
	wr(l, TIMER_INITIAL, 100000000);
	t1 = timer_now_ns();
	g_usleep(1600);
	t2 = timer_now_ns();
	c1 = rd(l, TIMER_CURRENT);
	t3 = timer_now_ns();
	g_assert_cmpuint(c1, <=, 100000000 - (uint32_t)((t2 - t1) / 16));
	g_assert_cmpuint(c1, >=, 100000000 - (uint32_t)((t3 - t0) / 16) - 1);
	/* Writing 0 stops it. */
	wr(l, TIMER_INITIAL, 0);
	g_assert_cmpint(count_interrupts(l, 20 * MS, 0xe0), ==, 0);
}

static void test_timer_masked(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];

	enable(l, 1);
	wr(l, TIMER_DIVIDE, 0xb);
	wr(l, LVT_TIMER, LVT_MASKED | 0xe0);
	wr(l, TIMER_INITIAL, 1000000);
	/* Masked: it counts, but no interrupt. */
	g_assert_cmpint(count_interrupts(l, 10 * MS, 0xe0), ==, 0);
	g_assert_cmpuint(rd(l, TIMER_CURRENT), ==, 0);
}

static void test_timer_periodic(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];
	int64_t start, elapsed_ms;
	int n;

	enable(l, 1);
	wr(l, TIMER_DIVIDE, 0xb);
	wr(l, LVT_TIMER, 0x20000 | 0xec);		/* periodic */
	start = timer_now_ns();
	wr(l, TIMER_INITIAL, 2000000);			/* 2 ms */
	/* ~50 in 100 ms; never more than one per 2 ms that really passed. */
	n = wait_interrupts(l, 100 * MS, 0xec, 25);
	elapsed_ms = (timer_now_ns() - start) / MS;
	if (n < 25 || n > elapsed_ms / 2 + 1)
		g_error("periodic 2 ms LAPIC timer gave %d interrupts in %" G_GINT64_FORMAT " ms", n,
			elapsed_ms);
	/* Current count cycles within the period. */
	g_assert_cmpuint(rd(l, TIMER_CURRENT), <=, 2000000);
	g_assert_cmpuint(rd(l, TIMER_CURRENT), >, 0);
	/* Switching mode disarms (§11.5.4.1). */
	wr(l, LVT_TIMER, 0xec);
	drain(l);
	g_assert_cmpint(count_interrupts(l, 10 * MS, 0xec), ==, 0);
}

static void test_timer_tsc_deadline(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];
	uint64_t v;

	enable(l, 1);
	atomic_store(&m->tsc.value, 1000000);
	/* Not in TSC-deadline mode: the MSR reads 0 and ignores writes. */
	g_assert_true(lapic_msr_write(l, MSR_TSC_DEADLINE, 5000));
	g_assert_true(lapic_msr_read(l, MSR_TSC_DEADLINE, &v));
	g_assert_cmphex(v, ==, 0);

	wr(l, LVT_TIMER, 0x40000 | 0xd0);
	/* A deadline already passed fires at once, and the MSR clears. */
	g_assert_true(lapic_msr_write(l, MSR_TSC_DEADLINE, 500));
	g_assert_cmpint(wait_interrupts(l, 5 * MS, 0xd0, 1), ==, 1);
	g_assert_true(lapic_msr_read(l, MSR_TSC_DEADLINE, &v));
	g_assert_cmphex(v, ==, 0);

	/* 10 ms ahead on a 1 GHz TSC: not before the TSC gets there. */
	g_assert_true(lapic_msr_write(l, MSR_TSC_DEADLINE, 1000000 + 10000000));
	g_assert_true(lapic_msr_read(l, MSR_TSC_DEADLINE, &v));
	g_assert_cmphex(v, ==, 11000000);
	g_assert_cmpint(count_interrupts(l, 25 * MS, 0xd0), ==, 0);	/* fake TSC stood still */
	atomic_store(&m->tsc.value, 11000000);
	g_assert_cmpint(wait_interrupts(l, 40 * MS, 0xd0, 1), ==, 1);

	/* Writing 0 disarms. */
	atomic_store(&m->tsc.value, 20000000);
	g_assert_true(lapic_msr_write(l, MSR_TSC_DEADLINE, 20000000 + 2000000));
	g_assert_true(lapic_msr_write(l, MSR_TSC_DEADLINE, 0));
	atomic_store(&m->tsc.value, 30000000);
	g_assert_cmpint(count_interrupts(l, 10 * MS, 0xd0), ==, 0);
	/* The initial-count register does nothing in this mode. */
	wr(l, TIMER_INITIAL, 1000);
	g_assert_cmpint(count_interrupts(l, 5 * MS, 0xd0), ==, 0);
	g_assert_cmpuint(rd(l, TIMER_CURRENT), ==, 0);
}

/* ---- IPIs ---- */

static void test_ipi_fixed_physical(struct machine *m, gconstpointer data)
{
	for (unsigned int i = 0; i < 3; i++)
		enable(m->lapic[i], i);
	/* CPU 0 to CPU 2: only CPU 2 gets it, and is kicked. */
	send_ipi(m->lapic[0], 2, 0x4000 | 0xf3);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[2].kicks), ==, 1);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].kicks), ==, 0);
	g_assert_cmpint(take_interrupt(m->lapic[2]), ==, 0xf3);
	g_assert_false(lapic_pending(m->lapic[1]));
	g_assert_false(lapic_pending(m->lapic[0]));
	/* Delivery status reads idle at once: Linux's apic_wait_icr_idle() returns. */
	g_assert_cmphex(rd(m->lapic[0], ICR_LOW) & 0x1000, ==, 0);
	g_assert_cmphex(rd(m->lapic[0], ICR_LOW), ==, 0x40f3);
	/* Broadcast 0xff reaches all three. */
	send_ipi(m->lapic[0], 0xff, 0x4000 | 0xf4);
	for (unsigned int i = 0; i < 3; i++)
		g_assert_true(vector_bit(m->lapic[i], IRR, 0xf4));
	/* A destination nobody has: nobody. */
	send_ipi(m->lapic[0], 9, 0x4000 | 0xf5);
	for (unsigned int i = 0; i < 3; i++)
		g_assert_false(vector_bit(m->lapic[i], IRR, 0xf5));
}

static void test_ipi_shorthands(struct machine *m, gconstpointer data)
{
	for (unsigned int i = 0; i < 3; i++)
		enable(m->lapic[i], i);
	send_ipi(m->lapic[1], 0, (1u << 18) | 0x4000 | 0xa1);	/* self */
	g_assert_true(vector_bit(m->lapic[1], IRR, 0xa1));
	g_assert_false(vector_bit(m->lapic[0], IRR, 0xa1));
	send_ipi(m->lapic[1], 0, (2u << 18) | 0x4000 | 0xa2);	/* all including self */
	for (unsigned int i = 0; i < 3; i++)
		g_assert_true(vector_bit(m->lapic[i], IRR, 0xa2));
	send_ipi(m->lapic[1], 0, (3u << 18) | 0x4000 | 0xa3);	/* all but self */
	g_assert_true(vector_bit(m->lapic[0], IRR, 0xa3));
	g_assert_false(vector_bit(m->lapic[1], IRR, 0xa3));
	g_assert_true(vector_bit(m->lapic[2], IRR, 0xa3));
}

static void test_ipi_logical_flat(struct machine *m, gconstpointer data)
{
	for (unsigned int i = 0; i < 3; i++)
		enable(m->lapic[i], i);
	/* Flat model: a bitmap of CPUs (Linux's flat APIC driver). */
	send_ipi(m->lapic[0], 0x06, 0x4800 | 0xb1);
	g_assert_false(vector_bit(m->lapic[0], IRR, 0xb1));
	g_assert_true(vector_bit(m->lapic[1], IRR, 0xb1));
	g_assert_true(vector_bit(m->lapic[2], IRR, 0xb1));
	send_ipi(m->lapic[0], 0x01, 0x4800 | 0xb2);
	g_assert_true(vector_bit(m->lapic[0], IRR, 0xb2));
	g_assert_false(vector_bit(m->lapic[1], IRR, 0xb2));
}

static void test_ipi_logical_cluster(struct machine *m, gconstpointer data)
{
	/* Cluster model: cluster 1 members 1 and 2, cluster 2 member 1. */
	const uint32_t ldr[3] = { 0x11000000, 0x12000000, 0x21000000 };

	for (unsigned int i = 0; i < 3; i++) {
		wr(m->lapic[i], SVR, SVR_ENABLED | 0xff);
		wr(m->lapic[i], DFR, 0x0fffffff);
		wr(m->lapic[i], LDR, ldr[i]);
	}
	send_ipi(m->lapic[0], 0x13, 0x4800 | 0xc1);
	g_assert_true(vector_bit(m->lapic[0], IRR, 0xc1));
	g_assert_true(vector_bit(m->lapic[1], IRR, 0xc1));
	g_assert_false(vector_bit(m->lapic[2], IRR, 0xc1));
	send_ipi(m->lapic[0], 0x21, 0x4800 | 0xc2);
	g_assert_false(vector_bit(m->lapic[0], IRR, 0xc2));
	g_assert_true(vector_bit(m->lapic[2], IRR, 0xc2));
}

static void test_ipi_lowest_priority(struct machine *m, gconstpointer data)
{
	int taken = 0;

	for (unsigned int i = 0; i < 3; i++)
		enable(m->lapic[i], i);
	/* CPU 0 and 2 busy at TPR 0x20; CPU 1 idle: CPU 1 takes it. */
	wr(m->lapic[0], TPR, 0x20);
	wr(m->lapic[2], TPR, 0x20);
	send_ipi(m->lapic[0], 0x07, 0x4900 | 0xd1);
	for (unsigned int i = 0; i < 3; i++)
		taken += vector_bit(m->lapic[i], IRR, 0xd1);
	g_assert_cmpint(taken, ==, 1);
	g_assert_true(vector_bit(m->lapic[1], IRR, 0xd1));
	/* From the IOAPIC too: exactly one target. */
	apic_bus_deliver(m->bus, &(struct apic_message){ .dest = 0x05, .dest_logical = true,
							 .delivery_mode = APIC_DM_LOWEST,
							 .vector = 0xd2, .assert = true });
	taken = 0;
	for (unsigned int i = 0; i < 3; i++)
		taken += vector_bit(m->lapic[i], IRR, 0xd2);
	g_assert_cmpint(taken, ==, 1);
}

static void test_ipi_nmi_init_startup(struct machine *m, gconstpointer data)
{
	struct lapic *ap = m->lapic[1];
	int kicks;

	enable(m->lapic[0], 0);
	enable(ap, 1);
	wr(ap, TPR, 0x30);
	deliver_fixed(m, 1, 0x80, false);
	/* NMI: not through IRR, regardless of TPR; the CPU is kicked to look. */
	g_assert_cmpint(take_interrupt(ap), ==, 0x80);
	kicks = g_atomic_int_get(&m->cpu[1].kicks);
	send_ipi(m->lapic[0], 1, 0x4400);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].kicks), ==, kicks + 1);
	g_assert_false(lapic_pending(ap));		/* not a maskable interrupt */
	g_assert_true(lapic_take_nmi(ap));
	g_assert_false(lapic_take_nmi(ap));

	/* Linux's wakeup_secondary_cpu_via_init(): INIT assert, INIT de-assert, 2x SIPI. */
	send_ipi(m->lapic[0], 1, 0xc500);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].inits), ==, 1);
	/* INIT reset the AP's APIC but kept its ID and APIC_BASE. */
	g_assert_cmphex(rd(ap, TPR), ==, 0);
	g_assert_cmphex(rd(ap, SVR), ==, 0xff);
	g_assert_false(vector_bit(ap, IRR, 0x80));
	g_assert_cmphex(rd(ap, ID), ==, 1u << 24);
	g_assert_cmphex(rd(ap, LVT_LINT0), ==, LVT_MASKED);
	send_ipi(m->lapic[0], 1, 0x8500);		/* de-assert: ignored */
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].inits), ==, 1);
	send_ipi(m->lapic[0], 1, 0x4600 | 0x9a);
	send_ipi(m->lapic[0], 1, 0x4600 | 0x9a);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].startups), ==, 2);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].startup_vector), ==, 0x9a);
	/* Software-disabled after INIT, the AP still accepts STARTUP; nobody else got any. */
	g_assert_cmpint(g_atomic_int_get(&m->cpu[2].startups), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[0].inits), ==, 0);
	/* INIT to all but self (old BIOS style). */
	send_ipi(m->lapic[0], 0, (3u << 18) | 0x4500);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].inits), ==, 2);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[2].inits), ==, 1);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[0].inits), ==, 0);
}

static void test_x2apic_ipis(struct machine *m, gconstpointer data)
{
	uint64_t base = APIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD;

	for (unsigned int i = 0; i < 3; i++) {
		g_assert_true(lapic_msr_write(m->lapic[i], MSR_APIC_BASE,
					      base | (i == 0 ? APIC_BASE_BSP : 0)));
		g_assert_true(lapic_msr_write(m->lapic[i], X2APIC_MSR(SVR), 0x1ff));
	}
	/* Physical, 32-bit destination. */
	g_assert_true(lapic_msr_write(m->lapic[0], X2APIC_MSR(ICR_LOW), (2ull << 32) | 0x4061));
	g_assert_cmpint(g_atomic_int_get(&m->cpu[2].kicks), ==, 1);
	g_assert_cmpint(take_interrupt(m->lapic[2]), ==, 0x61);
	g_assert_true(lapic_msr_write(m->lapic[2], X2APIC_MSR(EOI), 0));
	/* 0xff is an ordinary ID in x2APIC mode; 0xffffffff is broadcast. */
	g_assert_true(lapic_msr_write(m->lapic[0], X2APIC_MSR(ICR_LOW), (0xffull << 32) | 0x4062));
	g_assert_false(lapic_pending(m->lapic[1]));
	g_assert_true(lapic_msr_write(m->lapic[0], X2APIC_MSR(ICR_LOW),
				      (0xffffffffull << 32) | 0x4063));
	for (unsigned int i = 0; i < 3; i++)
		g_assert_cmpint(take_interrupt(m->lapic[i]), ==, 0x63);
	/* Logical: cluster 0, bits for IDs 0 and 1. */
	g_assert_true(lapic_msr_write(m->lapic[2], X2APIC_MSR(ICR_LOW), (0x3ull << 32) | 0x4864));
	g_assert_false(lapic_pending(m->lapic[2]));
	g_assert_false(lapic_pending(m->lapic[0]));	/* 0x63, same class, in service */
	for (unsigned int i = 0; i < 3; i++)
		g_assert_true(lapic_msr_write(m->lapic[i], X2APIC_MSR(EOI), 0));
	g_assert_cmpint(take_interrupt(m->lapic[0]), ==, 0x64);
	g_assert_cmpint(take_interrupt(m->lapic[1]), ==, 0x64);
	/* SELF IPI register. */
	g_assert_true(lapic_msr_write(m->lapic[2], X2APIC_MSR(SELF_IPI), 0x65));
	g_assert_cmpint(take_interrupt(m->lapic[2]), ==, 0x65);
	g_assert_false(lapic_msr_write(m->lapic[2], X2APIC_MSR(SELF_IPI), 0x165));
}

struct storm {
	struct lapic *from;
	uint8_t to;
	int count;
};

static gpointer ipi_storm(gpointer opaque)
{
	struct storm *s = opaque;

	for (int i = 0; i < s->count; i++) {
		send_ipi(s->from, s->to, 0x4000 | 0xee);
		lapic_acknowledge(s->from);
		wr(s->from, EOI, 0);
	}
	return NULL;
}

static void test_ipi_crossfire(struct machine *m, gconstpointer data)
{
	struct storm a = { m->lapic[0], 1, 20000 }, b = { m->lapic[1], 0, 20000 };
	GThread *ta, *tb;

	enable(m->lapic[0], 0);
	enable(m->lapic[1], 1);
	/* Two CPUs sending to each other at once, while acknowledging their own: no deadlock. */
	ta = g_thread_new("cpu0", ipi_storm, &a);
	tb = g_thread_new("cpu1", ipi_storm, &b);
	g_thread_join(ta);
	g_thread_join(tb);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[0].kicks), >, 0);
	g_assert_cmpint(g_atomic_int_get(&m->cpu[1].kicks), >, 0);
}

/* ---- LINT0/LINT1 and the 8259 ---- */

static void test_extint_virtual_wire(struct machine *m, gconstpointer data)
{
	struct lapic *bsp = m->lapic[0];

	/* Reset state, APIC never enabled by software: the 8259 reaches the CPU. */
	g_assert_false(lapic_pending(bsp));
	lapic_set_lint(bsp, 0, true);
	g_assert_true(lapic_pending(bsp));
	g_assert_cmpint(g_atomic_int_get(&m->cpu[0].kicks), ==, 1);
	g_assert_cmpint(lapic_acknowledge(bsp), ==, 0x30);
	g_assert_cmpint(g_atomic_int_get(&m->extint_acks), ==, 1);
	/* No ISR bit: the 8259 takes the EOI, not the APIC. */
	g_assert_cmphex(rd(bsp, ISR + 0x10), ==, 0);
	lapic_set_lint(bsp, 0, false);
	g_assert_false(lapic_pending(bsp));
	/* APs' LINT0 is masked: the 8259 does not reach them. */
	lapic_set_lint(m->lapic[1], 0, true);
	g_assert_false(lapic_pending(m->lapic[1]));
	/* Linux masks LINT0 once the IOAPIC takes over. */
	wr(bsp, LVT_LINT0, LVT_MASKED | 0x700);
	lapic_set_lint(bsp, 0, true);
	g_assert_false(lapic_pending(bsp));
	g_assert_cmpint(lapic_acknowledge(bsp), ==, -1);
	g_assert_cmpint(g_atomic_int_get(&m->extint_acks), ==, 1);
}

static void test_extint_hardware_disabled(struct machine *m, gconstpointer data)
{
	struct lapic *bsp = m->lapic[0];

	/* APIC_BASE EN clear: LINT0 is the INTR pin, whatever LVT0 said. */
	wr(bsp, SVR, 0x1ff);
	wr(bsp, LVT_LINT0, LVT_MASKED);
	g_assert_true(lapic_msr_write(bsp, MSR_APIC_BASE, APIC_DEFAULT_BASE | APIC_BASE_BSP));
	m->extint_vector = 0x08;
	lapic_set_lint(bsp, 0, true);
	g_assert_true(lapic_pending(bsp));
	g_assert_cmpint(lapic_acknowledge(bsp), ==, 0x08);
	lapic_set_lint(bsp, 0, false);
	g_assert_false(lapic_pending(bsp));
	/* LINT1 is the NMI pin, edge-triggered. */
	lapic_set_lint(bsp, 1, true);
	g_assert_true(lapic_take_nmi(bsp));
	lapic_set_lint(bsp, 1, true);
	g_assert_false(lapic_take_nmi(bsp));
	lapic_set_lint(bsp, 1, false);
	/* Bus messages do not reach a disabled APIC. */
	deliver_fixed(m, 0, 0x40, false);
	g_assert_false(lapic_pending(bsp));
	g_assert_cmpint(lapic_acknowledge(bsp), ==, -1);
}

static void test_lint_fixed_and_nmi(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];

	enable(l, 1);
	/* LINT1 as NMI: a rising edge. */
	wr(l, LVT_LINT1, 0x400);
	lapic_set_lint(l, 1, true);
	g_assert_true(lapic_take_nmi(l));
	lapic_set_lint(l, 1, false);
	/* LINT0 as a fixed, level-triggered, active-low input. */
	wr(l, LVT_LINT0, 0x8000 | 0x2000 | 0x55);
	lapic_set_lint(l, 0, true);			/* high = inactive */
	g_assert_false(lapic_pending(l));
	lapic_set_lint(l, 0, false);			/* asserted */
	g_assert_cmpint(take_interrupt(l), ==, 0x55);
	g_assert_true(vector_bit(l, TMR, 0x55));
	g_assert_cmphex(rd(l, LVT_LINT0) & 0x4000, ==, 0x4000);	/* remote IRR */
	/* Still asserted at EOI: again. */
	wr(l, EOI, 0);
	g_assert_cmphex(rd(l, LVT_LINT0) & 0x4000, ==, 0x4000);
	g_assert_cmpint(take_interrupt(l), ==, 0x55);
	lapic_set_lint(l, 0, true);
	wr(l, EOI, 0);
	g_assert_cmphex(rd(l, LVT_LINT0) & 0x4000, ==, 0);
	g_assert_false(lapic_pending(l));
}

static void test_reset_and_free_while_timer_runs(struct machine *m, gconstpointer data)
{
	struct lapic *l = m->lapic[1];
	uint64_t base;

	enable(l, 1);
	wr(l, TIMER_DIVIDE, 0xb);
	wr(l, LVT_TIMER, 0x20000 | 0xe1);
	wr(l, TIMER_INITIAL, 200000);			/* 200 us periodic */
	g_assert_true(lapic_msr_write(l, MSR_APIC_BASE,
				      APIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD));
	g_usleep(5000);
	/* Power-on reset: xAPIC mode again, timer stopped, nothing pending. */
	lapic_reset(l);
	g_assert_true(lapic_msr_read(l, MSR_APIC_BASE, &base));
	g_assert_cmphex(base, ==, APIC_DEFAULT_BASE | APIC_BASE_EN);
	g_assert_false(lapic_pending(l));
	g_assert_cmpint(count_interrupts(l, 5 * MS, 0xe1), ==, 0);
	/* Teardown with the timer running is the fixture's job (lapic_free). */
	wr(l, SVR, 0x1ff);
	wr(l, TIMER_DIVIDE, 0xb);
	wr(l, LVT_TIMER, 0x20000 | 0xe1);
	wr(l, TIMER_INITIAL, 100000);
}

#define ADD(path, fn) \
	g_test_add(path, struct machine, NULL, machine_set_up, fn, machine_tear_down)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/lapic/xapic-reset-values", test_xapic_reset_values);
	ADD("/lapic/xapic-round-trips", test_xapic_round_trips);
	ADD("/lapic/software-disable-masks-lvts", test_software_disable_masks_lvts);
	ADD("/lapic/apic-base-transitions", test_apic_base_transitions);
	ADD("/lapic/x2apic-registers", test_x2apic_registers);
	ADD("/lapic/priority-and-eoi", test_priority_and_eoi);
	ADD("/lapic/spurious-vector", test_spurious_vector);
	ADD("/lapic/tmr-and-illegal-vector", test_tmr_and_illegal_vector);
	ADD("/lapic/timer-one-shot", test_timer_one_shot);
	ADD("/lapic/timer-masked", test_timer_masked);
	ADD("/lapic/timer-periodic", test_timer_periodic);
	ADD("/lapic/timer-tsc-deadline", test_timer_tsc_deadline);
	ADD("/lapic/ipi-fixed-physical", test_ipi_fixed_physical);
	ADD("/lapic/ipi-shorthands", test_ipi_shorthands);
	ADD("/lapic/ipi-logical-flat", test_ipi_logical_flat);
	ADD("/lapic/ipi-logical-cluster", test_ipi_logical_cluster);
	ADD("/lapic/ipi-lowest-priority", test_ipi_lowest_priority);
	ADD("/lapic/ipi-nmi-init-startup", test_ipi_nmi_init_startup);
	ADD("/lapic/x2apic-ipis", test_x2apic_ipis);
	ADD("/lapic/ipi-crossfire", test_ipi_crossfire);
	ADD("/lapic/extint-virtual-wire", test_extint_virtual_wire);
	ADD("/lapic/extint-hardware-disabled", test_extint_hardware_disabled);
	ADD("/lapic/lint-fixed-and-nmi", test_lint_fixed_and_nmi);
	ADD("/lapic/reset-while-timer-runs", test_reset_and_free_while_timer_runs);
	return g_test_run();
}
