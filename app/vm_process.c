/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The app's supervisor of one vessel-vmm process: docs/architecture.md,
 * "VM supervision (app/vm_process.c)".  The control protocol is in
 * docs/control-protocol.md.
 *
 * Every asynchronous operation carries a Guard instead of the object: the
 * guard is revoked (owner set to NULL, its GCancellable cancelled) when
 * what the operation belongs to is torn down — the object disposed, the
 * run finished, the control connection dropped — so a late callback sees
 * that and touches nothing.
 */
#include "vm_process.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>

#define LOG_TAIL_LINES		100
/* Longer output lines (a guest printing without newlines) are split. */
#define OUTPUT_LINE_MAX_BYTES	8192
/* The VMM's own request limit; a longer reply means the stream is broken. */
#define CONTROL_LINE_MAX_BYTES	(1024 * 1024)
#define READ_CHUNK_BYTES	65536
#define CONNECT_RETRY_MS	50
#define CONNECT_TIMEOUT_MS	10000
#define FORCE_OFF_GRACE_MS	3000
/* After the exit, output still held by a leftover child is not waited for longer. */
#define OUTPUT_DRAIN_MS		2000
#define VMM_LINE_PREFIX		"vessel-vmm: "
/* vmm/log.c: every error the VMM reports reads "vessel-vmm: error: TEXT". */
#define VMM_ERROR_PREFIX	"vessel-vmm: error: "

typedef struct {
	VesselVmProcess *owner;	/* NULL once revoked */
	GCancellable *cancellable;
} Guard;

typedef void (*LineFunc)(VesselVmProcess *self, const char *line, gsize len, gboolean overlong);
typedef void (*ChunkFunc)(VesselVmProcess *self, const char *data, gsize len);
typedef void (*EndFunc)(VesselVmProcess *self);

/* Reads a stream in chunks and splits it into lines; owned by its read loop. */
typedef struct {
	Guard *guard;
	GInputStream *stream;
	GByteArray *partial;	/* the unfinished line */
	gsize max_line_bytes;
	ChunkFunc on_chunk;	/* optional: every byte as it arrives */
	LineFunc on_line;
	EndFunc on_end;		/* end of stream or read error */
} LineReader;

/* An internal request's continuation; NULL result means error is set. */
typedef void (*ReplyFunc)(VesselVmProcess *self, JsonNode *result, const GError *error);

typedef struct {
	gint64 id;
	GTask *task;		/* a caller's execute_async, or NULL */
	ReplyFunc handler;	/* an internal request, or NULL (reply ignored) */
} PendingRequest;

struct _VesselVmProcess {
	GObject parent_instance;

	char *vmm_path;
	char *profile_path;
	char *socket_path;
	char *log_path;

	VesselVmState state;
	char *error_message;

	/* The run log's last lines, a ring. */
	char *tail[LOG_TAIL_LINES];
	guint tail_start;
	guint tail_count;
	char *last_vmm_error;	/* the last VMM_ERROR_PREFIX line, without it */

	/* One run: from start() until the exit has been handled. */
	Guard *run_guard;
	GSubprocess *subprocess;
	GPid pid;
	FILE *log_file;
	char log_last_byte;
	gboolean output_done;
	gboolean process_exited;
	int wait_status;
	gboolean force_off_requested;
	char *fatal_message;	/* why we killed the VMM, if we did */
	gint64 connect_deadline_us;
	guint connect_retry_id;
	guint force_off_timer_id;
	guint drain_timer_id;
	gboolean socket_owned;	/* connected to it and it is our VMM's */

	/* The control connection. */
	Guard *conn_guard;
	GSocketConnection *connection;
	JsonParser *parser;
	GString *outbox;
	GBytes *writing;	/* in flight; NULL when no write is */
	gboolean greeted;
	gboolean ready;		/* negotiated and the first status known */
	GQueue pending;
	gint64 next_id;
};

G_DEFINE_FINAL_TYPE(VesselVmProcess, vessel_vm_process, G_TYPE_OBJECT)

