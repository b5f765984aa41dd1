/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_DISPLAY_SDL_H
#define VESSEL_DISPLAY_SDL_H

#include <glib.h>
#include <stdbool.h>

/*
 * The window of `vessel-vmm --display sdl`: shows a struct display and
 * feeds host keyboard and mouse events to a struct input.  SDL wants its
 * video calls on the process's main thread, so sdl_window_new(),
 * sdl_window_run() and sdl_window_free() belong there; the vCPUs run on
 * their own threads.  See docs/display.md for hotkeys and pointer grab.
 */

struct display;
struct input;

struct sdl_window_config {
	const char *machine_name;	/* first part of the window title */
	/*
	 * The user closed the window.  The window stays open: the caller
	 * decides (ask the guest to power down, or quit) and ends the loop
	 * with sdl_window_quit().  Runs on the window's thread.
	 */
	void (*request_close)(void *opaque);
	/*
	 * "running", "paused", ... for the title; NULL: no state shown.  Called
	 * on the window's thread at every refresh (~60 Hz): keep it cheap.
	 */
	const char *(*get_state)(void *opaque);
	void *opaque;
	/* Skip OpenGL and draw with the SDL 2D renderer (also VESSEL_SDL_RENDERER=software). */
	bool force_software_renderer;
};

struct sdl_window;

struct sdl_window *sdl_window_new(struct display *display, struct input *input,
				  const struct sdl_window_config *config, GError **error);
/*
 * Runs the event loop on the calling thread (the main thread) until
 * sdl_window_quit(), or until the user closes the window if the config has
 * no request_close.  Returns 0.
 */
int sdl_window_run(struct sdl_window *w);
/* Ends sdl_window_run() soon; any thread, also before the loop started. */
void sdl_window_quit(struct sdl_window *w);
void sdl_window_free(struct sdl_window *w);

#endif
