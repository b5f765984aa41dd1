// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spice-watch: a SPICE client that watches a server's display and reports,
 * with timestamps, what arrives.  The SPICE benchmark (tests/bench/spice.py)
 * runs it behind a byte-counting proxy.  It opens the channels a viewer
 * opens (main, display, inputs, cursor) but sends no input.
 *
 *   spice-watch --host H --port P [--password PW] [--probe X,Y]
 *               [--expect RRGGBB] [--timeout-s N]
 *
 * One line on stdout per event; T is seconds of CLOCK_MONOTONIC (Python's
 * time.monotonic() on Linux), so the driver can set events against its own
 * clock:
 *
 *   open CHANNEL ID t=T          a channel finished its link
 *   primary WxH FORMAT t=T       the display's primary surface was created
 *   invalidate X Y W H t=T       a rectangle of the primary surface changed
 *   full mismatched=N t=T        the changed rectangles since "primary" now
 *                                cover the whole surface: the first complete
 *                                picture has arrived; N pixels of it differ
 *                                from --expect (-1 without --expect)
 *   probe 0xRRGGBB t=T           a changed rectangle covered the --probe
 *                                pixel, which now has this colour
 *   mark t=T                     the server's display mark
 *   closed CHANNEL t=T           the server closed a channel
 *
 * It runs until SIGTERM or SIGINT (then it disconnects cleanly and exits
 * 0), until the main channel closes (exit 2) or until --timeout-s (exit 3).
 */

#include <glib-unix.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <spice-client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_CONNECTION = 2,
	EXIT_TIMEOUT = 3,
};

struct watch {
	GMainLoop *loop;
	SpiceSession *session;
	int status;

	int probe_x, probe_y;		/* -1: no probe */
	gboolean has_expect;
	uint32_t expect_rgb;

	/* The primary surface as the client library draws it. */
	const uint8_t *pixels;
	int width, height, stride;
	gboolean xrgb;			/* 32 bpp: one little-endian 0x00RRGGBB per pixel */

	/*
	 * Which pixels some invalidated rectangle has covered since the
	 * surface was created: one byte per pixel, so that overlapping
	 * rectangles are counted once.  Dropped once the picture is full.
	 */
	uint8_t *covered;
	uint64_t covered_count;
};

static double monotonic_s(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec + now.tv_nsec / 1e9;
}

