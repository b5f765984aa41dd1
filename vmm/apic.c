/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "apic.h"

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "apic_internal.h"
#include "log.h"

/*
 * Local APICs and the APIC bus (Intel SDM Vol. 3A ch. 11).
 *
 * Locking rule (shared with ioapic.c, pic.c and pit.c): a device never calls
 * out — into the CPU (kick, init, startup), another device, or the bus —
 * with its own state lock held.  Work is decided under the lock, recorded
 * (struct callouts), and done after unlocking.  The only nesting is
 *
 *	bus lock (read) -> one LAPIC lock -> timer service lock
 *
 * The bus lock is a reader/writer lock held for reading while a message is
 * matched against the LAPICs and accepted into their IRR (each LAPIC lock
 * taken in turn, never two at once); the CPU callbacks run after both are
 * released, through the ops and cpu pointers copied out.  So CPU A's LAPIC
 * sending to B while B sends to A, or the IOAPIC delivering while a LAPIC
 * broadcasts an EOI to it, only ever wait for short, non-nested sections.
 * The CPU's callbacks may call any lapic_* function, even on the sending
 * LAPIC; they must not free a LAPIC.
 *
 * Interrupts are accepted synchronously: a message is in the target's IRR
 * when apic_bus_deliver() or the ICR write returns, so delivery status bits
 * (ICR, LVT) always read idle.
 */
#define APIC_VERSION		0x14
#define APIC_LVT_COUNT		6	/* timer, thermal, PMC, LINT0, LINT1, error */
#define APIC_VERSION_VALUE	(APIC_VERSION | ((APIC_LVT_COUNT - 1) << 16))

/* IA32_APIC_BASE (Vol. 3A §11.4.4, §11.12.1). */
#define MSR_APIC_BASE		0x1b
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_X2APIC_FIRST	0x800
#define MSR_X2APIC_LAST		0x8ff
#define APIC_BASE_BSP		(1ull << 8)
#define APIC_BASE_EXTD		(1ull << 10)
#define APIC_BASE_EN		(1ull << 11)
#define APIC_BASE_ADDRESS	0x000ffffffffff000ull	/* up to MAXPHYADDR 52 */
#define APIC_BASE_RESERVED	(~(APIC_BASE_ADDRESS | APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN))

/* Register offsets in the xAPIC page; x2APIC MSR = 0x800 + offset / 16. */
enum {
	REG_ID = 0x020,
	REG_VERSION = 0x030,
	REG_TPR = 0x080,
	REG_APR = 0x090,
	REG_PPR = 0x0a0,
	REG_EOI = 0x0b0,
	REG_RRD = 0x0c0,
	REG_LDR = 0x0d0,
	REG_DFR = 0x0e0,
	REG_SVR = 0x0f0,
	REG_ISR = 0x100,
	REG_TMR = 0x180,
	REG_IRR = 0x200,
	REG_ESR = 0x280,
	REG_LVT_CMCI = 0x2f0,
	REG_ICR_LOW = 0x300,
	REG_ICR_HIGH = 0x310,
	REG_LVT_TIMER = 0x320,
	REG_LVT_THERMAL = 0x330,
	REG_LVT_PMC = 0x340,
	REG_LVT_LINT0 = 0x350,
	REG_LVT_LINT1 = 0x360,
	REG_LVT_ERROR = 0x370,
	REG_TIMER_INITIAL = 0x380,
	REG_TIMER_CURRENT = 0x390,
	REG_TIMER_DIVIDE = 0x3e0,
	REG_SELF_IPI = 0x3f0,		/* x2APIC only */
};

enum lvt_index {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PMC,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
};

#define LVT_VECTOR		0x000ffu
#define LVT_DELIVERY_MODE	0x00700u
#define LVT_POLARITY_LOW	0x02000u
#define LVT_REMOTE_IRR		0x04000u
#define LVT_LEVEL		0x08000u
#define LVT_MASKED		0x10000u
#define LVT_TIMER_MODE		0x60000u
#define LVT_TIMER_ONESHOT	0x00000u
#define LVT_TIMER_PERIODIC	0x20000u
#define LVT_TIMER_TSC_DEADLINE	0x40000u

/* What software may write in each LVT (Vol. 3A Figure 11-8). */
static const uint32_t lvt_writable[APIC_LVT_COUNT] = {
	[LVT_TIMER] = LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE,
	[LVT_THERMAL] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_MASKED,
	[LVT_PMC] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_MASKED,
	[LVT_LINT0] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_POLARITY_LOW | LVT_LEVEL | LVT_MASKED,
	[LVT_LINT1] = LVT_VECTOR | LVT_DELIVERY_MODE | LVT_POLARITY_LOW | LVT_LEVEL | LVT_MASKED,
	[LVT_ERROR] = LVT_VECTOR | LVT_MASKED,
};

#define SVR_VECTOR		0x0ffu
#define SVR_ENABLED		0x100u
#define SVR_FOCUS_DISABLED	0x200u
#define SVR_WRITABLE		(SVR_VECTOR | SVR_ENABLED | SVR_FOCUS_DISABLED)

/* ESR bits (Vol. 3A §11.5.3). */
#define ESR_SEND_ILLEGAL_VECTOR		0x20u
#define ESR_RECEIVE_ILLEGAL_VECTOR	0x40u

/* ICR (Vol. 3A §11.6.1). */
#define ICR_VECTOR		0x000ffu
#define ICR_DELIVERY_MODE_SHIFT	8
#define ICR_LOGICAL		0x00800u
#define ICR_ASSERT		0x04000u
#define ICR_LEVEL		0x08000u
#define ICR_SHORTHAND_SHIFT	18
#define ICR_LOW_WRITABLE	0xccfffu	/* no delivery status, remote read status */
#define X2APIC_ICR_RESERVED	0xfff32000ull	/* bits 31:20, 17:16, 13 */

#define TIMER_DIVIDE_WRITABLE	0xbu
#define DFR_MODEL_FLAT		0xfu
#define DFR_RESERVED_ONES	0x0fffffffu

/* Periodic timer interrupts no faster than this, whatever the guest asks. */
#define MIN_PERIOD_NS		100000

enum shorthand {
	SHORTHAND_NONE,
	SHORTHAND_SELF,
	SHORTHAND_ALL,
	SHORTHAND_ALL_BUT_SELF,
};

