/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hand-picked cases.  Each is a few instructions, as bytes with their
 * disassembly and the flags they leave undefined (Intel SDM Vol. 2 / AMD
 * APM Vol. 3 "Flags Affected"), starting from randomised registers the case
 * overrides where it matters.
 */
#include <string.h>

#include "handpicked.h"

#define B(...)	(const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define LE32(v)	(uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24)

static const struct flags_effect NONE = { 0, 0 };
static const struct flags_effect ARITH = { FL_STATUS, 0 };
static const struct flags_effect LOGIC = { FL_STATUS & ~FL_AF, FL_AF };
static const struct flags_effect INCDEC = { FL_STATUS & ~FL_CF, 0 };
static const struct flags_effect MUL = { FL_CF | FL_OF, FL_SF | FL_ZF | FL_AF | FL_PF };
static const struct flags_effect DIV = { 0, FL_STATUS };
static const struct flags_effect BITTEST = { FL_CF, FL_OF | FL_SF | FL_ZF | FL_AF | FL_PF };
static const struct flags_effect BITSCAN = { FL_ZF, FL_CF | FL_OF | FL_SF | FL_AF | FL_PF };
static const struct flags_effect COUNT = { FL_CF | FL_ZF, FL_OF | FL_SF | FL_AF | FL_PF };
static const struct flags_effect CF_ONLY = { FL_CF, 0 };
static const struct flags_effect OF_ONLY = { FL_OF, 0 };
static const struct flags_effect ZF_ONLY = { FL_ZF, 0 };
static const struct flags_effect SAHF = { FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF, 0 };
/* DAA/DAS: OF undefined; AAM/AAD: SF, ZF, PF defined. */
static const struct flags_effect DECIMAL_ADJUST = { FL_STATUS & ~FL_OF, FL_OF };
static const struct flags_effect AAM_AAD = { FL_SF | FL_ZF | FL_PF, FL_OF | FL_AF | FL_CF };

static struct flags_effect shift_flags(enum flags_class class, unsigned int size, int count)
{
	struct insn_form form = { .flags = (uint8_t)class };

	return flags_effect(&form, size, count);
}

static void op(struct dt_builder *b, struct flags_effect flags, const char *text,
	       const uint8_t *bytes, size_t length)
{
	dt_emit_bytes(b, bytes, length, flags, text);
}

static void set_reg(struct dt_builder *b, unsigned int reg, uint64_t value)
{
	b->c->state.gpr[reg] = value;
}

static void set_flags(struct dt_builder *b, uint64_t flags)
{
	b->c->state.rflags = X86_RFLAGS_FIXED | FL_IF | flags;
}

static void set_mem(struct dt_builder *b, uint64_t addr, const void *bytes, size_t length)
{
	sb_write(b->c->pages, addr, bytes, length);
}

/* ---- flags of shifts and rotates by edge counts ---- */

static void hp_shift_by_zero(struct dt_builder *b)
{
	/* Every status flag set: a count of zero after masking must keep them. */
	set_flags(b, FL_STATUS);
	set_reg(b, X86_RCX, 0x20);
	op(b, shift_flags(FX_SHIFT, 4, 0), "shl eax, cl", B(0xd3, 0xe0));
	op(b, shift_flags(FX_SHIFT, 1, 0), "sar bl, cl", B(0xd2, 0xfb));
	op(b, shift_flags(FX_SHIFT, 8, 0), "shr rdx, 0x40", B(0x48, 0xc1, 0xea, 0x40));
	op(b, shift_flags(FX_SHIFT, 2, 0), "shl si, 0x20", B(0x66, 0xc1, 0xe6, 0x20));
	op(b, shift_flags(FX_RCX, 4, 0), "rcl edi, 0x20", B(0xc1, 0xd7, 0x20));
	op(b, shift_flags(FX_SHXD, 4, 0), "shld ebp, eax, cl", B(0x0f, 0xa5, 0xc5));
}

static void hp_shift_by_zero_clear(struct dt_builder *b)
{
	set_flags(b, 0);
	set_reg(b, X86_RCX, 0x40);
	op(b, shift_flags(FX_SHIFT, 8, 0), "sar rax, cl", B(0x48, 0xd3, 0xf8));
	op(b, shift_flags(FX_RCX, 1, 0), "rcr al, cl", B(0xd2, 0xd8));
	op(b, shift_flags(FX_SHXD, 8, 0), "shrd rbx, rdx, cl", B(0x48, 0x0f, 0xad, 0xd3));
}

static void hp_shift_by_one(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0xc000000000000001ULL);
	set_reg(b, X86_RBX, 0x40);
	op(b, shift_flags(FX_SHIFT, 8, 1), "shl rax, 1", B(0x48, 0xd1, 0xe0));
	op(b, shift_flags(FX_SHIFT, 1, 1), "sar bl, 1", B(0xd0, 0xfb));
	op(b, shift_flags(FX_SHIFT, 4, 1), "shr eax, 1", B(0xd1, 0xe8));
	op(b, shift_flags(FX_ROT, 2, 1), "rol ax, 1", B(0x66, 0xd1, 0xc0));
	op(b, shift_flags(FX_RCX, 8, 1), "rcr rbx, 1", B(0x48, 0xd1, 0xdb));
}

static void hp_shift_large_counts(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0x8000000180008081ULL);
	set_reg(b, X86_RDX, 0xfedcba9876543210ULL);
	op(b, shift_flags(FX_SHIFT, 1, 9), "shl al, 9", B(0xc0, 0xe0, 0x09));
	op(b, shift_flags(FX_SHIFT, 2, 17), "shr dx, 17", B(0x66, 0xc1, 0xea, 0x11));
	op(b, shift_flags(FX_SHIFT, 1, 31), "sar dl, 31", B(0xc0, 0xfa, 0x1f));
	op(b, shift_flags(FX_SHIFT, 4, 31), "shl eax, 31", B(0xc1, 0xe0, 0x1f));
	op(b, shift_flags(FX_SHIFT, 8, 63), "sar rdx, 63", B(0x48, 0xc1, 0xfa, 0x3f));
	op(b, shift_flags(FX_SHIFT, 2, 16), "shl ax, 16", B(0x66, 0xc1, 0xe0, 0x10));
}

static void hp_rotate_counts(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0x8001);
	set_reg(b, X86_RBX, 0x80);
	set_flags(b, FL_CF);
	/* RCL by 9 on a byte and by 17 on a word rotate by 0 (SDM: count MOD 9 / 17). */
	op(b, shift_flags(FX_RCX, 1, 9), "rcl bl, 9", B(0xc0, 0xd3, 0x09));
	op(b, shift_flags(FX_RCX, 2, 17), "rcl ax, 17", B(0x66, 0xc1, 0xd0, 0x11));
	op(b, shift_flags(FX_ROT, 1, 8), "rol bl, 8", B(0xc0, 0xc3, 0x08));
	op(b, shift_flags(FX_ROT, 2, 16), "ror ax, 16", B(0x66, 0xc1, 0xc8, 0x10));
	op(b, shift_flags(FX_RCX, 1, 10), "rcr bl, 10", B(0xc0, 0xdb, 0x0a));
	op(b, shift_flags(FX_ROT, 8, 63), "rol rax, 63", B(0x48, 0xc1, 0xc0, 0x3f));
}

static void hp_double_shifts(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0x8123456789abcdefULL);
	set_reg(b, X86_RBX, 0x0fedcba987654321ULL);
	op(b, shift_flags(FX_SHXD, 2, 15), "shld ax, bx, 15", B(0x66, 0x0f, 0xa4, 0xd8, 0x0f));
	op(b, shift_flags(FX_SHXD, 4, 31), "shrd eax, ebx, 31", B(0x0f, 0xac, 0xd8, 0x1f));
	op(b, shift_flags(FX_SHXD, 8, 1), "shld rax, rbx, 1", B(0x48, 0x0f, 0xa4, 0xd8, 0x01));
	op(b, shift_flags(FX_SHXD, 8, 63), "shrd rbx, rax, 63", B(0x48, 0x0f, 0xac, 0xc3, 0x3f));
	op(b, shift_flags(FX_SHXD, 2, 16), "shld ax, bx, 16", B(0x66, 0x0f, 0xa4, 0xd8, 0x10));
}

/* ---- division ---- */

static void hp_div_overflow(struct dt_builder *b)
{
	set_reg(b, X86_RDX, 1);
	set_reg(b, X86_RAX, 0);
	set_reg(b, X86_RCX, 1);
	op(b, DIV, "div ecx", B(0xf7, 0xf1));	/* 2^32 / 1 does not fit: #DE */
}

static void hp_div_by_zero(struct dt_builder *b)
{
	op(b, LOGIC, "xor ecx, ecx", B(0x31, 0xc9));
	op(b, DIV, "div rcx", B(0x48, 0xf7, 0xf1));
}

static void hp_idiv_int64_min(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0x8000000000000000ULL);
	set_reg(b, X86_RCX, ~0ULL);
	op(b, NONE, "cqo", B(0x48, 0x99));
	op(b, DIV, "idiv rcx", B(0x48, 0xf7, 0xf9));
}

static void hp_idiv_int32_min(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0xffffffff80000000ULL);
	set_reg(b, X86_RCX, 0xffffffff);
	op(b, NONE, "cdq", B(0x99));
	op(b, DIV, "idiv ecx", B(0xf7, 0xf9));
}

static void hp_idiv_int8_min(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0xff80);
	set_reg(b, X86_RCX, 0xff);
	op(b, DIV, "idiv cl", B(0xf6, 0xf9));
}

