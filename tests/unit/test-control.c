/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket as a client sees it: a real Unix socket in a temporary
 * directory, the server running on its own GMainContext in a thread (as on
 * the VMM's I/O thread), and a plain blocking POSIX client with receive and
 * send timeouts so a broken server fails a test instead of hanging it.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "control.h"

#define IO_TIMEOUT_S	10
#define LINE_LIMIT	(1u << 20)

/* ---- a minimal blocking client ------------------------------------------ */

struct client {
	int fd;
	GString *in;
};

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static struct client *client_connect(const char *path)
{
	struct timeval timeout = { .tv_sec = IO_TIMEOUT_S };
	struct client *c = g_new0(struct client, 1);

	c->fd = connect_unix(path);
	if (c->fd < 0)
		g_error("connect %s: %s", path, g_strerror(errno));
	g_assert_cmpint(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), ==, 0);
	g_assert_cmpint(setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)), ==, 0);
	c->in = g_string_new(NULL);
	return c;
}

static void client_free(struct client *c)
{
	close(c->fd);
	g_string_free(c->in, TRUE);
	g_free(c);
}

/* Returns a line without its '\n', or NULL at end of stream.  Fails on timeout. */
static char *client_read_line(struct client *c)
{
	for (;;) {
		char *nl = memchr(c->in->str, '\n', c->in->len);
		char chunk[65536];
		ssize_t got;

		if (nl) {
			char *line = g_strndup(c->in->str, nl - c->in->str);

			g_string_erase(c->in, 0, nl - c->in->str + 1);
			return line;
		}
		got = recv(c->fd, chunk, sizeof(chunk), 0);
		if (got == 0 || (got < 0 && errno == ECONNRESET))
			return NULL;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			g_error("timed out after %d s waiting for the server", IO_TIMEOUT_S);
		if (got < 0)
			g_error("recv: %s", g_strerror(errno));
		g_string_append_len(c->in, chunk, got);
	}
}

static bool client_send_raw(struct client *c, const char *data, size_t length)
{
	while (length > 0) {
		ssize_t sent = send(c->fd, data, length, MSG_NOSIGNAL);

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0)
			return false;
		data += sent;
		length -= sent;
	}
	return true;
}

/* Sends a literal's bytes, embedded NULs included. */
#define SEND_LITERAL(c, literal) \
	g_assert_true(client_send_raw((c), (literal), sizeof(literal) - 1))

/* Test JSON is written with ' for " so it stays readable in C. */
static char *dq(const char *text)
{
	char *copy = g_strdup(text);

	g_strdelimit(copy, "'", '"');
	return copy;
}

static void client_send(struct client *c, const char *json_single_quoted)
{
	g_autofree char *json = dq(json_single_quoted);
	g_autofree char *line = g_strconcat(json, "\n", NULL);

	g_assert_true(client_send_raw(c, line, strlen(line)));
}

static JsonNode *parse(const char *text)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	if (!json_parser_load_from_data(parser, text, -1, &error))
		g_error("not JSON: %s (%s)", text, error->message);
	g_assert_nonnull(json_parser_get_root(parser));
	return json_node_copy(json_parser_get_root(parser));
}

/* Reads one message that must be a JSON object; the caller owns it. */
static JsonObject *client_read_object(struct client *c)
{
	g_autofree char *line = client_read_line(c);
	g_autoptr(JsonNode) node = NULL;

	if (!line)
		g_error("connection closed while a message was expected");
	node = parse(line);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_object_ref(json_node_get_object(node));
}

static void client_expect(struct client *c, const char *expected_single_quoted)
{
	g_autofree char *expected = dq(expected_single_quoted);
	g_autofree char *line = client_read_line(c);
	g_autoptr(JsonNode) want = NULL;
	g_autoptr(JsonNode) got = NULL;

	if (!line)
		g_error("connection closed; expected %s", expected);
	want = parse(expected);
	got = parse(line);
	if (!json_node_equal(want, got))
		g_assert_cmpstr(line, ==, expected);	/* fails, printing both */
}

static void client_call(struct client *c, const char *request, const char *reply)
{
	client_send(c, request);
	client_expect(c, reply);
}

/* An error reply: exact class, desc starting with desc_prefix, optional id. */
static void client_expect_error_id(struct client *c, const char *class,
				   const char *desc_prefix, const char *id_single_quoted)
{
	g_autoptr(JsonObject) reply = client_read_object(c);
	JsonObject *error;

	if (!json_object_has_member(reply, "error")) {
		g_autoptr(JsonGenerator) gen = json_generator_new();
		g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), reply);
		g_autofree char *text = NULL;

		json_generator_set_root(gen, node);
		text = json_generator_to_data(gen, NULL);
		g_error("expected an error with desc '%s', got %s", desc_prefix, text);
	}
	error = json_object_get_object_member(reply, "error");
	g_assert_cmpstr(json_object_get_string_member(error, "class"), ==, class);
	if (!g_str_has_prefix(json_object_get_string_member(error, "desc"), desc_prefix))
		g_assert_cmpstr(json_object_get_string_member(error, "desc"), ==, desc_prefix);
	g_assert_cmpuint(json_object_get_size(error), ==, 2);
	if (id_single_quoted) {
		g_autofree char *id_text = dq(id_single_quoted);
		g_autoptr(JsonNode) want = parse(id_text);

		g_assert_true(json_object_has_member(reply, "id"));
		g_assert_true(json_node_equal(want, json_object_get_member(reply, "id")));
		g_assert_cmpuint(json_object_get_size(reply), ==, 2);
	} else {
		g_assert_false(json_object_has_member(reply, "id"));
		g_assert_cmpuint(json_object_get_size(reply), ==, 1);
	}
}

