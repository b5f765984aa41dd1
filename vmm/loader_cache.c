/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "loader_cache.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <utime.h>
#include <string.h>

#include "log.h"

static char *cache_dir(void)
{
	const char *env = g_getenv("VESSEL_KERNEL_CACHE");

	if (env)
		return *env ? g_strdup(env) : NULL;
	return g_build_filename(g_get_user_cache_dir(), "vessel", "kernels", NULL);
}

/* The size the kernel build appended to the payload (see loader_unpack). */
static uint32_t announced_size(const uint8_t *payload, size_t payload_size)
{
	if (payload_size < 4)
		return 0;
	return (uint32_t)payload[payload_size - 4] | (uint32_t)payload[payload_size - 3] << 8 |
	       (uint32_t)payload[payload_size - 2] << 16 | (uint32_t)payload[payload_size - 1] << 24;
}

/* Keeps the LOADER_CACHE_KEEP most recently used entries. */
static void prune(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	if (!d)
		return;
	while ((name = g_dir_read_name(d)))
		if (g_str_has_suffix(name, ".vmlinux"))
			g_ptr_array_add(names, g_build_filename(dir, name, NULL));
	while (names->len > LOADER_CACHE_KEEP) {
		unsigned int oldest = 0;
		GStatBuf a, b;

		for (unsigned int i = 1; i < names->len; i++) {
			if (g_stat(g_ptr_array_index(names, i), &a) == 0 &&
			    g_stat(g_ptr_array_index(names, oldest), &b) == 0 && a.st_mtime < b.st_mtime)
				oldest = i;
		}
		g_unlink(g_ptr_array_index(names, oldest));
		g_ptr_array_remove_index(names, oldest);
	}
}

uint8_t *loader_unpack_cached(const char *path, enum loader_compression format,
			      const uint8_t *payload, size_t payload_size, uint64_t max_size,
			      size_t *out_size, GError **error)
{
	g_autofree char *dir = cache_dir();
	g_autofree char *file = NULL;
	g_autofree char *key = NULL;
	uint32_t expected = announced_size(payload, payload_size);
	uint8_t *data;
	char *contents;
	gsize length;

	if (!dir || !expected || expected > max_size)
		return loader_unpack(path, format, payload, payload_size, max_size, out_size, error);
	key = g_compute_checksum_for_data(G_CHECKSUM_SHA256, payload, payload_size);
	file = g_strdup_printf("%s/%s.vmlinux", dir, key);
	if (g_file_get_contents(file, &contents, &length, NULL)) {
		if (length == expected) {
			log_debug("kernel '%s': unpacked kernel from the cache %s", path, file);
			g_utime(file, NULL);	/* most recently used */
			*out_size = length;
			return (uint8_t *)contents;
		}
		log_debug("kernel '%s': ignoring a damaged cache entry %s", path, file);
		g_free(contents);
	}
	data = loader_unpack(path, format, payload, payload_size, max_size, out_size, error);
	if (!data)
		return NULL;
	/* A cache that cannot be written only costs time: never an error. */
	if (g_mkdir_with_parents(dir, 0700) == 0 &&
	    g_file_set_contents_full(file, (const char *)data, (gssize)*out_size,
				     G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL))
		prune(dir);
	else
		log_debug("kernel '%s': could not write the cache entry %s", path, file);
	return data;
}
