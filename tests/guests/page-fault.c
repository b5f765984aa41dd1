/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * page-fault: exceptions in long mode, delivered through our IDT.
 *
 * Asserts (SDM vol. 3A §5.7 and §7.15):
 *  - a read of a not-present 4 KiB page raises #PF with CR2 = the address
 *    and error code 0 (not present, read, supervisor); the handler maps
 *    the page and the retried read returns what was stored there;
 *  - a write to a not-present page: error code W (0x2);
 *  - a write to a present read-only page with CR0.WP=1: error code P|W
 *    (0x3); after the handler makes it writable the write lands and the
 *    CPU has set the PTE's accessed and dirty bits (§5.8);
 *  - UD2 raises #UD with RIP at the instruction, a load from a
 *    non-canonical address raises #GP(0), and DIV by zero raises #DE.
 */
#include "lib/idt.h"
#include "lib/io.h"
#include "lib/paging.h"
#include "lib/printf.h"
#include "lib/test.h"

const char guest_name[] = "page-fault";

/* A 2 MiB region well above the image, split into 4 KiB pages. */
#define TEST_REGION		0x400000ULL
#define PAGE_NOT_PRESENT	(TEST_REGION + 0x1000)
#define PAGE_NOT_PRESENT_W	(TEST_REGION + 0x2000)
#define PAGE_READ_ONLY		(TEST_REGION + 0x3000)
#define PATTERN			0x5ea1ed0ff1ce0001UL
#define MAX_FAULTS		8

struct fault_record {
	unsigned int count;
	uint64_t vector;
	uint64_t error_code;
	uint64_t cr2;
	uint64_t rip;
};

static volatile struct fault_record last_fault;
/* Where the #UD/#GP/#DE handler resumes, set next to the bad instruction. */
static volatile uint64_t fault_resume_rip;

static void record_fault(struct trap_frame *frame)
{
	last_fault.count++;
	last_fault.vector = frame->vector;
	last_fault.error_code = frame->error_code;
	last_fault.rip = frame->rip;
	if (last_fault.count > MAX_FAULTS)
		test_fail("fault loop: vector %lu at rip %#lx repeats",
			  frame->vector, frame->rip);
}

/* Fix the cause and return: the faulting instruction runs again. */
static void page_fault_handler(struct trap_frame *frame)
{
	uint64_t cr2 = read_cr2();
	uint64_t *pte;

	record_fault(frame);
	last_fault.cr2 = cr2;
	pte = paging_pte(cr2);
	if (!pte)
		test_fail("#PF outside the test region: cr2 %#lx error %#lx rip %#lx",
			  cr2, frame->error_code, frame->rip);
	paging_set_pte(cr2, PTE_P | PTE_W);
}

/* Skip the bad instruction: continue at the label the test set. */
static void skip_fault_handler(struct trap_frame *frame)
{
	record_fault(frame);
	frame->rip = fault_resume_rip;
}

static void reset_record(void)
{
	last_fault.count = 0;
	last_fault.vector = ~0ULL;
	last_fault.error_code = ~0ULL;
	last_fault.cr2 = 0;
	last_fault.rip = 0;
}

static void expect_page_fault(const char *what, uint64_t addr,
			      uint64_t error_code)
{
	printf("page-fault: %s: #PF count %u cr2 %#lx error %#lx\n", what,
	       last_fault.count, last_fault.cr2, last_fault.error_code);
	test_assert(last_fault.count == 1, "%s: %u page faults, want 1", what,
		    last_fault.count);
	test_assert(last_fault.cr2 == addr, "%s: CR2 %#lx, want %#lx", what,
		    last_fault.cr2, addr);
	test_assert(last_fault.error_code == error_code,
		    "%s: error code %#lx, want %#lx", what,
		    last_fault.error_code, error_code);
}

