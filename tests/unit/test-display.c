/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The display core: formats, mode checks, dirty pages to rectangles, PNG screenshots. */
#include <glib.h>
#include <glib/gstdio.h>
#include <png.h>
#include <string.h>

#include "display.h"

#define VRAM_SIZE (4u << 20)

struct fake_source {
	uint8_t *vram;
	uint64_t dirty[VRAM_SIZE / 4096 / 64];
	bool can_track;
	unsigned int harvests;
};

static bool fake_harvest(void *opaque, uint64_t *bitmap, uint64_t nr_pages)
{
	struct fake_source *src = opaque;

	g_assert_cmpuint(nr_pages, ==, VRAM_SIZE / 4096);
	src->harvests++;
	memcpy(bitmap, src->dirty, sizeof(src->dirty));
	memset(src->dirty, 0, sizeof(src->dirty));
	return src->can_track;
}

static const struct display_source_ops fake_ops = { .harvest_dirty = fake_harvest };

/* The guest's write: the page is dirty (and, for poke, a byte changed). */
static void touch(struct fake_source *src, uint64_t offset)
{
	src->dirty[offset / 4096 / 64] |= 1ULL << (offset / 4096 % 64);
}

static void poke(struct fake_source *src, uint64_t offset)
{
	src->vram[offset] ^= 0x5a;
	touch(src, offset);
}

struct recorder {
	unsigned int modes;
	struct display_surface last_mode;
	GArray *rects;
};

static void rec_mode(void *opaque, const struct display_surface *s)
{
	struct recorder *r = opaque;

	r->modes++;
	r->last_mode = *s;
}

static void rec_update(void *opaque, const struct display_surface *s, const struct display_rect *rect)
{
	struct recorder *r = opaque;

	g_assert_cmpuint(rect->x + rect->width, <=, s->width);
	g_assert_cmpuint(rect->y + rect->height, <=, s->height);
	g_array_append_val(r->rects, *rect);
}

static const struct display_listener_ops rec_ops = { .mode_changed = rec_mode, .update = rec_update };

struct fixture {
	struct display *display;
	struct fake_source src;
	struct recorder rec;
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->src.vram = g_malloc0(VRAM_SIZE);
	f->src.can_track = true;
	f->display = display_new();
	display_set_source(f->display, f->src.vram, VRAM_SIZE, &fake_ops, &f->src);
	f->rec.rects = g_array_new(FALSE, FALSE, sizeof(struct display_rect));
	display_add_listener(f->display, &rec_ops, &f->rec);
}

static void fixture_clear(struct fixture *f)
{
	display_remove_listener(f->display, &rec_ops, &f->rec);
	display_free(f->display);
	g_array_free(f->rec.rects, TRUE);
	g_free(f->src.vram);
}

static bool set_mode(struct fixture *f, unsigned int w, unsigned int h, unsigned int stride,
		     enum display_format format, uint64_t offset)
{
	struct display_surface s = {
		.width = w, .height = h, .stride_bytes = stride, .format = format,
		.pixels = f->src.vram + offset,
	};

	return display_set_mode(f->display, &s);
}