enum { PROP_0, PROP_STATE, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { SIGNAL_EVENT, SIGNAL_LOG_LINE, SIGNAL_EXITED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void try_connect(VesselVmProcess *self);
static void send_request(VesselVmProcess *self, const char *command, JsonObject *arguments,
			 GTask *task, ReplyFunc handler);

/* ---- guards ---- */

static Guard *guard_new(VesselVmProcess *owner)
{
	Guard *guard = g_rc_box_new0(Guard);

	guard->owner = owner;
	guard->cancellable = g_cancellable_new();
	return guard;
}

static Guard *guard_ref(Guard *guard)
{
	return g_rc_box_acquire(guard);
}

static void guard_clear(gpointer data)
{
	Guard *guard = data;

	g_clear_object(&guard->cancellable);
}

static void guard_unref(Guard *guard)
{
	g_rc_box_release_full(guard, guard_clear);
}

static void guard_revoke(Guard **guard)
{
	if (!*guard)
		return;
	(*guard)->owner = NULL;
	g_cancellable_cancel((*guard)->cancellable);
	guard_unref(*guard);
	*guard = NULL;
}

/* ---- line reader ---- */

static void line_reader_read(LineReader *reader);

static LineReader *line_reader_new(Guard *guard, GInputStream *stream, gsize max_line_bytes)
{
	LineReader *reader = g_new0(LineReader, 1);

	reader->guard = guard_ref(guard);
	reader->stream = g_object_ref(stream);
	reader->partial = g_byte_array_new();
	reader->max_line_bytes = max_line_bytes;
	return reader;
}

static void line_reader_free(LineReader *reader)
{
	guard_unref(reader->guard);
	g_object_unref(reader->stream);
	g_byte_array_unref(reader->partial);
	g_free(reader);
}

static gboolean line_reader_alive(LineReader *reader, VesselVmProcess *self)
{
	return reader->guard->owner == self;
}

static void line_reader_emit(LineReader *reader, VesselVmProcess *self, const char *line,
			     gsize len, gboolean overlong)
{
	/* Serial consoles end lines with "\r\n". */
	if (len > 0 && line[len - 1] == '\r')
		len--;
	reader->on_line(self, line, len, overlong);
}

/* Splits one chunk; stops early when a line handler tore the reader's owner down. */
static void line_reader_feed(LineReader *reader, VesselVmProcess *self, const char *data, gsize len)
{
	while (len > 0 && line_reader_alive(reader, self)) {
		const char *newline = memchr(data, '\n', len);
		gsize segment = newline ? (gsize)(newline - data) : len;
		gsize room = reader->max_line_bytes - reader->partial->len;

		if (newline ? segment > room : segment >= room) {
			/* Fill the line up to the limit and hand it over as it is. */
			g_byte_array_append(reader->partial, (const guint8 *)data, (guint)room);
			data += room;
			len -= room;
			line_reader_emit(reader, self, (const char *)reader->partial->data,
					 reader->partial->len, TRUE);
			g_byte_array_set_size(reader->partial, 0);
			continue;
		}
		if (!newline) {
			g_byte_array_append(reader->partial, (const guint8 *)data, (guint)segment);
			return;
		}
		if (reader->partial->len == 0) {
			line_reader_emit(reader, self, data, segment, FALSE);
		} else {
			g_byte_array_append(reader->partial, (const guint8 *)data, (guint)segment);
			line_reader_emit(reader, self, (const char *)reader->partial->data,
					 reader->partial->len, FALSE);
			g_byte_array_set_size(reader->partial, 0);
		}
		data += segment + 1;
		len -= segment + 1;
	}
}

static void on_line_reader_read(GObject *source, GAsyncResult *result, gpointer data)
{
	LineReader *reader = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
	VesselVmProcess *self = reader->guard->owner;
	gsize size;
	const char *chunk;

	if (!self) {
		line_reader_free(reader);
		return;
	}
	g_object_ref(self);
	chunk = bytes ? g_bytes_get_data(bytes, &size) : NULL;
	if (!chunk || size == 0) {
		if (reader->partial->len > 0)
			line_reader_emit(reader, self, (const char *)reader->partial->data,
					 reader->partial->len, FALSE);
		if (line_reader_alive(reader, self))
			reader->on_end(self);
		line_reader_free(reader);
	} else {
		if (reader->on_chunk)
			reader->on_chunk(self, chunk, size);
		line_reader_feed(reader, self, chunk, size);
		if (line_reader_alive(reader, self))
			line_reader_read(reader);
		else
			line_reader_free(reader);
	}
	g_object_unref(self);
}

static void line_reader_read(LineReader *reader)
{
	g_input_stream_read_bytes_async(reader->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
					reader->guard->cancellable, on_line_reader_read, reader);
}

/* ---- state ---- */

static void set_state(VesselVmProcess *self, VesselVmState state)
{
	if (self->state == state)
		return;
	self->state = state;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
}

static void set_error_message(VesselVmProcess *self, const char *message)
{
	g_free(self->error_message);
	self->error_message = g_strdup(message);
}

/* ---- the run log ---- */

static void tail_clear(VesselVmProcess *self)
{
	for (guint i = 0; i < LOG_TAIL_LINES; i++)
		g_clear_pointer(&self->tail[i], g_free);
	self->tail_start = 0;
	self->tail_count = 0;
	g_clear_pointer(&self->last_vmm_error, g_free);
}

static void tail_push(VesselVmProcess *self, char *line)
{
	guint slot = (self->tail_start + self->tail_count) % LOG_TAIL_LINES;

	if (self->tail_count == LOG_TAIL_LINES) {
		g_free(self->tail[self->tail_start]);
		self->tail_start = (self->tail_start + 1) % LOG_TAIL_LINES;
		slot = (self->tail_start + LOG_TAIL_LINES - 1) % LOG_TAIL_LINES;
	} else {
		self->tail_count++;
	}
	self->tail[slot] = line;
}

static void log_file_write(VesselVmProcess *self, const char *data, gsize len)
{
	if (!self->log_file || len == 0)
		return;
	if (fwrite(data, 1, len, self->log_file) != len || fflush(self->log_file) != 0) {
		g_warning("%s: cannot write the run log: %s", self->log_path, g_strerror(errno));
		fclose(self->log_file);
		self->log_file = NULL;
		return;
	}
	self->log_last_byte = data[len - 1];
}

static void log_file_open(VesselVmProcess *self)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *date = g_date_time_format_iso8601(now);
	g_autofree char *header = NULL;

