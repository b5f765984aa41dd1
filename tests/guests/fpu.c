/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fpu: x87, MMX and SSE state, controls and exceptions at CPL 0 — what
 * the differential tester (tests/difftest, CPL 3) cannot set up or cannot
 * compare against this machine's KVM (which, emulating CPL-0 code, cannot
 * run this guest at all: it is a software-CPU test, see README.md).
 *
 * Asserts (SDM Vol. 3A §2.5, §13.1, Tables 2-2 and 12-1; Vol. 1 §8.1.8,
 * §8.6, §9.5, §11.5):
 *  - CR0.TS: x87, SSE and (with CR0.MP) WAIT raise #NM at the instruction;
 *  - CR0.EM: SSE and MMX raise #UD, x87 raises #NM;
 *  - CR4.OSFXSR clear: SSE raises #UD, MMX (PSHUFW too) still runs;
 *  - an unmasked x87 exception is pending (FSW.ES, B) without a fault,
 *    non-waiting FNSTSW/FNSTENV run, and the next waiting instruction
 *    raises #MF with RIP at itself; FNSTENV then holds FOP and FIP of the
 *    instruction that raised it;
 *  - an unmasked SIMD exception raises #XM (#UD without CR4.OSXMMEXCPT)
 *    with the destination unchanged and the flag set in MXCSR;
 *  - MOVAPS from a misaligned address raises #GP(0), MOVUPS does not;
 *  - correctly rounded results: SQRTSD and FSQRT of 2, CVTSD2SI of 2.5
 *    under two rounding modes;
 *  - MMX aliasing: an MMX write sets TOP to 0, all tags valid and the
 *    exponent bits to ones; EMMS empties the tags;
 *  - the FNSTENV image in both operand sizes, and FXSAVE's FSW and tags.
 */
#include "lib/idt.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"

const char guest_name[] = "fpu";

#define VEC_NM		7
#define VEC_MF		16
#define VEC_XM		19

#define CR0_MP		(1UL << 1)
#define CR0_EM		(1UL << 2)
#define CR0_TS		(1UL << 3)
#define CR0_NE		(1UL << 5)
#define CR4_OSFXSR	(1UL << 9)
#define CR4_OSXMMEXCPT	(1UL << 10)

static volatile struct {
	unsigned int count;
	uint64_t vector, error_code, rip;
} last;
/* Where a faulting instruction is, and where its handler resumes. */
static volatile uint64_t fault_at, resume_at;

static void skip_handler(struct trap_frame *frame)
{
	last.count++;
	last.vector = frame->vector;
	last.error_code = frame->error_code;
	last.rip = frame->rip;
	if (last.count > 4)
		test_fail("fault loop: vector %lu at rip %#lx", frame->vector, frame->rip);
	frame->rip = resume_at;
}

static void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/*
 * Runs the instructions of `code` (AT&T syntax, may use %[buf] = a 64-byte
 * aligned scratch buffer) with label 0 on the one expected to fault.
 */
#define RUN(code)								\
	do {									\
		last.count = 0;							\
		last.vector = ~0UL;						\
		__asm__ volatile("lea 0f(%%rip), %%rax\n\t"			\
				 "mov %%rax, %[at]\n\t"				\
				 "lea 1f(%%rip), %%rax\n\t"			\
				 "mov %%rax, %[resume]\n\t"			\
				 code "\n"					\
				 "1:\n\t"					\
				 : [at] "=m"(fault_at), [resume] "=m"(resume_at)	\
				 : [buf] "r"(scratch)				\
				 : "rax", "rdi", "memory", "cc");		\
	} while (0)

static uint8_t scratch[512] __attribute__((aligned(64)));

