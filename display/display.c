/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "display.h"

#include <string.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)

struct display_listener {
	const struct display_listener_ops *ops;
	void *opaque;
};

struct display {
	GMutex lock;			/* mode, source, listeners */
	GMutex refresh_lock;		/* one refresh at a time */

	const uint8_t *vram;
	uint64_t vram_size_bytes;
	const struct display_source_ops *source_ops;
	void *source_opaque;

	struct display_surface surface;
	bool mode_changed;		/* since the last refresh */
	bool all_dirty;			/* since the last refresh */

	GArray *listeners;		/* struct display_listener */
	uint64_t *dirty_bitmap;		/* refresh_lock; one bit per VRAM page */
	uint64_t dirty_words;
};

unsigned int display_format_bytes_per_pixel(enum display_format format)
{
	switch (format) {
	case DISPLAY_FORMAT_XRGB8888: return 4;
	case DISPLAY_FORMAT_RGB888: return 3;
	case DISPLAY_FORMAT_RGB565:
	case DISPLAY_FORMAT_XRGB1555: return 2;
	case DISPLAY_FORMAT_C8: return 1;
	case DISPLAY_FORMAT_NONE: break;
	}
	return 0;
}

const char *display_format_name(enum display_format format)
{
	switch (format) {
	case DISPLAY_FORMAT_XRGB8888: return "xrgb8888";
	case DISPLAY_FORMAT_RGB888: return "rgb888";
	case DISPLAY_FORMAT_RGB565: return "rgb565";
	case DISPLAY_FORMAT_XRGB1555: return "xrgb1555";
	case DISPLAY_FORMAT_C8: return "c8";
	case DISPLAY_FORMAT_NONE: break;
	}
	return "none";
}

/* Widens a 5- or 6-bit channel to 8 bits so full scale stays full scale. */
static inline uint32_t expand5(uint32_t v) { return (v << 3) | (v >> 2); }
static inline uint32_t expand6(uint32_t v) { return (v << 2) | (v >> 4); }

uint32_t display_surface_pixel(const struct display_surface *s, unsigned int x, unsigned int y)
{
	const uint8_t *p = s->pixels + (size_t)y * s->stride_bytes +
			   (size_t)x * display_format_bytes_per_pixel(s->format);
	uint32_t v;

	switch (s->format) {
	case DISPLAY_FORMAT_XRGB8888:
		return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	case DISPLAY_FORMAT_RGB888:
		return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	case DISPLAY_FORMAT_RGB565:
		v = p[0] | (uint32_t)p[1] << 8;
		return expand5(v >> 11) << 16 | expand6((v >> 5) & 0x3f) << 8 | expand5(v & 0x1f);
	case DISPLAY_FORMAT_XRGB1555:
		v = p[0] | (uint32_t)p[1] << 8;
		return expand5((v >> 10) & 0x1f) << 16 | expand5((v >> 5) & 0x1f) << 8 |
		       expand5(v & 0x1f);
	case DISPLAY_FORMAT_C8:
		return s->palette[p[0]] & 0xffffff;
	case DISPLAY_FORMAT_NONE:
		break;
	}
	return 0;
}

struct display *display_new(void)
{
	struct display *d = g_new0(struct display, 1);

	g_mutex_init(&d->lock);
	g_mutex_init(&d->refresh_lock);
	d->listeners = g_array_new(FALSE, FALSE, sizeof(struct display_listener));
	return d;
}

void display_free(struct display *d)
{
	if (!d)
		return;
	g_array_free(d->listeners, TRUE);
	g_free(d->dirty_bitmap);
	g_mutex_clear(&d->refresh_lock);
	g_mutex_clear(&d->lock);
	g_free(d);
}

