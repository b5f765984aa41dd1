/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Translation blocks: straight-line runs of decoded instructions, cached by
 * the guest-physical address of their first byte and the decoder mode.  A
 * block never starts decoding in a second page (only its last instruction
 * may run into one), and it remembers the code generation of its pages: a
 * write to a page holding decoded code bumps the generation (mmu.c), so stale
 * blocks are re-decoded before they run again, on every vCPU.
 */
#include "cpu.h"

#include <sys/mman.h>

#include "decode.h"
#include "jit.h"
#include "log.h"
#include "ops.h"
#include "vm.h"

#define ARENA_BYTES	(64u << 20)	/* per vCPU; everything is dropped when full */

static unsigned int hash_index(uint64_t phys, uint8_t mode)
{
	return (unsigned int)((phys ^ (phys >> 12) ^ ((uint64_t)mode << 7)) & (BLOCK_HASH_SIZE - 1));
}

void block_cache_flush(struct tcg_cpu *cpu)
{
	memset(cpu->block_hash, 0, sizeof(cpu->block_hash[0]) * BLOCK_HASH_SIZE);
	memset(cpu->jump_cache, 0, sizeof(cpu->jump_cache[0]) * JUMP_CACHE_SIZE);
	cpu->arena_used = 0;
	cpu->arena_epoch++;
	jit_flush(cpu);
}

/* Where a page's generation lives; pages outside RAM stay at generation 0. */
static const uint32_t *generation_slot(struct tcg_cpu *cpu, uint64_t phys)
{
	static const uint32_t outside_ram;
	struct tcg_vm *vm = cpu->vm;
	uint64_t pfn = phys >> 12;

	return pfn < vm->nr_pages ? &vm->page_gen[pfn] : &outside_ram;
}

static uint32_t page_generation(struct tcg_cpu *cpu, uint64_t phys)
{
	struct tcg_vm *vm = cpu->vm;
	uint64_t pfn = phys >> 12;

	return pfn < vm->nr_pages ? __atomic_load_n(&vm->page_gen[pfn], __ATOMIC_ACQUIRE) : 0;
}

/* Marks a page as holding decoded code before its bytes are read. */
static uint32_t claim_code_page(struct tcg_cpu *cpu, uint64_t phys)
{
	struct tcg_vm *vm = cpu->vm;
	uint64_t pfn = phys >> 12;

	if (pfn >= vm->nr_pages)
		return 0;
	__atomic_or_fetch(&vm->code_pages[pfn], PAGE_HAS_CODE, __ATOMIC_SEQ_CST);
	return page_generation(cpu, phys);
}

static bool block_valid(struct tcg_cpu *cpu, const struct block *b, uint64_t linear)
{
	if (b->gen != page_generation(cpu, b->phys))
		return false;
	if (b->phys2 != ~0ULL) {
		uint64_t next = (linear & ~0xfffULL) + 0x1000;

		if (b->gen2 != page_generation(cpu, b->phys2) ||
		    (mmu_translate_code(cpu, next) & ~0xfffULL) != b->phys2)
			return false;
	}
	return true;
}

/* The JIT compiles 64-bit code and 32-bit code with flat segments when it is on. */
static bool jit_wanted(const struct tcg_cpu *cpu)
{
	return cpu->jit_code && (cpu->code64 || (cpu->code32 && cpu->flat_segments));
}

static struct block *block_alloc(struct tcg_cpu *cpu, unsigned int n_insns)
{
	size_t slots = n_insns + 1 + (jit_wanted(cpu) ? JIT_INSN_COPIES(n_insns) : 0);
	size_t bytes = sizeof(struct block) + slots * sizeof(struct insn);

	bytes = (bytes + 15) & ~(size_t)15;
	if (cpu->arena_used + bytes > cpu->arena_size || (jit_wanted(cpu) && !jit_room(cpu, n_insns)))
		block_cache_flush(cpu);
	struct block *b = (struct block *)(cpu->arena + cpu->arena_used);

	cpu->arena_used += bytes;
	return b;
}

static bool block_continues(const struct fetch *f, const struct insn *last, uint64_t linear)
{
	/* Stop after a possible branch or mode change, on a page crossing, or at a page end. */
	return !(last->flags & INSN_END) && !f->crossed &&
	       ((linear + f->len) & ~0xfffULL) == (linear & ~0xfffULL);
}

static struct block *translate(struct tcg_cpu *cpu, uint64_t linear, uint64_t phys)
{
	struct insn insns[BLOCK_MAX_INSNS];
	struct fetch f = { .cpu = cpu, .linear = linear };
	volatile unsigned int n = 0;
	uint32_t gen = claim_code_page(cpu, phys), gen2 = 0;
	struct block *b;

