/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The JIT: host x86-64 code for decoded blocks of 64-bit code, and of
 * 32-bit code while the segments are flat (base 0, limit 4 GiB: the mode
 * key says so, and every instruction that changes it ends its block).
 *
 * A compiled block is a function int fn(struct tcg_cpu *cpu) with the guest
 * state in memory, as the interpreter keeps it (RBX holds cpu).  Templates
 * turn the frequent instructions into inline code (see emit_inline and
 * emit_block_end for the list); every other instruction calls its
 * interpreter handler on a copy of the instruction followed by
 * op_jit_resume, so the handler's fall-through returns to the compiled code
 * instead of running the rest of the block.
 *
 * Rules the code keeps, so a compiled block behaves exactly like the
 * interpreted one:
 *   - RIP: inline instructions add their lengths to rip_delta, written to
 *     cpu->rip before anything that may fault or read RIP (handler calls,
 *     slow paths) and at the block's end.  The slow paths add it and take
 *     it back, so the fast paths never touch RIP.
 *   - Flags: templates store the same lazy state (cc_op, cc_size, cc_dst,
 *     cc_src, cc_src2) as the handlers.  The host instruction computes the
 *     same flags as the guest's, so while nothing has clobbered the host's
 *     RFLAGS since (host_flags), Jcc, SETcc, CMOVcc, ADC/SBB and INC/DEC
 *     read them directly; otherwise they are rebuilt from the lazy state.
 *   - Memory: the TLB fast path inline (the same test as lin_read and
 *     lin_write, including the "page holds code" test for stores).  Any
 *     other case jumps to the instruction's slow path, which runs the whole
 *     instruction through its handler (faults, MMIO, writes to code) and
 *     leaves the block when the handler asks to: a fast path changes no
 *     guest state before its last check.
 *   - Block end: direct links to compiled blocks, return prediction, or the
 *     interpreter's chaining, all with the checks block_probe() makes.
 */
#include "jit.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fpu.h"
#include "jit_emit.h"
#include "log.h"
#include "ops.h"

#define JIT_BYTES		(64u << 20)	/* per vCPU; flushed with the block arena */
#define JIT_INSN_MAX_BYTES	320		/* fast path and slow path of one instruction */
#define JIT_EXIT_MAX_BYTES	320		/* an exit with its direct link */
#define JIT_BLOCK_MAX_BYTES(n)	(64 + (n) * JIT_INSN_MAX_BYTES + 2 * JIT_EXIT_MAX_BYTES)

#define OFF_REG(r)	((int32_t)(offsetof(struct tcg_cpu, regs) + 8 * (r)))
#define OFF_RIP		((int32_t)offsetof(struct tcg_cpu, rip))
#define OFF_CC_DST	((int32_t)offsetof(struct tcg_cpu, cc_dst))
#define OFF_CC_SRC	((int32_t)offsetof(struct tcg_cpu, cc_src))
#define OFF_CC_SRC2	((int32_t)offsetof(struct tcg_cpu, cc_src2))
#define OFF_CC_OP	((int32_t)offsetof(struct tcg_cpu, cc_op))
#define OFF_CC_SIZE	((int32_t)offsetof(struct tcg_cpu, cc_size))
#define OFF_EFLAGS	((int32_t)offsetof(struct tcg_cpu, eflags))
#define OFF_CR0		((int32_t)offsetof(struct tcg_cpu, cr0))
#define OFF_CR4		((int32_t)offsetof(struct tcg_cpu, cr4))
#define OFF_XMM(r)	((int32_t)(offsetof(struct tcg_cpu, fpu) + offsetof(struct x86_fxsave, xmm) + 16 * (r)))
#define OFF_TLB		((int32_t)offsetof(struct tcg_cpu, tlb))
#define OFF_CODE_PAGES	((int32_t)offsetof(struct tcg_cpu, code_pages))
#define OFF_RET_STACK	((int32_t)offsetof(struct tcg_cpu, ret_stack))
#define OFF_RET_TOP	((int32_t)offsetof(struct tcg_cpu, ret_top))
#define OFF_EXIT	((int32_t)offsetof(struct tcg_cpu, exit_request))
#define OFF_BUDGET	((int32_t)offsetof(struct tcg_cpu, chain_budget))
#define OFF_SEG_BASE(s)	((int32_t)(offsetof(struct tcg_cpu, seg) + (s) * sizeof(struct segment) + \
				   offsetof(struct segment, base)))

#define TLB_ENTRY_SHIFT	6
_Static_assert(sizeof(struct tlb_entry) == 1u << TLB_ENTRY_SHIFT, "TLB entries are indexed by shifting");
_Static_assert(sizeof(enum cc_op) == 4, "cc_op is stored as a dword");
_Static_assert(sizeof(((struct tcg_cpu *)0)->exit_request) == 4, "exit_request is read as a dword");
_Static_assert(offsetof(struct tcg_cpu, interrupt_request) == offsetof(struct tcg_cpu, exit_request) + 4,
	       "a direct link tests exit_request and interrupt_request as one qword");

/*
 * A compiled block starts with its entry (PUSH RBX; MOV RBX, RDI); direct
 * links from other blocks jump to its body right after, with the frame
 * already set up.
 */
#define JIT_BODY_OFFSET	4

typedef int (*jit_fn)(struct tcg_cpu *cpu);

/*
 * The out-of-line slow path of an inline instruction, emitted after the
 * block's code: the fast path's memory accesses jump here when the TLB does
 * not have the page (or it is MMIO, or holds code), and the instruction then
 * runs through its interpreter handler, which handles every such case.
 */
/* The lazy flags the last inline instruction stored, when known at compile time. */
enum lazy_kind { LAZY_UNKNOWN, LAZY_ADD, LAZY_SUB, LAZY_LOGIC, LAZY_NEG, LAZY_EFLAGS };

struct slow_path {
	uint8_t *entry[6];	/* rel32s of the fast path's jumps to it: two TLB probes */
	unsigned int n_entries;
	uint8_t *resume;	/* where the fast path continues */
	int32_t rip_delta;	/* RIP not yet written at the instruction */
	uint8_t len;
	bool tail;		/* a branch: the handler ends the block */
	bool regen_flags;	/* the fast path leaves the guest's flags in the host's */
	enum lazy_kind lazy;	/* ... which are of this kind */
	unsigned int lazy_size;
	const struct insn *copy;
};

struct jit {
	struct emit e;
	struct tcg_cpu *cpu;
	struct block *b;
	uint64_t linear;	/* the block's linear address as compiled */
	bool code64;		/* 64-bit code; else 32-bit code with flat segments */
	bool flags_dead;	/* the instruction's flags are overwritten before anything sees them */
	bool sse_checked;	/* SSE is known usable (CR0, CR4) since the last handler call */
	uint8_t *ret_link_imm;	/* a CALL's: where its continuation's struct ret_link address goes */
	uint64_t ret_linear;	/* ... and the continuation's address */
	int32_t rip_delta;
	uint32_t pos;		/* offset of the current instruction from the block's start */
	bool host_flags;	/* the host's arithmetic flags are the guest's */
	enum lazy_kind lazy;
	unsigned int lazy_size;
	struct insn *copies;
	unsigned int n_copies;
	struct slow_path slow[BLOCK_MAX_INSNS];
	unsigned int n_slow;
	struct slow_path *cur;	/* the slow path of the instruction being compiled */
	uint8_t *exits[2 * BLOCK_MAX_INSNS];	/* rel32s of jumps to the common exit */
	unsigned int n_exits;
};

/* What an interpreter handler called from compiled code falls through to. */
static int op_jit_resume(struct tcg_cpu *cpu, const struct insn *in)
{
	return 0;
}

/* The guest's arithmetic flags, for POPFQ into the host's (DF, TF, AC stay clear). */
static uint64_t jit_arith_flags(struct tcg_cpu *cpu)
{
	return cpu_get_eflags(cpu) & FLAGS_ARITH;
}

/* Compiled code leaves a block through here: the interpreter's chaining. */
static int jit_chain(struct tcg_cpu *cpu)
{
	return block_chain(cpu);
}

/*
 * A direct link: an exit whose target is known when the block is compiled
 * jumps straight to the target's compiled body once jit_chain_link() has
 * seen it, after the checks block_probe() makes — the exit code compares
 * the target's code generation (and, for a target in another page, RIP and
 * the TLB's translation) with what it was patched with.  This describes
 * what to patch; it sits in the code buffer after the exit's slow path.
 */
struct link_site {
	uint8_t *jump;		/* rel32 of the JMP to the target's body */
	uint8_t *gen_now;	/* imm64: the target's page generation counter */
	uint8_t *gen;		/* imm32: its value for the compiled target */
	uint8_t *phys_page;	/* imm64: the target's physical page (other page), or NULL */
	uint64_t linear;	/* the target's linear address as compiled */
	uint64_t phys;		/* same page: the target's physical address */
};

/* What an unpatched link compares with: never equal to its initial 1. */
static const uint32_t jit_never_gen;

/*
 * Return prediction: a CALL pushes the description of its continuation (the
 * block after it) on a small ring in the CPU; a RET pops one and, when the
 * address it returns to is that continuation's and the checks of a direct
 * link pass (TLB translation, code generation), jumps to its compiled body.
 * jit_chain_ret() fills a description in the first time its continuation
 * is returned to.  The ring is only a guess: a wrong or stale entry fails a
 * check and the RET chains through the jump cache.
 */
