/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Comparing, printing and deliberately corrupting results.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "compare.h"

static const char *const gpr_names[X86_NR_GPRS] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static bool read_u64(const struct run_result *r, uint64_t addr, uint64_t *value)
{
	int first = sb_page_index(addr), last = sb_page_index(addr + 7);

	if (first < 0 || last < 0)
		return false;
	sb_read(r->pages, addr, value, 8);
	return true;
}

void stop_info_get(const struct run_result *r, struct stop_info *info)
{
	const struct x86_cpu_state *s = &r->state;

	memset(info, 0, sizeof(*info));
	info->outcome = r->outcome;
	info->vector = -1;
	info->user_rip = s->rip;
	info->user_cs = s->cs.selector;
	info->user_rflags = s->rflags;
	info->user_rsp = s->gpr[X86_RSP];
	info->user_ss = s->ss.selector;
	if (r->outcome != RUN_EXCEPTION)
		return;

	info->vector = sb_stub_vector(s->rip);
	if (info->vector < 0)
		return;
	info->has_error_code = sb_vector_has_error_code((unsigned int)info->vector);
	uint64_t frame = s->gpr[X86_RSP];

	if (info->has_error_code) {
		if (!read_u64(r, frame, &info->error_code))
			return;
		frame += 8;
	}
	uint64_t words[5];

	for (unsigned int i = 0; i < 5; i++)
		if (!read_u64(r, frame + 8 * i, &words[i]))
			return;
	info->frame_valid = true;
	info->frame_addr = frame;
	info->user_rip = words[0];
	info->user_cs = words[1];
	info->user_rflags = words[2];
	info->user_rsp = words[3];
	info->user_ss = words[4];
}

uint32_t compare_undefined_flags(const struct dt_case *c, const struct run_result *a)
{
	struct stop_info info;

	stop_info_get(a, &info);
	return dt_case_undefined_flags(c, info.user_rip);
}

static void add_diff(struct diff_list *diffs, const char *field, const char *fmt_a,
		     const char *fmt_b)
{
	if (diffs->count < MAX_REPORTED_DIFFS) {
		struct diff *d = &diffs->items[diffs->count];

		g_strlcpy(d->field, field, sizeof(d->field));
		g_strlcpy(d->a, fmt_a, sizeof(d->a));
		g_strlcpy(d->b, fmt_b, sizeof(d->b));
	}
	diffs->count++;
}

static void diff_u64(struct diff_list *diffs, const char *field, uint64_t a, uint64_t b)
{
	char ta[24], tb[24];

	if (a == b)
		return;
	g_snprintf(ta, sizeof(ta), "0x%" PRIx64, a);
	g_snprintf(tb, sizeof(tb), "0x%" PRIx64, b);
	add_diff(diffs, field, ta, tb);
}

static void diff_bytes(struct diff_list *diffs, const char *field, const void *a, const void *b,
		       size_t len)
{
	if (memcmp(a, b, len) == 0)
		return;
	g_autofree char *ta = g_malloc(2 * len + 1);
	g_autofree char *tb = g_malloc(2 * len + 1);

	/* Most significant byte first, like a number. */
	for (size_t i = 0; i < len; i++) {
		g_snprintf(ta + 2 * i, 3, "%02x", ((const uint8_t *)a)[len - 1 - i]);
		g_snprintf(tb + 2 * i, 3, "%02x", ((const uint8_t *)b)[len - 1 - i]);
	}
	add_diff(diffs, field, ta, tb);
}

static void diff_segment(struct diff_list *diffs, const char *name, const struct x86_segment *a,
			 const struct x86_segment *b, bool code, bool selector)
{
	char field[32];

	g_snprintf(field, sizeof(field), "%s.selector", name);
	if (selector)
		diff_u64(diffs, field, a->selector, b->selector);
	g_snprintf(field, sizeof(field), "%s.base", name);
	diff_u64(diffs, field, a->base, b->base);
	if (code) {
		g_snprintf(field, sizeof(field), "%s.l/db/dpl", name);
		diff_u64(diffs, field, (uint64_t)a->l << 8 | (uint64_t)a->db << 4 | a->dpl,
			 (uint64_t)b->l << 8 | (uint64_t)b->db << 4 | b->dpl);
	}
}

