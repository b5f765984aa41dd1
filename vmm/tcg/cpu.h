/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_TCG_CPU_H
#define VESSEL_TCG_CPU_H

/*
 * The software x86-64 CPU ("tcg"): architectural state, the software TLB and
 * the helpers every instruction handler uses.  Internal to vmm/tcg/.
 *
 * Execution model: guest code is decoded once into blocks of pre-decoded
 * instructions (struct insn: a handler pointer plus operands), cached by
 * guest-physical address.  A handler runs one instruction; it either falls
 * through (advancing RIP by the instruction length) or ends the block.
 * Exceptions unwind to the run loop with __builtin_longjmp: every handler
 * performs the accesses that may fault before it changes any register, so an
 * interrupted instruction leaves the state as the processor would.
 */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdatomic.h>
#include <string.h>

#include "accel.h"
#include "bus.h"
#include "guest_memory.h"
#include "x86_state.h"

struct tcg_vm;
struct lapic;
struct block;
struct jit;
struct tcg_profile;
struct insn;

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

enum seg_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

/* A segment register: visible selector and the descriptor cache. */
struct segment {
	uint64_t base;
	uint32_t limit;		/* byte granular, already scaled */
	uint16_t selector;
	uint16_t flags;		/* descriptor bits 40-55 (type, S, DPL, P, AVL, L, D/B, G) */
};

/* struct segment.flags: descriptor bits 40-55 shifted down by 40. */
#define DESC_TYPE_MASK		0x000f
#define DESC_ACCESSED		0x0001
#define DESC_WRITABLE		0x0002	/* data */
#define DESC_READABLE		0x0002	/* code */
#define DESC_EXPAND_DOWN	0x0004	/* data */
#define DESC_CONFORMING		0x0004	/* code */
#define DESC_CODE		0x0008
#define DESC_S			0x0010	/* code or data, not system */
#define DESC_DPL_SHIFT		5
#define DESC_P			0x0080
#define DESC_AVL		0x1000
#define DESC_L			0x2000
#define DESC_DB			0x4000
#define DESC_G			0x8000
#define DESC_UNUSABLE		0x0100	/* our own marker in the unused bits 8-11 */

static inline unsigned int seg_dpl(const struct segment *s)
{
	return (s->flags >> DESC_DPL_SHIFT) & 3;
}

/* RFLAGS bits. */
#define FLAG_CF		0x0001u
#define FLAG_FIXED	0x0002u
#define FLAG_PF		0x0004u
#define FLAG_AF		0x0010u
#define FLAG_ZF		0x0040u
#define FLAG_SF		0x0080u
#define FLAG_TF		0x0100u
#define FLAG_IF		0x0200u
#define FLAG_DF		0x0400u
#define FLAG_OF		0x0800u
#define FLAG_IOPL	0x3000u
#define FLAG_NT		0x4000u
#define FLAG_RF		0x10000u
#define FLAG_VM		0x20000u
#define FLAG_AC		0x40000u
#define FLAG_VIF	0x80000u
#define FLAG_VIP	0x100000u
#define FLAG_ID		0x200000u
#define FLAGS_ARITH	(FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)
#define FLAGS_SETTABLE	(FLAGS_ARITH | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_IOPL | FLAG_NT | \
			 FLAG_RF | FLAG_VM | FLAG_AC | FLAG_VIF | FLAG_VIP | FLAG_ID)

/*
 * Lazy condition codes: the last flag-setting operation and its operands;
 * the flags are computed only when read (flags.c).  CC_EFLAGS means
 * cpu->eflags holds them.  cc_size is the operand size in bytes.
 */
enum cc_op {
	CC_EFLAGS,
	CC_ADD,		/* dst = result, src = second operand */
	CC_ADC,		/* ... src2 = carry in */
	CC_SUB,		/* dst = result, src = second operand (CMP too) */
	CC_SBB,		/* ... src2 = borrow in */
	CC_LOGIC,	/* CF = OF = AF = 0 */
	CC_INC,		/* src2 = CF before (INC keeps CF) */
	CC_DEC,
	CC_NEG,		/* src = the operand */
	CC_SHL,		/* src = CF out, src2 = OF */
	CC_SAR,		/* (same) */
	CC_SHR,
	CC_MUL,		/* src != 0: CF = OF = 1; SF/ZF/PF from dst as real CPUs leave them */
};

