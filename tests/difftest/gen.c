/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test cases: the builder shared with the hand-picked cases, and the random
 * generator driven by insn_table.c.
 *
 * The generator keeps every memory operand inside the sandbox pages by
 * addressing through registers it never writes (R15 = a data pointer, R14 =
 * a small index, RSP while it is known) and by computing displacements for
 * the target it picked.  A few targets are chosen to fault: the read-only,
 * not-present and supervisor pages, and accesses straddling into them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"
#include "gen_simd.h"

#define GPR_BIT(reg)	(1u << ((reg) >= REG_AH ? (reg) - REG_AH : (reg)))
#define RESERVED_GPRS	(GPR_BIT(X86_RSP) | GPR_BIT(DT_REG_DATA_BASE) | GPR_BIT(DT_REG_DATA_INDEX))
/* Room kept after the snippet for the final OUT. */
#define CODE_LIMIT	(SB_CODE_SIZE - 16)

#define SEG_ES 0
#define SEG_CS 1
#define SEG_SS 2
#define SEG_DS 3
#define SEG_FS 4
#define SEG_GS 5

uint32_t dt_case_undefined_flags(const struct dt_case *c, uint64_t user_rip)
{
	uint32_t undefined = 0;

	for (unsigned int i = 0; i < c->nr_insns; i++) {
		const struct dt_insn *insn = &c->insns[i];

		if (SB_CODE_ADDR + insn->offset + insn->length > user_rip)
			break;
		undefined = (undefined & ~insn->flags.defined) | insn->flags.undefined;
	}
	return undefined;
}

int dt_case_insn_at(const struct dt_case *c, uint64_t rip)
{
	for (unsigned int i = 0; i < c->nr_insns; i++) {
		uint64_t start = SB_CODE_ADDR + c->insns[i].offset;

		if (rip >= start && rip < start + c->insns[i].length)
			return (int)i;
	}
	return -1;
}

/* A register or immediate value: edge values more often than not. */
static uint64_t gen_interesting_value(struct rng *rng)
{
	unsigned int bits = 8u << rng_below(rng, 4);	/* 8, 16, 32, 64 */

	switch (rng_below(rng, 12)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return ~0ULL;
	case 3:
		return rng_below(rng, 256);
	case 4:
		return (uint64_t)-(int64_t)(rng_below(rng, 16) + 1);
	case 5:	/* the sign bit of some width, maybe minus one */
		return (1ULL << (bits - 1)) - rng_below(rng, 2);
	case 6:	/* all ones in some width */
		return bits == 64 ? ~0ULL : (1ULL << bits) - 1;
	case 7:
		return 1ULL << rng_below(rng, 64);
	default:
		return rng_next(rng);
	}
}

static uint64_t pick_segment_base(struct rng *rng)
{
	static const int64_t bases[] = { 0, 0, 0, 0x40, 0x1000, -0x40, -0x1000, 0x123 };

	if (rng_percent(rng, 20))
		return (uint64_t)((int64_t)rng_below(rng, 0x10000) - 0x8000);
	return (uint64_t)bases[rng_below(rng, G_N_ELEMENTS(bases))];
}

static void fill_random(uint8_t *pages, struct rng *rng, uint64_t addr, uint64_t size)
{
	uint64_t words[SB_PAGE_SIZE / 8];

	for (uint64_t page = addr; page < addr + size; page += SB_PAGE_SIZE) {
		for (unsigned int i = 0; i < G_N_ELEMENTS(words); i++)
			words[i] = rng_next(rng);
		sb_write(pages, page, words, sizeof(words));
	}
}

void dt_begin(struct dt_builder *b, struct dt_case *c, const uint8_t *base_pages,
	      struct rng *rng, const char *name)
{
	struct x86_cpu_state *s = &c->state;

	memset(b, 0, sizeof(*b));
	b->c = c;
	b->rng = rng;
	g_strlcpy(c->name, name, sizeof(c->name));
	c->mode = SB_MODE_LONG64;
	c->code_length = 0;
	c->nr_insns = 0;
	memcpy(c->pages, base_pages, sizeof(c->pages));
	fill_random(c->pages, rng, SB_DATA_ADDR, SB_DATA_AREA_SIZE);
	fill_random(c->pages, rng, SB_STACK_ADDR, SB_STACK_SIZE);
	fill_random(c->pages, rng, SB_NX_ADDR, SB_PAGE_SIZE);

	sb_initial_state(s, SB_MODE_LONG64);
	for (unsigned int r = 0; r < X86_NR_GPRS; r++)
		s->gpr[r] = gen_interesting_value(rng);
	b->data_base = SB_DATA_ADDR + rng_below(rng, SB_DATA_SIZE);
	b->data_index = rng_below(rng, 0x100);
	s->gpr[DT_REG_DATA_BASE] = b->data_base;
	s->gpr[DT_REG_DATA_INDEX] = b->data_index;
	b->rsp = SB_STACK_ADDR + 0x1000 - 8 * rng_below(rng, 32);
	if (rng_percent(rng, 10))
		b->rsp -= rng_below(rng, 8);	/* a misaligned stack */
	b->rsp_known = true;
	s->gpr[X86_RSP] = b->rsp;

	s->rflags |= rng_next(rng) & FL_STATUS;
	b->df = rng_percent(rng, 30);
	if (b->df)
		s->rflags |= FL_DF;
	if (rng_percent(rng, 50))
		s->rflags |= FL_ID;
	if (rng_percent(rng, 3))
		s->rflags |= FL_AC;	/* alignment checks: CR0.AM is set */
	if (rng_percent(rng, 1))
		s->rflags |= FL_TF;	/* #DB after the first instruction */

	s->fs.base = b->seg_base[SEG_FS] = pick_segment_base(rng);
	s->gs.base = b->seg_base[SEG_GS] = pick_segment_base(rng);
	s->cr2 = rng_next(rng) & 0x00007fffffffffffULL;
	s->msr.kernel_gs_base = rng_next(rng) & 0x00007fffffffffffULL;
	for (unsigned int i = 0; i < 16; i++)
		for (unsigned int j = 0; j < 16; j += 8) {
			uint64_t value = rng_next(rng);

			memcpy(&s->fpu.xmm[i][j], &value, 8);
		}
}