	/* "e": the descriptor must not leak into the VMM. */
	self->log_file = fopen(self->log_path, "ae");
	if (!self->log_file) {
		g_warning("%s: cannot open the run log: %s", self->log_path, g_strerror(errno));
		return;
	}
	header = g_strdup_printf("--- vessel-vmm started %s ---\n", date);
	log_file_write(self, header, strlen(header));
}

static void log_file_close(VesselVmProcess *self)
{
	if (!self->log_file)
		return;
	/* The next run's header starts on a line of its own. */
	if (self->log_last_byte != '\n')
		log_file_write(self, "\n", 1);
	if (self->log_file)
		fclose(self->log_file);
	self->log_file = NULL;
}

static void on_output_chunk(VesselVmProcess *self, const char *data, gsize len)
{
	log_file_write(self, data, len);
}

static void on_output_line(VesselVmProcess *self, const char *line, gsize len, gboolean overlong)
{
	/* Guests print anything: NUL bytes and invalid UTF-8 become U+FFFD. */
	char *text = g_utf8_make_valid(line, (gssize)len);

	if (g_str_has_prefix(text, VMM_ERROR_PREFIX)) {
		g_free(self->last_vmm_error);
		self->last_vmm_error = g_strdup(text + strlen(VMM_ERROR_PREFIX));
	}
	tail_push(self, text);
	g_signal_emit(self, signals[SIGNAL_LOG_LINE], 0, text);
}

static void finish_exit(VesselVmProcess *self);

static void on_output_end(VesselVmProcess *self)
{
	self->output_done = TRUE;
	if (self->process_exited)
		finish_exit(self);
}

/* ---- control connection ---- */

static void pending_request_free(PendingRequest *request)
{
	g_clear_object(&request->task);
	g_free(request);
}

/*
 * Drops the connection; requests still waiting fail with message.  Their
 * callbacks may run at once and do anything, so the object is consistent
 * before the first one runs.
 */
static void teardown_connection(VesselVmProcess *self, const char *message)
{
	GQueue waiting = G_QUEUE_INIT;
	PendingRequest *request;

	guard_revoke(&self->conn_guard);
	g_clear_object(&self->connection);
	g_clear_object(&self->parser);
	if (self->outbox)
		g_string_free(self->outbox, TRUE);
	self->outbox = NULL;
	g_clear_pointer(&self->writing, g_bytes_unref);
	self->greeted = FALSE;
	self->ready = FALSE;
	waiting = self->pending;
	g_queue_init(&self->pending);

	g_object_ref(self);
	while ((request = g_queue_pop_head(&waiting))) {
		if (request->task)
			g_task_return_new_error(request->task, G_IO_ERROR,
						G_IO_ERROR_CONNECTION_CLOSED, "%s", message);
		pending_request_free(request);
	}
	g_object_unref(self);
}

/*
 * The VMM cannot be controlled: end it and say why when it has exited
 * (state stays STARTING until then).
 */
static void fail_run(VesselVmProcess *self, const char *message)
{
	if (!self->fatal_message)
		self->fatal_message = g_strdup(message);
	g_clear_handle_id(&self->connect_retry_id, g_source_remove);
	teardown_connection(self, message);
	if (self->subprocess && !self->process_exited)
		g_subprocess_force_exit(self->subprocess);
}

static gboolean on_connect_retry(gpointer data)
{
	VesselVmProcess *self = data;

	self->connect_retry_id = 0;
	try_connect(self);
	return G_SOURCE_REMOVE;
}

static void schedule_connect_retry(VesselVmProcess *self, const char *reason)
{
	if (!self->run_guard || self->process_exited || self->connect_retry_id)
		return;
	if (g_get_monotonic_time() >= self->connect_deadline_us) {
		g_autofree char *message = g_strdup_printf(
			"vessel-vmm did not open its control socket %s within %d seconds (%s)",
			self->socket_path, CONNECT_TIMEOUT_MS / 1000, reason);
		fail_run(self, message);
		return;
	}
	self->connect_retry_id = g_timeout_add(CONNECT_RETRY_MS, on_connect_retry, self);
}

static pid_t parent_pid(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *contents = NULL;
	const char *after_name;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return -1;
	/* "PID (COMM) STATE PPID ...": COMM may itself hold ')'. */
	after_name = strrchr(contents, ')');
	if (!after_name || strlen(after_name) < 4)
		return -1;
	return (pid_t)strtol(after_name + 4, NULL, 10);
}

/*
 * Another VMM may be listening on the path (ours then refuses it and
 * exits): only a socket served by our process, or by a process it started
 * (a wrapper script), is the machine we supervise.
 */
static gboolean peer_is_our_vmm(VesselVmProcess *self, GSocketConnection *connection)
{
	GSocket *socket = g_socket_connection_get_socket(connection);
	g_autoptr(GCredentials) credentials = g_socket_get_credentials(socket, NULL);
	pid_t pid;

	if (!credentials)
		return TRUE;	/* no SO_PEERCRED here: trust the 0600 socket */
	pid = g_credentials_get_unix_pid(credentials, NULL);
	if (pid <= 0)
		return TRUE;
	for (int depth = 0; depth < 16 && pid > 1; depth++) {
		if (pid == self->pid)
			return TRUE;
		pid = parent_pid(pid);
	}
	return FALSE;
}

/* The member's string, or NULL when it is absent or not a string (the VMM is not trusted blindly). */
static const char *object_get_string(JsonObject *object, const char *name)
{
	JsonNode *node = object ? json_object_get_member(object, name) : NULL;

	if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

static VesselVmState state_from_status(JsonNode *result)
{
	JsonObject *object = JSON_NODE_HOLDS_OBJECT(result) ? json_node_get_object(result) : NULL;
	const char *status = object_get_string(object, "status");

	if (g_strcmp0(status, "paused") == 0)
		return VESSEL_VM_STATE_PAUSED;
	if (g_strcmp0(status, "shutdown") == 0)
		return VESSEL_VM_STATE_STOPPING;
	return VESSEL_VM_STATE_RUNNING;
}

static void on_status_reply(VesselVmProcess *self, JsonNode *result, const GError *error)
{
	if (!result) {
		g_autofree char *message = g_strdup_printf("vessel-vmm did not tell its status: %s",
							   error->message);
		fail_run(self, message);
		return;
	}
	self->ready = TRUE;
	/* A force off or SHUTDOWN that came first stays. */
	if (self->state == VESSEL_VM_STATE_STARTING)
		set_state(self, state_from_status(result));
}

static void on_capabilities_reply(VesselVmProcess *self, JsonNode *result, const GError *error)
{
	if (!result) {
		g_autofree char *message = g_strdup_printf(
			"vessel-vmm refused the control handshake: %s", error->message);
		fail_run(self, message);
		return;
	}
	send_request(self, "query-status", NULL, NULL, on_status_reply);
}

static void handle_greeting(VesselVmProcess *self, JsonObject *message, const char *line, gsize len)
{
	if (!message || !json_object_has_member(message, "QMP")) {
		g_autofree char *valid = g_utf8_make_valid(line, (gssize)MIN(len, 80));
		g_autofree char *text = g_strdup_printf(
			"vessel-vmm's control socket did not greet as expected; it sent “%s”", valid);
		fail_run(self, text);
		return;
	}
	self->greeted = TRUE;
	send_request(self, "qmp_capabilities", NULL, NULL, on_capabilities_reply);
}

static void handle_event(VesselVmProcess *self, JsonObject *message)
{
	/* A copy: handlers may drop the connection, and its parser with the message. */
	g_autofree char *name = g_strdup(object_get_string(message, "event"));
	JsonNode *data_node = json_object_get_member(message, "data");
	g_autoptr(JsonObject) data = NULL;

	if (data_node && JSON_NODE_HOLDS_OBJECT(data_node))
		data = json_object_ref(json_node_get_object(data_node));
	else
		data = json_object_new();

	if (g_str_equal(name, "SHUTDOWN")) {
		set_state(self, VESSEL_VM_STATE_STOPPING);
	} else if (self->ready && self->state != VESSEL_VM_STATE_STOPPING) {
		if (g_str_equal(name, "STOP"))
			set_state(self, VESSEL_VM_STATE_PAUSED);
		else if (g_str_equal(name, "RESUME"))
			set_state(self, VESSEL_VM_STATE_RUNNING);
	}
	/* RESET: the machine runs on. */
	g_signal_emit(self, signals[SIGNAL_EVENT], 0, name, data);
}

static PendingRequest *take_request(VesselVmProcess *self, JsonObject *message)
{
	JsonNode *id = json_object_get_member(message, "id");

	/* Replies come in request order; one without an id is the oldest's. */
	if (!id)
		return g_queue_pop_head(&self->pending);
	if (!JSON_NODE_HOLDS_VALUE(id) || json_node_get_value_type(id) != G_TYPE_INT64)
		return NULL;
	for (GList *link = self->pending.head; link; link = link->next) {
		PendingRequest *request = link->data;

		if (request->id == json_node_get_int(id)) {
			g_queue_delete_link(&self->pending, link);
			return request;
		}
	}
	return NULL;
}

static void handle_reply(VesselVmProcess *self, JsonObject *message)
{
	PendingRequest *request = take_request(self, message);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) result = NULL;

	if (!request) {
		g_debug("vessel-vmm answered a request that is not waiting; ignored");
		return;
	}
	if (json_object_has_member(message, "error")) {
		JsonNode *error_node = json_object_get_member(message, "error");
		const char *desc = NULL;

		if (JSON_NODE_HOLDS_OBJECT(error_node))
			desc = object_get_string(json_node_get_object(error_node), "desc");
		error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED,
					    desc ? desc : "vessel-vmm reported an error without saying which");
	} else {
		result = json_node_copy(json_object_get_member(message, "return"));
	}

