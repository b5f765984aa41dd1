/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The JIT: host x86-64 code for decoded blocks of 64-bit-mode guest code.
 *
 * A compiled block is a function int fn(struct tcg_cpu *cpu) with the guest
 * state in memory, as the interpreter keeps it (RBX holds cpu).  The
 * frequent simple forms (exec_fast.c's: register MOV/ALU/INC/DEC/LEA, 32-
 * and 64-bit loads and stores, Jcc and JMP) become inline code; every other
 * instruction calls its interpreter handler on a copy of the instruction
 * followed by op_jit_resume, so the handler's fall-through returns to the
 * compiled code instead of running the rest of the block.
 *
 * Rules the code keeps, so a compiled block behaves exactly like the
 * interpreted one:
 *   - RIP: inline instructions add their lengths to rip_delta, written to
 *     cpu->rip before anything that may fault or read RIP (handler calls,
 *     slow memory paths) and at the block's end.  The slow paths add it
 *     and take it back, so the fast paths never touch RIP.
 *   - Flags: inline arithmetic stores the same lazy state (cc_op, cc_size,
 *     cc_dst, cc_src) as the handlers.  The host instruction computes the
 *     same flags as the guest's, so while nothing has clobbered the host's
 *     RFLAGS since (host_flags), Jcc branches on them directly and INC/DEC
 *     read CF from them.
 *   - Memory: the TLB fast path inline (the same test as lin_read and
 *     lin_write, including the "page holds code" test for stores); the slow
 *     path calls mem_read/mem_write, which raise faults, and leaves the
 *     block when an access asked for that (MMIO, a write to code).
 *   - Block end: the next block is entered through tcg_block_chain(), with
 *     the same checks as the interpreter's chaining.
 */
#include "jit.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "jit_emit.h"
#include "log.h"
#include "ops.h"

#define JIT_BYTES		(64u << 20)	/* per vCPU; flushed with the block arena */
#define JIT_INSN_MAX_BYTES	224		/* fast path, slow path and branch of one instruction */
#define JIT_BLOCK_MAX_BYTES(n)	(64 + ((n) + 1) * JIT_INSN_MAX_BYTES)

#define OFF_REG(r)	((int32_t)(offsetof(struct tcg_cpu, regs) + 8 * (r)))
#define OFF_RIP		((int32_t)offsetof(struct tcg_cpu, rip))
#define OFF_CC_DST	((int32_t)offsetof(struct tcg_cpu, cc_dst))
#define OFF_CC_SRC	((int32_t)offsetof(struct tcg_cpu, cc_src))
#define OFF_CC_SRC2	((int32_t)offsetof(struct tcg_cpu, cc_src2))
#define OFF_CC_OP	((int32_t)offsetof(struct tcg_cpu, cc_op))
#define OFF_CC_SIZE	((int32_t)offsetof(struct tcg_cpu, cc_size))
#define OFF_TLB		((int32_t)offsetof(struct tcg_cpu, tlb))
#define OFF_CODE_PAGES	((int32_t)offsetof(struct tcg_cpu, code_pages))
#define OFF_EXIT	((int32_t)offsetof(struct tcg_cpu, exit_request))
#define OFF_BUDGET	((int32_t)offsetof(struct tcg_cpu, chain_budget))
#define OFF_SEG_BASE(s)	((int32_t)(offsetof(struct tcg_cpu, seg) + (s) * sizeof(struct segment) + \
				   offsetof(struct segment, base)))

_Static_assert(sizeof(enum cc_op) == 4, "cc_op is stored as a dword");
_Static_assert(sizeof(((struct tcg_cpu *)0)->exit_request) == 4, "exit_request is read as a dword");
_Static_assert(offsetof(struct tcg_cpu, interrupt_request) == offsetof(struct tcg_cpu, exit_request) + 4,
	       "a direct link tests exit_request and interrupt_request as one qword");