struct ret_link {
	uint64_t linear;		/* the return address it describes */
	uint64_t phys_page;		/* its physical page once known, else ~0 */
	const uint32_t *gen_now;	/* its page's generation counter (jit_never_gen: unknown) */
	uint64_t gen;			/* ... and its value for the compiled block */
	void *body;			/* the continuation's compiled body */
};

/* The ring's empty entries: matches nothing, and is never filled. */
static struct ret_link jit_no_ret = { .linear = ~0ULL, .phys_page = ~0ULL, .gen_now = &jit_never_gen,
				      .gen = 1 };

static void ret_stack_clear(struct tcg_cpu *cpu)
{
	for (unsigned int i = 0; i < JIT_RET_STACK; i++)
		cpu->ret_stack[i] = &jit_no_ret;
	cpu->ret_top = 0;
}

/*
 * The code buffer is written through one mapping and run through another
 * (W^X): addresses that are run or jumped to are the executable ones, those
 * C code writes through (patched instructions, link descriptions) the
 * writable ones.  Relative jumps are the same in both.
 */
static void *code_executable(const struct tcg_cpu *cpu, uint8_t *writable)
{
	return writable + cpu->jit_exec_offset;
}

static uint8_t *code_writable(const struct tcg_cpu *cpu, const void *executable)
{
	return (uint8_t *)executable - cpu->jit_exec_offset;
}

/* The next block as block_chain() finds it; NULL: the run loop must look. */
static const struct jump_cache_entry *chain_probe(struct tcg_cpu *cpu)
{
	if (chain_stopped(cpu))
		return NULL;
	return block_probe(cpu, code_linear(cpu));
}

/* The slow path of a predicted RET: chaining, and the prediction filled in. */
static int jit_chain_ret(struct tcg_cpu *cpu, struct ret_link *link)
{
	const struct jump_cache_entry *j = chain_probe(cpu);

	if (unlikely(!j))
		return END_BLOCK;
	if (!j->jit)
		return j->block->insns[0].fn(cpu, j->block->insns);
	if (link != &jit_no_ret && link->linear == code_linear(cpu)) {
		link->phys_page = j->phys_page;
		link->gen_now = j->gen_now;
		link->gen = j->gen;
		link->body = (uint8_t *)j->jit + JIT_BODY_OFFSET;
	}
	return ((jit_fn)j->jit)(cpu);
}

/*
 * The slow path of a direct link: the interpreter's chaining, and the
 * link patched to the target's body when the target is the one the exit
 * was compiled for and has compiled code.
 */
static int jit_chain_link(struct tcg_cpu *cpu, const struct link_site *site)
{
	const struct jump_cache_entry *j = chain_probe(cpu);
	uint64_t gen_now;

	if (unlikely(!j))
		return END_BLOCK;
	if (!j->jit)
		return j->block->insns[0].fn(cpu, j->block->insns);
	if (code_linear(cpu) == site->linear && (site->phys_page || j->block->phys == site->phys)) {
		gen_now = (uint64_t)(uintptr_t)j->gen_now;
		memcpy(site->gen_now, &gen_now, 8);
		memcpy(site->gen, &j->gen, 4);
		if (site->phys_page)
			memcpy(site->phys_page, &j->phys_page, 8);
		patch_rel32(site->jump, code_writable(cpu, j->jit) + JIT_BODY_OFFSET);
	}
	return ((jit_fn)j->jit)(cpu);
}

/* RIP += imm (or -=): in 32-bit code a 32-bit operation, so EIP wraps at 4 GiB. */
static void emit_rip_add(struct jit *j, enum alu_op op, int32_t imm)
{
	if (j->code64)
		emit_alu_mem_imm(&j->e, op, RBX, OFF_RIP, imm);
	else
		emit_alu_mem_imm32(&j->e, op, RBX, OFF_RIP, imm);
}

static void flush_rip(struct jit *j)
{
	if (j->rip_delta) {
		emit_rip_add(j, ALU_ADD, j->rip_delta);
		j->rip_delta = 0;
		j->host_flags = false;
	}
}

/* Leaves through jit_chain(cpu); RIP must be written. */
static void emit_chain(struct jit *j)
{
	emit_mov(&j->e, true, RDI, RBX);
	emit_pop(&j->e, RBX);
	emit_jmp_abs(&j->e, (const void *)jit_chain);
}

/*
 * Leaves for the instruction `target` bytes after the block's start, adding
 * rip_add to RIP first, through a direct link (struct link_site) when
 * nothing is pending and the chain budget allows.
 */
static void emit_exit(struct jit *j, int32_t rip_add, int64_t target)
{
	uint64_t linear = j->linear + (uint64_t)target;
	bool same_page = ((linear ^ j->linear) & ~0xfffULL) == 0;
	int32_t tlb = (int32_t)(((linear >> 12) & (TLB_SIZE - 1)) * sizeof(struct tlb_entry));
	uint8_t *slow[6], *desc_imm;
	struct link_site site = { .linear = linear, .phys = j->b->phys + (uint64_t)target };
	unsigned int n = 0;

	if (rip_add)
		emit_rip_add(j, ALU_ADD, rip_add);
	emit_alu_mem_imm(&j->e, ALU_CMP, RBX, OFF_EXIT, 0);
	slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
	emit_alu_mem_imm32(&j->e, ALU_SUB, RBX, OFF_BUDGET, 1);
	slow[n++] = emit_jcc_fwd(&j->e, HCC_LE);
	if (!same_page) {
		/* The RIP it was compiled for (a block may run at another linear address), mapped as then. */
		emit_load(&j->e, true, RAX, RBX, OFF_RIP);
		emit_mov_imm(&j->e, RCX, linear);
		emit_alu(&j->e, true, ALU_CMP, RAX, RCX);
		slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
		emit_load(&j->e, true, RDI, RBX, OFF_TLB);
		emit_alu_imm(&j->e, true, ALU_AND, RCX, -4096);
		emit_alu_load(&j->e, true, ALU_CMP, RCX, RDI, tlb + (int32_t)offsetof(struct tlb_entry, exec_tag));
		slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
		site.phys_page = emit_mov_imm64(&j->e, RCX, ~0ULL);
		emit_alu_load(&j->e, true, ALU_CMP, RCX, RDI, tlb + (int32_t)offsetof(struct tlb_entry, phys_page));
		slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
	}
	/* The target's code is still what was compiled. */
	site.gen_now = emit_mov_imm64(&j->e, RAX, (uint64_t)(uintptr_t)&jit_never_gen);
	site.gen = emit_cmp_mem32_imm(&j->e, RAX, 1);
	slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
	site.jump = emit_jmp_fwd(&j->e);
	patch_rel32(site.jump, j->e.p);
	for (unsigned int i = 0; i < n; i++)
		patch_rel32(slow[i], j->e.p);
	emit_mov(&j->e, true, RDI, RBX);
	desc_imm = emit_mov_imm64(&j->e, RSI, 0);
	emit_pop(&j->e, RBX);
	emit_jmp_abs(&j->e, (const void *)jit_chain_link);
	/* The link's description, aligned, in the code buffer. */
	while (((uintptr_t)j->e.p & 7) && emit_ok(&j->e))
		emit_u8(&j->e, 0xcc);
	if (emit_ok(&j->e) && j->e.p + sizeof(site) <= j->e.end) {
		uint64_t addr = (uint64_t)(uintptr_t)j->e.p;

		memcpy(j->e.p, &site, sizeof(site));
		memcpy(desc_imm, &addr, 8);
		j->e.p += sizeof(site);
	} else {
		j->e.overflow = true;
	}
}

/* --- building blocks --- */

/* Offset of guest register r's low `size` bytes in cpu (AH..BH: r >= REG8_HIGH). */
static int32_t reg_off(unsigned int r, unsigned int size)
{
	if (size == 1 && r >= REG8_HIGH)
		return OFF_REG(r - REG8_HIGH) + 1;
	return OFF_REG(r);
}

/* host = guest register r (size bytes, zero-extended) */
static void emit_reg_load(struct jit *j, unsigned int size, unsigned int host, unsigned int r)
{
	emit_load_zx(&j->e, size, host, RBX, reg_off(r, size));
}

/*
 * Guest register r = host's low `size` bytes.  A 32-bit write clears the
 * upper half: the value in `host` is already zero-extended (every 32-bit
 * operation the JIT emits leaves it so).
 */
static void emit_reg_store(struct jit *j, unsigned int size, unsigned int host, unsigned int r)
{
	if (size >= 4)
		emit_store(&j->e, true, host, RBX, reg_off(r, size));
	else
		emit_store_sized(&j->e, size, host, RBX, reg_off(r, size));
}

/* Stores the lazy flags: result in RAX, source in RCX (unless nothing can see them). */
static void emit_lazy_flags(struct jit *j, enum cc_op op, unsigned int size)
{
	if (j->flags_dead)
		return;
	emit_store(&j->e, true, RAX, RBX, OFF_CC_DST);
	emit_store(&j->e, true, RCX, RBX, OFF_CC_SRC);
	emit_store_imm(&j->e, false, RBX, OFF_CC_OP, op);
	emit_store_imm(&j->e, false, RBX, OFF_CC_SIZE, (int32_t)size);
}

/* The lazy flags just stored are ones the host's flags can be rebuilt from (see emit_host_flags). */
static void set_lazy(struct jit *j, enum lazy_kind kind, unsigned int size)
{
	j->lazy = kind;
	j->lazy_size = size;
	j->host_flags = true;
}

/*
 * Rebuilds the host's flags from the lazy state of `kind`: the same
 * operation again on the same operands (CMP for SUB, ADD for ADD, TEST for
 * the logic ops, NEG for NEG) sets the same arithmetic flags; a flags image
 * is loaded with POPFQ; other kinds go through jit_arith_flags() (which
 * clobbers the caller-saved registers).  Clobbers RAX, RCX.
 */
