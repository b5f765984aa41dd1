/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_COMPARE_H
#define DIFFTEST_COMPARE_H

#include <stdio.h>

#include "gen.h"
#include "runner.h"

/* One field that differs, with both values as text. */
struct diff {
	char field[40];
	char a[72];
	char b[72];
};

#define MAX_REPORTED_DIFFS 40

struct diff_list {
	struct diff items[MAX_REPORTED_DIFFS];
	unsigned int count;		/* all differences, reported or not */
};

/* Where and how a case stopped, as the exception frame or the state says. */
struct stop_info {
	enum run_outcome outcome;
	int vector;			/* RUN_EXCEPTION: from the stub's address */
	bool has_error_code;
	uint64_t error_code;
	bool frame_valid;
	uint64_t frame_addr;		/* kernel stack address of the pushed RIP */
	uint64_t user_rip, user_cs, user_rflags, user_rsp, user_ss;
};

void stop_info_get(const struct run_result *r, struct stop_info *info);

/*
 * Compares two results of the same case: outcome, registers, RFLAGS without
 * the flags undefined at the stop, segments, control registers, MSRs, x87/SSE
 * state, the exception frame field by field, and the sandbox pages (ignoring
 * accessed/dirty bits of page tables).  Also reports a side that changed
 * state CPL-3 code cannot change.  Returns the difference count.
 */
/* Fields a side cannot report faithfully (found at start-up), not compared. */
#define COMPARE_SKIP_MXCSR		0x1u
#define COMPARE_SKIP_DATA_SELECTORS	0x2u	/* DS, ES, FS, GS selectors */

unsigned int compare_results(const struct dt_case *c, const struct run_result *a,
			     const struct run_result *b, unsigned int skip, struct diff_list *diffs);

/* The status flags not compared for this pair of results. */
uint32_t compare_undefined_flags(const struct dt_case *c, const struct run_result *a);

void print_case(FILE *out, const struct dt_case *c);
void print_stop(FILE *out, const char *label, const struct dt_case *c, const struct run_result *r);
void print_diffs(FILE *out, const char *label_a, const char *label_b, const struct diff_list *diffs);

/* Deliberate corruptions for the self-test of the comparison. */
enum mutation {
	MUT_GPR,
	MUT_RIP,
	MUT_DEFINED_FLAG,
	MUT_SEGMENT,
	MUT_CR2,
	MUT_DATA_MEMORY,
	MUT_STACK_MEMORY,
	MUT_XMM,
	MUT_OUTCOME,
	MUT_UNDEFINED_FLAG,	/* must NOT be reported */
	MUT_COUNT,
};

/*
 * Corrupts one field of r as kind says; false when the case offers nothing
 * to corrupt that way (no undefined flag, say).  what names the field.
 */
bool mutate_result(struct run_result *r, enum mutation kind, const struct dt_case *c,
		   struct rng *rng, char *what, size_t what_len);

#endif