	if (request->task) {
		if (error)
			g_task_return_error(request->task, g_steal_pointer(&error));
		else
			g_task_return_pointer(request->task, g_steal_pointer(&result),
					      (GDestroyNotify)json_node_unref);
	} else if (request->handler) {
		request->handler(self, result, error);
	}
	pending_request_free(request);
}

static void on_control_line(VesselVmProcess *self, const char *line, gsize len, gboolean overlong)
{
	JsonNode *root;
	JsonObject *message = NULL;

	if (overlong) {
		if (self->ready)
			teardown_connection(self, "vessel-vmm sent a control message longer than 1 MiB");
		else
			fail_run(self, "vessel-vmm sent a control message longer than 1 MiB");
		return;
	}
	if (len == 0)
		return;
	if (g_utf8_validate_len(line, len, NULL) &&
	    json_parser_load_from_data(self->parser, line, (gssize)len, NULL)) {
		root = json_parser_get_root(self->parser);
		if (root && JSON_NODE_HOLDS_OBJECT(root))
			message = json_node_get_object(root);
	}

	if (!self->greeted) {
		handle_greeting(self, message, line, len);
	} else if (!message) {
		g_debug("vessel-vmm sent a control line that is not a JSON object; ignored");
	} else if (object_get_string(message, "event")) {
		handle_event(self, message);
	} else if (json_object_has_member(message, "return") ||
		   json_object_has_member(message, "error")) {
		handle_reply(self, message);
	} else {
		g_debug("vessel-vmm sent a control message of no known kind; ignored");
	}
}

