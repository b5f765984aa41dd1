/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "display.h"

#include <gio/gio.h>

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * libpng reports errors through longjmp; this keeps the message so the
 * caller's GError can carry it.
 */
struct png_failure {
	char message[256];
};

static void png_error_handler(png_structp png, png_const_charp message)
{
	struct png_failure *failure = png_get_error_ptr(png);

	g_strlcpy(failure->message, message, sizeof(failure->message));
	png_longjmp(png, 1);
}

static void png_warning_handler(png_structp png, png_const_charp message)
{
}

/* Writes surface s to f as 8-bit RGB. Returns false with failure->message set. */
static bool write_png(FILE *f, const struct display_surface *s, struct png_failure *failure)
{
	png_structp png;
	png_infop info = NULL;
	uint8_t *volatile row = NULL;
	volatile bool ok = false;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, failure, png_error_handler,
				      png_warning_handler);
	if (!png) {
		g_strlcpy(failure->message, "out of memory", sizeof(failure->message));
		return false;
	}
	info = png_create_info_struct(png);
	if (!info) {
		g_strlcpy(failure->message, "out of memory", sizeof(failure->message));
		goto out;
	}
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	/* Screenshots favour speed: the guest picture may change while we read it. */
	png_set_compression_level(png, 1);
	png_set_IHDR(png, info, s->width, s->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	row = g_malloc((size_t)s->width * 3);
	for (unsigned int y = 0; y < s->height; y++) {
		for (unsigned int x = 0; x < s->width; x++) {
			uint32_t rgb = display_surface_pixel(s, x, y);

			row[3 * x] = (uint8_t)(rgb >> 16);
			row[3 * x + 1] = (uint8_t)(rgb >> 8);
			row[3 * x + 2] = (uint8_t)rgb;
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ok = true;
out:
	g_free(row);
	png_destroy_write_struct(&png, &info);
	return ok;
}

bool display_screendump(struct display *display, const char *path, GError **error)
{
	struct display_surface s;
	struct png_failure failure = { "" };
	g_autofree char *tmp = NULL;
	FILE *f;
	int fd;

	display_get_surface(display, &s);
	if (s.format == DISPLAY_FORMAT_NONE) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
			    "no picture to save: the guest has not set a display mode yet");
		return false;
	}
	/* A temporary file next to the target, renamed over it once complete. */
	tmp = g_strdup_printf("%s.XXXXXX", path);
	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
			    "cannot write the screenshot '%s': %s", path, g_strerror(err));
		return false;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		unlink(tmp);
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOMEM, "out of memory");
		return false;
	}
	if (!write_png(f, &s, &failure) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		int err = errno;

		fclose(f);
		unlink(tmp);
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot write the screenshot '%s': %s",
			    path, failure.message[0] ? failure.message : g_strerror(err));
		return false;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int err = errno;

		unlink(tmp);
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
			    "cannot write the screenshot '%s': %s", path, g_strerror(err));
		return false;
	}
	return true;
}
