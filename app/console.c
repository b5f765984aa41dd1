/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "console.h"

#include <errno.h>
#include <glib-unix.h>
#include <termios.h>
#include <unistd.h>

#define CONSOLE_READ_BYTES	256
#define CONSOLE_RETRY_MS	10

struct console {
	struct machine *machine;
	GMainContext *context;
	GSource *watch;			/* stdin readable */
	GSource *retry;			/* guest FIFO full: try again later */
	uint8_t pending[CONSOLE_READ_BYTES];
	size_t pending_len, pending_off;
	bool terminal_saved;
	struct termios saved;
};

static gboolean on_stdin(gint fd, GIOCondition condition, gpointer data);

static void watch_stdin(struct console *c)
{
	c->watch = g_unix_fd_source_new(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_callback(c->watch, G_SOURCE_FUNC(on_stdin), c, NULL);
	g_source_attach(c->watch, c->context);
}

/* Feeds what is pending; true when all of it went in. */
static bool flush_pending(struct console *c)
{
	while (c->pending_off < c->pending_len) {
		size_t taken = machine_serial_input(c->machine, c->pending + c->pending_off,
						    c->pending_len - c->pending_off);

		if (!taken)
			return false;
		c->pending_off += taken;
	}
	c->pending_len = c->pending_off = 0;
	return true;
}

static gboolean on_retry(gpointer data)
{
	struct console *c = data;

	if (!flush_pending(c))
		return G_SOURCE_CONTINUE;
	g_source_unref(c->retry);
	c->retry = NULL;
	watch_stdin(c);
	return G_SOURCE_REMOVE;
}

static gboolean on_stdin(gint fd, GIOCondition condition, gpointer data)
{
	struct console *c = data;
	ssize_t n = read(fd, c->pending, sizeof(c->pending));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		/* End of input: the guest keeps running, it just gets no more. */
		g_source_unref(c->watch);
		c->watch = NULL;
		return G_SOURCE_REMOVE;
	}
	c->pending_len = (size_t)n;
	c->pending_off = 0;
	if (flush_pending(c))
		return G_SOURCE_CONTINUE;
	/* The guest is not reading: stop reading stdin until it does. */
	g_source_unref(c->watch);
	c->watch = NULL;
	c->retry = g_timeout_source_new(CONSOLE_RETRY_MS);
	g_source_set_callback(c->retry, on_retry, c, NULL);
	g_source_attach(c->retry, c->context);
	return G_SOURCE_REMOVE;
}

struct console *console_new(struct machine *machine, GMainContext *context)
{
	struct console *c = g_new0(struct console, 1);

	c->machine = machine;
	c->context = context;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved) == 0) {
		struct termios raw = c->saved;

		/* Characters go to the guest as typed; the guest echoes them. */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
		raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			c->terminal_saved = true;
	}
	watch_stdin(c);
	return c;
}

void console_free(struct console *c)
{
	if (!c)
		return;
	if (c->watch) {
		g_source_destroy(c->watch);
		g_source_unref(c->watch);
	}
	if (c->retry) {
		g_source_destroy(c->retry);
		g_source_unref(c->retry);
	}
	if (c->terminal_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	g_free(c);
}
