// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spice-keys: a minimal SPICE client that types scan codes (and moves and
 * clicks the mouse) through a server's inputs channel, then disconnects.
 * The SPICE tests use it to check that keys sent by a real client reach
 * the guest's i8042 as the same set 1 codes (tests/spice/test_keys.py),
 * and to connect and drop clients over and over (test_cycles.py).
 *
 *   spice-keys {--host H --port P | --host H --tls-port T | --uri URI}
 *              [--ca-file F] [--password PW] [--keys 1e,9e,...]
 *              [--motion DX,DY] [--click] [--locks scroll,num,caps|none]
 *              [--delay-ms N] [--timeout-s N] [--allow-close]
 *
 * --keys lists set 1 codes in the order they are sent: a code below 0x80
 * is a press, with bit 7 set a release (SPICE sends press and release
 * messages, the server makes the break code); an "e0" prefix (e0 48)
 * marks an extended key.  With no --keys, --motion or --click the client
 * only opens the inputs channel and leaves again.
 *
 * Every SPICE client tells the server its lock keys' state as soon as the
 * inputs channel opens, and the server presses Scroll/Num/Caps Lock for
 * the guest where the guest's LEDs differ (spice-server's handling of
 * SPICE_MSGC_INPUTS_KEY_MODIFIERS).  --locks sets the state this client
 * reports (default none, as a client whose host has every lock off).
 *
 * --uri takes a spice:// URI as the VMM prints it; --tls-port (or a URI
 * with tls-port=) connects with TLS, trusting the CA certificate in
 * --ca-file and checking that the server's certificate names the host.
 *
 * --allow-close: the server may end the connection once the last event is
 * sent (a test guest that exits on the last key takes its VMM with it).
 *
 * Exit status: 0 when every event was sent and flushed; 1 for a bad
 * command line; 2 when the server refused the connection or the password,
 * or closed it; 3 when the whole run took longer than --timeout-s.
 */

#include <errno.h>
#include <spice-client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_CONNECTION = 2,
	EXIT_TIMEOUT = 3,
};

enum step_kind {
	STEP_KEY_PRESS,
	STEP_KEY_RELEASE,
	STEP_MOTION,
	STEP_BUTTON_PRESS,
	STEP_BUTTON_RELEASE,
};

struct step {
	enum step_kind kind;
	guint scancode;		/* SPICE's form: 0x100 | code for e0 codes */
	int dx, dy;
};

struct client {
	const char *where;	/* host:port or the URI, for messages */
	GMainLoop *loop;
	SpiceSession *session;
	SpiceInputsChannel *inputs;
	GArray *steps;
	guint next_step;
	guint delay_ms;
	guint timeout_s;
	guint locks;
	gboolean allow_close;
	gboolean main_opened;
	gboolean inputs_opened;
	gboolean finishing;
	int status;
};

static void client_finish(struct client *client, int status)
{
	if (client->finishing)
		return;
	client->finishing = TRUE;
	client->status = status;
	spice_session_disconnect(client->session);
	g_main_loop_quit(client->loop);
}