/* The x87/SSE fields that mean something in every state (not FIP/FDP/FOP). */
static void diff_fpu(struct diff_list *diffs, const struct x86_fxsave *a, const struct x86_fxsave *b,
		     unsigned int skip)
{
	char field[16];

	diff_u64(diffs, "fcw", a->fcw, b->fcw);
	diff_u64(diffs, "fsw", a->fsw, b->fsw);
	diff_u64(diffs, "ftw", a->ftw, b->ftw);
	if (!(skip & COMPARE_SKIP_MXCSR))
		diff_u64(diffs, "mxcsr", a->mxcsr, b->mxcsr);
	for (unsigned int i = 0; i < 8; i++) {
		g_snprintf(field, sizeof(field), "st%u", i);
		diff_bytes(diffs, field, a->st[i], b->st[i], 10);
	}
	for (unsigned int i = 0; i < 16; i++) {
		g_snprintf(field, sizeof(field), "xmm%u", i);
		diff_bytes(diffs, field, a->xmm[i], b->xmm[i], 16);
	}
}

static void diff_msrs(struct diff_list *diffs, const char *prefix, const struct x86_msrs *a,
		      const struct x86_msrs *b)
{
	static const char *const names[] = {
		"star", "lstar", "cstar", "sfmask", "kernel_gs_base", "sysenter_cs",
		"sysenter_esp", "sysenter_eip", "tsc_aux", "pat",
	};
	const uint64_t *va = (const uint64_t *)a, *vb = (const uint64_t *)b;
	char field[40];

	G_STATIC_ASSERT(sizeof(struct x86_msrs) == G_N_ELEMENTS(names) * sizeof(uint64_t));
	for (unsigned int i = 0; i < G_N_ELEMENTS(names); i++) {
		g_snprintf(field, sizeof(field), "%s%s", prefix, names[i]);
		diff_u64(diffs, field, va[i], vb[i]);
	}
}

/*
 * State CPL-3 code cannot change: a side that changed it is wrong whatever
 * the other side did (and under KVM it would mean the sandbox is not what
 * we think it is).
 */
static void diff_system_state(struct diff_list *diffs, const char *side,
			      const struct x86_cpu_state *init, const struct x86_cpu_state *s)
{
	char field[40];

#define SYS(name, expr) do { \
		g_snprintf(field, sizeof(field), "%s: %s changed", side, name); \
		diff_u64(diffs, field, init->expr, s->expr); \
	} while (0)
	SYS("cr0", cr0);
	SYS("cr3", cr3);
	SYS("cr4", cr4);
	SYS("efer", efer);
	SYS("gdtr.base", gdt.base);
	SYS("gdtr.limit", gdt.limit);
	SYS("idtr.base", idt.base);
	SYS("idtr.limit", idt.limit);
	SYS("tr.selector", tr.selector);
	SYS("tr.base", tr.base);
#undef SYS
	g_snprintf(field, sizeof(field), "%s: msr.", side);
	diff_msrs(diffs, field, &init->msr, &s->msr);
}

/*
 * The exception frames, field by field; the RFLAGS they hold carry the
 * undefined flags too.  Returns the stack range they cover, which the page
 * comparison then leaves out.
 */
static void diff_frames(struct diff_list *diffs, const struct run_result *a,
			const struct run_result *b, uint32_t undefined, uint64_t *skip_start,
			uint64_t *skip_end)
{
	struct stop_info ia, ib;

	stop_info_get(a, &ia);
	stop_info_get(b, &ib);
	*skip_start = *skip_end = 0;
	if (!ia.frame_valid || !ib.frame_valid)
		return;
	if (ia.has_error_code && ib.has_error_code)
		diff_u64(diffs, "frame: error code", ia.error_code, ib.error_code);
	diff_u64(diffs, "frame: rip", ia.user_rip, ib.user_rip);
	diff_u64(diffs, "frame: cs", ia.user_cs, ib.user_cs);
	if ((ia.user_rflags ^ ib.user_rflags) & ~(uint64_t)undefined)
		diff_u64(diffs, "frame: rflags", ia.user_rflags, ib.user_rflags);
	diff_u64(diffs, "frame: rsp", ia.user_rsp, ib.user_rsp);
	diff_u64(diffs, "frame: ss", ia.user_ss, ib.user_ss);
	if (ia.frame_addr == ib.frame_addr && ia.has_error_code == ib.has_error_code) {
		*skip_start = ia.frame_addr - (ia.has_error_code ? 8 : 0);
		*skip_end = ia.frame_addr + 40;
	}
}

