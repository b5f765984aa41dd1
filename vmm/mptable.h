/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_MPTABLE_H
#define VESSEL_VMM_MPTABLE_H

#include <glib.h>
#include <stdbool.h>

#include "guest_memory.h"

/*
 * The Intel MultiProcessor Specification 1.4 tables that tell a guest how
 * many CPUs it has and how ISA interrupts reach the I/O APIC: a floating
 * pointer and a configuration table in the BIOS area (LAYOUT_BIOS_AREA_ADDR),
 * which guests find by the spec's scan (§4, "MP Configuration Table").
 * APIC IDs are 0..nr_cpus-1 (CPU 0 is the bootstrap processor); the I/O
 * APIC has ID 0 like the in-kernel one.
 */
#define MPTABLE_MAX_CPUS 64

bool mptable_write(const struct guest_memory *mem, unsigned int nr_cpus, GError **error);

#endif