static void expect(const char *what, uint64_t vector, uint64_t error_code)
{
	printf("fpu: %s: %u fault(s), vector %ld error %#lx at %s\n", what, last.count,
	       (long)last.vector, last.error_code, last.rip == fault_at ? "the instruction" : "?");
	test_assert(last.count == 1, "%s: %u faults, want 1", what, last.count);
	test_assert(last.vector == vector, "%s: vector %lu, want %lu", what, last.vector, vector);
	test_assert(last.error_code == error_code, "%s: error code %#lx, want %#lx", what,
		    last.error_code, error_code);
	test_assert(last.rip == fault_at, "%s: fault at rip %#lx, want %#lx", what, last.rip,
		    fault_at);
}

static void expect_none(const char *what)
{
	printf("fpu: %s: %u fault(s)\n", what, last.count);
	test_assert(last.count == 0, "%s: vector %lu at %#lx, want no fault", what, last.vector,
		    last.rip);
}

static uint64_t load64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t load32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t load16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void test_availability(uint64_t cr0, uint64_t cr4)
{
	write_cr0(cr0 | CR0_TS);
	RUN("0: fld1");
	expect("CR0.TS, fld1", VEC_NM, 0);
	RUN("0: addps %%xmm1, %%xmm0");
	expect("CR0.TS, addps", VEC_NM, 0);
	/* Instructions the software CPU's JIT compiles check the same (after a first one that passes). */
	RUN("0: pxor %%xmm1, %%xmm0");
	expect("CR0.TS, pxor", VEC_NM, 0);
	RUN("0: movdqa (%[buf]), %%xmm0");
	expect("CR0.TS, movdqa", VEC_NM, 0);
	RUN("0: fwait");
	expect("CR0.TS and MP, fwait", VEC_NM, 0);
	write_cr0(cr0 | CR0_EM);
	RUN("0: addps %%xmm1, %%xmm0");
	expect("CR0.EM, addps", VEC_UD, 0);
	RUN("0: pcmpeqb %%xmm1, %%xmm0");
	expect("CR0.EM, pcmpeqb", VEC_UD, 0);
	RUN("0: paddb %%mm1, %%mm0");
	expect("CR0.EM, paddb mm", VEC_UD, 0);
	RUN("0: fld1");
	expect("CR0.EM, fld1", VEC_NM, 0);
	write_cr0(cr0);
	write_cr4(cr4 & ~CR4_OSFXSR);
	RUN("0: addps %%xmm1, %%xmm0");
	expect("CR4.OSFXSR clear, addps", VEC_UD, 0);
	RUN("0: movsd %%xmm1, %%xmm0");
	expect("CR4.OSFXSR clear, movsd", VEC_UD, 0);
	RUN("0: pshufw $0x1b, %%mm1, %%mm0; paddb %%mm1, %%mm0; emms");
	expect_none("CR4.OSFXSR clear, pshufw/paddb mm");
	write_cr4(cr4);
}

static void test_pending_x87(void)
{
	static const uint16_t unmask_ze = 0x037b;
	uint64_t fdiv_at;
	uint16_t fsw;

	/* fdivp st(1), st: DE F9.  The fault comes at the next waiting instruction. */
	__asm__ volatile("fninit\n\t"
			 "fldcw %[cw]\n\t"
			 "fld1\n\t"
			 "fldz\n\t"
			 "lea 2f(%%rip), %%rax\n\t"
			 "mov %%rax, %[at]\n"
			 "2: fdivrp %%st, %%st(1)\n\t"
			 "fnstsw %[sw]"
			 : [at] "=m"(fdiv_at), [sw] "=m"(fsw)
			 : [cw] "m"(unmask_ze)
			 : "rax", "memory");
	printf("fpu: 1/0 with ZE unmasked: FSW %#x\n", fsw);
	test_assert((fsw & 0x8084) == 0x8084, "FSW %#x lacks B, ES or ZE", fsw);
	RUN("0: fwait");
	expect("pending ZE, fwait", VEC_MF, 0);
	/* Still pending: FNSTENV (32-bit layout) has FIP at 12, FCS | FOP << 16 at 16. */
	__asm__ volatile("fnstenv (%[buf])" : : [buf] "r"(scratch) : "memory");
	printf("fpu: env FIP %#x FOP %#x\n", load32(scratch + 12), load32(scratch + 16) >> 16);
	test_assert(load32(scratch + 12) == (uint32_t)fdiv_at, "FIP %#x, want %#x",
		    load32(scratch + 12), (uint32_t)fdiv_at);
	test_assert((load32(scratch + 16) >> 16) == 0x6f9, "FOP %#x, want 0x6f9 (DE F9)",
		    load32(scratch + 16) >> 16);
	test_assert((load16(scratch + 4) & 0x8084) == 0x8084, "stored FSW %#x", load16(scratch + 4));
	/* FNSTENV masked every exception: ES is clear, FWAIT is quiet. */
	RUN("0: fwait; fninit");
	expect_none("after fnstenv, fwait");
}