static void diff_memory(struct diff_list *diffs, const struct run_result *a,
			const struct run_result *b, uint64_t skip_start, uint64_t skip_end)
{
	for (int page = 0; page < SB_NR_PAGES; page++) {
		const uint8_t *pa = a->pages + (size_t)page * SB_PAGE_SIZE;
		const uint8_t *pb = b->pages + (size_t)page * SB_PAGE_SIZE;
		bool page_table = sb_is_page_table(sb_pages[page]);

		if (memcmp(pa, pb, SB_PAGE_SIZE) == 0)
			continue;
		for (uint64_t offset = 0; offset < SB_PAGE_SIZE; offset += 8) {
			uint64_t addr = sb_pages[page] + offset, va, vb, mask = ~0ULL;

			memcpy(&va, pa + offset, 8);
			memcpy(&vb, pb + offset, 8);
			if (page_table)
				mask &= ~SB_PTE_AD_BITS;
			if (addr >= skip_start && addr < skip_end)
				continue;	/* compared as a frame */
			if ((va ^ vb) & mask) {
				char field[40];

				g_snprintf(field, sizeof(field), "mem[0x%" PRIx64 "]", addr);
				diff_u64(diffs, field, va, vb);
			}
		}
	}
}

unsigned int compare_results(const struct dt_case *c, const struct run_result *a,
			     const struct run_result *b, unsigned int skip, struct diff_list *diffs)
{
	const struct x86_cpu_state *sa = &a->state, *sb = &b->state;
	uint32_t undefined = compare_undefined_flags(c, a);
	bool data_selectors = !(skip & COMPARE_SKIP_DATA_SELECTORS);
	uint64_t frame_start, frame_end;

	memset(diffs, 0, sizeof(*diffs));
	if (a->outcome != b->outcome || a->outcome == RUN_ERROR)
		add_diff(diffs, "outcome", a->outcome == RUN_ERROR ? a->message : run_outcome_name(a->outcome),
			 b->outcome == RUN_ERROR ? b->message : run_outcome_name(b->outcome));
	if (a->outcome == RUN_ERROR || b->outcome == RUN_ERROR)
		return diffs->count;

	for (unsigned int i = 0; i < X86_NR_GPRS; i++) {
		/*
		 * In compatibility mode the upper halves of RAX..RDI are undefined
		 * (SDM Vol. 1 §3.4.1.1); RSP is the kernel's at an exception.
		 */
		uint64_t mask = c->mode == SB_MODE_COMPAT32 && i < 8 && i != X86_RSP ? 0xffffffffULL : ~0ULL;

		diff_u64(diffs, gpr_names[i], sa->gpr[i] & mask, sb->gpr[i] & mask);
	}
	diff_u64(diffs, "rip", sa->rip, sb->rip);
	/*
	 * At an exception the RFLAGS are the handler's.  KVM here delivers
	 * exceptions from CPL 3 in software (kvm_pvm) and clears AC, which the
	 * SDM's INT n pseudo-code for 64-bit gates keeps: AC is left out there.
	 */
	uint64_t ignore = undefined | (a->outcome == RUN_EXCEPTION ? FL_AC : 0);

	if ((sa->rflags ^ sb->rflags) & ~ignore) {
		char field[48];

		g_snprintf(field, sizeof(field), "rflags (0x%" PRIx64 " ignored)", ignore);
		diff_u64(diffs, field, sa->rflags, sb->rflags);
	}
	diff_segment(diffs, "cs", &sa->cs, &sb->cs, true, true);
	diff_segment(diffs, "ss", &sa->ss, &sb->ss, false, true);
	diff_segment(diffs, "ds", &sa->ds, &sb->ds, false, data_selectors);
	diff_segment(diffs, "es", &sa->es, &sb->es, false, data_selectors);
	diff_segment(diffs, "fs", &sa->fs, &sb->fs, false, data_selectors);
	diff_segment(diffs, "gs", &sa->gs, &sb->gs, false, data_selectors);
	diff_u64(diffs, "cr2", sa->cr2, sb->cr2);
	diff_u64(diffs, "cr8", sa->cr8, sb->cr8);
	diff_msrs(diffs, "msr.", &sa->msr, &sb->msr);
	diff_fpu(diffs, &sa->fpu, &sb->fpu, skip);
	diff_frames(diffs, a, b, undefined, &frame_start, &frame_end);
	diff_memory(diffs, a, b, frame_start, frame_end);
	diff_system_state(diffs, "A", &c->state, sa);
	diff_system_state(diffs, "B", &c->state, sb);
	return diffs->count;
}