static void test_pixel_formats(void)
{
	uint8_t px[4];
	struct display_surface s = { .width = 1, .height = 1, .stride_bytes = 4, .pixels = px };

	memcpy(px, (uint8_t[]){ 0x33, 0x22, 0x11, 0xff }, 4);
	s.format = DISPLAY_FORMAT_XRGB8888;
	g_assert_cmphex(display_surface_pixel(&s, 0, 0), ==, 0x112233);
	s.format = DISPLAY_FORMAT_RGB888;
	g_assert_cmphex(display_surface_pixel(&s, 0, 0), ==, 0x112233);
	/* RGB565 full red, full green, full blue widen to full scale. */
	s.format = DISPLAY_FORMAT_RGB565;
	memcpy(px, (uint8_t[]){ 0x00, 0xf8 }, 2);
	g_assert_cmphex(display_surface_pixel(&s, 0, 0), ==, 0xff0000);
	memcpy(px, (uint8_t[]){ 0xe0, 0x07 }, 2);
	g_assert_cmphex(display_surface_pixel(&s, 0, 0), ==, 0x00ff00);
	memcpy(px, (uint8_t[]){ 0x1f, 0x00 }, 2);
	g_assert_cmphex(display_surface_pixel(&s, 0, 0), ==, 0x0000ff);
	/* r5 = 0b10000 -> 0b10000100 */
	memcpy(px, (uint8_t[]){ 0x00, 0x80 }, 2);
	g_assert_cmphex(display_surface_pixel(&s, 0, 0), ==, 0x840000);
	s.format = DISPLAY_FORMAT_XRGB1555;
	memcpy(px, (uint8_t[]){ 0xe0, 0x03 }, 2);
	g_assert_cmphex(display_surface_pixel(&s, 0, 0), ==, 0x00ff00);
	s.format = DISPLAY_FORMAT_C8;
	px[0] = 7;
	s.palette[7] = 0x123456;
	g_assert_cmphex(display_surface_pixel(&s, 0, 0), ==, 0x123456);
}

static void test_mode_must_fit(void)
{
	struct fixture f;
	struct display_surface s;

	fixture_init(&f);
	g_assert_true(set_mode(&f, 1024, 768, 4096, DISPLAY_FORMAT_XRGB8888, 0));
	display_get_surface(f.display, &s);
	g_assert_cmpint(s.format, ==, DISPLAY_FORMAT_XRGB8888);
	/* Exactly the last byte of video memory: fits. */
	g_assert_true(set_mode(&f, 1024, 1, 4096, DISPLAY_FORMAT_XRGB8888, VRAM_SIZE - 4096));
	/* One line too many, a stride shorter than a line, an offset past the end: none. */
	g_assert_false(set_mode(&f, 1024, 1025, 4096, DISPLAY_FORMAT_XRGB8888, 0));
	display_get_surface(f.display, &s);
	g_assert_cmpint(s.format, ==, DISPLAY_FORMAT_NONE);
	g_assert_null(s.pixels);
	g_assert_false(set_mode(&f, 1024, 16, 4000, DISPLAY_FORMAT_XRGB8888, 0));
	g_assert_false(set_mode(&f, 16, 16, 64, DISPLAY_FORMAT_XRGB8888, VRAM_SIZE - 64));
	g_assert_false(set_mode(&f, 65535, 65535, 65535u * 4, DISPLAY_FORMAT_XRGB8888, 0));
	fixture_clear(&f);
}

static void test_changed_blocks(void)
{
	struct fixture f;
	const struct display_rect *r;

	fixture_init(&f);
	/* 1024x768x4: one line is exactly one page. */
	g_assert_true(set_mode(&f, 1024, 768, 4096, DISPLAY_FORMAT_XRGB8888, 0));
	g_assert_cmpuint(display_refresh(f.display), ==, 1);	/* new mode: everything */
	g_assert_cmpuint(f.rec.modes, ==, 1);
	g_array_set_size(f.rec.rects, 0);

	/* Idle: nothing. */
	g_assert_cmpuint(display_refresh(f.display), ==, 0);
	g_assert_cmpuint(f.rec.rects->len, ==, 0);

	/* Pixels 25 of line 10 and 0 of line 11: the first 32-pixel block of both. */
	poke(&f.src, 10 * 4096 + 100);
	poke(&f.src, 11 * 4096);
	/* The last pixel of line 100: its last block. */
	poke(&f.src, 100 * 4096 + 4095);
	g_assert_cmpuint(display_refresh(f.display), ==, 2);
	r = &g_array_index(f.rec.rects, struct display_rect, 0);
	g_assert_cmpuint(r->x, ==, 0);
	g_assert_cmpuint(r->width, ==, 32);
	g_assert_cmpuint(r->y, ==, 10);
	g_assert_cmpuint(r->height, ==, 2);
	r = &g_array_index(f.rec.rects, struct display_rect, 1);
	g_assert_cmpuint(r->x, ==, 992);
	g_assert_cmpuint(r->width, ==, 32);
	g_assert_cmpuint(r->y, ==, 100);
	g_assert_cmpuint(r->height, ==, 1);
	g_assert_cmpuint(f.rec.modes, ==, 1);

	/* A page written with the same pixels, or beyond the surface: nothing. */
	g_array_set_size(f.rec.rects, 0);
	touch(&f.src, 50 * 4096);
	poke(&f.src, 900 * 4096);
	g_assert_cmpuint(display_refresh(f.display), ==, 0);

	/* Changed pixels the dirty log did not report stay unreported. */
	f.src.vram[60 * 4096] ^= 1;
	g_assert_cmpuint(display_refresh(f.display), ==, 0);

	/* A source that cannot track: the whole surface, every time. */
	f.src.can_track = false;
	g_assert_cmpuint(display_refresh(f.display), ==, 1);
	r = &g_array_index(f.rec.rects, struct display_rect, 0);
	g_assert_cmpuint(r->height, ==, 768);
	fixture_clear(&f);
}