static void on_control_end(VesselVmProcess *self)
{
	gboolean was_ready = self->ready;

	teardown_connection(self, "vessel-vmm closed the control connection before it answered");
	/* Closed during the handshake: the VMM may still be setting up. */
	if (!was_ready && !self->fatal_message)
		schedule_connect_retry(self, "it closed the connection");
}

static void control_flush(VesselVmProcess *self);

static void on_control_written(GObject *source, GAsyncResult *result, gpointer data)
{
	Guard *guard = data;
	g_autoptr(GError) error = NULL;
	gssize written = g_output_stream_write_bytes_finish(G_OUTPUT_STREAM(source), result, &error);
	VesselVmProcess *self = guard->owner;
	gsize size;
	const char *sent;

	guard_unref(guard);
	if (!self)
		return;
	if (written < 0) {
		g_autofree char *message = g_strdup_printf(
			"cannot write to vessel-vmm's control socket: %s", error->message);
		g_clear_pointer(&self->writing, g_bytes_unref);
		teardown_connection(self, message);
		return;
	}
	sent = g_bytes_get_data(self->writing, &size);
	if ((gsize)written < size)
		g_string_prepend_len(self->outbox, sent + written, (gssize)(size - (gsize)written));
	g_clear_pointer(&self->writing, g_bytes_unref);
	control_flush(self);
}

static void control_flush(VesselVmProcess *self)
{
	GOutputStream *stream;

	if (self->writing || !self->outbox || self->outbox->len == 0)
		return;
	stream = g_io_stream_get_output_stream(G_IO_STREAM(self->connection));
	self->writing = g_string_free_to_bytes(self->outbox);
	self->outbox = g_string_new(NULL);
	g_output_stream_write_bytes_async(stream, self->writing, G_PRIORITY_DEFAULT,
					  self->conn_guard->cancellable, on_control_written,
					  guard_ref(self->conn_guard));
}

static void send_request(VesselVmProcess *self, const char *command, JsonObject *arguments,
			 GTask *task, ReplyFunc handler)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;
	PendingRequest *request = g_new0(PendingRequest, 1);

	request->id = ++self->next_id;
	request->task = task;
	request->handler = handler;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "execute");
	json_builder_add_string_value(builder, command);
	if (arguments) {
		json_builder_set_member_name(builder, "arguments");
		json_builder_add_value(builder, json_node_init_object(json_node_alloc(), arguments));
	}
	json_builder_set_member_name(builder, "id");
	json_builder_add_int_value(builder, request->id);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	text = json_generator_to_data(generator, NULL);

	g_queue_push_tail(&self->pending, request);
	g_string_append(self->outbox, text);
	g_string_append_c(self->outbox, '\n');
	control_flush(self);
}

