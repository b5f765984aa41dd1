/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sdl.h"

#include <SDL.h>
#include <epoxy/gl.h>
#include <linux/input-event-codes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "display.h"
#include "error.h"
#include "input.h"
#include "keymap_sdl.h"
#include "log.h"

/*
 * The window never repaints whole frames on its own: each tick asks the
 * display what the guest changed, uploads only those rectangles into a
 * texture the size of the guest screen, and redraws (one textured quad)
 * only when something changed or the window system asked for it.
 */

#define TICK_US		16667	/* ~60 Hz, the pace of a PC monitor */
#define DAMAGE_MAX	16	/* rectangles kept apart before merging */
#define DEFAULT_WIDTH	640	/* before the guest sets a mode */
#define DEFAULT_HEIGHT	480

/*
 * User-visible strings, in one place.  vessel-vmm has no gettext setup
 * (only the GTK app will), so they stay plain.
 */
#define TITLE_GRABBED	"Press Ctrl+Alt+G to release the pointer"
#define TITLE_UNGRABBED	"click to grab the pointer"
/*
 * ASCII: SDL's X11 backend converts the title to the process's locale, and
 * vessel-vmm runs in the "C" locale, where an em dash would turn to mojibake.
 */
#define TITLE_SEPARATOR	" - "

/* Hotkeys, by key position (scancode) so they work with any layout. */
#define HOTKEY_RELEASE		SDL_SCANCODE_G
#define HOTKEY_FULLSCREEN	SDL_SCANCODE_F

/* How the pixels of a surface reach a texture. */
enum sdl_upload {
	UPLOAD_NONE,		/* no picture */
	UPLOAD_XRGB8888,	/* as is */
	UPLOAD_RGB565,		/* as is */
	UPLOAD_CONVERT,		/* to XRGB8888 on the CPU, through a staging buffer */
};

struct sdl_gl {
	SDL_GLContext context;
	GLuint program, vertex_buffer, texture;
	GLint max_texture_size;
};

/*
 * Without (hardware) OpenGL: a copy of the guest screen as XRGB8888 blitted
 * into SDL's window surface, and only the changed rectangles sent to the
 * window system (SDL_UpdateWindowSurfaceRects), so a small change costs a
 * small copy, not a whole frame.
 */
struct sdl_sw {
	SDL_Surface *shadow;
	SDL_Rect updated[DAMAGE_MAX + 1];	/* guest rectangles since the last present */
	unsigned int nr_updated;
	bool full;				/* the whole window at the next present */
};

struct sdl_window {
	struct display *display;
	struct input *input;
	struct sdl_window_config config;
	char *machine_name;

	SDL_Window *window;
	bool use_gl;
	struct sdl_gl gl;
	struct sdl_sw sw;

	/*
	 * The surface as last told by the display, and what changed: written
	 * by the listener callbacks, which run on whichever thread refreshes
	 * the display (this one, or the I/O thread for SPICE), so under
	 * damage_lock; the tick holds it while it applies and uploads them.
	 */
	GMutex damage_lock;
	struct display_surface surface;
	struct display_surface shown;	/* what the texture holds; the tick's own */
	bool mode_pending;
	enum sdl_upload upload;
	bool texture_ready;		/* a texture exists for the surface */
	uint32_t *staging;
	size_t staging_pixels;

	struct display_rect damage[DAMAGE_MAX];
	unsigned int damage_count;
	bool damage_all;
	bool redraw;
	bool trace;			/* VESSEL_DISPLAY_TRACE=1: a stderr line per upload */

	/*
	 * struct input drops the release of a key or button the guest never
	 * saw go down, so the grabbing click and the hotkeys need no
	 * bookkeeping here to keep their releases from the guest.
	 */
	bool grabbed;

	char *title;
	char *title_state;		/* state shown in the title */
	bool title_grabbed;

	bool listening;			/* added as a display listener */
	Uint32 wake_event;
	gint quit;			/* atomic: sdl_window_quit() was called */
};

static const char *sdl_state(struct sdl_window *w)
{
	return w->config.get_state ? w->config.get_state(w->config.opaque) : NULL;
}

static void sdl_update_title(struct sdl_window *w)
{
	const char *state = sdl_state(w);
	GString *title;

	if (w->title && w->title_grabbed == w->grabbed && g_strcmp0(state, w->title_state) == 0)
		return;

	title = g_string_new(w->machine_name);
	if (state)
		g_string_append_printf(title, TITLE_SEPARATOR "%s", state);
	g_string_append(title, TITLE_SEPARATOR);
	g_string_append(title, w->grabbed ? TITLE_GRABBED : TITLE_UNGRABBED);

	g_free(w->title);
	w->title = g_string_free(title, FALSE);
	g_free(w->title_state);
	w->title_state = g_strdup(state);
	w->title_grabbed = w->grabbed;
	if (w->window)
		SDL_SetWindowTitle(w->window, w->title);
}

/* --- Damage ------------------------------------------------------------- */

