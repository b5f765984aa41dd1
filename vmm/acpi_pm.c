/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ACPI fixed hardware (ACPI 6.5 §4.8): the PM1a event block (PM1_STS,
 * PM1_EN), the PM1a control block (PM1_CNT) and the PM timer, at the ports
 * the FADT of acpi_tables.c names.  The SCI is a level-triggered interrupt
 * asserted while an enabled status bit is set (§4.8.3.1); the OS clears
 * status bits by writing 1s.
 *
 * What is there: the power button (PWRBTN_STS/PWRBTN_EN) and S5 (SLP_TYP =
 * \_S5's value with SLP_EN: the machine switches off).  The PM timer runs on
 * host monotonic time; TMR_STS follows its bit 31 but raises no SCI (no OS
 * enables TMR_EN on a machine with better clocks, so no timer thread runs
 * for it).  There is no SMM: SCI_EN always reads 1.
 */
#include "acpi.h"

#include "log.h"
#include "timer.h"

/*
 * Bits that exist; the rest of PM1_STS/PM1_EN read 0 and ignore writes.
 * GBL_EN, SLPBTN_EN and RTC_EN keep what the OS writes (ACPICA reads each
 * enable back and complains if it did not stick), but their events never
 * happen: no firmware takes the global lock, the FADT declares no sleep
 * button and RTC wake-ups outside PM1 (SLP_BUTTON, FIX_RTC).
 */
#define PM1_STS_BITS	(ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_WAK_STS)
#define PM1_EN_BITS	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
/* Enabled status bits that assert the SCI. */
#define SCI_SOURCES	ACPI_PM1_PWRBTN

struct acpi_pm {
	GMutex lock;
	uint16_t status;		/* PM1_STS without TMR_STS, which is computed */
	uint16_t enable;		/* PM1_EN */
	uint16_t control;		/* PM1_CNT: SCI_EN, SLP_TYP */
	uint64_t tmr_sts_cleared;	/* timer ticks >> 31 when TMR_STS was last cleared */
	bool sci_level;
	struct irq_line sci;
	int64_t (*now_ns)(void);
	void (*power_off)(void *opaque);
	void *opaque;
};

/* Ticks of the 3.579545 MHz timer since the host clock's epoch. */
static uint64_t timer_ticks(const struct acpi_pm *pm)
{
	return (uint64_t)((unsigned __int128)(uint64_t)pm->now_ns() * ACPI_PM_TIMER_HZ / 1000000000u);
}

/*
 * §4.8.3.3.1: TMR_STS is set whenever bit 31 of the timer (TMR_VAL_EXT)
 * changes; counted lazily against the value when the OS last cleared it.
 */
static uint16_t read_status(const struct acpi_pm *pm)
{
	return pm->status | ((timer_ticks(pm) >> 31) != pm->tmr_sts_cleared ? ACPI_PM1_TMR : 0);
}

static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->status & pm->enable & SCI_SOURCES) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(&pm->sci, level);
	}
}

struct acpi_pm *acpi_pm_new(struct irq_line sci, void (*power_off)(void *opaque), void *opaque)
{
	struct acpi_pm *pm = g_new0(struct acpi_pm, 1);

	g_mutex_init(&pm->lock);
	pm->sci = sci;
	pm->now_ns = timer_now_ns;
	pm->power_off = power_off;
	pm->opaque = opaque;
	acpi_pm_reset(pm);
	return pm;
}