enum apic_mode {
	APIC_MODE_DISABLED,
	APIC_MODE_XAPIC,
	APIC_MODE_X2APIC,
	APIC_MODE_INVALID,
};

/* What to tell the CPU once no lock is held. */
struct callouts {
	bool kick;
	bool init;
	bool startup;
	uint8_t startup_vector;
};

struct apic_bus {
	GRWLock lock;			/* the LAPIC list and the hooks below */
	GPtrArray *lapics;
	unsigned int (*extint_acknowledge)(void *opaque);
	void *extint_opaque;
	void (*ioapic_eoi)(void *opaque, uint8_t vector);
	void *ioapic_opaque;
};

struct lapic {
	pthread_mutex_t lock;
	struct apic_bus *bus;
	struct timer *timer;
	struct lapic_clock clock;
	bool has_clock;
	const struct lapic_cpu_ops *ops;
	void *cpu;
	uint32_t initial_id;
	bool bsp;

	uint64_t apic_base;
	uint8_t xapic_id;		/* the ID register's bits 31:24 in xAPIC mode */
	uint32_t tpr;
	uint32_t ldr;
	uint32_t dfr;
	uint32_t svr;
	uint32_t isr[8];
	uint32_t tmr[8];
	uint32_t irr[8];
	uint32_t esr;			/* as last latched by an ESR write */
	uint32_t esr_pending;		/* errors since */
	uint32_t icr_low;
	uint32_t icr_high;
	uint32_t lvt[APIC_LVT_COUNT];

	uint32_t timer_initial;		/* TMICT */
	uint32_t timer_divide;		/* TDCR */
	bool timer_running;		/* one-shot or periodic counting */
	int64_t timer_start_ns;		/* when counting down from timer_start_count */
	uint32_t timer_start_count;
	int64_t timer_expiries;		/* expiries since timer_start_ns already signalled */
	uint64_t tsc_deadline;

	bool lint_level[2];		/* the pins, before polarity */
	bool extint_message;		/* an ExtINT message waits for INTA */

	/* Summaries for the CPU's lock-free checks, written under `lock`. */
	atomic_bool intr_pending;
	atomic_bool nmi_pending;
};

/* ---- 256-bit vector registers ---- */

static void vector_set(uint32_t *reg, unsigned int vector)
{
	reg[vector / 32] |= 1u << (vector % 32);
}

static void vector_clear(uint32_t *reg, unsigned int vector)
{
	reg[vector / 32] &= ~(1u << (vector % 32));
}

static bool vector_test(const uint32_t *reg, unsigned int vector)
{
	return reg[vector / 32] & (1u << (vector % 32));
}

static int vector_highest(const uint32_t *reg)
{
	for (int i = 7; i >= 0; i--) {
		if (reg[i])
			return i * 32 + 31 - __builtin_clz(reg[i]);
	}
	return -1;
}

/* ---- state helpers (lock held) ---- */

static enum apic_mode mode_of(uint64_t apic_base)
{
	bool en = apic_base & APIC_BASE_EN, extd = apic_base & APIC_BASE_EXTD;

	if (!en)
		return extd ? APIC_MODE_INVALID : APIC_MODE_DISABLED;
	return extd ? APIC_MODE_X2APIC : APIC_MODE_XAPIC;
}

static enum apic_mode apic_mode(const struct lapic *l)
{
	return mode_of(l->apic_base);
}

static bool hw_enabled(const struct lapic *l)
{
	return l->apic_base & APIC_BASE_EN;
}

static bool sw_enabled(const struct lapic *l)
{
	return l->svr & SVR_ENABLED;
}

