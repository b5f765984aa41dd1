/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_LOADER_CACHE_H
#define VESSEL_VMM_LOADER_CACHE_H

#include "loader_unpack.h"

/*
 * loader_unpack() with a cache of unpacked kernels in the user's cache
 * directory ($XDG_CACHE_HOME/vessel/kernels, or $VESSEL_KERNEL_CACHE), keyed
 * by the SHA-256 of the compressed payload: booting the same kernel again
 * skips the decompression (0.8 s for Debian's xz kernel here).  Entries are
 * written atomically (temporary file + rename); a damaged or unreadable
 * entry is ignored and rebuilt; only the newest few are kept.  Setting
 * VESSEL_KERNEL_CACHE to an empty string turns the cache off.
 */
uint8_t *loader_unpack_cached(const char *path, enum loader_compression format,
			      const uint8_t *payload, size_t payload_size, uint64_t max_size,
			      size_t *out_size, GError **error);

#define LOADER_CACHE_KEEP 4	/* unpacked kernels kept (about 65 MiB each for Debian's) */

#endif