/* Exception vectors (Intel SDM Vol. 3A §6.15). */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
	EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13,
	EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* Page-fault error code bits (Vol. 3A §4.7). */
#define PFEC_P		0x01
#define PFEC_W		0x02
#define PFEC_U		0x04
#define PFEC_RSVD	0x08
#define PFEC_I		0x10

/* Kinds of memory access, for permission checks. */
enum access {
	ACCESS_READ,
	ACCESS_WRITE,
	ACCESS_EXEC,
};

/* Software TLB, one set per privilege class: [0] CPL 0-2, [1] CPL 3. */
#define TLB_BITS	10
#define TLB_SIZE	(1u << TLB_BITS)
#define TLB_INVALID	1ULL	/* never equals a page-aligned address */

struct tlb_entry {
	uint64_t read_tag;	/* page address when RAM readable through the fast path */
	uint64_t write_tag;	/* ... when writable and already dirty */
	uint64_t exec_tag;	/* ... when executable */
	uintptr_t addend;	/* host pointer = guest linear address + addend */
	uint64_t phys_page;	/* guest-physical page address */
	uint64_t io_tag;	/* page address when it is MMIO (slow path, no walk) */
	uint8_t io_prot;	/* PROT_* allowed for the MMIO page */
	bool global;
} __attribute__((aligned(64)));	/* a cache line: compiled code indexes by shifting */

#define PROT_R	1
#define PROT_W	2
#define PROT_X	4

/* A memory operand of a decoded instruction. */
#define NOREG	0xff
#define EA_BASE_RIP	0xfe	/* base: RIP-relative */

struct tcg_cpu;

typedef int (*insn_fn)(struct tcg_cpu *cpu, const struct insn *in);

/* Decoded instruction flags. */
#define INSN_MEM	0x01	/* the r/m operand is memory */
#define INSN_LOCK	0x02
#define INSN_REP	0x04	/* F3 */
#define INSN_REPNE	0x08	/* F2 */
#define INSN_REX	0x10	/* a REX prefix was present */
#define INSN_OPSIZE	0x20	/* 66 prefix */
#define INSN_END	0x40	/* may leave the block: decoding stops after it */

struct insn {
	insn_fn fn;
	uint64_t imm;		/* immediate, moffs, far offset */
	int32_t disp;
	uint16_t imm2;		/* second immediate: ENTER level, far selector */
	uint8_t len;
	uint8_t size;		/* operand size in bytes: 1, 2, 4, 8 (16 for SSE) */
	uint8_t asize;		/* address size: 2, 4, 8 */
	uint8_t flags;
	uint8_t reg;		/* ModRM.reg register (see reg8 encoding) */
	uint8_t rm;		/* ModRM.rm register when not memory */
	uint8_t base, index, scale;
	uint8_t seg;		/* segment of the memory operand */
	uint8_t op;		/* opcode-specific: ALU op, condition, group field, ... */
	uint8_t opcode;		/* the primary opcode byte (last opcode byte) */
};

/*
 * 8-bit register numbers: 0-15 are the low bytes (AL..R15B; with REX, 4-7 are
 * SPL..DIL); 16-19 are AH, CH, DH, BH (encodings 4-7 without REX).
 */
#define REG8_HIGH	16

#define BLOCK_MAX_INSNS	64

struct block {
	uint64_t phys;		/* guest-physical address of the first byte */
	uint64_t phys2;		/* page of the last instruction's tail, or ~0 */
	const uint32_t *gen_now;	/* the first page's current code generation */
	void *jit;		/* compiled code (jit.c), or NULL: interpret */
	uint32_t gen, gen2;	/* code generations of those pages at decode */
	uint8_t mode;		/* decoder mode key */
	uint16_t n_insns;
	struct block *hash_next;
	struct insn insns[];	/* n_insns, then the end-of-block sentinel */
};

