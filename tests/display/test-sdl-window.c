/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SDL window as a user sees it, on an X server (Xvfb under meson):
 * a fake framebuffer device publishes pictures into a struct display, the
 * window shows them, and this program reads the screen back with
 * XGetImage and compares the window's pixels one by one with the picture
 * the device meant.  Then it types and clicks with xdotool and checks what
 * reaches a fake keyboard and mouse behind struct input.
 *
 *   test-sdl-window ARTIFACT_DIR NAME
 *
 * NAME prefixes the PNGs written to ARTIFACT_DIR (the screen as captured;
 * on a mismatch also the expected picture).  VESSEL_SDL_RENDERER picks the
 * renderer as in vessel-vmm.  Prints TAP.
 *
 * SDL wants the main thread, so the window runs there as in vessel-vmm and
 * the checks run on a second thread, like the vCPU that drives a device.
 */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/input-event-codes.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "display.h"
#include "input.h"
#include "log.h"
#include "sdl.h"

#define PAGE_BYTES	4096u
#define VRAM_BYTES	(4u << 20)
#define VRAM_PAGES	(VRAM_BYTES / PAGE_BYTES)
#define WAIT_US		(10 * G_USEC_PER_SEC)	/* llvmpipe under load is slow to start */
#define QUIET_US	(300 * 1000)		/* how long "nothing more arrives" is watched */

/* --- The fake framebuffer device ----------------------------------------- */

struct fake_vram {
	GMutex lock;
	uint8_t *bytes;
	uint64_t dirty[VRAM_PAGES / 64];
};

static bool fake_harvest_dirty(void *opaque, uint64_t *bitmap, uint64_t nr_pages)
{
	struct fake_vram *vram = opaque;
	uint64_t words = MIN((nr_pages + 63) / 64, G_N_ELEMENTS(vram->dirty));

	g_mutex_lock(&vram->lock);
	memcpy(bitmap, vram->dirty, words * sizeof(uint64_t));
	memset(vram->dirty, 0, sizeof(vram->dirty));
	g_mutex_unlock(&vram->lock);
	return true;
}

static const struct display_source_ops fake_source_ops = {
	.harvest_dirty = fake_harvest_dirty,
};

/* What the guest's write to [offset, offset + length) does to the dirty log. */
static void fake_vram_touch(struct fake_vram *vram, uint64_t offset, uint64_t length)
{
	uint64_t page;

	g_mutex_lock(&vram->lock);
	for (page = offset / PAGE_BYTES; page <= (offset + length - 1) / PAGE_BYTES; page++)
		vram->dirty[page / 64] |= 1ull << (page % 64);
	g_mutex_unlock(&vram->lock);
}

/* --- Pictures ------------------------------------------------------------ */

/* What should be on the screen: 0x00RRGGBB per pixel. */
struct picture {
	unsigned int width, height;
	uint32_t *rgb;
};

static void picture_init(struct picture *p, unsigned int width, unsigned int height)
{
	p->width = width;
	p->height = height;
	p->rgb = g_new0(uint32_t, (size_t)width * height);
}

static void picture_clear(struct picture *p)
{
	g_clear_pointer(&p->rgb, g_free);
}

static bool picture_write_png(const struct picture *p, const char *path)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	g_autofree uint8_t *line = g_malloc((size_t)p->width * 3);
	FILE *file = fopen(path, "wb");
	unsigned int x, y;

	if (!file || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		if (file)
			fclose(file);
		return false;
	}
	png_init_io(png, file);
	png_set_IHDR(png, info, p->width, p->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < p->height; y++) {
		for (x = 0; x < p->width; x++) {
			uint32_t v = p->rgb[(size_t)y * p->width + x];

			line[x * 3] = v >> 16;
			line[x * 3 + 1] = v >> 8;
			line[x * 3 + 2] = v;
		}
		png_write_row(png, line);
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	return fclose(file) == 0;
}

