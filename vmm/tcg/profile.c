/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "profile.h"

#include <errno.h>
#include <stdio.h>

#include "cpu.h"
#include "log.h"

struct tcg_profile {
	struct tcg_cpu *cpu;
	GThread *thread;
	GHashTable *samples;	/* RIP (or HALTED) -> count, both as uint64_t keys */
	gint stop;
	char *path;
};

#define HALTED	UINT64_MAX

static gpointer sample_thread(gpointer data)
{
	struct tcg_profile *p = data;

	while (!g_atomic_int_get(&p->stop)) {
		/* Racy by design: a sample is whatever the vCPU thread last stored. */
		uint64_t rip = __atomic_load_n(&p->cpu->rip, __ATOMIC_RELAXED);
		bool halted = __atomic_load_n(&p->cpu->halted, __ATOMIC_RELAXED);
		uint64_t key = halted ? HALTED : rip;
		uint64_t *count = g_hash_table_lookup(p->samples, &key);

		if (!count) {
			uint64_t *k = g_new(uint64_t, 2);

			k[0] = key;
			k[1] = 0;
			g_hash_table_insert(p->samples, &k[0], &k[1]);
			count = &k[1];
		}
		(*count)++;
		g_usleep(1000);
	}
	return NULL;
}

struct tcg_profile *tcg_profile_start(struct tcg_cpu *cpu)
{
	const char *prefix = g_getenv("VESSEL_TCG_PROFILE");
	struct tcg_profile *p;

	if (!prefix || !*prefix)
		return NULL;
	p = g_new0(struct tcg_profile, 1);
	p->cpu = cpu;
	p->path = g_strdup_printf("%s.%u", prefix, cpu->index);
	p->samples = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	p->thread = g_thread_try_new("tcg-profile", sample_thread, p, NULL);
	if (!p->thread) {
		log_warning("VESSEL_TCG_PROFILE: cannot start the sampling thread");
		g_hash_table_destroy(p->samples);
		g_free(p->path);
		g_free(p);
		return NULL;
	}
	return p;
}

static gint by_count(gconstpointer a, gconstpointer b)
{
	uint64_t ca = (*(const uint64_t *const *)a)[1], cb = (*(const uint64_t *const *)b)[1];

	return ca < cb ? 1 : ca > cb ? -1 : 0;
}

void tcg_profile_stop(struct tcg_profile *p)
{
	GPtrArray *entries;
	GHashTableIter it;
	gpointer key;
	FILE *f;

	if (!p)
		return;
	g_atomic_int_set(&p->stop, 1);
	g_thread_join(p->thread);
	entries = g_ptr_array_new();
	g_hash_table_iter_init(&it, p->samples);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(entries, key);
	g_ptr_array_sort(entries, by_count);
	f = fopen(p->path, "w");
	if (f) {
		for (guint i = 0; i < entries->len; i++) {
			const uint64_t *e = g_ptr_array_index(entries, i);

			if (e[0] == HALTED)
				fprintf(f, "%" G_GUINT64_FORMAT " halted\n", e[1]);
			else
				fprintf(f, "%" G_GUINT64_FORMAT " %016" G_GINT64_MODIFIER "x\n", e[1], e[0]);
		}
		fclose(f);
	} else {
		log_warning("VESSEL_TCG_PROFILE: cannot write %s: %s", p->path, g_strerror(errno));
	}
	g_ptr_array_free(entries, TRUE);
	g_hash_table_destroy(p->samples);
	g_free(p->path);
	g_free(p);
}
