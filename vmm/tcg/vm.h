/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_TCG_VM_H
#define VESSEL_TCG_VM_H

#include <glib.h>
#include <stdint.h>

#include "accel.h"
#include "apic.h"
#include "pic.h"
#include "pit.h"
#include "timer.h"

struct tcg_cpu;

/* State shared by every vCPU of one software-CPU machine. */
struct tcg_vm {
	struct accel_env env;
	uint64_t ram_top;		/* highest RAM address + 1 */
	uint8_t *code_pages;		/* per page: decoded code exists somewhere */
	uint32_t *page_gen;		/* per page: bumped when decoded code is invalidated */
	uint64_t nr_pages;

	struct timer_service *timers;
	struct apic_bus *apic_bus;
	struct pic *pic;
	struct pit *pit;
	struct ioapic *ioapic;
	uint64_t tsc_hz;
	int64_t tsc_offset;

	GMutex cpus_lock;
	struct tcg_cpu *cpus[64];
};

#endif
