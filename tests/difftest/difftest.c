/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * difftest: the differential CPU tester (docs: tests/difftest/README.md).
 *
 * Runs the same instruction sequences, from the same state over the same
 * memory, on two accelerators through struct accel_ops and compares what
 * they leave behind.  With --accel-a kvm the reference is the real
 * processor: the snippets run at CPL 3, which KVM on this machine executes
 * natively.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "error.h"
#include "handpicked.h"
#include "runner.h"

#define EXIT_SKIP 77

struct options {
	uint64_t seed;
	gint64 count;
	gint64 first;
	const char *handpicked;
	const char *accel_a;
	const char *accel_b;
	bool mutate;
	bool perturb;
	int min_insns, max_insns;
	int simd_percent;
	int max_failures;
	int timeout_ms;
	bool verbose;
};

struct stats {
	unsigned int cases, mismatches, skipped;
	unsigned int outcome[RUN_ERROR + 1];
	unsigned int vector[256];
	unsigned int mutations, mutations_caught, undefined_mutations, undefined_mutations_ignored;
};

struct context {
	const struct options *opt;
	struct side *a, *b;
	unsigned int compare_skip;	/* COMPARE_SKIP_* */
	struct stats stats;
	struct rng mutation_rng;
	const uint8_t *base_pages;
	const struct gen_config *config;
	struct dt_case *noise;		/* --perturb: run on side B before each case */
};

static const struct accel_ops *find_accel(const char *name, GError **error)
{
	if (strcmp(name, "kvm") == 0)
		return &kvm_accel_ops;
	if (strcmp(name, "tcg") == 0) {
#ifdef DIFFTEST_HAVE_TCG
		return &tcg_accel_ops;
#else
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_ACCEL,
			    "tcg not available: this build has no software CPU (vmm/accel.h does not declare tcg_accel_ops)");
		return NULL;
#endif
	}
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
		    "unknown accelerator \"%s\" (kvm or tcg)", name);
	return NULL;
}

static bool kvm_device_missing(void)
{
	const char *path = g_getenv("VESSEL_KVM_DEVICE");

	return !g_file_test(path && *path ? path : "/dev/kvm", G_FILE_TEST_EXISTS);
}

/*
 * --perturb: side B first runs an unrelated random case, so the two sides
 * reach every case from different histories.  State that leaks from one run
 * into the next (a reference that does not load or save some register) then
 * shows up as a mismatch even when both sides are the same accelerator.
 */
static bool run_noise(struct context *ctx, uint64_t index)
{
	/* Derived from the case's own index, so --first I --count 1 reproduces it. */
	gen_random_case(ctx->noise, ctx->base_pages, ctx->opt->seed ^ 0x6e6f697365ULL, index,
			ctx->config);
	side_submit(ctx->b, &ctx->noise->state, ctx->noise->pages);
	if (side_wait(ctx->b, (unsigned int)ctx->opt->timeout_ms))
		return true;
	fprintf(stderr, "difftest: a --perturb case did not finish on %s; giving up\n",
		side_label(ctx->b));
	return false;
}

/* Runs one case on both sides; NULL results mean a side hung (already reported). */
static bool run_both(struct context *ctx, const struct dt_case *c, uint64_t index,
		     const struct run_result **ra, const struct run_result **rb)
{
	if (ctx->noise && !run_noise(ctx, index))
		return false;
	side_submit(ctx->a, &c->state, c->pages);
	side_submit(ctx->b, &c->state, c->pages);
	*ra = side_wait(ctx->a, (unsigned int)ctx->opt->timeout_ms);
	*rb = side_wait(ctx->b, (unsigned int)ctx->opt->timeout_ms);
	if (*ra && *rb)
		return true;
	fprintf(stderr, "difftest: case \"%s\" did not finish within %d ms on %s; giving up\n",
		c->name, ctx->opt->timeout_ms, side_label(*ra ? ctx->b : ctx->a));
	print_case(stderr, c);
	return false;
}

/*
 * CPUID as CPL-3 code sees it on one side: leaf 1 ECX, leaf 7 EBX,
 * leaf 0x80000001 ECX (SDM Vol. 2A "CPUID", AMD APM Vol. 3 Appendix E).
 */
