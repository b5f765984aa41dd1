/* SPDX-License-Identifier: GPL-2.0-or-later */
#define G_LOG_DOMAIN "vessel-control"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>

#include "control.h"

/*
 * Bounds on what one client can make the VMM hold.  Requests are a few
 * hundred bytes; 1 MiB leaves room for long file names and future bulk
 * arguments.  Replies and events queue while a client is not reading; 4 MiB
 * is thousands of events, so a client that far behind has stopped reading.
 */
#define CONTROL_MAX_LINE_BYTES	(1u << 20)
#define CONTROL_MAX_QUEUE_BYTES	(4u << 20)
/*
 * json-glib 1.6 parses nested values recursively without a limit: a line of
 * a few hundred thousand '[' overflows the I/O thread's stack.  No command
 * takes anything close to this depth.
 */
#define CONTROL_MAX_DEPTH	64
#define CONTROL_READ_CHUNK	65536
/*
 * The GUI holds one connection and a user a few more; a client that leaks
 * connections must not exhaust the VMM's file descriptors.
 */
#define CONTROL_MAX_CLIENTS	64

G_DEFINE_QUARK(vessel-control-error-quark, control_error)

struct control_command {
	char *name;
	const struct control_arg *args;
	control_handler_fn handler;
	void *opaque;
};

struct control_client {
	struct control_server *server;
	unsigned int refcount;		/* callbacks hold one while they run */
	GSocket *socket;
	GSource *in_source;
	GSource *out_source;		/* only while output is pending */
	GByteArray *in_buf;
	gsize in_scanned;		/* bytes of in_buf already searched for '\\n' */
	GByteArray *out_buf;
	gsize out_sent;			/* bytes of out_buf already written */
	bool negotiated;
	bool closing;			/* close once out_buf drains; ignore input */
	bool dead;			/* socket closed, off the server's list */
};

struct control_server {
	char *path;
	dev_t sock_dev;			/* identity of the socket file we bound, */
	ino_t sock_ino;			/* so free() never unlinks someone else's */
	GMainContext *context;
	GSocket *listener;
	GSource *accept_source;
	GSource *wakeup_source;		/* runs cross-thread work on context */
	GList *clients;			/* context thread only */
	unsigned int nr_clients;
	gsize out_pending;		/* sum of unsent bytes; context thread only */

	GMutex lock;			/* protects everything below */
	GCond cond;
	GHashTable *commands;		/* name -> struct control_command */
	GQueue events;			/* serialized lines from other threads */
	guint64 flush_requested;
	guint64 flush_reached;
	gsize locked_out_pending;
};

/* ---- JSON helpers -------------------------------------------------------- */

static char *control_serialize(JsonNode *node, gsize *length)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	char *text;
	gsize len;

	/* Not pretty-printed: one message must stay on one line. */
	json_generator_set_root(gen, node);
	text = json_generator_to_data(gen, &len);
	/* Room for the line terminator the caller appends. */
	text = g_realloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	*length = len + 1;
	return text;
}

static JsonNode *control_node_take_object(JsonObject *object)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, object);
	return node;
}

static JsonObject *control_version_object(void)
{
	JsonObject *qemu = json_object_new();
	JsonObject *version = json_object_new();

	/*
	 * QMP clients read a "qemu" triple; vessel-vmm is not QEMU, so it is all
	 * zeros and the real identity is in "package".
	 */
	json_object_set_int_member(qemu, "micro", 0);
	json_object_set_int_member(qemu, "minor", 0);
	json_object_set_int_member(qemu, "major", 0);
	json_object_set_object_member(version, "qemu", qemu);
	json_object_set_string_member(version, "package", "vessel-vmm " VESSEL_VERSION);
	return version;
}

static const char *control_error_class(const GError *error)
{
	if (error->domain == CONTROL_ERROR) {
		switch ((enum control_error_code)error->code) {
		case CONTROL_ERROR_GENERIC:
			return "GenericError";
		case CONTROL_ERROR_COMMAND_NOT_FOUND:
			return "CommandNotFound";
		case CONTROL_ERROR_DEVICE_NOT_ACTIVE:
			return "DeviceNotActive";
		}
	}
	return "GenericError";
}

static bool control_json_delimiter(char c)
{
	return c != '\0' && strchr(" \t\r\n,:{}[]\"'", c) != NULL;
}

/*
 * A pass over the raw line before json-glib sees it, for three things
 * json-glib 1.6 gets wrong for a protocol endpoint: unbounded recursion
 * (see CONTROL_MAX_DEPTH), silently accepting several values on one line,
 * and integers outside int64 wrapping to some other number — an address or
 * size must never be silently changed.  Strings are skipped; both quote
 * characters count because json-glib's scanner accepts single quotes too.
 */