static void test_page_faults(void)
{
	volatile uint64_t *np = (volatile uint64_t *)(PAGE_NOT_PRESENT + 0x128);
	volatile uint64_t *npw = (volatile uint64_t *)(PAGE_NOT_PRESENT_W + 8);
	volatile uint64_t *ro = (volatile uint64_t *)(PAGE_READ_ONLY + 0x40);
	uint64_t value, *pte;

	test_assert(paging_split(TEST_REGION), "cannot split the 2 MiB page");
	*np = PATTERN;
	*ro = 0;
	paging_set_pte(PAGE_NOT_PRESENT, 0);
	paging_set_pte(PAGE_NOT_PRESENT_W, 0);
	paging_set_pte(PAGE_READ_ONLY, PTE_P);
	idt_set_handler(VEC_PF, page_fault_handler);

	reset_record();
	value = *np;
	expect_page_fault("read of a not-present page", (uint64_t)np, 0);
	test_assert(value == PATTERN, "retried read returned %#lx, want %#lx",
		    value, PATTERN);

	reset_record();
	*npw = PATTERN;
	expect_page_fault("write to a not-present page", (uint64_t)npw,
			  PF_ERR_W);

	reset_record();
	*ro = PATTERN + 1;
	expect_page_fault("write to a read-only page", (uint64_t)ro,
			  PF_ERR_P | PF_ERR_W);
	test_assert(*ro == PATTERN + 1, "the retried write did not land");
	pte = paging_pte(PAGE_READ_ONLY);
	printf("page-fault: PTE after the write: %#lx\n", *pte);
	test_assert((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
		    "PTE %#lx lacks accessed/dirty after a write", *pte);

	/* With the page present and writable again, no fault at all. */
	reset_record();
	*ro = PATTERN;
	test_assert(last_fault.count == 0, "write to a mapped page faulted");
	idt_set_handler(VEC_PF, NULL);
}

static void expect_fault(const char *what, uint64_t vector,
			 uint64_t error_code, uint64_t rip)
{
	printf("page-fault: %s: vector %lu error %#lx rip %#lx\n", what,
	       last_fault.vector, last_fault.error_code, last_fault.rip);
	test_assert(last_fault.count == 1, "%s: %u faults, want 1", what,
		    last_fault.count);
	test_assert(last_fault.vector == vector, "%s: vector %lu, want %lu",
		    what, last_fault.vector, vector);
	test_assert(last_fault.error_code == error_code,
		    "%s: error code %#lx, want %#lx", what,
		    last_fault.error_code, error_code);
	test_assert(last_fault.rip == rip, "%s: rip %#lx, want %#lx", what,
		    last_fault.rip, rip);
}

static void test_bad_instructions(void)
{
	uint64_t fault_rip, value;

	idt_set_handler(VEC_UD, skip_fault_handler);
	idt_set_handler(VEC_GP, skip_fault_handler);
	idt_set_handler(VEC_DE, skip_fault_handler);

	reset_record();
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
			 "lea 2f(%%rip), %%rax\n\t"
			 "mov %%rax, %1\n"
			 "1:\tud2\n"
			 "2:"
			 : "=&r"(fault_rip), "=m"(fault_resume_rip)
			 : : "rax", "memory");
	expect_fault("ud2", VEC_UD, 0, fault_rip);

	/* SDM vol. 3A §7.15, #GP: a non-canonical memory reference. */
	reset_record();
	value = 0x8000000000000000ULL;
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
			 "lea 2f(%%rip), %%rax\n\t"
			 "mov %%rax, %1\n"
			 "1:\tmov (%2), %2\n"
			 "2:"
			 : "=&r"(fault_rip), "=m"(fault_resume_rip), "+r"(value)
			 : : "rax", "memory");
	expect_fault("non-canonical load", VEC_GP, 0, fault_rip);

	reset_record();
	__asm__ volatile("lea 1f(%%rip), %0\n\t"
			 "lea 2f(%%rip), %%rax\n\t"
			 "mov %%rax, %1\n\t"
			 "xor %%ecx, %%ecx\n\t"
			 "mov $1, %%eax\n\t"
			 "xor %%edx, %%edx\n"
			 "1:\tdiv %%ecx\n"
			 "2:"
			 : "=&r"(fault_rip), "=m"(fault_resume_rip)
			 : : "rax", "rcx", "rdx", "memory");
	expect_fault("divide by zero", VEC_DE, 0, fault_rip);

	idt_set_handler(VEC_UD, NULL);
	idt_set_handler(VEC_GP, NULL);
	idt_set_handler(VEC_DE, NULL);
}

int main(void)
{
	printf("page-fault: CR0 %#lx CR3 %#lx CR4 %#lx\n", read_cr0(),
	       read_cr3(), read_cr4());
	test_assert(read_cr0() & (1u << 16), "CR0.WP is clear");
	test_page_faults();
	test_bad_instructions();
	return 0;
}