static bool probe_cpuid(struct side *side, struct dt_case *c, const uint8_t *base_pages,
			uint32_t leaf, uint32_t regs[4], GError **error)
{
	struct dt_builder b;
	struct rng rng = { 0 };
	static const uint8_t cpuid[] = { 0x0f, 0xa2 };

	dt_begin(&b, c, base_pages, &rng, "cpuid probe");
	c->state.rflags &= ~(uint64_t)(FL_TF | FL_AC);
	dt_emit_mov_imm(&b, X86_RAX, leaf);
	dt_emit_mov_imm(&b, X86_RCX, 0);
	dt_emit_bytes(&b, cpuid, sizeof(cpuid), (struct flags_effect){ 0, 0 }, "cpuid");
	dt_finish(&b);
	side_submit(side, &c->state, c->pages);
	const struct run_result *r = side_wait(side, 10000);

	if (!r || r->outcome != RUN_END) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "%s: CPUID 0x%x at CPL 3 did not run to the end (%s)", side_label(side), leaf,
			    r ? (r->outcome == RUN_ERROR ? r->message : run_outcome_name(r->outcome)) :
				"timeout");
		return false;
	}
	regs[0] = (uint32_t)r->state.gpr[X86_RAX];
	regs[1] = (uint32_t)r->state.gpr[X86_RBX];
	regs[2] = (uint32_t)r->state.gpr[X86_RCX];
	regs[3] = (uint32_t)r->state.gpr[X86_RDX];
	return true;
}

/*
 * What a side handles faithfully.  KVM on this machine (kvm_pvm) reports
 * MXCSR as 0 from KVM_GET_FPU although guest code sees the value set, and
 * neither loads the DS/ES/FS/GS selectors it is given nor reports those guest
 * code loaded (guest code sees whatever was last loaded natively).  Such
 * fields are not compared; cases keep those selectors null.
 */
static unsigned int probe_readback(struct side *side, const uint8_t *base_pages)
{
	g_autofree struct dt_case *c = g_new0(struct dt_case, 1);
	static const uint8_t mov_eax_es[] = { 0x8c, 0xc0 }, mov_es_ecx[] = { 0x8e, 0xc1 };
	struct dt_builder b;
	struct rng rng = { 0 };
	unsigned int skip = 0;

	dt_begin(&b, c, base_pages, &rng, "read-back probe");
	c->state.rflags &= ~(uint64_t)(FL_TF | FL_AC);
	c->state.fpu.mxcsr = X86_MXCSR_DEFAULT | 0x1;	/* a value not left by a reset */
	c->state.es.selector = SB_SEL_USER_DS;
	dt_emit_bytes(&b, mov_eax_es, sizeof(mov_eax_es), (struct flags_effect){ 0, 0 }, "mov eax, es");
	dt_emit_mov_imm(&b, X86_RCX, 0);
	/* Leaves ES null whatever the side did with the state's ES. */
	dt_emit_bytes(&b, mov_es_ecx, sizeof(mov_es_ecx), (struct flags_effect){ 0, 0 }, "mov es, ecx");
	dt_finish(&b);
	side_submit(side, &c->state, c->pages);
	const struct run_result *r = side_wait(side, 10000);

	if (!r || r->outcome != RUN_END)
		return COMPARE_SKIP_MXCSR | COMPARE_SKIP_DATA_SELECTORS;
	if (r->state.fpu.mxcsr != c->state.fpu.mxcsr) {
		printf("difftest: warning: %s does not read back MXCSR; it is not compared\n",
		       side_label(side));
		skip |= COMPARE_SKIP_MXCSR;
	}
	if ((uint16_t)r->state.gpr[X86_RAX] != SB_SEL_USER_DS || r->state.es.selector != 0) {
		printf("difftest: warning: %s does not load or report DS/ES/FS/GS selectors; they are"
		       " not compared (cases keep them null and read them into registers)\n",
		       side_label(side));
		skip |= COMPARE_SKIP_DATA_SELECTORS;
	}
	return skip;
}