/*
 * A compiled block starts with its entry (PUSH RBX; MOV RBX, RDI; JMP over
 * the next part) and then its link entry, where direct jumps from other
 * blocks land: the caller's frame is already set up, and the block checks
 * that its code is still current before running.
 */
#define JIT_LINK_OFFSET	6

typedef int (*jit_fn)(struct tcg_cpu *cpu);

/* A memory access's out-of-line slow path, emitted after the block's code. */
struct slow_path {
	uint8_t *entry[3];	/* rel32s of the fast path's jumps to it */
	uint8_t *resume;	/* where the fast path continues */
	int32_t rip_delta;	/* RIP not yet written at the access */
	uint8_t len, seg, size, reg;
	bool write;
};

struct jit {
	struct emit e;
	struct tcg_cpu *cpu;
	struct block *b;
	int32_t rip_delta;
	uint32_t pos;		/* offset of the current instruction from the block's start */
	bool host_flags;
	struct insn *copies;
	unsigned int n_copies;
	struct slow_path slow[BLOCK_MAX_INSNS];
	unsigned int n_slow;
	uint8_t *exits[BLOCK_MAX_INSNS];	/* rel32s of jumps to the common exit */
	unsigned int n_exits;
};

/* What an interpreter handler called from compiled code falls through to. */
static int op_jit_resume(struct tcg_cpu *cpu, const struct insn *in)
{
	return 0;
}

static uint64_t jit_read(struct tcg_cpu *cpu, uint64_t offset, unsigned int seg, unsigned int size)
{
	return mem_read(cpu, seg, offset, size);
}

static void jit_write(struct tcg_cpu *cpu, uint64_t offset, unsigned int seg, unsigned int size, uint64_t value)
{
	mem_write(cpu, seg, offset, size, value);
}

/* Compiled code leaves a block through here: the interpreter's chaining. */
static int jit_chain(struct tcg_cpu *cpu)
{
	return block_chain(cpu);
}

/*
 * The same, from an exit whose target is in the block's own page: when the
 * next block is compiled and starts at the expected physical address, the
 * exit's jump (rel32 at `site`) is pointed at its link entry, so the next
 * time the blocks chain without coming here.  A target in the same linear
 * page needs no TLB check: everything that changes translations (MOV CR3,
 * INVLPG, ...) ends the chain.
 */
static int jit_chain_link(struct tcg_cpu *cpu, uint8_t *site, uint64_t phys)
{
	struct block *b;

	if (chain_stopped(cpu))
		return END_BLOCK;
	b = block_probe(cpu, code_linear(cpu));
	if (unlikely(!b))
		return END_BLOCK;
	if (!b->jit)
		return b->insns[0].fn(cpu, b->insns);
	if (b->phys == phys)
		patch_rel32(site, (uint8_t *)b->jit + JIT_LINK_OFFSET);
	return ((jit_fn)b->jit)(cpu);
}

