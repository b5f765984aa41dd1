/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_SANDBOX_H
#define DIFFTEST_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86_state.h"

/*
 * The guest world every test case runs in: identity-mapped long mode, a
 * CPL-0 "kernel" made only of exception stubs, and a CPL-3 "user" area where
 * the snippet runs.  Everything a case can change lives in a few pages of
 * the low 2 MiB (the sandbox pages below); they are rewritten before every
 * case and compared after it.  Nothing outside them is user-accessible, so a
 * wild user access faults instead of leaving state behind for a later case.
 *
 *   0x001000  GDT (0x1000) and, at 0x1800, the TSS with its I/O bitmap
 *   0x002000  IDT: 256 interrupt gates
 *   0x003000  exception stubs (4 bytes per vector) and the SYSCALL stub
 *   0x010000  page tables: PML4, PDPT, PD, PT
 *   0x020000  kernel stack (2 pages), RSP0 at its top
 *   0x100000  user code (2 pages, read-only, executable)
 *   0x102000  user page, read/write, no-execute
 *   0x110000  user stack (2 pages)
 *   0x11f000  guard: not present
 *   0x120000  user data (2 pages, read/write)
 *   0x122000  user data, read-only
 *   0x123000  not present
 *   0x124000  supervisor-only data
 */
#define SB_RAM_SIZE		(16ULL << 20)
#define SB_PAGE_SIZE		0x1000ULL

#define SB_GDT_ADDR		0x001000ULL
#define SB_TSS_ADDR		0x001800ULL
#define SB_IDT_ADDR		0x002000ULL
#define SB_STUBS_ADDR		0x003000ULL
#define SB_STUB_SIZE		4
#define SB_SYSCALL_STUB_ADDR	(SB_STUBS_ADDR + 256 * SB_STUB_SIZE)
#define SB_PML4_ADDR		0x010000ULL
#define SB_PDPT_ADDR		0x011000ULL
#define SB_PD_ADDR		0x012000ULL
#define SB_PT_ADDR		0x013000ULL
#define SB_KSTACK_ADDR		0x020000ULL
#define SB_KSTACK_TOP		0x022000ULL
#define SB_CODE_ADDR		0x100000ULL
#define SB_CODE_SIZE		0x2000ULL
#define SB_NX_ADDR		0x102000ULL
#define SB_STACK_ADDR		0x110000ULL
#define SB_STACK_SIZE		0x2000ULL
#define SB_GUARD_ADDR		0x11f000ULL
#define SB_DATA_ADDR		0x120000ULL
#define SB_DATA_SIZE		0x2000ULL	/* read/write part */
#define SB_RO_ADDR		0x122000ULL
#define SB_NP_ADDR		0x123000ULL
#define SB_SUPER_ADDR		0x124000ULL
#define SB_DATA_AREA_SIZE	0x5000ULL	/* data, read-only, not-present, supervisor */

/* Ports: the snippet ends with OUT to the first; the stubs use the others. */
#define SB_PORT_END		0xe9
#define SB_PORT_EXCEPTION	0xea
#define SB_PORT_SYSCALL		0xeb

/*
 * GDT selectors, in the layout of a Linux host's GDT (arch/x86/include/asm/
 * segment.h).  On this machine KVM runs CPL-3 guest code in host user mode
 * (kvm_pvm), where MOV from a segment register reads the host's selectors
 * and MOV to one loads the host's descriptor: using the same numbers makes
 * both agree with what the guest's own GDT says.
 */
#define SB_SEL_KERNEL_CS	0x10
#define SB_SEL_KERNEL_DS	0x18
#define SB_SEL_USER_CS32	0x23
#define SB_SEL_USER_DS		0x2b
#define SB_SEL_USER_CS64	0x33
#define SB_SEL_TSS		0x40
#define SB_GDT_ENTRIES		16

/* TSS: 104 bytes, then an I/O bitmap for ports 0-255 and its 0xff end byte. */
#define SB_TSS_IOMAP_OFFSET	104
#define SB_TSS_LIMIT		(SB_TSS_IOMAP_OFFSET + 32 + 1 - 1)

/* Vectors whose gates user code may reach with INT n (gate DPL 3). */
#define SB_VECTOR_USER_INT	0x80
#define SB_VECTOR_NOT_PRESENT	0x82	/* gate with P=0: INT 0x82 gives #NP */

/* The pages a case may change, in the order results store them. */
#define SB_NR_PAGES		20
extern const uint64_t sb_pages[SB_NR_PAGES];

/* Index into sb_pages of the page holding guest_phys_addr, or -1. */
int sb_page_index(uint64_t guest_phys_addr);

/*
 * Builds the pristine sandbox pages (SB_NR_PAGES * SB_PAGE_SIZE bytes, in
 * sb_pages order): system tables, page tables, stubs, zeroed data.
 */
void sb_build_pages(uint8_t *pages);

/* Pointer into a sandbox page image for guest_phys_addr, or NULL. */
uint8_t *sb_page_ptr(uint8_t *pages, uint64_t guest_phys_addr);
/* Copies to/from a page image; every byte must be in a sandbox page. */
void sb_write(uint8_t *pages, uint64_t guest_phys_addr, const void *src, size_t len);
void sb_read(const uint8_t *pages, uint64_t guest_phys_addr, void *dst, size_t len);

enum sb_code_mode {
	SB_MODE_LONG64,		/* 64-bit code segment */
	SB_MODE_COMPAT32,	/* 32-bit code segment under long mode */
};

/*
 * The CPU state a case starts from: CPL 3 in the given mode, RIP at the code
 * page, RSP in the user stack, IF=1, IOPL 0.
 */
void sb_initial_state(struct x86_cpu_state *state, enum sb_code_mode mode);
/* The user code segment of a mode, as loaded from the GDT. */
struct x86_segment sb_user_code_segment(enum sb_code_mode mode);

/*
 * Paging-structure pages: their accessed and dirty bits are not compared.
 * KVM here shadows the guest page tables and does not notice that the host
 * rewrote them between cases, so it sets a dirty bit only the first time.
 */
bool sb_is_page_table(uint64_t guest_phys_addr);
#define SB_PTE_AD_BITS	0x60ULL

/* Vectors for which the processor pushes an error code (SDM Vol. 3A §6.13). */
bool sb_vector_has_error_code(unsigned int vector);
/* The vector whose stub contains rip, or -1. */
int sb_stub_vector(uint64_t rip);
const char *sb_vector_name(unsigned int vector);

#endif