static void attach_connection(VesselVmProcess *self, GSocketConnection *connection)
{
	LineReader *reader;

	self->conn_guard = guard_new(self);
	self->connection = g_object_ref(connection);
	self->parser = json_parser_new();
	self->outbox = g_string_new(NULL);
	self->socket_owned = TRUE;

	reader = line_reader_new(self->conn_guard,
				 g_io_stream_get_input_stream(G_IO_STREAM(connection)),
				 CONTROL_LINE_MAX_BYTES);
	reader->on_line = on_control_line;
	reader->on_end = on_control_end;
	line_reader_read(reader);
}

static void on_connected(GObject *source, GAsyncResult *result, gpointer data)
{
	Guard *guard = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) connection =
		g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
	VesselVmProcess *self = guard->owner;

	guard_unref(guard);
	if (!self)
		return;
	if (!connection) {
		schedule_connect_retry(self, error->message);
		return;
	}
	if (!peer_is_our_vmm(self, connection)) {
		schedule_connect_retry(self, "another process is listening on it");
		return;
	}
	attach_connection(self, connection);
}

static void try_connect(VesselVmProcess *self)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketAddress) address = g_unix_socket_address_new(self->socket_path);

	if (!self->run_guard || self->process_exited)
		return;
	g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(address),
				      self->run_guard->cancellable, on_connected,
				      guard_ref(self->run_guard));
}

/* ---- the process ---- */