static void hp_idiv_signs(struct dt_builder *b)
{
	set_reg(b, X86_RAX, (uint64_t)-7);
	set_reg(b, X86_RCX, 2);
	set_reg(b, X86_RBX, (uint64_t)-3);
	op(b, NONE, "cqo", B(0x48, 0x99));
	op(b, DIV, "idiv rcx", B(0x48, 0xf7, 0xf9));
	op(b, NONE, "cqo", B(0x48, 0x99));
	op(b, DIV, "idiv rbx", B(0x48, 0xf7, 0xfb));
	op(b, ARITH, "cmp rax, rdx", B(0x48, 0x39, 0xd0));
}

static void hp_div_widths(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0x1234);
	set_reg(b, X86_RCX, 0x56);
	set_reg(b, X86_RBX, 0x789a);
	op(b, DIV, "div cl", B(0xf6, 0xf1));
	op(b, LOGIC, "xor edx, edx", B(0x31, 0xd2));
	op(b, DIV, "div bx", B(0x66, 0xf7, 0xf3));
	op(b, ARITH, "cmp eax, ecx", B(0x39, 0xc8));
}

/* ---- REP string instructions, faults part-way ---- */

static void hp_rep_movs_into_readonly(struct dt_builder *b)
{
	set_reg(b, X86_RSI, SB_DATA_ADDR + 0x100);
	set_reg(b, X86_RDI, SB_RO_ADDR - 24);
	set_reg(b, X86_RCX, 10);
	set_flags(b, 0);
	op(b, NONE, "rep movsq", B(0xf3, 0x48, 0xa5));	/* 3 copies, then #PF with RCX=7 */
}

static void hp_rep_movs_from_not_present(struct dt_builder *b)
{
	set_reg(b, X86_RSI, SB_NP_ADDR - 5);
	set_reg(b, X86_RDI, SB_DATA_ADDR + 0x10);
	set_reg(b, X86_RCX, 9);
	set_flags(b, 0);
	op(b, NONE, "rep movsb", B(0xf3, 0xa4));
}

static void hp_rep_stos_down_into_guard(struct dt_builder *b)
{
	set_reg(b, X86_RDI, SB_DATA_ADDR + 16);
	set_reg(b, X86_RCX, 8);
	set_reg(b, X86_RAX, 0x11223344);
	op(b, NONE, "std", B(0xfd));
	op(b, NONE, "rep stosd", B(0xf3, 0xab));
}

static void hp_rep_stos_straddling_element(struct dt_builder *b)
{
	/* An element half in the last good page: no part of it may be written. */
	set_reg(b, X86_RDI, SB_RO_ADDR - 12);
	set_reg(b, X86_RCX, 4);
	set_flags(b, 0);
	op(b, NONE, "rep stosq", B(0xf3, 0x48, 0xab));
}

static void hp_repe_cmps(struct dt_builder *b)
{
	static const char a[] = "abcdefgh", c[] = "abcdXfgh";

	set_mem(b, SB_DATA_ADDR + 0x200, a, 8);
	set_mem(b, SB_DATA_ADDR + 0x300, c, 8);
	set_reg(b, X86_RSI, SB_DATA_ADDR + 0x200);
	set_reg(b, X86_RDI, SB_DATA_ADDR + 0x300);
	set_reg(b, X86_RCX, 8);
	set_flags(b, 0);
	op(b, ARITH, "repe cmpsb", B(0xf3, 0xa6));
}

static void hp_repne_scas(struct dt_builder *b)
{
	static const uint16_t words[] = { 1, 2, 3, 0x55aa, 5 };

	set_mem(b, SB_DATA_ADDR + 0x400, words, sizeof(words));
	set_reg(b, X86_RDI, SB_DATA_ADDR + 0x400);
	set_reg(b, X86_RCX, 16);
	set_reg(b, X86_RAX, 0x55aa);
	set_flags(b, 0);
	op(b, ARITH, "repne scasw", B(0xf2, 0x66, 0xaf));
}

static void hp_rep_count_zero(struct dt_builder *b)
{
	set_reg(b, X86_RCX, 0);
	set_reg(b, X86_RSI, SB_NP_ADDR);	/* never touched */
	set_reg(b, X86_RDI, SB_NP_ADDR);
	set_flags(b, FL_CF | FL_ZF);
	op(b, NONE, "rep movsb", B(0xf3, 0xa4));
	op(b, NONE, "repe cmpsd", B(0xf3, 0xa7));	/* flags unchanged */
	op(b, NONE, "rep lodsq", B(0xf3, 0x48, 0xad));
}

static void hp_string_no_rep_both_directions(struct dt_builder *b)
{
	set_reg(b, X86_RSI, SB_DATA_ADDR + 0x800);
	set_reg(b, X86_RDI, SB_DATA_ADDR + 0x900);
	op(b, NONE, "cld", B(0xfc));
	op(b, NONE, "movsw", B(0x66, 0xa5));
	op(b, NONE, "lodsd", B(0xad));
	op(b, NONE, "std", B(0xfd));
	op(b, NONE, "stosb", B(0xaa));
	op(b, ARITH, "scasq", B(0x48, 0xaf));
	op(b, ARITH, "cmpsb", B(0xa6));
}

static void hp_rep_addr32(struct dt_builder *b)
{
	/* 0x67: ECX/ESI/EDI; the upper halves set here are ignored. */
	set_reg(b, X86_RSI, 0xabcd000000000000ULL | (SB_DATA_ADDR + 0x40));
	set_reg(b, X86_RDI, 0x1234000000000000ULL | (SB_DATA_ADDR + 0x80));
	set_reg(b, X86_RCX, 0xffffffff00000003ULL);
	set_flags(b, 0);
	op(b, NONE, "rep movsd (addr32)", B(0x67, 0xf3, 0xa5));
}

/* ---- memory: alignment, segments, addressing ---- */

static void hp_misaligned(struct dt_builder *b)
{
	set_reg(b, DT_REG_DATA_BASE, SB_DATA_ADDR + 0xffd);
	op(b, NONE, "mov rax, [r15]", B(0x49, 0x8b, 0x07));		/* crosses the data pages */
	op(b, NONE, "mov [r15+1], rax", B(0x49, 0x89, 0x47, 0x01));
	op(b, ARITH, "add word [r15+2], 0x7fff", B(0x66, 0x41, 0x81, 0x47, 0x02, 0xff, 0x7f));
	op(b, NONE, "mov ecx, [r15+3]", B(0x41, 0x8b, 0x4f, 0x03));
}

static void hp_locked_split(struct dt_builder *b)
{
	/* A LOCKed read-modify-write across a page boundary ("split lock"). */
	set_reg(b, DT_REG_DATA_BASE, SB_DATA_ADDR + 0xffc);
	op(b, ARITH, "lock xadd [r15], rax", B(0xf0, 0x49, 0x0f, 0xc1, 0x07));
}

static void hp_write_straddling_readonly(struct dt_builder *b)
{
	/* #PF on the second page: the first bytes must not be written either. */
	set_reg(b, DT_REG_DATA_BASE, SB_RO_ADDR - 3);
	op(b, NONE, "mov [r15], rax", B(0x49, 0x89, 0x07));
}

static void hp_fs_gs_base(struct dt_builder *b)
{
	b->c->state.fs.base = SB_DATA_ADDR;
	b->c->state.gs.base = SB_DATA_ADDR + 0x800;
	op(b, NONE, "mov rbx, fs:[0x10]", B(0x64, 0x48, 0x8b, 0x1c, 0x25, 0x10, 0x00, 0x00, 0x00));
	op(b, NONE, "mov gs:[0x8], rbx", B(0x65, 0x48, 0x89, 0x1c, 0x25, 0x08, 0x00, 0x00, 0x00));
	op(b, NONE, "mov ecx, fs:[r15-0x120000]",
	   B(0x64, 0x41, 0x8b, 0x8f, 0x00, 0x00, 0xee, 0xff));
	op(b, NONE, "mov rax, ds:[r15]", B(0x3e, 0x49, 0x8b, 0x07));
}

static void hp_fs_base_wraps(struct dt_builder *b)
{
	/* base + address wraps around 2^64 to the data page. */
	b->c->state.fs.base = 0xfffffffffffff000ULL;
	op(b, NONE, "mov rax, fs:[0x121008]", B(0x64, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x10, 0x12, 0x00));
}

static void hp_load_null_fs(struct dt_builder *b)
{
	/*
	 * Whether a null selector clears the base is model-specific: recent
	 * AMD processors say so in CPUID 8000_0021h EAX[6], Intel processors do.
	 */
	b->c->state.fs.base = 0x5000;
	set_reg(b, X86_RAX, 0);
	op(b, NONE, "mov fs, eax", B(0x8e, 0xe0));
	op(b, NONE, "mov ecx, fs", B(0x8c, 0xe1));
	op(b, NONE, "mov rbx, fs:[0x120000]", B(0x64, 0x48, 0x8b, 0x1c, 0x25, 0x00, 0x00, 0x12, 0x00));
}

static void hp_segment_registers(struct dt_builder *b)
{
	/* Only null data selectors: see gen_mov_to_sreg(). */
	set_reg(b, X86_RAX, SB_SEL_USER_DS);
	set_reg(b, X86_RBX, 0);
	op(b, NONE, "mov ds, ebx", B(0x8e, 0xdb));
	op(b, NONE, "mov es, ebx", B(0x8e, 0xc3));
	op(b, NONE, "mov ss, eax", B(0x8e, 0xd0));
	op(b, NONE, "mov ecx, cs", B(0x8c, 0xc9));
	op(b, NONE, "mov rdx, ss", B(0x48, 0x8c, 0xd2));
	op(b, NONE, "mov si, ds", B(0x66, 0x8c, 0xde));
	op(b, NONE, "mov [r15], es", B(0x41, 0x8c, 0x07));
	op(b, NONE, "mov edi, gs", B(0x8c, 0xef));
	op(b, NONE, "mov ebp, es", B(0x8c, 0xc5));
}

