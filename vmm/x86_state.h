/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_X86_STATE_H
#define VESSEL_VMM_X86_STATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Architectural x86-64 CPU state, independent of the accelerator.  Loaders
 * describe the entry state here; each accelerator converts it (KVM: kvm_regs
 * and kvm_sregs; the software CPU uses it directly).
 */
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
	X86_NR_GPRS,
};

/* Hidden part of a segment register, as loaded from a descriptor. */
struct x86_segment {
	uint64_t base;
	uint32_t limit;		/* in bytes, already scaled by G */
	uint16_t selector;
	uint8_t type;		/* descriptor type field (4 bits) */
	uint8_t dpl;
	bool present, s, db, l, g, avl, unusable;
};

struct x86_table_register {
	uint64_t base;
	uint16_t limit;
};

/* x87, MMX and SSE state in the FXSAVE layout (Intel SDM Vol. 1 §10.5.1). */
struct x86_fxsave {
	uint16_t fcw;
	uint16_t fsw;
	uint8_t ftw;			/* abridged: one bit per register, 1 = valid */
	uint8_t reserved0;
	uint16_t fop;
	uint64_t fip;			/* 64-bit layout (REX.W FXSAVE) */
	uint64_t fdp;
	uint32_t mxcsr;
	uint32_t mxcsr_mask;
	uint8_t st[8][16];		/* ST0-ST7 / MM0-MM7, 80 bits each + padding */
	uint8_t xmm[16][16];
	uint8_t reserved1[96];
} __attribute__((packed, aligned(16)));
G_STATIC_ASSERT(sizeof(struct x86_fxsave) == 512);

/* The MSRs a 64-bit OS programs for system calls and segment bases. */
struct x86_msrs {
	uint64_t star, lstar, cstar, sfmask;
	uint64_t kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t tsc_aux;
	uint64_t pat;
};

struct x86_cpu_state {
	uint64_t gpr[X86_NR_GPRS];
	uint64_t rip, rflags;
	struct x86_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct x86_table_register gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	struct x86_fxsave fpu;
	struct x86_msrs msr;
};

#define X86_FCW_DEFAULT		0x037f	/* after FNINIT / RESET: all exceptions masked */
#define X86_MXCSR_DEFAULT	0x1f80
#define X86_PAT_DEFAULT		0x0007040600070406ULL

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_MP	(1ULL << 1)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_WP	(1ULL << 16)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_CR4_PGE	(1ULL << 7)
#define X86_EFER_SCE	(1ULL << 0)
#define X86_EFER_LME	(1ULL << 8)
#define X86_EFER_LMA	(1ULL << 10)
#define X86_EFER_NXE	(1ULL << 11)
#define X86_RFLAGS_FIXED (1ULL << 1)
#define X86_RFLAGS_IF	(1ULL << 9)

/* Segment types (Intel SDM Vol. 3A §3.4.5.1). */
#define X86_SEG_TYPE_DATA_RW_ACCESSED	0x3
#define X86_SEG_TYPE_CODE_RX_ACCESSED	0xb
#define X86_SEG_TYPE_TSS_BUSY		0xb	/* system segment, 32/64-bit */
#define X86_SEG_TYPE_LDT		0x2

/* The state a CPU has after RESET (Intel SDM Vol. 3A §9.1.1, Table 9-1). */
void x86_cpu_state_init_reset(struct x86_cpu_state *state);
/* Flat 4 GiB segment with the given type, as loaded from a GDT entry. */
struct x86_segment x86_flat_segment(uint16_t selector, uint8_t type, bool code64);
/* Encodes a segment as an 8-byte GDT descriptor. */
uint64_t x86_segment_to_descriptor(const struct x86_segment *seg);

#endif