static void client_expect_error(struct client *c, const char *class, const char *desc_prefix)
{
	client_expect_error_id(c, class, desc_prefix, NULL);
}

static void client_expect_eof(struct client *c)
{
	g_autofree char *line = client_read_line(c);

	if (line)
		g_error("expected the server to close the connection, got %s", line);
}

static void client_expect_greeting(struct client *c)
{
	client_expect(c, "{'QMP': {'version': {'qemu': {'micro': 0, 'minor': 0, 'major': 0},"
		      " 'package': 'vessel-vmm " VESSEL_VERSION "'}, 'capabilities': []}}");
}

static struct client *client_negotiated(const char *path)
{
	struct client *c = client_connect(path);

	client_expect_greeting(c);
	client_call(c, "{'execute': 'qmp_capabilities'}", "{'return': {}}");
	return c;
}

/* ---- fake commands --------------------------------------------------------- */

static const struct control_arg echo_args[] = {
	{ "text", CONTROL_ARG_STRING, false },
	{ "count", CONTROL_ARG_INT, true },
	{ "flag", CONTROL_ARG_BOOL, true },
	{ NULL },
};

static JsonNode *cmd_echo(JsonObject *args, void *opaque, GError **error)
{
	return json_node_init_object(json_node_alloc(), args);
}

static const struct control_arg kind_args[] = {
	{ "kind", CONTROL_ARG_STRING, false },
	{ NULL },
};

static JsonNode *cmd_fail(JsonObject *args, void *opaque, GError **error)
{
	const char *kind = json_object_get_string_member(args, "kind");

	if (!strcmp(kind, "generic"))
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC, "generic trouble");
	else if (!strcmp(kind, "not-found"))
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_COMMAND_NOT_FOUND,
			    "no such thing here");
	else if (!strcmp(kind, "inactive"))
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_DEVICE_NOT_ACTIVE,
			    "the device is asleep");
	else
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_ACCES, "foreign: %s", kind);
	return NULL;
}

static JsonNode *cmd_answer(JsonObject *args, void *opaque, GError **error)
{
	const char *kind = json_object_get_string_member(args, "kind");
	JsonNode *node;

	if (!strcmp(kind, "nothing"))
		return NULL;
	node = json_node_new(JSON_NODE_VALUE);
	if (!strcmp(kind, "int"))
		json_node_set_int(node, 42);
	else
		json_node_set_string(node, kind);
	return node;
}

struct fixture;
static JsonNode *cmd_emit_inside(JsonObject *args, void *opaque, GError **error);
static JsonNode *cmd_quit_like(JsonObject *args, void *opaque, GError **error);

/* ---- fixture: server on its own context in a thread ------------------------ */

struct fixture {
	char *dir;
	char *path;
	GMainContext *context;
	GMainLoop *loop;
	GThread *thread;
	struct control_server *server;
	GAsyncQueue *quit_requests;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("vessel-control-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, "vmm.sock", NULL);
	f->context = g_main_context_new();
	f->loop = g_main_loop_new(f->context, FALSE);
	f->quit_requests = g_async_queue_new();
}

static gpointer server_thread(gpointer opaque)
{
	struct fixture *f = opaque;

	g_main_context_push_thread_default(f->context);
	g_main_loop_run(f->loop);
	g_main_context_pop_thread_default(f->context);
	return NULL;
}

static void fixture_start(struct fixture *f)
{
	g_autoptr(GError) error = NULL;

	f->server = control_server_new(f->path, f->context, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->server);
	control_server_add_command(f->server, "echo", echo_args, cmd_echo, NULL);
	control_server_add_command(f->server, "fail", kind_args, cmd_fail, NULL);
	control_server_add_command(f->server, "answer", kind_args, cmd_answer, NULL);
	control_server_add_command(f->server, "emit-inside", NULL, cmd_emit_inside, f);
	control_server_add_command(f->server, "quit-like", NULL, cmd_quit_like, f);
	f->thread = g_thread_new("control-io", server_thread, f);
}

static gboolean quit_loop(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void fixture_stop_loop(struct fixture *f)
{
	g_autoptr(GSource) idle = NULL;

	if (!f->thread)
		return;
	/*
	 * Quit from inside the loop: g_main_loop_quit() before the thread has
	 * entered g_main_loop_run() would be forgotten.
	 */
	idle = g_idle_source_new();
	g_source_set_callback(idle, quit_loop, f->loop, NULL);
	g_source_attach(idle, f->context);
	g_thread_join(f->thread);
	f->thread = NULL;
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	g_autoptr(GDir) dir = NULL;
	const char *name;

	fixture_stop_loop(f);
	control_server_free(f->server);
	dir = g_dir_open(f->dir, 0, NULL);
	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *child = g_build_filename(f->dir, name, NULL);

		if (g_rmdir(child) < 0)
			g_unlink(child);
	}
	g_assert_cmpint(g_rmdir(f->dir), ==, 0);
	g_async_queue_unref(f->quit_requests);
	g_main_loop_unref(f->loop);
	g_main_context_unref(f->context);
	g_free(f->path);
	g_free(f->dir);
}

static JsonNode *cmd_emit_inside(JsonObject *args, void *opaque, GError **error)
{
	struct fixture *f = opaque;
	JsonObject *data = json_object_new();

	json_object_set_string_member(data, "from", "handler");
	control_server_emit_event(f->server, "INSIDE", data);
	return NULL;
}

/* Like the machine's "quit": reply, and let the main thread do the rest. */
static JsonNode *cmd_quit_like(JsonObject *args, void *opaque, GError **error)
{
	struct fixture *f = opaque;

	g_async_queue_push(f->quit_requests, GINT_TO_POINTER(1));
	return NULL;
}

#define ADD(name, fn) \
	g_test_add("/control/" name, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

/* ---- protocol tests ---------------------------------------------------------- */

static void test_greeting(struct fixture *f, gconstpointer data)
{
	g_autofree char *line = NULL;
	struct client *c;

	fixture_start(f);
	c = client_connect(f->path);
	/* The exact bytes: one compact line, as QMP tools expect. */
	line = client_read_line(c);
	g_assert_cmpstr(line, ==, "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":0,"
			"\"major\":0},\"package\":\"vessel-vmm " VESSEL_VERSION "\"},"
			"\"capabilities\":[]}}");
	client_free(c);
}

static void test_negotiation(struct fixture *f, gconstpointer data)
{
	struct client *c, *c2, *c3;

	fixture_start(f);
	c = client_connect(f->path);
	client_expect_greeting(c);

	/* Known and unknown commands alike are refused until negotiation. */
	client_send(c, "{'execute': 'query-version'}");
	client_expect_error(c, "CommandNotFound",
			    "Expecting capabilities negotiation with 'qmp_capabilities'");
	client_send(c, "{'execute': 'no-such-command', 'id': 3}");
	client_expect_error_id(c, "CommandNotFound",
			       "Expecting capabilities negotiation with 'qmp_capabilities'", "3");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'x'}}");
	client_expect_error(c, "CommandNotFound",
			    "Expecting capabilities negotiation with 'qmp_capabilities'");