/* Grows box to cover rect too. */
static void sdl_rect_union(struct display_rect *box, const struct display_rect *rect)
{
	unsigned int right = MAX(box->x + box->width, rect->x + rect->width);
	unsigned int bottom = MAX(box->y + box->height, rect->y + rect->height);

	box->x = MIN(box->x, rect->x);
	box->y = MIN(box->y, rect->y);
	box->width = right - box->x;
	box->height = bottom - box->y;
}

static void sdl_damage_add(struct sdl_window *w, const struct display_rect *rect)
{
	unsigned int i;

	if (w->damage_all)
		return;
	if (w->damage_count < DAMAGE_MAX) {
		w->damage[w->damage_count++] = *rect;
		return;
	}
	/* Too many to upload one by one: one box around them all. */
	for (i = 1; i < w->damage_count; i++)
		sdl_rect_union(&w->damage[0], &w->damage[i]);
	sdl_rect_union(&w->damage[0], rect);
	w->damage_count = 1;
}

static void sdl_damage_everything(struct sdl_window *w)
{
	w->damage_all = true;
	w->damage_count = 0;
}

static void sdl_on_mode_changed(void *opaque, const struct display_surface *surface)
{
	struct sdl_window *w = opaque;

	g_mutex_lock(&w->damage_lock);
	w->surface = *surface;
	w->mode_pending = true;
	sdl_damage_everything(w);
	g_mutex_unlock(&w->damage_lock);
}

static void sdl_on_update(void *opaque, const struct display_surface *surface,
			  const struct display_rect *rect)
{
	struct sdl_window *w = opaque;

	g_mutex_lock(&w->damage_lock);
	w->surface = *surface;
	sdl_damage_add(w, rect);
	g_mutex_unlock(&w->damage_lock);
}

static const struct display_listener_ops sdl_listener_ops = {
	.mode_changed = sdl_on_mode_changed,
	.update = sdl_on_update,
};

static enum sdl_upload sdl_upload_for(const struct display_surface *s)
{
	if (s->format == DISPLAY_FORMAT_NONE || !s->width || !s->height)
		return UPLOAD_NONE;
	/* Direct uploads give the stride in whole pixels (GL_UNPACK_ROW_LENGTH). */
	if (s->format == DISPLAY_FORMAT_XRGB8888 && s->stride_bytes % 4 == 0)
		return UPLOAD_XRGB8888;
	if (s->format == DISPLAY_FORMAT_RGB565 && s->stride_bytes % 2 == 0)
		return UPLOAD_RGB565;
	return UPLOAD_CONVERT;
}

/* The pixels of rect as XRGB8888, rect->width pixels per line. */
static const uint32_t *sdl_convert(struct sdl_window *w, const struct display_rect *rect)
{
	size_t pixels = (size_t)rect->width * rect->height;
	uint32_t *out;
	unsigned int x, y;

	if (pixels > w->staging_pixels) {
		g_free(w->staging);
		w->staging = g_new(uint32_t, pixels);
		w->staging_pixels = pixels;
	}
	out = w->staging;
	for (y = rect->y; y < rect->y + rect->height; y++)
		for (x = rect->x; x < rect->x + rect->width; x++)
			*out++ = display_surface_pixel(&w->surface, x, y);
	return w->staging;
}

static const uint8_t *sdl_rect_pixels(const struct display_surface *s, const struct display_rect *rect)
{
	return s->pixels + (size_t)rect->y * s->stride_bytes +
	       (size_t)rect->x * display_format_bytes_per_pixel(s->format);
}

/* Where the guest picture goes in a drawable: centred, aspect kept, black around it. */
static void sdl_place(const struct display_surface *s, int drawable_w, int drawable_h,
		      SDL_Rect *place, bool *nearest)
{
	double scale = MIN((double)drawable_w / s->width, (double)drawable_h / s->height);

	place->w = MAX(1, (int)lround(s->width * scale));
	place->h = MAX(1, (int)lround(s->height * scale));
	place->x = (drawable_w - place->w) / 2;
	place->y = (drawable_h - place->h) / 2;
	/* Whole multiples stay sharp; anything else would shimmer without smoothing. */
	*nearest = fabs(scale - round(scale)) < 1e-9;
}

/* --- OpenGL ------------------------------------------------------------- */

/* GLSL 1.10: the smallest version every OpenGL 2.0 context accepts. */
static const char sdl_vertex_shader[] =
	"#version 110\n"
	"attribute vec2 position;\n"
	"varying vec2 tex_coord;\n"
	"void main()\n"
	"{\n"
	/* Texture line 0 is the top of the guest screen, GL's y goes up. */
	"	tex_coord = vec2(position.x + 1.0, 1.0 - position.y) * 0.5;\n"
	"	gl_Position = vec4(position, 0.0, 1.0);\n"
	"}\n";

static const char sdl_fragment_shader[] =
	"#version 110\n"
	"uniform sampler2D image;\n"
	"varying vec2 tex_coord;\n"
	"void main()\n"
	"{\n"
	/* The X byte of XRGB8888 lands in alpha: not a transparency. */
	"	gl_FragColor = vec4(texture2D(image, tex_coord).rgb, 1.0);\n"
	"}\n";