void print_case(FILE *out, const struct dt_case *c)
{
	const struct x86_cpu_state *s = &c->state;

	fprintf(out, "  code at 0x%" PRIx64 ", %zu bytes:\n", (uint64_t)SB_CODE_ADDR, c->code_length);
	for (unsigned int i = 0; i < c->nr_insns; i++) {
		const struct dt_insn *insn = &c->insns[i];
		uint8_t bytes[INSN_MAX_LENGTH + 2];
		char hex[3 * sizeof(bytes) + 1] = "";

		sb_read(c->pages, SB_CODE_ADDR + insn->offset, bytes, insn->length);
		for (unsigned int j = 0; j < insn->length; j++)
			g_snprintf(hex + 3 * j, 4, "%02x ", bytes[j]);
		fprintf(out, "    +%-4u %-46s %s\n", insn->offset, hex, insn->text);
	}
	fprintf(out, "  initial state:\n");
	for (unsigned int i = 0; i < X86_NR_GPRS; i++)
		fprintf(out, "    %-3s 0x%016" PRIx64 "%s", gpr_names[i], s->gpr[i], i % 4 == 3 ? "\n" : "");
	fprintf(out, "    rflags 0x%" PRIx64 "  fs.base 0x%" PRIx64 "  gs.base 0x%" PRIx64
		"  ds/es 0x%x/0x%x  cr2 0x%" PRIx64 "\n",
		s->rflags, s->fs.base, s->gs.base, s->ds.selector, s->es.selector, s->cr2);
}

void print_stop(FILE *out, const char *label, const struct dt_case *c, const struct run_result *r)
{
	struct stop_info info;

	stop_info_get(r, &info);
	fprintf(out, "  %s: %s", label, r->outcome == RUN_ERROR ? r->message : run_outcome_name(r->outcome));
	if (r->outcome == RUN_EXCEPTION && info.vector >= 0) {
		int at = dt_case_insn_at(c, info.user_rip);

		fprintf(out, " %s (vector %d)", sb_vector_name((unsigned int)info.vector), info.vector);
		if (info.has_error_code)
			fprintf(out, " error 0x%" PRIx64, info.error_code);
		if (info.vector == 14)
			fprintf(out, " cr2 0x%" PRIx64, r->state.cr2);
		if (info.frame_valid)
			fprintf(out, " at rip 0x%" PRIx64 "%s%s rflags 0x%" PRIx64, info.user_rip,
				at >= 0 ? " = " : "", at >= 0 ? c->insns[at].text : "",
				info.user_rflags);
	} else if (r->outcome != RUN_ERROR) {
		fprintf(out, " rip 0x%" PRIx64 " rflags 0x%" PRIx64, r->state.rip, r->state.rflags);
	}
	fprintf(out, "\n");
	if (r->outcome == RUN_ERROR)
		return;
	for (unsigned int i = 0; i < X86_NR_GPRS; i++)
		fprintf(out, "    %-3s 0x%016" PRIx64 "%s", gpr_names[i], r->state.gpr[i],
			i % 4 == 3 ? "\n" : "");
}

void print_diffs(FILE *out, const char *label_a, const char *label_b, const struct diff_list *diffs)
{
	unsigned int shown = MIN(diffs->count, (unsigned int)MAX_REPORTED_DIFFS);

	fprintf(out, "  %u difference%s:%*s%-20s %s\n", diffs->count, diffs->count == 1 ? "" : "s",
		diffs->count == 1 ? 21 : 20, "", label_a, label_b);
	for (unsigned int i = 0; i < shown; i++)
		fprintf(out, "    %-34s %-20s %s\n", diffs->items[i].field, diffs->items[i].a,
			diffs->items[i].b);
	if (shown < diffs->count)
		fprintf(out, "    ... %u more\n", diffs->count - shown);
}

