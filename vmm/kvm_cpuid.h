/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_KVM_CPUID_H
#define VESSEL_VMM_KVM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>

/*
 * The CPUID a KVM vCPU sees: what KVM_GET_SUPPORTED_CPUID offers, cut down to
 * what this VMM supports, with the topology of this machine.  In place; the
 * set of leaves does not change.
 *
 *  - APIC ID of this vCPU in leaves 0x1, 0xB/0x1F (x2APIC ID) and 0x8000001E;
 *    logical processor counts and core counts for nr_cpus single-threaded
 *    cores in one package (leaves 0x1, 0x4, 0xB, 0x1F, 0x80000008);
 *  - hypervisor bit on; TSC-deadline on when the in-kernel LAPIC has it;
 *  - the host's processor brand string (KVM leaves it empty);
 *  - no nested virtualization (VMX/SVM), no performance monitoring (leaf
 *    0xA and AMD's PerfCtrExtCore/PerfMonV2: nothing programs or saves the
 *    PMU), no MONITOR/MWAIT, no TOPOEXT-only topology (those leaves zeroed);
 *  - KVM paravirtual features only where the kernel implements them alone
 *    (not MSI_EXT_DEST_ID, HC_MAP_GPA_RANGE, MIGRATION_CONTROL, which need
 *    VMM support).
 */
void kvm_cpuid_filter(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int nr_cpus,
		      bool tsc_deadline);

#endif
