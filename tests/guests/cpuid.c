/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cpuid: what CPUID tells the guest about its virtual processor.
 *
 * Asserts: a non-empty vendor string and max basic leaf >= 1; leaf 1 ECX
 * bit 31 (hypervisor present, reserved for that use by both vendors); the
 * BSP's initial APIC ID (leaf 1 EBX[31:24]) is 0 and matches the LAPIC ID
 * register; the extended range reaches 0x80000001 and says long mode
 * (EDX[29]) -- we are running in it; a hypervisor leaf 0x40000000 with a
 * vendor signature; a non-empty, printable brand string (leaves
 * 0x80000002-4).  Prints the vendor, brand string and feature words.
 */
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"

const char guest_name[] = "cpuid";

/* SDM vol. 2A CPUID, "Feature Information" (tables 3-10, 3-11). */
#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_ECX_HYPERVISOR	(1u << 31)
#define CPUID1_EDX_APIC		(1u << 9)
#define CPUID1_EDX_PAE		(1u << 6)
#define CPUID1_EDX_MSR		(1u << 5)
#define CPUID1_EDX_TSC		(1u << 4)
#define CPUID81_EDX_NX		(1u << 20)
#define CPUID81_EDX_PDPE1GB	(1u << 26)
#define CPUID81_EDX_LM		(1u << 29)

static void print_flag(const char *name, uint32_t reg, uint32_t bit)
{
	printf(" %s%s", reg & bit ? "+" : "-", name);
}

int main(void)
{
	uint32_t eax, ebx, ecx, edx, max_leaf, max_ext, max_hv;
	uint32_t family, model, stepping, apic_id;
	char vendor[13], hv_vendor[13], brand[49];
	const char *brand_start;

	cpuid(0, &max_leaf, &ebx, &ecx, &edx);
	/* Leaf 0 spells the vendor in EBX, EDX, ECX order. */
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	vendor[12] = '\0';
	printf("cpuid: vendor \"%s\", max basic leaf %#x\n", vendor, max_leaf);
	test_assert(vendor[0] != '\0' && vendor[0] != ' ',
		    "empty vendor string");
	test_assert(max_leaf >= 1, "max basic leaf %#x < 1", max_leaf);

	cpuid(1, &eax, &ebx, &ecx, &edx);
	family = (eax >> 8) & 0xf;
	model = (eax >> 4) & 0xf;
	stepping = eax & 0xf;
	/* Extended family/model apply as SDM vol. 2A figure 3-6 says. */
	if (family == 0xf)
		family += (eax >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((eax >> 16) & 0xf) << 4;
	apic_id = ebx >> 24;
	printf("cpuid: leaf 1 eax %08x ebx %08x ecx %08x edx %08x\n",
	       eax, ebx, ecx, edx);
	printf("cpuid: family %#x model %#x stepping %u, initial APIC ID %u\n",
	       family, model, stepping, apic_id);
	printf("cpuid: features");
	print_flag("tsc", edx, CPUID1_EDX_TSC);
	print_flag("msr", edx, CPUID1_EDX_MSR);
	print_flag("pae", edx, CPUID1_EDX_PAE);
	print_flag("apic", edx, CPUID1_EDX_APIC);
	print_flag("x2apic", ecx, CPUID1_ECX_X2APIC);
	print_flag("hypervisor", ecx, CPUID1_ECX_HYPERVISOR);
	printf("\n");
	test_assert(ecx & CPUID1_ECX_HYPERVISOR,
		    "leaf 1 ECX[31] (hypervisor present) is clear");
	test_assert(edx & CPUID1_EDX_APIC, "leaf 1 EDX[9] (APIC) is clear");
	test_assert(apic_id == 0, "BSP initial APIC ID is %u, want 0",
		    apic_id);
	/* The LAPIC ID register starts out equal to the initial ID. */
	test_assert(lapic_id() == apic_id,
		    "LAPIC ID register says %u, CPUID says %u", lapic_id(),
		    apic_id);

	cpuid(0x80000000, &max_ext, &ebx, &ecx, &edx);
	printf("cpuid: max extended leaf %#x\n", max_ext);
	test_assert(max_ext >= 0x80000001 && max_ext < 0x80010000,
		    "max extended leaf %#x", max_ext);
	cpuid(0x80000001, &eax, &ebx, &ecx, &edx);
	printf("cpuid: leaf 0x80000001 ecx %08x edx %08x:", ecx, edx);
	print_flag("lm", edx, CPUID81_EDX_LM);
	print_flag("nx", edx, CPUID81_EDX_NX);
	print_flag("pdpe1gb", edx, CPUID81_EDX_PDPE1GB);
	printf("\n");
	test_assert(edx & CPUID81_EDX_LM,
		    "0x80000001 EDX[29] (long mode) is clear, yet we run in it");

	/*
	 * The brand string (SDM vol. 2A CPUID, leaves 80000002H-80000004H):
	 * 48 bytes, NUL-terminated, possibly padded with leading spaces.
	 * Guests print it (Linux's /proc/cpuinfo "model name"), so a VMM
	 * should pass the host's on rather than leave it empty.
	 */
	test_assert(max_ext >= 0x80000004,
		    "max extended leaf %#x: no brand string leaves 0x80000002-4",
		    max_ext);
	for (uint32_t leaf = 0; leaf < 3; leaf++) {
		uint32_t *words = (uint32_t *)brand + leaf * 4;

		cpuid(0x80000002 + leaf, &words[0], &words[1], &words[2],
		      &words[3]);
	}
	brand[48] = '\0';
	brand_start = brand;
	while (*brand_start == ' ')
		brand_start++;
	printf("cpuid: brand \"%s\"\n", brand_start);
	test_assert(*brand_start != '\0', "the brand string is empty");
	for (const char *c = brand_start; *c; c++)
		test_assert(*c >= 0x20 && *c < 0x7f,
			    "the brand string has byte %#x at %zu",
			    (uint8_t)*c, (size_t)(c - brand));

	/*
	 * 0x40000000 is the hypervisor range when ECX[31] is set (KVM's
	 * "KVMKVMKVM\0\0\0"; Linux Documentation/virt/kvm/x86/cpuid.rst).
	 */
	cpuid(0x40000000, &max_hv, &ebx, &ecx, &edx);
	memcpy(hv_vendor, &ebx, 4);
	memcpy(hv_vendor + 4, &ecx, 4);
	memcpy(hv_vendor + 8, &edx, 4);
	hv_vendor[12] = '\0';
	printf("cpuid: hypervisor \"%s\", max hypervisor leaf %#x\n",
	       hv_vendor, max_hv);
	test_assert(hv_vendor[0] != '\0',
		    "no hypervisor vendor signature at leaf 0x40000000");
	return 0;
}
