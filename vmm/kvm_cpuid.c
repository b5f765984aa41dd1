/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "kvm_cpuid.h"

#include <asm/kvm_para.h>
#include <cpuid.h>

/* Bit positions from the Intel SDM Vol. 2A (CPUID) and AMD APM Vol. 3 (E.3). */
#define CPUID1_ECX_MONITOR	(1u << 3)
#define CPUID1_ECX_VMX		(1u << 5)
#define CPUID1_ECX_PDCM		(1u << 15)	/* perf capabilities MSR */
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)
#define CPUID1_ECX_HYPERVISOR	(1u << 31)
#define CPUID1_EDX_HTT		(1u << 28)
#define EXT1_ECX_SVM		(1u << 2)
#define EXT1_ECX_TOPOEXT	(1u << 22)
#define EXT1_ECX_PERFCTR_CORE	(1u << 23)
#define EXT1_ECX_PERFCTR_NB	(1u << 24)
#define EXT1_ECX_PERFCTR_LLC	(1u << 28)
#define EXT1_ECX_MWAITX		(1u << 29)

#define TOPOLOGY_LEVEL_SMT	1
#define TOPOLOGY_LEVEL_CORE	2

static unsigned int bits_for(unsigned int count)
{
	unsigned int bits = 0;

	while ((1u << bits) < count)
		bits++;
	return bits;
}

/*
 * KVM leaves the processor brand string (leaves 0x80000002-0x80000004) empty
 * for the VMM to choose; guests show it to users ("model name" in Linux), so
 * pass the host's on, as a VMM with a host-like CPU model does.
 */
static void set_host_brand(struct kvm_cpuid_entry2 *e)
{
	unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;

	if (__get_cpuid(e->function, &eax, &ebx, &ecx, &edx)) {
		e->eax = eax;
		e->ebx = ebx;
		e->ecx = ecx;
		e->edx = edx;
	}
}

void kvm_cpuid_filter(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int nr_cpus,
		      bool tsc_deadline)
{
	unsigned int core_bits = bits_for(nr_cpus);

	for (unsigned int i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 0x1:
			e->ebx &= 0x0000ffff;
			e->ebx |= apic_id << 24;
			if (nr_cpus > 1) {
				e->ebx |= (1u << core_bits) << 16;
				e->edx |= CPUID1_EDX_HTT;
			} else {
				e->ebx |= 1u << 16;
				e->edx &= ~CPUID1_EDX_HTT;
			}
			e->ecx &= ~(CPUID1_ECX_MONITOR | CPUID1_ECX_VMX | CPUID1_ECX_PDCM);
			e->ecx |= CPUID1_ECX_HYPERVISOR;
			if (tsc_deadline)
				e->ecx |= CPUID1_ECX_TSC_DEADLINE;
			else
				e->ecx &= ~CPUID1_ECX_TSC_DEADLINE;
			break;
		case 0x4:
			/* EAX[31:26]: cores per package - 1; EAX[25:14]: sharing threads - 1. */
			if (e->eax & 0x1f) {
				unsigned int level = (e->eax >> 5) & 0x7;
				unsigned int sharing = level >= 3 ? (1u << core_bits) - 1 : 0;

				e->eax &= 0x00003fff;
				e->eax |= (((1u << core_bits) - 1) << 26) | (sharing << 14);
			}
			break;
		case 0x5:
			/* MONITOR/MWAIT parameters: the feature is hidden. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xa:
			/* Architectural performance monitoring: version 0 = none. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC topology: one thread per core, nr_cpus cores. */
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (TOPOLOGY_LEVEL_SMT << 8) | e->index;
			} else if (e->index == 1) {
				e->eax = core_bits;
				e->ebx = nr_cpus;
				e->ecx = (TOPOLOGY_LEVEL_CORE << 8) | e->index;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			e->edx = apic_id;
			break;
		case 0x80000001:
			e->ecx &= ~(EXT1_ECX_SVM | EXT1_ECX_TOPOEXT | EXT1_ECX_PERFCTR_CORE |
				    EXT1_ECX_PERFCTR_NB | EXT1_ECX_PERFCTR_LLC | EXT1_ECX_MWAITX);
			break;
		case 0x80000002:
		case 0x80000003:
		case 0x80000004:
			set_host_brand(e);
			break;
		case 0x80000008:
			/* AMD: ECX[15:12] APIC ID size, ECX[7:0] cores - 1. */
			e->ecx = (core_bits << 12) | (nr_cpus - 1);
			break;
		case 0x8000000a:	/* SVM features */
		case 0x8000001e:	/* extended APIC ID (needs TOPOEXT) */
		case 0x80000022:	/* AMD PerfMonV2 */
			/* Zeroed, not removed: 0x80000000 still counts them. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case KVM_CPUID_FEATURES:
			e->eax &= ~((1u << KVM_FEATURE_MSI_EXT_DEST_ID) |
				    (1u << KVM_FEATURE_HC_MAP_GPA_RANGE) |
				    (1u << KVM_FEATURE_MIGRATION_CONTROL));
			break;
		default:
			break;
		}
	}
}
