/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_RTC_H
#define VESSEL_VMM_RTC_H

#include <stdint.h>

#include "bus.h"
#include "irq.h"

/*
 * The MC146818 real-time clock and its CMOS RAM at ports 0x70 (index, bit 7
 * masks NMI) and 0x71 (data).  The clock runs on host UTC time plus an
 * offset the guest can change by setting the clock.  Periodic, alarm and
 * update-ended interrupts raise IRQ 8 until the guest reads register C.
 */
#define RTC_PORT		0x70
#define RTC_PORT_COUNT		2
#define RTC_CMOS_SIZE		128
#define RTC_GSI			8

/* CMOS fields the BIOS traditionally fills (IBM PC/AT technical reference). */
#define CMOS_BASE_MEMORY_LO	0x15	/* KiB below 1 MiB */
#define CMOS_BASE_MEMORY_HI	0x16
#define CMOS_EXT_MEMORY_LO	0x17	/* KiB above 1 MiB, at most 0xffff */
#define CMOS_EXT_MEMORY_HI	0x18
#define CMOS_EXT_MEMORY2_LO	0x30	/* copy of 0x17/0x18 */
#define CMOS_EXT_MEMORY2_HI	0x31
#define CMOS_CENTURY		0x32	/* BCD century (ACPI FADT CENTURY) */
#define CMOS_MEM_ABOVE_16M_LO	0x34	/* 64 KiB units from 16 MiB to the PCI hole */
#define CMOS_MEM_ABOVE_16M_HI	0x35
#define CMOS_MEM_ABOVE_4G_LO	0x5b	/* 64 KiB units above 4 GiB (3 bytes) */
#define CMOS_MEM_ABOVE_4G_MID	0x5c
#define CMOS_MEM_ABOVE_4G_HI	0x5d
#define CMOS_NR_CPUS_MINUS_ONE	0x5f

struct rtc;

struct rtc *rtc_new(void);
struct timer_service;
/* Where interrupts go and what times them; without it the RTC raises none. */
void rtc_attach(struct rtc *rtc, struct irq_line irq, struct timer_service *timers);
void rtc_free(struct rtc *rtc);
/* Registers to power-on values; the clock and CMOS RAM keep their content. */
void rtc_reset(struct rtc *rtc);
/* Fills the memory-size and CPU-count fields (read by firmware and guests). */
void rtc_set_memory_fields(struct rtc *rtc, uint64_t low_ram_bytes, uint64_t high_ram_bytes,
			   unsigned int nr_cpus);
/* Direct CMOS RAM access for setup code and tests (index < RTC_CMOS_SIZE). */
void rtc_cmos_set(struct rtc *rtc, unsigned int index, uint8_t value);
uint8_t rtc_cmos_get(struct rtc *rtc, unsigned int index);
/* Tests: replace the host clock (microseconds since the epoch). */
void rtc_set_clock(struct rtc *rtc, int64_t (*now_us)(void));

extern const struct bus_ops rtc_bus_ops;

#endif
