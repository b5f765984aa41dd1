/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest world of the differential tester: system tables and page tables
 * written from the Intel SDM Vol. 3A (§3.4.5 segment descriptors, §4.5
 * 4-level paging, §6.14.1 64-bit IDT gates, §8.7 64-bit TSS).
 */
#include <glib.h>
#include <string.h>

#include "sandbox.h"

const uint64_t sb_pages[SB_NR_PAGES] = {
	SB_GDT_ADDR, SB_IDT_ADDR, SB_STUBS_ADDR,
	SB_PML4_ADDR, SB_PDPT_ADDR, SB_PD_ADDR, SB_PT_ADDR,
	SB_KSTACK_ADDR, SB_KSTACK_ADDR + 0x1000,
	SB_CODE_ADDR, SB_CODE_ADDR + 0x1000, SB_NX_ADDR,
	SB_STACK_ADDR, SB_STACK_ADDR + 0x1000, SB_GUARD_ADDR,
	SB_DATA_ADDR, SB_DATA_ADDR + 0x1000, SB_RO_ADDR, SB_NP_ADDR, SB_SUPER_ADDR,
};

/* Paging-structure entry bits (SDM Vol. 3A §4.5, Tables 4-15 to 4-20). */
#define PTE_P	(1ULL << 0)
#define PTE_RW	(1ULL << 1)
#define PTE_US	(1ULL << 2)
#define PTE_A	(1ULL << 5)
#define PTE_NX	(1ULL << 63)

#define CR0_AM		(1ULL << 18)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define CR4_UMIP	(1ULL << 11)
#define CR4_FSGSBASE	(1ULL << 16)

bool sb_is_page_table(uint64_t guest_phys_addr)
{
	return guest_phys_addr >= SB_PML4_ADDR && guest_phys_addr < SB_PT_ADDR + SB_PAGE_SIZE;
}

int sb_page_index(uint64_t guest_phys_addr)
{
	uint64_t page = guest_phys_addr & ~(SB_PAGE_SIZE - 1);

	for (int i = 0; i < SB_NR_PAGES; i++)
		if (sb_pages[i] == page)
			return i;
	return -1;
}

uint8_t *sb_page_ptr(uint8_t *pages, uint64_t guest_phys_addr)
{
	int index = sb_page_index(guest_phys_addr);

	if (index < 0)
		return NULL;
	return pages + (size_t)index * SB_PAGE_SIZE + (guest_phys_addr & (SB_PAGE_SIZE - 1));
}

void sb_write(uint8_t *pages, uint64_t guest_phys_addr, const void *src, size_t len)
{
	const uint8_t *bytes = src;

	while (len) {
		size_t chunk = MIN(len, SB_PAGE_SIZE - (guest_phys_addr & (SB_PAGE_SIZE - 1)));

		memcpy(sb_page_ptr(pages, guest_phys_addr), bytes, chunk);
		guest_phys_addr += chunk;
		bytes += chunk;
		len -= chunk;
	}
}

void sb_read(const uint8_t *pages, uint64_t guest_phys_addr, void *dst, size_t len)
{
	uint8_t *bytes = dst;

	while (len) {
		size_t chunk = MIN(len, SB_PAGE_SIZE - (guest_phys_addr & (SB_PAGE_SIZE - 1)));

		memcpy(bytes, sb_page_ptr((uint8_t *)pages, guest_phys_addr), chunk);
		guest_phys_addr += chunk;
		bytes += chunk;
		len -= chunk;
	}
}

static void put64(uint8_t *pages, uint64_t addr, uint64_t value)
{
	sb_write(pages, addr, &value, sizeof(value));
}

/*
 * The accessed bit is preset everywhere: processors may set it speculatively
 * (SDM Vol. 3A §4.8), and neither it nor the dirty bit is compared (see
 * sb_is_page_table).
 */
static uint64_t leaf_flags(uint64_t page)
{
	switch (page) {
	case SB_CODE_ADDR:
	case SB_CODE_ADDR + 0x1000:
		return PTE_P | PTE_US | PTE_A;
	case SB_NX_ADDR:
	case SB_STACK_ADDR:
	case SB_STACK_ADDR + 0x1000:
	case SB_DATA_ADDR:
	case SB_DATA_ADDR + 0x1000:
		return PTE_P | PTE_RW | PTE_US | PTE_A | PTE_NX;
	case SB_RO_ADDR:
		return PTE_P | PTE_US | PTE_A | PTE_NX;
	case SB_SUPER_ADDR:
	case SB_GDT_ADDR:
	case SB_IDT_ADDR:
	case SB_PML4_ADDR:
	case SB_PDPT_ADDR:
	case SB_PD_ADDR:
	case SB_PT_ADDR:
	case SB_KSTACK_ADDR:
	case SB_KSTACK_ADDR + 0x1000:
		return PTE_P | PTE_RW | PTE_A | PTE_NX;
	case SB_STUBS_ADDR:
		return PTE_P | PTE_A;
	default:
		return 0;	/* guard, not-present and every other page */
	}
}