static uint32_t x2apic_ldr(uint32_t id)
{
	/* Vol. 3A §11.12.10.2: cluster in bits 31:16, one bit of 16 below. */
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* Vol. 3A §11.8.3.1. */
static uint32_t ppr_of(const struct lapic *l)
{
	int isrv = vector_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

/* Vol. 3A §11.6.2.4 arbitration priority, from TPR, highest IRR and ISR. */
static uint32_t apr_of(const struct lapic *l)
{
	int irrv = vector_highest(l->irr), isrv = vector_highest(l->isr);
	uint32_t high = (uint32_t)MAX(MAX(irrv, isrv), 0) & 0xf0;

	return (l->tpr & 0xf0) >= high ? l->tpr & 0xff : high;
}

/* The IRR vector that may interrupt the CPU now, or -1. */
static int deliverable_vector(const struct lapic *l)
{
	int irrv = vector_highest(l->irr);

	if (irrv < 0 || ((uint32_t)irrv & 0xf0) <= (ppr_of(l) & 0xf0))
		return -1;
	return irrv;
}

static bool lint_asserted(const struct lapic *l, unsigned int lint)
{
	return l->lint_level[lint] != !!(l->lvt[LVT_LINT0 + lint] & LVT_POLARITY_LOW);
}

static unsigned int lvt_delivery_mode(uint32_t entry)
{
	return (entry & LVT_DELIVERY_MODE) >> 8;
}

/*
 * The 8259 wants an INTA: in virtual wire mode through LINT0 (ExtINT,
 * level-sensitive by definition), or as an ExtINT message from the IOAPIC.
 * With the APIC off (APIC_BASE EN clear) LINT0 is the plain INTR pin.
 */
static bool extint_requested(const struct lapic *l)
{
	uint32_t lvt0 = l->lvt[LVT_LINT0];

	if (!hw_enabled(l))
		return l->lint_level[0];
	if (l->extint_message)
		return true;
	return !(lvt0 & LVT_MASKED) && lvt_delivery_mode(lvt0) == APIC_DM_EXTINT &&
	       lint_asserted(l, 0);
}

/* Refreshes the CPU's summary; true when something is deliverable now. */
static bool update_pending(struct lapic *l)
{
	bool pending = extint_requested(l) || (hw_enabled(l) && deliverable_vector(l) >= 0);

	atomic_store(&l->intr_pending, pending);
	return pending;
}

static void run_callouts(const struct lapic_cpu_ops *ops, void *cpu, const struct callouts *c)
{
	if (!ops)
		return;
	if (c->init && ops->init)
		ops->init(cpu);
	if (c->startup && ops->startup)
		ops->startup(cpu, c->startup_vector);
	if (c->kick && ops->kick)
		ops->kick(cpu);
}

static void fire_lvt(struct lapic *l, enum lvt_index index, struct callouts *c);

/* Vol. 3A §11.5.3: an error is latched and may raise the LVT error interrupt. */
static void signal_error(struct lapic *l, uint32_t bits, struct callouts *c)
{
	l->esr_pending |= bits;
	fire_lvt(l, LVT_ERROR, c);
}

/* A fixed interrupt into IRR (TMR says how to EOI it). */
static void accept_fixed(struct lapic *l, unsigned int vector, bool level, bool from_error,
			 struct callouts *c)
{
	if (vector < 16) {
		/* Vectors 0-15 are illegal for the APIC; the error LVT itself only records it. */
		if (from_error)
			l->esr_pending |= ESR_RECEIVE_ILLEGAL_VECTOR;
		else
			signal_error(l, ESR_RECEIVE_ILLEGAL_VECTOR, c);
		return;
	}
	vector_set(l->irr, vector);
	if (level)
		vector_set(l->tmr, vector);
	else
		vector_clear(l->tmr, vector);
	if (update_pending(l) && deliverable_vector(l) == (int)vector)
		c->kick = true;
}

static void raise_nmi(struct lapic *l, struct callouts *c)
{
	atomic_store(&l->nmi_pending, true);
	c->kick = true;
}

static void reset_registers(struct lapic *l, bool power_on);

static void accept_init(struct lapic *l, struct callouts *c)
{
	/* Vol. 3A §11.4.7.3: everything but APIC_BASE and the ID, as after power-up. */
	reset_registers(l, false);
	c->init = true;
}

static void fire_lvt(struct lapic *l, enum lvt_index index, struct callouts *c)
{
	uint32_t entry = l->lvt[index];
	unsigned int mode = APIC_DM_FIXED;
	bool level = false;

	if (entry & LVT_MASKED)
		return;
	if (index != LVT_TIMER && index != LVT_ERROR)
		mode = lvt_delivery_mode(entry);
	switch (mode) {
	case APIC_DM_FIXED:
		/* Only LINT0/1 may be level-triggered; remote IRR holds them until EOI. */
		if ((index == LVT_LINT0 || index == LVT_LINT1) && (entry & LVT_LEVEL)) {
			if (entry & LVT_REMOTE_IRR)
				return;
			l->lvt[index] |= LVT_REMOTE_IRR;
			level = true;
		}
		accept_fixed(l, entry & LVT_VECTOR, level, index == LVT_ERROR, c);
		break;
	case APIC_DM_NMI:
		raise_nmi(l, c);
		break;
	case APIC_DM_INIT:
		accept_init(l, c);
		break;
	case APIC_DM_EXTINT:
		/* Sampled as a level by extint_requested(). */
		if (update_pending(l))
			c->kick = true;
		break;
	default:
		log_guest_once("LAPIC %u: LVT %d delivery mode %u not emulated", l->initial_id,
			       index, mode);
		break;
	}
}

/* A message from the bus, already matched to this LAPIC; false if refused. */
static bool accept_message(struct lapic *l, const struct apic_message *msg, struct callouts *c)
{
	if (!hw_enabled(l))
		return false;
	switch (msg->delivery_mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* A software-disabled APIC does not take fixed interrupts (§11.4.7.2). */
		if (!sw_enabled(l) || msg->vector < 16) {
			if (sw_enabled(l))
				signal_error(l, ESR_RECEIVE_ILLEGAL_VECTOR, c);
			return false;
		}
		accept_fixed(l, msg->vector, msg->level_triggered, false, c);
		break;
	case APIC_DM_NMI:
		raise_nmi(l, c);
		break;
	case APIC_DM_INIT:
		/* INIT level de-assert: only the Pentium and P6 acted on it (§11.6.1). */
		if (msg->level_triggered && !msg->assert)
			break;
		accept_init(l, c);
		break;
	case APIC_DM_STARTUP:
		c->startup = true;
		c->startup_vector = msg->vector;
		break;
	case APIC_DM_EXTINT:
		l->extint_message = true;
		if (update_pending(l))
			c->kick = true;
		break;
	case APIC_DM_SMI:
	default:
		log_guest_once("LAPIC %u: delivery mode %d not emulated", l->initial_id,
			       msg->delivery_mode);
		return false;
	}
	return true;
}

/* ---- the timer (Vol. 3A §11.5.4) ---- */

static unsigned int timer_divisor(const struct lapic *l)
{
	unsigned int code = ((l->timer_divide >> 1) & 4) | (l->timer_divide & 3);

	return 1u << ((code + 1) & 7);		/* 0b111 divides by 1 */
}

static uint64_t timer_ticks(const struct lapic *l, int64_t ns)
{
	if (ns <= 0)
		return 0;
	return (uint64_t)((unsigned __int128)ns * LAPIC_BUS_HZ / (1000000000ull * timer_divisor(l)));
}

/* The first instant timer_ticks() reaches `ticks`, relative to the start. */
static int64_t timer_ticks_ns(const struct lapic *l, uint64_t ticks)
{
	unsigned __int128 scaled = (unsigned __int128)ticks * 1000000000ull * timer_divisor(l);

	return (int64_t)((scaled + LAPIC_BUS_HZ - 1) / LAPIC_BUS_HZ);
}

static uint32_t timer_mode(const struct lapic *l)
{
	return l->lvt[LVT_TIMER] & LVT_TIMER_MODE;
}

static bool timer_periodic(const struct lapic *l)
{
	return timer_mode(l) == LVT_TIMER_PERIODIC;
}

static uint32_t timer_current(const struct lapic *l, int64_t now)
{
	uint64_t elapsed, c0 = l->timer_start_count, initial = l->timer_initial;

	if (!l->timer_running)
		return 0;
	elapsed = timer_ticks(l, now - l->timer_start_ns);
	if (elapsed < c0)
		return (uint32_t)(c0 - elapsed);
	if (!timer_periodic(l) || initial == 0)
		return 0;
	return (uint32_t)(initial - (elapsed - c0) % initial);
}

/* Expiry k (1-based) is at tick c0 + (k - 1) * initial. */
static void timer_arm(struct lapic *l, int64_t now)
{
	int64_t deadline, period_ns;

	if (!l->timer_running) {
		timer_cancel(l->timer);
		return;
	}
	deadline = l->timer_start_ns +
		   timer_ticks_ns(l, l->timer_start_count +
				     (uint64_t)l->timer_expiries * l->timer_initial);
	period_ns = timer_ticks_ns(l, l->timer_initial);
	if (l->timer_expiries > 0 && period_ns < MIN_PERIOD_NS && deadline < now + MIN_PERIOD_NS)
		deadline = now + MIN_PERIOD_NS;
	timer_arm_ns(l->timer, deadline);
}

static void timer_start(struct lapic *l, uint32_t count, int64_t now)
{
	l->timer_running = count != 0;
	l->timer_start_ns = now;
	l->timer_start_count = count;
	l->timer_expiries = 0;
	timer_arm(l, now);
}

static void timer_stop(struct lapic *l)
{
	l->timer_running = false;
	l->tsc_deadline = 0;
	timer_cancel(l->timer);
}

static void tsc_deadline_arm(struct lapic *l, int64_t now)
{
	uint64_t tsc;

	if (!l->tsc_deadline || !l->has_clock) {
		timer_cancel(l->timer);
		return;
	}
	tsc = l->clock.read_tsc(l->clock.opaque);
	if (tsc >= l->tsc_deadline) {
		timer_arm_ns(l->timer, now);
		return;
	}
	timer_arm_ns(l->timer, now + (int64_t)(((unsigned __int128)(l->tsc_deadline - tsc) *
						  1000000000ull + l->clock.tsc_hz - 1) /
						 l->clock.tsc_hz));
}

static void timer_expired(void *opaque)
{
	struct lapic *l = opaque;
	struct callouts c = { 0 };
	int64_t now = timer_now_ns();

	pthread_mutex_lock(&l->lock);
	if (timer_mode(l) == LVT_TIMER_TSC_DEADLINE) {
		/* The guest's TSC decides; host time only told us when to look. */
		if (l->tsc_deadline && l->has_clock &&
		    l->clock.read_tsc(l->clock.opaque) >= l->tsc_deadline) {
			l->tsc_deadline = 0;
			fire_lvt(l, LVT_TIMER, &c);
		} else {
			tsc_deadline_arm(l, now);
		}
	} else if (l->timer_running) {
		uint64_t elapsed = timer_ticks(l, now - l->timer_start_ns);
		int64_t expiries;

		if (elapsed >= l->timer_start_count) {
			/* Periods missed while the host was busy give one interrupt, not a burst. */
			expiries = timer_periodic(l) && l->timer_initial ?
				   (int64_t)((elapsed - l->timer_start_count) / l->timer_initial) + 1 : 1;
			if (expiries > l->timer_expiries) {
				l->timer_expiries = expiries;
				fire_lvt(l, LVT_TIMER, &c);
			}
			if (!timer_periodic(l) || !l->timer_initial)
				l->timer_running = false;
		}
		timer_arm(l, now);
	}
	pthread_mutex_unlock(&l->lock);
	run_callouts(l->ops, l->cpu, &c);
}

/* ---- reset ---- */

static void reset_registers(struct lapic *l, bool power_on)
{
	if (power_on) {
		l->apic_base = APIC_DEFAULT_BASE | APIC_BASE_EN | (l->bsp ? APIC_BASE_BSP : 0);
		l->xapic_id = (uint8_t)l->initial_id;
	}
	l->tpr = 0;
	l->ldr = apic_mode(l) == APIC_MODE_X2APIC ? x2apic_ldr(l->initial_id) : 0;
	l->dfr = 0xffffffffu;
	l->svr = SVR_VECTOR;
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	memset(l->irr, 0, sizeof(l->irr));
	l->esr = 0;
	l->esr_pending = 0;
	l->icr_low = 0;
	l->icr_high = 0;
	for (unsigned int i = 0; i < APIC_LVT_COUNT; i++)
		l->lvt[i] = LVT_MASKED;
	if (l->bsp) {
		/* Virtual wire mode, as KVM resets the BSP and a BIOS programs it (apic.h). */
		l->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
		l->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
	}
	l->timer_initial = 0;
	l->timer_divide = 0;
	timer_stop(l);
	l->extint_message = false;
	atomic_store(&l->nmi_pending, false);
	update_pending(l);
}

/* ---- the bus ---- */

struct apic_bus *apic_bus_new(void)
{
	struct apic_bus *bus = g_new0(struct apic_bus, 1);

	g_rw_lock_init(&bus->lock);
	bus->lapics = g_ptr_array_new();
	return bus;
}

void apic_bus_free(struct apic_bus *bus)
{
	if (!bus)
		return;
	if (bus->lapics->len)
		g_critical("APIC bus freed with %u local APICs on it", bus->lapics->len);
	g_ptr_array_free(bus->lapics, true);
	g_rw_lock_clear(&bus->lock);
	g_free(bus);
}

void apic_bus_set_extint(struct apic_bus *bus, unsigned int (*acknowledge)(void *opaque),
			 void *opaque)
{
	g_rw_lock_writer_lock(&bus->lock);
	bus->extint_acknowledge = acknowledge;
	bus->extint_opaque = opaque;
	g_rw_lock_writer_unlock(&bus->lock);
}

void apic_bus_set_ioapic(struct apic_bus *bus, void (*eoi)(void *opaque, uint8_t vector),
			 void *opaque)
{
	g_rw_lock_writer_lock(&bus->lock);
	bus->ioapic_eoi = eoi;
	bus->ioapic_opaque = opaque;
	g_rw_lock_writer_unlock(&bus->lock);
}

/*
 * Destination matching (Vol. 3A §11.6.2, §11.12.10).  `x2apic_format`: the
 * sender was an x2APIC (32-bit destinations, broadcast 0xffffffff); messages
 * from the IOAPIC and MSIs carry 8-bit destinations, broadcast 0xff.
 */
static bool matches_destination(const struct lapic *l, const struct apic_message *msg,
				bool x2apic_format)
{
	bool x2apic = apic_mode(l) == APIC_MODE_X2APIC;
	uint32_t dest = msg->dest;

	if (dest == 0xffffffffu || (!x2apic_format && (dest & 0xff) == 0xff))
		return true;
	if (!msg->dest_logical) {
		if (x2apic)
			return dest == l->initial_id;
		return (dest & 0xff) == l->xapic_id;
	}
	if (x2apic)
		return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xffff);
	if ((l->dfr >> 28) == DFR_MODEL_FLAT)
		return (dest & 0xff) & (l->ldr >> 24);
	/* Cluster model: cluster in bits 7:4 must match, one of four members below. */
	return ((dest >> 4) & 0xf) == (l->ldr >> 28) && (dest & (l->ldr >> 24) & 0xf);
}

static bool is_target(const struct lapic *l, const struct lapic *source, enum shorthand shorthand,
		      const struct apic_message *msg, bool x2apic_format)
{
	if (!hw_enabled(l))
		return false;
	switch (shorthand) {
	case SHORTHAND_SELF:
		return l == source;
	case SHORTHAND_ALL:
		return true;
	case SHORTHAND_ALL_BUT_SELF:
		return l != source;
	default:
		return matches_destination(l, msg, x2apic_format);
	}
}

struct bus_callout {
	const struct lapic_cpu_ops *ops;
	void *cpu;
	struct callouts c;
};

/*
 * Lowest priority (Vol. 3A §11.6.2.4): the matching, software-enabled LAPIC
 * with the lowest processor priority takes it; ties go to the first one
 * created (no focus processor, no rotation).
 */
static struct lapic *pick_lowest_priority(struct apic_bus *bus, const struct apic_message *msg,
					  bool x2apic_format)
{
	struct lapic *best = NULL;
	uint32_t best_priority = UINT32_MAX;

	for (unsigned int i = 0; i < bus->lapics->len; i++) {
		struct lapic *l = g_ptr_array_index(bus->lapics, i);
		uint32_t priority;

		pthread_mutex_lock(&l->lock);
		if (hw_enabled(l) && sw_enabled(l) && matches_destination(l, msg, x2apic_format)) {
			priority = ppr_of(l) & 0xf0;
			if (priority < best_priority) {
				best = l;
				best_priority = priority;
			}
		}
		pthread_mutex_unlock(&l->lock);
	}
	return best;
}

/* Returns how many LAPICs accepted the message. */
static unsigned int bus_deliver(struct apic_bus *bus, const struct apic_message *msg,
				struct lapic *source, enum shorthand shorthand, bool x2apic_format)
{
	struct bus_callout local[8], *calls = local;
	unsigned int count = 0, accepted = 0;

	g_rw_lock_reader_lock(&bus->lock);
	if (bus->lapics->len > G_N_ELEMENTS(local))
		calls = g_new(struct bus_callout, bus->lapics->len);
	if (msg->delivery_mode == APIC_DM_LOWEST && shorthand == SHORTHAND_NONE) {
		struct lapic *l = pick_lowest_priority(bus, msg, x2apic_format);

		if (l) {
			calls[0] = (struct bus_callout){ l->ops, l->cpu, { 0 } };
			pthread_mutex_lock(&l->lock);
			accepted += accept_message(l, msg, &calls[0].c);
			pthread_mutex_unlock(&l->lock);
			count = 1;
		}
	} else {
		for (unsigned int i = 0; i < bus->lapics->len; i++) {
			struct lapic *l = g_ptr_array_index(bus->lapics, i);
			struct bus_callout *call = &calls[count];

			*call = (struct bus_callout){ l->ops, l->cpu, { 0 } };
			pthread_mutex_lock(&l->lock);
			if (is_target(l, source, shorthand, msg, x2apic_format))
				accepted += accept_message(l, msg, &call->c);
			pthread_mutex_unlock(&l->lock);
			if (call->c.kick || call->c.init || call->c.startup)
				count++;
		}
	}
	g_rw_lock_reader_unlock(&bus->lock);

	for (unsigned int i = 0; i < count; i++)
		run_callouts(calls[i].ops, calls[i].cpu, &calls[i].c);
	if (calls != local)
		g_free(calls);
	return accepted;
}

void apic_bus_deliver(struct apic_bus *bus, const struct apic_message *msg)
{
	bus_deliver(bus, msg, NULL, SHORTHAND_NONE, false);
}

unsigned int apic_bus_deliver_counted(struct apic_bus *bus, const struct apic_message *msg)
{
	return bus_deliver(bus, msg, NULL, SHORTHAND_NONE, false);
}

static void bus_broadcast_eoi(struct apic_bus *bus, uint8_t vector)
{
	void (*eoi)(void *opaque, uint8_t vector);
	void *opaque;

	g_rw_lock_reader_lock(&bus->lock);
	eoi = bus->ioapic_eoi;
	opaque = bus->ioapic_opaque;
	g_rw_lock_reader_unlock(&bus->lock);
	if (eoi)
		eoi(opaque, vector);
}

/* ---- life cycle ---- */

struct lapic *lapic_new(struct apic_bus *bus, struct timer_service *timers, uint32_t apic_id,
			bool bsp, const struct lapic_clock *clock, const struct lapic_cpu_ops *ops,
			void *cpu)
{
	struct lapic *l = g_new0(struct lapic, 1);

	pthread_mutex_init(&l->lock, NULL);
	l->bus = bus;
	l->initial_id = apic_id;
	l->bsp = bsp;
	l->ops = ops;
	l->cpu = cpu;
	if (clock && clock->read_tsc && clock->tsc_hz) {
		l->clock = *clock;
		l->has_clock = true;
	}
	l->timer = timer_new(timers, timer_expired, l);
	lapic_reset(l);

	g_rw_lock_writer_lock(&bus->lock);
	g_ptr_array_add(bus->lapics, l);
	g_rw_lock_writer_unlock(&bus->lock);
	return l;
}

void lapic_free(struct lapic *lapic)
{
	if (!lapic)
		return;
	g_rw_lock_writer_lock(&lapic->bus->lock);
	g_ptr_array_remove(lapic->bus->lapics, lapic);
	g_rw_lock_writer_unlock(&lapic->bus->lock);
	/* Waits for a running timer callback, which takes lapic->lock. */
	timer_free(lapic->timer);
	pthread_mutex_destroy(&lapic->lock);
	g_free(lapic);
}

void lapic_reset(struct lapic *lapic)
{
	pthread_mutex_lock(&lapic->lock);
	reset_registers(lapic, true);
	pthread_mutex_unlock(&lapic->lock);
}

void lapic_init_ipi_reset(struct lapic *lapic)
{
	pthread_mutex_lock(&lapic->lock);
	reset_registers(lapic, false);
	pthread_mutex_unlock(&lapic->lock);
}

/* ---- CPU side ---- */

/*
 * Maskable interrupts only (what INTA would take).  NMIs are not included:
 * a CPU with IF=1 and NMIs blocked would otherwise be told "pending" for an
 * interrupt it cannot take; they arrive with a kick and lapic_take_nmi().
 */
bool lapic_pending(struct lapic *lapic)
{
	return atomic_load_explicit(&lapic->intr_pending, memory_order_acquire);
}

const atomic_bool *lapic_pending_flag(struct lapic *lapic)
{
	return &lapic->intr_pending;
}

bool lapic_take_nmi(struct lapic *lapic)
{
	if (!atomic_load_explicit(&lapic->nmi_pending, memory_order_acquire))
		return false;
	return atomic_exchange(&lapic->nmi_pending, false);
}

static int extint_acknowledge(struct lapic *l)
{
	unsigned int (*acknowledge)(void *opaque);
	void *opaque;

	g_rw_lock_reader_lock(&l->bus->lock);
	acknowledge = l->bus->extint_acknowledge;
	opaque = l->bus->extint_opaque;
	g_rw_lock_reader_unlock(&l->bus->lock);
	if (!acknowledge) {
		log_guest_once("LAPIC %u: ExtINT with no 8259 attached", l->initial_id);
		return -1;
	}
	return (int)(acknowledge(opaque) & 0xff);
}

int lapic_acknowledge(struct lapic *lapic)
{
	int vector;

	pthread_mutex_lock(&lapic->lock);
	if (extint_requested(lapic)) {
		/* The 8259 supplies the vector; ExtINT bypasses IRR/ISR (§11.5.1). */
		lapic->extint_message = false;
		pthread_mutex_unlock(&lapic->lock);
		vector = extint_acknowledge(lapic);
		pthread_mutex_lock(&lapic->lock);
		update_pending(lapic);
		pthread_mutex_unlock(&lapic->lock);
		return vector;
	}
	if (!hw_enabled(lapic)) {
		pthread_mutex_unlock(&lapic->lock);
		return -1;
	}
	vector = deliverable_vector(lapic);
	if (vector >= 0) {
		vector_clear(lapic->irr, (unsigned int)vector);
		vector_set(lapic->isr, (unsigned int)vector);
	} else if (vector_highest(lapic->irr) >= 0 && sw_enabled(lapic)) {
		/*
		 * A request is there but the priority rose above it since the CPU
		 * looked: the spurious vector, which sets no ISR bit (§11.9).
		 */
		vector = (int)(lapic->svr & SVR_VECTOR);
	}
	update_pending(lapic);
	pthread_mutex_unlock(&lapic->lock);
	return vector;
}

void lapic_set_lint(struct lapic *lapic, unsigned int lint, bool level)
{
	struct callouts c = { 0 };
	bool was_asserted, rising;

	if (lint > 1)
		return;
	pthread_mutex_lock(&lapic->lock);
	if (!hw_enabled(lapic)) {
		/* No APIC: LINT0 is the INTR pin, LINT1 the NMI pin (edge). */
		rising = level && !lapic->lint_level[lint];
		lapic->lint_level[lint] = level;
		if (lint == 1 && rising)
			raise_nmi(lapic, &c);
		else if (lint == 0 && update_pending(lapic) && rising)
			c.kick = true;
	} else {
		was_asserted = lint_asserted(lapic, lint);
		lapic->lint_level[lint] = level;
		rising = lint_asserted(lapic, lint) && !was_asserted;
		if (lint == 0 && lvt_delivery_mode(lapic->lvt[LVT_LINT0]) == APIC_DM_EXTINT) {
			/* Virtual wire: INTR is sampled as a level at INTA. */
			if (update_pending(lapic) && rising)
				c.kick = true;
		} else if (rising) {
			fire_lvt(lapic, LVT_LINT0 + lint, &c);
		}
	}
	pthread_mutex_unlock(&lapic->lock);
	run_callouts(lapic->ops, lapic->cpu, &c);
}

/* ---- registers ---- */

static void eoi(struct lapic *l)
{
	struct callouts c = { 0 };
	int vector;
	bool level;

	pthread_mutex_lock(&l->lock);
	vector = vector_highest(l->isr);
	if (vector < 0) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	vector_clear(l->isr, (unsigned int)vector);
	level = vector_test(l->tmr, (unsigned int)vector);
	/* A level-triggered LINT pin still asserted interrupts again. */
	for (enum lvt_index i = LVT_LINT0; i <= LVT_LINT1; i++) {
		if ((l->lvt[i] & LVT_REMOTE_IRR) && (l->lvt[i] & LVT_VECTOR) == (uint32_t)vector) {
			l->lvt[i] &= ~LVT_REMOTE_IRR;
			level = false;		/* local, not the IOAPIC's */
			if (lint_asserted(l, i - LVT_LINT0))
				fire_lvt(l, i, &c);
		}
	}
	update_pending(l);
	pthread_mutex_unlock(&l->lock);
	run_callouts(l->ops, l->cpu, &c);
	/* No directed EOI (version bit 24 clear): every level EOI goes to the IOAPIC. */
	if (level)
		bus_broadcast_eoi(l->bus, (uint8_t)vector);
}

/* Sends the IPI the ICR describes; called with the lock held, returns unlocked. */
static void send_ipi_unlock(struct lapic *l, uint32_t low, uint32_t dest, bool x2apic)
{
	struct apic_message msg = {
		.dest = dest,
		.dest_logical = low & ICR_LOGICAL,
		.delivery_mode = (enum apic_delivery_mode)((low >> ICR_DELIVERY_MODE_SHIFT) & 7),
		.vector = (uint8_t)(low & ICR_VECTOR),
		.level_triggered = low & ICR_LEVEL,
		.assert = low & ICR_ASSERT,
	};
	enum shorthand shorthand = (enum shorthand)((low >> ICR_SHORTHAND_SHIFT) & 3);
	struct callouts c = { 0 };

	if ((msg.delivery_mode == APIC_DM_FIXED || msg.delivery_mode == APIC_DM_LOWEST) &&
	    msg.vector < 16) {
		signal_error(l, ESR_SEND_ILLEGAL_VECTOR, &c);
		pthread_mutex_unlock(&l->lock);
		run_callouts(l->ops, l->cpu, &c);
		return;
	}
	if (msg.delivery_mode == APIC_DM_EXTINT || msg.delivery_mode == 3) {
		pthread_mutex_unlock(&l->lock);
		log_guest_once("LAPIC %u: IPI with reserved delivery mode %d", l->initial_id,
			       msg.delivery_mode);
		return;
	}
	pthread_mutex_unlock(&l->lock);
	bus_deliver(l->bus, &msg, l, shorthand, x2apic);
}

static void write_lvt(struct lapic *l, enum lvt_index index, uint32_t value)
{
	uint32_t old = l->lvt[index];

	value &= lvt_writable[index];
	value |= old & LVT_REMOTE_IRR;
	/* Software-disabled: the mask bits stay set (§11.4.7.2). */
	if (!sw_enabled(l))
		value |= LVT_MASKED;
	l->lvt[index] = value;
	/* A mode change disarms the timer (§11.5.4.1). */
	if (index == LVT_TIMER && ((old ^ value) & LVT_TIMER_MODE))
		timer_stop(l);
	if (index == LVT_LINT0 || index == LVT_LINT1)
		update_pending(l);
}

static void write_svr(struct lapic *l, uint32_t value)
{
	l->svr = value & SVR_WRITABLE;
	if (!sw_enabled(l)) {
		for (unsigned int i = 0; i < APIC_LVT_COUNT; i++)
			l->lvt[i] |= LVT_MASKED;
	}
	update_pending(l);
}

static void write_timer_divide(struct lapic *l, uint32_t value, int64_t now)
{
	uint32_t current = timer_current(l, now);

	l->timer_divide = value & TIMER_DIVIDE_WRITABLE;
	/* Keep counting from where it is, at the new rate. */
	if (l->timer_running && current)
		timer_start(l, current, now);
}

static void write_timer_initial(struct lapic *l, uint32_t value, int64_t now)
{
	if (timer_mode(l) == LVT_TIMER_TSC_DEADLINE)
		return;		/* ignored in TSC-deadline mode (§11.5.4.1) */
	l->timer_initial = value;
	timer_start(l, value, now);
}

static uint32_t read_register(struct lapic *l, uint32_t reg, int64_t now)
{
	bool x2apic = apic_mode(l) == APIC_MODE_X2APIC;

	if (reg >= REG_ISR && reg < REG_ISR + 0x80)
		return l->isr[(reg - REG_ISR) / 16];
	if (reg >= REG_TMR && reg < REG_TMR + 0x80)
		return l->tmr[(reg - REG_TMR) / 16];
	if (reg >= REG_IRR && reg < REG_IRR + 0x80)
		return l->irr[(reg - REG_IRR) / 16];
	if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR)
		return l->lvt[(reg - REG_LVT_TIMER) / 16];
	switch (reg) {
	case REG_ID:
		return x2apic ? l->initial_id : (uint32_t)l->xapic_id << 24;
	case REG_VERSION:
		return APIC_VERSION_VALUE;
	case REG_TPR:
		return l->tpr;
	case REG_APR:
		return apr_of(l);
	case REG_PPR:
		return ppr_of(l);
	case REG_LDR:
		return l->ldr;
	case REG_DFR:
		return l->dfr;
	case REG_SVR:
		return l->svr;
	case REG_ESR:
		return l->esr;
	case REG_ICR_LOW:
		return l->icr_low;	/* delivery status: always idle */
	case REG_ICR_HIGH:
		return l->icr_high;
	case REG_TIMER_INITIAL:
		return l->timer_initial;
	case REG_TIMER_CURRENT:
		return timer_mode(l) == LVT_TIMER_TSC_DEADLINE ? 0 : timer_current(l, now);
	case REG_TIMER_DIVIDE:
		return l->timer_divide;
	default:
		return 0;
	}
}

