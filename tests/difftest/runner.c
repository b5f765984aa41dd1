/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs cases on one accelerator through struct accel_ops, exactly as the
 * machine does: vcpu_run() returns when a port handler kicks the vCPU.
 */
#include <string.h>

#include "error.h"
#include "runner.h"

enum side_phase {
	PHASE_STARTING,
	PHASE_IDLE,
	PHASE_JOB,
	PHASE_DONE,
	PHASE_QUIT,
	PHASE_FAILED,		/* VM or vCPU creation failed */
};

/* A vCPU that keeps being kicked without stopping is spinning on a bug. */
#define MAX_SPURIOUS_KICKS 1000

struct side {
	char *label;
	const struct accel_ops *ops;
	struct guest_memory mem;
	struct bus pio, mmio;
	struct accel_env env;
	void *vm;
	struct vcpu vcpu;
	void *vcpu_state;
	GThread *thread;

	GMutex lock;
	GCond cond;
	enum side_phase phase;
	GError *start_error;
	const struct x86_cpu_state *job_state;
	const uint8_t *job_pages;
	struct run_result result;

	/* Written by the port handler on the vCPU thread during vcpu_run(). */
	int stop_port;
};

const char *run_outcome_name(enum run_outcome outcome)
{
	switch (outcome) {
	case RUN_END: return "end";
	case RUN_EXCEPTION: return "exception";
	case RUN_SYSCALL: return "syscall";
	case RUN_RESET: return "triple fault";
	case RUN_ERROR: return "accelerator error";
	}
	return "?";
}

static uint64_t stop_port_read(void *opaque, uint64_t offset, unsigned int size)
{
	return ~0ULL;
}

static void stop_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct side *side = opaque;

	side->stop_port = (int)(SB_PORT_END + offset);
	side->ops->vcpu_kick(side->vcpu_state);
}

static const struct bus_ops stop_port_ops = {
	.read = stop_port_read,
	.write = stop_port_write,
};

static void copy_pages_to_guest(struct side *side, const uint8_t *pages)
{
	for (int i = 0; i < SB_NR_PAGES; i++)
		memcpy(guest_memory_ptr(&side->mem, sb_pages[i], SB_PAGE_SIZE),
		       pages + (size_t)i * SB_PAGE_SIZE, SB_PAGE_SIZE);
}

static void copy_pages_from_guest(struct side *side, uint8_t *pages)
{
	for (int i = 0; i < SB_NR_PAGES; i++)
		memcpy(pages + (size_t)i * SB_PAGE_SIZE,
		       guest_memory_ptr(&side->mem, sb_pages[i], SB_PAGE_SIZE), SB_PAGE_SIZE);
}

static void run_job(struct side *side)
{
	struct run_result *result = &side->result;
	GError *error = NULL;
	unsigned int spurious = 0;

	result->outcome = RUN_ERROR;
	result->message[0] = '\0';
	copy_pages_to_guest(side, side->job_pages);
	side->stop_port = 0;
	if (!side->ops->vcpu_set_state(side->vcpu_state, side->job_state, &error))
		goto fail;

	while (!side->stop_port) {
		enum vcpu_exit exit = side->ops->vcpu_run(side->vcpu_state, &error);

		if (exit == VCPU_EXIT_ERROR)
			goto fail;
		if (exit == VCPU_EXIT_RESET) {
			result->outcome = RUN_RESET;
			break;
		}
		if (!side->stop_port && ++spurious > MAX_SPURIOUS_KICKS) {
			g_set_error(&error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
				    "vcpu_run returned %u times without the guest reaching a stop port",
				    spurious);
			goto fail;
		}
	}
	if (side->stop_port == SB_PORT_END)
		result->outcome = RUN_END;
	else if (side->stop_port == SB_PORT_EXCEPTION)
		result->outcome = RUN_EXCEPTION;
	else if (side->stop_port == SB_PORT_SYSCALL)
		result->outcome = RUN_SYSCALL;
	if (!side->ops->vcpu_get_state(side->vcpu_state, &result->state, &error))
		goto fail;
	copy_pages_from_guest(side, result->pages);
	return;

fail:
	result->outcome = RUN_ERROR;
	g_strlcpy(result->message, error ? error->message : "unknown error", sizeof(result->message));
	g_clear_error(&error);
	memset(&result->state, 0, sizeof(result->state));
	copy_pages_from_guest(side, result->pages);
}

static void set_phase(struct side *side, enum side_phase phase)
{
	g_mutex_lock(&side->lock);
	side->phase = phase;
	g_cond_broadcast(&side->cond);
	g_mutex_unlock(&side->lock);
}