static void hp_load_kernel_selector(struct dt_builder *b)
{
	set_reg(b, X86_RAX, SB_SEL_KERNEL_DS | 3);
	op(b, NONE, "mov ds, eax", B(0x8e, 0xd8));	/* DPL 0 < CPL 3: #GP(selector) */
}

static void hp_load_null_ss(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0);
	op(b, NONE, "mov ss, eax", B(0x8e, 0xd0));	/* null SS at CPL 3: #GP(0) */
}

static void hp_addr32_wrap(struct dt_builder *b)
{
	/* 0xffffff00 + 0x120100 wraps to 0x120000 with 32-bit addresses. */
	set_reg(b, X86_RBX, 0xffffffffffffff00ULL);
	op(b, NONE, "mov rax, [ebx+0x120100]", B(0x67, 0x48, 0x8b, 0x83, 0x00, 0x01, 0x12, 0x00));
	op(b, NONE, "lea ecx, [ebx+ebx*2]", B(0x67, 0x8d, 0x0c, 0x5b));
}

static void hp_lea_forms(struct dt_builder *b)
{
	set_reg(b, X86_RBP, 0x1111);
	set_reg(b, 13, 0x2222);
	set_reg(b, 12, 0x3333);
	op(b, NONE, "lea rax, [rbp+0x0]", B(0x48, 0x8d, 0x45, 0x00));
	op(b, NONE, "lea rbx, [r13+0x0]", B(0x49, 0x8d, 0x5d, 0x00));
	op(b, NONE, "lea rcx, [r12]", B(0x49, 0x8d, 0x0c, 0x24));
	op(b, NONE, "lea rdx, [rsp]", B(0x48, 0x8d, 0x14, 0x24));
	op(b, NONE, "lea rsi, [rip+0x10]", B(0x48, 0x8d, 0x35, 0x10, 0x00, 0x00, 0x00));
	op(b, NONE, "lea rdi, [rbx] (SIB, no index)", B(0x48, 0x8d, 0x3c, 0x23));
	op(b, NONE, "lea r8, [rbx+r12*1]", B(0x4e, 0x8d, 0x04, 0x23));
	op(b, NONE, "lea r9, [r12+r13*4-0x8]", B(0x4f, 0x8d, 0x4c, 0xac, 0xf8));
	op(b, NONE, "lea r10w, [rcx+rdx*2+0x7fff]",
	   B(0x66, 0x44, 0x8d, 0x94, 0x51, 0xff, 0x7f, 0x00, 0x00));
	op(b, NONE, "lea r11d, [0x12345678]", B(0x44, 0x8d, 0x1c, 0x25, 0x78, 0x56, 0x34, 0x12));
	op(b, NONE, "lea eax, [rax+rbx*8]", B(0x8d, 0x04, 0xd8));
}

static void hp_rip_relative(struct dt_builder *b)
{
	uint64_t target = SB_DATA_ADDR + 0x123;
	uint64_t next = dt_here(b) + 7;
	uint32_t disp = (uint32_t)(target - next);

	op(b, NONE, "mov rax, [rip+data+0x123]", B(0x48, 0x8b, 0x05, LE32(disp)));
	next = dt_here(b) + 10;
	disp = (uint32_t)(target + 8 - next);
	op(b, NONE, "mov dword [rip+data+0x12b], 0x42", B(0xc7, 0x05, LE32(disp), 0x42, 0x00, 0x00, 0x00));
	next = dt_here(b) + 6;
	disp = (uint32_t)(SB_CODE_ADDR - next);
	op(b, NONE, "mov ecx, [rip+code]", B(0x8b, 0x0d, LE32(disp)));
}

static void hp_non_canonical(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0x0000800000000000ULL);
	op(b, NONE, "mov rbx, [rax]", B(0x48, 0x8b, 0x18));	/* #GP(0) */
}

static void hp_non_canonical_stack(struct dt_builder *b)
{
	set_reg(b, X86_RSP, 0xffff7ffffffffff8ULL);
	op(b, NONE, "mov rbx, [rsp]", B(0x48, 0x8b, 0x1c, 0x24));	/* #SS(0) */
}

static void hp_stack_page_fault(struct dt_builder *b)
{
	set_reg(b, X86_RSP, SB_STACK_ADDR + 4);
	op(b, NONE, "push rax", B(0x50));	/* the bottom of the stack: #PF */
}

static void hp_alignment_check(struct dt_builder *b)
{
	set_flags(b, FL_AC);
	set_reg(b, DT_REG_DATA_BASE, SB_DATA_ADDR + 0x100);
	set_reg(b, X86_RSP, SB_STACK_ADDR + 0x1000);
	op(b, NONE, "mov eax, [r15]", B(0x41, 0x8b, 0x07));
	op(b, NONE, "mov rax, [rsp]", B(0x48, 0x8b, 0x04, 0x24));
	op(b, NONE, "mov ecx, [r15+0x2] (misaligned: #AC)", B(0x41, 0x8b, 0x4f, 0x02));
}

static void hp_alignment_check_stack(struct dt_builder *b)
{
	set_flags(b, FL_AC);
	set_reg(b, X86_RSP, SB_STACK_ADDR + 0x1004);
	op(b, NONE, "push rax", B(0x50));
}

/* ---- page faults: error codes and CR2 ---- */

static void hp_pf_write_readonly(struct dt_builder *b)
{
	set_reg(b, DT_REG_DATA_BASE, SB_RO_ADDR + 0x10);
	op(b, NONE, "mov al, [r15]", B(0x41, 0x8a, 0x07));
	op(b, NONE, "mov [r15], al", B(0x41, 0x88, 0x07));
}

static void hp_pf_read_not_present(struct dt_builder *b)
{
	set_reg(b, DT_REG_DATA_BASE, SB_NP_ADDR + 0x20);
	op(b, NONE, "mov al, [r15]", B(0x41, 0x8a, 0x07));
}

static void hp_pf_read_supervisor(struct dt_builder *b)
{
	set_reg(b, DT_REG_DATA_BASE, SB_SUPER_ADDR + 0x30);
	op(b, NONE, "mov eax, [r15]", B(0x41, 0x8b, 0x07));
}

static void hp_pf_write_supervisor(struct dt_builder *b)
{
	set_reg(b, DT_REG_DATA_BASE, SB_SUPER_ADDR + 0x30);
	op(b, ARITH, "add [r15], eax", B(0x41, 0x01, 0x07));
}

static void hp_pf_fetch_nx(struct dt_builder *b)
{
	set_reg(b, X86_RAX, SB_NX_ADDR + 0x40);
	op(b, NONE, "jmp rax", B(0xff, 0xe0));
}

static void hp_pf_fetch_not_present(struct dt_builder *b)
{
	set_reg(b, X86_RAX, SB_NP_ADDR);
	op(b, NONE, "jmp rax", B(0xff, 0xe0));
}

static void hp_pf_fetch_supervisor(struct dt_builder *b)
{
	set_reg(b, X86_RAX, SB_STUBS_ADDR);
	op(b, NONE, "jmp rax", B(0xff, 0xe0));
}

static void hp_pf_fetch_straddling_nx(struct dt_builder *b)
{
	/* A 5-byte MOV whose last two bytes lie in the NX page: #PF, CR2 at the page. */
	uint64_t at = SB_CODE_ADDR + SB_CODE_SIZE - 3;

	set_reg(b, X86_RAX, at);
	op(b, NONE, "jmp rax", B(0xff, 0xe0));
	dt_place_bytes(b, at, B(0xb8, 0x11, 0x22, 0x33, 0x44), "mov eax, 0x44332211 (straddles NX)");
}

/* ---- invalid and privileged instructions ---- */

#define UD_CASE(fn, text, ...) \
	static void fn(struct dt_builder *b) { op(b, NONE, text, B(__VA_ARGS__)); }

UD_CASE(hp_ud_ud2, "ud2", 0x0f, 0x0b)
UD_CASE(hp_ud_ud1, "ud1 eax, eax", 0x0f, 0xb9, 0xc0)
UD_CASE(hp_ud_ud0, "ud0 eax, eax", 0x0f, 0xff, 0xc0)
UD_CASE(hp_ud_82, "(82) add al, 1: invalid in 64-bit mode", 0x82, 0xc0, 0x01)
UD_CASE(hp_ud_aaa, "aaa: invalid in 64-bit mode", 0x37)
UD_CASE(hp_ud_daa, "daa: invalid in 64-bit mode", 0x27)
UD_CASE(hp_ud_into, "into: invalid in 64-bit mode", 0xce)
UD_CASE(hp_ud_push_es, "push es: invalid in 64-bit mode", 0x06)
UD_CASE(hp_ud_pop_ds, "pop ds: invalid in 64-bit mode", 0x1f)
UD_CASE(hp_ud_pusha, "pusha: invalid in 64-bit mode", 0x60)
UD_CASE(hp_ud_salc, "salc: invalid in 64-bit mode", 0xd6)
UD_CASE(hp_ud_far_call, "call far ptr16:32: invalid in 64-bit mode", 0x9a, 0, 0, 0, 0, 0, 0)
UD_CASE(hp_ud_lock_nop, "lock nop", 0xf0, 0x90)
UD_CASE(hp_ud_lock_reg, "lock add eax, ecx", 0xf0, 0x01, 0xc8)
UD_CASE(hp_ud_lock_mov, "lock mov [r15], eax", 0xf0, 0x41, 0x89, 0x07)
UD_CASE(hp_ud_lock_cmp, "lock cmp [r15], eax", 0xf0, 0x41, 0x39, 0x07)
UD_CASE(hp_ud_cmpxchg8b_reg, "cmpxchg8b eax (register operand)", 0x0f, 0xc7, 0xc8)
UD_CASE(hp_ud_lea_reg, "lea eax, ecx (register operand)", 0x8d, 0xc1)
UD_CASE(hp_ud_mov_cs, "mov cs, eax", 0x8e, 0xc8)