static bool append(struct dt_builder *b, const uint8_t *bytes, size_t length,
		   struct flags_effect flags, const char *text, bool final)
{
	struct dt_case *c = b->c;

	if (!final && (c->code_length + length > CODE_LIMIT || c->nr_insns >= DT_MAX_INSNS - 1)) {
		b->overflow = true;
		return false;
	}
	struct dt_insn *insn = &c->insns[c->nr_insns++];

	sb_write(c->pages, SB_CODE_ADDR + c->code_length, bytes, length);
	insn->offset = (uint16_t)c->code_length;
	insn->length = (uint8_t)length;
	insn->flags = flags;
	g_strlcpy(insn->text, text, sizeof(insn->text));
	c->code_length += length;
	b->undefined = (b->undefined & ~flags.defined) | flags.undefined;
	return true;
}

bool dt_emit_bytes(struct dt_builder *b, const uint8_t *bytes, size_t length,
		   struct flags_effect flags, const char *text)
{
	if (b->overflow)
		return false;
	return append(b, bytes, length, flags, text, false);
}

void dt_place_bytes(struct dt_builder *b, uint64_t addr, const uint8_t *bytes, size_t length,
		    const char *text)
{
	struct dt_case *c = b->c;

	g_assert(addr >= SB_CODE_ADDR && addr + length <= SB_CODE_ADDR + SB_CODE_SIZE + 8);
	if (c->nr_insns >= DT_MAX_INSNS - 1)
		return;
	struct dt_insn *insn = &c->insns[c->nr_insns++];

	/* Bytes past the code pages land in the NX page, which is a sandbox page too. */
	sb_write(c->pages, addr, bytes, length);
	insn->offset = (uint16_t)(addr - SB_CODE_ADDR);
	insn->length = (uint8_t)length;
	insn->flags = (struct flags_effect){ 0, 0 };
	g_strlcpy(insn->text, text, sizeof(insn->text));
}

uint64_t dt_here(const struct dt_builder *b)
{
	return SB_CODE_ADDR + b->c->code_length;
}

bool dt_emit(struct dt_builder *b, const struct insn *insn, struct flags_effect flags,
	     uint32_t gpr_writes, const char *fmt, ...)
{
	uint8_t bytes[INSN_MAX_LENGTH + 1];
	char text[96];
	va_list ap;

	if (b->overflow)
		return false;
	size_t length = insn_encode(insn, SB_CODE_ADDR + b->c->code_length, bytes);

	va_start(ap, fmt);
	g_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Every form the generator builds is encodable: anything else is a bug here. */
	if (length == 0)
		g_error("difftest: cannot encode \"%s\"", text);
	if (!append(b, bytes, length, flags, text, false))
		return false;
	if (gpr_writes & GPR_BIT(X86_RSP))
		b->rsp_known = false;
	if (gpr_writes & GPR_BIT(X86_RBP))
		b->rbp_known = false;
	return true;
}

void dt_finish(struct dt_builder *b)
{
	static const uint8_t out_end[] = { 0xe6, SB_PORT_END };

	append(b, out_end, sizeof(out_end), (struct flags_effect){ 0, 0 }, "out 0xe9, al", true);
}

static const struct flags_effect no_flags;

bool dt_emit_mov_imm(struct dt_builder *b, unsigned int reg, uint64_t value)
{
	struct insn in = { .opcode_reg = -1 };

	if (value <= 0xffffffffULL) {
		/* mov r32, imm32 zero-extends (SDM Vol. 1 §3.4.1.1). */
		in.opcode[0] = 0xb8;
		in.opcode_len = 1;
		in.opcode_reg = (int8_t)reg;
		in.imm = value;
		in.imm_size = 4;
		return dt_emit(b, &in, no_flags, GPR_BIT(reg), "mov %s, 0x%" G_GINT64_MODIFIER "x",
			       reg_name(reg, 4), value);
	}
	in.rex_w = true;
	if ((int64_t)value >= INT32_MIN && (int64_t)value <= INT32_MAX) {
		in.opcode[0] = 0xc7;
		in.opcode_len = 1;
		in.has_modrm = true;
		in.digit = true;
		in.rm = (struct operand){ .kind = OPND_REG, .reg = (uint8_t)reg };
		in.imm = value;
		in.imm_size = 4;
	} else {
		in.opcode[0] = 0xb8;
		in.opcode_len = 1;
		in.opcode_reg = (int8_t)reg;
		in.imm = value;
		in.imm_size = 8;
	}
	return dt_emit(b, &in, no_flags, GPR_BIT(reg), "mov %s, 0x%" G_GINT64_MODIFIER "x",
		       reg_name(reg, 8), value);
}

/* ---- the random generator ---- */

struct gen {
	struct dt_builder b;
	struct rng *rng;
};

static unsigned int pick_size(struct rng *rng, unsigned int sizes)
{
	unsigned int choices[4], n = 0;

	for (unsigned int i = 0; i < 4; i++)
		if (sizes & (1u << i))
			choices[n++] = 1u << i;
	return choices[rng_below(rng, n)];
}

/*
 * A register operand.  Writable registers exclude RSP and the data pointers.
 * no_rex: the instruction uses AH..BH, so no operand may need REX: byte
 * registers come from AL..BL, AH..BH, others from the first eight.
 */
static unsigned int pick_reg(struct gen *g, unsigned int size, bool writable, bool no_rex)
{
	if (size == 1 && no_rex) {
		static const uint8_t legacy[] = { 0, 1, 2, 3, REG_AH, REG_CH, REG_DH, REG_BH };

		return legacy[rng_below(g->rng, G_N_ELEMENTS(legacy))];
	}
	for (;;) {
		unsigned int reg = (unsigned int)rng_below(g->rng, no_rex ? 8 : 16);

		if (writable && (GPR_BIT(reg) & RESERVED_GPRS))
			continue;
		return reg;
	}
}