static const char *signal_abbreviation(int signal_number)
{
	static const struct { int number; const char *name; } names[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
		{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
		if (names[i].number == signal_number)
			return names[i].name;
	return NULL;
}

static char *describe_failure(VesselVmProcess *self)
{
	int status = self->wait_status;

	if (self->last_vmm_error)
		return g_strdup(self->last_vmm_error);
	if (self->fatal_message)
		return g_strdup(self->fatal_message);
	if (WIFSIGNALED(status)) {
		int number = WTERMSIG(status);
		const char *name = signal_abbreviation(number);

		if (name)
			return g_strdup_printf("vessel-vmm was killed by signal %s (%s)", name,
					       g_strsignal(number));
		return g_strdup_printf("vessel-vmm was killed by signal %d (%s)", number,
				       g_strsignal(number));
	}
	return g_strdup_printf("vessel-vmm ended with status %d", WEXITSTATUS(status));
}

/* A VMM that was killed cannot remove its socket; nobody else uses that path now. */
static void remove_dead_socket(VesselVmProcess *self)
{
	struct stat st;

	if (self->socket_owned && lstat(self->socket_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(self->socket_path);
	self->socket_owned = FALSE;
}

/* Both the exit and the end of the output are in: the run is over. */
static void finish_exit(VesselVmProcess *self)
{
	gboolean clean;
	int status = self->wait_status;
	g_autofree char *message = NULL;

	g_object_ref(self);
	g_clear_handle_id(&self->connect_retry_id, g_source_remove);
	g_clear_handle_id(&self->force_off_timer_id, g_source_remove);
	g_clear_handle_id(&self->drain_timer_id, g_source_remove);
	teardown_connection(self, "vessel-vmm ended before it answered");
	if (!self->run_guard) {
		/* A callback of a failed request disposed of us. */
		g_object_unref(self);
		return;
	}
	guard_revoke(&self->run_guard);
	log_file_close(self);
	if (WIFSIGNALED(status))
		remove_dead_socket(self);
	self->socket_owned = FALSE;
	g_clear_object(&self->subprocess);

	clean = self->force_off_requested || (WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!clean)
		message = describe_failure(self);
	g_clear_pointer(&self->fatal_message, g_free);
	set_error_message(self, message);
	set_state(self, clean ? VESSEL_VM_STATE_STOPPED : VESSEL_VM_STATE_ERROR);
	g_signal_emit(self, signals[SIGNAL_EXITED], 0, status);
	g_object_unref(self);
}

static gboolean on_drain_timeout(gpointer data)
{
	VesselVmProcess *self = data;

	/* Something the VMM started still holds the pipe: stop waiting for it. */
	self->drain_timer_id = 0;
	self->output_done = TRUE;
	finish_exit(self);
	return G_SOURCE_REMOVE;
}

static void on_process_wait(GObject *source, GAsyncResult *result, gpointer data)
{
	Guard *guard = data;
	g_autoptr(GError) error = NULL;
	gboolean waited = g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error);
	VesselVmProcess *self = guard->owner;

	guard_unref(guard);
	if (!self || !waited)
		return;	/* only cancellation makes the wait fail */
	self->process_exited = TRUE;
	self->wait_status = g_subprocess_get_status(G_SUBPROCESS(source));
	g_clear_handle_id(&self->connect_retry_id, g_source_remove);
	g_clear_handle_id(&self->force_off_timer_id, g_source_remove);
	if (self->output_done)
		finish_exit(self);
	else
		self->drain_timer_id = g_timeout_add(OUTPUT_DRAIN_MS, on_drain_timeout, self);
}

static gboolean on_force_off_timeout(gpointer data)
{
	VesselVmProcess *self = data;

	self->force_off_timer_id = 0;
	if (self->subprocess && !self->process_exited)
		g_subprocess_force_exit(self->subprocess);
	return G_SOURCE_REMOVE;
}

/* ---- public interface ---- */

VesselVmProcess *vessel_vm_process_new(const char *vmm_path, const char *profile_path,
				       const char *socket_path, const char *log_path)
{
	VesselVmProcess *self;

	g_return_val_if_fail(vmm_path != NULL, NULL);
	g_return_val_if_fail(socket_path != NULL, NULL);
	g_return_val_if_fail(log_path != NULL, NULL);

	self = g_object_new(VESSEL_TYPE_VM_PROCESS, NULL);
	self->vmm_path = g_strdup(vmm_path);
	self->profile_path = g_strdup(profile_path);
	self->socket_path = g_strdup(socket_path);
	self->log_path = g_strdup(log_path);
	return self;
}

/*
 * Runs in the child between fork and exec.  A VMM whose app is gone could
 * never be reached again (nothing reattaches to it), so it gets SIGTERM
 * when the app dies, even by SIGKILL or a crash; it then shuts down as for
 * any signal.  The getppid() check closes the race with an app that died
 * before prctl().
 */
static void end_with_parent(gpointer user_data)
{
	pid_t app_pid = (pid_t)GPOINTER_TO_INT(user_data);

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != app_pid)
		raise(SIGTERM);
}

gboolean vessel_vm_process_start(VesselVmProcess *self, const char *const *extra_args,
				 GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GError) spawn_error = NULL;
	LineReader *reader;
	const char *identifier;

	g_return_val_if_fail(VESSEL_IS_VM_PROCESS(self), FALSE);

	if (self->run_guard) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_BUSY, "The machine is already running");
		return FALSE;
	}

	g_ptr_array_add(argv, self->vmm_path);
	if (self->profile_path) {
		g_ptr_array_add(argv, (gpointer)"--profile");
		g_ptr_array_add(argv, self->profile_path);
	}
	g_ptr_array_add(argv, (gpointer)"--control");
	g_ptr_array_add(argv, self->socket_path);
	g_ptr_array_add(argv, (gpointer)"--serial");
	g_ptr_array_add(argv, (gpointer)"stdio");
	for (gsize i = 0; extra_args && extra_args[i]; i++)
		g_ptr_array_add(argv, (gpointer)extra_args[i]);
	g_ptr_array_add(argv, NULL);

	tail_clear(self);
	set_error_message(self, NULL);
	g_clear_pointer(&self->fatal_message, g_free);
	self->output_done = FALSE;
	self->process_exited = FALSE;
	self->wait_status = 0;
	self->force_off_requested = FALSE;
	self->socket_owned = FALSE;
	self->log_last_byte = '\n';
	log_file_open(self);

	/* Without a STDIN flag the VMM's stdin is /dev/null: the guest gets no input from us. */
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_subprocess_launcher_set_child_setup(launcher, end_with_parent,
					      GINT_TO_POINTER(getpid()), NULL);
	self->subprocess = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata,
							&spawn_error);
	if (!self->subprocess) {
		g_autofree char *line = g_strdup_printf("%s: %s\n", self->vmm_path, spawn_error->message);

		log_file_write(self, line, strlen(line));
		log_file_close(self);
		set_error_message(self, spawn_error->message);
		set_state(self, VESSEL_VM_STATE_ERROR);
		g_propagate_error(error, g_steal_pointer(&spawn_error));
		return FALSE;
	}
	identifier = g_subprocess_get_identifier(self->subprocess);
	self->pid = identifier ? (GPid)strtol(identifier, NULL, 10) : 0;
	self->run_guard = guard_new(self);

	reader = line_reader_new(self->run_guard, g_subprocess_get_stdout_pipe(self->subprocess),
				 OUTPUT_LINE_MAX_BYTES);
	reader->on_chunk = on_output_chunk;
	reader->on_line = on_output_line;
	reader->on_end = on_output_end;
	line_reader_read(reader);

	g_subprocess_wait_async(self->subprocess, self->run_guard->cancellable, on_process_wait,
				guard_ref(self->run_guard));

	self->connect_deadline_us = g_get_monotonic_time() + CONNECT_TIMEOUT_MS * G_GINT64_CONSTANT(1000);
	set_state(self, VESSEL_VM_STATE_STARTING);
	/* The socket appears once the VMM has set up; polling needs nothing from it. */
	try_connect(self);
	return TRUE;
}