static GLuint sdl_gl_compile(GLenum type, const char *source, char **reason)
{
	GLuint shader = glCreateShader(type);
	GLint ok = GL_FALSE;
	char info[512] = "";

	glShaderSource(shader, 1, &source, NULL);
	glCompileShader(shader);
	glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
	if (ok)
		return shader;
	glGetShaderInfoLog(shader, sizeof(info), NULL, info);
	*reason = g_strdup_printf("shader does not compile: %s", info);
	glDeleteShader(shader);
	return 0;
}

static bool sdl_gl_program(struct sdl_window *w, char **reason)
{
	static const GLfloat quad[] = { -1, -1, 1, -1, -1, 1, 1, 1 };
	GLuint vertex, fragment;
	GLint ok = GL_FALSE;
	char info[512] = "";

	vertex = sdl_gl_compile(GL_VERTEX_SHADER, sdl_vertex_shader, reason);
	if (!vertex)
		return false;
	fragment = sdl_gl_compile(GL_FRAGMENT_SHADER, sdl_fragment_shader, reason);
	if (!fragment) {
		glDeleteShader(vertex);
		return false;
	}
	w->gl.program = glCreateProgram();
	glAttachShader(w->gl.program, vertex);
	glAttachShader(w->gl.program, fragment);
	glBindAttribLocation(w->gl.program, 0, "position");
	glLinkProgram(w->gl.program);
	glDeleteShader(vertex);
	glDeleteShader(fragment);
	glGetProgramiv(w->gl.program, GL_LINK_STATUS, &ok);
	if (!ok) {
		glGetProgramInfoLog(w->gl.program, sizeof(info), NULL, info);
		*reason = g_strdup_printf("shader program does not link: %s", info);
		return false;
	}
	glUseProgram(w->gl.program);
	glUniform1i(glGetUniformLocation(w->gl.program, "image"), 0);

	glGenBuffers(1, &w->gl.vertex_buffer);
	glBindBuffer(GL_ARRAY_BUFFER, w->gl.vertex_buffer);
	glBufferData(GL_ARRAY_BUFFER, sizeof(quad), quad, GL_STATIC_DRAW);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
	glEnableVertexAttribArray(0);

	glGenTextures(1, &w->gl.texture);
	glBindTexture(GL_TEXTURE_2D, w->gl.texture);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
	/* Rows of a dirty rectangle are whole pixels apart; no padding. */
	glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
	glGetIntegerv(GL_MAX_TEXTURE_SIZE, &w->gl.max_texture_size);
	return true;
}

static void sdl_gl_teardown(struct sdl_window *w)
{
	if (!w->gl.context)
		return;
	if (w->gl.texture)
		glDeleteTextures(1, &w->gl.texture);
	if (w->gl.vertex_buffer)
		glDeleteBuffers(1, &w->gl.vertex_buffer);
	if (w->gl.program)
		glDeleteProgram(w->gl.program);
	SDL_GL_DeleteContext(w->gl.context);
	memset(&w->gl, 0, sizeof(w->gl));
}

/* Returns false with a reason for the log when OpenGL cannot draw here. */
static bool sdl_gl_setup(struct sdl_window *w, char **reason)
{
	SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
	w->gl.context = SDL_GL_CreateContext(w->window);
	if (!w->gl.context) {
		*reason = g_strdup_printf("no OpenGL context: %s", SDL_GetError());
		return false;
	}
	if (SDL_GL_MakeCurrent(w->window, w->gl.context) != 0) {
		*reason = g_strdup_printf("OpenGL context unusable: %s", SDL_GetError());
		goto fail;
	}
	/* Shaders and non-power-of-two textures: OpenGL 2.0. */
	if (epoxy_gl_version() < 20) {
		*reason = g_strdup_printf("OpenGL %d.%d is older than 2.0",
					  epoxy_gl_version() / 10, epoxy_gl_version() % 10);
		goto fail;
	}
	if (!sdl_gl_program(w, reason))
		goto fail;
	/* Tear-free; the loop's own pacing does not rely on it. */
	SDL_GL_SetSwapInterval(1);
	return true;
fail:
	sdl_gl_teardown(w);
	return false;
}

static void sdl_gl_recreate_texture(struct sdl_window *w)
{
	const struct display_surface *s = &w->surface;
	GLint max = w->gl.max_texture_size;

	w->texture_ready = false;
	if (w->upload == UPLOAD_NONE)
		return;
	if ((GLint)s->width > max || (GLint)s->height > max) {
		log_warning("display: the guest screen (%ux%u) is larger than the largest OpenGL texture (%d); showing black",
			    s->width, s->height, max);
		return;
	}
	glBindTexture(GL_TEXTURE_2D, w->gl.texture);
	if (w->upload == UPLOAD_RGB565)
		glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB, s->width, s->height, 0, GL_RGB,
			     GL_UNSIGNED_SHORT_5_6_5, NULL);
	else
		glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, s->width, s->height, 0, GL_BGRA,
			     GL_UNSIGNED_BYTE, NULL);
	w->texture_ready = true;
}