UD_CASE(hp_gp_hlt, "hlt", 0xf4)
UD_CASE(hp_gp_cli, "cli (IOPL 0)", 0xfa)
UD_CASE(hp_gp_sti, "sti (IOPL 0)", 0xfb)
UD_CASE(hp_gp_mov_from_cr0, "mov rax, cr0", 0x0f, 0x20, 0xc0)
UD_CASE(hp_gp_mov_to_cr3, "mov cr3, rax", 0x0f, 0x22, 0xd8)
UD_CASE(hp_gp_mov_dr7, "mov rax, dr7", 0x0f, 0x21, 0xf8)
UD_CASE(hp_gp_rdmsr, "rdmsr", 0x0f, 0x32)
UD_CASE(hp_gp_wrmsr, "wrmsr", 0x0f, 0x30)
UD_CASE(hp_gp_in, "in al, 0x80 (port not in the I/O bitmap)", 0xe4, 0x80)
UD_CASE(hp_gp_out, "out 0xea, al (port not in the I/O bitmap)", 0xe6, 0xea)
UD_CASE(hp_gp_lgdt, "lgdt [r15]", 0x41, 0x0f, 0x01, 0x17)
UD_CASE(hp_gp_invlpg, "invlpg [r15]", 0x41, 0x0f, 0x01, 0x3f)
UD_CASE(hp_gp_wbinvd, "wbinvd", 0x0f, 0x09)
UD_CASE(hp_gp_clts, "clts", 0x0f, 0x06)
UD_CASE(hp_gp_swapgs, "swapgs", 0x0f, 0x01, 0xf8)
UD_CASE(hp_gp_sysret, "sysretq", 0x48, 0x0f, 0x07)
UD_CASE(hp_gp_rdpmc, "rdpmc (CR4.PCE=0)", 0x0f, 0x33)
UD_CASE(hp_gp_smsw, "smsw eax (CR4.UMIP=1)", 0x0f, 0x01, 0xe0)
UD_CASE(hp_gp_sgdt, "sgdt [r15] (CR4.UMIP=1)", 0x41, 0x0f, 0x01, 0x07)
UD_CASE(hp_gp_str, "str eax (CR4.UMIP=1)", 0x0f, 0x00, 0xc8)

static void hp_in_allowed_port(struct dt_builder *b)
{
	/* Port 0xe9 is open in the TSS I/O bitmap: reads the unclaimed all-ones. */
	set_reg(b, X86_RDX, 0x12340000 | SB_PORT_END);
	op(b, NONE, "in al, dx", B(0xec));
}

static void hp_int3(struct dt_builder *b)
{
	op(b, ARITH, "add eax, ecx", B(0x01, 0xc8));
	op(b, NONE, "int3", B(0xcc));
}

static void hp_int_3(struct dt_builder *b)
{
	op(b, NONE, "int 3 (two-byte form)", B(0xcd, 0x03));
}

static void hp_icebp(struct dt_builder *b)
{
	op(b, NONE, "int1 (icebp)", B(0xf1));
}

static void hp_too_long(struct dt_builder *b)
{
	/* Exactly 15 bytes is legal; 16 bytes is #GP(0) (SDM Vol. 2A §2.3.11). */
	op(b, ARITH, "add rax, 0x11223344 (9 prefixes, 15 bytes)",
	   B(0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x48, 0x05, 0x44, 0x33, 0x22, 0x11));
	op(b, ARITH, "add rax, 0x11223344 (10 prefixes, 16 bytes)",
	   B(0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x48, 0x05, 0x44, 0x33, 0x22,
	     0x11));
}

static void hp_rex_before_prefix(struct dt_builder *b)
{
	/* A REX prefix not directly before the opcode is ignored: 16-bit add. */
	set_reg(b, X86_RAX, 0x1111111111118000ULL);
	set_reg(b, X86_RCX, 0x2222222222228000ULL);
	op(b, ARITH, "add ax, cx (REX.W before 0x66: ignored)", B(0x48, 0x66, 0x01, 0xc8));
	op(b, ARITH, "add ax, cx (0x66 twice)", B(0x66, 0x66, 0x01, 0xc8));
	op(b, ARITH, "add rax, rcx (0x66 then REX.W)", B(0x66, 0x48, 0x01, 0xc8));
}

static void hp_long_nops(struct dt_builder *b)
{
	op(b, NONE, "nop dword [rax+rax*1+0x0]", B(0x0f, 0x1f, 0x44, 0x00, 0x00));
	op(b, NONE, "nop word [rax+rax*1+0x0]", B(0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00));
	op(b, NONE, "pause", B(0xf3, 0x90));
	op(b, NONE, "xchg r8, rax", B(0x49, 0x90));
}

/* ---- single-stepping ---- */

static void hp_trap_flag(struct dt_builder *b)
{
	set_flags(b, FL_TF);
	op(b, ARITH, "add eax, 1", B(0x83, 0xc0, 0x01));
	op(b, ARITH, "add eax, 2", B(0x83, 0xc0, 0x02));
}

static void hp_popf_sets_tf(struct dt_builder *b)
{
	op(b, NONE, "push 0x302", B(0x68, 0x02, 0x03, 0x00, 0x00));
	op(b, ARITH, "popfq", B(0x9d));
	op(b, NONE, "nop", B(0x90));
	op(b, NONE, "nop", B(0x90));
}

static void hp_mov_ss_blocks_trap(struct dt_builder *b)
{
	/* MOV SS delays the single-step trap by one instruction (SDM Vol. 3A §6.8.3). */
	set_flags(b, FL_TF);
	set_reg(b, X86_RAX, SB_SEL_USER_DS);
	op(b, NONE, "mov ss, eax", B(0x8e, 0xd0));
	op(b, NONE, "nop", B(0x90));
	op(b, NONE, "nop", B(0x90));
}

static void hp_popf_bits(struct dt_builder *b)
{
	/* IF and IOPL do not change at CPL 3 with IOPL 0; NT, AC and ID do. */
	op(b, NONE, "push 0x264cd5", B(0x68, 0xd5, 0x4c, 0x26, 0x00));
	op(b, ARITH, "popfq", B(0x9d));
	op(b, NONE, "pushfq", B(0x9c));
	op(b, NONE, "pop rbx", B(0x5b));
	op(b, NONE, "push 0x1", B(0x6a, 0x01));
	op(b, ARITH, "popfq", B(0x9d));
}

/* ---- register results ---- */

static void hp_zero_extension(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0xffffffff12345678ULL);
	set_reg(b, X86_RBX, 0xffffffff12345678ULL);
	set_reg(b, X86_RCX, 0x1111111100000000ULL);
	set_reg(b, X86_RDX, 0xaaaaaaaaaaaaaaaaULL);
	op(b, NONE, "nop (90: xchg eax, eax does not zero-extend)", B(0x90));
	op(b, NONE, "xchg ebx, ebx (87: zero-extends)", B(0x87, 0xdb));
	op(b, ARITH, "test ecx, ecx", B(0x85, 0xc9));
	op(b, NONE, "cmovnz edx, ecx (false, still zero-extends)", B(0x0f, 0x45, 0xd1));
	op(b, NONE, "mov esi, esi", B(0x89, 0xf6));
	op(b, NONE, "mov di, 0x1234", B(0x66, 0xbf, 0x34, 0x12));
	op(b, NONE, "mov bpl, 0x56", B(0x40, 0xb5, 0x56));
	op(b, NONE, "mov ch, 0x78", B(0xb5, 0x78));
}

static void hp_bit_scan_zero(struct dt_builder *b)
{
	/* Zero source: ZF=1; Intel calls the destination undefined, AMD keeps it. */
	set_reg(b, X86_RAX, 0x1122334455667788ULL);
	set_reg(b, X86_RBX, 0x1122334455667788ULL);
	set_reg(b, X86_RDX, 0x1122334455667788ULL);
	set_reg(b, X86_RCX, 0);
	op(b, BITSCAN, "bsf rax, rcx", B(0x48, 0x0f, 0xbc, 0xc1));
	op(b, BITSCAN, "bsr ebx, ecx", B(0x0f, 0xbd, 0xd9));
	op(b, BITSCAN, "bsf dx, cx", B(0x66, 0x0f, 0xbc, 0xd1));
}

static void hp_bit_scan(struct dt_builder *b)
{
	set_reg(b, X86_RCX, 0x0010000000000100ULL);
	op(b, BITSCAN, "bsf rax, rcx", B(0x48, 0x0f, 0xbc, 0xc1));
	op(b, BITSCAN, "bsr rbx, rcx", B(0x48, 0x0f, 0xbd, 0xd9));
	op(b, BITSCAN, "bsr dx, cx", B(0x66, 0x0f, 0xbd, 0xd1));
}

static void hp_lzcnt_tzcnt(struct dt_builder *b)
{
	set_reg(b, X86_RCX, 0);
	set_reg(b, X86_RDX, 0x0000000000f00000ULL);
	op(b, COUNT, "lzcnt rax, rcx", B(0xf3, 0x48, 0x0f, 0xbd, 0xc1));
	op(b, COUNT, "tzcnt ebx, ecx", B(0xf3, 0x0f, 0xbc, 0xd9));
	op(b, COUNT, "lzcnt si, dx", B(0x66, 0xf3, 0x0f, 0xbd, 0xf2));
	op(b, COUNT, "tzcnt rdi, rdx", B(0xf3, 0x48, 0x0f, 0xbc, 0xfa));
}