/*
 * Writes a register other than EOI and ICR low (which call out).  Returns
 * false for registers software cannot write.
 */
static bool write_register(struct lapic *l, uint32_t reg, uint32_t value, int64_t now)
{
	if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
		write_lvt(l, (enum lvt_index)((reg - REG_LVT_TIMER) / 16), value);
		return true;
	}
	switch (reg) {
	case REG_ID:
		l->xapic_id = (uint8_t)(value >> 24);
		return true;
	case REG_TPR:
		l->tpr = value & 0xff;
		update_pending(l);
		return true;
	case REG_LDR:
		l->ldr = value & 0xff000000u;
		return true;
	case REG_DFR:
		l->dfr = (value & 0xf0000000u) | DFR_RESERVED_ONES;
		return true;
	case REG_SVR:
		write_svr(l, value);
		return true;
	case REG_ESR:
		/* A write latches the errors seen since the last one (§11.5.3). */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return true;
	case REG_ICR_HIGH:
		l->icr_high = value & 0xff000000u;
		return true;
	case REG_TIMER_INITIAL:
		write_timer_initial(l, value, now);
		return true;
	case REG_TIMER_DIVIDE:
		write_timer_divide(l, value, now);
		return true;
	default:
		return false;
	}
}

uint64_t lapic_base_address(struct lapic *lapic)
{
	uint64_t base;

	pthread_mutex_lock(&lapic->lock);
	base = apic_mode(lapic) == APIC_MODE_XAPIC ? lapic->apic_base & APIC_BASE_ADDRESS : 0;
	pthread_mutex_unlock(&lapic->lock);
	return base;
}