static void emit_rebuild_flags(struct jit *j, enum lazy_kind kind, unsigned int size)
{
	switch (kind) {
	case LAZY_SUB:		/* op1 = result + src; CMP op1, src */
		emit_load(&j->e, true, RAX, RBX, OFF_CC_DST);
		emit_load(&j->e, true, RCX, RBX, OFF_CC_SRC);
		emit_lea(&j->e, RAX, RAX, RCX, 0, 0);
		emit_alu_sized(&j->e, size, ALU_CMP, RAX, RCX);
		break;
	case LAZY_ADD:		/* op1 = result - src; ADD op1, src */
		emit_load(&j->e, true, RAX, RBX, OFF_CC_DST);
		emit_load(&j->e, true, RCX, RBX, OFF_CC_SRC);
		emit_alu(&j->e, true, ALU_SUB, RAX, RCX);
		emit_alu_sized(&j->e, size, ALU_ADD, RAX, RCX);
		break;
	case LAZY_LOGIC:
		emit_load(&j->e, true, RAX, RBX, OFF_CC_DST);
		emit_test_sized(&j->e, size, RAX, RAX);
		break;
	case LAZY_NEG:
		emit_load(&j->e, true, RAX, RBX, OFF_CC_SRC);
		emit_unary_sized(&j->e, size, 3, RAX);
		break;
	case LAZY_EFLAGS:
		emit_load(&j->e, false, RAX, RBX, OFF_EFLAGS);
		emit_alu_imm(&j->e, false, ALU_AND, RAX, FLAGS_ARITH);
		emit_popf_rax(&j->e);
		break;
	case LAZY_UNKNOWN:
		emit_mov(&j->e, true, RDI, RBX);
		emit_call_abs(&j->e, (const void *)jit_arith_flags);
		emit_popf_rax(&j->e);
		break;
	}
}

/*
 * The lazy state INC/DEC leave: result in RAX, the CF they keep (SETC'd
 * into the low byte of cf) in cc_src2.  The host's flags are the guest's.
 */
static void emit_incdec_flags(struct jit *j, bool dec, unsigned int size, unsigned int cf)
{
	if (!j->flags_dead) {
		emit_movzx8(&j->e, cf, cf);
		emit_store(&j->e, true, cf, RBX, OFF_CC_SRC2);
		emit_store(&j->e, true, RAX, RBX, OFF_CC_DST);
		emit_store_imm(&j->e, false, RBX, OFF_CC_OP, dec ? CC_DEC : CC_INC);
		emit_store_imm(&j->e, false, RBX, OFF_CC_SIZE, (int32_t)size);
	}
	j->lazy = LAZY_UNKNOWN;
	j->host_flags = true;
}

/* Makes the host's flags the guest's if that is cheap; false: they are not. */
static bool ensure_host_flags(struct jit *j)
{
	if (j->host_flags)
		return true;
	if (j->lazy == LAZY_UNKNOWN)
		return false;
	emit_rebuild_flags(j, j->lazy, j->lazy_size);
	j->host_flags = true;
	return true;
}

/* Makes the host's flags the guest's, whatever it costs. */
static void force_host_flags(struct jit *j)
{
	if (!ensure_host_flags(j)) {
		emit_rebuild_flags(j, LAZY_UNKNOWN, 0);
		j->host_flags = true;
	}
}

/*
 * The host's arithmetic flags, just set by an instruction that changes only
 * some of them, become the guest's as a flags image (CC_EFLAGS).
 */
static void emit_flags_image(struct jit *j)
{
	emit_pushf_rax(&j->e);
	emit_alu_imm(&j->e, false, ALU_AND, RAX, FLAGS_ARITH);
	emit_load(&j->e, false, RCX, RBX, OFF_EFLAGS);
	emit_alu_imm(&j->e, false, ALU_AND, RCX, ~FLAGS_ARITH);
	emit_alu(&j->e, false, ALU_OR, RCX, RAX);
	emit_store(&j->e, false, RCX, RBX, OFF_EFLAGS);
	emit_store_imm(&j->e, false, RBX, OFF_CC_OP, CC_EFLAGS);
	j->lazy = LAZY_EFLAGS;
	j->host_flags = false;
}

/* An instruction copy followed by op_jit_resume (or the sentinel's op_end_block). */
static struct insn *insn_copy(struct jit *j, const struct insn *in, bool last)
{
	struct insn *copy = &j->copies[j->n_copies];

	j->n_copies += 2;
	copy[0] = *in;
	copy[1] = (struct insn){ .fn = last ? op_end_block : op_jit_resume };
	return copy;
}

/* The instruction through its interpreter handler. */
static void emit_handler_call(struct jit *j, const struct insn *in, bool last)
{
	struct insn *copy = insn_copy(j, in, last);

	flush_rip(j);
	emit_mov(&j->e, true, RDI, RBX);
	emit_mov_imm(&j->e, RSI, (uint64_t)(uintptr_t)copy);
	j->host_flags = false;
	j->lazy = LAZY_UNKNOWN;
	j->sse_checked = false;
	if (last) {
		/* Its fall-through ends the block, as the sentinel would. */
		emit_pop(&j->e, RBX);
		emit_jmp_abs(&j->e, (const void *)in->fn);
		return;
	}
	emit_call_abs(&j->e, (const void *)in->fn);
	emit_test32(&j->e, RAX, RAX);
	j->exits[j->n_exits++] = emit_jcc_fwd(&j->e, HCC_NE);
}

/* Starts the slow path of the instruction being compiled. */
static struct slow_path *slow_begin(struct jit *j, const struct insn *in, bool tail)
{
	struct slow_path *s = &j->slow[j->n_slow++];

	*s = (struct slow_path){
		.rip_delta = j->rip_delta,
		.len = in->len,
		.tail = tail,
		.copy = insn_copy(j, in, false),
	};
	j->cur = s;
	return s;
}

/* The instruction's fast path ends here; the host's flags are `flags`' kind if host_flags. */
static void slow_end(struct jit *j)
{
	struct slow_path *s = j->cur;

	s->resume = j->e.p;
	s->regen_flags = j->host_flags;
	s->lazy = j->lazy;
	s->lazy_size = j->lazy_size;
	j->cur = NULL;
}

static void slow_entry(struct jit *j, uint8_t *rel)
{
	struct slow_path *s = j->cur;

	g_assert(s->n_entries < G_N_ELEMENTS(s->entry));
	s->entry[s->n_entries++] = rel;
}

/*
 * The slow path: the whole instruction through its handler (which raises
 * faults, goes through MMIO, invalidates written code); back to the fast
 * path's end unless it asked to leave.
 */
static void emit_slow_path(struct jit *j, const struct slow_path *s, const uint8_t *exit)
{
	for (unsigned int i = 0; i < s->n_entries; i++)
		patch_rel32(s->entry[i], j->e.p);
	if (s->rip_delta)
		emit_rip_add(j, ALU_ADD, s->rip_delta);
	emit_mov(&j->e, true, RDI, RBX);
	emit_mov_imm(&j->e, RSI, (uint64_t)(uintptr_t)s->copy);
	if (s->tail) {
		emit_pop(&j->e, RBX);
		emit_jmp_abs(&j->e, (const void *)s->copy->fn);
		return;
	}
	emit_call_abs(&j->e, (const void *)s->copy->fn);
	emit_test32(&j->e, RAX, RAX);
	patch_rel32(emit_jcc_fwd(&j->e, HCC_NE), exit);
	emit_rip_add(j, ALU_SUB, s->rip_delta + s->len);
	if (s->regen_flags)
		emit_rebuild_flags(j, s->lazy, s->lazy_size);
	emit_jmp_to(&j->e, s->resume);
}

/* Displacement of the effective address as emitted (RIP-relative: from cpu->rip). */
static bool ea_displacement(const struct jit *j, const struct insn *in, int32_t *disp)
{
	int64_t d = in->disp;

	if (in->asize != 8 && in->asize != 4)
		return false;
	if (in->base == EA_BASE_RIP)
		d += j->rip_delta + in->len;
	if (!fits_s32(d))
		return false;
	*disp = (int32_t)d;
	return true;
}

/*
 * Whether the instruction's memory operand (if any) has a form the JIT
 * computes: in 32-bit code only through the flat segments (FS and GS have
 * limits there).
 */
static bool mem_ok(const struct jit *j, const struct insn *in)
{
	int32_t disp;

	if (!(in->flags & INSN_MEM))
		return true;
	if (!j->code64 && in->seg >= SEG_FS)
		return false;
	return ea_displacement(j, in, &disp);
}

/* RSI = the effective address (offset in the segment); clobbers RAX, not flags. */
static void emit_ea(struct jit *j, const struct insn *in)
{
	int32_t disp = 0;

	ea_displacement(j, in, &disp);
	if (in->base == EA_BASE_RIP)
		emit_load(&j->e, true, RSI, RBX, OFF_RIP);
	else if (in->base != NOREG)
		emit_load(&j->e, true, RSI, RBX, OFF_REG(in->base));
	else
		emit_mov_imm(&j->e, RSI, 0);
	if (in->index != NOREG) {
		emit_load(&j->e, true, RAX, RBX, OFF_REG(in->index));
		emit_lea(&j->e, RSI, RSI, RAX, in->scale, disp);
	} else if (disp) {
		emit_lea(&j->e, RSI, RSI, NOREG_HOST, 0, disp);
	}
	if (in->asize == 4)
		emit_mov(&j->e, false, RSI, RSI);	/* a 32-bit address wraps */
}