static bool control_prescan(const char *line, gsize length, GError **error)
{
	unsigned int depth = 0;
	bool top_value_done = false;
	gsize i = 0;

	while (i < length) {
		char c = line[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (depth == 0 && top_value_done) {
			g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
				    "JSON parse error, more than one value on a line "
				    "(offset %" G_GSIZE_FORMAT ")", i);
			return false;
		}
		if (c == '"' || c == '\'') {
			for (i++; i < length && line[i] != c; i++) {
				if (line[i] == '\\')
					i++;
			}
			i++;
			if (depth == 0)
				top_value_done = true;
		} else if (c == '{' || c == '[') {
			if (++depth > CONTROL_MAX_DEPTH) {
				g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
					    "JSON parse error, nesting deeper than %d levels",
					    CONTROL_MAX_DEPTH);
				return false;
			}
			i++;
		} else if (c == '}' || c == ']') {
			/* Unbalanced input is json-glib's to report. */
			if (depth > 0 && --depth == 0)
				top_value_done = true;
			i++;
		} else if (c == ',' || c == ':') {
			i++;
		} else {
			/* A number or a bare word (true, false, null, garbage). */
			gsize start = i;
			bool integer = true;

			do {
				if (!g_ascii_isdigit(line[i]) && !(i == start && line[i] == '-'))
					integer = false;
				i++;
			} while (i < length && !control_json_delimiter(line[i]));
			if (integer) {
				g_autofree char *token = g_strndup(line + start, i - start);

				g_autoptr(GError) range_error = NULL;

				if (!g_ascii_string_to_signed(token, 10, G_MININT64, G_MAXINT64,
							      NULL, &range_error) &&
				    g_error_matches(range_error, G_NUMBER_PARSER_ERROR,
						    G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS)) {
					g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
						    "JSON parse error, integer %s is out of range",
						    token);
					return false;
				}
			}
			if (depth == 0)
				top_value_done = true;
		}
	}
	return true;
}

/* ---- output ---------------------------------------------------------- */

static void control_client_disconnect(struct control_client *client);
static void control_client_unref(struct control_client *client);

static void control_server_publish_pending(struct control_server *server)
{
	g_mutex_lock(&server->lock);
	server->locked_out_pending = server->out_pending;
	g_cond_broadcast(&server->cond);
	g_mutex_unlock(&server->lock);
}

static gsize control_client_unsent(struct control_client *client)
{
	return client->out_buf->len - client->out_sent;
}

static gboolean control_client_writable(GSocket *socket, GIOCondition condition,
					gpointer opaque);

/*
 * Writes as much queued output as the socket takes now.  Returns false if
 * the client was disconnected (the caller must not touch its socket again).
 */
static bool control_client_write(struct control_client *client)
{
	struct control_server *server = client->server;

	while (control_client_unsent(client) > 0) {
		g_autoptr(GError) error = NULL;
		gssize sent;

		sent = g_socket_send(client->socket,
				     (const char *)client->out_buf->data + client->out_sent,
				     control_client_unsent(client), NULL, &error);
		if (sent < 0) {
			if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
				break;
			g_debug("client write failed: %s", error->message);
			control_client_disconnect(client);
			return false;
		}
		client->out_sent += sent;
		server->out_pending -= sent;
	}

	if (control_client_unsent(client) == 0) {
		g_byte_array_set_size(client->out_buf, 0);
		client->out_sent = 0;
		if (client->out_source) {
			g_source_destroy(client->out_source);
			g_clear_pointer(&client->out_source, g_source_unref);
		}
		if (client->closing) {
			control_client_disconnect(client);
			return false;
		}
	} else {
		/* Compact so a client that is slowly catching up does not pin memory. */
		if (client->out_sent >= CONTROL_READ_CHUNK) {
			g_byte_array_remove_range(client->out_buf, 0, client->out_sent);
			client->out_sent = 0;
		}
		if (!client->out_source) {
			client->out_source = g_socket_create_source(client->socket, G_IO_OUT, NULL);
			g_source_set_callback(client->out_source,
					      G_SOURCE_FUNC(control_client_writable),
					      client, NULL);
			g_source_attach(client->out_source, server->context);
		}
	}
	control_server_publish_pending(server);
	return true;
}

static gboolean control_client_writable(GSocket *socket, GIOCondition condition,
					gpointer opaque)
{
	struct control_client *client = opaque;

	/* The source is destroyed inside when the queue drains or on error. */
	client->refcount++;
	control_client_write(client);
	control_client_unref(client);
	return G_SOURCE_CONTINUE;
}