static void hp_popcnt(struct dt_builder *b)
{
	set_reg(b, X86_RCX, 0xf0f0f0f0f0f0f0f1ULL);
	op(b, ARITH, "popcnt rax, rcx", B(0xf3, 0x48, 0x0f, 0xb8, 0xc1));
	op(b, ARITH, "popcnt bx, cx", B(0x66, 0xf3, 0x0f, 0xb8, 0xd9));
	op(b, LOGIC, "xor ecx, ecx", B(0x31, 0xc9));
	op(b, ARITH, "popcnt edx, ecx", B(0xf3, 0x0f, 0xb8, 0xd1));
}

static void hp_bit_string(struct dt_builder *b)
{
	/* Register offsets address beyond the operand in memory, negative ones too. */
	set_reg(b, X86_RCX, 100);
	set_reg(b, X86_RDX, (uint64_t)-9);
	set_reg(b, DT_REG_DATA_BASE, SB_DATA_ADDR + 0x100);
	op(b, BITTEST, "bt dword [r15], ecx", B(0x41, 0x0f, 0xa3, 0x0f));
	op(b, BITTEST, "bts qword [r15+0x40], rdx", B(0x49, 0x0f, 0xab, 0x57, 0x40));
	op(b, BITTEST, "btc dword [r15], 0x23 (immediate: modulo 32)",
	   B(0x41, 0x0f, 0xba, 0x3f, 0x23));
	op(b, BITTEST, "lock btr word [r15+0x2], dx", B(0xf0, 0x66, 0x41, 0x0f, 0xb3, 0x57, 0x02));
	op(b, BITTEST, "bt ecx, edx (register: modulo 32)", B(0x0f, 0xa3, 0xd1));
}

static void hp_cmpxchg(struct dt_builder *b)
{
	uint64_t value = 0x1122334455667788ULL;

	set_mem(b, SB_DATA_ADDR + 0x100, &value, 8);
	set_reg(b, DT_REG_DATA_BASE, SB_DATA_ADDR + 0x100);
	set_reg(b, X86_RAX, 0x55667788);
	set_reg(b, X86_RCX, 0xabcdef);
	op(b, ARITH, "lock cmpxchg [r15], ecx (equal)", B(0xf0, 0x41, 0x0f, 0xb1, 0x0f));
	op(b, ARITH, "cmpxchg [r15], ecx (not equal)", B(0x41, 0x0f, 0xb1, 0x0f));
	op(b, ARITH, "cmpxchg bl, dl", B(0x0f, 0xb0, 0xd3));
	op(b, ARITH, "cmpxchg rbx, rbx", B(0x48, 0x0f, 0xb1, 0xdb));
}

static void hp_cmpxchg8b(struct dt_builder *b)
{
	uint64_t value = 0x1122334455667788ULL;

	set_mem(b, SB_DATA_ADDR + 0x108, &value, 8);
	set_reg(b, DT_REG_DATA_BASE, SB_DATA_ADDR + 0x108);
	set_reg(b, X86_RDX, 0x11223344);
	set_reg(b, X86_RAX, 0x55667788);
	set_reg(b, X86_RCX, 0xcafe);
	set_reg(b, X86_RBX, 0xbeef);
	op(b, ZF_ONLY, "lock cmpxchg8b [r15] (equal)", B(0xf0, 0x41, 0x0f, 0xc7, 0x0f));
	op(b, ZF_ONLY, "cmpxchg8b [r15] (not equal)", B(0x41, 0x0f, 0xc7, 0x0f));
}

static void hp_cmpxchg16b(struct dt_builder *b)
{
	uint64_t value[2] = { 0x1122334455667788ULL, 0x99aabbccddeeff00ULL };

	set_mem(b, SB_DATA_ADDR + 0x110, value, 16);
	set_reg(b, DT_REG_DATA_BASE, SB_DATA_ADDR + 0x110);
	set_reg(b, X86_RAX, value[0]);
	set_reg(b, X86_RDX, value[1]);
	op(b, ZF_ONLY, "lock cmpxchg16b [r15] (equal)", B(0xf0, 0x49, 0x0f, 0xc7, 0x0f));
	op(b, ZF_ONLY, "cmpxchg16b [r15] (not equal)", B(0x49, 0x0f, 0xc7, 0x0f));
	op(b, ZF_ONLY, "cmpxchg16b [r15+0x8] (misaligned: #GP)", B(0x49, 0x0f, 0xc7, 0x4f, 0x08));
}

static void hp_xadd_xchg(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0x7fffffffffffffffULL);
	op(b, ARITH, "lock xadd [r15], rax", B(0xf0, 0x49, 0x0f, 0xc1, 0x07));
	op(b, ARITH, "xadd al, ah", B(0x0f, 0xc0, 0xe0));
	op(b, NONE, "xchg [r15+0x3], cx", B(0x66, 0x41, 0x87, 0x4f, 0x03));
	op(b, NONE, "xchg ah, bh", B(0x86, 0xfc));
}

static void hp_mul_forms(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0xfedcba9876543210ULL);
	set_reg(b, X86_RBX, 0x80);
	set_reg(b, X86_RCX, 0x8000000000000000ULL);
	op(b, MUL, "mul bl", B(0xf6, 0xe3));
	op(b, MUL, "mul cx", B(0x66, 0xf7, 0xe1));
	op(b, MUL, "mul ecx", B(0xf7, 0xe1));
	op(b, MUL, "mul rcx", B(0x48, 0xf7, 0xe1));
	op(b, MUL, "imul rcx", B(0x48, 0xf7, 0xe9));
	op(b, MUL, "imul rax, rcx", B(0x48, 0x0f, 0xaf, 0xc1));
	op(b, MUL, "imul rax, rcx, -0x1", B(0x48, 0x6b, 0xc1, 0xff));
	op(b, MUL, "imul eax, ecx, 0x7fffffff", B(0x69, 0xc1, 0xff, 0xff, 0xff, 0x7f));
	op(b, MUL, "imul bx, [r15], 0x7fff", B(0x66, 0x41, 0x69, 0x1f, 0xff, 0x7f));
	op(b, MUL, "imul byte [r15]", B(0x41, 0xf6, 0x2f));
}

static void hp_neg_inc_dec(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0);
	set_reg(b, X86_RBX, 0x8000000000000000ULL);
	set_reg(b, X86_RCX, 0x7f);
	op(b, ARITH, "neg rax (zero: CF=0)", B(0x48, 0xf7, 0xd8));
	op(b, ARITH, "neg rbx (minimum: OF=1)", B(0x48, 0xf7, 0xdb));
	op(b, CF_ONLY, "stc", B(0xf9));
	op(b, INCDEC, "inc cl (CF kept, OF set)", B(0xfe, 0xc1));
	op(b, INCDEC, "dec rax", B(0x48, 0xff, 0xc8));
	op(b, NONE, "setc dl", B(0x0f, 0x92, 0xc2));
	op(b, NONE, "not rcx", B(0x48, 0xf7, 0xd1));
}

static void hp_carry_chains(struct dt_builder *b)
{
	set_reg(b, X86_RAX, ~0ULL);
	set_reg(b, X86_RBX, 1);
	set_reg(b, X86_RCX, 0);
	set_reg(b, X86_RDX, 1);
	op(b, CF_ONLY, "stc", B(0xf9));
	op(b, ARITH, "adc rax, rbx", B(0x48, 0x11, 0xd8));
	op(b, ARITH, "sbb rcx, rdx", B(0x48, 0x19, 0xd1));
	op(b, ARITH, "adc al, 0xff", B(0x14, 0xff));
	op(b, CF_ONLY, "cmc", B(0xf5));
	op(b, ARITH, "sbb word [r15], 0x1", B(0x66, 0x41, 0x83, 0x1f, 0x01));
}

static void hp_adcx_adox(struct dt_builder *b)
{
	set_reg(b, X86_RAX, ~0ULL);
	set_reg(b, X86_RCX, 1);
	set_flags(b, FL_CF | FL_OF);
	op(b, CF_ONLY, "adcx rax, rcx", B(0x66, 0x48, 0x0f, 0x38, 0xf6, 0xc1));
	op(b, OF_ONLY, "adox ebx, ecx", B(0xf3, 0x0f, 0x38, 0xf6, 0xd9));
	op(b, CF_ONLY, "adcx edx, [r15]", B(0x66, 0x41, 0x0f, 0x38, 0xf6, 0x17));
}

static void hp_crc32(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0xffffffff);
	set_reg(b, X86_RCX, 0x123456789abcdef0ULL);
	op(b, NONE, "crc32 eax, cl", B(0xf2, 0x0f, 0x38, 0xf0, 0xc1));
	op(b, NONE, "crc32 eax, cx", B(0x66, 0xf2, 0x0f, 0x38, 0xf1, 0xc1));
	op(b, NONE, "crc32 eax, ecx", B(0xf2, 0x0f, 0x38, 0xf1, 0xc1));
	op(b, NONE, "crc32 rax, rcx", B(0xf2, 0x48, 0x0f, 0x38, 0xf1, 0xc1));
	op(b, NONE, "crc32 rbx, byte [r15]", B(0xf2, 0x49, 0x0f, 0x38, 0xf0, 0x1f));
}