	client_call(c, "{'execute': 'qmp_capabilities'}", "{'return': {}}");
	client_call(c, "{'execute': 'query-version'}",
		    "{'return': {'qemu': {'micro': 0, 'minor': 0, 'major': 0},"
		    " 'package': 'vessel-vmm " VESSEL_VERSION "'}}");
	client_send(c, "{'execute': 'qmp_capabilities'}");
	client_expect_error(c, "CommandNotFound",
			    "Capabilities negotiation is already complete");
	/* Still negotiated after the refused second attempt. */
	client_call(c, "{'execute': 'echo', 'arguments': {'text': 'x'}}",
		    "{'return': {'text': 'x'}}");

	/* QMP client libraries may send an empty "enable" list; nothing else is offered. */
	c2 = client_connect(f->path);
	client_expect_greeting(c2);
	client_send(c2, "{'execute': 'qmp_capabilities', 'arguments': {'enable': ['oob']}}");
	client_expect_error(c2, "GenericError", "Capability 'oob' not available");
	client_send(c2, "{'execute': 'qmp_capabilities', 'arguments': {'other': 1}}");
	client_expect_error(c2, "GenericError", "Parameter 'other' is unexpected");
	client_send(c2, "{'execute': 'query-version'}");
	client_expect_error(c2, "CommandNotFound", "Expecting capabilities negotiation");
	client_call(c2, "{'execute': 'qmp_capabilities', 'arguments': {'enable': []}}",
		    "{'return': {}}");

	/* Each connection negotiates for itself. */
	c3 = client_connect(f->path);
	client_expect_greeting(c3);
	client_send(c3, "{'execute': 'query-version'}");
	client_expect_error(c3, "CommandNotFound", "Expecting capabilities negotiation");

	client_free(c3);
	client_free(c2);
	client_free(c);
}

static void test_id_echo(struct fixture *f, gconstpointer data)
{
	struct client *c;

	fixture_start(f);
	c = client_negotiated(f->path);
	client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'int'}, 'id': 17}",
		    "{'return': 42, 'id': 17}");
	client_call(c, "{'id': 'req-a', 'execute': 'answer', 'arguments': {'kind': 'nothing'}}",
		    "{'return': {}, 'id': 'req-a'}");
	client_call(c, "{'execute': 'query-version', 'id': {'seq': [1, 2.5, null]}}",
		    "{'return': {'qemu': {'micro': 0, 'minor': 0, 'major': 0},"
		    " 'package': 'vessel-vmm " VESSEL_VERSION "'}, 'id': {'seq': [1, 2.5, null]}}");
	client_call(c, "{'execute': 'query-version', 'id': -1}",
		    "{'return': {'qemu': {'micro': 0, 'minor': 0, 'major': 0},"
		    " 'package': 'vessel-vmm " VESSEL_VERSION "'}, 'id': -1}");
	/* Errors carry the id too, wherever the request was an object. */
	client_send(c, "{'execute': 'nope', 'id': 'x1'}");
	client_expect_error_id(c, "CommandNotFound", "The command nope has not been found", "'x1'");
	client_send(c, "{'execute': 'echo', 'arguments': {}, 'id': 99}");
	client_expect_error_id(c, "GenericError", "Parameter 'text' is missing", "99");
	client_send(c, "{'execute': 'fail', 'arguments': {'kind': 'inactive'}, 'id': 'f'}");
	client_expect_error_id(c, "DeviceNotActive", "the device is asleep", "'f'");
	client_free(c);
}