void acpi_pm_free(struct acpi_pm *pm)
{
	if (!pm)
		return;
	g_mutex_clear(&pm->lock);
	g_free(pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	g_mutex_lock(&pm->lock);
	pm->status = 0;
	pm->enable = 0;
	pm->control = ACPI_PM1_CNT_SCI_EN;
	pm->tmr_sts_cleared = timer_ticks(pm) >> 31;
	update_sci(pm);
	g_mutex_unlock(&pm->lock);
}

void acpi_pm_set_clock(struct acpi_pm *pm, int64_t (*now_ns)(void))
{
	g_mutex_lock(&pm->lock);
	pm->now_ns = now_ns;
	pm->tmr_sts_cleared = timer_ticks(pm) >> 31;
	g_mutex_unlock(&pm->lock);
}

void acpi_pm_press_power_button(struct acpi_pm *pm)
{
	/* §4.8.2.2.1.1: the press sets PWRBTN_STS whether or not it is enabled. */
	g_mutex_lock(&pm->lock);
	pm->status |= ACPI_PM1_PWRBTN;
	update_sci(pm);
	g_mutex_unlock(&pm->lock);
}

static uint8_t read_byte(struct acpi_pm *pm, unsigned int offset, uint32_t timer)
{
	switch (offset) {
	case ACPI_PM1_EVT_OFFSET:
	case ACPI_PM1_EVT_OFFSET + 1:
		return (uint8_t)(read_status(pm) >> (8 * (offset - ACPI_PM1_EVT_OFFSET)));
	case ACPI_PM1_EVT_OFFSET + 2:
	case ACPI_PM1_EVT_OFFSET + 3:
		return (uint8_t)(pm->enable >> (8 * (offset - ACPI_PM1_EVT_OFFSET - 2)));
	case ACPI_PM1_CNT_OFFSET:
	case ACPI_PM1_CNT_OFFSET + 1:
		/* SLP_EN and GBL_RLS are write-only: they read 0. */
		return (uint8_t)(pm->control >> (8 * (offset - ACPI_PM1_CNT_OFFSET)));
	default:
		if (offset >= ACPI_PM_TMR_OFFSET && offset < ACPI_PM_TMR_OFFSET + 4)
			return (uint8_t)(timer >> (8 * (offset - ACPI_PM_TMR_OFFSET)));
		return 0xff;		/* nothing decodes the two ports before the timer */
	}
}

static uint64_t acpi_pm_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	uint64_t value = 0;
	uint32_t timer;

	g_mutex_lock(&pm->lock);
	/* One sample per access, so a 32-bit read never tears. */
	timer = (uint32_t)timer_ticks(pm);
	for (unsigned int i = 0; i < size; i++)
		value |= (uint64_t)read_byte(pm, (unsigned int)offset + i, timer) << (8 * i);
	g_mutex_unlock(&pm->lock);
	return value;
}

static void acpi_pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	uint16_t control = 0, control_mask = 0;
	bool power_off = false;

	g_mutex_lock(&pm->lock);
	for (unsigned int i = 0; i < size; i++) {
		unsigned int at = (unsigned int)offset + i;
		uint8_t byte = (uint8_t)(value >> (8 * i));

		if (at < ACPI_PM1_EVT_OFFSET + 2) {
			/* Write 1 to clear; 0s leave bits alone. */
			uint16_t clear = (uint16_t)(byte << (8 * (at - ACPI_PM1_EVT_OFFSET))) &
					 PM1_STS_BITS;

			pm->status &= (uint16_t)~clear;
			if (clear & ACPI_PM1_TMR)
				pm->tmr_sts_cleared = timer_ticks(pm) >> 31;
		} else if (at < ACPI_PM1_EVT_OFFSET + 4) {
			unsigned int shift = 8 * (at - ACPI_PM1_EVT_OFFSET - 2);

			pm->enable = (uint16_t)((pm->enable & ~(0xff << shift)) | (byte << shift)) & PM1_EN_BITS;
		} else if (at < ACPI_PM1_CNT_OFFSET + 2) {
			unsigned int shift = 8 * (at - ACPI_PM1_CNT_OFFSET);

			control |= (uint16_t)(byte << shift);
			control_mask |= (uint16_t)(0xff << shift);
		}
		/* The PM timer is read-only; the two ports between decode nothing. */
	}
	if (control_mask) {
		uint16_t written = (uint16_t)((pm->control & ~control_mask) | control);
		unsigned int sleep_type = (written & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;

		pm->control = (uint16_t)((written & ACPI_PM1_CNT_SLP_TYP) | ACPI_PM1_CNT_SCI_EN);
		/* §4.8.3.2.1: SLP_EN makes the machine enter the SLP_TYP state. */
		if (written & ACPI_PM1_CNT_SLP_EN) {
			if (sleep_type == ACPI_SLP_TYP_S5)
				power_off = true;
			else
				log_guest_once("ACPI: sleep type %u requested; only S5 (soft off, type %u) exists, ignored",
					       sleep_type, ACPI_SLP_TYP_S5);
		}
	}
	update_sci(pm);
	g_mutex_unlock(&pm->lock);
	if (power_off && pm->power_off)
		pm->power_off(pm->opaque);
}

const struct bus_ops acpi_pm_bus_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};