void display_set_source(struct display *d, const uint8_t *vram, uint64_t vram_size_bytes,
			const struct display_source_ops *ops, void *opaque)
{
	uint64_t pages = (vram_size_bytes + PAGE_SIZE - 1) >> PAGE_SHIFT;

	g_mutex_lock(&d->refresh_lock);
	g_mutex_lock(&d->lock);
	d->vram = vram;
	d->vram_size_bytes = vram_size_bytes;
	d->source_ops = ops;
	d->source_opaque = opaque;
	g_free(d->dirty_bitmap);
	d->dirty_words = (pages + 63) / 64;
	d->dirty_bitmap = g_new0(uint64_t, d->dirty_words ? d->dirty_words : 1);
	d->surface = (struct display_surface){ .format = DISPLAY_FORMAT_NONE,
					       .generation = d->surface.generation + 1 };
	d->mode_changed = true;
	g_mutex_unlock(&d->lock);
	g_mutex_unlock(&d->refresh_lock);
}

/* The surface's last byte lies inside video memory (overflow-safe). */
static bool surface_fits(const struct display *d, const struct display_surface *s)
{
	unsigned int bpp = display_format_bytes_per_pixel(s->format);
	uint64_t offset, line_bytes, span;

	if (!d->vram || !bpp || !s->width || !s->height || !s->pixels)
		return false;
	if (s->pixels < d->vram || s->pixels >= d->vram + d->vram_size_bytes)
		return false;
	offset = (uint64_t)(s->pixels - d->vram);
	line_bytes = (uint64_t)s->width * bpp;
	if (s->stride_bytes < line_bytes)
		return false;
	span = (uint64_t)(s->height - 1) * s->stride_bytes + line_bytes;
	return span <= d->vram_size_bytes - offset;
}

bool display_set_mode(struct display *d, const struct display_surface *surface)
{
	struct display_surface s = *surface;
	bool fits = true;

	g_mutex_lock(&d->lock);
	if (s.format != DISPLAY_FORMAT_NONE && !surface_fits(d, &s)) {
		s.format = DISPLAY_FORMAT_NONE;
		fits = false;
	}
	if (s.format == DISPLAY_FORMAT_NONE) {
		s.width = s.height = s.stride_bytes = 0;
		s.pixels = NULL;
	}
	s.generation = d->surface.generation + 1;
	d->surface = s;
	d->mode_changed = true;
	g_mutex_unlock(&d->lock);
	return fits;
}

void display_invalidate(struct display *d)
{
	g_mutex_lock(&d->lock);
	d->all_dirty = true;
	g_mutex_unlock(&d->lock);
}

void display_add_listener(struct display *d, const struct display_listener_ops *ops, void *opaque)
{
	struct display_listener l = { .ops = ops, .opaque = opaque };

	g_mutex_lock(&d->refresh_lock);
	g_mutex_lock(&d->lock);
	g_array_append_val(d->listeners, l);
	/* A new listener starts from a whole picture at the next refresh. */
	d->mode_changed = true;
	g_mutex_unlock(&d->lock);
	g_mutex_unlock(&d->refresh_lock);
}

void display_remove_listener(struct display *d, const struct display_listener_ops *ops, void *opaque)
{
	g_mutex_lock(&d->refresh_lock);
	g_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->listeners->len; i++) {
		struct display_listener *l = &g_array_index(d->listeners, struct display_listener, i);

		if (l->ops == ops && l->opaque == opaque) {
			g_array_remove_index(d->listeners, i);
			break;
		}
	}
	g_mutex_unlock(&d->lock);
	g_mutex_unlock(&d->refresh_lock);
}

void display_get_surface(struct display *d, struct display_surface *surface)
{
	g_mutex_lock(&d->lock);
	*surface = d->surface;
	g_mutex_unlock(&d->lock);
}

static void notify_update(GArray *listeners, const struct display_surface *s,
			  const struct display_rect *r)
{
	for (unsigned int i = 0; i < listeners->len; i++) {
		const struct display_listener *l = &g_array_index(listeners, struct display_listener, i);

		l->ops->update(l->opaque, s, r);
	}
}

static bool page_dirty(const uint64_t *bitmap, uint64_t page)
{
	return (bitmap[page / 64] >> (page % 64)) & 1;
}

/*
 * The pixels of line y that lie in dirty pages, as [*x0, *x1); false if
 * none.  A page holds 1024 pixels of a 32-bpp line, so on wide screens a
 * change in one page is narrower than the line.
 */
