/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The timer service that drives the PIT, the LAPIC timers and the RTC for
 * the software CPU.  A guest sees it as interrupts arriving on time, in
 * order, never after the device cancelled them, and devices torn down
 * safely while their timer fires.
 */
#include <glib.h>
#include <pthread.h>

#include "timer.h"

#define MS	1000000ll

/* pthread primitives (not GMutex) so ThreadSanitizer can follow them. */
struct record {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int order[16];
	int64_t fired_ns[16];
	int count;
};

struct probe {
	struct record *record;
	int id;
	struct timer *timer;
	int rearm_left;
	int64_t period_ns;
	struct timer *other;		/* armed by this callback, if set */
	int64_t other_deadline_ns;
};

static void record_fire(void *opaque)
{
	struct probe *p = opaque;
	struct record *r = p->record;

	pthread_mutex_lock(&r->lock);
	if (r->count < (int)G_N_ELEMENTS(r->order)) {
		r->order[r->count] = p->id;
		r->fired_ns[r->count] = timer_now_ns();
	}
	r->count++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);

	if (p->rearm_left > 0) {
		p->rearm_left--;
		timer_arm_ns(p->timer, timer_now_ns() + p->period_ns);
	}
	if (p->other)
		timer_arm_ns(p->other, p->other_deadline_ns);
}

static void record_init(struct record *r)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &attr);
	pthread_condattr_destroy(&attr);
	r->count = 0;
}