/* The classic colour bars, left to right. */
static const uint32_t bar_colours[8] = {
	0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000,
};

/*
 * 640x480: eight bars, a white diagonal, and a bottom band whose three
 * channels each run through values of their own, so a swapped channel, a
 * lost low bit or an off-by-one column shows.
 */
static uint32_t bars_xrgb(unsigned int x, unsigned int y, unsigned int width, unsigned int height)
{
	if (y >= height - 32)
		return (x & 0xff) << 16 | ((x * 3) & 0xff) << 8 | (255 - (x & 0xff));
	if (x == y * width / height)
		return 0xffffff;
	return bar_colours[x * 8 / width];
}

/*
 * 5- and 6-bit channel values whose widening to 8 bits is the same whether
 * done by repeating the top bits (display_surface_pixel(), SDL) or by
 * rounding v * 255 / max (a GL driver may do either).
 */
static const uint8_t good5[] = { 0, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
				 18, 19, 20, 21, 22, 23, 25, 26, 27, 29, 30, 31 };
static const uint8_t good6[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 17, 20, 24, 31, 32,
				 40, 47, 53, 56, 60, 62, 63 };

static uint16_t rgb565(unsigned int r5, unsigned int g6, unsigned int b5)
{
	return r5 << 11 | g6 << 5 | b5;
}

static uint32_t widen565(uint16_t v)
{
	uint32_t r = v >> 11, g = (v >> 5) & 0x3f, b = v & 0x1f;

	return ((r << 3) | (r >> 2)) << 16 | ((g << 2) | (g >> 4)) << 8 | ((b << 3) | (b >> 2));
}

static uint16_t bars_565(unsigned int x, unsigned int y, unsigned int width, unsigned int height)
{
	uint32_t bar = bar_colours[x * 8 / width];

	if (y >= height - 32)
		return rgb565(good5[x % sizeof(good5)], good6[(x / 2) % sizeof(good6)],
			      good5[(x / 3) % sizeof(good5)]);
	if (x == y * width / height)
		return 0xffff;
	return rgb565(bar & 0xff0000 ? 31 : 0, bar & 0xff00 ? 63 : 0, bar & 0xff ? 31 : 0);
}

static uint32_t palette_colour(unsigned int i)
{
	return i << 16 | (255 - i) << 8 | ((i * 37) & 0xff);
}

/* 640x480 in 16x16 blocks of 40x30 pixels, one palette entry each. */
static uint8_t c8_index(unsigned int x, unsigned int y)
{
	return x / 40 + 16 * (y / 30);
}

static void c8_picture(struct picture *p)
{
	unsigned int x, y;

	picture_init(p, 640, 480);
	for (y = 0; y < 480; y++)
		for (x = 0; x < 640; x++)
			p->rgb[y * 640 + x] = palette_colour(c8_index(x, y));
}

/* --- The X screen ---------------------------------------------------------- */

struct test {
	struct display *display;
	struct input *input;
	struct sdl_window *window;
	struct fake_vram vram;
	const char *artifact_dir;
	const char *name;
	char *machine_name;

	Display *x;
	Window xwindow;
	unsigned int checks, failures;

	/* What the fake keyboard and mouse received. */
	GMutex events_lock;
	GString *events;
	int motion_dx, motion_dy, motion_dz;
	gint close_requests;
};

static int x_ignore_error(Display *x, XErrorEvent *event)
{
	return 0;
}

static void check(struct test *t, bool ok, const char *what)
{
	t->checks++;
	if (!ok)
		t->failures++;
	printf("%sok %u - %s %s\n", ok ? "" : "not ", t->checks, t->name, what);
	fflush(stdout);
}