static void sdl_gl_upload(struct sdl_window *w, const struct display_rect *rect)
{
	const struct display_surface *s = &w->surface;

	glBindTexture(GL_TEXTURE_2D, w->gl.texture);
	switch (w->upload) {
	case UPLOAD_XRGB8888:
		glPixelStorei(GL_UNPACK_ROW_LENGTH, s->stride_bytes / 4);
		glTexSubImage2D(GL_TEXTURE_2D, 0, rect->x, rect->y, rect->width, rect->height,
				GL_BGRA, GL_UNSIGNED_BYTE, sdl_rect_pixels(s, rect));
		break;
	case UPLOAD_RGB565:
		/* GL's 5_6_5 puts the first component (red) in the top bits, as the guest does. */
		glPixelStorei(GL_UNPACK_ROW_LENGTH, s->stride_bytes / 2);
		glTexSubImage2D(GL_TEXTURE_2D, 0, rect->x, rect->y, rect->width, rect->height,
				GL_RGB, GL_UNSIGNED_SHORT_5_6_5, sdl_rect_pixels(s, rect));
		break;
	case UPLOAD_CONVERT:
		glPixelStorei(GL_UNPACK_ROW_LENGTH, rect->width);
		glTexSubImage2D(GL_TEXTURE_2D, 0, rect->x, rect->y, rect->width, rect->height,
				GL_BGRA, GL_UNSIGNED_BYTE, sdl_convert(w, rect));
		break;
	case UPLOAD_NONE:
		break;
	}
}

static void sdl_gl_draw(struct sdl_window *w)
{
	int drawable_w, drawable_h;
	SDL_Rect place;
	bool nearest;
	GLint filter;

	SDL_GL_GetDrawableSize(w->window, &drawable_w, &drawable_h);
	glViewport(0, 0, drawable_w, drawable_h);
	glClearColor(0, 0, 0, 1);
	glClear(GL_COLOR_BUFFER_BIT);
	if (w->texture_ready && drawable_w > 0 && drawable_h > 0) {
		sdl_place(&w->shown, drawable_w, drawable_h, &place, &nearest);
		filter = nearest ? GL_NEAREST : GL_LINEAR;
		glBindTexture(GL_TEXTURE_2D, w->gl.texture);
		glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
		glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
		/* The quad fills the viewport; GL counts viewport rows from the bottom. */
		glViewport(place.x, drawable_h - place.y - place.h, place.w, place.h);
		glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	}
	SDL_GL_SwapWindow(w->window);
}

/* --- Window surface (no OpenGL) --------------------------------------- */

static bool sdl_sw_setup(struct sdl_window *w, const char *reason, GError **error)
{
	/*
	 * The window system's own image transfer (X11: shared-memory images of
	 * the changed rectangles), not a hidden OpenGL renderer under the
	 * surface, which would redraw whole frames again.
	 */
	SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
	if (!SDL_GetWindowSurface(w->window)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "display: cannot draw in the SDL window: %s", SDL_GetError());
		return false;
	}
	log_info("display: SDL window surface, changed rectangles only (%s)", reason);
	return true;
}

static void sdl_sw_recreate_texture(struct sdl_window *w)
{
	const struct display_surface *s = &w->surface;

	if (w->sw.shadow)
		SDL_FreeSurface(w->sw.shadow);
	w->sw.shadow = NULL;
	w->sw.full = true;
	w->texture_ready = false;
	if (w->upload == UPLOAD_NONE)
		return;
	/*
	 * SDL widens RGB565 inexactly (full-scale green comes out 0xfe): all
	 * but XRGB8888 go through our own conversion.
	 */
	if (w->upload != UPLOAD_XRGB8888)
		w->upload = UPLOAD_CONVERT;
	w->sw.shadow = SDL_CreateRGBSurfaceWithFormat(0, s->width, s->height, 32, SDL_PIXELFORMAT_XRGB8888);
	if (!w->sw.shadow) {
		log_warning("display: no %ux%u copy of the guest screen (%s); showing black",
			    s->width, s->height, SDL_GetError());
		return;
	}
	SDL_SetSurfaceBlendMode(w->sw.shadow, SDL_BLENDMODE_NONE);
	w->texture_ready = true;
}

static void sdl_sw_upload(struct sdl_window *w, const struct display_rect *rect)
{
	const struct display_surface *s = &w->surface;
	const uint8_t *src = w->upload == UPLOAD_CONVERT ? (const uint8_t *)sdl_convert(w, rect) :
							   sdl_rect_pixels(s, rect);
	size_t src_stride = w->upload == UPLOAD_CONVERT ? (size_t)rect->width * 4 : s->stride_bytes;
	uint8_t *dst = (uint8_t *)w->sw.shadow->pixels + (size_t)rect->y * w->sw.shadow->pitch +
		       (size_t)rect->x * 4;

	for (unsigned int y = 0; y < rect->height; y++)
		memcpy(dst + (size_t)y * w->sw.shadow->pitch, src + y * src_stride, (size_t)rect->width * 4);
	if (w->sw.nr_updated < G_N_ELEMENTS(w->sw.updated))
		w->sw.updated[w->sw.nr_updated++] = (SDL_Rect){ rect->x, rect->y, rect->width, rect->height };
	else
		w->sw.full = true;
}

