/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CPUID filter on a synthetic KVM_GET_SUPPORTED_CPUID answer (values
 * modelled on a real Intel host), checked field by field against the Intel
 * SDM Vol. 2A CPUID description and the AMD APM Vol. 3 appendix E.
 */
#include <cpuid.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include <asm/kvm_para.h>

#include "kvm_cpuid.h"

#define HOST_LEAF1_EAX	0x000906ea
#define HOST_LEAF1_EBX	0x0c100800	/* APIC ID 12, 16 logical, CLFLUSH 8 */
#define HOST_LEAF1_ECX	0x7ffafbff	/* incl. VMX, MONITOR, PDCM, TSC-deadline */
#define HOST_LEAF1_EDX	0xbfebfbff	/* incl. HTT */
#define HOST_EXT1_ECX	(0x00000121u | (1u << 2) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 28) | (1u << 29))
#define HOST_KVM_FEATURES 0x01ffffffu

static const struct kvm_cpuid_entry2 host_entries[] = {
	{ .function = 0x0, .eax = 0x16, .ebx = 0x756e6547, .ecx = 0x6c65746e, .edx = 0x49656e69 },
	{ .function = 0x1, .eax = HOST_LEAF1_EAX, .ebx = HOST_LEAF1_EBX, .ecx = HOST_LEAF1_ECX,
	  .edx = HOST_LEAF1_EDX },
	/* Deterministic cache parameters: L1d, L1i, L2, L3, then the null leaf. */
	{ .function = 0x4, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 0x1c004121, .ebx = 0x01c0003f, .ecx = 0x3f, .edx = 0 },
	{ .function = 0x4, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 0x1c004122, .ebx = 0x01c0003f, .ecx = 0x3f, .edx = 0 },
	{ .function = 0x4, .index = 2, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 0x1c004143, .ebx = 0x00c0003f, .ecx = 0x3ff, .edx = 0 },
	{ .function = 0x4, .index = 3, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 0x1c03c163, .ebx = 0x03c0003f, .ecx = 0x2fff, .edx = 6 },
	{ .function = 0x4, .index = 4, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX },
	{ .function = 0x5, .eax = 0x40, .ebx = 0x40, .ecx = 0x3, .edx = 0x11142120 },
	{ .function = 0x7, .ebx = 0x029c6fbf, .ecx = 0x40000000, .edx = 0xbc000400 },
	{ .function = 0xa, .eax = 0x07300404, .ebx = 0, .ecx = 0, .edx = 0x603 },
	{ .function = 0xb, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 12 },
	{ .function = 0xb, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 4, .ebx = 12, .ecx = 0x201, .edx = 12 },
	{ .function = 0xb, .index = 2, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
	  .eax = 0, .ebx = 0, .ecx = 2, .edx = 12 },
	{ .function = KVM_CPUID_SIGNATURE, .eax = KVM_CPUID_FEATURES, .ebx = 0x4b4d564b,
	  .ecx = 0x564b4d56, .edx = 0x4d },
	{ .function = KVM_CPUID_FEATURES, .eax = HOST_KVM_FEATURES, .edx = 0x1 },
	{ .function = 0x80000000, .eax = 0x80000008 },
	{ .function = 0x80000001, .ecx = HOST_EXT1_ECX, .edx = 0x2c100800 },
	{ .function = 0x80000008, .eax = 0x3027, .ecx = 0x700f },
	{ .function = 0x8000000a, .eax = 1, .ebx = 0x8000, .edx = 0x1ebfbcff },
	{ .function = 0x8000001e, .eax = 12, .ebx = 0x100, .ecx = 0 },
};

static struct kvm_cpuid2 *host_cpuid(void)
{
	struct kvm_cpuid2 *cpuid = g_malloc0(sizeof(*cpuid) + sizeof(host_entries));

	cpuid->nent = G_N_ELEMENTS(host_entries);
	memcpy(cpuid->entries, host_entries, sizeof(host_entries));
	return cpuid;
}