static char *x_window_title(struct test *t, Window window)
{
	Atom utf8 = XInternAtom(t->x, "UTF8_STRING", False);
	Atom name = XInternAtom(t->x, "_NET_WM_NAME", False);
	unsigned long items = 0, remaining;
	unsigned char *value = NULL;
	Atom type;
	int format;
	char *title;

	/* SDL sets _NET_WM_NAME only when the locale can encode the title; WM_NAME always. */
	if (XGetWindowProperty(t->x, window, name, 0, 1024, False, utf8, &type, &format, &items,
			       &remaining, &value) != Success || !value) {
		if (!XFetchName(t->x, window, (char **)&value) || !value)
			return NULL;
		items = strlen((const char *)value);
	}
	title = g_strndup((const char *)value, items);
	XFree(value);
	return title;
}

/* The SDL window: a top-level window whose title starts with our machine name. */
static Window x_find_window(struct test *t)
{
	Window root, parent, *children = NULL, found = None;
	unsigned int count = 0, i;

	if (!XQueryTree(t->x, DefaultRootWindow(t->x), &root, &parent, &children, &count))
		return None;
	for (i = 0; i < count && found == None; i++) {
		g_autofree char *title = x_window_title(t, children[i]);

		if (title && g_str_has_prefix(title, t->machine_name))
			found = children[i];
	}
	if (children)
		XFree(children);
	return found;
}

static bool x_window_geometry(struct test *t, int *x, int *y, unsigned int *width,
			      unsigned int *height)
{
	XWindowAttributes attributes;
	Window child;

	if (!XGetWindowAttributes(t->x, t->xwindow, &attributes) ||
	    attributes.map_state != IsViewable)
		return false;
	if (!XTranslateCoordinates(t->x, t->xwindow, DefaultRootWindow(t->x), 0, 0, x, y, &child))
		return false;
	*width = attributes.width;
	*height = attributes.height;
	return true;
}

/* What the screen shows in that rectangle, as the monitor would. */
static bool x_capture(struct test *t, int x, int y, unsigned int width, unsigned int height,
		      struct picture *out)
{
	XImage *image = XGetImage(t->x, DefaultRootWindow(t->x), x, y, width, height, AllPlanes,
				  ZPixmap);
	unsigned int i, j;

	if (!image)
		return false;
	picture_init(out, width, height);
	for (j = 0; j < height; j++)
		for (i = 0; i < width; i++)
			out->rgb[(size_t)j * width + i] = XGetPixel(image, i, j) & 0xffffff;
	XDestroyImage(image);
	return true;
}

static char *artifact_path(struct test *t, const char *step, const char *suffix)
{
	g_autofree char *file = g_strdup_printf("%s-%s%s.png", t->name, step, suffix);

	return g_build_filename(t->artifact_dir, file, NULL);
}

/*
 * Waits until the window is the size of @expected and shows exactly it.
 * The picture captured last goes to the artifacts either way.
 */
static void expect_picture(struct test *t, const char *step, const struct picture *expected)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_US;
	struct picture actual = { 0 };
	unsigned int width = 0, height = 0, differ = 0, first = 0;
	g_autofree char *shot = artifact_path(t, step, "");
	g_autofree char *what = NULL;
	bool ok = false;
	size_t i;
	int x, y;

	while (!ok && g_get_monotonic_time() < deadline) {
		g_usleep(50 * 1000);
		if (!x_window_geometry(t, &x, &y, &width, &height) || width != expected->width ||
		    height != expected->height)
			continue;
		picture_clear(&actual);
		if (!x_capture(t, x, y, width, height, &actual))
			continue;
		ok = !memcmp(actual.rgb, expected->rgb, (size_t)width * height * 4);
	}
	if (actual.rgb)
		picture_write_png(&actual, shot);
	if (ok) {
		what = g_strdup_printf("%s: the window is %ux%u and shows the picture pixel for pixel",
				       step, width, height);
	} else if (!actual.rgb) {
		what = g_strdup_printf("%s: the window is %ux%u, expected %ux%u", step, width, height,
				       expected->width, expected->height);
	} else {
		for (i = 0; i < (size_t)width * height; i++)
			if (actual.rgb[i] != expected->rgb[i] && !differ++)
				first = i;
		what = g_strdup_printf("%s: %u pixels differ, first at (%u, %u): %06x, expected %06x",
				       step, differ, first % width, first / width, actual.rgb[first],
				       expected->rgb[first]);
	}
	if (!ok) {
		g_autofree char *path = artifact_path(t, step, "-expected");

		picture_write_png(expected, path);
	}
	check(t, ok, what);
	picture_clear(&actual);
}