/* The whole window: black around the picture, the picture scaled into place. */
static void sdl_sw_draw_all(struct sdl_window *w, SDL_Surface *window_surface, const SDL_Rect *place,
			    bool nearest)
{
	SDL_Rect dst = *place;

	SDL_FillRect(window_surface, NULL, SDL_MapRGB(window_surface->format, 0, 0, 0));
	if (!w->texture_ready)
		return;
	if (place->w == w->sw.shadow->w && place->h == w->sw.shadow->h)
		SDL_BlitSurface(w->sw.shadow, NULL, window_surface, &dst);
	else if (nearest || window_surface->format->format != w->sw.shadow->format->format)
		SDL_BlitScaled(w->sw.shadow, NULL, window_surface, &dst);
	else
		SDL_SoftStretchLinear(w->sw.shadow, NULL, window_surface, &dst);
}

static void sdl_sw_draw(struct sdl_window *w)
{
	SDL_Surface *window_surface = SDL_GetWindowSurface(w->window);
	SDL_Rect place, rects[G_N_ELEMENTS(w->sw.updated)];
	bool nearest, unscaled;
	unsigned int i;

	if (!window_surface || window_surface->w <= 0 || window_surface->h <= 0)
		return;
	sdl_place(&w->shown, window_surface->w, window_surface->h, &place, &nearest);
	unscaled = w->texture_ready && place.w == w->sw.shadow->w && place.h == w->sw.shadow->h;
	if (w->sw.full || !unscaled) {
		/* Scaled pictures redraw whole: a scaled rectangle's edges would not line up. */
		sdl_sw_draw_all(w, window_surface, &place, nearest);
		SDL_UpdateWindowSurface(w->window);
	} else if (w->sw.nr_updated) {
		for (i = 0; i < w->sw.nr_updated; i++) {
			rects[i] = (SDL_Rect){ place.x + w->sw.updated[i].x, place.y + w->sw.updated[i].y,
					       w->sw.updated[i].w, w->sw.updated[i].h };
			SDL_BlitSurface(w->sw.shadow, &w->sw.updated[i], window_surface, &rects[i]);
		}
		SDL_UpdateWindowSurfaceRects(w->window, rects, (int)w->sw.nr_updated);
	}
	w->sw.nr_updated = 0;
	w->sw.full = false;
}

/* --- Window size -------------------------------------------------------- */

/* The guest size, or less if the screen cannot hold that (aspect kept). */
static void sdl_fit_to_guest(struct sdl_window *w)
{
	const struct display_surface *s = &w->surface;
	int top = 0, left = 0, bottom = 0, right = 0, max_w, max_h, display_index;
	int width = s->width, height = s->height;
	SDL_Rect usable;
	double scale;

	if (w->upload == UPLOAD_NONE)
		return;
	/* The user chose this size: the picture scales into it. */
	if (SDL_GetWindowFlags(w->window) &
	    (SDL_WINDOW_FULLSCREEN | SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_MAXIMIZED))
		return;
	display_index = SDL_GetWindowDisplayIndex(w->window);
	if (display_index >= 0 && SDL_GetDisplayUsableBounds(display_index, &usable) == 0) {
		SDL_GetWindowBordersSize(w->window, &top, &left, &bottom, &right);
		max_w = MAX(usable.w - left - right, 1);
		max_h = MAX(usable.h - top - bottom, 1);
		if (width > max_w || height > max_h) {
			scale = MIN((double)max_w / width, (double)max_h / height);
			width = MAX(1, (int)(width * scale));
			height = MAX(1, (int)(height * scale));
		}
	}
	SDL_SetWindowSize(w->window, width, height);
}

static void sdl_apply_mode(struct sdl_window *w)
{
	w->mode_pending = false;
	w->upload = sdl_upload_for(&w->surface);
	if (w->use_gl)
		sdl_gl_recreate_texture(w);
	else
		sdl_sw_recreate_texture(w);
	sdl_fit_to_guest(w);
	log_debug("display: window shows %ux%u %s%s", w->surface.width, w->surface.height,
		  display_format_name(w->surface.format),
		  w->upload == UPLOAD_CONVERT ? ", converted on the CPU" : "");
	sdl_damage_everything(w);
	w->redraw = true;
}