/*
 * RDX = host pointer for `size` bytes at offset RSI of segment `seg`, by
 * the TLB fast path (the test lin_read/lin_write make, with the "page holds
 * code" test for writes); everything else jumps to the slow path.  Keeps
 * RSI; clobbers RAX, RCX, RDI and the host's flags.
 */
static void emit_tlb(struct jit *j, unsigned int seg, unsigned int size, bool write)
{
	/* RDX = linear: only FS and GS have a base in 64-bit mode, none does in flat 32-bit code. */
	emit_mov(&j->e, true, RDX, RSI);
	if (j->code64 && (seg == SEG_FS || seg == SEG_GS))
		emit_alu_load(&j->e, true, ALU_ADD, RDX, RBX, OFF_SEG_BASE(seg));
	/* RDI = &cpu->tlb[(linear >> 12) % TLB_SIZE]: ((linear >> 6) & ((TLB_SIZE - 1) << 6)) bytes in. */
	emit_load(&j->e, true, RDI, RBX, OFF_TLB);
	emit_mov(&j->e, false, RAX, RDX);
	emit_shr_imm(&j->e, false, RAX, 12 - TLB_ENTRY_SHIFT);
	emit_alu_imm(&j->e, false, ALU_AND, RAX, (TLB_SIZE - 1) << TLB_ENTRY_SHIFT);
	emit_alu(&j->e, true, ALU_ADD, RDI, RAX);
	/*
	 * The page of the access's last byte against the entry's tag: equal
	 * only when the page is there and the access stays inside it (the
	 * next page's entry is another one).
	 */
	if (size > 1)
		emit_lea(&j->e, RAX, RDX, NOREG_HOST, 0, (int32_t)size - 1);
	else
		emit_mov(&j->e, true, RAX, RDX);
	emit_alu_imm(&j->e, true, ALU_AND, RAX, -4096);
	emit_alu_load(&j->e, true, ALU_CMP, RAX, RDI,
		      (int32_t)(write ? offsetof(struct tlb_entry, write_tag) : offsetof(struct tlb_entry, read_tag)));
	slow_entry(j, emit_jcc_fwd(&j->e, HCC_NE));
	if (write) {
		/* A page with decoded code takes the slow path, which invalidates it. */
		emit_load(&j->e, true, RAX, RDI, (int32_t)offsetof(struct tlb_entry, phys_page));
		emit_shr_imm(&j->e, true, RAX, 12);
		emit_load(&j->e, true, RCX, RBX, OFF_CODE_PAGES);
		emit_cmp_byte_zero(&j->e, RCX, RAX);
		slow_entry(j, emit_jcc_fwd(&j->e, HCC_NE));
	}
	emit_alu_load(&j->e, true, ALU_ADD, RDX, RDI, (int32_t)offsetof(struct tlb_entry, addend));
	j->host_flags = false;
}

/* RDX = host pointer to the instruction's memory operand. */
static void emit_mem(struct jit *j, const struct insn *in, unsigned int size, bool write)
{
	emit_ea(j, in);
	emit_tlb(j, in->seg, size, write);
}

/* With a memory operand: starts the slow path, RDX = host pointer to the operand. */
static void emit_mem_operand(struct jit *j, const struct insn *in, unsigned int size, bool write)
{
	if (!(in->flags & INSN_MEM))
		return;
	slow_begin(j, in, false);
	emit_mem(j, in, size, write);
}

/* ... and ends it: the fast path's code for the instruction is complete. */
static void emit_mem_operand_end(struct jit *j, const struct insn *in)
{
	if (in->flags & INSN_MEM)
		slow_end(j);
}

/* host = the r/m operand (register or [RDX]), zero-extended. */
static void emit_rm_load(struct jit *j, const struct insn *in, unsigned int size, unsigned int host)
{
	if (in->flags & INSN_MEM)
		emit_load_zx(&j->e, size, host, RDX, 0);
	else
		emit_reg_load(j, size, host, in->rm);
}

static void emit_rm_store(struct jit *j, const struct insn *in, unsigned int size, unsigned int host)
{
	if (in->flags & INSN_MEM)
		emit_store_sized(&j->e, size, host, RDX, 0);
	else
		emit_reg_store(j, size, host, in->rm);
}

/* RCX = an immediate cut to the operand size (64-bit: sign-extended). */
static void emit_imm(struct jit *j, uint64_t imm, unsigned int size)
{
	emit_mov_imm(&j->e, RCX, size == 8 ? imm : imm & size_mask(size));
}

/* --- templates: each checks it applies before emitting anything --- */

/* ALU (ADD OR ADC SBB AND SUB XOR CMP) and TEST, any size, register or memory operand. */
static bool emit_alu_template(struct jit *j, const struct insn *in)
{
	bool test = in->fn == op_test_rm_reg || in->fn == op_test_rm_imm;
	bool to_reg = in->fn == op_alu_reg_rm, imm = in->fn == op_alu_rm_imm || in->fn == op_test_rm_imm;
	unsigned int size = in->size, op = test ? ALU_AND : in->op;
	bool writes = !test && op != ALU_CMP, carry = op == ALU_ADC || op == ALU_SBB;
	enum lazy_kind kind;

	if (!test && in->fn != op_alu_rm_reg && in->fn != op_alu_reg_rm && in->fn != op_alu_rm_imm)
		return false;
	if ((in->flags & INSN_LOCK) || !mem_ok(j, in))
		return false;
	kind = op == ALU_ADD ? LAZY_ADD : op == ALU_SUB || op == ALU_CMP ? LAZY_SUB : LAZY_LOGIC;
	if (carry) {
		/* The carry in: the host's CF, kept in R8 across the memory probe. */
		force_host_flags(j);
		emit_setcc(&j->e, HCC_B, R8);
	}
	emit_mem_operand(j, in, size, writes && !to_reg);
	/* RAX = the destination (first) operand, RCX = the source. */
	if (to_reg) {
		emit_reg_load(j, size, RAX, in->reg);
		emit_rm_load(j, in, size, RCX);
	} else {
		emit_rm_load(j, in, size, RAX);
		if (imm)
			emit_imm(j, in->imm, size);
		else
			emit_reg_load(j, size, RCX, in->reg);
	}
	if (carry && (in->flags & INSN_MEM))
		emit_bt_imm(&j->e, 4, 4, R8, 0);	/* CF = the carry in again */
	emit_alu_sized(&j->e, size, op == ALU_CMP ? ALU_SUB : (enum alu_op)op, RAX, RCX);
	if (writes) {
		if (to_reg)
			emit_reg_store(j, size, RAX, in->reg);
		else
			emit_rm_store(j, in, size, RAX);
	}
	if (carry) {
		emit_movzx8(&j->e, R8, R8);
		if (!j->flags_dead)
			emit_store(&j->e, true, R8, RBX, OFF_CC_SRC2);
		emit_lazy_flags(j, op == ALU_ADC ? CC_ADC : CC_SBB, size);
		j->lazy = LAZY_UNKNOWN;
		j->host_flags = true;
	} else {
		emit_lazy_flags(j, kind == LAZY_ADD ? CC_ADD : kind == LAZY_SUB ? CC_SUB : CC_LOGIC, size);
		set_lazy(j, kind, size);
	}
	emit_mem_operand_end(j, in);
	return true;
}

/* MOV of any size between registers, memory and immediates (the forms exec_fast.c leaves). */
static bool emit_mov_template(struct jit *j, const struct insn *in)
{
	unsigned int size = in->size;

	if (in->fn != op_mov_rm_reg && in->fn != op_mov_reg_rm && in->fn != op_mov_rm_imm)
		return false;
	if (!mem_ok(j, in))
		return false;
	emit_mem_operand(j, in, size, in->fn != op_mov_reg_rm);
	if (in->fn == op_mov_reg_rm) {
		emit_rm_load(j, in, size, RAX);
		emit_reg_store(j, size, RAX, in->reg);
	} else {
		if (in->fn == op_mov_rm_imm)
			emit_mov_imm(&j->e, RAX, size == 8 ? in->imm : in->imm & size_mask(size));
		else
			emit_reg_load(j, size, RAX, in->reg);
		emit_rm_store(j, in, size, RAX);
	}
	emit_mem_operand_end(j, in);
	return true;
}

/* MOVZX, MOVSX, MOVSXD (size: the source's, op: the destination's). */
static bool emit_movx_template(struct jit *j, const struct insn *in)
{
	bool mem = in->flags & INSN_MEM, sx = in->fn != op_movzx;
	unsigned int src = in->size, dst = in->op;

	if (in->fn == op_movsxd) {
		if (in->size != 8)
			return false;
		src = 4;
		dst = 8;
	} else if (in->fn != op_movzx && in->fn != op_movsx) {
		return false;
	}
	if (!mem_ok(j, in))
		return false;
	emit_mem_operand(j, in, src, false);
	if (sx)
		emit_load_sx(&j->e, src, RAX, mem ? RDX : RBX, mem ? 0 : reg_off(in->rm, src));
	else
		emit_rm_load(j, in, src, RAX);
	if (sx && dst == 4)
		emit_mov(&j->e, false, RAX, RAX);	/* zero-extends */
	emit_reg_store(j, dst, RAX, in->reg);
	emit_mem_operand_end(j, in);
	return true;
}

/*
 * ROL/ROR of a 32- or 64-bit register by an immediate: they change only CF
 * and OF, so the host rotates with the guest's flags in its RFLAGS and the
 * result becomes a flags image.
 */
