/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_DISPLAY_DISPLAY_H
#define VESSEL_DISPLAY_DISPLAY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The guest screen as every consumer sees it.  A device (the bochs display
 * today) publishes a surface: a view of its video memory in one pixel
 * format.  Consumers (the SDL window, screenshots, SPICE later) listen for
 * mode changes and for the rectangles that changed.
 *
 * Dirty tracking comes from guest memory (the KVM dirty log of the VRAM
 * slot, write tracking in the software CPU): display_refresh() asks the
 * device which pages the guest wrote since the last refresh and turns them
 * into rectangles, so an idle screen costs one bitmap scan per refresh.
 *
 * Threads: the device calls display_set_mode() from a vCPU thread; consumers
 * call display_refresh() and display_get_surface() from their own thread
 * (the SDL window's main loop, the control socket's I/O thread).  Listener
 * callbacks run on the thread that called display_refresh(), one refresh at
 * a time.  Pixels point into video memory that lives as long as the
 * machine; a surface is consistent (its size, stride and format fit inside
 * that memory) but the guest may be writing to it at any time.
 */

enum display_format {
	DISPLAY_FORMAT_NONE,		/* no picture: the device is disabled */
	DISPLAY_FORMAT_XRGB8888,	/* 32 bpp, bytes B, G, R, X in memory */
	DISPLAY_FORMAT_RGB888,		/* 24 bpp, bytes B, G, R */
	DISPLAY_FORMAT_RGB565,		/* 16 bpp little-endian, R in the top bits */
	DISPLAY_FORMAT_XRGB1555,	/* 15 bpp in 16 bits little-endian */
	DISPLAY_FORMAT_C8,		/* 8 bpp through the device's palette */
};

struct display_surface {
	unsigned int width, height;	/* pixels; 0 when format is NONE */
	unsigned int stride_bytes;
	enum display_format format;
	const uint8_t *pixels;		/* first pixel of the first line */
	uint32_t palette[256];		/* C8 only: 0x00RRGGBB */
	uint64_t generation;		/* changes with every mode change */
};

struct display_rect {
	unsigned int x, y, width, height;
};

/* Bytes per pixel of a format (0 for NONE). */
unsigned int display_format_bytes_per_pixel(enum display_format format);
/* Short name for logs and errors: "xrgb8888", ... */
const char *display_format_name(enum display_format format);

/* The pixel at (x, y) of a surface as 0x00RRGGBB; the caller bounds-checks x, y. */
uint32_t display_surface_pixel(const struct display_surface *surface, unsigned int x,
			       unsigned int y);

/* What the device provides to the display. */
struct display_source_ops {
	/*
	 * Sets one bit per 4 KiB page of video memory the guest wrote since the
	 * previous call (bit i of bitmap[i / 64] for page i, counted from the
	 * start of video memory; the caller zeroed the bitmap, nr_pages long).
	 * Returns false when the device cannot tell: everything is then
	 * treated as changed.
	 */
	bool (*harvest_dirty)(void *opaque, uint64_t *bitmap, uint64_t nr_pages);
};

struct display_listener_ops {
	/* A new surface (new size, format or place in video memory). */
	void (*mode_changed)(void *opaque, const struct display_surface *surface);
	/* Pixels inside rect changed; rect lies inside the surface. */
	void (*update)(void *opaque, const struct display_surface *surface,
		       const struct display_rect *rect);
};

struct display;

struct display *display_new(void);
void display_free(struct display *display);

/* Device side. vram is the whole video memory; the source reports its dirty pages. */
void display_set_source(struct display *display, const uint8_t *vram, uint64_t vram_size_bytes,
			const struct display_source_ops *ops, void *opaque);
/*
 * Publishes a new mode.  The surface must lie inside video memory: checked
 * here, and a surface that does not fit becomes format NONE and the call
 * returns false (the device logs it), so a guest programming nonsense gets a
 * blank screen, never a host read outside video memory.
 */
bool display_set_mode(struct display *display, const struct display_surface *surface);
/* The device changed pixels the dirty log cannot see (a palette change): all dirty. */
void display_invalidate(struct display *display);

/* Consumer side. */
void display_add_listener(struct display *display, const struct display_listener_ops *ops,
			  void *opaque);
void display_remove_listener(struct display *display, const struct display_listener_ops *ops,
			     void *opaque);
/*
 * Delivers what changed since the previous refresh: mode_changed() first
 * if the mode changed, then update() for each changed band of lines.
 * Returns the number of rectangles delivered.
 */
unsigned int display_refresh(struct display *display);
/* A copy of the current surface (pixels still point into video memory). */
void display_get_surface(struct display *display, struct display_surface *surface);

/*
 * Writes the current surface as a PNG (8-bit RGB).  Errors name the file
 * and the reason; a display with no picture is an error too ("the guest has
 * not set a display mode yet").  The file is written to a temporary name
 * and renamed, so a failed write never leaves half a picture.
 */
bool display_screendump(struct display *display, const char *path, GError **error);

#endif