static bool probe_features(struct side *side, const uint8_t *base_pages, uint32_t *features,
			   GError **error)
{
	g_autofree struct dt_case *c = g_new0(struct dt_case, 1);
	uint32_t l1[4], l7[4] = { 0 }, ext[4] = { 0 }, max[4], max_ext[4];

	if (!probe_cpuid(side, c, base_pages, 0, max, error) ||
	    !probe_cpuid(side, c, base_pages, 1, l1, error) ||
	    !probe_cpuid(side, c, base_pages, 0x80000000, max_ext, error))
		return false;
	if (max[0] >= 7 && !probe_cpuid(side, c, base_pages, 7, l7, error))
		return false;
	if (max_ext[0] >= 0x80000001 && !probe_cpuid(side, c, base_pages, 0x80000001, ext, error))
		return false;

	*features = 0;
#define FEATURE(bit, cond) do { if (cond) *features |= 1u << (bit); } while (0)
	FEATURE(FEAT_POPCNT, l1[2] & (1u << 23));
	FEATURE(FEAT_SSE42, l1[2] & (1u << 20));
	FEATURE(FEAT_CX16, l1[2] & (1u << 13));
	FEATURE(FEAT_MOVBE, l1[2] & (1u << 22));
	FEATURE(FEAT_BMI1, l7[1] & (1u << 3));
	FEATURE(FEAT_ADX, l7[1] & (1u << 19));
	FEATURE(FEAT_LAHF64, ext[2] & (1u << 0));
	FEATURE(FEAT_LZCNT, ext[2] & (1u << 5));
#undef FEATURE
	return true;
}

static void print_features(uint32_t features)
{
	static const char *const names[FEAT_COUNT] = {
		[FEAT_POPCNT] = "popcnt", [FEAT_LZCNT] = "lzcnt", [FEAT_BMI1] = "bmi1",
		[FEAT_ADX] = "adx", [FEAT_SSE42] = "sse4.2", [FEAT_CX16] = "cx16",
		[FEAT_MOVBE] = "movbe", [FEAT_LAHF64] = "lahf64",
	};

	printf("difftest: instruction-set extensions on both sides:");
	for (unsigned int i = 1; i < FEAT_COUNT; i++)
		if (features & (1u << i))
			printf(" %s", names[i]);
	printf("\n");
}

static void count_outcome(struct stats *stats, const struct run_result *r)
{
	stats->outcome[r->outcome]++;
	if (r->outcome == RUN_EXCEPTION) {
		int vector = sb_stub_vector(r->state.rip);

		if (vector >= 0)
			stats->vector[vector]++;
	}
}

/* Every corruption must be reported; flipping an undefined flag must not. */
static bool self_test_comparison(struct context *ctx, const struct dt_case *c,
				 const struct run_result *ra, const struct run_result *rb)
{
	g_autofree struct run_result *copy = g_new(struct run_result, 1);
	struct diff_list diffs;
	bool ok = true;

	for (unsigned int kind = 0; kind < MUT_COUNT; kind++) {
		char what[64];

		*copy = *rb;
		if (!mutate_result(copy, (enum mutation)kind, c, &ctx->mutation_rng, what, sizeof(what)))
			continue;
		unsigned int n = compare_results(c, ra, copy, ctx->compare_skip, &diffs);

		if (kind == MUT_UNDEFINED_FLAG) {
			ctx->stats.undefined_mutations++;
			if (n == 0) {
				ctx->stats.undefined_mutations_ignored++;
				continue;
			}
			printf("MUTATION FALSELY REPORTED: %s: changing %s was reported\n", c->name, what);
		} else {
			ctx->stats.mutations++;
			if (n > 0) {
				ctx->stats.mutations_caught++;
				continue;
			}
			printf("MUTATION MISSED: %s: changing %s was not reported\n", c->name, what);
		}
		print_case(stdout, c);
		print_diffs(stdout, side_label(ctx->a), side_label(ctx->b), &diffs);
		ok = false;
	}
	return ok;
}