static void build_page_tables(uint8_t *pages)
{
	uint64_t table = PTE_P | PTE_RW | PTE_US | PTE_A;

	put64(pages, SB_PML4_ADDR, SB_PDPT_ADDR | table);
	put64(pages, SB_PDPT_ADDR, SB_PD_ADDR | table);
	put64(pages, SB_PD_ADDR, SB_PT_ADDR | table);
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t flags = leaf_flags(i * SB_PAGE_SIZE);

		if (flags)
			put64(pages, SB_PT_ADDR + i * 8, i * SB_PAGE_SIZE | flags);
	}
}

struct x86_segment sb_user_code_segment(enum sb_code_mode mode)
{
	bool long64 = mode == SB_MODE_LONG64;
	struct x86_segment cs = x86_flat_segment(long64 ? SB_SEL_USER_CS64 : SB_SEL_USER_CS32,
						 X86_SEG_TYPE_CODE_RX_ACCESSED, long64);

	cs.dpl = 3;
	return cs;
}

static struct x86_segment user_data_segment(uint16_t selector)
{
	struct x86_segment ds = x86_flat_segment(selector, X86_SEG_TYPE_DATA_RW_ACCESSED, false);

	ds.dpl = 3;
	return ds;
}

static struct x86_segment tss_segment(void)
{
	return (struct x86_segment){
		.base = SB_TSS_ADDR, .limit = SB_TSS_LIMIT, .selector = SB_SEL_TSS,
		.type = X86_SEG_TYPE_TSS_BUSY, .present = true,
	};
}

static void build_gdt(uint8_t *pages)
{
	struct x86_segment kernel_cs = x86_flat_segment(SB_SEL_KERNEL_CS,
							X86_SEG_TYPE_CODE_RX_ACCESSED, true);
	struct x86_segment kernel_ds = x86_flat_segment(SB_SEL_KERNEL_DS,
							X86_SEG_TYPE_DATA_RW_ACCESSED, false);
	struct x86_segment user_cs32 = sb_user_code_segment(SB_MODE_COMPAT32);
	struct x86_segment user_ds = user_data_segment(SB_SEL_USER_DS);
	struct x86_segment user_cs64 = sb_user_code_segment(SB_MODE_LONG64);
	struct x86_segment tss = tss_segment();
	uint8_t *tss_bytes = sb_page_ptr(pages, SB_TSS_ADDR);

	put64(pages, SB_GDT_ADDR + SB_SEL_KERNEL_CS, x86_segment_to_descriptor(&kernel_cs));
	put64(pages, SB_GDT_ADDR + SB_SEL_KERNEL_DS, x86_segment_to_descriptor(&kernel_ds));
	put64(pages, SB_GDT_ADDR + (SB_SEL_USER_CS32 & ~3), x86_segment_to_descriptor(&user_cs32));
	put64(pages, SB_GDT_ADDR + (SB_SEL_USER_DS & ~3), x86_segment_to_descriptor(&user_ds));
	put64(pages, SB_GDT_ADDR + (SB_SEL_USER_CS64 & ~3), x86_segment_to_descriptor(&user_cs64));
	/* A 64-bit TSS descriptor is 16 bytes; the upper half holds base[63:32] = 0. */
	put64(pages, SB_GDT_ADDR + SB_SEL_TSS, x86_segment_to_descriptor(&tss));

	/* 64-bit TSS (SDM Vol. 3A §8.7): RSP0 at offset 4, I/O map base at 0x66. */
	put64(pages, SB_TSS_ADDR + 4, SB_KSTACK_TOP);
	tss_bytes[0x66] = SB_TSS_IOMAP_OFFSET & 0xff;
	tss_bytes[0x67] = SB_TSS_IOMAP_OFFSET >> 8;
	/*
	 * I/O permission bitmap (SDM Vol. 1 §19.5.2): only the end port is open,
	 * so snippets that run with IOPL < 3 can still stop.  The byte after the
	 * bitmap must be all ones.
	 */
	memset(tss_bytes + SB_TSS_IOMAP_OFFSET, 0xff, 33);
	tss_bytes[SB_TSS_IOMAP_OFFSET + SB_PORT_END / 8] &= (uint8_t)~(1u << (SB_PORT_END % 8));
}