/* Lines go to a pipe the driver reads as they come: flush each one. */
static void emit_at(double t, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void emit_at(double t, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf(" t=%.6f\n", t);
	fflush(stdout);
}

#define emit(...) emit_at(monotonic_s(), __VA_ARGS__)

static void watch_finish(struct watch *watch, int status)
{
	if (watch->status < 0)
		watch->status = status;
	g_main_loop_quit(watch->loop);
}

static uint32_t pixel_rgb(const struct watch *watch, int x, int y)
{
	uint32_t value;

	memcpy(&value, watch->pixels + (size_t)y * watch->stride + (size_t)x * 4, sizeof(value));
	return value & 0xffffff;
}

static int64_t count_mismatched(const struct watch *watch)
{
	int64_t mismatched = 0;

	if (!watch->has_expect || !watch->xrgb)
		return -1;
	for (int y = 0; y < watch->height; y++)
		for (int x = 0; x < watch->width; x++)
			mismatched += pixel_rgb(watch, x, y) != watch->expect_rgb;
	return mismatched;
}

static void primary_create(SpiceChannel *channel, gint format, gint width, gint height,
			   gint stride, gint shmid, gpointer imgdata, gpointer data)
{
	struct watch *watch = data;

	(void)channel;
	(void)shmid;
	watch->pixels = imgdata;
	watch->width = width;
	watch->height = height;
	watch->stride = stride;
	watch->xrgb = format == SPICE_SURFACE_FMT_32_xRGB;
	g_free(watch->covered);
	watch->covered = g_malloc0((size_t)width * height);
	watch->covered_count = 0;
	emit("primary %dx%d %s", width, height, watch->xrgb ? "xrgb" : "other");
}

static void primary_destroy(SpiceChannel *channel, gpointer data)
{
	struct watch *watch = data;

	(void)channel;
	watch->pixels = NULL;
	g_clear_pointer(&watch->covered, g_free);
}

static void mark_covered(struct watch *watch, int x, int y, int w, int h)
{
	for (int row = y; row < y + h; row++) {
		uint8_t *line = watch->covered + (size_t)row * watch->width;

		for (int col = x; col < x + w; col++) {
			watch->covered_count += !line[col];
			line[col] = 1;
		}
	}
}

static void invalidate(SpiceChannel *channel, gint x, gint y, gint w, gint h, gpointer data)
{
	struct watch *watch = data;

	(void)channel;
	double now = monotonic_s();

	emit_at(now, "invalidate %d %d %d %d", x, y, w, h);
	if (!watch->pixels)
		return;
	/* The library's rectangles lie inside the surface; clip all the same. */
	int x0 = CLAMP(x, 0, watch->width), y0 = CLAMP(y, 0, watch->height);
	int x1 = CLAMP(x + w, x0, watch->width), y1 = CLAMP(y + h, y0, watch->height);

	if (watch->covered) {
		mark_covered(watch, x0, y0, x1 - x0, y1 - y0);
		if (watch->covered_count == (uint64_t)watch->width * watch->height) {
			/* When it arrived, not when the comparison ended. */
			emit_at(now, "full mismatched=%" PRId64, count_mismatched(watch));
			g_clear_pointer(&watch->covered, g_free);
		}
	}
	if (watch->xrgb && watch->probe_x >= x0 && watch->probe_x < x1 &&
	    watch->probe_y >= y0 && watch->probe_y < y1)
		emit_at(now, "probe 0x%06" PRIx32,
			pixel_rgb(watch, watch->probe_x, watch->probe_y));
}

static void display_mark(SpiceChannel *channel, gint mark, gpointer data)
{
	(void)channel;
	(void)data;
	if (mark)
		emit("mark");
}

static const char *channel_name(SpiceChannel *channel)
{
	int type;

	g_object_get(channel, "channel-type", &type, NULL);
	return spice_channel_type_to_string(type);
}

static void channel_event(SpiceChannel *channel, SpiceChannelEvent event, gpointer data)
{
	struct watch *watch = data;
	int id;

	g_object_get(channel, "channel-id", &id, NULL);
	switch (event) {
	case SPICE_CHANNEL_OPENED:
		emit("open %s %d", channel_name(channel), id);
		break;
	case SPICE_CHANNEL_CLOSED:
		emit("closed %s", channel_name(channel));
		if (SPICE_IS_MAIN_CHANNEL(channel))
			watch_finish(watch, EXIT_CONNECTION);
		break;
	case SPICE_CHANNEL_ERROR_CONNECT:
	case SPICE_CHANNEL_ERROR_TLS:
	case SPICE_CHANNEL_ERROR_LINK:
	case SPICE_CHANNEL_ERROR_AUTH:
	case SPICE_CHANNEL_ERROR_IO:
		fprintf(stderr, "spice-watch: %s channel: connection failed or lost (event %d)\n",
			channel_name(channel), event);
		if (SPICE_IS_MAIN_CHANNEL(channel) || SPICE_IS_DISPLAY_CHANNEL(channel))
			watch_finish(watch, EXIT_CONNECTION);
		break;
	default:
		break;
	}
}

static void channel_new(SpiceSession *session, SpiceChannel *channel, gpointer data)
{
	(void)session;
	/* What a viewer opens; audio, USB and the rest stay closed. */
	if (!SPICE_IS_MAIN_CHANNEL(channel) && !SPICE_IS_DISPLAY_CHANNEL(channel) &&
	    !SPICE_IS_INPUTS_CHANNEL(channel) && !SPICE_IS_CURSOR_CHANNEL(channel))
		return;
	g_signal_connect(channel, "channel-event", G_CALLBACK(channel_event), data);
	if (SPICE_IS_DISPLAY_CHANNEL(channel)) {
		g_signal_connect(channel, "display-primary-create", G_CALLBACK(primary_create), data);
		g_signal_connect(channel, "display-primary-destroy", G_CALLBACK(primary_destroy),
				 data);
		g_signal_connect(channel, "display-invalidate", G_CALLBACK(invalidate), data);
		g_signal_connect(channel, "display-mark", G_CALLBACK(display_mark), data);
	}
	/* The session connects the main channel itself. */
	if (!SPICE_IS_MAIN_CHANNEL(channel) && !spice_channel_connect(channel))
		fprintf(stderr, "spice-watch: cannot connect the %s channel\n",
			channel_name(channel));
}

static gboolean on_signal(gpointer data)
{
	struct watch *watch = data;

	spice_session_disconnect(watch->session);
	watch_finish(watch, EXIT_OK);
	return G_SOURCE_REMOVE;
}

static gboolean timed_out(gpointer data)
{
	struct watch *watch = data;

	fprintf(stderr, "spice-watch: --timeout-s reached\n");
	spice_session_disconnect(watch->session);
	watch_finish(watch, EXIT_TIMEOUT);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	g_autofree char *host = NULL, *password = NULL, *probe = NULL, *expect = NULL;
	int port = 0, timeout_s = 0;
	GOptionEntry entries[] = {
		{ "host", 0, 0, G_OPTION_ARG_STRING, &host, "server address", "H" },
		{ "port", 0, 0, G_OPTION_ARG_INT, &port, "server port", "P" },
		{ "password", 0, 0, G_OPTION_ARG_STRING, &password, "SPICE ticket", "PW" },
		{ "probe", 0, 0, G_OPTION_ARG_STRING, &probe, "pixel to report", "X,Y" },
		{ "expect", 0, 0, G_OPTION_ARG_STRING, &expect,
		  "colour of every pixel of the first picture", "RRGGBB" },
		{ "timeout-s", 0, 0, G_OPTION_ARG_INT, &timeout_s, "give up after N s", "N" },
		{ NULL },
	};
	g_autoptr(GOptionContext) context = g_option_context_new("- watch a SPICE display");
	g_autoptr(GError) error = NULL;
	struct watch watch = { .status = -1, .probe_x = -1, .probe_y = -1 };
	char port_text[16];

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "spice-watch: %s\n", error->message);
		return EXIT_USAGE;
	}
	if (!host || port <= 0 || port > 65535) {
		fprintf(stderr, "spice-watch: --host and --port (1-65535) are required\n");
		return EXIT_USAGE;
	}
	if (probe && (sscanf(probe, "%d,%d", &watch.probe_x, &watch.probe_y) != 2 ||
		      watch.probe_x < 0 || watch.probe_y < 0)) {
		fprintf(stderr, "spice-watch: --probe wants X,Y, not '%s'\n", probe);
		return EXIT_USAGE;
	}
	if (expect) {
		char *end;

		watch.expect_rgb = strtoul(expect, &end, 16);
		if (strlen(expect) != 6 || *end) {
			fprintf(stderr, "spice-watch: --expect wants RRGGBB, not '%s'\n", expect);
			return EXIT_USAGE;
		}
		watch.has_expect = TRUE;
	}

	watch.loop = g_main_loop_new(NULL, FALSE);
	watch.session = spice_session_new();
	snprintf(port_text, sizeof(port_text), "%d", port);
	g_object_set(watch.session, "host", host, "port", port_text, NULL);
	if (password)
		g_object_set(watch.session, "password", password, NULL);
	g_signal_connect(watch.session, "channel-new", G_CALLBACK(channel_new), &watch);
	g_unix_signal_add(SIGTERM, on_signal, &watch);
	g_unix_signal_add(SIGINT, on_signal, &watch);
	if (timeout_s > 0)
		g_timeout_add_seconds(timeout_s, timed_out, &watch);
	if (!spice_session_connect(watch.session)) {
		fprintf(stderr, "spice-watch: cannot connect to %s:%d\n", host, port);
		return EXIT_CONNECTION;
	}
	g_main_loop_run(watch.loop);

	g_object_unref(watch.session);
	g_main_loop_unref(watch.loop);
	g_free(watch.covered);
	return watch.status < 0 ? EXIT_OK : watch.status;
}