static void test_arguments(struct fixture *f, gconstpointer data)
{
	struct client *c;

	fixture_start(f);
	c = client_negotiated(f->path);

	client_call(c, "{'execute': 'echo', 'arguments': {'text': 'hi', 'count': -5, 'flag': true}}",
		    "{'return': {'text': 'hi', 'count': -5, 'flag': true}}");
	client_call(c, "{'execute': 'echo', 'arguments': {'text': '', 'flag': false}}",
		    "{'return': {'text': '', 'flag': false}}");
	client_call(c, "{'execute': 'echo', 'arguments': {'count': 9223372036854775807, 'text': 't'}}",
		    "{'return': {'text': 't', 'count': 9223372036854775807}}");

	client_send(c, "{'execute': 'echo'}");
	client_expect_error(c, "GenericError", "Parameter 'text' is missing");
	client_send(c, "{'execute': 'echo', 'arguments': {'count': 1}}");
	client_expect_error(c, "GenericError", "Parameter 'text' is missing");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'a', 'colour': 'red'}}");
	client_expect_error(c, "GenericError", "Parameter 'colour' is unexpected");
	client_send(c, "{'execute': 'query-version', 'arguments': {'verbose': true}}");
	client_expect_error(c, "GenericError", "Parameter 'verbose' is unexpected");

	client_send(c, "{'execute': 'echo', 'arguments': {'text': 5}}");
	client_expect_error(c, "GenericError", "Parameter 'text' expects a string");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': null}}");
	client_expect_error(c, "GenericError", "Parameter 'text' expects a string");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': ['a']}}");
	client_expect_error(c, "GenericError", "Parameter 'text' expects a string");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'a', 'count': '5'}}");
	client_expect_error(c, "GenericError", "Parameter 'count' expects an integer");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'a', 'count': 1.5}}");
	client_expect_error(c, "GenericError", "Parameter 'count' expects an integer");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'a', 'count': true}}");
	client_expect_error(c, "GenericError", "Parameter 'count' expects an integer");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'a', 'flag': 1}}");
	client_expect_error(c, "GenericError", "Parameter 'flag' expects a boolean");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'a', 'flag': 'true'}}");
	client_expect_error(c, "GenericError", "Parameter 'flag' expects a boolean");

	/* Never silently wrapped to another number (an address, a size). */
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'a', 'count': 9223372036854775808}}");
	client_expect_error(c, "GenericError", "JSON parse error");
	client_send(c, "{'execute': 'echo', 'arguments': {'text': 'a', 'count': -99999999999999999999}}");
	client_expect_error(c, "GenericError", "JSON parse error");

	client_send(c, "{'execute': 'echo', 'arguments': ['text']}");
	client_expect_error(c, "GenericError", "QMP input member 'arguments' must be an object");
	client_send(c, "{'execute': 'echo', 'arguments': 'text=a'}");
	client_expect_error(c, "GenericError", "QMP input member 'arguments' must be an object");
	client_send(c, "{'execute': 'echo', 'arguments': null}");
	client_expect_error(c, "GenericError", "QMP input member 'arguments' must be an object");
	/* A misspelt member must not run the command without its arguments. */
	client_send(c, "{'execute': 'echo', 'argument': {'text': 'a'}}");
	client_expect_error(c, "GenericError", "QMP input member 'argument' is unexpected");

	client_call(c, "{'execute': 'echo', 'arguments': {'text': 'still here'}}",
		    "{'return': {'text': 'still here'}}");
	client_free(c);
}

static void test_unknown_command(struct fixture *f, gconstpointer data)
{
	struct client *c;

	fixture_start(f);
	c = client_negotiated(f->path);
	client_send(c, "{'execute': 'frobnicate'}");
	client_expect_error(c, "CommandNotFound", "The command frobnicate has not been found");
	client_send(c, "{'arguments': {}}");
	client_expect_error(c, "GenericError", "QMP input lacks member 'execute'");
	client_send(c, "{'execute': 42}");
	client_expect_error(c, "GenericError", "QMP input member 'execute' must be a string");
	client_send(c, "{'execute': ['query-version']}");
	client_expect_error(c, "GenericError", "QMP input member 'execute' must be a string");
	client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'ok'}}", "{'return': 'ok'}");
	client_free(c);
}

static void test_malformed(struct fixture *f, gconstpointer data)
{
	static const char *parse_errors[] = {
		"{'execute': ",
		"{execute: query-version}",
		"{'execute': 'query-version'}}",
		"{'execute': 'query-version'} {'execute': 'query-version'}",
		"{} 1",
		"'a' 'b'",
		"nul\x7f",
	};
	static const char *not_objects[] = { "[1, 2]", "42", "'execute'", "null", "true" };
	g_autofree char *deep = NULL;
	struct client *c;

	fixture_start(f);
	c = client_negotiated(f->path);

	for (unsigned int i = 0; i < G_N_ELEMENTS(parse_errors); i++) {
		client_send(c, parse_errors[i]);
		client_expect_error(c, "GenericError", "JSON parse error");
		client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'ok'}, 'id': 1}",
			    "{'return': 'ok', 'id': 1}");
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(not_objects); i++) {
		client_send(c, not_objects[i]);
		client_expect_error(c, "GenericError", "QMP input must be a JSON object");
		client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'ok'}, 'id': 2}",
			    "{'return': 'ok', 'id': 2}");
	}

	/* Deep nesting would overflow json-glib's recursive parser. */
	deep = g_strnfill(200000, '[');
	g_assert_true(client_send_raw(c, deep, strlen(deep)));
	client_send(c, "");
	client_expect_error(c, "GenericError", "JSON parse error");

	/* Not UTF-8, and an embedded NUL. */
	SEND_LITERAL(c, "{\"execute\": \"\xff\xfe\"}\n");
	client_expect_error(c, "GenericError", "JSON parse error");
	SEND_LITERAL(c, "{\"execute\": \"query-version\"}\0 junk\n");
	client_expect_error(c, "GenericError", "JSON parse error");

	/* Blank lines produce nothing; CRLF line ends are accepted. */
	SEND_LITERAL(c, "\n   \n\t\r\n\r\n");
	SEND_LITERAL(c, "{\"execute\": \"answer\", \"arguments\": {\"kind\": \"crlf\"}}\r\n");
	client_expect(c, "{'return': 'crlf'}");

	/* Several requests in one write are answered in order. */
	client_send(c, "{'execute': 'answer', 'arguments': {'kind': 'a'}}\n"
		    "{'execute': 'nope'}\n{'execute': 'answer', 'arguments': {'kind': 'b'}}");
	client_expect(c, "{'return': 'a'}");
	client_expect_error(c, "CommandNotFound", "The command nope has not been found");
	client_expect(c, "{'return': 'b'}");
	client_free(c);
}