#define BLOCK_HASH_BITS	16
#define BLOCK_HASH_SIZE	(1u << BLOCK_HASH_BITS)

/*
 * The jump cache: the block last run at a linear address, found without
 * walking the hash chains.  An entry proves nothing by itself; block_lookup()
 * checks it against the TLB (same physical page), the mode and the code
 * generation, so TLB flushes and code writes need no bookkeeping here.
 */
/* The mode a block was decoded (and compiled) for. */
#define MODE_KEY_CODE64	1
#define MODE_KEY_CODE32	2
#define MODE_KEY_FLAT	4	/* flat_segments: compiled code leaves out segment checks */

#define JIT_RET_STACK	16	/* a power of two */

#define JUMP_CACHE_BITS	14
#define JUMP_CACHE_SIZE	(1u << JUMP_CACHE_BITS)

/*
 * A jump cache entry holds what block_probe() checks and what running the
 * block needs, so that a hit reads this entry, the TLB entry and the page's
 * generation, but not the block itself.
 */
struct jump_cache_entry {
	uint64_t linear;
	struct block *block;		/* NULL: empty */
	void *jit;			/* block->jit */
	const uint32_t *gen_now;	/* block->gen_now */
	uint64_t phys_page;		/* block->phys & ~0xfff */
	uint32_t gen;			/* block->gen */
	uint8_t mode;			/* block->mode */
};

static inline unsigned int jump_cache_index(uint64_t linear)
{
	return (unsigned int)((linear ^ (linear >> JUMP_CACHE_BITS)) & (JUMP_CACHE_SIZE - 1));
}

struct tcg_cpu {
	/* Hot state first. */
	uint64_t regs[16];
	uint64_t rip;
	uint64_t cc_dst, cc_src, cc_src2;
	enum cc_op cc_op;
	uint32_t cc_size;	/* operand size in bytes of the lazy op */
	uint32_t eflags;	/* all flags; the arithmetic ones only when CC_EFLAGS */
	const struct tlb_entry *tlb;	/* tlb_sets[cpl == 3], or tlb_always_miss while #AC checks */
	int exit_request;	/* atomic: leave the block at the next check */
	int interrupt_request;	/* atomic: something for the run loop to look at */
	int machine_kick;	/* atomic: return to the machine (pause, reset, exit) */
	int tlb_flush_request;	/* atomic: the physical memory map changed */
	int init_pending;	/* atomic: INIT received */
	int sipi_vector;	/* atomic: 0x100 | vector of a STARTUP received */
	const uint8_t *code_pages;	/* VM-wide: per guest page, PAGE_* flags; nonzero = slow writes */

	/* Mode, derived from the state below by cpu_update_mode(). */
	uint8_t cpl;
	uint8_t mode_key;	/* decoder mode, part of the block key: MODE_KEY_* */
	bool long_mode;		/* EFER.LMA */
	bool code64;		/* long mode and CS.L */
	bool code32;		/* CS.D */
	bool stack32;		/* SS.B */
	bool paging;
	bool protected_mode;
	bool flat_segments;	/* legacy mode, ES/CS/SS/DS base 0 limit 4G: skip checks */
	bool alignment_check;	/* CPL 3 with CR0.AM and RFLAGS.AC: #AC on misalignment */

	struct segment seg[8];
	struct { uint64_t base; uint32_t limit; } gdtr, idtr;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t dr[8];
	int64_t tsc_offset;
	struct x86_msrs msr;
	uint64_t misc_enable;
	uint64_t mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
	uint64_t xcr0;
	struct x86_fxsave fpu;	/* x87/SSE state in FXSAVE layout */

	/* Interrupt state. */
	bool halted;
	bool interrupt_shadow;	/* after STI / MOV SS: no interrupt before the next insn */
	bool nmi_blocked;	/* from NMI delivery to the next IRET */
	bool wait_for_sipi;	/* application processor after INIT */
	bool pending_single_step;	/* TF trap owed from before a return to the machine */
	int delivering_vector;	/* exception being delivered, or -1 (for #DF) */
	int pending_vector;	/* raised by cpu_raise, delivered by the run loop */
	uint32_t pending_error;
	bool shutdown;		/* triple fault: the run loop reports a reset */

