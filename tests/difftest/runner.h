/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_RUNNER_H
#define DIFFTEST_RUNNER_H

#include <glib.h>
#include <stdbool.h>

#include "accel.h"
#include "sandbox.h"

/*
 * One accelerator under test ("side"): its own guest memory, buses, VM and
 * vCPU, driven by its own thread.  KVM keeps per-thread state for kicks, so
 * two KVM vCPUs must not share a thread; one thread per side also lets the
 * two sides of a comparison run in parallel.
 */
enum run_outcome {
	RUN_END,		/* the snippet reached its final OUT */
	RUN_EXCEPTION,		/* an exception stub ran */
	RUN_SYSCALL,		/* the SYSCALL stub ran */
	RUN_RESET,		/* triple fault */
	RUN_ERROR,		/* the accelerator failed; message says why */
};

struct run_result {
	enum run_outcome outcome;
	struct x86_cpu_state state;
	uint8_t pages[SB_NR_PAGES * SB_PAGE_SIZE];	/* in sb_pages order */
	char message[256];
};

struct side;

/* Starts the side's thread, which creates the VM and vCPU. */
struct side *side_new(const char *label, const struct accel_ops *ops, GError **error);
void side_free(struct side *side);
const char *side_label(const struct side *side);

/* Hands a case to the side's thread: memory is reset from pages first. */
void side_submit(struct side *side, const struct x86_cpu_state *state, const uint8_t *pages);
/* Waits for the result; NULL when the case did not finish in time. */
const struct run_result *side_wait(struct side *side, unsigned int timeout_ms);

const char *run_outcome_name(enum run_outcome outcome);

#endif