static void test_handler_errors(struct fixture *f, gconstpointer data)
{
	struct client *c;

	fixture_start(f);
	c = client_negotiated(f->path);
	client_send(c, "{'execute': 'fail', 'arguments': {'kind': 'generic'}}");
	client_expect_error(c, "GenericError", "generic trouble");
	client_send(c, "{'execute': 'fail', 'arguments': {'kind': 'not-found'}}");
	client_expect_error(c, "CommandNotFound", "no such thing here");
	client_send(c, "{'execute': 'fail', 'arguments': {'kind': 'inactive'}}");
	client_expect_error(c, "DeviceNotActive", "the device is asleep");
	/* Another GError domain is a GenericError with the message as is. */
	client_send(c, "{'execute': 'fail', 'arguments': {'kind': 'disk'}}");
	client_expect_error(c, "GenericError", "foreign: disk");
	/* NULL without an error is the empty object. */
	client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'nothing'}}", "{'return': {}}");
	client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'int'}}", "{'return': 42}");
	client_free(c);
}

static JsonNode *cmd_late(JsonObject *args, void *opaque, GError **error)
{
	JsonNode *node = json_node_new(JSON_NODE_VALUE);

	json_node_set_string(node, "late");
	return node;
}

static void test_query_commands(struct fixture *f, gconstpointer data)
{
	struct client *c;

	fixture_start(f);
	c = client_negotiated(f->path);
	/* Sorted by name, built-ins included. */
	client_call(c, "{'execute': 'query-commands'}",
		    "{'return': [{'name': 'answer'}, {'name': 'echo'}, {'name': 'emit-inside'},"
		    " {'name': 'fail'}, {'name': 'qmp_capabilities'}, {'name': 'query-commands'},"
		    " {'name': 'query-version'}, {'name': 'quit-like'}]}");

	/* Registering while the server runs (from another thread) works. */
	control_server_add_command(f->server, "late", NULL, cmd_late, NULL);
	client_call(c, "{'execute': 'late'}", "{'return': 'late'}");
	client_call(c, "{'execute': 'query-commands'}",
		    "{'return': [{'name': 'answer'}, {'name': 'echo'}, {'name': 'emit-inside'},"
		    " {'name': 'fail'}, {'name': 'late'}, {'name': 'qmp_capabilities'},"
		    " {'name': 'query-commands'}, {'name': 'query-version'}, {'name': 'quit-like'}]}");
	client_free(c);
}

/* ---- events -------------------------------------------------------------------- */

struct emit_job {
	struct control_server *server;
	const char *name;
	int n;			/* -1: no data */
	gint64 before_us, after_us;
};

static gpointer emit_thread(gpointer opaque)
{
	struct emit_job *job = opaque;
	JsonObject *data = NULL;

	if (job->n >= 0) {
		data = json_object_new();
		json_object_set_int_member(data, "n", job->n);
	}
	job->before_us = g_get_real_time();
	control_server_emit_event(job->server, job->name, data);
	job->after_us = g_get_real_time();
	return NULL;
}

static void emit_from_thread(struct emit_job *job)
{
	g_thread_join(g_thread_new("emitter", emit_thread, job));
}

/* Checks an event line: name, data, and a timestamp taken during emission. */
static void client_expect_event(struct client *c, const struct emit_job *job)
{
	g_autoptr(JsonObject) event = client_read_object(c);
	JsonObject *timestamp, *data;
	gint64 when_us;

	g_assert_cmpstr(json_object_get_string_member(event, "event"), ==, job->name);
	g_assert_cmpuint(json_object_get_size(event), ==, 3);
	data = json_object_get_object_member(event, "data");
	g_assert_nonnull(data);
	if (job->n >= 0) {
		g_assert_cmpuint(json_object_get_size(data), ==, 1);
		g_assert_cmpint(json_object_get_int_member(data, "n"), ==, job->n);
	} else {
		g_assert_cmpuint(json_object_get_size(data), ==, 0);
	}
	timestamp = json_object_get_object_member(event, "timestamp");
	g_assert_nonnull(timestamp);
	g_assert_cmpuint(json_object_get_size(timestamp), ==, 2);
	g_assert_cmpint(json_object_get_int_member(timestamp, "microseconds"), >=, 0);
	g_assert_cmpint(json_object_get_int_member(timestamp, "microseconds"), <, 1000000);
	when_us = json_object_get_int_member(timestamp, "seconds") * G_USEC_PER_SEC +
		  json_object_get_int_member(timestamp, "microseconds");
	g_assert_cmpint(when_us, >=, job->before_us);
	g_assert_cmpint(when_us, <=, job->after_us);
}