static void record_clear(struct record *r)
{
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

/* Waits until `count` callbacks ran or `timeout_ms` passed; returns the count. */
static int record_wait(struct record *r, int count, int timeout_ms)
{
	int64_t end = timer_now_ns() + timeout_ms * MS;
	struct timespec until = { .tv_sec = end / 1000000000, .tv_nsec = end % 1000000000 };
	int n;

	pthread_mutex_lock(&r->lock);
	while (r->count < count && pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
		;
	n = r->count;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static void test_order(void)
{
	struct timer_service *s = timer_service_new();
	struct record r;
	struct probe p[3];
	int64_t start = timer_now_ns();
	const int64_t offsets[3] = { 30 * MS, 10 * MS, 20 * MS };

	record_init(&r);
	for (int i = 0; i < 3; i++) {
		p[i] = (struct probe){ .record = &r, .id = i };
		p[i].timer = timer_new(s, record_fire, &p[i]);
		timer_arm_ns(p[i].timer, start + offsets[i]);
		g_assert_true(timer_is_armed(p[i].timer));
	}
	g_assert_cmpint(record_wait(&r, 3, 2000), ==, 3);
	/* Earliest deadline first, whatever the arming order; never early. */
	g_assert_cmpint(r.order[0], ==, 1);
	g_assert_cmpint(r.order[1], ==, 2);
	g_assert_cmpint(r.order[2], ==, 0);
	for (int i = 0; i < 3; i++) {
		g_assert_cmpint(r.fired_ns[i], >=, start + offsets[r.order[i]]);
		g_assert_false(timer_is_armed(p[i].timer));
	}
	for (int i = 0; i < 3; i++)
		timer_free(p[i].timer);
	timer_service_free(s);
	record_clear(&r);
}

static void test_past_deadline(void)
{
	struct timer_service *s = timer_service_new();
	struct record r;
	struct probe p = { .record = &r };
	int64_t start = timer_now_ns();

	record_init(&r);
	p.timer = timer_new(s, record_fire, &p);
	timer_arm_ns(p.timer, start - 5 * MS);
	g_assert_cmpint(record_wait(&r, 1, 1000), ==, 1);
	/*
	 * "At once": without waiting for anything.  The bound is loose because
	 * a loaded host (parallel tests on two cores) delays a woken thread by
	 * 100 ms and more; a deadline mistaken for a far-future one never fires.
	 */
	g_assert_cmpint(r.fired_ns[0] - start, <, 500 * MS);
	timer_free(p.timer);
	timer_service_free(s);
	record_clear(&r);
}

static void test_rearm_from_callback(void)
{
	struct timer_service *s = timer_service_new();
	struct record r;
	struct probe p = { .record = &r, .rearm_left = 4, .period_ns = 2 * MS };
	int64_t start = timer_now_ns();

	record_init(&r);
	p.timer = timer_new(s, record_fire, &p);
	timer_arm_ns(p.timer, start + 2 * MS);
	/* A periodic device re-arms itself: five firings, then it stops. */
	g_assert_cmpint(record_wait(&r, 5, 2000), ==, 5);
	g_assert_cmpint(r.fired_ns[4] - start, >=, 10 * MS);
	for (int i = 1; i < 5; i++)
		g_assert_cmpint(r.fired_ns[i] - r.fired_ns[i - 1], >=, 2 * MS);
	g_usleep(20000);
	g_assert_cmpint(record_wait(&r, 6, 0), ==, 5);
	timer_free(p.timer);
	timer_service_free(s);
	record_clear(&r);
}

static void test_callback_arms_other(void)
{
	struct timer_service *s = timer_service_new();
	struct record r;
	struct probe a = { .record = &r, .id = 1 }, b = { .record = &r, .id = 2 };

	record_init(&r);
	a.timer = timer_new(s, record_fire, &a);
	b.timer = timer_new(s, record_fire, &b);
	a.other = b.timer;
	a.other_deadline_ns = timer_now_ns() + 3 * MS;
	timer_arm_ns(a.timer, timer_now_ns() + 1 * MS);
	g_assert_cmpint(record_wait(&r, 2, 2000), ==, 2);
	g_assert_cmpint(r.order[0], ==, 1);
	g_assert_cmpint(r.order[1], ==, 2);
	timer_free(a.timer);
	timer_free(b.timer);
	timer_service_free(s);
	record_clear(&r);
}

static void test_rearm_moves_deadline(void)
{
	struct timer_service *s = timer_service_new();
	struct record r;
	struct probe p = { .record = &r };
	int64_t start = timer_now_ns();

	record_init(&r);
	p.timer = timer_new(s, record_fire, &p);
	/* A guest reprogramming a one-shot timer: only the new deadline counts. */
	timer_arm_ns(p.timer, start + 10000 * MS);
	timer_arm_ns(p.timer, start + 5 * MS);
	g_assert_cmpint(record_wait(&r, 1, 2000), ==, 1);
	g_assert_cmpint(r.fired_ns[0], >=, start + 5 * MS);
	g_assert_false(timer_is_armed(p.timer));
	g_usleep(20000);
	g_assert_cmpint(record_wait(&r, 2, 0), ==, 1);

	timer_arm_ns(p.timer, timer_now_ns() + 5 * MS);
	timer_arm_ns(p.timer, timer_now_ns() + 10000 * MS);
	g_usleep(30000);
	g_assert_cmpint(record_wait(&r, 2, 0), ==, 1);
	g_assert_true(timer_is_armed(p.timer));
	timer_free(p.timer);
	timer_service_free(s);
	record_clear(&r);
}

static void test_cancel(void)
{
	struct timer_service *s = timer_service_new();
	struct record r;
	struct probe p = { .record = &r };

	record_init(&r);
	p.timer = timer_new(s, record_fire, &p);
	timer_arm_ns(p.timer, timer_now_ns() + 20 * MS);
	timer_cancel(p.timer);
	g_assert_false(timer_is_armed(p.timer));
	g_usleep(50000);
	/* A guest that stopped its timer gets no interrupt. */
	g_assert_cmpint(record_wait(&r, 1, 0), ==, 0);
	timer_cancel(p.timer);		/* twice is harmless */
	timer_free(p.timer);
	timer_service_free(s);
	record_clear(&r);
}

struct slow {
	struct timer *timer;
	gint entered;
	gint finished;
};

static void slow_fire(void *opaque)
{
	struct slow *slow = opaque;

	g_atomic_int_set(&slow->entered, 1);
	g_usleep(50000);
	g_atomic_int_set(&slow->finished, 1);
}

static void test_free_while_firing(void)
{
	struct timer_service *s = timer_service_new();
	struct slow *slow = g_new0(struct slow, 1);
	int64_t deadline = g_get_monotonic_time() + G_USEC_PER_SEC;

	slow->timer = timer_new(s, slow_fire, slow);
	timer_arm_ns(slow->timer, timer_now_ns());
	while (!g_atomic_int_get(&slow->entered) && g_get_monotonic_time() < deadline)
		g_usleep(100);
	g_assert_true(g_atomic_int_get(&slow->entered));
	/* A device being torn down waits for its callback; it never runs on freed state. */
	timer_free(slow->timer);
	g_assert_true(g_atomic_int_get(&slow->finished));
	g_free(slow);
	timer_service_free(s);
}

struct self_free {
	struct timer *timer;
	struct timer *witness;
	gint done;
};

static void self_free_fire(void *opaque)
{
	struct self_free *sf = opaque;

	timer_free(sf->timer);
	g_atomic_int_set(&sf->done, 1);
}

static void witness_fire(void *opaque)
{
	g_atomic_int_inc((gint *)opaque);
}

static void test_free_from_own_callback(void)
{
	struct timer_service *s = timer_service_new();
	struct self_free sf = { 0 };
	gint witnessed = 0;
	int64_t deadline = g_get_monotonic_time() + G_USEC_PER_SEC;

	sf.timer = timer_new(s, self_free_fire, &sf);
	sf.witness = timer_new(s, witness_fire, &witnessed);
	timer_arm_ns(sf.timer, timer_now_ns());
	timer_arm_ns(sf.witness, timer_now_ns() + 5 * MS);
	while (g_atomic_int_get(&witnessed) == 0 && g_get_monotonic_time() < deadline)
		g_usleep(100);
	/* The service survived a timer freeing itself and kept running others. */
	g_assert_true(g_atomic_int_get(&sf.done));
	g_assert_cmpint(g_atomic_int_get(&witnessed), ==, 1);
	timer_free(sf.witness);
	timer_service_free(s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/timer/order", test_order);
	g_test_add_func("/timer/past-deadline", test_past_deadline);
	g_test_add_func("/timer/rearm-from-callback", test_rearm_from_callback);
	g_test_add_func("/timer/callback-arms-other", test_callback_arms_other);
	g_test_add_func("/timer/rearm-moves-deadline", test_rearm_moves_deadline);
	g_test_add_func("/timer/cancel", test_cancel);
	g_test_add_func("/timer/free-while-firing", test_free_while_firing);
	g_test_add_func("/timer/free-from-own-callback", test_free_from_own_callback);
	return g_test_run();
}