	void *jmp_env[5];	/* __builtin_setjmp buffer of the run loop */

	struct tlb_entry tlb_sets[2][TLB_SIZE];
	uint64_t tlb_generation;	/* bumped on every flush */

	/* Translation blocks: a bump arena, a hash of chains, the jump cache. */
	struct block **block_hash;
	struct jump_cache_entry *jump_cache;
	int chain_budget;		/* blocks left to chain before the run loop looks */
	/*
	 * The JIT's code buffer (jit.c), written through jit_code and run
	 * through a second, executable mapping of the same memory at
	 * jit_code + jit_exec_offset.  jit_code NULL: interpret only.
	 */
	uint8_t *jit_code;
	ptrdiff_t jit_exec_offset;
	size_t jit_size, jit_used;
	struct jit *jit_scratch;
	/* The JIT's return prediction: a ring of the continuations of calls (jit.c). */
	struct ret_link *ret_stack[JIT_RET_STACK];
	unsigned int ret_top;
	struct block *mmio_block;	/* scratch block for code run from MMIO */
	uint8_t *arena;
	size_t arena_size, arena_used;
	uint64_t arena_epoch;		/* bumped by every flush: old blocks are gone */

	/* Environment. */
	struct tcg_vm *vm;
	const struct guest_memory *mem;
	struct bus *pio, *mmio;
	struct vcpu *vcpu;
	struct lapic *lapic;
	const atomic_bool *lapic_intr_pending;	/* lapic_pending(), inlined */
	struct tcg_profile *profile;	/* VESSEL_TCG_PROFILE, or NULL */
	unsigned int index;
	GMutex halt_lock;
	GCond halt_cond;
};

/* Set by the vCPU thread's run loop when an exception unwinds it. */
#define cpu_longjmp(cpu) __builtin_longjmp((cpu)->jmp_env, 1)

/* --- registers --- */

static inline uint64_t reg_read(const struct tcg_cpu *cpu, unsigned int r, unsigned int size)
{
	switch (size) {
	case 1:
		if (r >= REG8_HIGH)
			return (cpu->regs[r - REG8_HIGH] >> 8) & 0xff;
		return cpu->regs[r] & 0xff;
	case 2:
		return cpu->regs[r] & 0xffff;
	case 4:
		return cpu->regs[r] & 0xffffffff;
	default:
		return cpu->regs[r];
	}
}