/* The same host with one logical processor per package: HTT clear, count 1. */
static struct kvm_cpuid2 *single_thread_host_cpuid(void)
{
	struct kvm_cpuid2 *cpuid = host_cpuid();

	for (unsigned int i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == 0x1) {
			cpuid->entries[i].edx &= ~(1u << 28);
			cpuid->entries[i].ebx = (cpuid->entries[i].ebx & 0x0000ffff) | (1u << 16);
		}
	}
	return cpuid;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *cpuid, uint32_t function, uint32_t index)
{
	for (unsigned int i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == function && cpuid->entries[i].index == index)
			return &cpuid->entries[i];
	return NULL;
}

static const struct kvm_cpuid_entry2 *host(uint32_t function, uint32_t index)
{
	for (unsigned int i = 0; i < G_N_ELEMENTS(host_entries); i++)
		if (host_entries[i].function == function && host_entries[i].index == index)
			return &host_entries[i];
	g_assert_not_reached();
}

static unsigned int ceil_log2(unsigned int n)
{
	unsigned int bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void check_topology(unsigned int nr_cpus)
{
	for (unsigned int apic_id = 0; apic_id < nr_cpus; apic_id++) {
		g_autofree struct kvm_cpuid2 *cpuid = host_cpuid();
		const struct kvm_cpuid_entry2 *e;
		unsigned int core_bits = ceil_log2(nr_cpus);

		kvm_cpuid_filter(cpuid, apic_id, nr_cpus, true);

		/* Leaf 1: initial APIC ID in EBX[31:24], addressable IDs in [23:16], HTT. */
		e = find(cpuid, 0x1, 0);
		g_assert_nonnull(e);
		g_assert_cmphex(e->eax, ==, HOST_LEAF1_EAX);
		g_assert_cmpuint(e->ebx >> 24, ==, apic_id);
		g_assert_cmpuint((e->ebx >> 16) & 0xff, ==, nr_cpus == 1 ? 1 : 1u << core_bits);
		g_assert_cmpuint((e->ebx >> 16) & 0xff, >=, nr_cpus);
		g_assert_cmphex(e->ebx & 0xffff, ==, HOST_LEAF1_EBX & 0xffff);
		g_assert_cmphex(e->edx & (1u << 28), ==, nr_cpus > 1 ? 1u << 28 : 0);
		g_assert_cmphex(e->edx & ~(1u << 28), ==, HOST_LEAF1_EDX & ~(1u << 28));

		/* Leaf 4: cores per package - 1 in EAX[31:26]; L1/L2 private, L3 shared. */
		for (unsigned int sub = 0; sub < 4; sub++) {
			const struct kvm_cpuid_entry2 *h = host(0x4, sub);
			unsigned int level = (h->eax >> 5) & 7;

			e = find(cpuid, 0x4, sub);
			g_assert_nonnull(e);
			g_assert_cmpuint(e->eax >> 26, ==, (1u << core_bits) - 1);
			g_assert_cmpuint((e->eax >> 14) & 0xfff, ==, level == 3 ? (1u << core_bits) - 1 : 0);
			g_assert_cmphex(e->eax & 0x3fff, ==, h->eax & 0x3fff);
			g_assert_cmphex(e->ebx, ==, h->ebx);
			g_assert_cmphex(e->ecx, ==, h->ecx);
		}
		e = find(cpuid, 0x4, 4);
		g_assert_nonnull(e);
		g_assert_cmphex(e->eax, ==, 0);	/* the null subleaf stays null */

		/* Leaf 0xB: SMT level of one thread, core level of nr_cpus, then invalid. */
		e = find(cpuid, 0xb, 0);
		g_assert_nonnull(e);
		g_assert_cmpuint(e->eax & 0x1f, ==, 0);
		g_assert_cmpuint(e->ebx & 0xffff, ==, 1);
		g_assert_cmphex(e->ecx & 0xffff, ==, 0x100);
		g_assert_cmpuint(e->edx, ==, apic_id);
		e = find(cpuid, 0xb, 1);
		g_assert_nonnull(e);
		g_assert_cmpuint(e->eax & 0x1f, ==, core_bits);
		g_assert_cmpuint(e->ebx & 0xffff, ==, nr_cpus);
		g_assert_cmphex(e->ecx & 0xffff, ==, 0x201);
		g_assert_cmpuint(e->edx, ==, apic_id);
		/* Every CPU in one package: the package ID (x2APIC ID >> shift) is 0. */
		g_assert_cmpuint(apic_id >> (e->eax & 0x1f), ==, 0);
		e = find(cpuid, 0xb, 2);
		g_assert_nonnull(e);
		g_assert_cmpuint(e->eax, ==, 0);
		g_assert_cmpuint(e->ebx, ==, 0);
		g_assert_cmphex(e->ecx, ==, 2);		/* level type 0: invalid */
		g_assert_cmpuint(e->edx, ==, apic_id);

		/* 0x80000008 ECX: APIC ID size in [15:12], cores - 1 in [7:0]. */
		e = find(cpuid, 0x80000008, 0);
		g_assert_nonnull(e);
		g_assert_cmphex(e->eax, ==, 0x3027);
		g_assert_cmpuint((e->ecx >> 12) & 0xf, ==, core_bits);
		g_assert_cmpuint(e->ecx & 0xff, ==, nr_cpus - 1);

		/* A host without HTT still gets the topology of this machine. */
		{
			g_autofree struct kvm_cpuid2 *single = single_thread_host_cpuid();

			kvm_cpuid_filter(single, apic_id, nr_cpus, true);
			e = find(single, 0x1, 0);
			g_assert_cmphex(e->edx & (1u << 28), ==, nr_cpus > 1 ? 1u << 28 : 0);
			g_assert_cmpuint((e->ebx >> 16) & 0xff, ==, nr_cpus == 1 ? 1 : 1u << core_bits);
			g_assert_cmpuint(e->ebx >> 24, ==, apic_id);
		}
	}
}

static void test_topology_1(void)
{
	check_topology(1);
}

static void test_topology_2(void)
{
	check_topology(2);
}

static void test_topology_3(void)
{
	check_topology(3);
}

static void test_topology_4(void)
{
	check_topology(4);
}

static void test_features(void)
{
	g_autofree struct kvm_cpuid2 *cpuid = host_cpuid();
	const struct kvm_cpuid_entry2 *e;
	const uint32_t leaf1_cleared = (1u << 3) | (1u << 5) | (1u << 15);	/* MONITOR, VMX, PDCM */
	const uint32_t ext1_cleared = (1u << 2) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 28) |
				      (1u << 29);
	const uint32_t pv_cleared = (1u << KVM_FEATURE_MSI_EXT_DEST_ID) |
				    (1u << KVM_FEATURE_HC_MAP_GPA_RANGE) |
				    (1u << KVM_FEATURE_MIGRATION_CONTROL);

	kvm_cpuid_filter(cpuid, 0, 2, false);

	e = find(cpuid, 0x1, 0);
	g_assert_cmphex(e->ecx & leaf1_cleared, ==, 0);
	g_assert_cmphex(e->ecx & (1u << 31), ==, 1u << 31);	/* hypervisor */
	g_assert_cmphex(e->ecx & (1u << 24), ==, 0);		/* no TSC deadline asked */
	g_assert_cmphex(e->ecx & ~(leaf1_cleared | (1u << 31) | (1u << 24)), ==,
			HOST_LEAF1_ECX & ~(leaf1_cleared | (1u << 31) | (1u << 24)));

	/* MONITOR/MWAIT parameters and the PMU: all zero. */
	e = find(cpuid, 0x5, 0);
	g_assert_nonnull(e);
	g_assert_cmphex(e->eax | e->ebx | e->ecx | e->edx, ==, 0);
	e = find(cpuid, 0xa, 0);
	g_assert_nonnull(e);
	g_assert_cmphex(e->eax | e->ebx | e->ecx | e->edx, ==, 0);

	/* SVM, TOPOEXT, AMD perf counters, MWAITX cleared; LAHF, LZCNT and friends kept. */
	e = find(cpuid, 0x80000001, 0);
	g_assert_cmphex(e->ecx & ext1_cleared, ==, 0);
	g_assert_cmphex(e->ecx, ==, HOST_EXT1_ECX & ~ext1_cleared);
	g_assert_cmphex(e->edx, ==, 0x2c100800);

	/* KVM paravirtual features that need VMM support are gone, the rest kept. */
	e = find(cpuid, KVM_CPUID_FEATURES, 0);
	g_assert_nonnull(e);
	g_assert_cmphex(e->eax & pv_cleared, ==, 0);
	g_assert_cmphex(e->eax, ==, HOST_KVM_FEATURES & ~pv_cleared);
	g_assert_cmphex(e->edx, ==, 0x1);

	/* SVM features and the extended APIC ID leaf are zeroed, not removed... */
	for (unsigned int i = 0; i < 2; i++) {
		e = find(cpuid, i ? 0x8000001e : 0x8000000a, 0);
		g_assert_nonnull(e);
		g_assert_cmphex(e->eax | e->ebx | e->ecx | e->edx, ==, 0);
	}
	g_assert_cmpuint(cpuid->nent, ==, G_N_ELEMENTS(host_entries));
	/* ...and every untouched leaf is still there, unchanged, in order. */
	{
		static const uint32_t untouched[] = { 0x0, 0x7, KVM_CPUID_SIGNATURE, 0x80000000 };
		unsigned int last_pos = 0;

		for (unsigned int i = 0; i < G_N_ELEMENTS(untouched); i++) {
			e = find(cpuid, untouched[i], 0);
			g_assert_nonnull(e);
			g_assert_cmpmem(e, sizeof(*e), host(untouched[i], 0), sizeof(*e));
			g_assert_cmpuint((unsigned int)(e - cpuid->entries), >=, last_pos);
			last_pos = (unsigned int)(e - cpuid->entries);
		}
	}
	for (unsigned int i = 1; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *a = &cpuid->entries[i - 1], *b = &cpuid->entries[i];

		g_assert_true(a->function < b->function || (a->function == b->function && a->index < b->index));
	}

	/* TSC deadline on when the in-kernel LAPIC has it. */
	{
		g_autofree struct kvm_cpuid2 *with = host_cpuid();

		kvm_cpuid_filter(with, 0, 1, true);
		g_assert_cmphex(find(with, 0x1, 0)->ecx & (1u << 24), ==, 1u << 24);
	}
}