static void control_client_queue(struct control_client *client, const char *text,
				 gsize length)
{
	if (client->dead)
		return;
	g_byte_array_append(client->out_buf, (const guint8 *)text, length);
	client->server->out_pending += length;
	if (!control_client_write(client))
		return;
	if (control_client_unsent(client) > CONTROL_MAX_QUEUE_BYTES) {
		g_message("control client disconnected: more than %u bytes of output "
			  "queued and it is not reading", CONTROL_MAX_QUEUE_BYTES);
		control_client_disconnect(client);
	}
}

static void control_client_send_node(struct control_client *client, JsonNode *node)
{
	g_autofree char *text = NULL;
	gsize length;

	text = control_serialize(node, &length);
	control_client_queue(client, text, length);
}

static void control_client_reply(struct control_client *client, JsonNode *id,
				 JsonNode *value)
{
	JsonObject *reply = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	json_object_set_member(reply, "return",
			       value ? value : control_node_take_object(json_object_new()));
	if (id)
		json_object_set_member(reply, "id", json_node_copy(id));
	node = control_node_take_object(reply);
	control_client_send_node(client, node);
}

static JsonNode *control_error_reply(JsonNode *id, const char *class, const char *desc)
{
	JsonObject *reply = json_object_new();
	JsonObject *error = json_object_new();

	json_object_set_string_member(error, "class", class);
	json_object_set_string_member(error, "desc", desc);
	json_object_set_object_member(reply, "error", error);
	if (id)
		json_object_set_member(reply, "id", json_node_copy(id));
	return control_node_take_object(reply);
}

static void control_client_error(struct control_client *client, JsonNode *id,
				 const char *class, const char *desc)
{
	g_autoptr(JsonNode) node = control_error_reply(id, class, desc);

	control_client_send_node(client, node);
}

static void control_client_gerror(struct control_client *client, JsonNode *id,
				  const GError *error)
{
	control_client_error(client, id, control_error_class(error), error->message);
}

/* ---- client lifetime ------------------------------------------------- */

static void control_client_unref(struct control_client *client)
{
	if (--client->refcount > 0)
		return;
	g_assert(client->dead);
	g_byte_array_unref(client->in_buf);
	g_byte_array_unref(client->out_buf);
	g_free(client);
}

/* Closes the connection now; the struct lives on while a callback holds it. */
static void control_client_disconnect(struct control_client *client)
{
	struct control_server *server = client->server;

	if (client->dead)
		return;
	client->dead = true;
	server->out_pending -= control_client_unsent(client);
	if (client->in_source) {
		g_source_destroy(client->in_source);
		g_clear_pointer(&client->in_source, g_source_unref);
	}
	if (client->out_source) {
		g_source_destroy(client->out_source);
		g_clear_pointer(&client->out_source, g_source_unref);
	}
	g_socket_close(client->socket, NULL);
	g_clear_object(&client->socket);
	server->clients = g_list_remove(server->clients, client);
	server->nr_clients--;
	control_server_publish_pending(server);
	control_client_unref(client);
}

/* ---- request dispatch ------------------------------------------------ */

static const char *control_arg_type_name(enum control_arg_type type)
{
	switch (type) {
	case CONTROL_ARG_STRING:
		return "a string";
	case CONTROL_ARG_INT:
		return "an integer";
	case CONTROL_ARG_BOOL:
		return "a boolean";
	}
	return "?";
}

static bool control_arg_type_matches(enum control_arg_type type, JsonNode *value)
{
	if (!JSON_NODE_HOLDS_VALUE(value))
		return false;
	switch (type) {
	case CONTROL_ARG_STRING:
		return json_node_get_value_type(value) == G_TYPE_STRING;
	case CONTROL_ARG_INT:
		return json_node_get_value_type(value) == G_TYPE_INT64;
	case CONTROL_ARG_BOOL:
		return json_node_get_value_type(value) == G_TYPE_BOOLEAN;
	}
	return false;
}

/*
 * Checks arguments in the order QMP clients know from QEMU: declared
 * parameters first (missing, then type), then anything left over.
 */
static bool control_check_args(const struct control_arg *decl, JsonObject *args,
			       GError **error)
{
	g_autoptr(GList) members = NULL;

	for (const struct control_arg *arg = decl; arg && arg->name; arg++) {
		JsonNode *value = json_object_get_member(args, arg->name);

		if (!value) {
			if (arg->optional)
				continue;
			g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
				    "Parameter '%s' is missing", arg->name);
			return false;
		}
		if (!control_arg_type_matches(arg->type, value)) {
			g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
				    "Parameter '%s' expects %s", arg->name,
				    control_arg_type_name(arg->type));
			return false;
		}
	}

	members = json_object_get_members(args);
	for (GList *l = members; l; l = l->next) {
		const struct control_arg *arg = decl;

		while (arg && arg->name && strcmp(arg->name, l->data) != 0)
			arg++;
		if (!arg || !arg->name) {
			g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
				    "Parameter '%s' is unexpected", (const char *)l->data);
			return false;
		}
	}
	return true;
}

