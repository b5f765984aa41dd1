/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_LOADER_UNPACK_H
#define VESSEL_VMM_LOADER_UNPACK_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The compressed kernel inside a bzImage (boot.rst, "payload_offset"),
 * unpacked on the host with Debian's libraries (zlib, libbz2, liblzma, liblz4,
 * libzstd) instead of by the kernel's own decompressor in the guest.
 */
enum loader_compression {
	LOADER_COMPRESSION_UNKNOWN,
	LOADER_COMPRESSION_GZIP,
	LOADER_COMPRESSION_BZIP2,
	LOADER_COMPRESSION_LZMA,
	LOADER_COMPRESSION_XZ,
	LOADER_COMPRESSION_LZO,
	LOADER_COMPRESSION_LZ4,
	LOADER_COMPRESSION_ZSTD,
};

/* Recognizes a payload by its magic number; UNKNOWN when none matches. */
enum loader_compression loader_compression_detect(const uint8_t *payload, size_t size);
/* "xz", "gzip", ...; "unknown" for UNKNOWN. */
const char *loader_compression_name(enum loader_compression format);
/* Whether loader_unpack() handles it (LZO is recognized, not unpacked). */
bool loader_compression_supported(enum loader_compression format);

/*
 * Unpacks a payload as the kernel build lays it out: the compressed stream,
 * whose last 4 bytes are the unpacked size (little-endian; gzip's own ISIZE,
 * appended by the build's size_append for the other formats).  The payload
 * must unpack to exactly that size, and that size must be at most max_size.
 * `path` names the kernel in messages.  Returns the data (g_free() it) and its
 * size in *out_size, or NULL with a VESSEL_ERROR_BAD_IMAGE (damaged or absurd
 * payload) or VESSEL_ERROR_NO_MEMORY error.
 */
uint8_t *loader_unpack(const char *path, enum loader_compression format, const uint8_t *payload,
		       size_t payload_size, uint64_t max_size, size_t *out_size, GError **error);

#endif