static void test_changed_blocks_of_wide_lines(void)
{
	struct fixture f;
	const struct display_rect *r;

	fixture_init(&f);
	/* 1920x32 at 32 bpp: a line is 7680 bytes, almost two pages. */
	g_assert_true(set_mode(&f, 1920, 32, 7680, DISPLAY_FORMAT_XRGB8888, 0));
	display_refresh(f.display);
	g_array_set_size(f.rec.rects, 0);
	/* Byte 1024 of line 10 (76800 + 1024, in page 19) is pixel 256. */
	poke(&f.src, 76800 + 1024);
	g_assert_cmpuint(display_refresh(f.display), ==, 1);
	r = &g_array_index(f.rec.rects, struct display_rect, 0);
	g_assert_cmpuint(r->x, ==, 256);
	g_assert_cmpuint(r->width, ==, 32);
	g_assert_cmpuint(r->y, ==, 10);
	g_assert_cmpuint(r->height, ==, 1);

	/*
	 * A 64-pixel-wide column changed on lines 4-7 and pixel 1900 of
	 * line 5: two rectangles, not one as wide as the screen.
	 */
	g_array_set_size(f.rec.rects, 0);
	for (unsigned int y = 4; y < 8; y++) {
		poke(&f.src, (uint64_t)y * 7680 + 640 * 4);
		poke(&f.src, (uint64_t)y * 7680 + 700 * 4);
	}
	poke(&f.src, 5 * 7680 + 1900 * 4);
	g_assert_cmpuint(display_refresh(f.display), ==, 2);
	r = &g_array_index(f.rec.rects, struct display_rect, 0);
	g_assert_cmpuint(r->x, ==, 1888);	/* line 5's block ends first */
	g_assert_cmpuint(r->y, ==, 5);
	g_assert_cmpuint(r->width, ==, 32);
	g_assert_cmpuint(r->height, ==, 1);
	r = &g_array_index(f.rec.rects, struct display_rect, 1);
	g_assert_cmpuint(r->x, ==, 640);	/* pixels 640 and 700: blocks 20 and 21 */
	g_assert_cmpuint(r->width, ==, 64);
	g_assert_cmpuint(r->y, ==, 4);
	g_assert_cmpuint(r->height, ==, 4);
	fixture_clear(&f);
}

static void test_offset_surface_and_invalidate(void)
{
	struct fixture f;
	const struct display_rect *r;

	fixture_init(&f);
	/* 640x480x2 starting half-way into page 3: line 0 spans pages 3 and 3+. */
	g_assert_true(set_mode(&f, 640, 480, 1280, DISPLAY_FORMAT_RGB565, 3 * 4096 + 2048));
	display_refresh(f.display);
	g_array_set_size(f.rec.rects, 0);
	/* Pixel 0 of line 1 (byte 1280 of the surface), in page 3 like all of line 0. */
	poke(&f.src, 3 * 4096 + 2048 + 1280);
	g_assert_cmpuint(display_refresh(f.display), ==, 1);
	r = &g_array_index(f.rec.rects, struct display_rect, 0);
	g_assert_cmpuint(r->x, ==, 0);
	g_assert_cmpuint(r->width, ==, 32);
	g_assert_cmpuint(r->y, ==, 1);
	g_assert_cmpuint(r->height, ==, 1);

	g_array_set_size(f.rec.rects, 0);
	display_invalidate(f.display);
	g_assert_cmpuint(display_refresh(f.display), ==, 1);
	r = &g_array_index(f.rec.rects, struct display_rect, 0);
	g_assert_cmpuint(r->height, ==, 480);
	fixture_clear(&f);
}