/*
 * QMP clients may pass {"enable": [...]} naming capabilities from the
 * greeting.  None are offered, so only an empty list is acceptable; some
 * client libraries always send one.
 */
static bool control_check_capabilities(JsonObject *args, GError **error)
{
	g_autoptr(GList) members = json_object_get_members(args);
	JsonNode *enable;
	JsonArray *list;

	for (GList *l = members; l; l = l->next) {
		if (strcmp(l->data, "enable") != 0) {
			g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
				    "Parameter '%s' is unexpected", (const char *)l->data);
			return false;
		}
	}
	enable = json_object_get_member(args, "enable");
	if (!enable)
		return true;
	if (!JSON_NODE_HOLDS_ARRAY(enable)) {
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
			    "Parameter 'enable' expects an array");
		return false;
	}
	list = json_node_get_array(enable);
	if (json_array_get_length(list) > 0) {
		JsonNode *first = json_array_get_element(list, 0);
		const char *name = JSON_NODE_HOLDS_VALUE(first) &&
			json_node_get_value_type(first) == G_TYPE_STRING ?
			json_node_get_string(first) : "?";

		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
			    "Capability '%s' not available", name);
		return false;
	}
	return true;
}

static void control_client_execute(struct control_client *client, const char *name,
				   JsonObject *args, JsonNode *id)
{
	struct control_server *server = client->server;
	g_autoptr(GError) error = NULL;
	struct control_command cmd;
	struct control_command *found;
	JsonNode *result;

	/* QMP spec, capabilities negotiation: only qmp_capabilities until then. */
	if (strcmp(name, "qmp_capabilities") == 0) {
		if (client->negotiated) {
			control_client_error(client, id, "CommandNotFound",
					     "Capabilities negotiation is already complete, "
					     "command ignored");
			return;
		}
		if (!control_check_capabilities(args, &error)) {
			control_client_gerror(client, id, error);
			return;
		}
		client->negotiated = true;
		control_client_reply(client, id, NULL);
		return;
	}
	if (!client->negotiated) {
		control_client_error(client, id, "CommandNotFound",
				     "Expecting capabilities negotiation with "
				     "'qmp_capabilities'");
		return;
	}

	/*
	 * Copied out under the lock: registration may happen on another thread,
	 * and the handler must run without the lock (it may emit events).
	 */
	g_mutex_lock(&server->lock);
	found = g_hash_table_lookup(server->commands, name);
	if (found)
		cmd = *found;
	g_mutex_unlock(&server->lock);
	if (!found) {
		g_autofree char *desc = g_strdup_printf("The command %s has not been found",
							 name);

		control_client_error(client, id, "CommandNotFound", desc);
		return;
	}
	if (!control_check_args(cmd.args, args, &error)) {
		control_client_gerror(client, id, error);
		return;
	}

	result = cmd.handler(args, cmd.opaque, &error);
	if (error) {
		/* A handler that sets an error and returns a value is a bug; the error wins. */
		g_clear_pointer(&result, json_node_unref);
		control_client_gerror(client, id, error);
		return;
	}
	control_client_reply(client, id, result);
}

static void control_client_handle_line(struct control_client *client, const char *line,
				       gsize length)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) no_args = NULL;
	g_autoptr(GList) members = NULL;
	JsonObject *request, *args;
	JsonNode *root, *id, *execute, *arguments;
	gsize i;

	for (i = 0; i < length; i++) {
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	}
	if (i == length)
		return;		/* blank lines are harmless, e.g. from interactive use */

	/* Also catches NUL bytes, which json-glib would treat as the end. */
	if (!g_utf8_validate(line, length, NULL)) {
		control_client_error(client, NULL, "GenericError",
				     "JSON parse error, input is not valid UTF-8");
		return;
	}
	if (!control_prescan(line, length, &error)) {
		control_client_gerror(client, NULL, error);
		return;
	}
	parser = json_parser_new();
	if (!json_parser_load_from_data(parser, line, length, &error)) {
		g_autofree char *desc = g_strdup_printf("JSON parse error, %s", error->message);

		control_client_error(client, NULL, "GenericError", desc);
		return;
	}
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		control_client_error(client, NULL, "GenericError",
				     "QMP input must be a JSON object");
		return;
	}
	request = json_node_get_object(root);
	id = json_object_get_member(request, "id");

	/* A misspelt "arguments" must not turn into a call without arguments. */
	members = json_object_get_members(request);
	for (GList *l = members; l; l = l->next) {
		const char *member = l->data;

		if (strcmp(member, "execute") && strcmp(member, "arguments") &&
		    strcmp(member, "id")) {
			g_autofree char *desc =
				g_strdup_printf("QMP input member '%s' is unexpected", member);

			control_client_error(client, id, "GenericError", desc);
			return;
		}
	}

	execute = json_object_get_member(request, "execute");
	if (!execute) {
		control_client_error(client, id, "GenericError",
				     "QMP input lacks member 'execute'");
		return;
	}
	if (!JSON_NODE_HOLDS_VALUE(execute) ||
	    json_node_get_value_type(execute) != G_TYPE_STRING) {
		control_client_error(client, id, "GenericError",
				     "QMP input member 'execute' must be a string");
		return;
	}

	arguments = json_object_get_member(request, "arguments");
	if (arguments && !JSON_NODE_HOLDS_OBJECT(arguments)) {
		control_client_error(client, id, "GenericError",
				     "QMP input member 'arguments' must be an object");
		return;
	}
	if (arguments) {
		args = json_node_get_object(arguments);
	} else {
		no_args = json_object_new();
		args = no_args;
	}

	control_client_execute(client, json_node_get_string(execute), args, id);
}