/* --- Pictures published by the fake device ---------------------------------- */

static void publish(struct test *t, enum display_format format, unsigned int width,
		    unsigned int height, unsigned int stride_bytes, uint64_t offset,
		    const uint32_t *palette)
{
	struct display_surface surface = {
		.width = width, .height = height, .stride_bytes = stride_bytes,
		.format = format, .pixels = t->vram.bytes + offset,
	};

	if (palette)
		memcpy(surface.palette, palette, sizeof(surface.palette));
	display_set_mode(t->display, &surface);
}

static void fill_xrgb(struct test *t, struct picture *expected, unsigned int stride_bytes,
		      unsigned int x0, unsigned int y0, unsigned int width, unsigned int height,
		      uint32_t colour)
{
	unsigned int x, y;

	for (y = y0; y < y0 + height; y++) {
		for (x = x0; x < x0 + width; x++) {
			uint32_t *pixel = (uint32_t *)(t->vram.bytes + (size_t)y * stride_bytes + x * 4);

			*pixel = colour;
			if (expected)
				expected->rgb[(size_t)y * expected->width + x] = colour;
		}
	}
}

static void touch_rect(struct test *t, unsigned int stride_bytes, unsigned int bpp,
		       unsigned int x0, unsigned int y0, unsigned int width, unsigned int height)
{
	unsigned int y;

	for (y = y0; y < y0 + height; y++)
		fake_vram_touch(&t->vram, (uint64_t)y * stride_bytes + x0 * bpp, width * bpp);
}

