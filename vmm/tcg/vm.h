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
	uint8_t *code_pages;		/* per page: PAGE_HAS_CODE | PAGE_WRITE_TRACKED */
	uint32_t *page_gen;		/* per page: bumped when decoded code is invalidated */
	uint64_t nr_pages;

	struct timer_service *timers;
	struct apic_bus *apic_bus;
	struct pic *pic;
	struct pit *pit;
	struct ioapic *ioapic;
	uint64_t tsc_hz;
	int64_t tsc_offset;

	/*
	 * Video memory: where each device memory is tracked now, and one bit
	 * per page written since the display last asked (device_ram_lock).
	 */
	GMutex device_ram_lock;
	uint64_t device_ram_addr[GUEST_MEMORY_MAX_DEVICE_RAM];
	uint64_t *device_ram_dirty[GUEST_MEMORY_MAX_DEVICE_RAM];

	GMutex cpus_lock;
	struct tcg_cpu *cpus[64];
};

/* Video memory write tracking (device_ram.c). */
void tcg_device_ram_written(struct tcg_vm *vm, uint64_t phys);
void tcg_device_ram_changed(void *vm, unsigned int index);
bool tcg_device_ram_dirty(void *vm, unsigned int index, uint64_t *bitmap);

#endif