uint32_t lapic_mmio_read(struct lapic *lapic, uint32_t offset)
{
	uint32_t reg = offset & 0xff0, byte = offset & 0xf, value;

	/* Registers sit at 16-byte strides; bytes 4-15 of each are reserved. */
	if (offset >= 0x1000 || byte >= 4)
		return 0;
	pthread_mutex_lock(&lapic->lock);
	value = apic_mode(lapic) == APIC_MODE_XAPIC ? read_register(lapic, reg, timer_now_ns()) : 0;
	pthread_mutex_unlock(&lapic->lock);
	return value >> (8 * byte);
}

void lapic_mmio_write(struct lapic *lapic, uint32_t offset, uint32_t value)
{
	uint32_t reg = offset & 0xff0;

	if (offset >= 0x1000 || (offset & 0xf)) {
		log_guest_once("LAPIC: unaligned register write at offset %#x", offset);
		return;
	}
	pthread_mutex_lock(&lapic->lock);
	if (apic_mode(lapic) != APIC_MODE_XAPIC) {
		pthread_mutex_unlock(&lapic->lock);
		return;
	}
	if (reg == REG_EOI) {
		pthread_mutex_unlock(&lapic->lock);
		eoi(lapic);
		return;
	}
	if (reg == REG_ICR_LOW) {
		lapic->icr_low = value & ICR_LOW_WRITABLE;
		send_ipi_unlock(lapic, lapic->icr_low, lapic->icr_high >> 24, false);
		return;
	}
	write_register(lapic, reg, value, timer_now_ns());
	pthread_mutex_unlock(&lapic->lock);
}