static void check_pictures(struct test *t)
{
	/* Strides wider than a line: the upload must honour them (GL_UNPACK_ROW_LENGTH). */
	const unsigned int xrgb_stride = 704 * 4, rgb565_stride = 850 * 2;
	const uint64_t rgb565_offset = 2 * PAGE_BYTES;
	struct picture expected;
	uint32_t palette[256];
	unsigned int x, y;

	/* 1: 640x480 XRGB8888 — the first frame. */
	picture_init(&expected, 640, 480);
	for (y = 0; y < 480; y++) {
		for (x = 0; x < 640; x++) {
			uint32_t v = bars_xrgb(x, y, 640, 480);

			*(uint32_t *)(t->vram.bytes + (size_t)y * xrgb_stride + x * 4) = v;
			expected.rgb[y * 640 + x] = v;
		}
	}
	publish(t, DISPLAY_FORMAT_XRGB8888, 640, 480, xrgb_stride, 0, NULL);
	expect_picture(t, "1-xrgb8888-640x480", &expected);

	/*
	 * 2: the guest paints a rectangle and the dirty log says so.  It also
	 * writes lines 300-309 without the log knowing: those must not show,
	 * or the window uploads more than it is told changed.
	 */
	fill_xrgb(t, &expected, xrgb_stride, 96, 64, 256, 128, 0x3366cc);
	fill_xrgb(t, NULL, xrgb_stride, 560, 300, 80, 10, 0xff8000);
	touch_rect(t, xrgb_stride, 4, 96, 64, 256, 128);
	expect_picture(t, "2-dirty-rectangle", &expected);

	/*
	 * 3: now the log reports those lines, and twenty lines apart from
	 * each other: more rectangles in one refresh than the window keeps
	 * apart, so it merges them.
	 */
	fill_xrgb(t, &expected, xrgb_stride, 560, 300, 80, 10, 0xff8000);
	touch_rect(t, xrgb_stride, 4, 560, 300, 80, 10);
	for (y = 200; y < 300; y += 5) {
		fill_xrgb(t, &expected, xrgb_stride, 0, y, 640, 1, 0x00ff80);
		touch_rect(t, xrgb_stride, 4, 0, y, 640, 1);
	}
	expect_picture(t, "3-late-dirty-lines", &expected);
	picture_clear(&expected);

	/* 4: mode change to 800x600 RGB565, further into video memory; the window follows. */
	picture_init(&expected, 800, 600);
	for (y = 0; y < 600; y++) {
		for (x = 0; x < 800; x++) {
			uint16_t v = bars_565(x, y, 800, 600);
			uint8_t *p = t->vram.bytes + rgb565_offset + (size_t)y * rgb565_stride + x * 2;

			p[0] = v;
			p[1] = v >> 8;
			expected.rgb[y * 800 + x] = widen565(v);
		}
	}
	publish(t, DISPLAY_FORMAT_RGB565, 800, 600, rgb565_stride, rgb565_offset, NULL);
	expect_picture(t, "4-rgb565-800x600", &expected);
	picture_clear(&expected);

	/* 5: 640x480 with a palette: converted on the CPU; the window shrinks back. */
	for (x = 0; x < 256; x++)
		palette[x] = palette_colour(x);
	c8_picture(&expected);
	for (y = 0; y < 480; y++)
		for (x = 0; x < 640; x++)
			t->vram.bytes[(size_t)y * 640 + x] = c8_index(x, y);
	publish(t, DISPLAY_FORMAT_C8, 640, 480, 640, 0, palette);
	expect_picture(t, "5-c8-640x480", &expected);
	picture_clear(&expected);
}

/* --- Input ------------------------------------------------------------------ */

static void fake_key(void *opaque, unsigned int code, bool down)
{
	struct test *t = opaque;

	g_mutex_lock(&t->events_lock);
	g_string_append_printf(t->events, "key %u %s\n", code, down ? "down" : "up");
	g_mutex_unlock(&t->events_lock);
}

static void fake_button(void *opaque, unsigned int code, bool down)
{
	struct test *t = opaque;

	g_mutex_lock(&t->events_lock);
	g_string_append_printf(t->events, "button %#x %s\n", code, down ? "down" : "up");
	g_mutex_unlock(&t->events_lock);
}

/* Motion may arrive in several pieces: only the sums are compared. */
static void fake_motion(void *opaque, int dx, int dy, int dz)
{
	struct test *t = opaque;

	g_mutex_lock(&t->events_lock);
	t->motion_dx += dx;
	t->motion_dy += dy;
	t->motion_dz += dz;
	g_mutex_unlock(&t->events_lock);
}

static const struct input_keyboard_ops fake_keyboard_ops = { .key = fake_key };
static const struct input_pointer_ops fake_pointer_ops = {
	.motion = fake_motion,
	.button = fake_button,
};

static char *take_events(struct test *t)
{
	char *events;

	g_mutex_lock(&t->events_lock);
	events = g_strdup(t->events->str);
	g_string_truncate(t->events, 0);
	g_mutex_unlock(&t->events_lock);
	return events;
}

static void xdotool(struct test *t, const char *args)
{
	g_autofree char *command = g_strdup_printf("xdotool %s", args);
	g_autoptr(GError) error = NULL;
	int status = 0;

	if (!g_spawn_command_line_sync(command, NULL, NULL, &status, &error) ||
	    !g_spawn_check_wait_status(status, &error))
		printf("# %s: %s\n", command, error->message);
}