static void test_simd_exceptions(uint64_t cr4)
{
	static const float one[4] __attribute__((aligned(16))) = { 1, 1, 1, 1 };
	static const uint32_t unmask_ze = 0x1f80 & ~0x0200;
	static const uint32_t masked = 0x1f80;
	uint32_t mxcsr;

	__asm__ volatile("movaps %[one], %%xmm0\n\t"
			 "xorps %%xmm1, %%xmm1\n\t"
			 "ldmxcsr %[cw]"
			 : : [one] "m"(one), [cw] "m"(unmask_ze) : "memory");
	RUN("0: divps %%xmm1, %%xmm0");
	expect("1/0 with ZM clear, divps", VEC_XM, 0);
	__asm__ volatile("stmxcsr %[m]\n\tmovups %%xmm0, (%[buf])\n\tldmxcsr %[cw]"
			 : [m] "=m"(mxcsr) : [buf] "r"(scratch), [cw] "m"(unmask_ze) : "memory");
	printf("fpu: MXCSR after #XM %#x, xmm0 %#lx\n", mxcsr, load64(scratch));
	test_assert(mxcsr & 0x4, "MXCSR %#x lacks ZE", mxcsr);
	test_assert(load64(scratch) == 0x3f8000003f800000UL, "destination changed: %#lx",
		    load64(scratch));
	write_cr4(cr4 & ~CR4_OSXMMEXCPT);
	RUN("0: divps %%xmm1, %%xmm0");
	expect("1/0 with ZM clear, no OSXMMEXCPT", VEC_UD, 0);
	write_cr4(cr4);
	__asm__ volatile("ldmxcsr %[cw]" : : [cw] "m"(masked));
	RUN("0: movaps 8(%[buf]), %%xmm0");
	expect("misaligned movaps", VEC_GP, 0);
	RUN("0: movups 8(%[buf]), %%xmm0");
	expect_none("misaligned movups");
}

static void test_numerics(void)
{
	static const double two = 2.0, two_and_half = 2.5;
	static const uint32_t round_up = 0x1f80 | 0x4000, nearest = 0x1f80;
	uint64_t root, lo, hi;
	uint8_t ext[10];

	__asm__ volatile("sqrtsd %[two], %%xmm0\n\tmovq %%xmm0, %[r]"
			 : [r] "=m"(root) : [two] "m"(two));
	printf("fpu: sqrtsd(2) = %#lx\n", root);
	test_assert(root == 0x3ff6a09e667f3bcdUL, "sqrtsd(2) = %#lx", root);
	__asm__ volatile("fninit\n\tfldl %[two]\n\tfsqrt\n\tfstpt %[r]"
			 : [r] "=m"(ext) : [two] "m"(two));
	printf("fpu: fsqrt(2) = %04x:%016lx\n", load16(ext + 8), load64(ext));
	test_assert(load64(ext) == 0xb504f333f9de6484UL && load16(ext + 8) == 0x3fff,
		    "fsqrt(2) = %04x:%016lx", load16(ext + 8), load64(ext));
	__asm__ volatile("ldmxcsr %[up]\n\tcvtsd2si %[x], %[hi]\n\t"
			 "ldmxcsr %[near]\n\tcvtsd2si %[x], %[lo]"
			 : [hi] "=&r"(hi), [lo] "=&r"(lo)
			 : [x] "m"(two_and_half), [up] "m"(round_up), [near] "m"(nearest));
	printf("fpu: cvtsd2si(2.5) = %lu rounding up, %lu to nearest\n", hi, lo);
	test_assert(hi == 3 && lo == 2, "cvtsd2si(2.5) = %lu up, %lu nearest", hi, lo);
}