/* ---- MSRs ---- */

static bool write_apic_base(struct lapic *l, uint64_t value)
{
	enum apic_mode old_mode = apic_mode(l), new_mode;

	if (value & APIC_BASE_RESERVED)
		return false;
	new_mode = mode_of(value);
	/* Vol. 3A §11.12.5, Figure 11-27: the legal transitions. */
	if (new_mode == APIC_MODE_INVALID ||
	    (old_mode == APIC_MODE_X2APIC && new_mode == APIC_MODE_XAPIC) ||
	    (old_mode == APIC_MODE_DISABLED && new_mode == APIC_MODE_X2APIC))
		return false;

	/* BSP is set by hardware at reset; writes do not move it. */
	l->apic_base = (value & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
	if (new_mode == APIC_MODE_DISABLED && old_mode != APIC_MODE_DISABLED) {
		/* §11.4.3: state may be lost; we lose it, ID included (§11.12.5.1). */
		l->xapic_id = (uint8_t)l->initial_id;
		reset_registers(l, false);
	} else if (new_mode == APIC_MODE_X2APIC && old_mode == APIC_MODE_XAPIC) {
		l->ldr = x2apic_ldr(l->initial_id);
	}
	update_pending(l);
	return true;
}

static bool x2apic_read(struct lapic *l, uint32_t reg, uint64_t *value, int64_t now)
{
	switch (reg) {
	case REG_EOI:
	case REG_SELF_IPI:	/* write-only */
	case REG_APR:
	case REG_RRD:
	case REG_DFR:
	case REG_LVT_CMCI:
	case REG_ICR_HIGH:	/* no such register: ICR is one 64-bit MSR */
		return false;
	case REG_ICR_LOW:
		*value = ((uint64_t)l->icr_high << 32) | l->icr_low;
		return true;
	default:
		if (reg == REG_ID || reg == REG_VERSION || reg == REG_TPR || reg == REG_PPR ||
		    reg == REG_LDR || reg == REG_SVR || reg == REG_ESR ||
		    (reg >= REG_ISR && reg < REG_IRR + 0x80) ||
		    (reg >= REG_LVT_TIMER && reg <= REG_TIMER_CURRENT) || reg == REG_TIMER_DIVIDE) {
			*value = read_register(l, reg, now);
			return true;
		}
		return false;
	}
}

/* Reserved bits of writable 32-bit x2APIC registers; setting one is #GP (§11.12.1.3). */
static bool x2apic_reserved_bits_clear(uint32_t reg, uint32_t value)
{
	if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR)
		return !(value & ~lvt_writable[(reg - REG_LVT_TIMER) / 16]);
	switch (reg) {
	case REG_TPR:
		return !(value & ~0xffu);
	case REG_SVR:
		return !(value & ~SVR_WRITABLE);
	case REG_ESR:
	case REG_EOI:
		return value == 0;
	case REG_TIMER_DIVIDE:
		return !(value & ~TIMER_DIVIDE_WRITABLE);
	case REG_SELF_IPI:
		return !(value & ~0xffu);
	case REG_TIMER_INITIAL:
		return true;
	default:
		return false;	/* read-only or absent */
	}
}