static void build_idt(uint8_t *pages)
{
	uint8_t *idt = sb_page_ptr(pages, SB_IDT_ADDR);
	uint8_t *stubs = sb_page_ptr(pages, SB_STUBS_ADDR);

	for (unsigned int vector = 0; vector < 256; vector++) {
		uint64_t handler = SB_STUBS_ADDR + vector * SB_STUB_SIZE;
		/* User code may raise #BP, #OF and the "system call" vector with INT n. */
		unsigned int dpl = vector == 3 || vector == 4 || vector == SB_VECTOR_USER_INT ||
				   vector == SB_VECTOR_NOT_PRESENT ? 3 : 0;
		bool present = vector != SB_VECTOR_NOT_PRESENT;
		uint64_t low = (handler & 0xffff) | (uint64_t)SB_SEL_KERNEL_CS << 16 |
			       0xeULL << 40 /* 64-bit interrupt gate */ | (uint64_t)dpl << 45 |
			       (uint64_t)present << 47 | ((handler >> 16) & 0xffff) << 48;
		uint64_t high = handler >> 32;
		uint8_t *stub = stubs + vector * SB_STUB_SIZE;

		memcpy(idt + vector * 16, &low, 8);
		memcpy(idt + vector * 16 + 8, &high, 8);
		/*
		 * out SB_PORT_EXCEPTION, al; ud2.  The stub touches no register: the
		 * state at the exception stays for comparison, the frame is on the
		 * kernel stack, and the vector follows from RIP.
		 */
		stub[0] = 0xe6;
		stub[1] = SB_PORT_EXCEPTION;
		stub[2] = 0x0f;
		stub[3] = 0x0b;
	}
	uint8_t *syscall_stub = sb_page_ptr(pages, SB_SYSCALL_STUB_ADDR);

	syscall_stub[0] = 0xe6;
	syscall_stub[1] = SB_PORT_SYSCALL;
	syscall_stub[2] = 0x0f;
	syscall_stub[3] = 0x0b;
}

void sb_build_pages(uint8_t *pages)
{
	memset(pages, 0, SB_NR_PAGES * SB_PAGE_SIZE);
	build_page_tables(pages);
	build_gdt(pages);
	build_idt(pages);
	/* ud2 everywhere in the code pages: running past the snippet is caught. */
	for (uint64_t addr = SB_CODE_ADDR; addr < SB_CODE_ADDR + SB_CODE_SIZE; addr += 2) {
		uint8_t *p = sb_page_ptr(pages, addr);

		p[0] = 0x0f;
		p[1] = 0x0b;
	}
}

void sb_initial_state(struct x86_cpu_state *state, enum sb_code_mode mode)
{
	struct x86_segment null_data = user_data_segment(0);

	memset(state, 0, sizeof(*state));
	state->rip = SB_CODE_ADDR;
	state->gpr[X86_RSP] = SB_STACK_ADDR + 0x1000;
	/*
	 * IF=1 and IOPL=0: the values CPL-3 code sees in host user mode, which
	 * is where KVM runs it here (PUSHF shows them whatever the guest set).
	 */
	state->rflags = X86_RFLAGS_FIXED | X86_RFLAGS_IF;
	state->cs = sb_user_code_segment(mode);
	state->ss = user_data_segment(SB_SEL_USER_DS);
	/* Null data selectors, as a 64-bit OS leaves them. */
	state->ds = state->es = state->fs = state->gs = null_data;
	state->tr = tss_segment();
	state->ldt = (struct x86_segment){ .type = X86_SEG_TYPE_LDT, .unusable = true };
	state->gdt = (struct x86_table_register){ SB_GDT_ADDR, SB_GDT_ENTRIES * 8 - 1 };
	state->idt = (struct x86_table_register){ SB_IDT_ADDR, 256 * 16 - 1 };
	state->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | CR0_AM |
		     X86_CR0_PG;
	state->cr3 = SB_PML4_ADDR;
	/*
	 * UMIP and FSGSBASE as a Linux host sets them: CPL-3 code under KVM here
	 * runs with the host's CR4, so SGDT & co. and RDFSBASE & co. behave as
	 * the host's CR4 says whatever the guest's says.
	 */
	state->cr4 = X86_CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_FSGSBASE;
	state->efer = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
	state->fpu.fcw = X86_FCW_DEFAULT;
	state->fpu.mxcsr = X86_MXCSR_DEFAULT;
	state->fpu.mxcsr_mask = 0xffff;
	/* SYSCALL enters the stub at CPL 0; SYSRET would return to 0x2b/0x23. */
	state->msr.star = (uint64_t)(SB_SEL_USER_CS32 & ~3) << 48 | (uint64_t)SB_SEL_KERNEL_CS << 32;
	state->msr.lstar = SB_SYSCALL_STUB_ADDR;
	state->msr.cstar = SB_SYSCALL_STUB_ADDR;
	state->msr.sfmask = 0x47700;	/* TF, DF, IF, IOPL, AC, NT, as Linux */
	state->msr.pat = X86_PAT_DEFAULT;
}

bool sb_vector_has_error_code(unsigned int vector)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17: case 21: case 29: case 30:
		return true;
	default:
		return false;
	}
}

int sb_stub_vector(uint64_t rip)
{
	if (rip < SB_STUBS_ADDR || rip >= SB_STUBS_ADDR + 256 * SB_STUB_SIZE)
		return -1;
	return (int)((rip - SB_STUBS_ADDR) / SB_STUB_SIZE);
}

const char *sb_vector_name(unsigned int vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "coproc", "#TS",
		"#NP", "#SS", "#GP", "#PF", "vec15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};

	if (vector < 32 && names[vector])
		return names[vector];
	return "INT n";
}