static void test_events(struct fixture *f, gconstpointer data)
{
	struct emit_job first = { f->server, "TEST_EVENT", 1 };
	struct emit_job second = { f->server, "NO_DATA", -1 };
	struct client *a, *b;

	fixture_start(f);
	first.server = second.server = f->server;
	a = client_negotiated(f->path);
	b = client_connect(f->path);
	client_expect_greeting(b);

	emit_from_thread(&first);
	client_expect_event(a, &first);
	/* b has not negotiated: its next line is the reply, no event before it. */
	client_send(b, "{'execute': 'query-version'}");
	client_expect_error(b, "CommandNotFound", "Expecting capabilities negotiation");
	/* Nor is the event kept for it until it negotiates. */
	client_call(b, "{'execute': 'qmp_capabilities'}", "{'return': {}}");
	client_call(b, "{'execute': 'answer', 'arguments': {'kind': 'x'}}", "{'return': 'x'}");

	emit_from_thread(&second);
	client_expect_event(a, &second);
	client_expect_event(b, &second);

	/* An event emitted by a handler precedes its reply, as with QEMU's STOP. */
	client_send(a, "{'execute': 'emit-inside', 'id': 5}");
	{
		g_autoptr(JsonObject) event = client_read_object(a);

		g_assert_cmpstr(json_object_get_string_member(event, "event"), ==, "INSIDE");
		g_assert_cmpstr(json_object_get_string_member(
				json_object_get_object_member(event, "data"), "from"), ==, "handler");
	}
	client_expect(a, "{'return': {}, 'id': 5}");
	{
		g_autoptr(JsonObject) event = client_read_object(b);

		g_assert_cmpstr(json_object_get_string_member(event, "event"), ==, "INSIDE");
	}
	client_free(b);
	client_free(a);
}

static void test_two_clients(struct fixture *f, gconstpointer data)
{
	struct client *a, *b, *c;

	fixture_start(f);
	a = client_negotiated(f->path);
	b = client_negotiated(f->path);

	/* Requests outstanding on both connections at once. */
	client_send(a, "{'execute': 'answer', 'arguments': {'kind': 'for-a'}, 'id': 'a1'}");
	client_send(b, "{'execute': 'answer', 'arguments': {'kind': 'for-b'}, 'id': 'b1'}");
	client_send(a, "{'execute': 'nope', 'id': 'a2'}");
	client_expect(b, "{'return': 'for-b', 'id': 'b1'}");
	client_expect(a, "{'return': 'for-a', 'id': 'a1'}");
	client_expect_error_id(a, "CommandNotFound", "The command nope", "'a2'");

	/* A client going away leaves the others alone. */
	client_free(a);
	client_call(b, "{'execute': 'answer', 'arguments': {'kind': 'b2'}}", "{'return': 'b2'}");
	c = client_negotiated(f->path);
	client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'c1'}}", "{'return': 'c1'}");
	client_free(c);
	client_free(b);
}

/* `printf ... | socat - UNIX-CONNECT:PATH` sends, shuts down its side, then reads. */
static void test_half_close(struct fixture *f, gconstpointer data)
{
	struct emit_job job = { NULL, "AFTER_EOF", 7 };
	struct client *c;

	fixture_start(f);
	c = client_connect(f->path);
	client_expect_greeting(c);
	SEND_LITERAL(c, "{\"execute\": \"qmp_capabilities\"}\n"
		     "{\"execute\": \"answer\", \"arguments\": {\"kind\": \"last\"}}");
	g_assert_cmpint(shutdown(c->fd, SHUT_WR), ==, 0);
	client_expect(c, "{'return': {}}");
	/* The last line had no '\n': the end of input ends it. */
	client_expect(c, "{'return': 'last'}");
	/* Still listening, so events keep coming. */
	job.server = f->server;
	emit_from_thread(&job);
	client_expect_event(c, &job);
	client_free(c);

	c = client_negotiated(f->path);
	client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'ok'}}", "{'return': 'ok'}");
	client_free(c);
}

/* ---- limits ---------------------------------------------------------------------- */

static void test_long_line(struct fixture *f, gconstpointer data)
{
	const gsize text_len = LINE_LIMIT - 64;
	g_autofree char *text = g_strnfill(text_len, 'y');
	g_autofree char *request = NULL;
	g_autofree char *flood = NULL;
	g_autoptr(JsonObject) reply = NULL;
	struct client *bystander, *c;

	fixture_start(f);
	bystander = client_negotiated(f->path);

	/* Just under the limit is a normal request. */
	c = client_negotiated(f->path);
	request = g_strdup_printf("{\"execute\": \"echo\", \"arguments\": {\"text\": \"%s\"}}\n", text);
	g_assert_cmpuint(strlen(request) - 1, <=, LINE_LIMIT);
	g_assert_true(client_send_raw(c, request, strlen(request)));
	reply = client_read_object(c);
	g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(reply, "return"),
						      "text"), ==, text);

	/* Over it, with no end in sight: one error, then the connection closes. */
	flood = g_strnfill(LINE_LIMIT + 4096, 'x');
	client_send_raw(c, flood, strlen(flood));	/* may fail once the server closes */
	client_expect_error(c, "GenericError", "Request line longer than 1048576 bytes");
	client_expect_eof(c);
	client_free(c);

	/* Same for a complete line that is too long. */
	c = client_negotiated(f->path);
	flood[LINE_LIMIT + 1] = '\n';
	client_send_raw(c, flood, LINE_LIMIT + 2);
	client_expect_error(c, "GenericError", "Request line longer than 1048576 bytes");
	client_expect_eof(c);
	client_free(c);

	client_call(bystander, "{'execute': 'answer', 'arguments': {'kind': 'fine'}}",
		    "{'return': 'fine'}");
	client_free(bystander);
}