static void sdl_upload_damage(struct sdl_window *w)
{
	struct display_rect all = { 0, 0, w->surface.width, w->surface.height };
	const struct display_rect *rects = w->damage_all ? &all : w->damage;
	unsigned int count = w->damage_all ? 1 : w->damage_count, i;

	if (!count)
		return;
	w->damage_all = false;
	w->damage_count = 0;
	if (!w->texture_ready)
		return;
	for (i = 0; i < count; i++) {
		if (!rects[i].width || !rects[i].height)
			continue;
		if (w->use_gl)
			sdl_gl_upload(w, &rects[i]);
		else
			sdl_sw_upload(w, &rects[i]);
		/* For tests/bench/display.py; g_get_monotonic_time() is CLOCK_MONOTONIC. */
		if (w->trace)
			fprintf(stderr, "display-trace: upload %u,%u %ux%u t=%.6f\n", rects[i].x,
				rects[i].y, rects[i].width, rects[i].height,
				g_get_monotonic_time() / 1e6);
	}
	w->redraw = true;
}

static void sdl_tick(struct sdl_window *w)
{
	sdl_update_title(w);
	display_refresh(w->display);
	g_mutex_lock(&w->damage_lock);
	if (w->mode_pending)
		sdl_apply_mode(w);
	sdl_upload_damage(w);
	w->shown = w->surface;
	g_mutex_unlock(&w->damage_lock);
	if (!w->redraw)
		return;
	w->redraw = false;
	if (w->use_gl)
		sdl_gl_draw(w);
	else
		sdl_sw_draw(w);
}

/* --- Input -------------------------------------------------------------- */

static unsigned int sdl_button_code(Uint8 button)
{
	switch (button) {
	case SDL_BUTTON_LEFT:
		return BTN_LEFT;
	case SDL_BUTTON_RIGHT:
		return BTN_RIGHT;
	case SDL_BUTTON_MIDDLE:
		return BTN_MIDDLE;
	}
	return 0;
}

/* Button releases stop reaching the guest with the grab: none may stay down. */
static void sdl_release_buttons(struct sdl_window *w)
{
	input_button(w->input, BTN_LEFT, false);
	input_button(w->input, BTN_RIGHT, false);
	input_button(w->input, BTN_MIDDLE, false);
}

static void sdl_set_grab(struct sdl_window *w, bool grab)
{
	if (w->grabbed == grab)
		return;
	/* Relative mode hides the cursor and reports motion past the screen edge. */
	if (SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE) != 0 && grab) {
		log_warning("display: cannot grab the pointer: %s", SDL_GetError());
		return;
	}
	/* Alt+Tab and friends go to the guest while it owns the pointer. */
	SDL_SetWindowKeyboardGrab(w->window, grab ? SDL_TRUE : SDL_FALSE);
	if (!grab)
		sdl_release_buttons(w);
	w->grabbed = grab;
	sdl_update_title(w);
}

static void sdl_toggle_fullscreen(struct sdl_window *w)
{
	bool fullscreen = SDL_GetWindowFlags(w->window) & SDL_WINDOW_FULLSCREEN_DESKTOP;

	SDL_SetWindowFullscreen(w->window, fullscreen ? 0 : SDL_WINDOW_FULLSCREEN_DESKTOP);
	/* The guest may have changed mode meanwhile; the old window size is stale. */
	if (fullscreen)
		sdl_fit_to_guest(w);
	w->redraw = true;
}

/* Ctrl+Alt+key: true when consumed. */
static bool sdl_hotkey(struct sdl_window *w, const SDL_KeyboardEvent *key)
{
	static const unsigned int modifiers[] = {
		KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTALT, KEY_RIGHTALT,
	};
	unsigned int i;

	if (key->type != SDL_KEYDOWN || !(key->keysym.mod & KMOD_CTRL) ||
	    !(key->keysym.mod & KMOD_ALT))
		return false;
	switch (key->keysym.scancode) {
	case HOTKEY_RELEASE:
		sdl_set_grab(w, false);
		break;
	case HOTKEY_FULLSCREEN:
		sdl_toggle_fullscreen(w);
		break;
	default:
		return false;
	}
	/* The guest saw Ctrl and Alt go down; it must not keep them. */
	for (i = 0; i < G_N_ELEMENTS(modifiers); i++)
		input_key(w->input, modifiers[i], false);
	return true;
}

static void sdl_on_key(struct sdl_window *w, const SDL_KeyboardEvent *key)
{
	unsigned int code;

	/* The guest keyboard repeats on its own (typematic rate). */
	if (key->repeat || sdl_hotkey(w, key))
		return;
	code = keymap_sdl_to_evdev(key->keysym.scancode);
	if (!code) {
		log_debug("display: no PC key for SDL scancode %d (%s)", key->keysym.scancode,
			  SDL_GetScancodeName(key->keysym.scancode));
		return;
	}
	input_key(w->input, code, key->type == SDL_KEYDOWN);
}

static void sdl_on_button(struct sdl_window *w, const SDL_MouseButtonEvent *event)
{
	unsigned int code = sdl_button_code(event->button);
	bool down = event->type == SDL_MOUSEBUTTONDOWN;

	if (!code)
		return;
	if (w->grabbed)
		input_button(w->input, code, down);
	else if (down)
		/* The click that grabs is for the window, not the guest. */
		sdl_set_grab(w, true);
}