/* Waits for exactly @expected (newline-separated events), then for quiet. */
static void expect_events(struct test *t, const char *what, const char *expected)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_US;
	g_autofree char *events = NULL;
	bool seen = false;

	while (!seen && g_get_monotonic_time() < deadline) {
		g_usleep(20 * 1000);
		g_mutex_lock(&t->events_lock);
		seen = strlen(t->events->str) >= strlen(expected);
		g_mutex_unlock(&t->events_lock);
	}
	g_usleep(QUIET_US);
	events = take_events(t);
	check(t, !strcmp(events, expected), what);
	if (strcmp(events, expected))
		printf("# got:\n# %s# expected:\n# %s", events, expected);
}

static void expect_title(struct test *t, const char *expected)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_US;
	g_autofree char *title = NULL;
	g_autofree char *what = g_strdup_printf("title is \"%s\"", expected);

	while (g_get_monotonic_time() < deadline) {
		g_free(title);
		title = x_window_title(t, t->xwindow);
		if (title && !strcmp(title, expected))
			break;
		g_usleep(20 * 1000);
	}
	check(t, title && !strcmp(title, expected), what);
	if (!title || strcmp(title, expected))
		printf("# title: %s\n", title ? title : "(none)");
}

/*
 * The user makes the 640x480 window of step 5 as large as the 1280x1024 X
 * screen: the picture is shown at exactly twice its size (sharp: nearest
 * filtering), centred between black bars.  (Fullscreen would show the
 * same, but needs a window manager, which Xvfb does not have.)
 */
static void check_scaling(struct test *t)
{
	struct picture small, large;
	unsigned int x, y;

	c8_picture(&small);
	picture_init(&large, 1280, 1024);
	for (y = 0; y < 960; y++)
		for (x = 0; x < 1280; x++)
			large.rgb[(size_t)(y + 32) * 1280 + x] = small.rgb[(y / 2) * 640 + x / 2];
	XMoveResizeWindow(t->x, t->xwindow, 0, 0, 1280, 1024);
	XSync(t->x, False);
	expect_picture(t, "6-resized-scaled-2x", &large);
	XResizeWindow(t->x, t->xwindow, 640, 480);
	XSync(t->x, False);
	expect_picture(t, "7-resized-back", &small);
	picture_clear(&small);
	picture_clear(&large);
}