static void hp_movbe(struct dt_builder *b)
{
	op(b, NONE, "movbe eax, [r15]", B(0x41, 0x0f, 0x38, 0xf0, 0x07));
	op(b, NONE, "movbe [r15+0x8], rcx", B(0x49, 0x0f, 0x38, 0xf1, 0x4f, 0x08));
	op(b, NONE, "movbe dx, [r15+0x1]", B(0x66, 0x41, 0x0f, 0x38, 0xf0, 0x57, 0x01));
}

static void hp_extensions(struct dt_builder *b)
{
	op(b, NONE, "movsx rax, byte [r15]", B(0x49, 0x0f, 0xbe, 0x07));
	op(b, NONE, "movzx ebx, word [r15]", B(0x41, 0x0f, 0xb7, 0x1f));
	op(b, NONE, "movsxd rcx, dword [r15]", B(0x49, 0x63, 0x0f));
	op(b, NONE, "movsx dx, bl", B(0x66, 0x0f, 0xbe, 0xd3));
	op(b, NONE, "movzx esi, ah", B(0x0f, 0xb6, 0xf4));
	op(b, NONE, "movsx edi, sil", B(0x40, 0x0f, 0xbe, 0xfe));
	op(b, NONE, "cbw", B(0x66, 0x98));
	op(b, NONE, "cwde", B(0x98));
	op(b, NONE, "cdqe", B(0x48, 0x98));
	op(b, NONE, "cwd", B(0x66, 0x99));
	op(b, NONE, "cdq", B(0x99));
	op(b, NONE, "cqo", B(0x48, 0x99));
	op(b, NONE, "bswap ecx", B(0x0f, 0xc9));
	op(b, NONE, "bswap r9", B(0x49, 0x0f, 0xc9));
}

static void hp_sahf_lahf(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0xd700);
	op(b, SAHF, "sahf", B(0x9e));
	op(b, NONE, "lahf", B(0x9f));
	op(b, NONE, "mov ah, 0x2a", B(0xb4, 0x2a));
	op(b, SAHF, "sahf", B(0x9e));
	op(b, NONE, "lahf", B(0x9f));
}

static void hp_xlat(struct dt_builder *b)
{
	set_reg(b, X86_RBX, SB_DATA_ADDR + 0x300);
	set_reg(b, X86_RAX, 0xffffffffffffff80ULL);
	op(b, NONE, "xlatb", B(0xd7));
	b->c->state.gs.base = 0x100;
	op(b, NONE, "gs xlatb", B(0x65, 0xd7));
}

static void hp_push_pop_widths(struct dt_builder *b)
{
	op(b, NONE, "push ax", B(0x66, 0x50));
	op(b, NONE, "pop cx", B(0x66, 0x59));
	op(b, NONE, "push 0x1234 (16-bit)", B(0x66, 0x68, 0x34, 0x12));
	op(b, NONE, "push -0x80 (imm8)", B(0x6a, 0x80));
	op(b, NONE, "push qword [r15]", B(0x41, 0xff, 0x37));
	op(b, NONE, "pop qword [rsp+0x8]", B(0x8f, 0x44, 0x24, 0x08));
	op(b, NONE, "pushfw", B(0x66, 0x9c));
	op(b, NONE, "push rsp", B(0x54));
	op(b, NONE, "pop rdx", B(0x5a));
	op(b, NONE, "pop r9w", B(0x66, 0x41, 0x59));
}

static void hp_enter_leave(struct dt_builder *b)
{
	uint64_t frames[4] = { SB_STACK_ADDR + 0x1f00, SB_STACK_ADDR + 0x1e00,
			       SB_STACK_ADDR + 0x1d00, SB_STACK_ADDR + 0x1c00 };

	set_mem(b, SB_STACK_ADDR + 0x1800 - 32, frames, sizeof(frames));
	set_reg(b, X86_RBP, SB_STACK_ADDR + 0x1800);
	set_reg(b, X86_RSP, SB_STACK_ADDR + 0x1000);
	op(b, NONE, "enter 0x10, 3", B(0xc8, 0x10, 0x00, 0x03));
	op(b, NONE, "enter 0x8, 0", B(0xc8, 0x08, 0x00, 0x00));
	op(b, NONE, "leave", B(0xc9));
	op(b, NONE, "enter 0x4, 1 (16-bit)", B(0x66, 0xc8, 0x04, 0x00, 0x01));
	op(b, NONE, "leave", B(0xc9));
}

static void hp_branches(struct dt_builder *b)
{
	uint64_t target;

	op(b, LOGIC, "xor ecx, ecx", B(0x31, 0xc9));
	op(b, NONE, "jz +2", B(0x74, 0x02));
	op(b, NONE, "ud2 (skipped)", B(0x0f, 0x0b));
	op(b, NONE, "mov ecx, 3", B(0xb9, 0x03, 0x00, 0x00, 0x00));
	op(b, NONE, "loop $ (three times)", B(0xe2, 0xfe));
	op(b, NONE, "jrcxz +2", B(0xe3, 0x02));
	op(b, NONE, "ud2 (skipped)", B(0x0f, 0x0b));
	op(b, NONE, "call +0", B(0xe8, 0x00, 0x00, 0x00, 0x00));
	op(b, NONE, "pop rbx", B(0x5b));
	op(b, NONE, "lea rax, [rip+0x4]", B(0x48, 0x8d, 0x05, 0x04, 0x00, 0x00, 0x00));
	op(b, NONE, "jmp rax", B(0xff, 0xe0));
	op(b, NONE, "ud2 (skipped)", B(0x0f, 0x0b));
	target = dt_here(b) + 5 + 3 + 2;
	op(b, NONE, "push target", B(0x68, LE32(target)));
	op(b, NONE, "ret 0x0", B(0xc2, 0x00, 0x00));
	op(b, NONE, "ud2 (skipped)", B(0x0f, 0x0b));
	op(b, ARITH, "cmp rbx, rax (below)", B(0x48, 0x39, 0xc3));
	op(b, NONE, "jb +2", B(0x72, 0x02));
	op(b, NONE, "ud2 (skipped)", B(0x0f, 0x0b));
	op(b, NONE, "jae +2 (not taken)", B(0x73, 0x02));
	op(b, NONE, "nop", B(0x90));
	op(b, NONE, "nop", B(0x90));
}

static void hp_call_indirect(struct dt_builder *b)
{
	/* The target is read before the return address overwrites its slot. */
	uint64_t target = SB_CODE_ADDR + 8;

	set_mem(b, SB_STACK_ADDR + 0x1000 - 8, &target, 8);
	set_reg(b, X86_RSP, SB_STACK_ADDR + 0x1000);
	op(b, NONE, "call [rsp-0x8]", B(0xff, 0x54, 0x24, 0xf8));
	op(b, NONE, "ud2 (skipped)", B(0x0f, 0x0b));
	op(b, NONE, "ud2 (skipped)", B(0x0f, 0x0b));
	op(b, NONE, "nop", B(0x90));
}

/*
 * A near call and return through the stack's fast path (its page already
 * written), as compiled code runs them when the TLB has the page.
 */
static void hp_call_ret(struct dt_builder *b)
{
	set_reg(b, X86_RSP, SB_STACK_ADDR + 0x1000);
	op(b, NONE, "push rax", B(0x50));
	op(b, NONE, "pop rax", B(0x58));
	op(b, NONE, "call +0", B(0xe8, 0x00, 0x00, 0x00, 0x00));
	op(b, NONE, "pop rbx", B(0x5b));
	op(b, NONE, "call +2", B(0xe8, 0x02, 0x00, 0x00, 0x00));
	op(b, NONE, "jmp +4 (after the return)", B(0xeb, 0x04));
	op(b, NONE, "mov eax, [rsp]", B(0x8b, 0x04, 0x24));
	op(b, NONE, "ret", B(0xc3));
	op(b, NONE, "nop", B(0x90));
}

/*
 * Flags at a fault between two instructions that both write them: the
 * first one's must be there (the software CPU may skip storing flags that
 * the next instruction overwrites, never across anything that can fault).
 */
static void hp_flags_at_fault(struct dt_builder *b)
{
	set_reg(b, X86_RAX, 0x7fffffff);
	set_reg(b, X86_RBX, 1);
	set_flags(b, FL_CF | FL_ZF);
	op(b, ARITH, "add eax, ebx (OF, SF, AF, PF)", B(0x01, 0xd8));
	op(b, NONE, "mov [0x122008], ecx (read-only page: #PF)", B(0x89, 0x0c, 0x25, LE32(SB_RO_ADDR + 8)));
	op(b, LOGIC, "xor edx, edx", B(0x31, 0xd2));
}

/* JMP and CALL through registers and memory, with the stack's page already written. */
static void hp_indirect_fast(struct dt_builder *b)
{
	set_reg(b, X86_RSP, SB_STACK_ADDR + 0x1000);
	op(b, NONE, "lea rax, [rip+0x6] (t1)", B(0x48, 0x8d, 0x05, 0x06, 0x00, 0x00, 0x00));
	op(b, NONE, "push rax", B(0x50));
	op(b, NONE, "call [rsp] (to t1)", B(0xff, 0x14, 0x24));
	op(b, NONE, "r1: jmp +3", B(0xeb, 0x03));
	op(b, NONE, "t1: pop rax (r1)", B(0x58));
	op(b, NONE, "jmp rax (to r1)", B(0xff, 0xe0));
	op(b, NONE, "lea rcx, [rip+0x4] (t2)", B(0x48, 0x8d, 0x0d, 0x04, 0x00, 0x00, 0x00));
	op(b, NONE, "call rcx (to t2)", B(0xff, 0xd1));
	op(b, NONE, "r2: jmp +3", B(0xeb, 0x03));
	op(b, NONE, "t2: jmp [rsp] (to r2)", B(0xff, 0x24, 0x24));
	op(b, NONE, "nop", B(0x90));
}