static void test_brand_string(void)
{
	/* KVM offers empty brand leaves; the guest sees the host's brand. */
	struct kvm_cpuid2 *cpuid = g_malloc0(sizeof(*cpuid) + 4 * sizeof(struct kvm_cpuid_entry2));
	unsigned int regs[12] = { 0 };
	char host_brand[49] = { 0 }, guest_brand[49] = { 0 };

	cpuid->nent = 4;
	cpuid->entries[0] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x80000004 };
	for (unsigned int i = 0; i < 3; i++) {
		cpuid->entries[1 + i] = (struct kvm_cpuid_entry2){ .function = 0x80000002 + i };
		__get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
	}
	memcpy(host_brand, regs, 48);
	kvm_cpuid_filter(cpuid, 0, 1, false);
	for (unsigned int i = 0; i < 3; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[1 + i];
		unsigned int words[4] = { e->eax, e->ebx, e->ecx, e->edx };

		memcpy(guest_brand + 16 * i, words, 16);
	}
	g_assert_cmpuint(cpuid->nent, ==, 4);
	g_assert_cmpstr(guest_brand, ==, host_brand);
	g_assert_cmpuint(strlen(guest_brand), >, 0);
	g_free(cpuid);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/kvm-cpuid/topology/1", test_topology_1);
	g_test_add_func("/kvm-cpuid/topology/2", test_topology_2);
	g_test_add_func("/kvm-cpuid/topology/3", test_topology_3);
	g_test_add_func("/kvm-cpuid/topology/4", test_topology_4);
	g_test_add_func("/kvm-cpuid/features", test_features);
	g_test_add_func("/kvm-cpuid/brand-string", test_brand_string);
	return g_test_run();
}