static void flush_rip(struct jit *j)
{
	if (j->rip_delta) {
		emit_alu_mem_imm(&j->e, ALU_ADD, RBX, OFF_RIP, j->rip_delta);
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
 * rip_add to RIP first.  Within the block's page, through a direct link once
 * the target is compiled (the same checks as block_chain: nothing pending,
 * budget left).
 */
static void emit_exit(struct jit *j, int32_t rip_add, int64_t target)
{
	int64_t page_offset = (int64_t)(j->b->phys & 0xfff) + target;
	uint8_t *pending, *budget, *site;

	if (rip_add)
		emit_alu_mem_imm(&j->e, ALU_ADD, RBX, OFF_RIP, rip_add);
	if (page_offset < 0 || page_offset >= 0x1000) {
		emit_chain(j);
		return;
	}
	emit_alu_mem_imm(&j->e, ALU_CMP, RBX, OFF_EXIT, 0);
	pending = emit_jcc_fwd(&j->e, HCC_NE);
	emit_alu_mem_imm32(&j->e, ALU_SUB, RBX, OFF_BUDGET, 1);
	budget = emit_jcc_fwd(&j->e, HCC_LE);
	site = emit_jmp_fwd(&j->e);
	patch_rel32(pending, j->e.p);
	patch_rel32(budget, j->e.p);
	patch_rel32(site, j->e.p);
	emit_mov(&j->e, true, RDI, RBX);
	emit_mov_imm(&j->e, RSI, (uint64_t)(uintptr_t)site);
	emit_mov_imm(&j->e, RDX, (j->b->phys & ~0xfffULL) + (uint64_t)page_offset);
	emit_pop(&j->e, RBX);
	emit_jmp_abs(&j->e, (const void *)jit_chain_link);
}

/* The instruction through its interpreter handler. */
static void emit_handler_call(struct jit *j, const struct insn *in, bool last)
{
	struct insn *copy = &j->copies[j->n_copies];

	j->n_copies += 2;
	copy[0] = *in;
	/* The last instruction's fall-through ends the block, as the sentinel would. */
	copy[1] = (struct insn){ .fn = last ? op_end_block : op_jit_resume };
	flush_rip(j);
	emit_mov(&j->e, true, RDI, RBX);
	emit_mov_imm(&j->e, RSI, (uint64_t)(uintptr_t)copy);
	if (last) {
		emit_pop(&j->e, RBX);
		emit_jmp_abs(&j->e, (const void *)in->fn);
		return;
	}
	emit_call_abs(&j->e, (const void *)in->fn);
	emit_test32(&j->e, RAX, RAX);
	j->exits[j->n_exits++] = emit_jcc_fwd(&j->e, HCC_NE);
	j->host_flags = false;
}

/* Stores the lazy flags of an arithmetic result in RAX with source RCX. */
static void emit_lazy_flags(struct jit *j, enum cc_op op, unsigned int size)
{
	emit_store(&j->e, true, RAX, RBX, OFF_CC_DST);
	emit_store(&j->e, true, RCX, RBX, OFF_CC_SRC);
	emit_store_imm(&j->e, false, RBX, OFF_CC_OP, op);
	emit_store_imm(&j->e, false, RBX, OFF_CC_SIZE, (int32_t)size);
}

static void emit_alu_form(struct jit *j, const struct insn *in, const struct fast_form *f)
{
	bool w = f->size == 8;
	/* CMP is a SUB and TEST an AND that keep the result out of the register. */
	enum alu_op op = f->op == 8 ? ALU_AND : f->op == ALU_CMP ? ALU_SUB : (enum alu_op)f->op;
	bool writes = f->op != ALU_CMP && f->op != 8;
	enum cc_op cc = op == ALU_ADD ? CC_ADD : op == ALU_SUB ? CC_SUB : CC_LOGIC;

	emit_load(&j->e, w, RAX, RBX, OFF_REG(in->rm));
	if (f->kind == FAST_ALU_RR)
		emit_load(&j->e, w, RCX, RBX, OFF_REG(in->reg));
	else
		emit_mov_imm(&j->e, RCX, in->imm);
	emit_alu(&j->e, w, op, RAX, RCX);
	if (writes)
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
	emit_lazy_flags(j, cc, f->size);
	j->host_flags = true;
}

/* INC/DEC keep CF: only while the host's CF is the guest's. */
static bool emit_incdec_form(struct jit *j, const struct insn *in, const struct fast_form *f)
{
	bool w = f->size == 8;

	if (!j->host_flags)
		return false;
	emit_setcc(&j->e, HCC_B, RDX);
	emit_load(&j->e, w, RAX, RBX, OFF_REG(in->rm));
	emit_incdec(&j->e, w, f->op, RAX);
	emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
	emit_movzx8(&j->e, RDX, RDX);
	emit_store(&j->e, true, RDX, RBX, OFF_CC_SRC2);
	emit_store(&j->e, true, RAX, RBX, OFF_CC_DST);
	emit_store_imm(&j->e, false, RBX, OFF_CC_OP, f->op ? CC_DEC : CC_INC);
	emit_store_imm(&j->e, false, RBX, OFF_CC_SIZE, (int32_t)f->size);
	return true;
}

/* Displacement of the effective address as emitted (RIP-relative: from cpu->rip). */
static bool ea_displacement(const struct jit *j, const struct insn *in, int32_t *disp)
{
	int64_t d = in->disp;

	if (in->asize != 8)
		return false;
	if (in->base == EA_BASE_RIP)
		d += j->rip_delta + in->len;
	if (!fits_s32(d))
		return false;
	*disp = (int32_t)d;
	return true;
}

/* RSI = the effective address (offset in the segment); clobbers RAX, not flags. */
static void emit_ea(struct jit *j, const struct insn *in, int32_t disp)
{
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
}

/* MOV reg, [ea] / MOV [ea], reg with the TLB fast path inline. */
static bool emit_access(struct jit *j, const struct insn *in, const struct fast_form *f)
{
	bool write = f->kind == FAST_STORE, w = f->size == 8;
	struct slow_path *s = &j->slow[j->n_slow];
	int32_t disp;

	if (!ea_displacement(j, in, &disp))
		return false;
	emit_ea(j, in, disp);
	/* RDX = linear: only FS and GS have a base in 64-bit mode. */
	emit_mov(&j->e, true, RDX, RSI);
	if (in->seg == SEG_FS || in->seg == SEG_GS)
		emit_alu_load(&j->e, true, ALU_ADD, RDX, RBX, OFF_SEG_BASE(in->seg));
	/* RDI = &cpu->tlb[(linear >> 12) % TLB_SIZE] */
	emit_load(&j->e, true, RDI, RBX, OFF_TLB);
	emit_mov(&j->e, false, RAX, RDX);
	emit_shr_imm(&j->e, false, RAX, 12);
	emit_alu_imm(&j->e, false, ALU_AND, RAX, TLB_SIZE - 1);
	emit_imul_imm(&j->e, false, RAX, RAX, (int32_t)sizeof(struct tlb_entry));
	emit_alu(&j->e, true, ALU_ADD, RDI, RAX);
	/* The page's tag, and the access within the page. */
	emit_mov(&j->e, true, RAX, RDX);
	emit_alu_imm(&j->e, true, ALU_AND, RAX, -4096);
	emit_alu_load(&j->e, true, ALU_CMP, RAX, RDI,
		      (int32_t)(write ? offsetof(struct tlb_entry, write_tag) : offsetof(struct tlb_entry, read_tag)));
	s->entry[0] = emit_jcc_fwd(&j->e, HCC_NE);
	emit_mov(&j->e, false, RAX, RDX);
	emit_alu_imm(&j->e, false, ALU_AND, RAX, 0xfff);
	emit_alu_imm(&j->e, false, ALU_CMP, RAX, 0x1000 - (int32_t)f->size);
	s->entry[1] = emit_jcc_fwd(&j->e, HCC_A);
	s->entry[2] = NULL;
	if (write) {
		/* A page with decoded code takes the slow path, which invalidates it. */
		emit_load(&j->e, true, RAX, RDI, (int32_t)offsetof(struct tlb_entry, phys_page));
		emit_shr_imm(&j->e, true, RAX, 12);
		emit_load(&j->e, true, RCX, RBX, OFF_CODE_PAGES);
		emit_cmp_byte_zero(&j->e, RCX, RAX);
		s->entry[2] = emit_jcc_fwd(&j->e, HCC_NE);
	}
	emit_alu_load(&j->e, true, ALU_ADD, RDX, RDI, (int32_t)offsetof(struct tlb_entry, addend));
	if (write) {
		emit_load(&j->e, w, RAX, RBX, OFF_REG(in->reg));
		emit_store(&j->e, w, RAX, RDX, 0);
	} else {
		emit_load(&j->e, w, RAX, RDX, 0);
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->reg));
	}
	s->resume = j->e.p;
	s->rip_delta = j->rip_delta;
	s->len = in->len;
	s->seg = in->seg;
	s->size = f->size;
	s->reg = in->reg;
	s->write = write;
	j->n_slow++;
	j->host_flags = false;
	return true;
}