static uint64_t align_down(uint64_t value, unsigned int size)
{
	return size & (size - 1) ? value : value & ~(uint64_t)(size - 1);
}

/* A linear address for an access of size bytes; mostly good, sometimes faulting. */
static uint64_t pick_data_target(struct gen *g, unsigned int size, bool edges_ok)
{
	struct rng *rng = g->rng;
	unsigned int r = (unsigned int)rng_below(rng, 1000);
	uint64_t straddle = size > 1 ? 1 + rng_below(rng, size - 1) : 0;

	if (r < 920 || !edges_ok) {
		uint64_t offset = rng_below(rng, SB_DATA_SIZE - size + 1);

		if (rng_percent(rng, 50))
			offset = align_down(offset, size);
		return SB_DATA_ADDR + offset;
	}
	if (r < 945 && straddle)
		return SB_DATA_ADDR + 0x1000 - straddle;	/* crosses between the two data pages */
	if (r < 965)
		return SB_RO_ADDR + rng_below(rng, SB_PAGE_SIZE - size + 1);
	if (r < 972 && straddle)
		return SB_RO_ADDR - straddle;			/* read/write into read-only */
	if (r < 980)
		return SB_NP_ADDR + rng_below(rng, SB_PAGE_SIZE - size + 1);
	if (r < 986)
		return SB_DATA_ADDR - (straddle ? straddle : 1);	/* from the guard page */
	if (r < 992)
		return SB_SUPER_ADDR + rng_below(rng, SB_PAGE_SIZE - size + 1);
	if (rng_percent(rng, 50))
		return SB_NX_ADDR + rng_below(rng, SB_PAGE_SIZE - size + 1);	/* data in an NX page */
	return SB_CODE_ADDR + rng_below(rng, SB_PAGE_SIZE - size + 1);
}

static bool fits_int8(int64_t value)
{
	return value >= -128 && value <= 127;
}

static bool fits_int32(int64_t value)
{
	return value >= INT32_MIN && value <= INT32_MAX;
}

static void set_disp(struct gen *g, struct mem_operand *m, int64_t disp)
{
	m->disp = (int32_t)disp;
	if (disp == 0 && rng_percent(g->rng, 60))
		m->disp_size = 0;
	else if (fits_int8(disp) && rng_percent(g->rng, 85))
		m->disp_size = 1;
	else
		m->disp_size = 4;
}

/*
 * A memory operand of size bytes that reaches target (or a stack slot when
 * the form picks RSP as base).  Returns false if no encoding reaches it.
 */
static bool pick_mem(struct gen *g, struct mem_operand *m, unsigned int size, bool edges_ok,
		     unsigned int align)
{
	struct dt_builder *b = &g->b;
	struct rng *rng = g->rng;
	uint64_t target = pick_data_target(g, size, edges_ok) & ~(uint64_t)(align - 1);
	uint64_t seg_base = 0;
	unsigned int form = (unsigned int)rng_below(rng, 100);
	static const uint8_t null_overrides[] = { 0x26, 0x2e, 0x36, 0x3e };

	memset(m, 0, sizeof(*m));
	m->base = MEM_NO_BASE;
	m->index = MEM_NO_INDEX;
	m->scale = 1;

	unsigned int seg = (unsigned int)rng_below(rng, 100);

	if (seg < 12) {
		m->segment = 0x64;
		seg_base = b->seg_base[SEG_FS];
	} else if (seg < 24) {
		m->segment = 0x65;
		seg_base = b->seg_base[SEG_GS];
	} else if (seg < 28) {
		/* CS/DS/ES/SS overrides are ignored in 64-bit mode (SDM Vol. 1 §3.3.7.1). */
		m->segment = null_overrides[rng_below(rng, G_N_ELEMENTS(null_overrides))];
	}

	if (form < 10 && b->rsp_known) {
		/* A stack slot near RSP: the SIB form with base RSP. */
		int64_t offset = (int64_t)rng_below(rng, 512) - 128;
		uint64_t slot = b->rsp + (uint64_t)offset;

		if (slot < SB_STACK_ADDR || slot + size > SB_STACK_ADDR + SB_STACK_SIZE)
			slot = SB_STACK_ADDR + 0x800;
		slot &= ~(uint64_t)(align - 1);
		m->base = X86_RSP;
		set_disp(g, m, (int64_t)(slot - seg_base - b->rsp));
		return true;
	}
	if (form < 14 && b->rbp_known) {
		uint64_t slot = (SB_STACK_ADDR + rng_below(rng, SB_STACK_SIZE - size + 1)) &
				~(uint64_t)(align - 1);

		m->base = X86_RBP;
		set_disp(g, m, (int64_t)(slot - seg_base - b->rbp));
		return fits_int32(m->disp) && m->disp == (int64_t)(slot - seg_base - b->rbp);
	}

	uint64_t ea = target - seg_base;

	if (form < 60) {
		m->base = DT_REG_DATA_BASE;
		int64_t disp = (int64_t)(ea - b->data_base);

		if (rng_percent(rng, 30)) {
			m->index = DT_REG_DATA_INDEX;
			m->scale = (uint8_t)(1u << rng_below(rng, 4));
			disp -= (int64_t)(b->data_index * m->scale);
		}
		set_disp(g, m, disp);
		if (seg_base == 0 && rng_percent(rng, 5))
			m->addr32 = true;
		return fits_int32(disp);
	}
	if (form < 70) {
		/* Index without base: SIB base=101, mod=00, disp32. */
		m->index = DT_REG_DATA_INDEX;
		m->scale = (uint8_t)(1u << rng_below(rng, 4));
		int64_t disp = (int64_t)(ea - b->data_index * m->scale);

		m->disp = (int32_t)disp;
		m->disp_size = 4;
		return fits_int32(disp);
	}
	if (form < 80) {
		m->disp = (int32_t)ea;
		m->disp_size = 4;
		return fits_int32((int64_t)ea);
	}
	m->base = MEM_RIP;
	m->rip_target = ea;
	m->disp_size = 4;
	if (seg_base == 0 && rng_percent(rng, 5))
		m->addr32 = true;
	return true;
}