static void flip_memory(struct run_result *r, uint64_t addr, uint8_t bits)
{
	uint8_t byte;

	sb_read(r->pages, addr, &byte, 1);
	byte ^= bits;
	sb_write(r->pages, addr, &byte, 1);
}

bool mutate_result(struct run_result *r, enum mutation kind, const struct dt_case *c,
		   struct rng *rng, char *what, size_t what_len)
{
	struct x86_cpu_state *s = &r->state;
	uint32_t undefined = compare_undefined_flags(c, r);
	unsigned int bit = (unsigned int)rng_below(rng, 64);

	if (r->outcome == RUN_ERROR)
		return false;
	switch (kind) {
	case MUT_GPR: {
		unsigned int reg = (unsigned int)rng_below(rng, X86_NR_GPRS);

		if (c->mode == SB_MODE_COMPAT32 && reg < 8 && reg != X86_RSP)
			bit %= 32;	/* the upper halves are not compared there */
		s->gpr[reg] ^= 1ULL << bit;
		g_snprintf(what, what_len, "%s bit %u", gpr_names[reg], bit);
		return true;
	}
	case MUT_RIP:
		s->rip += 1 + rng_below(rng, 15);
		g_strlcpy(what, "rip", what_len);
		return true;
	case MUT_DEFINED_FLAG:
	case MUT_UNDEFINED_FLAG: {
		uint32_t pool = kind == MUT_UNDEFINED_FLAG ? undefined : (FL_STATUS & ~undefined) | FL_DF;
		uint32_t flags[12];
		unsigned int n = 0;
		struct stop_info info;

		for (unsigned int i = 0; i < 12; i++)
			if (pool & (1u << i))
				flags[n++] = 1u << i;
		if (n == 0)
			return false;
		uint32_t flag = flags[rng_below(rng, n)];

		s->rflags ^= flag;
		/* The frame's copy too, so only the flag itself differs. */
		stop_info_get(r, &info);
		if (info.frame_valid) {
			uint64_t value;

			sb_read(r->pages, info.frame_addr + 16, &value, 8);
			value ^= flag;
			sb_write(r->pages, info.frame_addr + 16, &value, 8);
		}
		g_snprintf(what, what_len, "%s flag 0x%x", kind == MUT_UNDEFINED_FLAG ? "undefined" :
			   "defined", flag);
		return true;
	}
	case MUT_SEGMENT: {
		struct x86_segment *segs[] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs };
		unsigned int i = (unsigned int)rng_below(rng, G_N_ELEMENTS(segs));

		/* Data selectors may be skipped (COMPARE_SKIP_DATA_SELECTORS); bases never are. */
		if (i < 2 && rng_percent(rng, 50))
			segs[i]->selector ^= 8;
		else
			segs[i]->base ^= 1ULL << (bit % 48);
		g_snprintf(what, what_len, "segment %u", i);
		return true;
	}
	case MUT_CR2:
		s->cr2 ^= 1ULL << (bit % 48);
		g_strlcpy(what, "cr2", what_len);
		return true;
	case MUT_DATA_MEMORY: {
		uint64_t addr = SB_DATA_ADDR + rng_below(rng, SB_DATA_SIZE);

		flip_memory(r, addr, (uint8_t)(1u << (bit % 8)));
		g_snprintf(what, what_len, "memory 0x%" PRIx64, addr);
		return true;
	}
	case MUT_STACK_MEMORY: {
		uint64_t addr = SB_STACK_ADDR + rng_below(rng, SB_STACK_SIZE);

		flip_memory(r, addr, 0x80);
		g_snprintf(what, what_len, "stack 0x%" PRIx64, addr);
		return true;
	}
	case MUT_XMM: {
		unsigned int reg = (unsigned int)rng_below(rng, 16);

		s->fpu.xmm[reg][rng_below(rng, 16)] ^= 1;
		g_snprintf(what, what_len, "xmm%u", reg);
		return true;
	}
	case MUT_OUTCOME:
		r->outcome = r->outcome == RUN_END ? RUN_EXCEPTION : RUN_END;
		g_strlcpy(what, "outcome", what_len);
		return true;
	case MUT_COUNT:
		break;
	}
	return false;
}