/* Handles every complete line in in_buf; stops early if the client goes. */
static void control_client_process_input(struct control_client *client)
{
	GByteArray *buf = client->in_buf;
	gsize start = 0;

	while (!client->dead && !client->closing) {
		const guint8 *nl = NULL;
		gsize line_len;

		if (client->in_scanned < buf->len)
			nl = memchr(buf->data + client->in_scanned, '\n',
				    buf->len - client->in_scanned);

		if (!nl) {
			client->in_scanned = buf->len;
			break;
		}
		line_len = nl - (buf->data + start);
		client->in_scanned = nl - buf->data + 1;
		if (line_len > CONTROL_MAX_LINE_BYTES)
			break;	/* reported below, with the same words as a partial one */
		control_client_handle_line(client, (const char *)buf->data + start, line_len);
		start = client->in_scanned;
	}
	if (client->dead)
		return;
	if (client->closing) {
		g_byte_array_set_size(buf, 0);
		client->in_scanned = 0;
		return;
	}

	/*
	 * Whatever remains is one unfinished line (or a finished one that was too
	 * long).  Past the limit the line can never be answered, and waiting for
	 * its end would mean buffering without bound.
	 */
	if (buf->len - start > CONTROL_MAX_LINE_BYTES) {
		g_autofree char *desc = g_strdup_printf(
			"Request line longer than %u bytes; closing the connection",
			CONTROL_MAX_LINE_BYTES);

		g_message("control client disconnected: request line longer than %u bytes",
			  CONTROL_MAX_LINE_BYTES);
		g_byte_array_set_size(buf, 0);
		client->in_scanned = 0;
		client->closing = true;
		/* Closes once this reply is written (see control_client_write()). */
		control_client_error(client, NULL, "GenericError", desc);
		return;
	}
	g_byte_array_remove_range(buf, 0, start);
	client->in_scanned -= start;
}

static gboolean control_client_hangup(GSocket *socket, GIOCondition condition,
				      gpointer opaque)
{
	g_debug("client closed its connection");
	control_client_disconnect(opaque);
	return G_SOURCE_REMOVE;
}

/*
 * Replaces the input watch once the peer has stopped sending.  Polling for
 * nothing still reports G_IO_HUP, which Linux raises on an AF_UNIX stream
 * socket only when the peer has closed both directions.
 */
static void control_client_watch_hangup(struct control_client *client)
{
	g_source_destroy(client->in_source);
	g_source_unref(client->in_source);
	client->in_source = g_socket_create_source(client->socket, 0, NULL);
	g_source_set_callback(client->in_source, G_SOURCE_FUNC(control_client_hangup),
			      client, NULL);
	g_source_attach(client->in_source, client->server->context);
}