static void client_fail(struct client *client, int status, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void client_fail(struct client *client, int status, const char *fmt, ...)
{
	va_list ap;

	if (client->finishing)
		return;
	fprintf(stderr, "spice-keys: %s: ", client->where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	client_finish(client, status);
}

static void flush_done(GObject *source, GAsyncResult *result, gpointer data)
{
	struct client *client = data;
	g_autoptr(GError) error = NULL;

	if (!spice_channel_flush_finish(SPICE_CHANNEL(source), result, &error)) {
		client_fail(client, EXIT_CONNECTION, "the events could not be flushed: %s",
			    error ? error->message : "unknown error");
		return;
	}
	printf("spice-keys: sent %u events\n", client->steps->len);
	fflush(stdout);
	client_finish(client, EXIT_OK);
}

static void send_step(struct client *client, const struct step *step)
{
	/* Server mouse mode (no agent): the PS/2 mouse gets relative motion and
	 * the button state after each change. */
	switch (step->kind) {
	case STEP_KEY_PRESS:
		spice_inputs_channel_key_press(client->inputs, step->scancode);
		break;
	case STEP_KEY_RELEASE:
		spice_inputs_channel_key_release(client->inputs, step->scancode);
		break;
	case STEP_MOTION:
		spice_inputs_channel_motion(client->inputs, step->dx, step->dy, 0);
		break;
	case STEP_BUTTON_PRESS:
		spice_inputs_channel_button_press(client->inputs, SPICE_MOUSE_BUTTON_LEFT,
						  SPICE_MOUSE_BUTTON_MASK_LEFT);
		break;
	case STEP_BUTTON_RELEASE:
		spice_inputs_channel_button_release(client->inputs, SPICE_MOUSE_BUTTON_LEFT, 0);
		break;
	}
}

static gboolean next_step(gpointer data)
{
	struct client *client = data;

	if (client->finishing)
		return G_SOURCE_REMOVE;
	if (client->next_step < client->steps->len) {
		send_step(client, &g_array_index(client->steps, struct step, client->next_step));
		client->next_step++;
		return G_SOURCE_CONTINUE;
	}
	spice_channel_flush_async(SPICE_CHANNEL(client->inputs), NULL, flush_done, client);
	return G_SOURCE_REMOVE;
}

static const char *event_words(SpiceChannelEvent event)
{
	switch (event) {
	case SPICE_CHANNEL_CLOSED:
		return "the server closed the connection";
	case SPICE_CHANNEL_ERROR_CONNECT:
		return "cannot connect (is a SPICE server listening there?)";
	case SPICE_CHANNEL_ERROR_TLS:
		return "TLS error";
	case SPICE_CHANNEL_ERROR_LINK:
		return "the link handshake failed (not a SPICE server, or it refused the link)";
	case SPICE_CHANNEL_ERROR_AUTH:
		return "authentication failed: the server refused the password";
	case SPICE_CHANNEL_ERROR_IO:
		return "I/O error on the connection";
	default:
		return "unexpected channel event";
	}
}

static void channel_event(SpiceChannel *channel, SpiceChannelEvent event, gpointer data)
{
	struct client *client = data;
	const GError *error = spice_channel_get_error(channel);
	const char *name = SPICE_IS_MAIN_CHANNEL(channel) ? "main" : "inputs";

	if (event == SPICE_CHANNEL_OPENED) {
		if (SPICE_IS_MAIN_CHANNEL(channel)) {
			client->main_opened = TRUE;
			return;
		}
		client->inputs_opened = TRUE;
		printf("spice-keys: inputs channel open\n");
		fflush(stdout);
		/* Steps go out one per delay, as typed, so the guest's i8042 buffer
		 * never has to hold more than one key's bytes. */
		g_timeout_add(client->delay_ms, next_step, client);
		return;
	}
	if (event == SPICE_CHANNEL_NONE || event == SPICE_CHANNEL_SWITCHING)
		return;
	if (client->allow_close && client->inputs_opened &&
	    client->next_step == client->steps->len &&
	    (event == SPICE_CHANNEL_CLOSED || event == SPICE_CHANNEL_ERROR_IO)) {
		printf("spice-keys: sent %u events; then the server closed the connection\n",
		       client->steps->len);
		fflush(stdout);
		client_finish(client, EXIT_OK);
		return;
	}
	client_fail(client, EXIT_CONNECTION, "%s channel: %s (event %d)%s%s", name,
		    event_words(event), event, error ? ": " : "", error ? error->message : "");
}

static void channel_new(SpiceSession *session, SpiceChannel *channel, gpointer data)
{
	struct client *client = data;

	(void)session;
	if (SPICE_IS_MAIN_CHANNEL(channel)) {
		g_signal_connect(channel, "channel-event", G_CALLBACK(channel_event), client);
		return;
	}
	if (!SPICE_IS_INPUTS_CHANNEL(channel) || client->inputs)
		return;
	client->inputs = SPICE_INPUTS_CHANNEL(channel);
	/* Before the connection: this is the state the channel reports once up. */
	spice_inputs_channel_set_key_locks(client->inputs, client->locks);
	g_signal_connect(channel, "channel-event", G_CALLBACK(channel_event), client);
	/* The session connects only the main channel; the others are ours. */
	if (!spice_channel_connect(channel))
		client_fail(client, EXIT_CONNECTION, "the inputs channel would not connect");
}

static gboolean timed_out(gpointer data)
{
	struct client *client = data;

	if (!client->main_opened)
		client_fail(client, EXIT_TIMEOUT, "no SPICE session within %u s", client->timeout_s);
	else if (!client->inputs)
		client_fail(client, EXIT_TIMEOUT,
			    "the server offered no inputs channel within %u s", client->timeout_s);
	else if (!client->inputs_opened)
		client_fail(client, EXIT_TIMEOUT, "the inputs channel did not open within %u s",
			    client->timeout_s);
	else
		client_fail(client, EXIT_TIMEOUT, "sending the events took more than %u s",
			    client->timeout_s);
	return G_SOURCE_REMOVE;
}

static gboolean parse_locks(const char *text, guint *locks, GError **error)
{
	g_auto(GStrv) items = g_strsplit(text, ",", -1);

	*locks = 0;
	for (guint i = 0; items[i]; i++) {
		const char *item = g_strstrip(items[i]);

		if (strcmp(item, "scroll") == 0)
			*locks |= SPICE_INPUTS_SCROLL_LOCK;
		else if (strcmp(item, "num") == 0)
			*locks |= SPICE_INPUTS_NUM_LOCK;
		else if (strcmp(item, "caps") == 0)
			*locks |= SPICE_INPUTS_CAPS_LOCK;
		else if (strcmp(item, "none") != 0) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--locks: '%s' is not scroll, num, caps or none", item);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean parse_keys(const char *text, GArray *steps, GError **error)
{
	g_auto(GStrv) items = g_strsplit(text, ",", -1);

	for (guint i = 0; items[i]; i++) {
		const char *item = g_strstrip(items[i]);
		gboolean extended = FALSE;
		char *end;
		unsigned long code;
		struct step step = { 0 };

		if (g_ascii_strncasecmp(item, "e0", 2) == 0 && strlen(item) > 2) {
			extended = TRUE;
			item += 2;
		}
		errno = 0;
		code = strtoul(item, &end, 16);
		if (*item == '\0' || *end != '\0' || errno || code > 0xff || (code & 0x7f) == 0) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--keys: '%s' is not a set 1 scan code (hex 01-ff, e0 prefix "
				    "for extended keys)", items[i]);
			return FALSE;
		}
		step.kind = code & 0x80 ? STEP_KEY_RELEASE : STEP_KEY_PRESS;
		/* channel-inputs.h: the make code, 0x100 for the e0 prefix; the
		 * release message carries the same value. */
		step.scancode = (code & 0x7f) | (extended ? 0x100 : 0);
		g_array_append_val(steps, step);
	}
	return TRUE;
}

int main(int argc, char **argv)
{
	g_autofree char *host = NULL;
	g_autofree char *uri = NULL;
	g_autofree char *ca_file = NULL;
	g_autofree char *password = NULL;
	g_autofree char *keys = NULL;
	g_autofree char *motion = NULL;
	g_autofree char *locks = NULL;
	int port = 0;
	int tls_port = 0;
	int delay_ms = 100;
	int timeout_s = 20;
	gboolean click = FALSE;
	gboolean allow_close = FALSE;
	GOptionEntry entries[] = {
		{ "host", 0, 0, G_OPTION_ARG_STRING, &host, "SPICE server address", "HOST" },
		{ "port", 0, 0, G_OPTION_ARG_INT, &port, "SPICE server port", "PORT" },
		{ "tls-port", 0, 0, G_OPTION_ARG_INT, &tls_port, "SPICE server TLS port", "PORT" },
		{ "uri", 0, 0, G_OPTION_ARG_STRING, &uri,
		  "spice://HOST[:PORT][?tls-port=T] instead of --host and the ports", "URI" },
		{ "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
		  "CA certificate to trust for TLS", "FILE" },
		{ "password", 0, 0, G_OPTION_ARG_STRING, &password, "password", "PW" },
		{ "keys", 0, 0, G_OPTION_ARG_STRING, &keys,
		  "set 1 codes in order, hex, comma-separated (80 bit: release; e0 prefix)",
		  "1e,9e,..." },
		{ "motion", 0, 0, G_OPTION_ARG_STRING, &motion,
		  "relative mouse motion first (y grows downwards)", "DX,DY" },
		{ "click", 0, 0, G_OPTION_ARG_NONE, &click,
		  "then press and release the left button", NULL },
		{ "locks", 0, 0, G_OPTION_ARG_STRING, &locks,
		  "lock keys the client reports as on (default none)", "scroll,num,caps" },
		{ "allow-close", 0, 0, G_OPTION_ARG_NONE, &allow_close,
		  "the server may close the connection after the last event", NULL },
		{ "delay-ms", 0, 0, G_OPTION_ARG_INT, &delay_ms,
		  "pause before each event (default 100)", "MS" },
		{ "timeout-s", 0, 0, G_OPTION_ARG_INT, &timeout_s,
		  "give up after this long in all (default 20)", "S" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context = g_option_context_new("- type keys into a SPICE server");
	g_autoptr(GError) error = NULL;
	g_autofree char *where = NULL;
	struct client client = { 0 };

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "spice-keys: %s\n", error->message);
		return EXIT_USAGE;
	}
	if ((!uri && (!host || (port <= 0 && tls_port <= 0))) || (uri && (host || port || tls_port)) ||
	    port < 0 || port > 65535 || tls_port < 0 || tls_port > 65535 ||
	    delay_ms < 1 || timeout_s < 1) {
		fprintf(stderr, "spice-keys: give --uri, or --host with --port and/or --tls-port "
				"(1-65535); --delay-ms and --timeout-s must be positive\n");
		return EXIT_USAGE;
	}

	client.steps = g_array_new(FALSE, TRUE, sizeof(struct step));
	if (motion) {
		struct step step = { .kind = STEP_MOTION };
		char tail;

		if (sscanf(motion, "%d,%d%c", &step.dx, &step.dy, &tail) != 2) {
			fprintf(stderr, "spice-keys: --motion wants DX,DY, not '%s'\n", motion);
			g_array_unref(client.steps);
			return EXIT_USAGE;
		}
		g_array_append_val(client.steps, step);
	}
	if (click) {
		struct step press = { .kind = STEP_BUTTON_PRESS };
		struct step release = { .kind = STEP_BUTTON_RELEASE };

		g_array_append_val(client.steps, press);
		g_array_append_val(client.steps, release);
	}
	if (keys && !parse_keys(keys, client.steps, &error)) {
		fprintf(stderr, "spice-keys: %s\n", error->message);
		g_array_unref(client.steps);
		return EXIT_USAGE;
	}

	if (locks && !parse_locks(locks, &client.locks, &error)) {
		fprintf(stderr, "spice-keys: %s\n", error->message);
		g_array_unref(client.steps);
		return EXIT_USAGE;
	}

	where = uri ? g_strdup(uri) : g_strdup_printf("%s:%d", host, port ? port : tls_port);
	client.where = where;
	client.delay_ms = delay_ms;
	client.allow_close = allow_close;
	client.timeout_s = timeout_s;
	client.loop = g_main_loop_new(NULL, FALSE);
	client.session = spice_session_new();
	if (uri) {
		g_object_set(client.session, "uri", uri, NULL);
	} else {
		g_autofree char *port_text = g_strdup_printf("%d", port);
		g_autofree char *tls_text = g_strdup_printf("%d", tls_port);

		g_object_set(client.session, "host", host, NULL);
		if (port)
			g_object_set(client.session, "port", port_text, NULL);
		if (tls_port)
			g_object_set(client.session, "tls-port", tls_text, NULL);
	}
	if (ca_file)
		g_object_set(client.session, "ca-file", ca_file, NULL);
	if (password)
		g_object_set(client.session, "password", password, NULL);
	g_signal_connect(client.session, "channel-new", G_CALLBACK(channel_new), &client);
	g_timeout_add_seconds(timeout_s, timed_out, &client);

	if (!spice_session_connect(client.session)) {
		fprintf(stderr, "spice-keys: %s: the session would not start\n", where);
		client.status = EXIT_CONNECTION;
	} else {
		g_main_loop_run(client.loop);
	}

	g_object_unref(client.session);
	g_main_loop_unref(client.loop);
	g_array_unref(client.steps);
	return client.status;
}