static void print_reproducer(const struct context *ctx, const struct dt_case *c, bool random,
			     gint64 index)
{
	const struct options *opt = ctx->opt;

	const char *perturb = opt->perturb ? " --perturb" : "";
	char generation[64] = "";

	/* The options that shape random cases. */
	if (opt->simd_percent || opt->min_insns != 1 || opt->max_insns != 16)
		g_snprintf(generation, sizeof(generation), " --simd %d --min-insns %d --max-insns %d",
			   opt->simd_percent, opt->min_insns, opt->max_insns);
	if (random)
		printf("  reproduce: difftest --seed 0x%" PRIx64 " --first %" G_GINT64_FORMAT
		       " --count 1 --handpicked none --accel-a %s --accel-b %s%s%s\n",
		       opt->seed, index, opt->accel_a, opt->accel_b, perturb, generation);
	else
		printf("  reproduce: difftest --seed 0x%" PRIx64 " --handpicked '%s' --count 0"
		       " --accel-a %s --accel-b %s%s\n", opt->seed, c->name, opt->accel_a,
		       opt->accel_b, perturb);
}

/* Returns false when the run must stop (a side hung). */
static bool check_case(struct context *ctx, const struct dt_case *c, bool random, gint64 index)
{
	const struct run_result *ra, *rb;
	struct diff_list diffs;

	/* Hand-picked cases get their own range of perturbation cases. */
	if (!run_both(ctx, c, random ? (uint64_t)index : (1ULL << 40) + (uint64_t)index, &ra, &rb))
		return false;
	ctx->stats.cases++;
	count_outcome(&ctx->stats, ra);
	unsigned int n = compare_results(c, ra, rb, ctx->compare_skip, &diffs);

	if (n > 0) {
		ctx->stats.mismatches++;
		printf("MISMATCH %s (seed 0x%" PRIx64 ")\n", c->name, ctx->opt->seed);
		print_reproducer(ctx, c, random, index);
		print_case(stdout, c);
		print_stop(stdout, side_label(ctx->a), c, ra);
		print_stop(stdout, side_label(ctx->b), c, rb);
		print_diffs(stdout, side_label(ctx->a), side_label(ctx->b), &diffs);
		fflush(stdout);
	} else if (ctx->opt->verbose) {
		printf("ok %s\n", c->name);
		print_case(stdout, c);
		print_stop(stdout, side_label(ctx->a), c, ra);
	}
	if (ctx->opt->mutate && n == 0 && !self_test_comparison(ctx, c, ra, rb))
		ctx->stats.mismatches++;
	return true;
}

static void print_summary(const struct context *ctx, double seconds)
{
	const struct stats *s = &ctx->stats;

	printf("difftest: %u cases, %u mismatch%s, %u skipped (missing CPU features); %.0f cases/s\n",
	       s->cases, s->mismatches, s->mismatches == 1 ? "" : "es", s->skipped,
	       seconds > 0 ? s->cases / seconds : 0.0);
	printf("difftest: outcomes on %s: end %u", side_label(ctx->a), s->outcome[RUN_END]);
	for (unsigned int v = 0; v < 256; v++)
		if (s->vector[v])
			printf(", %s %u", v < 32 ? sb_vector_name(v) : "int", s->vector[v]);
	if (s->outcome[RUN_SYSCALL])
		printf(", syscall %u", s->outcome[RUN_SYSCALL]);
	if (s->outcome[RUN_RESET])
		printf(", triple fault %u", s->outcome[RUN_RESET]);
	if (s->outcome[RUN_ERROR])
		printf(", error %u", s->outcome[RUN_ERROR]);
	printf("\n");
	if (ctx->opt->mutate)
		printf("difftest: comparison self-test: %u/%u corruptions reported, %u/%u undefined-flag changes ignored\n",
		       s->mutations_caught, s->mutations, s->undefined_mutations_ignored,
		       s->undefined_mutations);
}

static bool parse_seed(const char *text, uint64_t *seed)
{
	char *end;

	if (g_strcmp0(text, "time") == 0) {
		*seed = (uint64_t)g_get_real_time();
		return true;
	}
	*seed = g_ascii_strtoull(text, &end, 0);
	return end != text && *end == '\0';
}