static void test_state_images(void)
{
	static const uint64_t pattern = 0x1122334455667788UL;
	uint32_t env[7];
	uint16_t env16[7];

	/* After FLD1 on an empty stack: TOP 7, R7 valid (tag 00), the rest empty. */
	__asm__ volatile("fninit\n\tfld1\n\tfnstenv %[e]\n\t"
			 "data16 fnstenv %[e16]\n\tfxsave (%[buf])"
			 : [e] "=m"(env), [e16] "=m"(env16) : [buf] "r"(scratch) : "memory");
	printf("fpu: fnstenv FCW %#x FSW %#x FTW %#x; o16 FTW %#x; fxsave FSW %#x FTW %#x\n",
	       env[0], env[1], env[2], env16[2], load16(scratch + 2), scratch[4]);
	test_assert((env[1] & 0xffff) == 0x3800, "FSW %#x, want TOP 7", env[1]);
	test_assert((env[2] & 0xffff) == 0x3fff, "full FTW %#x, want 0x3fff", env[2]);
	test_assert(env16[0] == 0x037f && env16[2] == 0x3fff, "16-bit image FCW %#x FTW %#x",
		    env16[0], env16[2]);
	test_assert(load16(scratch + 2) == 0x3800 && scratch[4] == 0x80,
		    "fxsave FSW %#x abridged FTW %#x", load16(scratch + 2), scratch[4]);

	/* An MMX write: TOP 0, all tags valid, bits 64-79 of R0 all ones. */
	__asm__ volatile("movq %[p], %%mm0\n\tfxsave (%[buf])\n\temms"
			 : : [p] "m"(pattern), [buf] "r"(scratch) : "memory");
	printf("fpu: after movq mm0: FSW %#x FTW %#x MM0 %#lx exponent %#x\n", load16(scratch + 2),
	       scratch[4], load64(scratch + 32), load16(scratch + 40));
	test_assert((load16(scratch + 2) & 0x3800) == 0, "TOP %u after an MMX write",
		    (load16(scratch + 2) >> 11) & 7);
	test_assert(scratch[4] == 0xff, "abridged FTW %#x after an MMX write", scratch[4]);
	test_assert(load64(scratch + 32) == pattern && load16(scratch + 40) == 0xffff,
		    "MM0 %#lx exponent %#x", load64(scratch + 32), load16(scratch + 40));
	__asm__ volatile("fxsave (%[buf])" : : [buf] "r"(scratch) : "memory");
	test_assert(scratch[4] == 0, "abridged FTW %#x after EMMS", scratch[4]);
}

int main(void)
{
	uint64_t cr0 = (read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE;
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;

	write_cr0(cr0);
	write_cr4(cr4);
	__asm__ volatile("fninit");
	for (unsigned int v = 0; v < 32; v++)
		idt_set_handler((uint8_t)v, skip_handler);
	test_availability(cr0, cr4);
	test_pending_x87();
	test_simd_exceptions(cr4);
	test_numerics();
	test_state_images();
	for (unsigned int v = 0; v < 32; v++)
		idt_set_handler((uint8_t)v, NULL);
	return 0;
}
