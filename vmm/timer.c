/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "timer.h"

#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

/*
 * One thread, one sorted list of armed timers.  The list is short (the PIT,
 * one LAPIC timer per vCPU, the RTC), so insertion walks it; the thread only
 * ever looks at the head.
 *
 * The service lock protects the list and every field of every timer.  It is
 * a leaf: nothing is called while it is held, and callbacks run without it,
 * so a device may arm or cancel timers with its own lock held.
 */
struct timer {
	struct timer_service *service;
	timer_fn fn;
	void *opaque;
	int64_t deadline_ns;
	bool armed;
	bool free_after_callback;	/* timer_free() from its own callback */
	struct timer *next;		/* in service->armed while armed */
};

struct timer_service {
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* on CLOCK_MONOTONIC: new head, or stop */
	pthread_cond_t callback_done;
	pthread_t thread;
	struct timer *armed;		/* sorted by deadline, ties in arming order */
	struct timer *running;		/* whose callback runs now */
	unsigned int timer_count;
	bool stop;
};

int64_t timer_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec timespec_from_ns(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

static void unlink_locked(struct timer *timer)
{
	struct timer **link;

	if (!timer->armed)
		return;
	for (link = &timer->service->armed; *link; link = &(*link)->next) {
		if (*link == timer) {
			*link = timer->next;
			break;
		}
	}
	timer->next = NULL;
	timer->armed = false;
}

static void *service_thread(void *arg)
{
	struct timer_service *service = arg;

	pthread_mutex_lock(&service->lock);
	while (!service->stop) {
		struct timer *timer = service->armed;
		struct timespec until;

		if (!timer) {
			pthread_cond_wait(&service->wake, &service->lock);
			continue;
		}
		if (timer->deadline_ns > timer_now_ns()) {
			until = timespec_from_ns(timer->deadline_ns);
			pthread_cond_timedwait(&service->wake, &service->lock, &until);
			continue;
		}

		unlink_locked(timer);
		service->running = timer;
		pthread_mutex_unlock(&service->lock);

		timer->fn(timer->opaque);

		pthread_mutex_lock(&service->lock);
		service->running = NULL;
		if (timer->free_after_callback) {
			unlink_locked(timer);
			service->timer_count--;
			g_free(timer);
		}
		pthread_cond_broadcast(&service->callback_done);
	}
	pthread_mutex_unlock(&service->lock);
	return NULL;
}

struct timer_service *timer_service_new(void)
{
	struct timer_service *service = g_new0(struct timer_service, 1);
	pthread_condattr_t attr;
	sigset_t all, old;
	int err;

	pthread_mutex_init(&service->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&service->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&service->callback_done, NULL);

	/* Signals (SIGINT, vCPU kicks) are for other threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&service->thread, NULL, service_thread, service);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		g_error("timer service: cannot create its thread: %s", g_strerror(err));
	pthread_setname_np(service->thread, "timers");
	return service;
}

void timer_service_free(struct timer_service *service)
{
	if (!service)
		return;
	pthread_mutex_lock(&service->lock);
	service->stop = true;
	pthread_cond_signal(&service->wake);
	pthread_mutex_unlock(&service->lock);
	pthread_join(service->thread, NULL);

	if (service->timer_count)
		g_critical("timer service freed with %u timers left", service->timer_count);
	pthread_cond_destroy(&service->callback_done);
	pthread_cond_destroy(&service->wake);
	pthread_mutex_destroy(&service->lock);
	g_free(service);
}

struct timer *timer_new(struct timer_service *service, timer_fn fn, void *opaque)
{
	struct timer *timer = g_new0(struct timer, 1);

	timer->service = service;
	timer->fn = fn;
	timer->opaque = opaque;
	pthread_mutex_lock(&service->lock);
	service->timer_count++;
	pthread_mutex_unlock(&service->lock);
	return timer;
}

void timer_free(struct timer *timer)
{
	struct timer_service *service;

	if (!timer)
		return;
	service = timer->service;
	pthread_mutex_lock(&service->lock);
	unlink_locked(timer);
	if (service->running == timer) {
		if (pthread_equal(pthread_self(), service->thread)) {
			/* From its own callback: the thread frees it on return. */
			timer->free_after_callback = true;
			pthread_mutex_unlock(&service->lock);
			return;
		}
		while (service->running == timer)
			pthread_cond_wait(&service->callback_done, &service->lock);
	}
	service->timer_count--;
	pthread_mutex_unlock(&service->lock);
	g_free(timer);
}

void timer_arm_ns(struct timer *timer, int64_t deadline_ns)
{
	struct timer_service *service = timer->service;
	struct timer **link;

	pthread_mutex_lock(&service->lock);
	if (timer->free_after_callback) {
		pthread_mutex_unlock(&service->lock);
		return;
	}
	unlink_locked(timer);
	timer->deadline_ns = deadline_ns;
	timer->armed = true;
	for (link = &service->armed; *link && (*link)->deadline_ns <= deadline_ns;
	     link = &(*link)->next)
		;
	timer->next = *link;
	*link = timer;
	/* A new head means an earlier wake-up than the thread sleeps for. */
	if (service->armed == timer)
		pthread_cond_signal(&service->wake);
	pthread_mutex_unlock(&service->lock);
}

void timer_cancel(struct timer *timer)
{
	pthread_mutex_lock(&timer->service->lock);
	unlink_locked(timer);
	pthread_mutex_unlock(&timer->service->lock);
}

bool timer_is_armed(struct timer *timer)
{
	bool armed;

	pthread_mutex_lock(&timer->service->lock);
	armed = timer->armed;
	pthread_mutex_unlock(&timer->service->lock);
	return armed;
}