static int run(const struct options *opt)
{
	g_autoptr(GError) error = NULL;
	g_autofree uint8_t *base_pages = g_malloc(SB_NR_PAGES * SB_PAGE_SIZE);
	g_autofree struct dt_case *c = g_new0(struct dt_case, 1);
	struct context ctx = { .opt = opt };
	const struct accel_ops *ops_a, *ops_b;
	uint32_t features_a, features_b;
	int status = EXIT_FAILURE;

	ops_a = find_accel(opt->accel_a, &error);
	ops_b = ops_a ? find_accel(opt->accel_b, &error) : NULL;
	if (!ops_b) {
		fprintf(stderr, "difftest: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if ((ops_a == &kvm_accel_ops || ops_b == &kvm_accel_ops) && kvm_device_missing()) {
		printf("difftest: SKIP: no /dev/kvm, so there is no real processor to compare with\n");
		return EXIT_SKIP;
	}
	sb_build_pages(base_pages);
	g_autofree char *label_a = g_strdup_printf("A:%s", ops_a->name);
	g_autofree char *label_b = g_strdup_printf("B:%s", ops_b->name);

	ctx.a = side_new(label_a, ops_a, &error);
	if (ctx.a)
		ctx.b = side_new(label_b, ops_b, &error);
	if (!ctx.a || !ctx.b) {
		fprintf(stderr, "difftest: %s\n", error->message);
		goto out;
	}
	if (!probe_features(ctx.a, base_pages, &features_a, &error) ||
	    !probe_features(ctx.b, base_pages, &features_b, &error)) {
		fprintf(stderr, "difftest: %s\n", error->message);
		goto out;
	}
	ctx.compare_skip = probe_readback(ctx.a, base_pages) | probe_readback(ctx.b, base_pages);
	struct gen_config config = {
		.features = features_a & features_b,
		.min_insns = (unsigned int)opt->min_insns,
		.max_insns = (unsigned int)MAX(opt->max_insns, opt->min_insns),
		.simd_percent = (unsigned int)opt->simd_percent,
	};

	print_features(config.features);
	ctx.base_pages = base_pages;
	ctx.config = &config;
	if (opt->perturb)
		ctx.noise = g_new0(struct dt_case, 1);
	printf("difftest: A=%s B=%s seed=0x%" PRIx64 "\n", ops_a->name, ops_b->name, opt->seed);
	rng_init_case(&ctx.mutation_rng, opt->seed, 0, 2);
	gint64 start = g_get_monotonic_time();

	for (unsigned int i = 0; i < handpicked_count(); i++) {
		const char *name = handpicked_name(i);

		if (g_strcmp0(opt->handpicked, "all") != 0 &&
		    !g_pattern_match_simple(opt->handpicked, name))
			continue;
		if (!handpicked_build(i, c, base_pages, opt->seed, config.features)) {
			ctx.stats.skipped++;
			continue;
		}
		if (!check_case(&ctx, c, false, i))
			goto out;
		if (ctx.stats.mismatches >= (unsigned int)opt->max_failures)
			break;
	}
	for (gint64 i = opt->first; i < opt->first + opt->count; i++) {
		if (ctx.stats.mismatches >= (unsigned int)opt->max_failures)
			break;
		gen_random_case(c, base_pages, opt->seed, (uint64_t)i, &config);
		if (!check_case(&ctx, c, true, i))
			goto out;
	}
	print_summary(&ctx, (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
	if (ctx.stats.mismatches >= (unsigned int)opt->max_failures)
		printf("difftest: stopped after %d failures (--max-failures)\n", opt->max_failures);
	status = ctx.stats.mismatches ? EXIT_FAILURE : EXIT_SUCCESS;
out:
	side_free(ctx.b);
	side_free(ctx.a);
	g_free(ctx.noise);
	return status;
}

int main(int argc, char **argv)
{
	struct options opt = {
		.count = 2000, .handpicked = "all", .accel_a = "kvm", .accel_b = "kvm",
		.min_insns = 1, .max_insns = 16, .max_failures = 20, .timeout_ms = 10000,
	};
	g_autofree char *seed_text = NULL, *handpicked = NULL, *accel_a = NULL, *accel_b = NULL;
	gboolean mutate = FALSE, perturb = FALSE, verbose = FALSE, list = FALSE;
	GOptionEntry entries[] = {
		{ "seed", 0, 0, G_OPTION_ARG_STRING, &seed_text,
		  "Seed of the random cases (number, or \"time\"; default 1)", "S" },
		{ "count", 0, 0, G_OPTION_ARG_INT64, &opt.count, "Random cases to run (default 2000)", "N" },
		{ "first", 0, 0, G_OPTION_ARG_INT64, &opt.first, "Index of the first random case (default 0)", "I" },
		{ "handpicked", 0, 0, G_OPTION_ARG_STRING, &handpicked,
		  "Hand-picked cases to run: all (default), none, or a name pattern such as 'string/*'", "P" },
		{ "accel-a", 0, 0, G_OPTION_ARG_STRING, &accel_a, "Reference accelerator (default kvm)", "NAME" },
		{ "accel-b", 0, 0, G_OPTION_ARG_STRING, &accel_b, "Accelerator under test (default kvm)", "NAME" },
		{ "mutate", 0, 0, G_OPTION_ARG_NONE, &mutate,
		  "Self-test: corrupt single result fields and check the comparison notices", NULL },
		{ "perturb", 0, 0, G_OPTION_ARG_NONE, &perturb,
		  "Run an unrelated random case on B before each case (catches state leaking between runs)", NULL },
		{ "min-insns", 0, 0, G_OPTION_ARG_INT, &opt.min_insns, "Fewest instructions per random case (default 1)", "N" },
		{ "max-insns", 0, 0, G_OPTION_ARG_INT, &opt.max_insns, "Most instructions per random case (default 16)", "N" },
		{ "simd", 0, 0, G_OPTION_ARG_INT, &opt.simd_percent,
		  "Make P% of random instructions x87/MMX/SSE/SSE2 (default 0)", "P" },
		{ "max-failures", 0, 0, G_OPTION_ARG_INT, &opt.max_failures, "Stop after N mismatches (default 20)", "N" },
		{ "timeout-ms", 0, 0, G_OPTION_ARG_INT, &opt.timeout_ms, "Time one case may take (default 10000)", "MS" },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print every case", NULL },
		{ "list", 0, 0, G_OPTION_ARG_NONE, &list, "List the hand-picked cases", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) context = g_option_context_new("- compare two CPU implementations");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_set_description(context,
		"Runs random and hand-picked x86-64 instruction sequences at CPL 3 on two\n"
		"accelerators (kvm: the real processor; tcg: the software CPU) and compares\n"
		"registers, flags, exceptions and memory.  Exit status: 0 all match, 1 a\n"
		"mismatch or error, 77 no /dev/kvm.  See tests/difftest/README.md.\n");
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "difftest: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (list) {
		for (unsigned int i = 0; i < handpicked_count(); i++)
			printf("%s\n", handpicked_name(i));
		return EXIT_SUCCESS;
	}
	opt.seed = 1;
	if (seed_text && !parse_seed(seed_text, &opt.seed)) {
		fprintf(stderr, "difftest: --seed: \"%s\" is not a number\n", seed_text);
		return EXIT_FAILURE;
	}
	if (handpicked)
		opt.handpicked = handpicked;
	if (accel_a)
		opt.accel_a = accel_a;
	if (accel_b)
		opt.accel_b = accel_b;
	opt.mutate = mutate;
	opt.perturb = perturb;
	opt.verbose = verbose;
	if (opt.count < 0 || opt.first < 0 || opt.min_insns < 1 || opt.max_insns > 64 ||
	    opt.max_failures < 1 || opt.timeout_ms < 1 || opt.simd_percent < 0 || opt.simd_percent > 100) {
		fprintf(stderr, "difftest: --count/--first must be >= 0, --min-insns >= 1, --max-insns <= 64,"
			" --simd 0-100\n");
		return EXIT_FAILURE;
	}
	return run(&opt);
}