static void test_slow_reader(struct fixture *f, gconstpointer data)
{
	g_autofree char *text = g_strnfill(256 * 1024, 'z');
	g_autofree char *request = g_strdup_printf(
		"{\"execute\": \"echo\", \"arguments\": {\"text\": \"%s\"}}\n", text);
	struct client *bystander, *c;
	unsigned int sent = 0, answered = 0;
	char *line;

	fixture_start(f);
	bystander = client_negotiated(f->path);
	c = client_negotiated(f->path);

	/* 40 replies of 256 KiB = 10 MiB owed to a client that reads nothing. */
	while (sent < 40 && client_send_raw(c, request, strlen(request)))
		sent++;
	while ((line = client_read_line(c))) {
		answered++;
		g_free(line);
	}
	/* Cut off (EOF above, not a timeout) well before all replies were owed. */
	g_assert_cmpuint(answered, <, 40);
	client_free(c);

	client_call(bystander, "{'execute': 'answer', 'arguments': {'kind': 'fine'}}",
		    "{'return': 'fine'}");
	client_free(bystander);
}

#define MAX_CLIENTS	64

static void test_too_many_clients(struct fixture *f, gconstpointer data)
{
	struct client *clients[MAX_CLIENTS];
	struct client *extra;
	bool accepted = false;

	fixture_start(f);
	for (unsigned int i = 0; i < MAX_CLIENTS; i++) {
		clients[i] = client_connect(f->path);
		client_expect_greeting(clients[i]);
	}
	extra = client_connect(f->path);
	client_expect_error(extra, "GenericError", "Too many control connections (64)");
	client_expect_eof(extra);
	client_free(extra);

	/* A freed slot is usable again once the server has seen the close. */
	client_free(clients[0]);
	for (int attempt = 0; attempt < 100 && !accepted; attempt++) {
		g_autofree char *line = NULL;

		extra = client_connect(f->path);
		line = client_read_line(extra);
		accepted = line && g_str_has_prefix(line, "{\"QMP\"");
		if (accepted)
			client_call(extra, "{'execute': 'qmp_capabilities'}", "{'return': {}}");
		client_free(extra);
		if (!accepted)
			g_usleep(20 * 1000);
	}
	g_assert_true(accepted);
	for (unsigned int i = 1; i < MAX_CLIENTS; i++)
		client_free(clients[i]);
}

/* ---- the socket file --------------------------------------------------------- */

static void test_socket_mode(struct fixture *f, gconstpointer data)
{
	struct stat st;
	mode_t old_umask;
	struct client *c;

	/* A permissive umask must not widen the mode: anyone connecting owns the VM. */
	old_umask = umask(0);
	fixture_start(f);
	umask(old_umask);

	g_assert_cmpint(lstat(f->path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpuint(st.st_uid, ==, getuid());

	c = client_connect(f->path);
	client_expect_greeting(c);
	client_free(c);
}

static void test_stale_socket(struct fixture *f, gconstpointer data)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;
	struct client *c;

	/* What a VMM that was killed leaves behind: bound, nobody listening. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	strcpy(addr.sun_path, f->path);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	close(fd);
	g_assert_cmpint(lstat(f->path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(connect_unix(f->path), ==, -1);
	g_assert_cmpint(errno, ==, ECONNREFUSED);

	fixture_start(f);
	c = client_negotiated(f->path);
	client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'new'}}", "{'return': 'new'}");
	client_free(c);
}

static void test_live_socket(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainContext) other = g_main_context_new();
	struct control_server *second;
	struct client *c;

	fixture_start(f);
	second = control_server_new(f->path, other, &error);
	g_assert_null(second);
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, f->path));
	g_assert_nonnull(strstr(error->message, "is in use by another running VMM"));

	/* The running server keeps its socket and its clients. */
	c = client_negotiated(f->path);
	client_call(c, "{'execute': 'answer', 'arguments': {'kind': 'first'}}",
		    "{'return': 'first'}");
	client_free(c);
}

static void assert_refused(const char *path, const char *expect_in_message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainContext) context = g_main_context_new();
	struct control_server *server;

	server = control_server_new(path, context, &error);
	g_assert_null(server);
	g_assert_nonnull(error);
	if (!strstr(error->message, expect_in_message))
		g_error("error '%s' does not mention '%s'", error->message, expect_in_message);
}

static void test_not_a_socket(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *contents = NULL;
	g_autofree char *subdir = g_build_filename(f->dir, "a-directory", NULL);
	g_autofree char *link = g_build_filename(f->dir, "a-link", NULL);
	g_autofree char *missing = g_build_filename(f->dir, "no-such-dir", "vmm.sock", NULL);
	g_autofree char *target = NULL;
	struct stat st;

	/* A user's file at the path is never deleted. */
	g_assert_true(g_file_set_contents(f->path, "precious", -1, &error));
	assert_refused(f->path, f->path);
	assert_refused(f->path, "not a socket");
	g_assert_true(g_file_get_contents(f->path, &contents, NULL, &error));
	g_assert_cmpstr(contents, ==, "precious");

	g_assert_cmpint(g_mkdir(subdir, 0700), ==, 0);
	assert_refused(subdir, subdir);
	g_assert_true(g_file_test(subdir, G_FILE_TEST_IS_DIR));

	/* Not followed, even to something replaceable. */
	g_assert_cmpint(symlink("vmm.sock", link), ==, 0);
	assert_refused(link, link);
	target = g_file_read_link(link, &error);
	g_assert_cmpstr(target, ==, "vmm.sock");
	g_assert_cmpint(lstat(f->path, &st), ==, 0);
	g_assert_true(S_ISREG(st.st_mode));

	assert_refused(missing, "does not exist");
	g_unlink(link);
}

