/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * smc: self-modifying code, as the Linux kernel does when it patches its
 * own text (alternatives, static keys).  A CPU that caches translated code
 * must notice every write to it (SDM vol. 3A §8.1.3: a write to code
 * followed by a jump runs the new code).  Code is generated into two pages
 * of .data (the identity map is writable and executable) and patched
 * between, and during, runs:
 *
 *  - a function patched between calls through a pointer (indirect call);
 *  - the same function called directly from code in another page, after
 *    the call has run often enough to be linked;
 *  - the continuation of a call (the code its RET returns to), in the page
 *    after the call's, patched between runs after the return has been seen;
 *  - a loop that rewrites the immediate of the very next instruction each
 *    iteration (a write to the code being run, within one block);
 *  - a JMP over an increment patched to NOPs and back (a static key).
 */
#include <stdbool.h>

#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"

const char guest_name[] = "smc";

#define RUNS	24

static uint8_t page_a[4096] __attribute__((aligned(4096)));
static uint8_t page_b[4096] __attribute__((aligned(4096)));
static uint8_t pages_cd[8192] __attribute__((aligned(4096)));

struct code {
	uint8_t *start, *p;
};

static void put(struct code *c, const uint8_t *bytes, unsigned int n)
{
	memcpy(c->p, bytes, n);
	c->p += n;
}

static void put32(struct code *c, uint32_t v)
{
	memcpy(c->p, &v, 4);
	c->p += 4;
}

/* rel32 of a CALL/JMP at c->p (after the opcode) to target */
static void put_rel32(struct code *c, const void *target)
{
	put32(c, (uint32_t)((const uint8_t *)target - (c->p + 4)));
}

static void patch32(uint8_t *at, uint32_t v)
{
	/* volatile: the compiler must not merge or drop the stores. */
	for (int i = 0; i < 4; i++)
		((volatile uint8_t *)at)[i] = (uint8_t)(v >> (8 * i));
}

typedef uint64_t (*fn0)(void);
typedef uint64_t (*fn1)(uint64_t);

/* f: mov eax, imm32; ret.  Returns where the immediate is. */
static uint8_t *emit_const_fn(struct code *c, uint32_t value)
{
	uint8_t *imm;

	put(c, (const uint8_t[]){ 0xb8 }, 1);		/* mov eax, imm32 */
	imm = c->p;
	put32(c, value);
	put(c, (const uint8_t[]){ 0xc3 }, 1);		/* ret */
	return imm;
}

static void test_indirect_call(void)
{
	struct code a = { page_a, page_a };
	uint8_t *imm = emit_const_fn(&a, 0);
	fn0 f = (fn0)(void *)page_a;

	for (uint32_t i = 1; i <= RUNS; i++) {
		patch32(imm, i * 0x1001);
		uint64_t got = f();

		test_assert(got == i * 0x1001, "indirect call, run %u: got %#lx, want %#x", i, got,
			    i * 0x1001);
	}
	printf("smc: a function patched between indirect calls: ok\n");
}

/*
 * Page B: loop: call f (page A); add rbx, rax; dec ecx; jnz loop; then
 * return rbx.  Runs rdi iterations.
 */
static void test_direct_call(void)
{
	struct code a = { page_a, page_a }, b = { page_b, page_b };
	uint8_t *imm = emit_const_fn(&a, 0), *loop;
	fn1 g = (fn1)(void *)page_b;

	put(&b, (const uint8_t[]){ 0x53, 0x31, 0xdb, 0x89, 0xf9 }, 5);	/* push rbx; xor ebx, ebx; mov ecx, edi */
	loop = b.p;
	put(&b, (const uint8_t[]){ 0x51, 0xe8 }, 2);			/* push rcx; call f */
	put_rel32(&b, page_a);
	put(&b, (const uint8_t[]){ 0x59, 0x48, 0x01, 0xc3, 0xff, 0xc9, 0x75 }, 7); /* pop rcx; add rbx, rax; dec ecx; jnz */
	put(&b, (const uint8_t[]){ (uint8_t)(loop - (b.p + 1)) }, 1);
	put(&b, (const uint8_t[]){ 0x48, 0x89, 0xd8, 0x5b, 0xc3 }, 5);	/* mov rax, rbx; pop rbx; ret */

	for (uint32_t i = 1; i <= RUNS; i++) {
		patch32(imm, i);
		uint64_t got = g(8);

		test_assert(got == 8 * i, "direct call from another page, run %u: got %lu, want %u", i, got,
			    8 * i);
	}
	printf("smc: a function patched between runs of a loop calling it directly: ok\n");
}

/*
 * call h (page A: ret) as the last instruction of page C, then in page D
 * mov eax, imm32; ret -- the continuation, in a page of its own, is patched
 * while the call's page stays as it was.
 */