bool dt_pick_mem(struct dt_builder *b, struct mem_operand *m, unsigned int size, bool edges_ok,
		 unsigned int align)
{
	struct gen g = { .b = *b, .rng = b->rng };

	return pick_mem(&g, m, size, edges_ok, align);
}

/* The immediate of imm_size bytes, biased towards edge values. */
static uint64_t pick_imm(struct gen *g, unsigned int imm_size)
{
	uint64_t value = gen_interesting_value(g->rng);

	return imm_size == 8 ? value : value & ((1ULL << (8 * imm_size)) - 1);
}

/* A shift count worth testing: 0, 1, the width boundaries, and beyond. */
static uint8_t pick_count(struct gen *g)
{
	static const uint8_t counts[] = { 0, 1, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };

	if (rng_percent(g->rng, 25))
		return (uint8_t)rng_next(g->rng);
	return counts[rng_below(g->rng, G_N_ELEMENTS(counts))];
}

static const char *imm_text(char *buf, size_t len, uint64_t value)
{
	g_snprintf(buf, len, "0x%" G_GINT64_MODIFIER "x", value);
	return buf;
}

/* Makes sure the flags an instruction reads are defined: CMP defines all six. */
static void define_flags(struct gen *g, uint32_t reads)
{
	if (!(g->b.undefined & reads))
		return;
	unsigned int size = pick_size(g->rng, SZ_WDQ);
	unsigned int r1 = pick_reg(g, size, false, false), r2 = pick_reg(g, size, false, false);
	struct insn in = {
		.opcode = { 0x39 }, .opcode_len = 1, .has_modrm = true, .modrm_reg = (uint8_t)r2,
		.rm = { .kind = OPND_REG, .reg = (uint8_t)r1 }, .opcode_reg = -1,
		.opsize = size == 2, .rex_w = size == 8,
	};

	dt_emit(&g->b, &in, (struct flags_effect){ FL_STATUS, 0 }, 0, "cmp %s, %s",
		reg_name(r1, size), reg_name(r2, size));
}

static void emit_lea(struct gen *g, unsigned int reg, uint64_t target)
{
	struct dt_builder *b = &g->b;
	struct insn in = {
		.opcode = { 0x8d }, .opcode_len = 1, .has_modrm = true, .modrm_reg = (uint8_t)reg,
		.rex_w = true, .opcode_reg = -1,
		.rm = { .kind = OPND_MEM, .mem = { .base = DT_REG_DATA_BASE, .index = MEM_NO_INDEX,
						   .scale = 1 } },
	};
	char text[64];

	set_disp(g, &in.rm.mem, (int64_t)(target - b->data_base));
	format_mem(text, sizeof(text), &in.rm.mem, 0);
	dt_emit(b, &in, no_flags, GPR_BIT(reg), "lea %s, %s", reg_name(reg, 8), text);
}

static void emit_simple(struct gen *g, const uint8_t *bytes, size_t length, uint32_t defined,
			const char *text)
{
	dt_emit_bytes(&g->b, bytes, length, (struct flags_effect){ defined, 0 }, text);
}

static const char *size_suffix(unsigned int size)
{
	return size == 1 ? "b" : size == 2 ? "w" : size == 4 ? "d" : "q";
}

static void gen_string(struct gen *g, const struct insn_form *f)
{
	struct dt_builder *b = &g->b;
	struct rng *rng = g->rng;
	unsigned int size = pick_size(rng, f->sizes);
	bool reads_src = f->opcode8 == 0xa4 || f->opcode8 == 0xac || f->opcode8 == 0xa6;
	bool uses_dst = f->opcode8 != 0xac;
	bool writes_dst = f->opcode8 == 0xa4 || f->opcode8 == 0xaa;
	uint8_t rep = 0;
	uint64_t count = 1;
	uint8_t segment = 0;
	uint64_t seg_base = 0;
	static const uint8_t counts[] = { 0, 1, 2, 3, 4, 5, 7, 8, 16 };

	if ((f->attrs & A_REPNE) && rng_percent(rng, 25))
		rep = 0xf2;
	else if (rng_percent(rng, 65))
		rep = 0xf3;
	if (rep)
		count = counts[rng_below(rng, G_N_ELEMENTS(counts))];
	if (rng_percent(rng, 40)) {
		static const uint8_t cld[] = { 0xfc }, std[] = { 0xfd };

		b->df = rng_percent(rng, 50);
		emit_simple(g, b->df ? std : cld, 1, 0, b->df ? "std" : "cld");
	}
	if (reads_src && rng_percent(rng, 12)) {
		bool fs = rng_percent(rng, 50);

		segment = fs ? 0x64 : 0x65;
		seg_base = b->seg_base[fs ? SEG_FS : SEG_GS];
	}

	/*
	 * The elements walked: upwards from the first with DF=0, downwards with
	 * DF=1, so the first element is the lowest or the highest of the span.
	 */
	uint64_t span = count * size;
	uint64_t top = span ? span - size : 0;
	uint64_t src_low = SB_DATA_ADDR + rng_below(rng, SB_DATA_SIZE + SB_PAGE_SIZE - span + 1);
	uint64_t src = b->df ? src_low + top : src_low;	/* the read-only page is readable */
	uint64_t dst;

	if (writes_dst && rng_percent(rng, 15)) {
		/*
		 * Fault after k elements: into the read-only page going up, into
		 * the guard page going down.  RCX, RSI and RDI then tell how far
		 * the instruction got (SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ").
		 */
		uint64_t k = rng_below(rng, count + 1);

		dst = b->df ? SB_DATA_ADDR + size * k - size : SB_RO_ADDR - size * k;
	} else {
		uint64_t dst_low = SB_DATA_ADDR + rng_below(rng, SB_DATA_SIZE - span + 1);

		dst = b->df ? dst_low + top : dst_low;
	}

	if (reads_src)
		emit_lea(g, X86_RSI, src - seg_base);
	if (uses_dst)
		emit_lea(g, X86_RDI, dst);
	if (rep)
		dt_emit_mov_imm(b, X86_RCX, count);

	struct insn in = { .opcode_reg = -1, .rep = rep, .segment = segment };

	in.opcode[0] = size == 1 ? f->opcode8 : f->opcode[0];
	in.opcode_len = 1;
	in.opsize = size == 2;
	in.rex_w = size == 8;
	if (rng_percent(rng, 4))
		in.addr32 = true;	/* ESI/EDI/ECX: the pointers are below 4 GiB anyway */

	struct flags_effect flags = { 0, 0 };

	if (f->flags == FX_ARITH && count > 0)
		flags.defined = FL_STATUS;
	dt_emit(b, &in, flags, f->implicit_writes, "%s%s%s%s%s", in.addr32 ? "addr32 " : "",
		rep == 0xf2 ? "repne " : rep ? (f->attrs & A_REPNE ? "repe " : "rep ") : "",
		segment == 0x64 ? "fs " : segment == 0x65 ? "gs " : "", f->mnemonic,
		size_suffix(size));
}