static void test_free_removes_socket(struct fixture *f, gconstpointer data)
{
	g_autofree char *contents = NULL;
	struct client *c;

	fixture_start(f);
	c = client_negotiated(f->path);
	g_assert_true(g_file_test(f->path, G_FILE_TEST_EXISTS));
	fixture_stop_loop(f);
	control_server_free(f->server);
	f->server = NULL;
	g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
	/* Clients are disconnected. */
	client_expect_eof(c);
	client_free(c);
	g_assert_cmpint(connect_unix(f->path), ==, -1);

	/* A file someone else put at the path afterwards is not ours to remove. */
	fixture_start(f);
	g_assert_cmpint(g_unlink(f->path), ==, 0);
	g_assert_true(g_file_set_contents(f->path, "someone else's", -1, NULL));
	fixture_stop_loop(f);
	control_server_free(f->server);
	f->server = NULL;
	g_assert_true(g_file_get_contents(f->path, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "someone else's");
}

/* ---- flush --------------------------------------------------------------------- */

#define FLUSH_EVENTS	2000

struct reader {
	struct client *client;
	unsigned int events;
	bool in_order;
};

static gpointer reader_thread(gpointer opaque)
{
	struct reader *r = opaque;
	char *line;

	/* Start late, so most of the output is still queued in the server. */
	g_usleep(200 * 1000);
	r->in_order = true;
	while ((line = client_read_line(r->client))) {
		g_autoptr(JsonNode) node = parse(line);
		JsonObject *data = json_object_get_object_member(json_node_get_object(node), "data");

		if (json_object_get_int_member(data, "n") != r->events)
			r->in_order = false;
		r->events++;
		g_free(line);
	}
	return NULL;
}

static void test_flush(struct fixture *f, gconstpointer data)
{
	g_autofree char *padding = g_strnfill(500, 'p');
	struct reader r = { 0 };
	struct client *idle;
	GThread *thread;
	gint64 start;

	fixture_start(f);

	/* Nothing queued: returns at once. */
	start = g_get_monotonic_time();
	control_server_flush(f->server, 5000);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);

	r.client = client_negotiated(f->path);
	thread = g_thread_new("reader", reader_thread, &r);

	/* ~1 MiB of events, far more than the socket buffer holds. */
	for (int i = 0; i < FLUSH_EVENTS; i++) {
		JsonObject *event_data = json_object_new();

		json_object_set_int_member(event_data, "n", i);
		json_object_set_string_member(event_data, "padding", padding);
		control_server_emit_event(f->server, "BULK", event_data);
	}
	control_server_flush(f->server, 10000);

	/* As at VMM exit: stop the I/O thread right after flushing. */
	fixture_stop_loop(f);
	control_server_free(f->server);
	f->server = NULL;
	g_thread_join(thread);
	g_assert_cmpuint(r.events, ==, FLUSH_EVENTS);
	g_assert_true(r.in_order);
	client_free(r.client);

	/* A client that never reads: flush gives up after its timeout. */
	fixture_start(f);
	idle = client_negotiated(f->path);
	for (int i = 0; i < FLUSH_EVENTS; i++) {
		JsonObject *event_data = json_object_new();

		json_object_set_string_member(event_data, "padding", padding);
		control_server_emit_event(f->server, "BULK", event_data);
	}
	start = g_get_monotonic_time();
	control_server_flush(f->server, 300);
	g_assert_cmpint(g_get_monotonic_time() - start, >=, 290 * 1000);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 3 * G_USEC_PER_SEC);
	client_free(idle);
}

/* The machine's quit sequence: reply, SHUTDOWN from the main thread, flush, exit. */
static void test_quit_sequence(struct fixture *f, gconstpointer data)
{
	JsonObject *shutdown = json_object_new();
	g_autoptr(JsonObject) event = NULL;
	struct client *c;

	fixture_start(f);
	c = client_negotiated(f->path);
	client_send(c, "{'execute': 'quit-like', 'id': 'bye'}");
	g_assert_nonnull(g_async_queue_timeout_pop(f->quit_requests, IO_TIMEOUT_S * G_USEC_PER_SEC));

	json_object_set_boolean_member(shutdown, "guest", FALSE);
	json_object_set_string_member(shutdown, "reason", "host-qmp-quit");
	control_server_emit_event(f->server, "SHUTDOWN", shutdown);
	control_server_flush(f->server, 5000);
	fixture_stop_loop(f);
	control_server_free(f->server);
	f->server = NULL;

	client_expect(c, "{'return': {}, 'id': 'bye'}");
	event = client_read_object(c);
	g_assert_cmpstr(json_object_get_string_member(event, "event"), ==, "SHUTDOWN");
	g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(event, "data"),
						      "reason"), ==, "host-qmp-quit");
	client_expect_eof(c);
	client_free(c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	ADD("greeting", test_greeting);
	ADD("negotiation", test_negotiation);
	ADD("id-echo", test_id_echo);
	ADD("arguments", test_arguments);
	ADD("unknown-command", test_unknown_command);
	ADD("malformed", test_malformed);
	ADD("handler-errors", test_handler_errors);
	ADD("query-commands", test_query_commands);
	ADD("events", test_events);
	ADD("two-clients", test_two_clients);
	ADD("half-close", test_half_close);
	ADD("long-line", test_long_line);
	ADD("slow-reader", test_slow_reader);
	ADD("too-many-clients", test_too_many_clients);
	ADD("socket-mode", test_socket_mode);
	ADD("stale-socket", test_stale_socket);
	ADD("live-socket", test_live_socket);
	ADD("not-a-socket", test_not_a_socket);
	ADD("free-removes-socket", test_free_removes_socket);
	ADD("flush", test_flush);
	ADD("quit-sequence", test_quit_sequence);
	return g_test_run();
}