static bool dirty_span(const struct display_surface *s, const uint64_t *bitmap, uint64_t offset,
		       unsigned int y, unsigned int *x0, unsigned int *x1)
{
	unsigned int bpp = display_format_bytes_per_pixel(s->format);
	uint64_t line_start = offset + (uint64_t)y * s->stride_bytes;
	uint64_t line_end = line_start + (uint64_t)s->width * bpp;
	uint64_t lo = UINT64_MAX, hi = 0;

	for (uint64_t p = line_start >> PAGE_SHIFT; p <= (line_end - 1) >> PAGE_SHIFT; p++) {
		if (!page_dirty(bitmap, p))
			continue;
		lo = MIN(lo, MAX(p << PAGE_SHIFT, line_start));
		hi = MAX(hi, MIN((p + 1) << PAGE_SHIFT, line_end));
	}
	if (lo >= hi)
		return false;
	*x0 = (unsigned int)((lo - line_start) / bpp);
	*x1 = (unsigned int)((hi - line_start + bpp - 1) / bpp);
	return true;
}

/*
 * Turns dirty pages into rectangles: runs of lines that touch a dirty page,
 * each as wide as the union of the dirty parts of its lines.
 */
static unsigned int deliver_dirty_lines(GArray *listeners, const struct display_surface *s,
					const uint64_t *bitmap, uint64_t offset)
{
	unsigned int rects = 0, band_start = 0, band_x0 = 0, band_x1 = 0, x0, x1;
	bool in_band = false;

	for (unsigned int y = 0; y <= s->height; y++) {
		bool dirty = y < s->height && dirty_span(s, bitmap, offset, y, &x0, &x1);

		if (dirty && !in_band) {
			band_start = y;
			band_x0 = x0;
			band_x1 = x1;
			in_band = true;
		} else if (dirty) {
			band_x0 = MIN(band_x0, x0);
			band_x1 = MAX(band_x1, x1);
		} else if (in_band) {
			struct display_rect r = { band_x0, band_start, band_x1 - band_x0, y - band_start };

			notify_update(listeners, s, &r);
			rects++;
			in_band = false;
		}
	}
	return rects;
}

unsigned int display_refresh(struct display *d)
{
	struct display_surface s;
	bool mode_changed, all_dirty;
	unsigned int rects = 0;
	GArray *listeners;

	g_mutex_lock(&d->refresh_lock);
	g_mutex_lock(&d->lock);
	s = d->surface;
	mode_changed = d->mode_changed;
	all_dirty = d->all_dirty || mode_changed;
	d->mode_changed = d->all_dirty = false;
	/* Listeners change only under refresh_lock, which we hold: a copy is stable. */
	listeners = d->listeners;
	g_mutex_unlock(&d->lock);

	if (d->source_ops && d->dirty_bitmap) {
		memset(d->dirty_bitmap, 0, d->dirty_words * sizeof(uint64_t));
		/* Always harvest, even after a mode change, so stale bits do not linger. */
		if (!d->source_ops->harvest_dirty(d->source_opaque, d->dirty_bitmap,
						  (d->vram_size_bytes + PAGE_SIZE - 1) >> PAGE_SHIFT))
			all_dirty = true;
	}
	if (mode_changed) {
		for (unsigned int i = 0; i < listeners->len; i++) {
			const struct display_listener *l =
				&g_array_index(listeners, struct display_listener, i);

			l->ops->mode_changed(l->opaque, &s);
		}
	}
	if (s.format != DISPLAY_FORMAT_NONE) {
		if (all_dirty) {
			struct display_rect r = { 0, 0, s.width, s.height };

			notify_update(listeners, &s, &r);
			rects = 1;
		} else if (d->dirty_bitmap) {
			rects = deliver_dirty_lines(listeners, &s, d->dirty_bitmap,
						    (uint64_t)(s.pixels - d->vram));
		}
	}
	g_mutex_unlock(&d->refresh_lock);
	return rects;
}
