/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPUID of the software CPU: it advertises exactly what is implemented
 * (Intel SDM Vol. 2A "CPUID"), as a 64-bit Intel family 6 processor:
 * x87, MMX, SSE, SSE2, FXSR, PAE, PSE, PGE, PAT, MTRR, TSC, MSR, CX8/CX16,
 * CMOV, SEP, SYSCALL, NX, 1 GiB pages, RDTSCP, LAHF in 64-bit mode, LZCNT,
 * POPCNT, x2APIC, TSC-deadline, invariant TSC, ERMS/FSRM (fast REP MOVSB), UMIP.
 * No SSE3 and later, no XSAVE/AVX, no MCE/MCA, no VMX, no PMU.
 */
#include "cpu.h"

#include "apic.h"
#include "vm.h"

#include <string.h>

/* Leaf 1 EDX. */
#define F_FPU		(1u << 0)
#define F_DE		(1u << 2)
#define F_PSE		(1u << 3)
#define F_TSC		(1u << 4)
#define F_MSR		(1u << 5)
#define F_PAE		(1u << 6)
#define F_CX8		(1u << 8)
#define F_APIC		(1u << 9)
#define F_SEP		(1u << 11)
#define F_MTRR		(1u << 12)
#define F_PGE		(1u << 13)
#define F_CMOV		(1u << 15)
#define F_PAT		(1u << 16)
#define F_PSE36		(1u << 17)
#define F_CLFSH		(1u << 19)
#define F_MMX		(1u << 23)
#define F_FXSR		(1u << 24)
#define F_SSE		(1u << 25)
#define F_SSE2		(1u << 26)
/* Leaf 1 ECX. */
#define F_CX16		(1u << 13)
#define F_X2APIC	(1u << 21)
#define F_POPCNT	(1u << 23)
#define F_TSC_DEADLINE	(1u << 24)
#define F_HYPERVISOR	(1u << 31)
/* Leaf 7.0 EBX / EDX. */
#define F7_ERMS		(1u << 9)
#define F7_FSRM		(1u << 4)
#define F7_UMIP		(1u << 2)	/* ECX */
/* Leaf 0x80000001 EDX / ECX. */
#define FE_SYSCALL	(1u << 11)
#define FE_NX		(1u << 20)
#define FE_PDPE1GB	(1u << 26)
#define FE_RDTSCP	(1u << 27)
#define FE_LM		(1u << 29)
#define FE_LAHF_LM	(1u << 0)
#define FE_ABM		(1u << 5)	/* LZCNT */
/* Leaf 0x80000007 EDX. */
#define FE_INVARIANT_TSC (1u << 8)

#define MAX_BASIC_LEAF		0x16
#define MAX_EXTENDED_LEAF	0x80000008
#define HYPERVISOR_LEAF		0x40000000

/* Family 6, model 15 (0x0f), stepping 11: a 64-bit Core 2-era part. */
#define SIGNATURE		0x000006fb

/* The fraction num/den closest to tsc_hz / LAPIC_BUS_HZ with num < 4295. */
static void tsc_ratio(uint64_t tsc_hz, uint32_t *num, uint32_t *den)
{
	double ratio = (double)tsc_hz / (double)LAPIC_BUS_HZ, best_error = 1e9;

	*num = 1;
	*den = 1;
	for (uint32_t d = 1; d < 4295; d++) {
		double n = ratio * d + 0.5;
		double error;

		if (n >= 4295.0)
			break;
		error = (double)(uint32_t)n / d - ratio;
		if (error < 0)
			error = -error;
		if ((uint32_t)n > 0 && error < best_error) {
			best_error = error;
			*num = (uint32_t)n;
			*den = d;
		}
	}
}

static void put_string(uint32_t out[4], const char *s, const int order[4])
{
	for (int i = 0; i < 4; i++)
		memcpy(&out[order[i]], s + 4 * i, 4);
}

void cpu_cpuid(struct tcg_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	static const char vendor[12] = { 'G', 'e', 'n', 'u', 'i', 'n', 'e', 'I', 'n', 't', 'e', 'l' };
	static const char brand[49] = "Vessel virtual CPU                              ";

	memset(out, 0, 4 * sizeof(out[0]));
	/* Out-of-range leaves return the highest basic leaf (Intel behaviour);
	 * 0x40000000 is the hypervisor range the hypervisor bit announces. */
	if ((leaf > MAX_BASIC_LEAF && leaf < 0x80000000 && leaf != HYPERVISOR_LEAF) ||
	    leaf > MAX_EXTENDED_LEAF)
		leaf = MAX_BASIC_LEAF;
	switch (leaf) {
	case 0:
		out[0] = MAX_BASIC_LEAF;
		memcpy(&out[1], vendor, 4);	/* EBX */
		memcpy(&out[3], vendor + 4, 4);	/* EDX */
		memcpy(&out[2], vendor + 8, 4);	/* ECX */
		break;
	case 1:
		out[0] = SIGNATURE;
		/* CLFLUSH line 8 x 8 bytes, one logical processor, APIC ID. */
		out[1] = (8u << 8) | (1u << 16) | (cpu->index << 24);
		out[2] = F_CX16 | F_X2APIC | F_POPCNT | F_TSC_DEADLINE | F_HYPERVISOR;
		out[3] = F_FPU | F_DE | F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 | F_APIC | F_SEP | F_MTRR |
			 F_PGE | F_CMOV | F_PAT | F_PSE36 | F_CLFSH | F_MMX | F_FXSR | F_SSE | F_SSE2;
		break;
	case 7:
		if (subleaf == 0) {
			out[1] = F7_ERMS;
			out[2] = F7_UMIP;
			out[3] = F7_FSRM;
		}
		break;
	case HYPERVISOR_LEAF:
		/* "VesselVMM": no paravirtual interfaces follow. */
		out[0] = HYPERVISOR_LEAF;
		memcpy(&out[1], "Vess", 4);
		memcpy(&out[2], "elVM", 4);
		memcpy(&out[3], "M\0\0\0", 4);
		break;
	case 0x15: {
		/*
		 * TSC / core crystal clock: the "crystal" is the local APIC timer's
		 * 1 GHz clock, and TSC = crystal * EBX / EAX is the host TSC rate,
		 * so guests need not calibrate against the PIT (Linux takes both
		 * tsc_khz and lapic_timer_period from here).  Linux multiplies
		 * crystal kHz by EBX in 32 bits, so EBX stays below 4295.
		 */
		uint32_t num, den;

		tsc_ratio(cpu->vm->tsc_hz, &num, &den);
		out[0] = den;
		out[1] = num;
		out[2] = (uint32_t)LAPIC_BUS_HZ;
		break;
	}
	case 0x16:
		/* Base and maximum frequency in MHz, bus (reference) 100 MHz. */
		out[0] = out[1] = (uint32_t)(cpu->vm->tsc_hz / 1000000);
		out[2] = 100;
		break;
	case 0x80000000:
		out[0] = MAX_EXTENDED_LEAF;
		break;
	case 0x80000001:
		out[2] = FE_LAHF_LM | FE_ABM;
		out[3] = FE_SYSCALL | FE_NX | FE_PDPE1GB | FE_RDTSCP | FE_LM;
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004: {
		static const int order[4] = { 0, 1, 2, 3 };

		put_string(out, brand + 16 * (leaf - 0x80000002), order);
		break;
	}
	case 0x80000007:
		out[3] = FE_INVARIANT_TSC;
		break;
	case 0x80000008:
		out[0] = 40 | (48 << 8);	/* physical and linear address bits */
		break;
	default:
		break;
	}
}