static void gen_xlat(struct gen *g)
{
	struct dt_builder *b = &g->b;
	uint64_t table = SB_DATA_ADDR + rng_below(g->rng, SB_DATA_SIZE - 256);
	struct insn in = { .opcode = { 0xd7 }, .opcode_len = 1, .opcode_reg = -1 };
	uint64_t seg_base = 0;

	if (rng_percent(g->rng, 15)) {
		in.segment = rng_percent(g->rng, 50) ? 0x64 : 0x65;
		seg_base = b->seg_base[in.segment == 0x64 ? SEG_FS : SEG_GS];
	}
	emit_lea(g, X86_RBX, table - seg_base);
	dt_emit(b, &in, no_flags, GPR_BIT(X86_RAX), "%sxlatb",
		in.segment == 0x64 ? "fs " : in.segment == 0x65 ? "gs " : "");
}

static uint64_t gen_push_flags_value(struct gen *g, unsigned int size)
{
	struct dt_builder *b = &g->b;
	struct rng *rng = g->rng;
	uint64_t value = X86_RFLAGS_FIXED | (rng_next(rng) & (FL_STATUS | FL_DF | FL_IF | 0x3000));

	if (rng_percent(rng, 3))
		value |= FL_TF;
	if (rng_percent(rng, 5))
		value |= FL_AC;
	if (rng_percent(rng, 5))
		value |= FL_NT;
	if (rng_percent(rng, 50))
		value |= FL_ID;
	if (size == 2)
		value &= 0xffff;

	struct insn push = { .opcode = { 0x68 }, .opcode_len = 1, .opcode_reg = -1, .imm = value,
			     .imm_size = size == 2 ? 2 : 4, .opsize = size == 2 };

	dt_emit(b, &push, no_flags, GPR_BIT(X86_RSP), "push%s 0x%" G_GINT64_MODIFIER "x",
		size == 2 ? "w" : "", value);
	b->df = value & FL_DF;
	return value;
}

static void gen_stack_special(struct gen *g, const struct insn_form *f)
{
	struct dt_builder *b = &g->b;
	struct rng *rng = g->rng;
	unsigned int size = rng_percent(rng, 20) ? 2 : 8;
	bool rsp_known = b->rsp_known;
	uint64_t rsp = b->rsp;
	struct insn in = { .opcode_reg = -1, .opsize = size == 2, .opcode_len = 1 };

	in.opcode[0] = f->opcode[0];
	switch (f->special) {
	case SP_PUSHF:
		define_flags(g, FL_STATUS);
		dt_emit(b, &in, no_flags, GPR_BIT(X86_RSP), "pushf%s", size == 2 ? "w" : "q");
		rsp -= size;
		break;
	case SP_POPF: {
		uint64_t value = gen_push_flags_value(g, size);

		dt_emit(b, &in, (struct flags_effect){ FL_STATUS, 0 }, GPR_BIT(X86_RSP), "popf%s",
			size == 2 ? "w" : "q");
		/*
		 * With TF the case ends at the #DB after the next instruction: make
		 * that a NOP, not the first of a group whose later instructions
		 * matter (FXSAVE and the clearing of its processor-specific fields).
		 */
		if (value & FL_TF) {
			static const uint8_t nop = 0x90;

			dt_emit_bytes(b, &nop, 1, no_flags, "nop (the single-step trap comes after it)");
		}
		break;
	}
	case SP_ENTER: {
		/*
		 * Frame sizes keep RSP 8-byte aligned: with alignment checking on,
		 * this AMD processor raises #AC for an ENTER that leaves RSP
		 * misaligned although none of its accesses is; the SDM (Intel)
		 * documents no such check, so the vendors may differ there.
		 */
		static const uint16_t frames[] = { 0, 8, 16, 24, 32, 40, 64, 104, 200 };
		unsigned int level = rng_percent(rng, 80) ? 0 : 1;

		if (b->rbp_known && rng_percent(rng, 20))
			level = 2 + (unsigned int)rng_below(rng, 2);	/* copies frame pointers from [rbp-n] */
		in.imm = frames[rng_below(rng, G_N_ELEMENTS(frames))];
		in.imm_size = 2;
		in.imm2 = level;
		in.imm2_size = 1;
		dt_emit(b, &in, no_flags, GPR_BIT(X86_RSP) | GPR_BIT(X86_RBP), "enter%s 0x%x, %u",
			size == 2 ? "w" : "", (unsigned int)in.imm, level);
		if (size == 8 && rsp_known) {
			b->rbp = rsp - 8;
			b->rbp_known = true;
		}
		rsp -= size * (1 + level) + in.imm;
		break;
	}
	case SP_LEAVE:
		if (!b->rbp_known && rng_percent(rng, 80))
			return;
		if (!b->rbp_known)
			size = 8;
		in.opsize = size == 2;
		rsp_known = b->rbp_known && size == 8;
		rsp = b->rbp + 8;
		dt_emit(b, &in, no_flags, GPR_BIT(X86_RSP) | GPR_BIT(X86_RBP), "leave%s",
			size == 2 ? "w" : "");
		break;
	default:
		return;
	}
	b->rsp_known = rsp_known;
	b->rsp = rsp;
}