static bool emit_rotate(struct jit *j, const struct insn *in)
{
	unsigned int size = in->size, count = (unsigned int)in->imm & (size == 8 ? 0x3f : 0x1f);

	if ((size != 4 && size != 8) || (in->flags & INSN_MEM) || count == 0)
		return false;
	force_host_flags(j);
	emit_load(&j->e, size == 8, RAX, RBX, OFF_REG(in->rm));
	emit_rotate_imm(&j->e, size == 8, in->op, RAX, (uint8_t)count);
	emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
	emit_flags_image(j);
	return true;
}

/*
 * CF = RCX (0 or 1), every other flag as it was.  A flags image (CC_EFLAGS)
 * gets the bit; a lazy state keeps its result, so ZF, SF and PF
 * stay, and becomes CC_INC with CF in cc_src2 (OF and AF change: BT and
 * its kin leave them undefined).  Only for instructions that may do that.
 */
static void emit_set_cf(struct jit *j)
{
	uint8_t *image, *done;

	emit_alu_mem_imm32(&j->e, ALU_CMP, RBX, OFF_CC_OP, CC_EFLAGS);
	image = emit_jcc_fwd(&j->e, HCC_E);
	emit_store(&j->e, true, RCX, RBX, OFF_CC_SRC2);
	emit_store_imm(&j->e, false, RBX, OFF_CC_OP, CC_INC);
	done = emit_jmp_fwd(&j->e);
	patch_rel32(image, j->e.p);
	emit_alu_mem_imm32(&j->e, ALU_AND, RBX, OFF_EFLAGS, ~FLAG_CF);
	emit_op_mem(&j->e, false, 0x09, RCX, RBX, OFF_EFLAGS);		/* OR [eflags], ECX */
	patch_rel32(done, j->e.p);
	j->lazy = LAZY_UNKNOWN;
	j->host_flags = false;
}

/* BT/BTS/BTR/BTC r/m, imm8 (16, 32, 64 bits): CF only. */
static bool emit_bt_template(struct jit *j, const struct insn *in)
{
	unsigned int size = in->size;
	bool writes = in->op != 0;

	if (in->fn != op_bt_imm || size == 1 || (in->flags & INSN_LOCK) || !mem_ok(j, in))
		return false;
	emit_mem_operand(j, in, size, writes);
	emit_rm_load(j, in, size, RAX);
	emit_bt_imm(&j->e, size, 4 + in->op, RAX, (uint8_t)(in->imm & (size * 8 - 1)));
	emit_setcc(&j->e, HCC_B, RCX);
	if (writes)
		emit_rm_store(j, in, size, RAX);
	emit_movzx8(&j->e, RCX, RCX);
	emit_set_cf(j);
	emit_mem_operand_end(j, in);
	return true;
}

/* NOT and NEG, any size, register or memory operand. */
static bool emit_not_neg_template(struct jit *j, const struct insn *in)
{
	unsigned int size = in->size;
	bool neg = in->fn == op_neg;

	if ((in->fn != op_not && !neg) || (in->flags & INSN_LOCK) || !mem_ok(j, in))
		return false;
	emit_mem_operand(j, in, size, true);
	emit_rm_load(j, in, size, RAX);
	if (neg)
		emit_mov(&j->e, true, RCX, RAX);
	emit_unary_sized(&j->e, size, neg ? 3 : 2, RAX);
	emit_rm_store(j, in, size, RAX);
	if (neg) {
		emit_lazy_flags(j, CC_NEG, size);
		set_lazy(j, LAZY_NEG, size);
	}
	emit_mem_operand_end(j, in);
	return true;
}

/* INC/DEC with a memory operand or of 8/16-bit registers: CF kept, from the host's. */
static bool emit_incdec_template(struct jit *j, const struct insn *in)
{
	unsigned int size = in->size;

	if (in->fn != op_inc_dec || (in->flags & INSN_LOCK) || !mem_ok(j, in))
		return false;
	force_host_flags(j);
	emit_setcc(&j->e, HCC_B, R8);
	emit_mem_operand(j, in, size, true);
	emit_rm_load(j, in, size, RAX);
	if (in->flags & INSN_MEM)
		emit_bt_imm(&j->e, 4, 4, R8, 0);	/* CF again, after the TLB probe: INC/DEC keep it */
	emit_incdec_sized(&j->e, size, in->op, RAX);
	emit_rm_store(j, in, size, RAX);
	emit_incdec_flags(j, in->op, size, R8);
	emit_mem_operand_end(j, in);
	return true;
}

/* LEA of 16-, 32- and 64-bit results (the 64-bit one is exec_fast.c's form). */
static bool emit_lea_template(struct jit *j, const struct insn *in)
{
	if (in->fn != op_lea || !mem_ok(j, in))
		return false;
	emit_ea(j, in);
	if (in->size == 4)
		emit_mov(&j->e, false, RSI, RSI);
	if (in->size == 2)
		emit_store_sized(&j->e, 2, RSI, RBX, OFF_REG(in->reg));
	else
		emit_store(&j->e, true, RSI, RBX, OFF_REG(in->reg));
	return true;
}

/* SHL/SAL, SHR, SAR by an immediate count below the operand's width (ROL/ROR: emit_rotate). */
static bool emit_shift_template(struct jit *j, const struct insn *in)
{
	unsigned int size = in->size, bits = size * 8, count, kind = in->op == 6 ? 4 : in->op;
	enum cc_op cc = kind == 5 ? CC_SHR : kind == 7 ? CC_SAR : CC_SHL;

	if (in->fn != op_shift || in->imm == 0x100 || in->op == 2 || in->op == 3 || (in->flags & INSN_LOCK))
		return false;
	if (in->op < 2)
		return emit_rotate(j, in);
	count = (unsigned int)in->imm & (size == 8 ? 0x3f : 0x1f);
	if (count == 0 || count >= bits || !mem_ok(j, in))
		return false;
	emit_mem_operand(j, in, size, true);
	emit_rm_load(j, in, size, RAX);
	if (count == 1) {
		/* The host's CF and OF are the guest's. */
		emit_shift_sized(&j->e, size, kind, RAX, 1);
		emit_rm_store(j, in, size, RAX);
		emit_setcc(&j->e, HCC_B, RCX);
		emit_setcc(&j->e, HCC_O, RDX);
		emit_movzx8(&j->e, RCX, RCX);
		emit_movzx8(&j->e, RSI, RDX);
	} else {
		/* OF as the interpreter leaves it: SHL: MSB(result) ^ CF; SHR: MSB(operand); SAR: 0. */
		if (kind == 5) {
			emit_mov(&j->e, true, RSI, RAX);
			emit_shr_imm(&j->e, true, RSI, (uint8_t)(bits - 1));
		}
		emit_shift_sized(&j->e, size, kind, RAX, (uint8_t)count);
		emit_rm_store(j, in, size, RAX);
		emit_setcc(&j->e, HCC_B, RCX);
		emit_movzx8(&j->e, RCX, RCX);
		if (kind == 4) {
			emit_mov(&j->e, true, RSI, RAX);
			emit_shr_imm(&j->e, true, RSI, (uint8_t)(bits - 1));
			emit_alu(&j->e, false, ALU_XOR, RSI, RCX);
		} else if (kind == 7) {
			emit_mov_imm(&j->e, RSI, 0);
		}
	}
	emit_lazy_flags(j, cc, size);
	if (!j->flags_dead)
		emit_store(&j->e, true, RSI, RBX, OFF_CC_SRC2);
	j->lazy = LAZY_UNKNOWN;
	j->host_flags = count == 1;
	emit_mem_operand_end(j, in);
	return true;
}

/* IMUL reg, r/m and IMUL reg, r/m, imm (32 and 64 bits). */
static bool emit_imul_template(struct jit *j, const struct insn *in)
{
	unsigned int size = in->size;
	bool w = size == 8;

	if ((in->fn != op_imul_reg_rm && in->fn != op_imul_reg_rm_imm) || (size != 4 && size != 8))
		return false;
	if (in->fn == op_imul_reg_rm_imm && !fits_s32((int64_t)sign_extend(in->imm, size)))
		return false;
	if (!mem_ok(j, in))
		return false;
	emit_mem_operand(j, in, size, false);
	emit_rm_load(j, in, size, RCX);
	if (in->fn == op_imul_reg_rm) {
		emit_reg_load(j, size, RAX, in->reg);
		emit_imul(&j->e, w, RAX, RCX);
	} else {
		emit_imul_imm(&j->e, w, RAX, RCX, (int32_t)sign_extend(in->imm, size));
	}
	/* CC_MUL: dst = the product's low half, src = whether it overflowed. */
	emit_setcc(&j->e, HCC_O, RCX);
	emit_movzx8(&j->e, RCX, RCX);
	emit_reg_store(j, size, RAX, in->reg);
	emit_lazy_flags(j, CC_MUL, size);
	j->lazy = LAZY_UNKNOWN;
	j->host_flags = false;
	emit_mem_operand_end(j, in);
	return true;
}

/* PUSH reg / POP reg (64-bit). */
static bool emit_stack_template(struct jit *j, const struct insn *in)
{
	bool push = in->fn == op_push_reg;

	if ((in->fn != op_push_reg && in->fn != op_pop_reg) || in->size != 8)
		return false;
	slow_begin(j, in, false);
	emit_load(&j->e, true, RSI, RBX, OFF_REG(4));
	if (push)
		emit_lea(&j->e, RSI, RSI, NOREG_HOST, 0, -8);
	emit_tlb(j, SEG_SS, 8, push);
	if (push) {
		emit_load(&j->e, true, RAX, RBX, OFF_REG(in->rm));
		emit_store(&j->e, true, RAX, RDX, 0);
		emit_store(&j->e, true, RSI, RBX, OFF_REG(4));
	} else {
		emit_load(&j->e, true, RAX, RDX, 0);
		emit_lea(&j->e, RSI, RSI, NOREG_HOST, 0, 8);
		emit_store(&j->e, true, RSI, RBX, OFF_REG(4));
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));	/* POP RSP: the value wins */
	}
	slow_end(j);
	return true;
}