	/* The first instruction's faults (fetch #PF, too long) are real: raise them. */
	decode_one(&f, &insns[0]);
	n = 1;
	if (block_continues(&f, &insns[0], linear)) {
		/*
		 * A later instruction that faults while being decoded ends the block
		 * before it: it faults when execution gets there, after the ones
		 * before it have run.  Its fetch must leave no trace (CR2).
		 */
		void *saved_env[5];
		uint64_t saved_cr2 = cpu->cr2;

		memcpy(saved_env, cpu->jmp_env, sizeof(saved_env));
		if (__builtin_setjmp(cpu->jmp_env) == 0) {
			while (n < BLOCK_MAX_INSNS) {
				decode_one(&f, &insns[n]);
				n = n + 1;
				if (!block_continues(&f, &insns[n - 1], linear))
					break;
			}
		} else {
			cpu->cr2 = saved_cr2;
		}
		memcpy(cpu->jmp_env, saved_env, sizeof(saved_env));
	}
	if (f.from_mmio) {
		static bool warned;

		if (!warned) {
			warned = true;
			log_warning("software CPU: the guest executes code from MMIO at 0x%" G_GINT64_MODIFIER "x",
				    phys);
		}
		/* Uncached: MMIO contents can change under us at any time. */
		b = cpu->mmio_block;
		b->phys = ~0ULL;
	} else {
		b = block_alloc(cpu, n);
		b->phys = phys;
	}
	b->phys2 = ~0ULL;
	if (f.crossed && !f.from_mmio) {
		b->phys2 = f.phys[1];
		gen2 = claim_code_page(cpu, b->phys2);
	}
	b->gen = gen;
	b->gen2 = gen2;
	b->gen_now = generation_slot(cpu, phys);
	b->jit = NULL;
	b->mode = cpu->mode_key;
	b->n_insns = (uint16_t)n;
	memcpy(b->insns, insns, n * sizeof(insns[0]));
	b->insns[n] = (struct insn){ .fn = op_end_block };
	if (!f.from_mmio) {
		unsigned int h = hash_index(phys, b->mode);

		b->hash_next = cpu->block_hash[h];
		cpu->block_hash[h] = b;
		if (jit_wanted(cpu))
			jit_compile(cpu, b, linear);
	}
	return b;
}

static struct block *block_find(struct tcg_cpu *cpu, uint64_t linear)
{
	uint64_t phys = mmu_translate_code(cpu, linear);
	unsigned int h = hash_index(phys, cpu->mode_key);

	for (struct block *b = cpu->block_hash[h]; b; b = b->hash_next) {
		if (b->phys == phys && b->mode == cpu->mode_key) {
			if (block_valid(cpu, b, linear))
				return b;
			break;
		}
	}
	return translate(cpu, linear, phys);
}

struct block *block_lookup(struct tcg_cpu *cpu)
{
	uint64_t linear = code_linear(cpu);
	const struct jump_cache_entry *hit = block_probe(cpu, linear);
	struct block *b;

	if (likely(hit))
		return hit->block;
	b = block_find(cpu, linear);
	/*
	 * Blocks run from MMIO are never cached, nor blocks that span two pages
	 * (block_probe checks one); a flush inside block_find() cleared the cache.
	 */
	if (b->phys != ~0ULL && b->phys2 == ~0ULL)
		cpu->jump_cache[jump_cache_index(linear)] = (struct jump_cache_entry){
			.linear = linear,
			.block = b,
			.jit = b->jit,
			.gen_now = b->gen_now,
			.phys_page = b->phys & ~0xfffULL,
			.gen = b->gen,
			.mode = b->mode,
		};
	return b;
}

bool block_cache_init(struct tcg_cpu *cpu)
{
	void *arena = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (arena == MAP_FAILED)
		return false;
	cpu->arena = arena;
	cpu->arena_size = ARENA_BYTES;
	cpu->arena_used = 0;
	cpu->block_hash = g_new0(struct block *, BLOCK_HASH_SIZE);
	cpu->jump_cache = g_new0(struct jump_cache_entry, JUMP_CACHE_SIZE);
	cpu->mmio_block = g_malloc0(sizeof(struct block) + (BLOCK_MAX_INSNS + 1) * sizeof(struct insn));
	jit_init(cpu);
	return true;
}

void block_cache_destroy(struct tcg_cpu *cpu)
{
	jit_destroy(cpu);
	if (cpu->arena)
		munmap(cpu->arena, cpu->arena_size);
	g_free(cpu->block_hash);
	g_free(cpu->jump_cache);
	cpu->jump_cache = NULL;
	g_free(cpu->mmio_block);
	cpu->mmio_block = NULL;
	cpu->arena = NULL;
	cpu->block_hash = NULL;
}