static gboolean control_client_readable(GSocket *socket, GIOCondition condition,
					gpointer opaque)
{
	struct control_client *client = opaque;
	guint8 chunk[CONTROL_READ_CHUNK];
	g_autoptr(GError) error = NULL;
	gssize got;

	got = g_socket_receive(socket, (char *)chunk, sizeof(chunk), NULL, &error);
	if (got < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		return G_SOURCE_CONTINUE;

	client->refcount++;
	if (got < 0) {
		g_debug("client read failed: %s", error->message);
		control_client_disconnect(client);
	} else if (got == 0) {
		/*
		 * The peer shut down its sending side (`socat` does at the end of its
		 * input) but may still be reading: answer a last unterminated line,
		 * and keep sending replies and events until it closes completely.
		 */
		if (!client->closing && client->in_buf->len > 0) {
			g_byte_array_append(client->in_buf, (const guint8 *)"\n", 1);
			control_client_process_input(client);
		}
		if (!client->dead)
			control_client_watch_hangup(client);
	} else if (!client->closing) {
		g_byte_array_append(client->in_buf, chunk, got);
		control_client_process_input(client);
	}
	control_client_unref(client);
	return G_SOURCE_CONTINUE;
}

static void control_server_accept_one(struct control_server *server, GSocket *socket)
{
	struct control_client *client = g_new0(struct control_client, 1);
	JsonObject *greeting = json_object_new();
	JsonObject *qmp = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	client->server = server;
	client->refcount = 1;		/* owned by server->clients */
	client->socket = socket;
	client->in_buf = g_byte_array_new();
	client->out_buf = g_byte_array_new();
	g_socket_set_blocking(socket, FALSE);
	client->in_source = g_socket_create_source(socket, G_IO_IN, NULL);
	g_source_set_callback(client->in_source, G_SOURCE_FUNC(control_client_readable),
			      client, NULL);
	g_source_attach(client->in_source, server->context);
	server->clients = g_list_append(server->clients, client);
	server->nr_clients++;

	/* QMP spec, server greeting: version and offered capabilities (none). */
	json_object_set_object_member(qmp, "version", control_version_object());
	json_object_set_array_member(qmp, "capabilities", json_array_new());
	json_object_set_object_member(greeting, "QMP", qmp);
	node = control_node_take_object(greeting);
	control_client_send_node(client, node);
}

static gboolean control_server_acceptable(GSocket *listener, GIOCondition condition,
					  gpointer opaque)
{
	struct control_server *server = opaque;

	for (;;) {
		g_autoptr(GError) error = NULL;
		GSocket *socket = g_socket_accept(listener, NULL, &error);

		if (!socket) {
			if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
				g_message("control socket accept failed: %s", error->message);
			break;
		}
		if (server->nr_clients >= CONTROL_MAX_CLIENTS) {
			g_autofree char *desc = g_strdup_printf(
				"Too many control connections (%u); closing this one",
				CONTROL_MAX_CLIENTS);
			g_autoptr(JsonNode) reply = control_error_reply(NULL, "GenericError", desc);
			g_autofree char *line = NULL;
			gsize length;

			/* Best effort: a fresh socket buffer takes one short line. */
			line = control_serialize(reply, &length);
			g_message("control connection refused: %u clients already connected",
				  CONTROL_MAX_CLIENTS);
			g_socket_send(socket, line, length, NULL, NULL);
			g_socket_close(socket, NULL);
			g_object_unref(socket);
			continue;
		}
		control_server_accept_one(server, socket);
	}
	return G_SOURCE_CONTINUE;
}

/* ---- events and flush -------------------------------------------------- */

static void control_server_broadcast(struct control_server *server, const char *line)
{
	GList *l = server->clients;

	while (l) {
		struct control_client *client = l->data;

		/* Queueing may disconnect the client and unlink it from the list. */
		l = l->next;
		if (client->negotiated && !client->closing)
			control_client_queue(client, line, strlen(line));
	}
}

/* Runs on the context: delivers events from other threads, answers flushes. */
static void control_server_drain_events(struct control_server *server)
{
	for (;;) {
		g_autofree char *line = NULL;
		guint64 flush_requested;

		g_mutex_lock(&server->lock);
		line = g_queue_pop_head(&server->events);
		flush_requested = server->flush_requested;
		if (!line) {
			/*
			 * Everything emitted and every reply queued before the flush
			 * request (handlers run to completion before this source is
			 * dispatched) is now in a client's queue.
			 */
			server->flush_reached = flush_requested;
			server->locked_out_pending = server->out_pending;
			g_cond_broadcast(&server->cond);
		}
		g_mutex_unlock(&server->lock);
		if (!line)
			break;
		control_server_broadcast(server, line);
	}
}

static gboolean control_wakeup_dispatch(GSource *source, GSourceFunc callback,
					gpointer opaque)
{
	/* Re-armed by the next emitter; cleared before draining so none is lost. */
	g_source_set_ready_time(source, -1);
	return callback(opaque);
}

static GSourceFuncs control_wakeup_funcs = {
	.dispatch = control_wakeup_dispatch,
};

static gboolean control_server_wakeup(gpointer opaque)
{
	control_server_drain_events(opaque);
	return G_SOURCE_CONTINUE;
}

void control_server_emit_event(struct control_server *server, const char *name,
			       JsonObject *data)
{
	JsonObject *event = json_object_new();
	JsonObject *timestamp = json_object_new();
	g_autoptr(JsonNode) node = NULL;
	gint64 now_us = g_get_real_time();
	char *line;
	gsize length;

	g_return_if_fail(server && name);

	/* The timestamp is when it happened, not when the I/O thread got to it. */
	json_object_set_string_member(event, "event", name);
	json_object_set_object_member(event, "data", data ? data : json_object_new());
	json_object_set_int_member(timestamp, "seconds", now_us / G_USEC_PER_SEC);
	json_object_set_int_member(timestamp, "microseconds", now_us % G_USEC_PER_SEC);
	json_object_set_object_member(event, "timestamp", timestamp);
	node = control_node_take_object(event);
	line = control_serialize(node, &length);

	g_mutex_lock(&server->lock);
	g_queue_push_tail(&server->events, line);
	g_mutex_unlock(&server->lock);

	if (g_main_context_is_owner(server->context)) {
		/*
		 * From a handler (e.g. "stop"): deliver before its reply, as QEMU
		 * does, after anything other threads queued earlier.
		 */
		control_server_drain_events(server);
	} else {
		g_source_set_ready_time(server->wakeup_source, 0);
	}
}

void control_server_flush(struct control_server *server, unsigned int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	guint64 ticket;

	g_return_if_fail(!g_main_context_is_owner(server->context));

	g_mutex_lock(&server->lock);
	ticket = ++server->flush_requested;
	g_mutex_unlock(&server->lock);
	g_source_set_ready_time(server->wakeup_source, 0);

	g_mutex_lock(&server->lock);
	while (server->flush_reached < ticket || server->locked_out_pending > 0) {
		if (!g_cond_wait_until(&server->cond, &server->lock, deadline))
			break;
	}
	g_mutex_unlock(&server->lock);
}

/* ---- built-in commands ------------------------------------------------- */

static JsonNode *control_cmd_query_version(JsonObject *args, void *opaque, GError **error)
{
	return control_node_take_object(control_version_object());
}

static int control_compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static JsonNode *control_cmd_query_commands(JsonObject *args, void *opaque, GError **error)
{
	struct control_server *server = opaque;
	g_autofree gpointer *names = NULL;
	JsonArray *list = json_array_new();
	JsonNode *node;
	guint count;

	g_mutex_lock(&server->lock);
	names = g_hash_table_get_keys_as_array(server->commands, &count);
	/* Sorted so the answer does not change with hash table layout. */
	qsort(names, count, sizeof(*names), control_compare_names);
	for (guint i = 0; i < count; i++) {
		JsonObject *entry = json_object_new();

		json_object_set_string_member(entry, "name", names[i]);
		json_array_add_object_element(list, entry);
	}
	g_mutex_unlock(&server->lock);

	node = json_node_new(JSON_NODE_ARRAY);
	json_node_take_array(node, list);
	return node;
}

static void control_command_free(gpointer data)
{
	struct control_command *cmd = data;

	g_free(cmd->name);
	g_free(cmd);
}

void control_server_add_command(struct control_server *server, const char *name,
				const struct control_arg *args, control_handler_fn handler,
				void *opaque)
{
	struct control_command *cmd;

	g_return_if_fail(server && name && handler);

	cmd = g_new0(struct control_command, 1);
	cmd->name = g_strdup(name);
	cmd->args = args;
	cmd->handler = handler;
	cmd->opaque = opaque;

	g_mutex_lock(&server->lock);
	if (g_hash_table_contains(server->commands, name)) {
		g_mutex_unlock(&server->lock);
		g_critical("control command '%s' registered twice", name);
		control_command_free(cmd);
		return;
	}
	g_hash_table_insert(server->commands, cmd->name, cmd);
	g_mutex_unlock(&server->lock);
}

/* qmp_capabilities is handled by the dispatcher; this only lists it. */
static JsonNode *control_cmd_unreachable(JsonObject *args, void *opaque, GError **error)
{
	g_assert_not_reached();
}

/* ---- socket setup ------------------------------------------------------ */

/*
 * Decides whether an existing `path` may be replaced.  Only a socket nobody
 * accepts on is a leftover of a VMM that died without cleaning up; anything
 * else might be another VMM or a user's file.
 */
static bool control_check_existing(const char *path, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret, saved_errno;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return true;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "%s: %s", path, g_strerror(errno));
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
			    "%s exists and is not a socket; not replacing it with the "
			    "control socket (choose another path or remove the file)", path);
		return false;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "socket: %s", g_strerror(errno));
		return false;
	}
	memcpy(addr.sun_path, path, strlen(path));
	ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	saved_errno = errno;
	close(fd);

	/* A full backlog (EAGAIN) still means a live listener. */
	if (ret == 0 || saved_errno == EAGAIN || saved_errno == EINPROGRESS) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
			    "%s is in use by another running VMM", path);
		return false;
	}
	if (saved_errno == ECONNREFUSED) {
		if (unlink(path) < 0 && errno != ENOENT) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
				    "%s: cannot remove stale socket: %s", path,
				    g_strerror(errno));
			return false;
		}
		return true;
	}
	if (saved_errno == ENOENT)
		return true;	/* removed since lstat() */
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
		    "%s: cannot tell whether this socket is in use: %s", path,
		    g_strerror(saved_errno));
	return false;
}