/* SETcc reg8 and CMOVcc reg, reg while the host's flags are (or cheaply become) the guest's. */
static bool emit_condition_template(struct jit *j, const struct insn *in)
{
	unsigned int size = in->size;

	if (in->fn != op_setcc && in->fn != op_cmovcc)
		return false;
	if ((in->flags & INSN_MEM) || (in->fn == op_cmovcc && size != 4 && size != 8))
		return false;
	if (!ensure_host_flags(j))
		return false;
	if (in->fn == op_setcc) {
		emit_setcc(&j->e, (enum host_cc)in->op, RAX);
		emit_store_sized(&j->e, 1, RAX, RBX, reg_off(in->rm, 1));
	} else {
		emit_load(&j->e, size == 8, RAX, RBX, OFF_REG(in->reg));
		emit_load(&j->e, size == 8, RCX, RBX, OFF_REG(in->rm));
		emit_cmov(&j->e, size == 8, (enum host_cc)in->op, RAX, RCX);
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->reg));
	}
	return true;
}

/*
 * The start of an SSE template: its slow path (when it has a memory operand
 * or must check that SSE is usable: CR0.EM, CR0.TS, CR4.OSFXSR, once per
 * block and after every handler call) and RDX = host pointer to the memory
 * operand.  The slow path's handler raises #UD, #NM, #GP, #PF as it must.
 */
static bool sse_begin(struct jit *j, const struct insn *in, unsigned int size, bool write, bool aligned)
{
	bool mem = in->flags & INSN_MEM;

	if (!mem && j->sse_checked)
		return false;
	slow_begin(j, in, false);
	if (!j->sse_checked) {
		emit_load(&j->e, false, RAX, RBX, OFF_CR0);
		emit_alu_imm(&j->e, false, ALU_AND, RAX, (int32_t)(CR0_EM | CR0_TS));
		slow_entry(j, emit_jcc_fwd(&j->e, HCC_NE));
		emit_load(&j->e, false, RAX, RBX, OFF_CR4);
		emit_alu_imm(&j->e, false, ALU_AND, RAX, (int32_t)CR4_OSFXSR);
		slow_entry(j, emit_jcc_fwd(&j->e, HCC_E));
		j->sse_checked = true;
		j->host_flags = false;
	}
	if (mem) {
		emit_mem(j, in, size, write);
		if (aligned) {
			/* The host page is as aligned as the guest's: the pointer's low bits are the address's. */
			emit_test_dl(&j->e, 15);
			slow_entry(j, emit_jcc_fwd(&j->e, HCC_NE));
		}
	}
	return true;
}

/* 128-bit moves, MOVSD, PMOVMSKB and packed integer operations (sse_jit_form). */
static bool emit_sse_template(struct jit *j, const struct insn *in)
{
	struct sse_form f;
	bool mem = in->flags & INSN_MEM, slow;
	int32_t reg = OFF_XMM(in->reg), rm = OFF_XMM(in->rm);

	if (!sse_jit_form(in, &f) || !mem_ok(j, in))
		return false;
	switch (f.kind) {
	case SSE_MOV128_LOAD:
		slow = sse_begin(j, in, 16, false, f.aligned);
		emit_sse_mem(&j->e, SSE_MOVDQU_LOAD, 0, mem ? RDX : RBX, mem ? 0 : rm);
		emit_sse_mem(&j->e, SSE_MOVDQU_STORE, 0, RBX, reg);
		break;
	case SSE_MOV128_STORE:
		slow = sse_begin(j, in, 16, true, f.aligned);
		emit_sse_mem(&j->e, SSE_MOVDQU_LOAD, 0, RBX, reg);
		emit_sse_mem(&j->e, SSE_MOVDQU_STORE, 0, mem ? RDX : RBX, mem ? 0 : rm);
		break;
	case SSE_MOV64_LOAD:
		slow = sse_begin(j, in, 8, false, false);
		if (mem) {
			emit_sse_mem(&j->e, SSE_MOVQ_LOAD, 0, RDX, 0);
			emit_sse_mem(&j->e, SSE_MOVDQU_STORE, 0, RBX, reg);
		} else {
			emit_load(&j->e, true, RAX, RBX, rm);
			emit_store(&j->e, true, RAX, RBX, reg);
		}
		break;
	case SSE_MOV64_STORE:
		slow = sse_begin(j, in, 8, true, false);
		emit_load(&j->e, true, RAX, RBX, reg);
		emit_store(&j->e, true, RAX, mem ? RDX : RBX, mem ? 0 : rm);
		break;
	case SSE_INT_OP:
		slow = sse_begin(j, in, 16, false, true);
		emit_sse_mem(&j->e, SSE_MOVDQU_LOAD, 1, mem ? RDX : RBX, mem ? 0 : rm);
		emit_sse_mem(&j->e, SSE_MOVDQU_LOAD, 0, RBX, reg);
		emit_sse_reg(&j->e, 0x66, f.opcode, 0, 1);
		emit_sse_mem(&j->e, SSE_MOVDQU_STORE, 0, RBX, reg);
		break;
	case SSE_MOVMSK:
		if (mem)
			return false;
		slow = sse_begin(j, in, 16, false, false);
		emit_sse_mem(&j->e, SSE_MOVDQU_LOAD, 0, RBX, rm);
		emit_sse_reg(&j->e, SSE_PMOVMSKB, RAX, 0);
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->reg));
		break;
	default:
		return false;
	}
	if (slow)
		slow_end(j);
	return true;
}

/* The forms exec_fast.c specializes. */
static bool emit_fast_form(struct jit *j, const struct insn *in)
{
	struct fast_form f;
	bool w;

	if (!insn_fast_form(in, &f))
		return false;
	w = f.size == 8;
	switch (f.kind) {
	case FAST_MOV_RR:
		emit_load(&j->e, w, RAX, RBX, OFF_REG(in->reg));
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
		return true;
	case FAST_MOV_RI:
		emit_mov_imm(&j->e, RAX, in->imm);
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
		return true;
	case FAST_LEA:
		if (!mem_ok(j, in))
			return false;
		emit_ea(j, in);
		emit_store(&j->e, true, RSI, RBX, OFF_REG(in->reg));
		return true;
	case FAST_ALU_RR:
	case FAST_ALU_RI: {
		/* CMP is a SUB and TEST an AND that keep the result out of the register. */
		enum alu_op op = f.op == 8 ? ALU_AND : f.op == ALU_CMP ? ALU_SUB : (enum alu_op)f.op;
		enum lazy_kind kind = op == ALU_ADD ? LAZY_ADD : op == ALU_SUB ? LAZY_SUB : LAZY_LOGIC;

		emit_load(&j->e, w, RAX, RBX, OFF_REG(in->rm));
		if (f.kind == FAST_ALU_RR)
			emit_load(&j->e, w, RCX, RBX, OFF_REG(in->reg));
		else
			emit_mov_imm(&j->e, RCX, in->imm);
		emit_alu(&j->e, w, op, RAX, RCX);
		if (f.op != ALU_CMP && f.op != 8)
			emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
		emit_lazy_flags(j, kind == LAZY_ADD ? CC_ADD : kind == LAZY_SUB ? CC_SUB : CC_LOGIC, f.size);
		set_lazy(j, kind, f.size);
		return true;
	}
	case FAST_INCDEC:
		/* INC/DEC keep CF: from the host's. */
		force_host_flags(j);
		emit_setcc(&j->e, HCC_B, RDX);
		emit_load(&j->e, w, RAX, RBX, OFF_REG(in->rm));
		emit_incdec(&j->e, w, f.op, RAX);
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
		emit_incdec_flags(j, f.op, f.size, RDX);
		return true;
	case FAST_LOAD:
	case FAST_STORE:
		if (!mem_ok(j, in))
			return false;
		slow_begin(j, in, false);
		emit_mem(j, in, f.size, f.kind == FAST_STORE);
		if (f.kind == FAST_STORE) {
			emit_load(&j->e, w, RAX, RBX, OFF_REG(in->reg));
			emit_store(&j->e, w, RAX, RDX, 0);
		} else {
			emit_load(&j->e, w, RAX, RDX, 0);
			emit_store(&j->e, true, RAX, RBX, OFF_REG(in->reg));
		}
		slow_end(j);
		return true;
	}
	return false;
}

/* Inline code for a non-branch instruction; false: it needs its handler. */
static bool emit_inline(struct jit *j, const struct insn *in)
{
	if (in->fn == op_nop)
		;
	else if (!(emit_fast_form(j, in) || emit_alu_template(j, in) || emit_mov_template(j, in) ||
		   emit_movx_template(j, in) || emit_shift_template(j, in) || emit_imul_template(j, in) ||
		   emit_stack_template(j, in) || emit_condition_template(j, in) || emit_bt_template(j, in) ||
		   emit_not_neg_template(j, in) || emit_incdec_template(j, in) || emit_lea_template(j, in) ||
		   emit_sse_template(j, in)))
		return false;
	j->rip_delta += in->len;
	j->pos += in->len;
	return true;
}

/* --- the block's last instruction: branches --- */

