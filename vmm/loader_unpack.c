/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unpacking a bzImage's compressed kernel on the host, with the compression
 * libraries Debian ships.  The layout of the payload comes from the kernel
 * build: the compressor's output, then the unpacked size as 4 little-endian
 * bytes ("size_append", which the x86 decompressor reads as its output
 * length).  gzip needs no appended size: its own trailer ends with ISIZE, the
 * same 4 bytes.  Everything in the payload is untrusted: the announced size is
 * checked against the caller's limit before anything is allocated, and the
 * libraries decode into a buffer of exactly that size (plus one byte, to
 * notice a stream that unpacks to more).
 */
#include "loader_unpack.h"

#include <bzlib.h>
#include <inttypes.h>
#include <lz4.h>
#include <lzma.h>
#include <stdarg.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "error.h"

#define MIB			((uint64_t)1 << 20)

/*
 * No x86-64 kernel unpacks to more than its virtual mapping, KERNEL_IMAGE_SIZE
 * (1 GiB at most; the kernel's own decompressor refuses output beyond it), so
 * a bigger announced size is a damaged file, whatever memory the guest has.
 */
#define UNPACK_SIZE_MAX		(1024 * MIB)
/*
 * liblzma's memory limit.  The kernel build compresses with a 32 MiB (xz) or
 * 64 MiB (lzma -9) dictionary; a header asking for far more is damaged.
 */
#define UNPACK_LZMA_MEMLIMIT	(256 * MIB)
/* LZ4 legacy format (lz4 -l): every block unpacks to at most 8 MiB. */
#define LZ4_LEGACY_MAGIC	0x184c2102u
#define LZ4_LEGACY_BLOCK_SIZE	(8 << 20)
#define SIZE_TRAILER_BYTES	4

struct compression_magic {
	enum loader_compression format;
	const char *name;
	uint8_t magic[6];
	size_t magic_size;
};

