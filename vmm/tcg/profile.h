/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_TCG_PROFILE_H
#define VESSEL_TCG_PROFILE_H

/*
 * A sampling profiler of the guest, for developers: with
 * VESSEL_TCG_PROFILE=PREFIX, a thread reads each vCPU's RIP every
 * millisecond of host time and, when the vCPU is destroyed, writes
 * PREFIX.N (N: the vCPU index) with one "SAMPLES RIP" line per address,
 * most frequent first; a halted vCPU counts as RIP "halted".  The samples
 * show where the guest spends wall-clock time (docs/architecture.md).
 */
struct tcg_cpu;
struct tcg_profile;

/* NULL unless VESSEL_TCG_PROFILE is set (or the thread cannot start). */
struct tcg_profile *tcg_profile_start(struct tcg_cpu *cpu);
void tcg_profile_stop(struct tcg_profile *p);

#endif
