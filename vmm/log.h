/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_LOG_H
#define VESSEL_VMM_LOG_H

#include <glib.h>
#include <stdbool.h>

/*
 * Messages for the person running the VMM, on stderr, one line each,
 * prefixed "vessel-vmm: ".  Guest misbehaviour goes through a rate limit so
 * a guest hammering an unclaimed port cannot flood the log.
 */
enum log_level {
	LOG_ERROR,
	LOG_WARNING,
	LOG_INFO,	/* default: what runs and why (accelerator choice, ...) */
	LOG_DEBUG,	/* --verbose */
};

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
void log_message(enum log_level level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define log_error(...)	 log_message(LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_message(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	 log_message(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	 log_message(LOG_DEBUG, __VA_ARGS__)

/* Milliseconds since the process started, for timing messages. */
double log_ms_since_start(void);

/* A budget of messages for one kind of guest behaviour. */
struct log_ratelimit {
	gint count;
};

#define LOG_RATELIMIT_BURST 10

void log_guest(struct log_ratelimit *limit, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Logs a guest event at most LOG_RATELIMIT_BURST times per call site. */
#define log_guest_once(...)						\
	do {								\
		static struct log_ratelimit log_guest_limit_;		\
		log_guest(&log_guest_limit_, __VA_ARGS__);		\
	} while (0)

#endif