VesselVmState vessel_vm_process_get_state(VesselVmProcess *self)
{
	g_return_val_if_fail(VESSEL_IS_VM_PROCESS(self), VESSEL_VM_STATE_STOPPED);
	return self->state;
}

const char *vessel_vm_process_get_error(VesselVmProcess *self)
{
	g_return_val_if_fail(VESSEL_IS_VM_PROCESS(self), NULL);
	return self->error_message;
}

char *vessel_vm_process_get_log_tail(VesselVmProcess *self, guint n)
{
	g_autoptr(GString) text = g_string_new(NULL);
	guint first;

	g_return_val_if_fail(VESSEL_IS_VM_PROCESS(self), NULL);
	first = self->tail_count - MIN(n, self->tail_count);
	for (guint i = first; i < self->tail_count; i++) {
		if (i > first)
			g_string_append_c(text, '\n');
		g_string_append(text, self->tail[(self->tail_start + i) % LOG_TAIL_LINES]);
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

void vessel_vm_process_execute_async(VesselVmProcess *self, const char *command,
				     JsonObject *arguments, GCancellable *cancellable,
				     GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(VESSEL_IS_VM_PROCESS(self));
	g_return_if_fail(command != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, vessel_vm_process_execute_async);
	if (!self->ready) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
					"The machine is not running");
		return;
	}
	/* A request once sent cannot be taken back: cancelling only drops its reply. */
	send_request(self, command, arguments, g_steal_pointer(&task), NULL);
}

JsonNode *vessel_vm_process_execute_finish(VesselVmProcess *self, GAsyncResult *result,
					   GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == vessel_vm_process_execute_async,
			     NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

void vessel_vm_process_force_off(VesselVmProcess *self)
{
	g_return_if_fail(VESSEL_IS_VM_PROCESS(self));

	if (!self->subprocess || self->process_exited || self->force_off_requested)
		return;
	self->force_off_requested = TRUE;
	set_state(self, VESSEL_VM_STATE_STOPPING);
	if (self->ready) {
		send_request(self, "quit", NULL, NULL, NULL);
		self->force_off_timer_id = g_timeout_add(FORCE_OFF_GRACE_MS, on_force_off_timeout, self);
	} else {
		g_subprocess_force_exit(self->subprocess);
	}
}

static void vessel_vm_process_dispose(GObject *object)
{
	VesselVmProcess *self = VESSEL_VM_PROCESS(object);

	g_clear_handle_id(&self->connect_retry_id, g_source_remove);
	g_clear_handle_id(&self->force_off_timer_id, g_source_remove);
	g_clear_handle_id(&self->drain_timer_id, g_source_remove);
	teardown_connection(self, "The machine was closed");
	/* The app owns its VMMs: none outlives the object that supervises it. */
	if (self->subprocess && !self->process_exited) {
		g_subprocess_force_exit(self->subprocess);
		remove_dead_socket(self);
	}
	guard_revoke(&self->run_guard);
	g_clear_object(&self->subprocess);
	log_file_close(self);

	G_OBJECT_CLASS(vessel_vm_process_parent_class)->dispose(object);
}

static void vessel_vm_process_finalize(GObject *object)
{
	VesselVmProcess *self = VESSEL_VM_PROCESS(object);

	tail_clear(self);
	g_free(self->error_message);
	g_free(self->fatal_message);
	g_free(self->vmm_path);
	g_free(self->profile_path);
	g_free(self->socket_path);
	g_free(self->log_path);

	G_OBJECT_CLASS(vessel_vm_process_parent_class)->finalize(object);
}

static void vessel_vm_process_get_property(GObject *object, guint prop_id, GValue *value,
					   GParamSpec *pspec)
{
	VesselVmProcess *self = VESSEL_VM_PROCESS(object);

	switch (prop_id) {
	case PROP_STATE:
		g_value_set_int(value, self->state);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void vessel_vm_process_class_init(VesselVmProcessClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vessel_vm_process_dispose;
	object_class->finalize = vessel_vm_process_finalize;
	object_class->get_property = vessel_vm_process_get_property;

	/* An int: the header declares VesselVmState without a GType. */
	properties[PROP_STATE] = g_param_spec_int("state", NULL, NULL,
						  VESSEL_VM_STATE_STOPPED, VESSEL_VM_STATE_ERROR,
						  VESSEL_VM_STATE_STOPPED,
						  G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
						  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	signals[SIGNAL_EVENT] = g_signal_new("event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					     0, NULL, NULL, NULL, G_TYPE_NONE, 2,
					     G_TYPE_STRING, JSON_TYPE_OBJECT);
	signals[SIGNAL_LOG_LINE] = g_signal_new("log-line", G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
						G_TYPE_NONE, 1, G_TYPE_STRING);
	signals[SIGNAL_EXITED] = g_signal_new("exited", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void vessel_vm_process_init(VesselVmProcess *self)
{
	self->state = VESSEL_VM_STATE_STOPPED;
	g_queue_init(&self->pending);
}