static void sdl_on_focus_lost(struct sdl_window *w)
{
	/* Keys held while another window took the focus would stay down in the guest. */
	sdl_set_grab(w, false);
	input_release_all(w->input);
}

static bool sdl_on_window_event(struct sdl_window *w, const SDL_WindowEvent *event)
{
	switch (event->event) {
	case SDL_WINDOWEVENT_EXPOSED:
	case SDL_WINDOWEVENT_SIZE_CHANGED:
	case SDL_WINDOWEVENT_RESTORED:
		w->redraw = true;
		w->sw.full = true;
		break;
	case SDL_WINDOWEVENT_FOCUS_LOST:
		sdl_on_focus_lost(w);
		break;
	case SDL_WINDOWEVENT_CLOSE:
		if (!w->config.request_close)
			return false;
		w->config.request_close(w->config.opaque);
		break;
	}
	return true;
}

/* Returns false when the loop should end. */
static bool sdl_on_event(struct sdl_window *w, const SDL_Event *event)
{
	int dz;

	if (event->type == w->wake_event)
		return !g_atomic_int_get(&w->quit);

	switch (event->type) {
	case SDL_WINDOWEVENT:
		return sdl_on_window_event(w, &event->window);
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		sdl_on_key(w, &event->key);
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		if (event->button.which != SDL_TOUCH_MOUSEID)
			sdl_on_button(w, &event->button);
		break;
	case SDL_MOUSEMOTION:
		if (w->grabbed && event->motion.which != SDL_TOUCH_MOUSEID &&
		    (event->motion.xrel || event->motion.yrel))
			input_motion(w->input, event->motion.xrel, event->motion.yrel, 0);
		break;
	case SDL_MOUSEWHEEL:
		if (!w->grabbed || event->wheel.which == SDL_TOUCH_MOUSEID)
			break;
		/* Natural scrolling flips SDL's sign; the guest wants the physical direction. */
		dz = event->wheel.y;
		if (event->wheel.direction == SDL_MOUSEWHEEL_FLIPPED)
			dz = -dz;
		if (dz)
			input_motion(w->input, 0, 0, dz);
		break;
	}
	return true;
}

/* --- Life cycle --------------------------------------------------------- */

enum sdl_renderer_choice {
	RENDERER_AUTO,		/* OpenGL unless it is a software rasterizer */
	RENDERER_GL,		/* OpenGL whatever it is */
	RENDERER_SOFTWARE,	/* the window surface */
};

static enum sdl_renderer_choice sdl_renderer_choice(const struct sdl_window_config *config)
{
	const char *env = g_getenv("VESSEL_SDL_RENDERER");

	if (config->force_software_renderer)
		return RENDERER_SOFTWARE;
	if (!env || !*env)
		return RENDERER_AUTO;
	if (!strcmp(env, "gl") || !strcmp(env, "opengl"))
		return RENDERER_GL;
	if (!strcmp(env, "software"))
		return RENDERER_SOFTWARE;
	log_warning("display: VESSEL_SDL_RENDERER=%s is not 'software' or 'gl'; choosing by myself", env);
	return RENDERER_AUTO;
}

/*
 * Mesa's CPU rasterizers redraw and send the whole window for every frame
 * (with llvmpipe a 1920x1080 guest animating a small square kept one and a
 * half cores busy); the window surface sends only what changed.
 */
static bool sdl_gl_is_software(void)
{
	const char *renderer = (const char *)glGetString(GL_RENDERER);

	return renderer && (strstr(renderer, "llvmpipe") || strstr(renderer, "softpipe") ||
			    strstr(renderer, "Software Rasterizer") || strstr(renderer, "swrast"));
}

static bool sdl_create_window(struct sdl_window *w, bool gl, int width, int height, GError **error)
{
	Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI | (gl ? SDL_WINDOW_OPENGL : 0);

	w->window = SDL_CreateWindow(w->title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
				     width, height, flags);
	if (!w->window && !gl)
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "display: cannot open the SDL window: %s", SDL_GetError());
	return w->window;
}