static void check_input(struct test *t)
{
	g_autofree char *ungrabbed = g_strdup_printf("%s - running - click to grab the pointer",
						      t->machine_name);
	g_autofree char *grabbed = g_strdup_printf("%s - running - Press Ctrl+Alt+G to release the pointer",
						    t->machine_name);
	g_autofree char *window = g_strdup_printf("%lu", t->xwindow);
	g_autofree char *args = NULL;
	g_autofree char *twice = NULL;
	char expected[128];
	int dx, dy, dz;

	expect_title(t, ungrabbed);

	args = g_strdup_printf("windowfocus --sync %s", window);
	xdotool(t, args);
	xdotool(t, "key a");
	g_snprintf(expected, sizeof(expected), "key %d down\nkey %d up\n", KEY_A, KEY_A);
	expect_events(t, "xdotool key a: KEY_A down and up", expected);

	check_scaling(t);
	/* Without a window manager fullscreen does not happen, but the hotkey is still consumed. */
	xdotool(t, "key ctrl+alt+f");
	xdotool(t, "key ctrl+alt+f");
	g_snprintf(expected, sizeof(expected), "key %d down\nkey %d down\nkey %d up\nkey %d up\n",
		   KEY_LEFTCTRL, KEY_LEFTALT, KEY_LEFTCTRL, KEY_LEFTALT);
	twice = g_strconcat(expected, expected, NULL);
	expect_events(t, "Ctrl+Alt+F (twice) is consumed and releases Ctrl and Alt", twice);

	xdotool(t, "keydown ctrl");
	g_snprintf(expected, sizeof(expected), "key %d down\n", KEY_LEFTCTRL);
	expect_events(t, "xdotool keydown ctrl: KEY_LEFTCTRL down", expected);

	g_free(args);
	args = g_strdup_printf("mousemove --window %s 100 100 click 1", window);
	xdotool(t, args);
	expect_title(t, grabbed);
	expect_events(t, "the click that grabs the pointer stays with the window", "");

	xdotool(t, "click 1");
	g_snprintf(expected, sizeof(expected), "button %#x down\nbutton %#x up\n", BTN_LEFT, BTN_LEFT);
	expect_events(t, "a click while grabbed: BTN_LEFT down and up", expected);

	xdotool(t, "click 3");
	g_snprintf(expected, sizeof(expected), "button %#x down\nbutton %#x up\n", BTN_RIGHT, BTN_RIGHT);
	expect_events(t, "right click while grabbed: BTN_RIGHT down and up", expected);

	xdotool(t, "mousemove_relative -- 12 -7");
	xdotool(t, "click 4");
	g_usleep(QUIET_US);
	g_mutex_lock(&t->events_lock);
	dx = t->motion_dx;
	dy = t->motion_dy;
	dz = t->motion_dz;
	g_mutex_unlock(&t->events_lock);
	check(t, dx == 12 && dy == -7, "relative motion while grabbed: (12, -7)");
	check(t, dz == 1, "wheel up while grabbed: dz = +1");
	if (dx != 12 || dy != -7 || dz != 1)
		printf("# motion sums: %d %d %d\n", dx, dy, dz);

	xdotool(t, "keyup ctrl");
	g_snprintf(expected, sizeof(expected), "key %d up\n", KEY_LEFTCTRL);
	expect_events(t, "xdotool keyup ctrl: KEY_LEFTCTRL up", expected);

	/* The hotkey: Ctrl and Alt reach the guest as they go down and are released at once; G never does. */
	xdotool(t, "key ctrl+alt+g");
	g_snprintf(expected, sizeof(expected), "key %d down\nkey %d down\nkey %d up\nkey %d up\n",
		   KEY_LEFTCTRL, KEY_LEFTALT, KEY_LEFTCTRL, KEY_LEFTALT);
	expect_events(t, "Ctrl+Alt+G is consumed and releases Ctrl and Alt", expected);
	expect_title(t, ungrabbed);

	xdotool(t, "mousemove_relative -- 5 5");
	xdotool(t, "click 1");
	g_usleep(QUIET_US);
	g_mutex_lock(&t->events_lock);
	check(t, t->motion_dx == dx && t->motion_dy == dy,
	      "no motion reaches the guest after Ctrl+Alt+G");
	g_mutex_unlock(&t->events_lock);
	/* That click grabbed again; release for what follows. */
	expect_title(t, grabbed);
	xdotool(t, "key ctrl+alt+g");
	expect_title(t, ungrabbed);
	g_free(take_events(t));

	/* A key held while the focus goes elsewhere is released in the guest. */
	xdotool(t, "keydown shift");
	g_snprintf(expected, sizeof(expected), "key %d down\n", KEY_LEFTSHIFT);
	expect_events(t, "xdotool keydown shift: KEY_LEFTSHIFT down", expected);
	XSetInputFocus(t->x, PointerRoot, RevertToPointerRoot, CurrentTime);
	XSync(t->x, False);
	g_snprintf(expected, sizeof(expected), "key %d up\n", KEY_LEFTSHIFT);
	expect_events(t, "losing the focus releases held keys", expected);
	xdotool(t, "keyup shift");
}