/*
 * MOV Sreg, r32.  Only loads that leave the state every case starts from:
 * null into DS/ES/FS/GS (which on AMD also clears the FS/GS base), the user
 * data selector into SS, or selectors that fault.  KVM on this machine runs
 * CPL-3 code natively without reloading DS/ES/FS/GS on entry, so a non-null
 * selector loaded by one case would still be there in the next.
 */
static void gen_mov_to_sreg(struct gen *g)
{
	struct dt_builder *b = &g->b;
	struct rng *rng = g->rng;
	static const uint8_t sregs[] = { SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS };
	static const char *const names[] = { "es", "cs", "ss", "ds", "fs", "gs" };
	unsigned int sreg = sregs[rng_below(rng, G_N_ELEMENTS(sregs))];
	uint16_t selector;
	unsigned int reg = pick_reg(g, 4, true, false);

	if (sreg == SEG_SS)
		selector = rng_percent(rng, 90) ? SB_SEL_USER_DS : 0;	/* null SS at CPL 3: #GP */
	else if (rng_percent(rng, 10))
		selector = SB_SEL_KERNEL_DS | 3;			/* DPL 0 < RPL 3: #GP */
	else
		selector = 0;
	dt_emit_mov_imm(b, reg, selector);

	struct insn in = { .opcode = { 0x8e }, .opcode_len = 1, .opcode_reg = -1, .has_modrm = true,
			   .digit = true, .modrm_reg = (uint8_t)sreg,
			   .rm = { .kind = OPND_REG, .reg = (uint8_t)reg } };

	if (!dt_emit(b, &in, no_flags, 0, "mov %s, %s", names[sreg], reg_name(reg, 4)))
		return;
	if (sreg == SEG_FS || sreg == SEG_GS)
		b->seg_base[sreg] = 0;	/* flat descriptor; a null selector clears the base on AMD */

	/* Read it back: a side may not report loaded selectors in its state. */
	unsigned int dst = pick_reg(g, 4, true, false);
	struct insn back = { .opcode = { 0x8c }, .opcode_len = 1, .opcode_reg = -1, .has_modrm = true,
			     .digit = true, .modrm_reg = (uint8_t)sreg,
			     .rm = { .kind = OPND_REG, .reg = (uint8_t)dst } };

	dt_emit(b, &back, no_flags, GPR_BIT(dst), "mov %s, %s", reg_name(dst, 4), names[sreg]);
}

static void gen_div_guard(struct gen *g, const struct insn_form *f, unsigned int size)
{
	struct dt_builder *b = &g->b;
	bool is_signed = f->digit == 7;

	if (!rng_percent(g->rng, 70))
		return;
	if (!is_signed) {
		static const uint8_t xor_ah[] = { 0x30, 0xe4 }, xor_edx[] = { 0x31, 0xd2 };

		/* Clear the high half of the dividend: the quotient then fits. */
		dt_emit_bytes(b, size == 1 ? xor_ah : xor_edx, 2,
			      (struct flags_effect){ FL_STATUS & ~FL_AF, FL_AF },
			      size == 1 ? "xor ah, ah" : "xor edx, edx");
	} else {
		static const uint8_t cbw[] = { 0x66, 0x98 }, cwd[] = { 0x66, 0x99 }, cdq[] = { 0x99 },
				     cqo[] = { 0x48, 0x99 };

		if (size == 1)
			emit_simple(g, cbw, 2, 0, "cbw");
		else if (size == 2)
			emit_simple(g, cwd, 2, 0, "cwd");
		else if (size == 4)
			emit_simple(g, cdq, 1, 0, "cdq");
		else
			emit_simple(g, cqo, 2, 0, "cqo");
	}
}

/* MOV CL, count before a shift so the flag effect is known. */
static int gen_load_cl(struct gen *g, int max_count)
{
	struct dt_builder *b = &g->b;
	uint8_t count = max_count >= 0 ? (uint8_t)rng_below(g->rng, (uint64_t)max_count + 1) :
					 pick_count(g);
	uint8_t bytes[] = { 0xb1, count };
	char text[32];

	g_snprintf(text, sizeof(text), "mov cl, 0x%x", count);
	dt_emit_bytes(b, bytes, sizeof(bytes), no_flags, text);
	return count;
}

static const char *mnemonic_for(const struct insn_form *f, unsigned int size, unsigned int cc,
				char *buf, size_t len)
{
	if (f->attrs & A_CC) {
		g_snprintf(buf, len, "%s%s", f->mnemonic, cc_suffix(cc));
		return buf;
	}
	if (!strcmp(f->mnemonic, "cbw"))
		return size == 2 ? "cbw" : size == 4 ? "cwde" : "cdqe";
	if (!strcmp(f->mnemonic, "cwd"))
		return size == 2 ? "cwd" : size == 4 ? "cdq" : "cqo";
	return f->mnemonic;
}