static void test_return_continuation(void)
{
	struct code a = { page_a, page_a }, c = { pages_cd + 4096 - 5, pages_cd + 4096 - 5 };
	uint8_t *imm;
	fn0 g = (fn0)(void *)c.start;

	put(&a, (const uint8_t[]){ 0xc3 }, 1);				/* h: ret */
	put(&c, (const uint8_t[]){ 0xe8 }, 1);				/* call h */
	put_rel32(&c, page_a);
	imm = emit_const_fn(&c, 0);

	/* Each value runs three times: the later runs return through what the first ones saw. */
	for (uint32_t i = 1; i <= RUNS; i++) {
		patch32(imm, 0x70000 + i);
		for (int k = 0; k < 3; k++) {
			uint64_t got = g();

			test_assert(got == 0x70000 + i,
				    "patched continuation of a call, value %u, run %d: got %#lx, want %#x", i, k,
				    got, 0x70000 + i);
		}
	}
	printf("smc: the code a RET returns to, patched between runs: ok\n");
}

/*
 * Page B, with edi = n:
 *   xor edx, edx
 * loop:
 *   mov [rip + imm], edi     ; the immediate of the next instruction
 *   mov eax, imm32           ; runs with the value just written
 *   add edx, eax
 *   dec edi
 *   jnz loop
 *   mov eax, edx; ret
 */
static void test_next_instruction(void)
{
	struct code b = { page_b, page_b };
	uint8_t *loop;
	fn1 g = (fn1)(void *)page_b;
	uint64_t got;

	put(&b, (const uint8_t[]){ 0x31, 0xd2 }, 2);			/* xor edx, edx */
	loop = b.p;
	put(&b, (const uint8_t[]){ 0x89, 0x3d }, 2);			/* mov [rip + disp32], edi */
	put32(&b, 1);		/* disp: the byte after the store + 1 = the MOV's immediate */
	put(&b, (const uint8_t[]){ 0xb8 }, 1);				/* mov eax, imm32 */
	put32(&b, 0xdeadbeef);
	put(&b, (const uint8_t[]){ 0x01, 0xc2, 0xff, 0xcf, 0x75 }, 5);	/* add edx, eax; dec edi; jnz */
	put(&b, (const uint8_t[]){ (uint8_t)(loop - (b.p + 1)) }, 1);
	put(&b, (const uint8_t[]){ 0x89, 0xd0, 0xc3 }, 3);		/* mov eax, edx; ret */

	for (uint32_t n = 1; n <= 4; n++) {
		got = g(n * 10);
		test_assert(got == (uint64_t)(n * 10) * (n * 10 + 1) / 2,
			    "write to the next instruction, %u iterations: got %lu, want %u", n * 10, got,
			    (n * 10) * (n * 10 + 1) / 2);
	}
	printf("smc: a loop rewriting its next instruction: ok\n");
}

/*
 * Page B: xor eax, eax; mov ecx, edi; loop: [jmp +2 | nop nop]; inc eax;
 * inc eax; dec ecx; jnz loop; ret -- the JMP skips one INC while "off".
 */
static void test_static_key(void)
{
	struct code b = { page_b, page_b };
	uint8_t *loop, *key;
	fn1 g = (fn1)(void *)page_b;

	put(&b, (const uint8_t[]){ 0x31, 0xc0, 0x89, 0xf9 }, 4);	/* xor eax, eax; mov ecx, edi */
	loop = b.p;
	key = b.p;
	put(&b, (const uint8_t[]){ 0xeb, 0x02 }, 2);			/* jmp +2 */
	put(&b, (const uint8_t[]){ 0xff, 0xc0, 0xff, 0xc0 }, 4);	/* inc eax; inc eax */
	put(&b, (const uint8_t[]){ 0xff, 0xc9, 0x75 }, 3);		/* dec ecx; jnz */
	put(&b, (const uint8_t[]){ (uint8_t)(loop - (b.p + 1)) }, 1);
	put(&b, (const uint8_t[]){ 0xc3 }, 1);				/* ret */

	for (uint32_t i = 0; i < RUNS; i++) {
		bool on = i & 1;

		((volatile uint8_t *)key)[0] = on ? 0x90 : 0xeb;
		((volatile uint8_t *)key)[1] = on ? 0x90 : 0x02;
		uint64_t got = g(16);

		test_assert(got == (on ? 32u : 16u), "static key %s, run %u: got %lu, want %u",
			    on ? "on" : "off", i, got, on ? 32u : 16u);
	}
	printf("smc: a jump patched to NOPs and back: ok\n");
}

int main(void)
{
	test_indirect_call();
	test_direct_call();
	test_return_continuation();
	test_next_instruction();
	test_static_key();
	return 0;
}