/* Called with the lock held; returns with it released. */
static bool x2apic_write_unlock(struct lapic *l, uint32_t reg, uint64_t value, int64_t now)
{
	if (reg == REG_ICR_LOW) {
		if (value & X2APIC_ICR_RESERVED) {
			pthread_mutex_unlock(&l->lock);
			return false;
		}
		l->icr_low = (uint32_t)value & ICR_LOW_WRITABLE;
		l->icr_high = (uint32_t)(value >> 32);
		send_ipi_unlock(l, l->icr_low, l->icr_high, true);
		return true;
	}
	if ((value >> 32) || !x2apic_reserved_bits_clear(reg, (uint32_t)value)) {
		pthread_mutex_unlock(&l->lock);
		return false;
	}
	if (reg == REG_EOI) {
		pthread_mutex_unlock(&l->lock);
		eoi(l);
		return true;
	}
	if (reg == REG_SELF_IPI) {
		/* A fixed, edge-triggered interrupt to this APIC (§11.12.11). */
		send_ipi_unlock(l, (uint32_t)value | (SHORTHAND_SELF << ICR_SHORTHAND_SHIFT),
				0, true);
		return true;
	}
	write_register(l, reg, (uint32_t)value, now);
	pthread_mutex_unlock(&l->lock);
	return true;
}

