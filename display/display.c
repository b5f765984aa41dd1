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

	/*
	 * What listeners were last told the screen holds (refresh_lock), line
	 * after line without padding: dirty pages are compared with it block
	 * by block, so a change is reported as the blocks that changed, not as
	 * the pages (1024 pixels of a line) the guest wrote.
	 */
	uint8_t *shadow;
	size_t shadow_size;
};

#define BLOCK_PIXELS	32		/* the unit of change reported */
#define MAX_BLOCKS	(8192 / BLOCK_PIXELS)	/* per line; wider surfaces use larger blocks */

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
	g_free(d->shadow);
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
 * The bytes of line y that lie in dirty pages, as [*lo, *hi) from the start
 * of the line; false if none.
 */
static bool dirty_span(const struct display_surface *s, const uint64_t *bitmap, uint64_t offset,
		       unsigned int y, uint64_t *lo, uint64_t *hi)
{
	uint64_t line_start = offset + (uint64_t)y * s->stride_bytes;
	uint64_t line_end = line_start + (uint64_t)s->width * display_format_bytes_per_pixel(s->format);
	uint64_t first = UINT64_MAX, last = 0;

	for (uint64_t p = line_start >> PAGE_SHIFT; p <= (line_end - 1) >> PAGE_SHIFT; p++) {
		if (!page_dirty(bitmap, p))
			continue;
		first = MIN(first, MAX(p << PAGE_SHIFT, line_start));
		last = MAX(last, MIN((p + 1) << PAGE_SHIFT, line_end));
	}
	if (first >= last)
		return false;
	*lo = first - line_start;
	*hi = last - line_start;
	return true;
}

/* The shadow holds the surface (after a mode change, or when all changed). */
static void shadow_fill(struct display *d, const struct display_surface *s)
{
	size_t line_bytes = (size_t)s->width * display_format_bytes_per_pixel(s->format);
	size_t size = line_bytes * s->height;

	if (size != d->shadow_size) {
		g_free(d->shadow);
		d->shadow = g_malloc(size);
		d->shadow_size = size;
	}
	for (unsigned int y = 0; y < s->height; y++)
		memcpy(d->shadow + y * line_bytes, s->pixels + (size_t)y * s->stride_bytes, line_bytes);
}

struct run {
	unsigned int x0, x1;		/* pixels */
	unsigned int y, height;
};

/*
 * Compares the dirty part of each line with the shadow in blocks of
 * BLOCK_PIXELS, copies what changed, and reports runs of changed blocks;
 * runs with the same columns on consecutive lines become one rectangle.
 */
static unsigned int deliver_changes(struct display *d, GArray *listeners,
				    const struct display_surface *s, uint64_t offset)
{
	unsigned int bpp = display_format_bytes_per_pixel(s->format);
	size_t line_bytes = (size_t)s->width * bpp;
	unsigned int block = MAX(BLOCK_PIXELS, (s->width + MAX_BLOCKS - 1) / MAX_BLOCKS);
	struct run open[MAX_BLOCKS], next[MAX_BLOCKS];
	unsigned int nr_open = 0, rects = 0;

	for (unsigned int y = 0; y <= s->height; y++) {
		unsigned int nr_next = 0;
		uint64_t lo, hi;

		if (y < s->height && dirty_span(s, d->dirty_bitmap, offset, y, &lo, &hi)) {
			const uint8_t *line = s->pixels + (size_t)y * s->stride_bytes;
			uint8_t *copy = d->shadow + y * line_bytes;
			unsigned int first = (unsigned int)(lo / bpp) / block;
			unsigned int last = (unsigned int)((hi - 1) / bpp) / block;

			for (unsigned int b = first; b <= last; b++) {
				size_t start = (size_t)b * block * bpp;
				size_t len = MIN((size_t)block * bpp, line_bytes - start);

				if (!memcmp(line + start, copy + start, len))
					continue;
				memcpy(copy + start, line + start, len);
				if (nr_next && next[nr_next - 1].x1 == b * block)
					next[nr_next - 1].x1 = MIN((b + 1) * block, s->width);
				else
					next[nr_next++] = (struct run){ b * block, MIN((b + 1) * block, s->width), y, 1 };
			}
		}
		/* Runs of the line above that continue with the same columns grow. */
		for (unsigned int i = 0; i < nr_open; i++) {
			bool continued = false;

			for (unsigned int j = 0; j < nr_next && !continued; j++) {
				if (next[j].x0 == open[i].x0 && next[j].x1 == open[i].x1) {
					next[j].y = open[i].y;
					next[j].height = open[i].height + 1;
					continued = true;
				}
			}
			if (!continued) {
				struct display_rect r = { open[i].x0, open[i].y, open[i].x1 - open[i].x0,
							  open[i].height };

				notify_update(listeners, s, &r);
				rects++;
			}
		}
		memcpy(open, next, nr_next * sizeof(next[0]));
		nr_open = nr_next;
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

			shadow_fill(d, &s);
			notify_update(listeners, &s, &r);
			rects = 1;
		} else if (d->dirty_bitmap) {
			rects = deliver_changes(d, listeners, &s, (uint64_t)(s.pixels - d->vram));
		}
	}
	g_mutex_unlock(&d->refresh_lock);
	return rects;
}