static bool control_server_listen(struct control_server *server, GError **error)
{
	const char *path = server->path;
	g_autoptr(GSocketAddress) address = NULL;
	g_autofree char *dir = g_path_get_dirname(path);
	struct sockaddr_un probe;
	struct stat st;

	if (strlen(path) >= sizeof(probe.sun_path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "%s: control socket path is too long (%zu bytes; Unix "
			    "sockets allow at most %zu)", path, strlen(path),
			    sizeof(probe.sun_path) - 1);
		return false;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "%s: directory %s does not exist; create it first", path, dir);
		return false;
	}
	if (!control_check_existing(path, error))
		return false;

	server->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
					G_SOCKET_PROTOCOL_DEFAULT, error);
	if (!server->listener)
		return false;

	/*
	 * Linux creates the socket file with the socket inode's mode minus the
	 * umask, so setting 0600 on the unbound socket means the file never
	 * exists with a wider mode — unlike changing the process-wide umask,
	 * which would race with other threads creating files.  Checked after
	 * bind in case a kernel ignores it.
	 */
	if (fchmod(g_socket_get_fd(server->listener), 0600) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "%s: cannot restrict socket mode: %s", path, g_strerror(errno));
		return false;
	}
	address = g_unix_socket_address_new(path);
	if (!g_socket_bind(server->listener, address, FALSE, error)) {
		if (g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE)) {
			/* Another VMM bound it between our check and our bind. */
			g_clear_error(error);
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
				    "%s is in use by another running VMM", path);
		} else {
			g_prefix_error(error, "%s: ", path);
		}
		return false;
	}
	if (lstat(path, &st) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "%s: %s", path, g_strerror(errno));
		return false;
	}
	server->sock_dev = st.st_dev;
	server->sock_ino = st.st_ino;
	if ((st.st_mode & 0777) != 0600) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
			    "%s: socket was created with mode %04o instead of 0600",
			    path, (unsigned int)(st.st_mode & 0777));
		return false;
	}
	if (!g_socket_listen(server->listener, error)) {
		g_prefix_error(error, "%s: ", path);
		return false;
	}
	g_socket_set_blocking(server->listener, FALSE);
	return true;
}