bool lapic_msr_read(struct lapic *lapic, uint32_t index, uint64_t *value)
{
	bool ok = true;

	pthread_mutex_lock(&lapic->lock);
	if (index == MSR_APIC_BASE) {
		*value = lapic->apic_base;
	} else if (index == MSR_TSC_DEADLINE) {
		*value = timer_mode(lapic) == LVT_TIMER_TSC_DEADLINE ? lapic->tsc_deadline : 0;
	} else if (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST &&
		   apic_mode(lapic) == APIC_MODE_X2APIC) {
		ok = x2apic_read(lapic, (index - MSR_X2APIC_FIRST) << 4, value, timer_now_ns());
	} else {
		ok = false;
	}
	pthread_mutex_unlock(&lapic->lock);
	return ok;
}

bool lapic_msr_write(struct lapic *lapic, uint32_t index, uint64_t value)
{
	int64_t now = timer_now_ns();
	bool ok = true;

	pthread_mutex_lock(&lapic->lock);
	if (index == MSR_APIC_BASE) {
		ok = write_apic_base(lapic, value);
	} else if (index == MSR_TSC_DEADLINE) {
		/* Ignored unless the timer is in TSC-deadline mode; 0 disarms. */
		if (timer_mode(lapic) == LVT_TIMER_TSC_DEADLINE && hw_enabled(lapic)) {
			lapic->tsc_deadline = value;
			tsc_deadline_arm(lapic, now);
		}
	} else if (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST &&
		   apic_mode(lapic) == APIC_MODE_X2APIC) {
		return x2apic_write_unlock(lapic, (index - MSR_X2APIC_FIRST) << 4, value, now);
	} else {
		ok = false;
	}
	pthread_mutex_unlock(&lapic->lock);
	return ok;
}