/* boot.rst, "payload_offset", and each format's own definition. */
static const struct compression_magic compression_magics[] = {
	{ LOADER_COMPRESSION_GZIP, "gzip", { 0x1f, 0x8b }, 2 },			/* RFC 1952 §2.3.1 */
	{ LOADER_COMPRESSION_BZIP2, "bzip2", { 'B', 'Z', 'h' }, 3 },
	{ LOADER_COMPRESSION_LZMA, "lzma", { 0x5d, 0x00, 0x00 }, 3 },		/* lc=3 lp=0 pb=2, dictionary size */
	{ LOADER_COMPRESSION_XZ, "xz", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6 },	/* .xz format §2.1.1.1 */
	{ LOADER_COMPRESSION_LZO, "lzo", { 0x89, 'L', 'Z', 'O' }, 4 },		/* lzop */
	{ LOADER_COMPRESSION_LZ4, "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4 },	/* legacy frame */
	{ LOADER_COMPRESSION_ZSTD, "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4 },	/* RFC 8878 §3.1.1 */
};

enum loader_compression loader_compression_detect(const uint8_t *payload, size_t size)
{
	for (size_t i = 0; i < G_N_ELEMENTS(compression_magics); i++) {
		const struct compression_magic *m = &compression_magics[i];

		if (size >= m->magic_size && memcmp(payload, m->magic, m->magic_size) == 0)
			return m->format;
	}
	return LOADER_COMPRESSION_UNKNOWN;
}

const char *loader_compression_name(enum loader_compression format)
{
	for (size_t i = 0; i < G_N_ELEMENTS(compression_magics); i++)
		if (compression_magics[i].format == format)
			return compression_magics[i].name;
	return "unknown";
}

bool loader_compression_supported(enum loader_compression format)
{
	return format != LOADER_COMPRESSION_UNKNOWN && format != LOADER_COMPRESSION_LZO;
}

/* One unpacking run: the decoders fill out[] and say what went wrong. */
struct unpack_job {
	const uint8_t *in;
	size_t in_size;
	uint8_t *out;
	size_t out_cap;			/* announced size + 1 */
	size_t out_len;
	char *problem;			/* why the stream is unusable; NULL if it is fine */
	bool no_memory;			/* the host, not the file, is at fault */
};

static bool job_fail(struct unpack_job *job, const char *format, ...) G_GNUC_PRINTF(2, 3);

static bool job_fail(struct unpack_job *job, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_free(job->problem);
	job->problem = g_strdup_vprintf(format, ap);
	va_end(ap);
	return false;
}

static bool job_no_memory(struct unpack_job *job, const char *library)
{
	job->no_memory = true;
	return job_fail(job, "%s ran out of memory", library);
}

/* The decoder stopped before the end of the stream: which side ran out? */
static bool job_stopped(struct unpack_job *job, bool out_full)
{
	if (out_full)
		return job_fail(job, "it unpacks to more than the %zu bytes its size field announces",
				job->out_cap - 1);
	return job_fail(job, "the compressed data ends early (truncated)");
}

/* RFC 1952 through zlib; windowBits 16 + 15 asks for the gzip wrapper. */
static bool unpack_gzip(struct unpack_job *job)
{
	z_stream zs = { 0 };
	int ret;

	ret = inflateInit2(&zs, 16 + MAX_WBITS);
	if (ret != Z_OK)
		return ret == Z_MEM_ERROR ? job_no_memory(job, "zlib") : job_fail(job, "zlib: %s", zError(ret));
	zs.next_in = job->in;
	zs.avail_in = (uInt)job->in_size;
	zs.next_out = job->out;
	zs.avail_out = (uInt)job->out_cap;
	/* Everything is in memory: one call with Z_FINISH does the whole stream. */
	ret = inflate(&zs, Z_FINISH);
	job->out_len = zs.total_out;
	switch (ret) {
	case Z_STREAM_END:
		break;
	case Z_BUF_ERROR:
		job_stopped(job, zs.avail_out == 0);
		break;
	case Z_MEM_ERROR:
		job_no_memory(job, "zlib");
		break;
	default:
		job_fail(job, "the compressed data is corrupt (zlib: %s)", zs.msg ? zs.msg : zError(ret));
		break;
	}
	inflateEnd(&zs);
	return !job->problem;
}

static bool unpack_bzip2(struct unpack_job *job)
{
	bz_stream bs = { 0 };
	int ret;

	ret = BZ2_bzDecompressInit(&bs, 0, 0);
	if (ret != BZ_OK)
		return ret == BZ_MEM_ERROR ? job_no_memory(job, "libbz2") :
					     job_fail(job, "libbz2 failed to start (error %d)", ret);
	/* libbz2's API is not const-correct; it only reads next_in. */
	bs.next_in = (char *)job->in;
	bs.avail_in = (unsigned int)job->in_size;
	bs.next_out = (char *)job->out;
	bs.avail_out = (unsigned int)job->out_cap;
	do {
		ret = BZ2_bzDecompress(&bs);
	} while (ret == BZ_OK && bs.avail_in && bs.avail_out);
	job->out_len = job->out_cap - bs.avail_out;
	switch (ret) {
	case BZ_STREAM_END:
		break;
	case BZ_OK:
		job_stopped(job, bs.avail_out == 0);
		break;
	case BZ_MEM_ERROR:
		job_no_memory(job, "libbz2");
		break;
	case BZ_DATA_ERROR_MAGIC:
		job_fail(job, "it is not a bzip2 stream");
		break;
	default:
		job_fail(job, "the compressed data is corrupt (libbz2 error %d)", ret);
		break;
	}
	BZ2_bzDecompressEnd(&bs);
	return !job->problem;
}

/* .xz (xz file format 1.1.0) and the older .lzma ("LZMA_Alone") format. */
static bool unpack_lzma(struct unpack_job *job, bool xz)
{
	lzma_stream strm = LZMA_STREAM_INIT;
	lzma_ret ret;

	/* Flags 0: one stream; the size trailer after it is not a second one. */
	ret = xz ? lzma_stream_decoder(&strm, UNPACK_LZMA_MEMLIMIT, 0)
		 : lzma_alone_decoder(&strm, UNPACK_LZMA_MEMLIMIT);
	if (ret != LZMA_OK)
		return ret == LZMA_MEM_ERROR ? job_no_memory(job, "liblzma") :
					       job_fail(job, "liblzma failed to start (error %d)", ret);
	strm.next_in = job->in;
	strm.avail_in = job->in_size;
	strm.next_out = job->out;
	strm.avail_out = job->out_cap;
	/* liblzma reports LZMA_BUF_ERROR on the second call that makes no progress. */
	do {
		ret = lzma_code(&strm, LZMA_FINISH);
	} while (ret == LZMA_OK);
	job->out_len = job->out_cap - strm.avail_out;
	switch (ret) {
	case LZMA_STREAM_END:
		break;
	case LZMA_BUF_ERROR:
		job_stopped(job, strm.avail_out == 0);
		break;
	case LZMA_MEM_ERROR:
		job_no_memory(job, "liblzma");
		break;
	case LZMA_MEMLIMIT_ERROR:
		job_fail(job, "its header asks for more than %" PRIu64 " MiB of memory to unpack (%" PRIu64 " MiB)",
			 UNPACK_LZMA_MEMLIMIT / MIB, (uint64_t)(lzma_memusage(&strm) / MIB));
		break;
	case LZMA_FORMAT_ERROR:
		job_fail(job, "it is not an %s stream", xz ? "xz" : "lzma");
		break;
	case LZMA_OPTIONS_ERROR:
		job_fail(job, "it uses compression options liblzma does not support");
		break;
	default:
		job_fail(job, "the compressed data is corrupt (liblzma error %d)", ret);
		break;
	}
	lzma_end(&strm);
	return !job->problem;
}

static uint32_t read_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * LZ4's legacy frame (what "lz4 -l" writes, lz4_Frame_format.md "Legacy
 * frame"): the magic, then blocks of a 4-byte compressed size and that many
 * bytes, each unpacking to at most 8 MiB.  A repeated magic starts another
 * frame.  liblz4's frame API does not read it; its block decoder does the work.
 */
static bool unpack_lz4(struct unpack_job *job)
{
	const int block_bound = LZ4_compressBound(LZ4_LEGACY_BLOCK_SIZE);
	size_t pos = 0;

	while (pos < job->in_size) {
		uint32_t block_size;
		size_t room;
		int n;

		if (job->in_size - pos < 4)
			return job_fail(job, "the compressed data ends inside a block header (truncated)");
		block_size = read_le32(job->in + pos);
		pos += 4;
		if (block_size == LZ4_LEGACY_MAGIC)
			continue;
		if (block_size > (uint32_t)block_bound)
			return job_fail(job, "the compressed data is corrupt (an LZ4 block of %" PRIu32 " bytes, the most is %d)",
					block_size, block_bound);
		if (block_size > job->in_size - pos)
			return job_fail(job, "the compressed data ends early (truncated)");
		room = MIN(job->out_cap - job->out_len, (size_t)LZ4_LEGACY_BLOCK_SIZE);
		n = LZ4_decompress_safe((const char *)job->in + pos, (char *)job->out + job->out_len,
					(int)block_size, (int)room);
		if (n < 0)
			return job_fail(job, "the compressed data is corrupt, or unpacks to more than the %zu bytes its size field announces",
					job->out_cap - 1);
		job->out_len += (size_t)n;
		pos += block_size;
	}
	if (pos == 0 || job->out_len == 0)
		return job_fail(job, "it holds no compressed blocks");
	return true;
}

/* RFC 8878; only the first frame is the kernel. */
static bool unpack_zstd(struct unpack_job *job)
{
	size_t frame_size = ZSTD_findFrameCompressedSize(job->in, job->in_size);
	ZSTD_DCtx *dctx;
	size_t ret;

	if (ZSTD_isError(frame_size)) {
		if (ZSTD_getErrorCode(frame_size) == ZSTD_error_srcSize_wrong)
			return job_stopped(job, false);
		return job_fail(job, "the compressed data is corrupt (libzstd: %s)", ZSTD_getErrorName(frame_size));
	}
	dctx = ZSTD_createDCtx();
	if (!dctx)
		return job_no_memory(job, "libzstd");
	/* One call into the whole output buffer: no window buffer is needed. */
	ret = ZSTD_decompressDCtx(dctx, job->out, job->out_cap, job->in, frame_size);
	ZSTD_freeDCtx(dctx);
	if (!ZSTD_isError(ret)) {
		job->out_len = ret;
		return true;
	}
	switch (ZSTD_getErrorCode(ret)) {
	case ZSTD_error_dstSize_tooSmall:
		return job_stopped(job, true);
	case ZSTD_error_memory_allocation:
		return job_no_memory(job, "libzstd");
	case ZSTD_error_srcSize_wrong:
		return job_stopped(job, false);
	default:
		return job_fail(job, "the compressed data is corrupt (libzstd: %s)", ZSTD_getErrorName(ret));
	}
}

uint8_t *loader_unpack(const char *path, enum loader_compression format, const uint8_t *payload,
		       size_t payload_size, uint64_t max_size, size_t *out_size, GError **error)
{
	const char *name = loader_compression_name(format);
	struct unpack_job job = { 0 };
	uint64_t announced;
	bool ok;

	if (!loader_compression_supported(format)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': vessel-vmm cannot unpack a %s-compressed kernel; boot it with --guest-decompress",
			    path, name);
		return NULL;
	}
	if (payload_size <= SIZE_TRAILER_BYTES || payload_size > UINT32_MAX) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': its %s-compressed kernel is %zu bytes long, which cannot be right; the file is damaged",
			    path, name, payload_size);
		return NULL;
	}
	announced = read_le32(payload + payload_size - SIZE_TRAILER_BYTES);
	max_size = MIN(max_size, UNPACK_SIZE_MAX);
	if (announced == 0 || announced > max_size) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': its %s-compressed kernel says it unpacks to %" PRIu64 " bytes, but at most %" PRIu64 " (%" PRIu64 " MiB) can be right; the file is damaged",
			    path, name, announced, max_size, max_size / MIB);
		return NULL;
	}

	job.in = payload;
	/* gzip's ISIZE is part of its stream; the others have the size appended. */
	job.in_size = format == LOADER_COMPRESSION_GZIP ? payload_size : payload_size - SIZE_TRAILER_BYTES;
	job.out_cap = announced + 1;
	job.out = g_try_malloc(job.out_cap);
	if (!job.out) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY,
			    "'%s': not enough host memory to unpack its kernel (%" PRIu64 " MiB)",
			    path, announced / MIB);
		return NULL;
	}

	switch (format) {
	case LOADER_COMPRESSION_GZIP:
		ok = unpack_gzip(&job);
		break;
	case LOADER_COMPRESSION_BZIP2:
		ok = unpack_bzip2(&job);
		break;
	case LOADER_COMPRESSION_LZMA:
		ok = unpack_lzma(&job, false);
		break;
	case LOADER_COMPRESSION_XZ:
		ok = unpack_lzma(&job, true);
		break;
	case LOADER_COMPRESSION_LZ4:
		ok = unpack_lz4(&job);
		break;
	case LOADER_COMPRESSION_ZSTD:
		ok = unpack_zstd(&job);
		break;
	default:
		g_assert_not_reached();
	}
	if (ok && job.out_len > announced)
		ok = job_stopped(&job, true);
	else if (ok && job.out_len < announced)
		ok = job_fail(&job, "it unpacks to %zu bytes, but its size field announces %" PRIu64,
			      job.out_len, announced);
	if (!ok) {
		g_set_error(error, VESSEL_ERROR, job.no_memory ? VESSEL_ERROR_NO_MEMORY : VESSEL_ERROR_BAD_IMAGE,
			    "'%s': cannot unpack its %s-compressed kernel: %s; %s",
			    path, name, job.problem,
			    job.no_memory ? "free some host memory" :
			    "the file looks damaged (--guest-decompress lets the kernel try to unpack itself)");
		g_free(job.problem);
		g_free(job.out);
		return NULL;
	}
	*out_size = job.out_len;
	return job.out;
}