/* Reads a PNG back with libpng: 8-bit RGB rows. */
static uint8_t *read_png(const char *path, unsigned int *w, unsigned int *h)
{
	FILE *fp = fopen(path, "rb");
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	uint8_t *pixels;

	g_assert_nonnull(fp);
	png_init_io(png, fp);
	png_read_info(png, info);
	*w = png_get_image_width(png, info);
	*h = png_get_image_height(png, info);
	g_assert_cmpint(png_get_color_type(png, info), ==, PNG_COLOR_TYPE_RGB);
	g_assert_cmpint(png_get_bit_depth(png, info), ==, 8);
	pixels = g_malloc((size_t)*w * *h * 3);
	for (unsigned int y = 0; y < *h; y++)
		png_read_row(png, pixels + (size_t)y * *w * 3, NULL);
	png_destroy_read_struct(&png, &info, NULL);
	fclose(fp);
	return pixels;
}

static void test_screendump(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vessel-display-XXXXXX", &error);
	g_autofree char *path = g_build_filename(dir, "shot.png", NULL);
	g_autofree char *bad = g_build_filename(dir, "missing", "shot.png", NULL);
	g_autofree uint8_t *pixels = NULL;
	struct fixture f;
	unsigned int w, h;

	fixture_init(&f);
	/* No mode yet: a clear error, no file. */
	g_assert_false(display_screendump(f.display, path, &error));
	g_assert_nonnull(strstr(error->message, "has not set a display mode"));
	g_clear_error(&error);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	/* 37x5 XRGB8888 with a stride of 160 bytes: pixel (x,y) = x, y, x^y. */
	for (unsigned int y = 0; y < 5; y++)
		for (unsigned int x = 0; x < 37; x++) {
			uint8_t *p = f.src.vram + 4096 + y * 160 + x * 4;

			p[0] = (uint8_t)(x ^ y);	/* blue */
			p[1] = (uint8_t)y;
			p[2] = (uint8_t)x;
		}
	g_assert_true(set_mode(&f, 37, 5, 160, DISPLAY_FORMAT_XRGB8888, 4096));
	g_assert_true(display_screendump(f.display, path, &error));
	g_assert_no_error(error);
	pixels = read_png(path, &w, &h);
	g_assert_cmpuint(w, ==, 37);
	g_assert_cmpuint(h, ==, 5);
	for (unsigned int y = 0; y < 5; y++)
		for (unsigned int x = 0; x < 37; x++) {
			const uint8_t *p = pixels + (y * 37 + x) * 3;

			g_assert_cmpuint(p[0], ==, x);
			g_assert_cmpuint(p[1], ==, y);
			g_assert_cmpuint(p[2], ==, x ^ y);
		}
	/* A directory that does not exist: the error names the file. */
	g_assert_false(display_screendump(f.display, bad, &error));
	g_assert_nonnull(strstr(error->message, bad));
	g_clear_error(&error);

	g_unlink(path);
	g_rmdir(dir);
	fixture_clear(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/display/pixel-formats", test_pixel_formats);
	g_test_add_func("/display/mode-must-fit", test_mode_must_fit);
	g_test_add_func("/display/changed-blocks", test_changed_blocks);
	g_test_add_func("/display/changed-blocks-of-wide-lines", test_changed_blocks_of_wide_lines);
	g_test_add_func("/display/offset-surface-and-invalidate", test_offset_surface_and_invalidate);
	g_test_add_func("/display/screendump", test_screendump);
	return g_test_run();
}