static void gen_form(struct gen *g, const struct insn_form *f)
{
	struct dt_builder *b = &g->b;
	struct rng *rng = g->rng;

	switch (f->special) {
	case SP_STRING:
		gen_string(g, f);
		return;
	case SP_XLAT:
		gen_xlat(g);
		return;
	case SP_PUSHF:
	case SP_POPF:
	case SP_ENTER:
	case SP_LEAVE:
		gen_stack_special(g, f);
		return;
	case SP_MOV_TO_SREG:
		gen_mov_to_sreg(g);
		return;
	default:
		break;
	}

	unsigned int size = pick_size(rng, f->sizes);
	unsigned int reg_size = size, rm_size = size;
	bool byte_variant = size == 1 && (f->sizes & SZ_WDQ);
	struct insn in = { .opcode_reg = -1, .rep = f->prefix };
	unsigned int cc = 0;
	int count = -1;
	uint32_t writes = f->implicit_writes;
	bool has_modrm = f->form != F_O && f->form != F_OI && f->form != F_AO && f->form != F_AI &&
			 f->form != F_I && f->form != F_NONE;
	char mn[16], rm_text[80] = "", reg_text[16] = "", imm_buf[32];
	uint32_t reads = 0;

	memcpy(in.opcode, f->opcode, f->opcode_len);
	in.opcode_len = f->opcode_len;
	if (byte_variant)
		in.opcode[in.opcode_len - 1] = f->opcode8;
	in.opsize = size == 2;
	in.rex_w = size == 8 && !(f->attrs & (A_DEF64 | A_NO_W));
	if (f->attrs & A_CC) {
		cc = (unsigned int)rng_below(rng, 16);
		in.opcode[in.opcode_len - 1] = (uint8_t)(in.opcode[in.opcode_len - 1] + cc);
		reads |= cc_flags(cc);
	}
	if (f->attrs & A_READS_CF)
		reads |= FL_CF;
	if (f->attrs & A_READS_OF)
		reads |= FL_OF;
	if (f->attrs & A_READS_ALL)
		reads |= FL_STATUS;

	/* Operand sizes that differ from the operation size. */
	if (f->form == F_RM && f->src_size)
		rm_size = f->src_size;
	if (f->special == SP_CRC32) {
		reg_size = size == 8 || (size == 1 && rng_percent(rng, 30)) ? 8 : 4;
		in.rex_w = reg_size == 8;
		in.opsize = size == 2;
	}
	if (f->special == SP_CMPXCHG16B) {
		rm_size = 16;
		in.rex_w = true;
	}
	if (f->special == SP_MOV_FROM_SREG)
		reg_size = 2;

	/* The r/m operand. */
	bool rm_is_mem = false;

	if (has_modrm) {
		in.has_modrm = true;
		rm_is_mem = (f->attrs & A_MEM) || (!(f->attrs & A_REG) && rng_percent(rng, 40));
	}
	if (rm_is_mem) {
		unsigned int access = rm_size;
		bool edges_ok = f->special != SP_BT_MEM;
		/* CMPXCHG16B needs 16-byte alignment (else #GP): mostly give it. */
		unsigned int align = f->special == SP_CMPXCHG16B && rng_percent(rng, 85) ? 16 : 1;
		int tries = 0;

		if (f->special == SP_MOV_FROM_SREG)
			access = rm_size = 2;	/* a segment register store is always 16 bits */
		while (!pick_mem(g, &in.rm.mem, access, edges_ok, align) && ++tries < 8)
			;
		if (tries >= 8)
			return;
		in.rm.kind = OPND_MEM;
		if ((f->attrs & A_LOCK) && rng_percent(rng, 40))
			in.lock = 0xf0;
	}
	bool mem_needs_rex = rm_is_mem && (in.rm.mem.base >= 8 || in.rm.mem.index >= 8);
	bool byte_operand = (has_modrm && !rm_is_mem && rm_size == 1) || reg_size == 1;
	bool high_bytes = byte_operand && !mem_needs_rex && !in.rex_w && f->special != SP_BT_MEM &&
			  rng_percent(rng, 30);

	if (has_modrm && !rm_is_mem) {
		unsigned int reg = pick_reg(g, rm_size, f->attrs & A_W_RM, high_bytes);

		in.rm = (struct operand){ .kind = OPND_REG, .reg = (uint8_t)reg };
		in.byte_rm = rm_size == 1;
		if (f->attrs & A_W_RM)
			writes |= GPR_BIT(reg);
	}
	format_operand(rm_text, sizeof(rm_text), &in.rm, rm_size);

	/* The register operand: ModRM.reg, the opcode's low bits, or a digit. */
	bool digit = f->form == F_M || f->form == F_MI || f->form == F_M1 || f->form == F_MC;

	if (digit) {
		in.digit = true;
		in.modrm_reg = f->digit;
	} else if (f->special == SP_MOV_FROM_SREG) {
		static const char *const names[] = { "es", "cs", "ss", "ds", "fs", "gs" };
		unsigned int sreg = (unsigned int)rng_below(rng, 6);

		in.digit = true;
		in.modrm_reg = (uint8_t)sreg;
		g_strlcpy(reg_text, names[sreg], sizeof(reg_text));
	} else if (has_modrm || f->form == F_O || f->form == F_OI || f->form == F_AO) {
		bool write = f->attrs & A_W_REG;
		unsigned int reg;

		if (f->special == SP_BT_MEM) {
			/* A bit offset within reach of the operand: -64 .. 255. */
			reg = pick_reg(g, 8, true, false);
			int64_t offset = (int64_t)rng_below(rng, 320) - 64;

			dt_emit_mov_imm(b, reg, reg_size == 8 ? (uint64_t)offset :
						   (uint64_t)offset & 0xffffffffULL);
		} else {
			reg = pick_reg(g, reg_size, write, high_bytes);
		}
		if (has_modrm)
			in.modrm_reg = (uint8_t)reg;
		else
			in.opcode_reg = (int8_t)reg;
		in.byte_reg = reg_size == 1;
		if (write)
			writes |= GPR_BIT(reg);
		g_strlcpy(reg_text, reg_name(reg, reg_size), sizeof(reg_text));
	}
	/* A REX without bits: for byte registers it means SPL..DIL, not AH..BH. */
	if (!high_bytes && rng_percent(rng, byte_operand ? 10 : 3))
		in.force_rex = true;

	/* Immediates, and shift counts. */
	switch (f->imm) {
	case IMM_8:
		in.imm_size = 1;
		if (f->flags == FX_SHIFT || f->flags == FX_ROT || f->flags == FX_RCX ||
		    f->flags == FX_SHXD) {
			in.imm = pick_count(g);
			if (f->special == SP_SHXD_16 && size == 2)
				in.imm = rng_below(rng, 16);
		} else {
			in.imm = pick_imm(g, 1);
		}
		break;
	case IMM_Z:
		in.imm_size = size == 1 ? 1 : size == 2 ? 2 : 4;
		in.imm = pick_imm(g, in.imm_size);
		break;
	case IMM_V:
		in.imm_size = (uint8_t)size;
		in.imm = pick_imm(g, size);
		break;
	default:
		break;
	}
	unsigned int count_mask = size == 8 ? 0x3f : 0x1f;

	if (f->form == F_M1)
		count = 1;
	else if (f->form == F_MI && f->imm == IMM_8 && f->flags >= FX_SHIFT && f->flags <= FX_RCX)
		count = (int)(in.imm & count_mask);
	else if (f->form == F_MRI)
		count = (int)(in.imm & count_mask);

	/* What has to happen first: loads, guards, defined input flags. */
	if (f->form == F_MC || f->form == F_MRC) {
		if (f->special == SP_SHXD_16 && size == 2)
			count = gen_load_cl(g, 15);
		else if (rng_percent(rng, 60))
			count = gen_load_cl(g, -1) & (int)count_mask;
	}
	if (f->special == SP_DIV)
		gen_div_guard(g, f, size);
	define_flags(g, reads);

	/* Text. */
	const char *name = mnemonic_for(f, size, cc, mn, sizeof(mn));
	const char *lock = in.lock ? "lock " : "";
	struct flags_effect flags = flags_effect(f, size, count);

	if (f->special == SP_PUSH)
		writes |= GPR_BIT(X86_RSP);
	if (writes & RESERVED_GPRS & ~(f->special == SP_PUSH || f->special == SP_POP ? GPR_BIT(X86_RSP) : 0))
		g_error("difftest: generated \"%s\" writes a reserved register", f->mnemonic);

	bool rsp_known = b->rsp_known;
	bool ok;

	switch (f->form) {
	case F_MR:
		ok = dt_emit(b, &in, flags, writes, "%s%s %s, %s", lock, name, rm_text, reg_text);
		break;
	case F_RM:
		ok = dt_emit(b, &in, flags, writes, "%s %s, %s", name, reg_text, rm_text);
		break;
	case F_M:
		if (f->special == SP_PUSH || f->special == SP_POP)
			ok = dt_emit(b, &in, flags, writes, "%s %s", name, rm_text);
		else
			ok = dt_emit(b, &in, flags, writes, "%s%s %s", lock, name, rm_text);
		break;
	case F_MI:
		ok = dt_emit(b, &in, flags, writes, "%s%s %s, %s", lock, name, rm_text,
			     imm_text(imm_buf, sizeof(imm_buf), in.imm));
		break;
	case F_RMI:
		ok = dt_emit(b, &in, flags, writes, "%s %s, %s, %s", name, reg_text, rm_text,
			     imm_text(imm_buf, sizeof(imm_buf), in.imm));
		break;
	case F_M1:
		ok = dt_emit(b, &in, flags, writes, "%s %s, 1", name, rm_text);
		break;
	case F_MC:
		ok = dt_emit(b, &in, flags, writes, "%s %s, cl", name, rm_text);
		break;
	case F_MRI:
		ok = dt_emit(b, &in, flags, writes, "%s %s, %s, %s", name, rm_text, reg_text,
			     imm_text(imm_buf, sizeof(imm_buf), in.imm));
		break;
	case F_MRC:
		ok = dt_emit(b, &in, flags, writes, "%s %s, %s, cl", name, rm_text, reg_text);
		break;
	case F_O:
		ok = dt_emit(b, &in, flags, writes, "%s %s", name, reg_text);
		break;
	case F_OI:
		ok = dt_emit(b, &in, flags, writes, "%s %s, %s", name, reg_text,
			     imm_text(imm_buf, sizeof(imm_buf), in.imm));
		break;
	case F_AO:
		ok = dt_emit(b, &in, flags, writes, "%s %s, %s", name, reg_name(0, size), reg_text);
		break;
	case F_AI:
		ok = dt_emit(b, &in, flags, writes, "%s %s, %s", name, reg_name(0, size),
			     imm_text(imm_buf, sizeof(imm_buf), in.imm));
		break;
	case F_I:
		ok = dt_emit(b, &in, flags, writes, "%s%s %s", name, size == 2 ? "w" : "",
			     imm_text(imm_buf, sizeof(imm_buf), in.imm));
		break;
	default:
		ok = dt_emit(b, &in, flags, writes, "%s", name);
		break;
	}
	if (!ok)
		return;
	/* dt_emit forgot RSP, but a push or pop moves it by a known amount. */
	if (f->special == SP_PUSH || f->special == SP_POP) {
		b->rsp_known = rsp_known;
		b->rsp += f->special == SP_PUSH ? -(uint64_t)(size == 2 ? 2 : 8) : (size == 2 ? 2 : 8);
	}
}

