/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_CONTROL_H
#define VESSEL_VMM_CONTROL_H

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/*
 * The control socket: a QMP-shaped JSON-lines protocol on a Unix socket
 * (docs/control-protocol.md).  This module owns the protocol — greeting,
 * capability negotiation, parsing, argument checking, replies, events — and
 * knows nothing about machines: commands are registered by whoever
 * implements them (vmm/machine_control.c for the machine-level ones).
 *
 * All command handlers run on the GMainContext given at creation (the VMM's
 * I/O thread).  control_server_emit_event() may be called from any thread.
 */
struct control_server;

enum control_arg_type {
	CONTROL_ARG_STRING,
	CONTROL_ARG_INT,
	CONTROL_ARG_BOOL,
};

struct control_arg {
	const char *name;		/* NULL terminates a list */
	enum control_arg_type type;
	bool optional;
};

/* QMP error classes a handler may use in its GError (domain CONTROL_ERROR). */
#define CONTROL_ERROR (control_error_quark())
GQuark control_error_quark(void);
enum control_error_code {
	CONTROL_ERROR_GENERIC,		/* "GenericError" */
	CONTROL_ERROR_COMMAND_NOT_FOUND,	/* "CommandNotFound" */
	CONTROL_ERROR_DEVICE_NOT_ACTIVE,	/* "DeviceNotActive" */
};

/*
 * A command handler: args holds only declared, type-checked members (never
 * NULL; empty when the request had no "arguments").  Return the "return"
 * value (transfer full; NULL means the empty object {}), or NULL with *error
 * set.  Errors in another domain are reported as GenericError with the
 * message as "desc".  Runs on the server's context; it may emit events,
 * which reach clients before its reply.
 */
typedef JsonNode *(*control_handler_fn)(JsonObject *args, void *opaque, GError **error);

/*
 * Creates the socket at `path` (mode 0600) and starts accepting on `context`.
 * A stale socket left by a dead VMM is replaced; a live one or any other kind
 * of file at `path` is an error, as is a missing parent directory.  Built-in
 * commands: qmp_capabilities, query-commands, query-version.
 */
struct control_server *control_server_new(const char *path, GMainContext *context,
					  GError **error);
/*
 * Stops listening, closes every client, removes the socket file (only if it
 * is still the one this server created).  Call it on the context's thread or
 * after that thread has stopped iterating the context.
 */
void control_server_free(struct control_server *server);

/*
 * Registers before or after start, from any thread; `args` (NULL or an array
 * ended by a NULL name) must outlive the server.  Names are unique.
 */
void control_server_add_command(struct control_server *server, const char *name,
				const struct control_arg *args, control_handler_fn handler,
				void *opaque);

/*
 * Queues {"event": name, "data": data, "timestamp": {...}} for every
 * negotiated client, timestamped now.  Takes ownership of data (NULL sends
 * an empty object).  Thread-safe; events keep their emission order.
 */
void control_server_emit_event(struct control_server *server, const char *name,
			       JsonObject *data);

/*
 * Blocks until everything queued so far — events, and replies of handlers
 * that already returned — has been written to clients (or they went away),
 * at most timeout_ms.  Used before the VMM exits so a "quit" reply and the
 * SHUTDOWN event reach the client.  Must not be called from the server's own
 * context thread, which must be running for the flush to make progress.
 */
void control_server_flush(struct control_server *server, unsigned int timeout_ms);

#endif
