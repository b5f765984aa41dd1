/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_TIMER_H
#define VESSEL_VMM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Host-time timers for emulated devices (PIT, LAPIC timer, RTC): one thread
 * sleeps until the earliest deadline and runs that timer's callback.
 * Deadlines are CLOCK_MONOTONIC nanoseconds (timer_now_ns()).
 *
 * Callbacks run on the service thread with no service lock held, so they may
 * arm or cancel timers (their own included) and take device locks.  A device
 * must not hold its own lock while calling timer_free() on a timer whose
 * callback takes that lock.
 */
struct timer_service;
struct timer;

typedef void (*timer_fn)(void *opaque);

struct timer_service *timer_service_new(void);
/* Stops the thread; every timer must have been freed. */
void timer_service_free(struct timer_service *service);

int64_t timer_now_ns(void);

struct timer *timer_new(struct timer_service *service, timer_fn fn, void *opaque);
/* Cancels, and waits for a running callback of this timer to return. */
void timer_free(struct timer *timer);
/* (Re)arms: fires once at deadline_ns (at once if it has passed). */
void timer_arm_ns(struct timer *timer, int64_t deadline_ns);
void timer_cancel(struct timer *timer);
bool timer_is_armed(struct timer *timer);

#endif
