/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_ACPI_H
#define VESSEL_VMM_ACPI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "guest_memory.h"
#include "irq.h"

/*
 * The little ACPI a direct-boot PC needs so that the host can ask the guest
 * to power down (ACPI 6.5):
 *
 * - acpi_tables_write() puts firmware's tables into the BIOS area
 *   (LAYOUT_ACPI_ADDR): RSDP → RSDT/XSDT → FADT (→ FACS, DSDT with \_S5
 *   and the PCI root bridge) and MADT (the CPUs' local APICs, the I/O APIC
 *   and the ISA interrupt overrides the MP table also describes).
 * - struct acpi_pm is the fixed hardware the FADT points to: the PM1a
 *   event and control registers and the PM timer, in I/O ports
 *   ACPI_PM_PORT..+ACPI_PM_PORT_COUNT, and the SCI on ISA IRQ 9.  The power
 *   button is a fixed-feature button (§4.8.2.2.1.1); writing SLP_EN with the
 *   \_S5 sleep type switches the machine off.
 */
#define ACPI_PM_PORT		0x600
#define ACPI_PM_PORT_COUNT	12	/* PM1a_EVT (4), PM1a_CNT (2), 2 unused, PM_TMR (4) */
#define ACPI_PM1_EVT_OFFSET	0	/* PM1_STS (2 bytes), then PM1_EN (2 bytes) */
#define ACPI_PM1_CNT_OFFSET	4
#define ACPI_PM_TMR_OFFSET	8
#define ACPI_SCI_GSI		9
#define ACPI_PM_TIMER_HZ	3579545	/* §4.8.3.3: 3.579545 MHz */
#define ACPI_SLP_TYP_S5		5	/* the value \_S5 gives for PM1a_CNT.SLP_TYP */

/* PM1 status and enable bits (§4.8.3.1, Tables 4.16-4.17). */
#define ACPI_PM1_TMR		0x0001
#define ACPI_PM1_GBL		0x0020
#define ACPI_PM1_PWRBTN		0x0100
#define ACPI_PM1_SLPBTN		0x0200
#define ACPI_PM1_RTC		0x0400
#define ACPI_PM1_WAK_STS	0x8000
/* PM1 control bits (§4.8.3.2.1, Table 4.18). */
#define ACPI_PM1_CNT_SCI_EN	0x0001
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP	0x1c00
#define ACPI_PM1_CNT_SLP_EN	0x2000

/* Writes the tables for nr_cpus CPUs (1..MACHINE_MAX_CPUS) into guest RAM. */
bool acpi_tables_write(const struct guest_memory *mem, unsigned int nr_cpus, GError **error);

struct acpi_pm;

/* power_off is called (from the vCPU thread) when the guest enters S5. */
struct acpi_pm *acpi_pm_new(struct irq_line sci, void (*power_off)(void *opaque), void *opaque);
void acpi_pm_free(struct acpi_pm *pm);
/* Power-on state: no status, nothing enabled, SCI_EN set (always ACPI mode). */
void acpi_pm_reset(struct acpi_pm *pm);
/* The host pressed the power button: PWRBTN_STS, and the SCI if enabled. */
void acpi_pm_press_power_button(struct acpi_pm *pm);
/* Tests: replace the monotonic clock behind the PM timer (nanoseconds). */
void acpi_pm_set_clock(struct acpi_pm *pm, int64_t (*now_ns)(void));

extern const struct bus_ops acpi_pm_bus_ops;

#endif