static void emit_slow_path(struct jit *j, const struct slow_path *s)
{
	uint8_t *leave;

	for (unsigned int i = 0; i < 3; i++)
		patch_rel32(s->entry[i], j->e.p);
	if (s->rip_delta)
		emit_alu_mem_imm(&j->e, ALU_ADD, RBX, OFF_RIP, s->rip_delta);
	emit_mov(&j->e, true, RDI, RBX);
	/* RSI still holds the offset. */
	emit_mov_imm(&j->e, RDX, s->seg);
	emit_mov_imm(&j->e, RCX, s->size);
	if (s->write) {
		emit_load(&j->e, true, R8, RBX, OFF_REG(s->reg));
		emit_call_abs(&j->e, (const void *)jit_write);
	} else {
		emit_call_abs(&j->e, (const void *)jit_read);
		emit_store(&j->e, true, RAX, RBX, OFF_REG(s->reg));
	}
	/* An MMIO access or a write to code asks to leave after this instruction. */
	emit_load(&j->e, false, RCX, RBX, OFF_EXIT);
	emit_test32(&j->e, RCX, RCX);
	leave = emit_jcc_fwd(&j->e, HCC_NE);
	if (s->rip_delta)
		emit_alu_mem_imm(&j->e, ALU_SUB, RBX, OFF_RIP, s->rip_delta);
	emit_jmp_to(&j->e, s->resume);
	patch_rel32(leave, j->e.p);
	emit_alu_mem_imm(&j->e, ALU_ADD, RBX, OFF_RIP, s->len);
	emit_mov_imm(&j->e, RAX, END_BLOCK);
	emit_pop(&j->e, RBX);
	emit_ret(&j->e);
}