/* Writes with x86-64 semantics: 32-bit writes zero the upper half. */
static inline void reg_write(struct tcg_cpu *cpu, unsigned int r, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1:
		if (r >= REG8_HIGH)
			cpu->regs[r - REG8_HIGH] = (cpu->regs[r - REG8_HIGH] & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			cpu->regs[r] = (cpu->regs[r] & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		cpu->regs[r] = (cpu->regs[r] & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		cpu->regs[r] = v & 0xffffffff;
		break;
	default:
		cpu->regs[r] = v;
		break;
	}
}

static inline uint64_t size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static inline uint64_t sign_bit(unsigned int size)
{
	return 1ULL << (size * 8 - 1);
}

static inline int64_t sign_extend(uint64_t v, unsigned int size)
{
	unsigned int shift = 64 - size * 8;

	return (int64_t)(v << shift) >> shift;
}

/* --- exceptions (interrupt.c) --- */

/* Raises a fault at the current instruction (the error code is pushed only
 * for the vectors that have one).  Unwinds to the run loop. */
__attribute__((noreturn)) void cpu_raise(struct tcg_cpu *cpu, int vector, uint32_t error_code);
#define cpu_raise_gp0(cpu)	cpu_raise((cpu), EXC_GP, 0)
#define cpu_raise_ud(cpu)	cpu_raise((cpu), EXC_UD, 0)
/* The run loop's side: deliver what cpu_raise recorded (#DF / shutdown rules). */
void cpu_handle_exception(struct tcg_cpu *cpu);

enum event_kind {
	EVENT_EXCEPTION,	/* fault or trap raised by an instruction */
	EVENT_HARDWARE,		/* external interrupt or NMI */
	EVENT_SOFTWARE,		/* INT n, INT3, INTO: privilege-checked against the gate */
	EVENT_ICEBP,		/* INT1 */
};

/* Delivers through IVT/IDT (Vol. 3A ch. 6); `next_rip` is what is pushed. */
void cpu_deliver_event(struct tcg_cpu *cpu, int vector, enum event_kind kind,
		       bool has_error, uint32_t error_code, uint64_t next_rip);

/* --- flags (flags.c) --- */

uint32_t cpu_get_eflags(struct tcg_cpu *cpu);
/* Writes the bits in mask; cc_op becomes CC_EFLAGS. */
void cpu_set_eflags(struct tcg_cpu *cpu, uint32_t value, uint32_t mask);
bool cpu_get_cf(struct tcg_cpu *cpu);
/* Condition code cc (0-15, the low nibble of Jcc/SETcc/CMOVcc). */
bool cpu_condition(struct tcg_cpu *cpu, unsigned int cc);

static inline void cc_set(struct tcg_cpu *cpu, enum cc_op op, unsigned int size, uint64_t dst,
			  uint64_t src)
{
	cpu->cc_op = op;
	cpu->cc_size = size;
	cpu->cc_dst = dst;
	cpu->cc_src = src;
}

/* --- memory (mmu.c) --- */

uint64_t mem_read_slow(struct tcg_cpu *cpu, uint64_t linear, unsigned int size);
void mem_write_slow(struct tcg_cpu *cpu, uint64_t linear, unsigned int size, uint64_t value);
/* Translates every page of [linear, +size) for writing (raises #PF with W set). */
void mem_check_write(struct tcg_cpu *cpu, uint64_t linear, unsigned int size);
/* Host pointer for a linear range in one page, or NULL (then use the slow path). */
void *mem_host_ptr(struct tcg_cpu *cpu, uint64_t linear, unsigned int size, enum access access);
/* Translates for access, raising #PF as the CPU would. */
uint64_t mmu_translate(struct tcg_cpu *cpu, uint64_t linear, enum access access, bool user);
void tlb_flush(struct tcg_cpu *cpu, bool include_global);
void tlb_flush_page(struct tcg_cpu *cpu, uint64_t linear);
/*
 * Per guest page flags (vm->code_pages): a page with any flag set takes the
 * slow write path, which calls tracked_page_written() before the write.
 */
#define PAGE_HAS_CODE		0x01	/* decoded blocks exist: drop them */
#define PAGE_WRITE_TRACKED	0x02	/* video memory: note the page as dirty */
void tracked_page_written(struct tcg_cpu *cpu, uint64_t phys);
/* Physical memory access for page walks and descriptor tables (RAM or MMIO). */
uint64_t phys_read(struct tcg_cpu *cpu, uint64_t phys, unsigned int size);
void phys_write(struct tcg_cpu *cpu, uint64_t phys, unsigned int size, uint64_t value);
/* Code fetch: physical address of linear, or #PF/#GP. */
uint64_t mmu_translate_code(struct tcg_cpu *cpu, uint64_t linear);
/*
 * Implicit supervisor-mode accesses (descriptor tables, TSS, interrupt stack
 * frames): translated as CPL 0 whatever the current CPL (Vol. 3A §4.6).
 */
uint64_t sys_read(struct tcg_cpu *cpu, uint64_t linear, unsigned int size);
void sys_write(struct tcg_cpu *cpu, uint64_t linear, unsigned int size, uint64_t value);

static inline uint64_t load_host(const void *p, unsigned int size)
{
	switch (size) {
	case 1: return *(const uint8_t *)p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

static inline void store_host(void *p, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)p = (uint8_t)v; break;
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

/* Linear-address reads and writes: fast path through the TLB. */
static inline uint64_t lin_read(struct tcg_cpu *cpu, uint64_t linear, unsigned int size)
{
	const struct tlb_entry *e = &cpu->tlb[(linear >> 12) & (TLB_SIZE - 1)];

	if (likely(e->read_tag == (linear & ~0xfffULL) && (linear & 0xfff) <= 0x1000 - size))
		return load_host((const void *)(uintptr_t)(linear + e->addend), size);
	return mem_read_slow(cpu, linear, size);
}

static inline void lin_write(struct tcg_cpu *cpu, uint64_t linear, unsigned int size, uint64_t value)
{
	const struct tlb_entry *e = &cpu->tlb[(linear >> 12) & (TLB_SIZE - 1)];

	if (likely(e->write_tag == (linear & ~0xfffULL) && (linear & 0xfff) <= 0x1000 - size &&
		   !cpu->code_pages[e->phys_page >> 12])) {
		store_host((void *)(uintptr_t)(linear + e->addend), size, value);
		return;
	}
	mem_write_slow(cpu, linear, size, value);
}

/* --- segments (seg.c) --- */

/*
 * Linear address of seg:offset for an access of `size` bytes, with the
 * limit and type checks of legacy modes (64-bit mode: FS/GS base only, and
 * the canonical check happens in the MMU).
 */
uint64_t seg_linear_slow(struct tcg_cpu *cpu, unsigned int seg, uint64_t offset, unsigned int size,
			 enum access access);

/* A non-canonical stack reference raises #SS, not #GP (Vol. 3A §6.15). */
__attribute__((noreturn)) void seg_raise_stack_noncanonical(struct tcg_cpu *cpu);

static inline uint64_t seg_linear(struct tcg_cpu *cpu, unsigned int seg, uint64_t offset,
				  unsigned int size, enum access access)
{
	if (likely(cpu->code64)) {
		if (seg == SEG_SS && unlikely((uint64_t)((int64_t)(offset << 16) >> 16) != offset))
			seg_raise_stack_noncanonical(cpu);
		return seg >= SEG_FS ? cpu->seg[seg].base + offset : offset;
	}
	if (likely(cpu->flat_segments && seg < SEG_FS))
		return offset & 0xffffffff;
	return seg_linear_slow(cpu, seg, offset, size, access);
}

static inline uint64_t mem_read(struct tcg_cpu *cpu, unsigned int seg, uint64_t offset,
				unsigned int size)
{
	return lin_read(cpu, seg_linear(cpu, seg, offset, size, ACCESS_READ), size);
}

static inline void mem_write(struct tcg_cpu *cpu, unsigned int seg, uint64_t offset,
			     unsigned int size, uint64_t value)
{
	lin_write(cpu, seg_linear(cpu, seg, offset, size, ACCESS_WRITE), size, value);
}

/* Loads a segment register as MOV/POP do (all checks; may raise). */
void seg_load(struct tcg_cpu *cpu, unsigned int seg, uint16_t selector);
/* Loads without checks (real/VM86 mode semantics, or state restore). */
void seg_load_real(struct tcg_cpu *cpu, unsigned int seg, uint16_t selector);
/* Reads the 8-byte descriptor for selector from the GDT/LDT; false if outside. */
bool seg_read_descriptor(struct tcg_cpu *cpu, uint16_t selector, uint64_t *descriptor);
void seg_from_descriptor(struct segment *s, uint16_t selector, uint64_t descriptor);
void seg_set_accessed(struct tcg_cpu *cpu, uint16_t selector, uint64_t descriptor);

/* --- state --- */

/* A TLB set that never hits: selected while alignment checking is on. */
extern const struct tlb_entry tlb_always_miss[TLB_SIZE];
/* Recomputes alignment checking and the fast-path TLB after CPL/AC/AM changes. */
void cpu_update_alignment_check(struct tcg_cpu *cpu);

/* Recomputes the cached mode after CR0/CR4/EFER/CS/SS changes. */
void cpu_update_mode(struct tcg_cpu *cpu);
void cpu_set_cpl(struct tcg_cpu *cpu, unsigned int cpl);

static inline uint64_t cpu_tsc(struct tcg_cpu *cpu)
{
	return __builtin_ia32_rdtsc() + (uint64_t)cpu->tsc_offset;
}

/* --- stack --- */

static inline unsigned int stack_size(const struct tcg_cpu *cpu)
{
	return cpu->code64 ? 8 : cpu->stack32 ? 4 : 2;
}

static inline uint64_t stack_pointer(const struct tcg_cpu *cpu)
{
	unsigned int s = stack_size(cpu);

	return s == 8 ? cpu->regs[4] : cpu->regs[4] & size_mask(s);
}

static inline void stack_pointer_set(struct tcg_cpu *cpu, uint64_t sp)
{
	unsigned int s = stack_size(cpu);

	if (s == 8)
		cpu->regs[4] = sp;
	else
		reg_write(cpu, 4, s, sp);
}

/* Pushes size bytes; RSP changes only after the write succeeded. */
static inline void push(struct tcg_cpu *cpu, unsigned int size, uint64_t value)
{
	uint64_t sp = stack_pointer(cpu) - size;

	if (!cpu->code64)
		sp &= size_mask(stack_size(cpu));
	mem_write(cpu, SEG_SS, sp, size, value);
	stack_pointer_set(cpu, sp);
}

static inline uint64_t pop_peek(struct tcg_cpu *cpu, unsigned int size, unsigned int offset)
{
	uint64_t sp = stack_pointer(cpu) + offset;

	if (!cpu->code64)
		sp &= size_mask(stack_size(cpu));
	return mem_read(cpu, SEG_SS, sp, size);
}

static inline void pop_commit(struct tcg_cpu *cpu, unsigned int bytes)
{
	stack_pointer_set(cpu, stack_pointer(cpu) + bytes);
}

/* --- decoding and blocks (decode.c, block.c) --- */

/* The block at CS:RIP, decoded now if need be (may raise #PF, #GP). */
struct block *block_lookup(struct tcg_cpu *cpu);
void block_cache_flush(struct tcg_cpu *cpu);
bool block_cache_init(struct tcg_cpu *cpu);
void block_cache_destroy(struct tcg_cpu *cpu);

/*
 * Threaded dispatch: a handler that falls through runs the next instruction
 * of the block itself, as a tail call, so every handler has its own indirect
 * branch for the processor to predict (one shared call site in a loop
 * predicts poorly).  The chain ends at the block's op_end_block sentinel, or
 * when something asked the vCPU to leave the block (a write to a page with
 * decoded code, an MMIO access, a kick from another thread); the handler
 * then returns END_BLOCK to the run loop.  A block holds at most
 * BLOCK_MAX_INSNS instructions, so even a build that does not turn these
 * calls into jumps (sanitizers, -O0) nests that deep at most.
 */
#define END_BLOCK	1	/* leave the block (RIP already set) */

static inline int insn_next(struct tcg_cpu *cpu, const struct insn *in)
{
	if (unlikely(__atomic_load_n(&cpu->exit_request, __ATOMIC_RELAXED)))
		return END_BLOCK;
	return in[1].fn(cpu, in + 1);
}

/* The common tail of a non-branch instruction: advance RIP, run the next one. */
#define insn_done(cpu, in)	((cpu)->rip += (in)->len, insn_next(cpu, in))

/*
 * The block at CS:RIP if the jump cache has it and it is still good: same
 * physical page as the TLB says, same mode, code not rewritten since it was
 * decoded.  NULL sends the caller to block_lookup()'s slow path.
 */
static inline const struct jump_cache_entry *block_probe(struct tcg_cpu *cpu, uint64_t linear)
{
	const struct jump_cache_entry *j = &cpu->jump_cache[jump_cache_index(linear)];
	const struct tlb_entry *e;

	if (!j->block || j->linear != linear || j->mode != cpu->mode_key)
		return NULL;
	e = &cpu->tlb_sets[cpu->cpl == 3][(linear >> 12) & (TLB_SIZE - 1)];
	if (e->exec_tag != (linear & ~0xfffULL) || e->phys_page != j->phys_page ||
	    __atomic_load_n(j->gen_now, __ATOMIC_ACQUIRE) != j->gen)
		return NULL;
	return j;
}

static inline uint64_t code_linear(const struct tcg_cpu *cpu)
{
	return cpu->code64 ? cpu->rip : (cpu->seg[SEG_CS].base + cpu->rip) & 0xffffffff;
}

/*
 * Block chaining: a branch that ends a block goes on to the next block
 * itself, as a tail call, when nothing needs the run loop — no event, no
 * exit request, no single-step — and the jump cache has the target.
 * chain_budget bounds a chain (the run loop refills it; 0 for an instruction
 * run alone), so the loop's own checks run regularly and a build whose
 * handlers do not end in jumps (sanitizers, -O0) cannot grow the stack
 * without bound.
 */
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
#define CHAIN_BUDGET	64
#else
#define CHAIN_BUDGET	4
#endif

static inline bool chain_stopped(struct tcg_cpu *cpu)
{
	if (unlikely(__atomic_load_n(&cpu->exit_request, __ATOMIC_RELAXED) |
		     __atomic_load_n(&cpu->interrupt_request, __ATOMIC_RELAXED) |
		     cpu->interrupt_shadow | cpu->halted | (cpu->eflags & FLAG_TF) |
		     ((cpu->eflags & FLAG_IF) &&
		      atomic_load_explicit(cpu->lapic_intr_pending, memory_order_acquire))))
		return true;
	return unlikely(--cpu->chain_budget <= 0);
}

static inline int block_chain(struct tcg_cpu *cpu)
{
	const struct jump_cache_entry *j;

	if (chain_stopped(cpu))
		return END_BLOCK;
	j = block_probe(cpu, code_linear(cpu));
	if (unlikely(!j))
		return END_BLOCK;
	if (j->jit)
		return ((int (*)(struct tcg_cpu *))j->jit)(cpu);
	return j->block->insns[0].fn(cpu, j->block->insns);
}

/* Effective address of the memory operand (without segment). */
static inline uint64_t insn_ea(const struct tcg_cpu *cpu, const struct insn *in)
{
	uint64_t a = (uint64_t)(int64_t)in->disp;

	if (in->base == EA_BASE_RIP)
		a += cpu->rip + in->len;
	else if (in->base != NOREG)
		a += cpu->regs[in->base];
	if (in->index != NOREG)
		a += cpu->regs[in->index] << in->scale;
	if (in->asize == 4)
		a &= 0xffffffff;
	else if (in->asize == 2)
		a &= 0xffff;
	return a;
}

static inline uint64_t rm_read(struct tcg_cpu *cpu, const struct insn *in, unsigned int size)
{
	if (in->flags & INSN_MEM)
		return mem_read(cpu, in->seg, insn_ea(cpu, in), size);
	return reg_read(cpu, in->rm, size);
}

static inline void rm_write(struct tcg_cpu *cpu, const struct insn *in, unsigned int size,
			    uint64_t value)
{
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, insn_ea(cpu, in), size, value);
	else
		reg_write(cpu, in->rm, size, value);
}

/* --- system (sys.c, cpuid.c) --- */

bool cpu_rdmsr(struct tcg_cpu *cpu, uint32_t index, uint64_t *value);
bool cpu_wrmsr(struct tcg_cpu *cpu, uint32_t index, uint64_t value);
void cpu_cpuid(struct tcg_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
uint64_t io_read(struct tcg_cpu *cpu, uint16_t port, unsigned int size);
void io_write(struct tcg_cpu *cpu, uint16_t port, unsigned int size, uint64_t value);
void cpu_write_cr0(struct tcg_cpu *cpu, uint64_t value);
void cpu_write_cr3(struct tcg_cpu *cpu, uint64_t value);
void cpu_write_cr4(struct tcg_cpu *cpu, uint64_t value);
void cpu_write_efer(struct tcg_cpu *cpu, uint64_t value);

/* State transfer with struct x86_cpu_state (state.c). */
void cpu_set_state(struct tcg_cpu *cpu, const struct x86_cpu_state *state);
void cpu_get_state(struct tcg_cpu *cpu, struct x86_cpu_state *state);
void cpu_reset(struct tcg_cpu *cpu);

#endif
