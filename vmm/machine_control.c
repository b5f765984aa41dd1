/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "machine_control.h"

#include "error.h"

static JsonNode *object_node(JsonObject *object)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, object);
	return node;
}

static JsonNode *cmd_query_status(JsonObject *args, void *opaque, GError **error)
{
	struct machine *m = opaque;
	enum machine_status status = machine_get_status(m);
	JsonObject *result = json_object_new();

	json_object_set_string_member(result, "status",
				      status == MACHINE_STATUS_PAUSED ? "paused" :
				      status == MACHINE_STATUS_SHUTDOWN ? "shutdown" : "running");
	json_object_set_boolean_member(result, "running", status == MACHINE_STATUS_RUNNING);
	return object_node(result);
}

static JsonNode *cmd_stop(JsonObject *args, void *opaque, GError **error)
{
	machine_pause(opaque);
	return NULL;
}

static JsonNode *cmd_cont(JsonObject *args, void *opaque, GError **error)
{
	machine_resume(opaque);
	return NULL;
}

static JsonNode *cmd_system_reset(JsonObject *args, void *opaque, GError **error)
{
	machine_request_reset(opaque, "host-qmp-system-reset", false);
	return NULL;
}

static JsonNode *cmd_system_powerdown(JsonObject *args, void *opaque, GError **error)
{
	machine_request_powerdown(opaque);
	return NULL;
}

static JsonNode *cmd_quit(JsonObject *args, void *opaque, GError **error)
{
	machine_request_shutdown(opaque, 0, "host-qmp-quit", false);
	return NULL;
}

static JsonNode *cmd_pmemsave(JsonObject *args, void *opaque, GError **error)
{
	struct machine *m = opaque;
	gint64 addr = json_object_get_int_member(args, "val");
	gint64 size = json_object_get_int_member(args, "size");
	const char *filename = json_object_get_string_member(args, "filename");
	const struct guest_memory *mem = machine_memory(m);
	g_autofree uint8_t *copy = NULL;

	if (addr < 0 || size < 0 || (uint64_t)size > mem->ram_size_bytes) {
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
			    "pmemsave: address and size must be non-negative and the size at most the guest's memory");
		return NULL;
	}
	copy = g_try_malloc((gsize)size + 1);
	if (!copy || !guest_memory_read(mem, (uint64_t)addr, copy, (size_t)size)) {
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
			    "pmemsave: 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x is not guest RAM",
			    addr, size);
		return NULL;
	}
	/* Written to a temporary file and renamed: never a half-written dump. */
	g_file_set_contents(filename, (const char *)copy, (gssize)size, error);
	return NULL;
}

/* QEMU's screendump: {"filename": PATH, "format": "png"} (PNG is all we write). */
static JsonNode *cmd_screendump(JsonObject *args, void *opaque, GError **error)
{
	struct machine *m = opaque;
	const char *filename = json_object_get_string_member(args, "filename");
	const char *format = json_object_get_string_member_with_default(args, "format", "png");
	GError *local = NULL;

	if (g_strcmp0(format, "png") != 0) {
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
			    "screendump: format '%s' is not supported; use \"png\"", format);
		return NULL;
	}
	if (!display_screendump(machine_display(m), filename, &local)) {
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC, "screendump: %s", local->message);
		g_error_free(local);
	}
	return NULL;
}

static const struct control_arg no_args[] = { { NULL } };

static const struct control_arg screendump_args[] = {
	{ "filename", CONTROL_ARG_STRING, false },
	{ "format", CONTROL_ARG_STRING, true },
	{ NULL },
};

static const struct control_arg pmemsave_args[] = {
	{ "val", CONTROL_ARG_INT, false },
	{ "size", CONTROL_ARG_INT, false },
	{ "filename", CONTROL_ARG_STRING, false },
	{ NULL },
};

static void forward_event(void *opaque, const char *name, JsonObject *data)
{
	control_server_emit_event(opaque, name, data);
}

void machine_control_register(struct control_server *server, struct machine *machine)
{
	control_server_add_command(server, "query-status", no_args, cmd_query_status, machine);
	control_server_add_command(server, "stop", no_args, cmd_stop, machine);
	control_server_add_command(server, "cont", no_args, cmd_cont, machine);
	control_server_add_command(server, "system_reset", no_args, cmd_system_reset, machine);
	control_server_add_command(server, "system_powerdown", no_args, cmd_system_powerdown, machine);
	control_server_add_command(server, "quit", no_args, cmd_quit, machine);
	control_server_add_command(server, "pmemsave", pmemsave_args, cmd_pmemsave, machine);
	control_server_add_command(server, "screendump", screendump_args, cmd_screendump, machine);
	machine_set_event_handler(machine, forward_event, server);
}