/* Removes the socket file only if it is still the one this server bound. */
static void control_server_unlink(struct control_server *server)
{
	struct stat st;

	if (!server->sock_ino)
		return;
	if (lstat(server->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == server->sock_dev && st.st_ino == server->sock_ino)
		unlink(server->path);
	server->sock_ino = 0;
}

struct control_server *control_server_new(const char *path, GMainContext *context,
					  GError **error)
{
	static const struct control_arg no_args[] = { { NULL } };
	struct control_server *server;

	g_return_val_if_fail(path && context, NULL);

	server = g_new0(struct control_server, 1);
	server->path = g_strdup(path);
	server->context = g_main_context_ref(context);
	g_mutex_init(&server->lock);
	g_cond_init(&server->cond);
	g_queue_init(&server->events);
	server->commands = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
						 control_command_free);

	if (!control_server_listen(server, error)) {
		control_server_free(server);
		return NULL;
	}

	control_server_add_command(server, "qmp_capabilities", no_args,
				   control_cmd_unreachable, NULL);
	control_server_add_command(server, "query-commands", no_args,
				   control_cmd_query_commands, server);
	control_server_add_command(server, "query-version", no_args,
				   control_cmd_query_version, NULL);

	server->wakeup_source = g_source_new(&control_wakeup_funcs, sizeof(GSource));
	g_source_set_callback(server->wakeup_source, control_server_wakeup, server, NULL);
	g_source_attach(server->wakeup_source, context);

	server->accept_source = g_socket_create_source(server->listener, G_IO_IN, NULL);
	g_source_set_callback(server->accept_source,
			      G_SOURCE_FUNC(control_server_acceptable), server, NULL);
	g_source_attach(server->accept_source, context);
	return server;
}

void control_server_free(struct control_server *server)
{
	if (!server)
		return;

	if (server->accept_source) {
		g_source_destroy(server->accept_source);
		g_source_unref(server->accept_source);
	}
	if (server->wakeup_source) {
		g_source_destroy(server->wakeup_source);
		g_source_unref(server->wakeup_source);
	}
	while (server->clients)
		control_client_disconnect(server->clients->data);
	if (server->listener) {
		g_socket_close(server->listener, NULL);
		g_object_unref(server->listener);
	}
	control_server_unlink(server);

	g_queue_clear_full(&server->events, g_free);
	g_hash_table_unref(server->commands);
	g_cond_clear(&server->cond);
	g_mutex_clear(&server->lock);
	g_main_context_unref(server->context);
	g_free(server->path);
	g_free(server);
}