/* LEA's result and address sizes: both cut the address. */
static void hp_lea_widths(struct dt_builder *b)
{
	set_reg(b, X86_RBX, 0x1234567800001000ULL);
	set_reg(b, X86_RCX, 0x0000000180000000ULL);
	op(b, NONE, "lea eax, [rbx+rcx]", B(0x8d, 0x04, 0x0b));
	op(b, NONE, "lea dx, [rbx+rcx*2+0x5]", B(0x66, 0x8d, 0x54, 0x4b, 0x05));
	op(b, NONE, "addr32 lea rsi, [ebx+ecx]", B(0x67, 0x48, 0x8d, 0x34, 0x0b));
	op(b, NONE, "addr32 lea rdi, [ebx-0x2000]", B(0x67, 0x48, 0x8d, 0xbb, LE32(0xffffe000u)));
}

/*
 * Flags read after a memory access: the software CPU rebuilds them from the
 * lazy state of the last arithmetic instruction (SUB, ADD, logic).
 */
static void hp_flags_after_memory(struct dt_builder *b)
{
	set_reg(b, X86_RSP, SB_STACK_ADDR + 0x1000);
	set_reg(b, X86_RAX, 5);
	set_reg(b, X86_RBX, 5);
	op(b, ARITH, "cmp rbx, rax (equal)", B(0x48, 0x39, 0xc3));
	op(b, NONE, "mov rcx, [rsp-0x8]", B(0x48, 0x8b, 0x4c, 0x24, 0xf8));
	op(b, NONE, "sete cl", B(0x0f, 0x94, 0xc1));
	op(b, NONE, "setb ch", B(0x0f, 0x92, 0xc5));
	op(b, ARITH, "add rax, -5 (zero, carry)", B(0x48, 0x83, 0xc0, 0xfb));
	op(b, NONE, "mov [rsp-0x8], rbx", B(0x48, 0x89, 0x5c, 0x24, 0xf8));
	op(b, NONE, "setc dl", B(0x0f, 0x92, 0xc2));
	op(b, NONE, "setz dh", B(0x0f, 0x94, 0xc6));
	op(b, LOGIC, "or ebx, 0x80000000 (negative)", B(0x81, 0xcb, LE32(0x80000000u)));
	op(b, NONE, "mov rsi, [rsp-0x8]", B(0x48, 0x8b, 0x74, 0x24, 0xf8));
	op(b, NONE, "cmovs rdi, rsi", B(0x48, 0x0f, 0x48, 0xfe));
	op(b, ARITH, "sub eax, 1", B(0x83, 0xe8, 0x01));
	op(b, NONE, "mov r8, [rsp-0x8]", B(0x4c, 0x8b, 0x44, 0x24, 0xf8));
	op(b, NONE, "jl +2", B(0x7c, 0x02));
	op(b, NONE, "ud2 (skipped)", B(0x0f, 0x0b));
	op(b, NONE, "nop", B(0x90));
}

/* ---- compatibility mode (32-bit code segment) ---- */

/*
 * On this machine KVM (kvm_pvm) runs 32-bit user code through its instruction
 * emulator, not natively: these cases check the software CPU against that
 * emulator, and only use instructions it implements.
 */
static void compat_begin(struct dt_builder *b)
{
	struct x86_cpu_state *s = &b->c->state;

	b->c->mode = SB_MODE_COMPAT32;
	s->cs = sb_user_code_segment(SB_MODE_COMPAT32);
	/* Upper halves are not visible in compatibility mode. */
	for (unsigned int r = 0; r < X86_NR_GPRS; r++)
		s->gpr[r] &= 0xffffffff;
	s->gpr[X86_RSP] = SB_STACK_ADDR + 0x1000;
	s->gpr[X86_RSI] = SB_DATA_ADDR + 0x100;
}

static void hp_compat_arith(struct dt_builder *b)
{
	compat_begin(b);
	op(b, INCDEC, "inc eax (40: a REX prefix in 64-bit mode)", B(0x40));
	op(b, INCDEC, "dec ebx", B(0x4b));
	op(b, ARITH, "add eax, ebx", B(0x01, 0xd8));
	op(b, NONE, "lea eax, [eax+ebx*8]", B(0x8d, 0x04, 0xd8));
	op(b, ARITH, "add ax, bx", B(0x66, 0x01, 0xd8));
	op(b, MUL, "imul ecx, [esi], 0x1234567", B(0x69, 0x0e, 0x67, 0x45, 0x23, 0x01));
	op(b, NONE, "push eax", B(0x50));
	op(b, NONE, "pop edx", B(0x5a));
	op(b, NONE, "pusha", B(0x60));
	op(b, NONE, "popa", B(0x61));
}

static void hp_compat_bcd(struct dt_builder *b)
{
	/* AAA, AAS and DAA are missing from KVM's emulator (see compat_begin). */
	compat_begin(b);
	set_reg(b, X86_RAX, 0x0f39);
	op(b, DECIMAL_ADJUST, "das", B(0x2f));
	op(b, AAM_AAD, "aam", B(0xd4, 0x0a));
	op(b, AAM_AAD, "aad 0x7", B(0xd5, 0x07));
	op(b, NONE, "salc", B(0xd6));
	/*
	 * This KVM's compat-mode reference (software, not silicon) disagrees
	 * with the SDM on SF after some DAS/AAM/AAD chains: define the flags
	 * before the faulting AAM so its frame compares what both get right.
	 */
	op(b, LOGIC, "test al, al", B(0x84, 0xc0));
	op(b, AAM_AAD, "aam 0 (#DE)", B(0xd4, 0x00));
}

static void hp_compat_segments(struct dt_builder *b)
{
	/*
	 * A 32-bit PUSH of a segment register may write 2 or 4 bytes (SDM Vol. 2B
	 * "PUSH"): zeroed slots make both behaviours leave the same memory.
	 */
	static const uint8_t zeros[8];

	compat_begin(b);
	set_mem(b, SB_STACK_ADDR + 0x1000 - 8, zeros, sizeof(zeros));
	op(b, NONE, "push cs", B(0x0e));
	op(b, NONE, "push ss", B(0x16));
	op(b, NONE, "pop ebx", B(0x5b));
	op(b, NONE, "pop ecx", B(0x59));
	op(b, NONE, "push 0", B(0x6a, 0x00));
	op(b, NONE, "pop es (null: see gen_mov_to_sreg)", B(0x07));
	op(b, NONE, "mov eax, [0x120010]", B(0xa1, LE32(SB_DATA_ADDR + 0x10)));
}

/*
 * A loop of the forms the JIT compiles in flat 32-bit code: memory and
 * register ALU at 8/16/32 bits, ADC, MOVZX, shifts and rotates, LEA,
 * SETcc, CMOVcc, the one-byte DEC and a backward Jcc.
 */
static void hp_compat_loop(struct dt_builder *b)
{
	compat_begin(b);
	set_reg(b, X86_RCX, 5);
	op(b, ARITH, "add eax, [esi]", B(0x03, 0x06));
	op(b, ARITH, "adc edx, ecx", B(0x11, 0xca));
	op(b, NONE, "movzx ebx, byte [esi+0x1]", B(0x0f, 0xb6, 0x5e, 0x01));
	op(b, shift_flags(FX_SHIFT, 4, 3), "shl ebx, 3", B(0xc1, 0xe3, 0x03));
	op(b, LOGIC, "xor [esi+0x4], ebx", B(0x31, 0x5e, 0x04));
	op(b, ARITH, "sub ax, 0x1234", B(0x66, 0x2d, 0x34, 0x12));
	op(b, ARITH, "add bh, [esi+0x8]", B(0x02, 0x7e, 0x08));
	op(b, NONE, "lea edi, [eax+ecx*4+0x10]", B(0x8d, 0x7c, 0x88, 0x10));
	op(b, shift_flags(FX_ROT, 4, 7), "ror edi, 7", B(0xc1, 0xcf, 0x07));
	op(b, ARITH, "cmp edi, eax", B(0x39, 0xc7));
	op(b, NONE, "setb bl", B(0x0f, 0x92, 0xc3));
	op(b, NONE, "cmovl eax, edi", B(0x0f, 0x4c, 0xc7));
	op(b, INCDEC, "dec ecx", B(0x49));
	op(b, NONE, "jnz -0x27 (five times)", B(0x75, 0xd9));
}

/*
 * Loading a null ES ends the flat segments compiled 32-bit code assumes
 * (the load ends the block, as every mode change does): the next ES
 * access must raise #GP as the descriptor says.
 */
static void hp_compat_null_es(struct dt_builder *b)
{
	compat_begin(b);
	set_reg(b, X86_RDI, SB_DATA_ADDR + 0x40);
	op(b, NONE, "push 0", B(0x6a, 0x00));
	op(b, NONE, "pop es (null)", B(0x07));
	op(b, NONE, "mov [es:edi], eax (#GP)", B(0x26, 0x89, 0x07));
}

static void hp_compat_page_fault(struct dt_builder *b)
{
	compat_begin(b);
	op(b, NONE, "mov [0x122004], eax", B(0xa3, LE32(SB_RO_ADDR + 4)));
}

static void hp_compat_string(struct dt_builder *b)
{
	compat_begin(b);
	set_reg(b, X86_RDI, SB_DATA_ADDR + 0x200);
	set_reg(b, X86_RCX, 5);
	op(b, NONE, "rep movsd", B(0xf3, 0xa5));
	op(b, NONE, "std", B(0xfd));
	op(b, NONE, "lodsw", B(0x66, 0xad));
}

