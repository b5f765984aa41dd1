/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_DISPLAY_SPICE_DISPLAY_H
#define VESSEL_DISPLAY_SPICE_DISPLAY_H

#include <glib.h>
#include <stdbool.h>

/*
 * Remote viewing over SPICE (spice-server), without a QXL device: the
 * display core's surface becomes the primary surface of a display channel
 * (re-created on every mode change), its changed rectangles become
 * drawables; the inputs channel feeds the guest's PS/2 keyboard and mouse
 * through struct input; keyboard LEDs go back to the client.
 *
 * Threads: spice-server runs its core (listening socket, clients' main and
 * inputs channels, timers) on the GMainContext given here — the VMM's I/O
 * thread — and the display channel on a worker thread of its own.  Every
 * call below belongs on the I/O thread, except spice_display_new(), made
 * before that thread runs.
 */

struct display;
struct input;

struct spice_display_config {
	unsigned int port;		/* plain connections; 0: none (TLS only) */
	char *addr;			/* default 127.0.0.1 */
	char *password;			/* NULL: none yet (clients refused until set) */
	bool disable_ticketing;		/* anyone may connect, no password */
	unsigned int tls_port;		/* 0: no TLS */
	char *x509_dir;			/* ca-cert.pem, server-cert.pem, server-key.pem */
	const char *name;		/* machine name, shown by clients */
};

void spice_display_config_clear(struct spice_display_config *config);

/*
 * Parses "port=N[,addr=A][,password-file=F][,disable-ticketing]
 * [,tls-port=M,x509-dir=D]"; the password is read from F (its first line).
 */
bool spice_display_parse(const char *text, struct spice_display_config *config, GError **error);

struct spice_display;

struct spice_display *spice_display_new(const struct spice_display_config *config,
					struct display *display, struct input *input,
					GMainContext *context, GError **error);
void spice_display_free(struct spice_display *spice);

/* "spice://127.0.0.1:5930" (or with ?tls-port=), for the user. */
const char *spice_display_uri(struct spice_display *spice);

/* Sets or changes the password; clients connected with the old one stay. */
bool spice_display_set_password(struct spice_display *spice, const char *password, GError **error);

#endif