/* Jcc / JMP rel. */
static bool emit_branch(struct jit *j, const struct insn *in)
{
	int64_t fall = (int64_t)j->rip_delta + in->len;
	int64_t taken = fall + (int64_t)in->imm;
	int64_t fall_target = (int64_t)j->pos + in->len, taken_target = fall_target + (int64_t)in->imm;
	uint8_t *to_taken;

	/* A 16-bit branch in 32-bit code wraps its target to IP: the handler does that. */
	if (!fits_s32(taken) || (!j->code64 && in->size != 4))
		return false;
	if (in->fn == op_jmp_rel) {
		emit_exit(j, (int32_t)taken, taken_target);
		return true;
	}
	if (ensure_host_flags(j)) {
		to_taken = emit_jcc_fwd(&j->e, (enum host_cc)in->op);
	} else {
		emit_mov(&j->e, true, RDI, RBX);
		emit_mov_imm(&j->e, RSI, in->op);
		emit_call_abs(&j->e, (const void *)cpu_condition);
		emit_test8(&j->e, RAX, RAX);
		to_taken = emit_jcc_fwd(&j->e, HCC_NE);
	}
	emit_exit(j, (int32_t)fall, fall_target);
	patch_rel32(to_taken, j->e.p);
	emit_exit(j, (int32_t)taken, taken_target);
	return true;
}

/* Pushes the continuation of the CALL being compiled, at `ret_linear`, on the return ring. */
static void emit_ret_push(struct jit *j, uint64_t ret_linear)
{
	emit_load(&j->e, false, RAX, RBX, OFF_RET_TOP);
	emit_alu_imm(&j->e, false, ALU_ADD, RAX, 1);
	emit_alu_imm(&j->e, false, ALU_AND, RAX, JIT_RET_STACK - 1);
	emit_store(&j->e, false, RAX, RBX, OFF_RET_TOP);
	j->ret_link_imm = emit_mov_imm64(&j->e, RCX, 0);
	j->ret_linear = ret_linear;
	emit_lea(&j->e, RDX, RBX, RAX, 3, OFF_RET_STACK);
	emit_store(&j->e, true, RCX, RDX, 0);
}

/* CALL rel32 (64-bit): push the return address, go on at the target. */
static bool emit_call_template(struct jit *j, const struct insn *in)
{
	int64_t next = (int64_t)j->rip_delta + in->len, taken = next + (int64_t)in->imm;

	if (in->size != 8 || !fits_s32(taken))
		return false;
	slow_begin(j, in, true);
	emit_load(&j->e, true, RSI, RBX, OFF_REG(4));
	emit_lea(&j->e, RSI, RSI, NOREG_HOST, 0, -8);
	emit_tlb(j, SEG_SS, 8, true);
	emit_load(&j->e, true, RAX, RBX, OFF_RIP);
	emit_lea(&j->e, RAX, RAX, NOREG_HOST, 0, (int32_t)next);
	emit_store(&j->e, true, RAX, RDX, 0);
	emit_store(&j->e, true, RSI, RBX, OFF_REG(4));
	j->cur = NULL;
	emit_ret_push(j, j->linear + j->pos + in->len);
	emit_exit(j, (int32_t)taken, (int64_t)j->pos + in->len + (int64_t)in->imm);
	return true;
}

/*
 * Goes on at RIP (also in RAX) as the return ring predicts (struct
 * ret_link), else through jit_chain_ret().
 */
static void emit_ret_predicted(struct jit *j)
{
	uint8_t *pending, *budget, *slow[4];
	unsigned int n = 0;

	emit_alu_mem_imm(&j->e, ALU_CMP, RBX, OFF_EXIT, 0);
	pending = emit_jcc_fwd(&j->e, HCC_NE);
	emit_alu_mem_imm32(&j->e, ALU_SUB, RBX, OFF_BUDGET, 1);
	budget = emit_jcc_fwd(&j->e, HCC_LE);
	/* RDX = the prediction, popped. */
	emit_load(&j->e, false, RCX, RBX, OFF_RET_TOP);
	emit_lea(&j->e, RDX, RBX, RCX, 3, OFF_RET_STACK);
	emit_load(&j->e, true, RDX, RDX, 0);
	emit_alu_imm(&j->e, false, ALU_SUB, RCX, 1);
	emit_alu_imm(&j->e, false, ALU_AND, RCX, JIT_RET_STACK - 1);
	emit_store(&j->e, false, RCX, RBX, OFF_RET_TOP);
	emit_alu_load(&j->e, true, ALU_CMP, RAX, RDX, (int32_t)offsetof(struct ret_link, linear));
	slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
	/* The TLB maps it as it did. */
	emit_load(&j->e, true, RDI, RBX, OFF_TLB);
	emit_mov(&j->e, false, RCX, RAX);
	emit_shr_imm(&j->e, false, RCX, 12 - TLB_ENTRY_SHIFT);
	emit_alu_imm(&j->e, false, ALU_AND, RCX, (TLB_SIZE - 1) << TLB_ENTRY_SHIFT);
	emit_alu(&j->e, true, ALU_ADD, RDI, RCX);
	emit_mov(&j->e, true, RCX, RAX);
	emit_alu_imm(&j->e, true, ALU_AND, RCX, -4096);
	emit_alu_load(&j->e, true, ALU_CMP, RCX, RDI, (int32_t)offsetof(struct tlb_entry, exec_tag));
	slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
	emit_load(&j->e, true, RCX, RDX, (int32_t)offsetof(struct ret_link, phys_page));
	emit_alu_load(&j->e, true, ALU_CMP, RCX, RDI, (int32_t)offsetof(struct tlb_entry, phys_page));
	slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
	/* Its code is still what was compiled. */
	emit_load(&j->e, true, RCX, RDX, (int32_t)offsetof(struct ret_link, gen_now));
	emit_load(&j->e, false, RCX, RCX, 0);
	emit_alu_load(&j->e, false, ALU_CMP, RCX, RDX, (int32_t)offsetof(struct ret_link, gen));
	slow[n++] = emit_jcc_fwd(&j->e, HCC_NE);
	emit_op_mem(&j->e, false, 0xff, 4, RDX, (int32_t)offsetof(struct ret_link, body));	/* JMP [RDX + body] */
	for (unsigned int i = 0; i < n; i++)
		patch_rel32(slow[i], j->e.p);
	emit_mov(&j->e, true, RDI, RBX);
	emit_mov(&j->e, true, RSI, RDX);
	emit_pop(&j->e, RBX);
	emit_jmp_abs(&j->e, (const void *)jit_chain_ret);
	patch_rel32(pending, j->e.p);
	patch_rel32(budget, j->e.p);
	emit_chain(j);
}

/* RET / RET imm16 (64-bit): pop the target, chain to its block. */
static bool emit_ret_template(struct jit *j, const struct insn *in)
{
	if (in->size != 8)
		return false;
	slow_begin(j, in, true);
	emit_load(&j->e, true, RSI, RBX, OFF_REG(4));
	emit_tlb(j, SEG_SS, 8, false);
	emit_load(&j->e, true, RAX, RDX, 0);
	emit_lea(&j->e, RSI, RSI, NOREG_HOST, 0, 8 + (int32_t)in->imm);
	emit_store(&j->e, true, RSI, RBX, OFF_REG(4));
	emit_store(&j->e, true, RAX, RBX, OFF_RIP);
	j->cur = NULL;
	emit_ret_predicted(j);
	return true;
}

/* JMP r/m64 and CALL r/m64: the target read first (kept in R8), then the return address pushed. */
static bool emit_indirect_template(struct jit *j, const struct insn *in)
{
	bool call = in->fn == op_call_rm;

	if (in->size != 8 || !mem_ok(j, in))
		return false;
	slow_begin(j, in, true);
	if (in->flags & INSN_MEM) {
		emit_mem(j, in, 8, false);
		emit_load(&j->e, true, R8, RDX, 0);
	} else {
		emit_load(&j->e, true, R8, RBX, OFF_REG(in->rm));
	}
	if (call) {
		emit_load(&j->e, true, RSI, RBX, OFF_REG(4));
		emit_lea(&j->e, RSI, RSI, NOREG_HOST, 0, -8);
		emit_tlb(j, SEG_SS, 8, true);
		emit_load(&j->e, true, RAX, RBX, OFF_RIP);
		emit_lea(&j->e, RAX, RAX, NOREG_HOST, 0, j->rip_delta + in->len);
		emit_store(&j->e, true, RAX, RDX, 0);
		emit_store(&j->e, true, RSI, RBX, OFF_REG(4));
	}
	emit_store(&j->e, true, R8, RBX, OFF_RIP);
	j->cur = NULL;
	if (call)
		emit_ret_push(j, j->linear + j->pos + in->len);
	emit_chain(j);
	return true;
}

/* The block's last instruction as a branch; false: it is not one the JIT compiles. */
static bool emit_block_end(struct jit *j, const struct insn *in)
{
	if (in->fn == op_jcc || in->fn == op_jmp_rel)
		return emit_branch(j, in);
	if (in->fn == op_call_rel)
		return emit_call_template(j, in);
	if (in->fn == op_ret)
		return emit_ret_template(j, in);
	if (in->fn == op_jmp_rm || in->fn == op_call_rm)
		return emit_indirect_template(j, in);
	return false;
}

/*
 * Dead flags: an instruction's lazy flags need not be stored when the next
 * instruction that is not transparent (cannot fault, call a handler, leave
 * the block or read or clobber the flags) overwrites all of them.  The
 * classes below follow what the templates emit.
 */