struct handpicked {
	const char *name;
	void (*build)(struct dt_builder *b);
	uint32_t features;	/* 1 << enum cpu_feature, all needed */
};

#define NEEDS(f) (1u << (f))

static const struct handpicked cases[] = {
	{ "shift/by-zero-keeps-flags", hp_shift_by_zero },
	{ "shift/by-zero-keeps-clear-flags", hp_shift_by_zero_clear },
	{ "shift/by-one", hp_shift_by_one },
	{ "shift/count-at-and-beyond-width", hp_shift_large_counts },
	{ "shift/rotate-counts", hp_rotate_counts },
	{ "shift/shld-shrd", hp_double_shifts },
	{ "div/overflow", hp_div_overflow },
	{ "div/by-zero", hp_div_by_zero },
	{ "div/idiv-int64-min-by-minus-one", hp_idiv_int64_min },
	{ "div/idiv-int32-min-by-minus-one", hp_idiv_int32_min },
	{ "div/idiv-int8-min-by-minus-one", hp_idiv_int8_min },
	{ "div/idiv-signs", hp_idiv_signs },
	{ "div/widths", hp_div_widths },
	{ "string/rep-movs-into-read-only", hp_rep_movs_into_readonly },
	{ "string/rep-movs-from-not-present", hp_rep_movs_from_not_present },
	{ "string/rep-stos-down-into-guard", hp_rep_stos_down_into_guard },
	{ "string/rep-stos-element-straddles-fault", hp_rep_stos_straddling_element },
	{ "string/repe-cmps-stops-at-difference", hp_repe_cmps },
	{ "string/repne-scas-finds", hp_repne_scas },
	{ "string/rep-count-zero", hp_rep_count_zero },
	{ "string/no-rep-both-directions", hp_string_no_rep_both_directions },
	{ "string/rep-addr32", hp_rep_addr32 },
	{ "memory/misaligned", hp_misaligned },
	{ "memory/locked-split", hp_locked_split },
	{ "memory/write-straddling-read-only", hp_write_straddling_readonly },
	{ "memory/fs-gs-base", hp_fs_gs_base },
	{ "memory/fs-base-wraps", hp_fs_base_wraps },
	{ "memory/null-fs-selector", hp_load_null_fs },
	{ "memory/segment-registers", hp_segment_registers },
	{ "memory/load-kernel-selector", hp_load_kernel_selector },
	{ "memory/load-null-ss", hp_load_null_ss },
	{ "memory/addr32-wraps", hp_addr32_wrap },
	{ "memory/lea-forms", hp_lea_forms },
	{ "memory/rip-relative", hp_rip_relative },
	{ "memory/non-canonical", hp_non_canonical },
	{ "memory/non-canonical-stack", hp_non_canonical_stack },
	{ "memory/stack-page-fault", hp_stack_page_fault },
	{ "memory/alignment-check", hp_alignment_check },
	{ "memory/alignment-check-stack", hp_alignment_check_stack },
	{ "pf/write-read-only", hp_pf_write_readonly },
	{ "pf/read-not-present", hp_pf_read_not_present },
	{ "pf/read-supervisor", hp_pf_read_supervisor },
	{ "pf/write-supervisor", hp_pf_write_supervisor },
	{ "pf/fetch-nx", hp_pf_fetch_nx },
	{ "pf/fetch-not-present", hp_pf_fetch_not_present },
	{ "pf/fetch-supervisor", hp_pf_fetch_supervisor },
	{ "pf/fetch-straddling-nx", hp_pf_fetch_straddling_nx },
	{ "ud/ud2", hp_ud_ud2 },
	{ "ud/ud1", hp_ud_ud1 },
	{ "ud/ud0", hp_ud_ud0 },
	{ "ud/opcode-82", hp_ud_82 },
	{ "ud/aaa", hp_ud_aaa },
	{ "ud/daa", hp_ud_daa },
	{ "ud/into", hp_ud_into },
	{ "ud/push-es", hp_ud_push_es },
	{ "ud/pop-ds", hp_ud_pop_ds },
	{ "ud/pusha", hp_ud_pusha },
	{ "ud/salc", hp_ud_salc },
	{ "ud/far-call", hp_ud_far_call },
	{ "ud/lock-nop", hp_ud_lock_nop },
	{ "ud/lock-register", hp_ud_lock_reg },
	{ "ud/lock-mov", hp_ud_lock_mov },
	{ "ud/lock-cmp", hp_ud_lock_cmp },
	{ "ud/cmpxchg8b-register", hp_ud_cmpxchg8b_reg },
	{ "ud/lea-register", hp_ud_lea_reg },
	{ "ud/mov-cs", hp_ud_mov_cs },
	{ "gp/hlt", hp_gp_hlt },
	{ "gp/cli", hp_gp_cli },
	{ "gp/sti", hp_gp_sti },
	{ "gp/mov-from-cr0", hp_gp_mov_from_cr0 },
	{ "gp/mov-to-cr3", hp_gp_mov_to_cr3 },
	{ "gp/mov-dr7", hp_gp_mov_dr7 },
	{ "gp/rdmsr", hp_gp_rdmsr },
	{ "gp/wrmsr", hp_gp_wrmsr },
	{ "gp/in-closed-port", hp_gp_in },
	{ "gp/out-closed-port", hp_gp_out },
	{ "gp/lgdt", hp_gp_lgdt },
	{ "gp/invlpg", hp_gp_invlpg },
	{ "gp/wbinvd", hp_gp_wbinvd },
	{ "gp/clts", hp_gp_clts },
	{ "gp/swapgs", hp_gp_swapgs },
	{ "gp/sysret", hp_gp_sysret },
	{ "gp/rdpmc", hp_gp_rdpmc },
	{ "gp/smsw-umip", hp_gp_smsw },
	{ "gp/sgdt-umip", hp_gp_sgdt },
	{ "gp/str-umip", hp_gp_str },
	{ "gp/too-long", hp_too_long },
	{ "io/in-open-port", hp_in_allowed_port },
	{ "trap/int3", hp_int3 },
	{ "trap/int-3", hp_int_3 },
	{ "trap/icebp", hp_icebp },
	{ "trap/single-step", hp_trap_flag },
	{ "trap/popf-sets-tf", hp_popf_sets_tf },
	{ "trap/mov-ss-delays-single-step", hp_mov_ss_blocks_trap },
	{ "flags/popf-bits", hp_popf_bits },
	{ "decode/rex-before-prefix", hp_rex_before_prefix },
	{ "decode/long-nops", hp_long_nops },
	{ "regs/zero-extension", hp_zero_extension },
	{ "bits/scan-zero-source", hp_bit_scan_zero },
	{ "bits/scan", hp_bit_scan },
	{ "bits/lzcnt-tzcnt", hp_lzcnt_tzcnt, NEEDS(FEAT_LZCNT) | NEEDS(FEAT_BMI1) },
	{ "bits/popcnt", hp_popcnt, NEEDS(FEAT_POPCNT) },
	{ "bits/bit-string", hp_bit_string },
	{ "atomic/cmpxchg", hp_cmpxchg },
	{ "atomic/cmpxchg8b", hp_cmpxchg8b },
	{ "atomic/cmpxchg16b", hp_cmpxchg16b, NEEDS(FEAT_CX16) },
	{ "atomic/xadd-xchg", hp_xadd_xchg },
	{ "arith/mul-imul-forms", hp_mul_forms },
	{ "arith/neg-inc-dec", hp_neg_inc_dec },
	{ "arith/carry-chains", hp_carry_chains },
	{ "arith/adcx-adox", hp_adcx_adox, NEEDS(FEAT_ADX) },
	{ "arith/crc32", hp_crc32, NEEDS(FEAT_SSE42) },
	{ "move/movbe", hp_movbe, NEEDS(FEAT_MOVBE) },
	{ "move/extensions", hp_extensions },
	{ "flags/sahf-lahf", hp_sahf_lahf, NEEDS(FEAT_LAHF64) },
	{ "move/xlat", hp_xlat },
	{ "stack/push-pop-widths", hp_push_pop_widths },
	{ "stack/enter-leave", hp_enter_leave },
	{ "branch/mix", hp_branches },
	{ "branch/call-indirect", hp_call_indirect },
	{ "branch/call-ret", hp_call_ret },
	{ "branch/indirect", hp_indirect_fast },
	{ "move/lea-widths", hp_lea_widths },
	{ "flags/after-memory", hp_flags_after_memory },
	{ "flags/at-fault", hp_flags_at_fault },
	{ "compat/arith", hp_compat_arith },
	{ "compat/bcd", hp_compat_bcd },
	{ "compat/segments", hp_compat_segments },
	{ "compat/jit-loop", hp_compat_loop },
	{ "compat/null-es", hp_compat_null_es },
	{ "compat/page-fault", hp_compat_page_fault },
	{ "compat/string", hp_compat_string },
};

unsigned int handpicked_count(void)
{
	return G_N_ELEMENTS(cases);
}

const char *handpicked_name(unsigned int index)
{
	return index < G_N_ELEMENTS(cases) ? cases[index].name : NULL;
}

bool handpicked_build(unsigned int index, struct dt_case *c, const uint8_t *base_pages,
		      uint64_t seed, uint32_t features)
{
	const struct handpicked *hp = &cases[index];
	struct dt_builder b;
	struct rng rng;

	if ((hp->features & features) != hp->features)
		return false;
	rng_init_case(&rng, seed, index, 1);
	dt_begin(&b, c, base_pages, &rng, hp->name);
	/* Random state, but no surprise #DB or #AC unless the case asks. */
	c->state.rflags &= ~(uint64_t)(FL_TF | FL_AC);
	hp->build(&b);
	dt_finish(&b);
	return true;
}
