/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static gint current_level = LOG_INFO;
static gint64 process_start_us;

/* Runs before main(): "time since start" then includes option parsing. */
__attribute__((constructor)) static void log_record_start(void)
{
	process_start_us = g_get_monotonic_time();
}

double log_ms_since_start(void)
{
	return (double)(g_get_monotonic_time() - process_start_us) / 1000.0;
}

void log_set_level(enum log_level level)
{
	g_atomic_int_set(&current_level, level);
}

bool log_enabled(enum log_level level)
{
	return (gint)level <= g_atomic_int_get(&current_level);
}

static void log_vmessage(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[LOG_ERROR] = "error: ", [LOG_WARNING] = "warning: ",
		[LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
	};
	g_autofree char *text = g_strdup_vprintf(fmt, ap);

	/* One fprintf per line: lines from several vCPU threads never interleave. */
	fprintf(stderr, "vessel-vmm: %s%s%s\n", prefix[level], text, suffix);
}

void log_message(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmessage(level, "", fmt, ap);
	va_end(ap);
}

void log_guest(struct log_ratelimit *limit, const char *fmt, ...)
{
	gint n = g_atomic_int_add(&limit->count, 1);
	va_list ap;

	if (n >= LOG_RATELIMIT_BURST || !log_enabled(LOG_WARNING))
		return;
	va_start(ap, fmt);
	log_vmessage(LOG_WARNING, n == LOG_RATELIMIT_BURST - 1 ? " (further messages like this are suppressed)" : "",
		     fmt, ap);
	va_end(ap);
}