enum flag_use {
	FLAG_USE_OTHER,		/* anything else: flags live */
	FLAG_USE_NONE,		/* transparent: register moves, LEA, NOT, NOP */
	FLAG_USE_WRITE,		/* register ALU/TEST/CMP, NEG, SHL/SHR/SAR, IMUL: all flags written */
	FLAG_USE_INCDEC,	/* register INC/DEC: all but CF, which comes from the host's flags */
};

/*
 * LEA is inline (transparent) when its address computes; a RIP-relative
 * one depends on the RIP offset where it is compiled, so it is not counted on.
 */
static enum flag_use lea_flag_use(const struct jit *j, const struct insn *in)
{
	return in->base != EA_BASE_RIP && mem_ok(j, in) ? FLAG_USE_NONE : FLAG_USE_OTHER;
}

static enum flag_use flag_use(const struct jit *j, const struct insn *in)
{
	struct fast_form f;
	unsigned int size = in->size;

	if (in->fn == op_nop)
		return FLAG_USE_NONE;
	if (insn_fast_form(in, &f)) {
		switch (f.kind) {
		case FAST_MOV_RR:
		case FAST_MOV_RI:
			return FLAG_USE_NONE;
		case FAST_LEA:
			return lea_flag_use(j, in);
		case FAST_ALU_RR:
		case FAST_ALU_RI:
			return FLAG_USE_WRITE;
		case FAST_INCDEC:
			return FLAG_USE_INCDEC;
		default:
			return FLAG_USE_OTHER;
		}
	}
	if (in->fn == op_lea)
		return lea_flag_use(j, in);
	if (in->flags & INSN_MEM)
		return FLAG_USE_OTHER;
	if (in->fn == op_mov_rm_reg || in->fn == op_mov_reg_rm || in->fn == op_mov_rm_imm ||
	    in->fn == op_movzx || in->fn == op_movsx || (in->fn == op_movsxd && size == 8) || in->fn == op_not)
		return FLAG_USE_NONE;
	if (in->fn == op_test_rm_reg || in->fn == op_test_rm_imm || in->fn == op_neg ||
	    ((in->fn == op_alu_rm_reg || in->fn == op_alu_reg_rm || in->fn == op_alu_rm_imm) &&
	     in->op != ALU_ADC && in->op != ALU_SBB))
		return FLAG_USE_WRITE;
	if (in->fn == op_inc_dec)
		return FLAG_USE_INCDEC;
	if (in->fn == op_shift && in->imm != 0x100 && in->op >= 4) {
		unsigned int count = (unsigned int)in->imm & (size == 8 ? 0x3f : 0x1f);

		return count && count < size * 8 ? FLAG_USE_WRITE : FLAG_USE_OTHER;
	}
	if ((in->fn == op_imul_reg_rm || in->fn == op_imul_reg_rm_imm) && (size == 4 || size == 8) &&
	    (in->fn == op_imul_reg_rm || fits_s32((int64_t)sign_extend(in->imm, size))))
		return FLAG_USE_WRITE;
	return FLAG_USE_OTHER;
}

/* Writers after which the host's flags are the guest's (what a later INC/DEC reads). */
static bool leaves_host_flags(const struct insn *in, enum flag_use use)
{
	if (use == FLAG_USE_INCDEC)
		return true;
	if (in->fn == op_imul_reg_rm || in->fn == op_imul_reg_rm_imm)
		return false;
	return in->fn != op_shift || ((unsigned int)in->imm & (in->size == 8 ? 0x3f : 0x1f)) == 1;
}

/* dead[i]: the flags instruction i writes are overwritten unseen (see enum flag_use); one backward pass. */
static void find_dead_flags(const struct jit *j, const struct block *b, bool *dead)
{
	enum flag_use next = FLAG_USE_OTHER;	/* past the block's end the flags are seen */

	for (unsigned int i = b->n_insns; i-- > 0;) {
		const struct insn *in = &b->insns[i];
		enum flag_use use = flag_use(j, in);

		dead[i] = (use == FLAG_USE_WRITE || use == FLAG_USE_INCDEC) &&
			  (next == FLAG_USE_WRITE || (next == FLAG_USE_INCDEC && leaves_host_flags(in, use)));
		if (use != FLAG_USE_NONE)
			next = use;
	}
}

/* A CALL's struct ret_link, in the code buffer after the block's code. */
static void emit_ret_link(struct jit *j)
{
	struct ret_link link = jit_no_ret;
	uint64_t addr;

	link.linear = j->ret_linear;
	while (((uintptr_t)j->e.p & 7) && emit_ok(&j->e))
		emit_u8(&j->e, 0xcc);
	if (!emit_ok(&j->e) || j->e.p + sizeof(link) > j->e.end) {
		j->e.overflow = true;
		return;
	}
	memcpy(j->e.p, &link, sizeof(link));
	addr = (uint64_t)(uintptr_t)j->e.p;
	memcpy(j->ret_link_imm, &addr, 8);
	j->e.p += sizeof(link);
}

void jit_compile(struct tcg_cpu *cpu, struct block *b, uint64_t linear)
{
	struct jit *j = cpu->jit_scratch;
	uint8_t *start = cpu->jit_code + cpu->jit_used;
	unsigned int n = b->n_insns;
	bool dead[BLOCK_MAX_INSNS];
	uint8_t *exit;

	*j = (struct jit){
		.e = { .p = start, .end = cpu->jit_code + cpu->jit_size },
		.cpu = cpu,
		.b = b,
		.linear = linear,
		.code64 = b->mode & MODE_KEY_CODE64,
		.copies = &b->insns[n + 1],
	};

	emit_push(&j->e, RBX);
	emit_mov(&j->e, true, RBX, RDI);
	if (emit_ok(&j->e) && j->e.p - start != JIT_BODY_OFFSET) {
		log_warning("software CPU: JIT entry layout mismatch; interpreting");
		return;
	}
	find_dead_flags(j, b, dead);
	for (unsigned int i = 0; i < n; i++) {
		const struct insn *in = &b->insns[i];
		bool last = i == n - 1;

		if (last && emit_block_end(j, in))
			goto tail;
		j->flags_dead = dead[i];
		if (emit_inline(j, in)) {
			if (last) {
				int32_t delta = j->rip_delta;

				j->rip_delta = 0;
				emit_exit(j, delta, j->pos);
			}
			continue;
		}
		emit_handler_call(j, in, last);
		j->pos += in->len;
	}
tail:
	/* Handler calls that ended the block, and the slow paths. */
	exit = j->e.p;
	emit_pop(&j->e, RBX);
	emit_ret(&j->e);
	for (unsigned int i = 0; i < j->n_exits; i++)
		patch_rel32(j->exits[i], exit);
	for (unsigned int i = 0; i < j->n_slow; i++)
		emit_slow_path(j, &j->slow[i], exit);
	if (j->ret_link_imm)
		emit_ret_link(j);
	if (!emit_ok(&j->e)) {
		log_warning("software CPU: a block's code overflowed the JIT's bound; it runs interpreted");
		return;
	}
	b->jit = code_executable(cpu, start);
	cpu->jit_used = (size_t)(j->e.p - cpu->jit_code + 15) & ~(size_t)15;
}

bool jit_room(const struct tcg_cpu *cpu, unsigned int n_insns)
{
	return cpu->jit_used + JIT_BLOCK_MAX_BYTES(n_insns) <= cpu->jit_size;
}

void jit_flush(struct tcg_cpu *cpu)
{
	cpu->jit_used = 0;
	/* Its predictions point into the code just thrown away. */
	ret_stack_clear(cpu);
}

/*
 * Two mappings of one memory file: writable, and executable.  Memory that
 * is writable and executable at once would let a bug that writes out of
 * bounds plant host code.
 */
static bool map_code(uint8_t **writable, uint8_t **executable)
{
	int fd = memfd_create("vessel-jit", MFD_CLOEXEC);
	void *w = MAP_FAILED, *x = MAP_FAILED;

	if (fd < 0)
		return false;
	if (ftruncate(fd, JIT_BYTES) == 0) {
		w = mmap(NULL, JIT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
		x = mmap(NULL, JIT_BYTES, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_NORESERVE, fd, 0);
	}
	close(fd);
	if (w == MAP_FAILED || x == MAP_FAILED) {
		int saved = errno;

		if (w != MAP_FAILED)
			munmap(w, JIT_BYTES);
		if (x != MAP_FAILED)
			munmap(x, JIT_BYTES);
		errno = saved;
		return false;
	}
	*writable = w;
	*executable = x;
	return true;
}

void jit_init(struct tcg_cpu *cpu)
{
	const char *env = g_getenv("VESSEL_TCG_JIT");
	uint8_t *writable, *executable;

	if (env && strcmp(env, "0") == 0)
		return;
	if (!map_code(&writable, &executable)) {
		log_warning("software CPU: cannot map memory for the JIT (%s); interpreting only",
			    g_strerror(errno));
		return;
	}
	cpu->jit_code = writable;
	cpu->jit_exec_offset = executable - writable;
	cpu->jit_size = JIT_BYTES;
	cpu->jit_used = 0;
	cpu->jit_scratch = g_new0(struct jit, 1);
	ret_stack_clear(cpu);
}

void jit_destroy(struct tcg_cpu *cpu)
{
	if (cpu->jit_code) {
		munmap(code_executable(cpu, cpu->jit_code), cpu->jit_size);
		munmap(cpu->jit_code, cpu->jit_size);
	}
	cpu->jit_code = NULL;
	g_free(cpu->jit_scratch);
	cpu->jit_scratch = NULL;
}