/* Jcc / JMP rel: the block's last instruction. */
static bool emit_branch(struct jit *j, const struct insn *in)
{
	int64_t fall = (int64_t)j->rip_delta + in->len;
	int64_t taken = fall + (int64_t)in->imm;
	int64_t fall_target = (int64_t)j->pos + in->len, taken_target = fall_target + (int64_t)in->imm;
	uint8_t *to_taken;

	if (!fits_s32(taken))
		return false;
	if (in->fn == op_jmp_rel) {
		emit_exit(j, (int32_t)taken, taken_target);
	} else {
		if (j->host_flags) {
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
	}
	j->rip_delta = 0;
	return true;
}

/* Inline code for the instruction; false: it needs its handler. */
static bool emit_inline(struct jit *j, const struct insn *in)
{
	struct fast_form f;
	int32_t disp;

	if (!insn_fast_form(in, &f))
		return false;
	switch (f.kind) {
	case FAST_MOV_RR:
		emit_load(&j->e, f.size == 8, RAX, RBX, OFF_REG(in->reg));
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
		break;
	case FAST_MOV_RI:
		emit_mov_imm(&j->e, RAX, in->imm);
		emit_store(&j->e, true, RAX, RBX, OFF_REG(in->rm));
		break;
	case FAST_LEA:
		if (!ea_displacement(j, in, &disp))
			return false;
		emit_ea(j, in, disp);
		emit_store(&j->e, true, RSI, RBX, OFF_REG(in->reg));
		break;
	case FAST_ALU_RR:
	case FAST_ALU_RI:
		emit_alu_form(j, in, &f);
		break;
	case FAST_INCDEC:
		if (!emit_incdec_form(j, in, &f))
			return false;
		break;
	case FAST_LOAD:
	case FAST_STORE:
		if (!emit_access(j, in, &f))
			return false;
		break;
	}
	j->rip_delta += in->len;
	j->pos += in->len;
	return true;
}

void jit_compile(struct tcg_cpu *cpu, struct block *b)
{
	struct jit *j = cpu->jit_scratch;
	uint8_t *start = cpu->jit_code + cpu->jit_used;
	unsigned int n = b->n_insns;
	uint8_t *body, *stale;

	*j = (struct jit){
		.e = { .p = start, .end = cpu->jit_code + cpu->jit_size },
		.cpu = cpu,
		.b = b,
		.copies = &b->insns[n + 1],
	};

	emit_push(&j->e, RBX);
	emit_mov(&j->e, true, RBX, RDI);
	emit_u8(&j->e, 0xeb);			/* JMP rel8 over the link entry */
	emit_u8(&j->e, 0);
	body = j->e.p;
	if (emit_ok(&j->e) && body - start != JIT_LINK_OFFSET) {
		log_warning("software CPU: JIT entry layout mismatch; interpreting");
		return;
	}
	/* Link entry: still the code that was compiled? */
	emit_mov_imm(&j->e, RAX, (uint64_t)(uintptr_t)b->gen_now);
	emit_u8(&j->e, 0x81);			/* CMP dword [RAX], imm32 */
	emit_u8(&j->e, 0x38);
	emit_u32(&j->e, b->gen);
	stale = emit_jcc_fwd(&j->e, HCC_NE);
	if (emit_ok(&j->e))
		body[-1] = (uint8_t)(j->e.p - body);
	for (unsigned int i = 0; i < n; i++) {
		const struct insn *in = &b->insns[i];
		bool last = i == n - 1;

		if (last && (in->fn == op_jcc || in->fn == op_jmp_rel) && emit_branch(j, in))
			goto tail;
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
	/* Rewritten since: back to the run loop, which decodes it again (RIP is its start). */
	patch_rel32(stale, j->e.p);
	emit_mov_imm(&j->e, RAX, END_BLOCK);
	emit_pop(&j->e, RBX);
	emit_ret(&j->e);
	/* Handler calls that ended the block, and the slow paths. */
	if (j->n_exits) {
		uint8_t *exit = j->e.p;

		emit_pop(&j->e, RBX);
		emit_ret(&j->e);
		for (unsigned int i = 0; i < j->n_exits; i++)
			patch_rel32(j->exits[i], exit);
	}
	for (unsigned int i = 0; i < j->n_slow; i++)
		emit_slow_path(j, &j->slow[i]);
	if (!emit_ok(&j->e)) {
		log_warning("software CPU: a block's code overflowed the JIT's bound; it runs interpreted");
		return;
	}
	b->jit = start;
	cpu->jit_used = (size_t)(j->e.p - cpu->jit_code + 15) & ~(size_t)15;
}

bool jit_room(const struct tcg_cpu *cpu, unsigned int n_insns)
{
	return cpu->jit_used + JIT_BLOCK_MAX_BYTES(n_insns) <= cpu->jit_size;
}

void jit_flush(struct tcg_cpu *cpu)
{
	cpu->jit_used = 0;
}

void jit_init(struct tcg_cpu *cpu)
{
	const char *env = g_getenv("VESSEL_TCG_JIT");
	void *code;

	if (env && strcmp(env, "0") == 0)
		return;
	code = mmap(NULL, JIT_BYTES, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (code == MAP_FAILED) {
		log_warning("software CPU: cannot map memory for the JIT (%s); interpreting only",
			    g_strerror(errno));
		return;
	}
	cpu->jit_code = code;
	cpu->jit_size = JIT_BYTES;
	cpu->jit_used = 0;
	cpu->jit_scratch = g_new0(struct jit, 1);
}

void jit_destroy(struct tcg_cpu *cpu)
{
	if (cpu->jit_code)
		munmap(cpu->jit_code, cpu->jit_size);
	cpu->jit_code = NULL;
	g_free(cpu->jit_scratch);
	cpu->jit_scratch = NULL;
}