static gpointer side_thread(gpointer opaque)
{
	struct side *side = opaque;
	GError *error = NULL;

	/* vcpu_create must run on the thread that will call vcpu_run. */
	side->vm = side->ops->vm_create(&side->env, &error);
	if (side->vm) {
		side->vcpu = (struct vcpu){ .owner = side, .index = 0, .thread = g_thread_self() };
		side->vcpu_state = side->ops->vcpu_create(side->vm, &side->vcpu, &error);
	}
	if (!side->vcpu_state) {
		g_mutex_lock(&side->lock);
		side->start_error = error;
		side->phase = PHASE_FAILED;
		g_cond_broadcast(&side->cond);
		g_mutex_unlock(&side->lock);
		return NULL;
	}
	set_phase(side, PHASE_IDLE);

	for (;;) {
		g_mutex_lock(&side->lock);
		while (side->phase != PHASE_JOB && side->phase != PHASE_QUIT)
			g_cond_wait(&side->cond, &side->lock);
		enum side_phase phase = side->phase;

		g_mutex_unlock(&side->lock);
		if (phase == PHASE_QUIT)
			break;
		run_job(side);
		set_phase(side, PHASE_DONE);
	}
	side->ops->vcpu_destroy(side->vcpu_state);
	side->vcpu_state = NULL;
	return NULL;
}

struct side *side_new(const char *label, const struct accel_ops *ops, GError **error)
{
	struct side *side = g_new0(struct side, 1);

	side->label = g_strdup(label);
	side->ops = ops;
	g_mutex_init(&side->lock);
	g_cond_init(&side->cond);
	bus_init(&side->pio, "I/O port");
	bus_init(&side->mmio, "MMIO");
	if (!guest_memory_init(&side->mem, SB_RAM_SIZE, error))
		goto fail_mem;
	if (!bus_register(&side->pio, SB_PORT_END, SB_PORT_SYSCALL - SB_PORT_END + 1,
			  &stop_port_ops, side, "difftest stop ports", error))
		goto fail;
	side->env = (struct accel_env){ .mem = &side->mem, .pio = &side->pio, .mmio = &side->mmio,
					.nr_cpus = 1 };

	side->phase = PHASE_STARTING;
	side->thread = g_thread_new(label, side_thread, side);
	g_mutex_lock(&side->lock);
	while (side->phase == PHASE_STARTING)
		g_cond_wait(&side->cond, &side->lock);
	g_mutex_unlock(&side->lock);
	if (side->phase == PHASE_FAILED) {
		g_propagate_prefixed_error(error, side->start_error, "%s: ", ops->name);
		side->start_error = NULL;
		g_thread_join(side->thread);
		side->thread = NULL;
		goto fail;
	}
	return side;

fail:
	if (side->vm)
		ops->vm_destroy(side->vm);
	guest_memory_destroy(&side->mem);
fail_mem:
	bus_destroy(&side->pio);
	bus_destroy(&side->mmio);
	g_mutex_clear(&side->lock);
	g_cond_clear(&side->cond);
	g_free(side->label);
	g_free(side);
	return NULL;
}

void side_free(struct side *side)
{
	if (!side)
		return;
	set_phase(side, PHASE_QUIT);
	g_thread_join(side->thread);
	side->ops->vm_destroy(side->vm);
	guest_memory_destroy(&side->mem);
	bus_destroy(&side->pio);
	bus_destroy(&side->mmio);
	g_mutex_clear(&side->lock);
	g_cond_clear(&side->cond);
	g_free(side->label);
	g_free(side);
}

const char *side_label(const struct side *side)
{
	return side->label;
}

void side_submit(struct side *side, const struct x86_cpu_state *state, const uint8_t *pages)
{
	g_mutex_lock(&side->lock);
	side->job_state = state;
	side->job_pages = pages;
	side->phase = PHASE_JOB;
	g_cond_broadcast(&side->cond);
	g_mutex_unlock(&side->lock);
}

const struct run_result *side_wait(struct side *side, unsigned int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
	bool done = true;

	g_mutex_lock(&side->lock);
	while (side->phase != PHASE_DONE) {
		if (!g_cond_wait_until(&side->cond, &side->lock, deadline)) {
			done = side->phase == PHASE_DONE;
			break;
		}
	}
	if (done)
		side->phase = PHASE_IDLE;
	g_mutex_unlock(&side->lock);
	return done ? &side->result : NULL;
}