static bool form_enabled(const struct insn_form *f, uint32_t features)
{
	return f->weight && (f->feature == FEAT_NONE || (features & (1u << f->feature)));
}

void gen_random_case(struct dt_case *c, const uint8_t *base_pages, uint64_t seed, uint64_t index,
		     const struct gen_config *config)
{
	struct rng rng;
	struct gen g = { .rng = &rng };
	char name[64];
	unsigned int total_weight = 0;

	rng_init_case(&rng, seed, index, 0);
	g_snprintf(name, sizeof(name), "random #%" G_GUINT64_FORMAT, index);
	dt_begin(&g.b, c, base_pages, &rng, name);
	if (config->simd_percent)
		gen_simd_setup(&g.b);

	for (unsigned int i = 0; i < insn_forms_count; i++)
		if (form_enabled(&insn_forms[i], config->features))
			total_weight += insn_forms[i].weight;

	unsigned int n = config->min_insns +
			 (unsigned int)rng_below(&rng, config->max_insns - config->min_insns + 1);

	for (unsigned int i = 0; i < n && !g.b.overflow; i++) {
		if (config->simd_percent && rng_percent(&rng, config->simd_percent)) {
			gen_simd_insn(&g.b);
			continue;
		}
		unsigned int pick = (unsigned int)rng_below(&rng, total_weight);

		for (unsigned int j = 0; j < insn_forms_count; j++) {
			const struct insn_form *f = &insn_forms[j];

			if (!form_enabled(f, config->features))
				continue;
			if (pick < f->weight) {
				gen_form(&g, f);
				break;
			}
			pick -= f->weight;
		}
	}
	if (config->simd_percent)
		gen_simd_epilogue(&g.b);
	dt_finish(&g.b);
}