struct sdl_window *sdl_window_new(struct display *display, struct input *input,
				  const struct sdl_window_config *config, GError **error)
{
	struct sdl_window *w;
	g_autofree char *reason = NULL;
	int width = DEFAULT_WIDTH, height = DEFAULT_HEIGHT;
	enum sdl_renderer_choice choice;

	/* vessel-vmm handles SIGINT/SIGTERM itself (an orderly shutdown). */
	SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
	/* A desktop app window, not a game: keep the compositor on (no flicker when it toggles). */
	SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "display: cannot start SDL video (%s) — is there a graphical session (DISPLAY or WAYLAND_DISPLAY)? Use --display none to run without a window",
			    SDL_GetError());
		return NULL;
	}
	/*
	 * Without a graphical session SDL falls back to drivers that show
	 * nothing; a user asking for a window must hear so.  Tests ask for
	 * them by name (SDL_VIDEODRIVER=offscreen).
	 */
	if (!*(g_getenv("SDL_VIDEODRIVER") ?: "") && SDL_GetCurrentVideoDriver() &&
	    (!strcmp(SDL_GetCurrentVideoDriver(), "offscreen") ||
	     !strcmp(SDL_GetCurrentVideoDriver(), "dummy"))) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_FAILED,
			    "display: no graphical session to open a window in (neither DISPLAY nor WAYLAND_DISPLAY works); use --display none, or run from a desktop session");
		SDL_QuitSubSystem(SDL_INIT_VIDEO);
		return NULL;
	}

	w = g_new0(struct sdl_window, 1);
	g_mutex_init(&w->damage_lock);
	w->display = display;
	w->input = input;
	w->config = *config;
	w->machine_name = g_strdup(config->machine_name ? config->machine_name : "vessel");
	w->config.machine_name = w->machine_name;
	w->wake_event = SDL_RegisterEvents(1);
	w->trace = g_strcmp0(g_getenv("VESSEL_DISPLAY_TRACE"), "1") == 0;

	display_get_surface(display, &w->surface);
	if (sdl_upload_for(&w->surface) != UPLOAD_NONE) {
		width = w->surface.width;
		height = w->surface.height;
	}
	/* The first tick sizes the window and uploads everything. */
	w->mode_pending = true;

	sdl_update_title(w);
	choice = sdl_renderer_choice(config);
	if (choice == RENDERER_SOFTWARE) {
		reason = g_strdup(config->force_software_renderer ? "software rendering requested" :
				  "VESSEL_SDL_RENDERER=software");
	} else if (sdl_create_window(w, true, width, height, NULL)) {
		w->use_gl = sdl_gl_setup(w, &reason);
		if (w->use_gl && choice == RENDERER_AUTO && sdl_gl_is_software()) {
			reason = g_strdup_printf("OpenGL here is %s, which draws on the CPU; VESSEL_SDL_RENDERER=gl uses it anyway",
						 (const char *)glGetString(GL_RENDERER));
			sdl_gl_teardown(w);
			w->use_gl = false;
		}
		if (w->use_gl)
			log_info("display: OpenGL (%s)", (const char *)glGetString(GL_RENDERER));
		if (!w->use_gl) {
			/* A window made for OpenGL may not take a 2D renderer: start over. */
			SDL_DestroyWindow(w->window);
			w->window = NULL;
		}
	} else {
		reason = g_strdup_printf("no OpenGL window: %s", SDL_GetError());
	}
	if (!w->use_gl &&
	    (!sdl_create_window(w, false, width, height, error) ||
	     !sdl_sw_setup(w, reason, error))) {
		sdl_window_free(w);
		return NULL;
	}
	display_add_listener(display, &sdl_listener_ops, w);
	w->listening = true;
	return w;
}

int sdl_window_run(struct sdl_window *w)
{
	gint64 next_tick_us = g_get_monotonic_time(), now_us;
	SDL_Event event;
	int timeout_ms;
	bool running = true;

	while (running && !g_atomic_int_get(&w->quit)) {
		now_us = g_get_monotonic_time();
		if (now_us >= next_tick_us) {
			sdl_tick(w);
			next_tick_us += TICK_US;
			/* After a stall (a long resize drag) catch up once, not in a burst. */
			if (next_tick_us < now_us)
				next_tick_us = now_us + TICK_US;
			continue;
		}
		/* Sleeps in the window system until an event or the next tick: an idle screen is cheap. */
		timeout_ms = (int)((next_tick_us - now_us + 999) / 1000);
		if (!SDL_WaitEventTimeout(&event, timeout_ms))
			continue;
		do {
			running = sdl_on_event(w, &event) && running;
		} while (SDL_PollEvent(&event));
	}
	return 0;
}

void sdl_window_quit(struct sdl_window *w)
{
	SDL_Event event = { .type = w->wake_event };

	g_atomic_int_set(&w->quit, 1);
	/* SDL_PushEvent() is the one SDL call safe from any thread; it wakes the wait. */
	if (w->wake_event != (Uint32)-1)
		SDL_PushEvent(&event);
}

void sdl_window_free(struct sdl_window *w)
{
	if (!w)
		return;
	if (w->listening)
		display_remove_listener(w->display, &sdl_listener_ops, w);
	if (w->grabbed)
		SDL_SetRelativeMouseMode(SDL_FALSE);
	if (w->sw.shadow)
		SDL_FreeSurface(w->sw.shadow);
	sdl_gl_teardown(w);
	if (w->window)
		SDL_DestroyWindow(w->window);
	/*
	 * SDL's video subsystem is process-wide and stays up until the process
	 * exits: quitting it closes the X connection, Mesa then unloads its
	 * driver, and that teardown leaks (LeakSanitizer reports it in every
	 * test run).  Nothing is gained by it just before exit.
	 */
	g_free(w->staging);
	g_free(w->title);
	g_free(w->title_state);
	g_free(w->machine_name);
	g_mutex_clear(&w->damage_lock);
	g_free(w);
}