/* The window manager's close button: WM_DELETE_WINDOW (ICCCM §4.2.8.1). */
static void check_close(struct test *t)
{
	XEvent event = { 0 };
	gint64 deadline = g_get_monotonic_time() + WAIT_US;
	int x, y;
	unsigned int width, height;

	event.xclient.type = ClientMessage;
	event.xclient.window = t->xwindow;
	event.xclient.message_type = XInternAtom(t->x, "WM_PROTOCOLS", False);
	event.xclient.format = 32;
	event.xclient.data.l[0] = XInternAtom(t->x, "WM_DELETE_WINDOW", False);
	event.xclient.data.l[1] = CurrentTime;
	XSendEvent(t->x, t->xwindow, False, NoEventMask, &event);
	XSync(t->x, False);
	while (!g_atomic_int_get(&t->close_requests) && g_get_monotonic_time() < deadline)
		g_usleep(20 * 1000);
	check(t, g_atomic_int_get(&t->close_requests) == 1, "closing the window calls request_close");
	g_usleep(QUIET_US);
	check(t, x_window_geometry(t, &x, &y, &width, &height),
	      "the window stays open until the VMM quits");
}

static gpointer run_checks(gpointer data)
{
	struct test *t = data;
	gint64 deadline = g_get_monotonic_time() + WAIT_US;

	t->x = XOpenDisplay(NULL);
	if (!t->x) {
		check(t, false, "open the X display");
		goto out;
	}
	XSetErrorHandler(x_ignore_error);
	if (DefaultDepth(t->x, DefaultScreen(t->x)) != 24) {
		check(t, false, "the X screen has 24-bit colour (xvfb-run -s '-screen 0 1280x1024x24')");
		goto out;
	}
	while ((t->xwindow = x_find_window(t)) == None && g_get_monotonic_time() < deadline)
		g_usleep(50 * 1000);
	check(t, t->xwindow != None, "the window appears on the X screen");
	if (t->xwindow != None) {
		check_pictures(t);
		check_input(t);
		check_close(t);
	}
out:
	if (t->x)
		XCloseDisplay(t->x);
	sdl_window_quit(t->window);
	return NULL;
}

static const char *machine_state(void *opaque)
{
	return "running";
}

static void request_close(void *opaque)
{
	struct test *t = opaque;

	g_atomic_int_inc(&t->close_requests);
}

int main(int argc, char **argv)
{
	struct test t = { 0 };
	g_autoptr(GError) error = NULL;
	struct sdl_window_config config = {
		.get_state = machine_state,
		.request_close = request_close,
		.opaque = &t,
	};
	GThread *thread;

	if (argc != 3) {
		fprintf(stderr, "usage: %s ARTIFACT_DIR NAME\n", argv[0]);
		return 2;
	}
	t.artifact_dir = argv[1];
	t.name = argv[2];
	g_mkdir_with_parents(t.artifact_dir, 0755);
	/* The window's choices (renderer, conversions) in the test log. */
	log_set_level(LOG_DEBUG);
	/* Unique, so a stray window of another run is never the one checked. */
	t.machine_name = g_strdup_printf("vessel-test-%d", (int)getpid());
	config.machine_name = t.machine_name;
	g_mutex_init(&t.events_lock);
	g_mutex_init(&t.vram.lock);
	t.events = g_string_new(NULL);
	t.vram.bytes = g_malloc0(VRAM_BYTES);

	t.display = display_new();
	display_set_source(t.display, t.vram.bytes, VRAM_BYTES, &fake_source_ops, &t.vram);
	t.input = input_new();
	input_attach_keyboard(t.input, &fake_keyboard_ops, &t);
	input_attach_pointer(t.input, &fake_pointer_ops, &t);

	t.window = sdl_window_new(t.display, t.input, &config, &error);
	if (!t.window) {
		printf("1..1\nnot ok 1 - %s: %s\n", t.name, error->message);
		return 1;
	}
	thread = g_thread_new("checks", run_checks, &t);
	sdl_window_run(t.window);
	g_thread_join(thread);
	sdl_window_free(t.window);
	printf("1..%u\n", t.checks);

	input_free(t.input);
	display_free(t.display);
	g_free(t.vram.bytes);
	g_string_free(t.events, TRUE);
	g_free(t.machine_name);
	return t.failures ? 1 : 0;
}
