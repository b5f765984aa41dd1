/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The app's VM supervisor (app/vm_process.c) driving the real vessel-vmm
 * on the demo test guest, and stand-ins that crash, fail, print a lot, never
 * open the socket or speak garbage on it (fake-vmm.py).
 *
 * Environment (tests/supervisor/meson.build): VESSEL_VMM, VESSEL_GUEST_DEMO,
 * VESSEL_FAKE_VMM, VESSEL_PYTHON.
 */
#include "vm_process.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

typedef struct {
	char *dir;
	char *socket_path;
	char *log_path;
	VesselVmProcess *vm;
	GPtrArray *states;	/* every state from notify::state, as GINT_TO_POINTER */
	GPtrArray *events;	/* event names */
	GPtrArray *lines;	/* every log-line */
	gboolean lines_valid;
	gboolean exited;
	int exit_status;
} Fixture;

static void on_state(GObject *object, GParamSpec *pspec, gpointer data)
{
	Fixture *f = data;

	g_ptr_array_add(f->states, GINT_TO_POINTER(vessel_vm_process_get_state(f->vm)));
}

static void on_event(VesselVmProcess *vm, const char *name, JsonObject *event_data, gpointer data)
{
	Fixture *f = data;

	g_assert_nonnull(event_data);
	g_ptr_array_add(f->events, g_strdup(name));
}

static void on_log_line(VesselVmProcess *vm, const char *line, gpointer data)
{
	Fixture *f = data;

	if (!g_utf8_validate(line, -1, NULL))
		f->lines_valid = FALSE;
	g_ptr_array_add(f->lines, g_strdup(line));
}

static void on_exited(VesselVmProcess *vm, int status, gpointer data)
{
	Fixture *f = data;

	/* "exited" comes after the state has its final value. */
	g_assert_cmpint(vessel_vm_process_get_state(vm), !=, VESSEL_VM_STATE_STARTING);
	g_assert_cmpint(vessel_vm_process_get_state(vm), !=, VESSEL_VM_STATE_RUNNING);
	f->exited = TRUE;
	f->exit_status = status;
}

/* A new supervisor for vmm_path (the previous one is dropped); records reset. */
static void fixture_new_vm(Fixture *f, const char *vmm_path)
{
	g_clear_object(&f->vm);
	g_ptr_array_set_size(f->states, 0);
	g_ptr_array_set_size(f->events, 0);
	g_ptr_array_set_size(f->lines, 0);
	f->lines_valid = TRUE;
	f->exited = FALSE;
	f->exit_status = -1;
	f->vm = vessel_vm_process_new(vmm_path, NULL, f->socket_path, f->log_path);
	g_signal_connect(f->vm, "notify::state", G_CALLBACK(on_state), f);
	g_signal_connect(f->vm, "event", G_CALLBACK(on_event), f);
	g_signal_connect(f->vm, "log-line", G_CALLBACK(on_log_line), f);
	g_signal_connect(f->vm, "exited", G_CALLBACK(on_exited), f);
	g_assert_cmpint(vessel_vm_process_get_state(f->vm), ==, VESSEL_VM_STATE_STOPPED);
}

static void fixture_set_up(Fixture *f, const char *vmm_path)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("vessel-vm-process-XXXXXX", &error);
	g_assert_no_error(error);
	g_assert_no_errno(chmod(f->dir, 0700));
	f->socket_path = g_build_filename(f->dir, "control.sock", NULL);
	f->log_path = g_build_filename(f->dir, "run.log", NULL);
	f->states = g_ptr_array_new();
	f->events = g_ptr_array_new_with_free_func(g_free);
	f->lines = g_ptr_array_new_with_free_func(g_free);
	fixture_new_vm(f, vmm_path);
}

static void remove_tree(const char *dir)
{
	g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
	const char *name;

	while (listing && (name = g_dir_read_name(listing))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		g_unlink(path);
	}
	g_rmdir(dir);
}

static void fixture_tear_down(Fixture *f)
{
	g_clear_object(&f->vm);
	g_ptr_array_unref(f->states);
	g_ptr_array_unref(f->events);
	g_ptr_array_unref(f->lines);
	remove_tree(f->dir);
	g_free(f->socket_path);
	g_free(f->log_path);
	g_free(f->dir);
}

/* ---- waiting on the main loop ---- */

static gboolean on_deadline(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

typedef gboolean (*Condition)(Fixture *f, gconstpointer arg);

static gboolean on_poll(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

/* Runs the main loop until condition holds; it is checked at least every 10 ms. */
static gboolean wait_until(Fixture *f, Condition condition, gconstpointer arg, guint timeout_ms)
{
	gboolean expired = FALSE;
	guint deadline = g_timeout_add(timeout_ms, on_deadline, &expired);
	guint poll = g_timeout_add(10, on_poll, NULL);

	while (!condition(f, arg) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(deadline);
	g_source_remove(poll);
	return condition(f, arg);
}

static gboolean state_is(Fixture *f, gconstpointer state)
{
	return vessel_vm_process_get_state(f->vm) == (VesselVmState)GPOINTER_TO_INT(state);
}

static gboolean has_exited(Fixture *f, gconstpointer unused)
{
	return f->exited;
}

static gboolean saw_line(Fixture *f, gconstpointer text)
{
	for (guint i = 0; i < f->lines->len; i++)
		if (strstr(g_ptr_array_index(f->lines, i), text))
			return TRUE;
	return FALSE;
}

static gboolean saw_event(Fixture *f, gconstpointer name)
{
	for (guint i = 0; i < f->events->len; i++)
		if (g_str_equal(g_ptr_array_index(f->events, i), name))
			return TRUE;
	return FALSE;
}

static void wait_for_state(Fixture *f, VesselVmState state, guint timeout_ms)
{
	if (!wait_until(f, state_is, GINT_TO_POINTER(state), timeout_ms)) {
		g_autofree char *tail = vessel_vm_process_get_log_tail(f->vm, 20);

		g_test_message("state %d, error '%s', log tail:\n%s", vessel_vm_process_get_state(f->vm),
			       vessel_vm_process_get_error(f->vm), tail);
		g_assert_cmpint(vessel_vm_process_get_state(f->vm), ==, state);
	}
}

static void wait_for_exit(Fixture *f, guint timeout_ms)
{
	g_assert_true(wait_until(f, has_exited, NULL, timeout_ms));
}

typedef struct {
	gboolean done;
	JsonNode *result;
	GError *error;
} Reply;

static gboolean reply_done(Fixture *f, gconstpointer reply)
{
	return ((const Reply *)reply)->done;
}

static void on_reply(GObject *source, GAsyncResult *result, gpointer data)
{
	Reply *reply = data;

	reply->result = vessel_vm_process_execute_finish(VESSEL_VM_PROCESS(source), result, &reply->error);
	reply->done = TRUE;
}

/* Runs a command to its reply; exactly one of result and *error is set. */
static JsonNode *execute(Fixture *f, const char *command, JsonObject *arguments, GError **error)
{
	Reply reply = { 0 };

	vessel_vm_process_execute_async(f->vm, command, arguments, NULL, on_reply, &reply);
	g_assert_true(wait_until(f, reply_done, &reply, 10000));
	g_assert_true((reply.result == NULL) != (reply.error == NULL));
	if (reply.error)
		g_propagate_error(error, reply.error);
	return reply.result;
}

static void execute_ok(Fixture *f, const char *command)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) result = execute(f, command, NULL, &error);

	g_assert_no_error(error);
	/* Commands with nothing to say answer {}. */
	g_assert_true(JSON_NODE_HOLDS_OBJECT(result));
}

/* ---- helpers for processes ---- */

static char *write_script(Fixture *f, const char *name, const char *body)
{
	char *path = g_build_filename(f->dir, name, NULL);
	g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
	g_assert_no_errno(chmod(path, 0700));
	return path;
}

/* A wrapper that records its pid and execs vmm: the pid stays the VMM's. */
static char *write_pid_wrapper(Fixture *f, const char *vmm, char **pid_file)
{
	g_autofree char *quoted_vmm = g_shell_quote(vmm);
	g_autofree char *quoted_pid = NULL;
	g_autofree char *body = NULL;

	*pid_file = g_build_filename(f->dir, "vmm.pid", NULL);
	quoted_pid = g_shell_quote(*pid_file);
	body = g_strdup_printf("echo $$ > %s\nexec %s \"$@\"", quoted_pid, quoted_vmm);
	return write_script(f, "vmm-wrapper", body);
}

static pid_t read_pid(const char *pid_file)
{
	g_autofree char *text = NULL;

	/* 0 until the wrapper has written it. */
	if (!g_file_get_contents(pid_file, &text, NULL, NULL))
		return 0;
	return (pid_t)g_ascii_strtoll(text, NULL, 10);
}

/* Our child is reaped by GLib's worker thread; until then kill(0) still finds a zombie. */
static gboolean pid_gone(Fixture *f, gconstpointer pid)
{
	return kill((pid_t)GPOINTER_TO_INT(pid), 0) < 0 && errno == ESRCH;
}

static void start(Fixture *f, const char *const *args)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(vessel_vm_process_start(f->vm, args, &error));
	g_assert_no_error(error);
	g_assert_cmpint(vessel_vm_process_get_state(f->vm), ==, VESSEL_VM_STATE_STARTING);
}

static char *read_log(Fixture *f)
{
	char *text = NULL;

	g_assert_true(g_file_get_contents(f->log_path, &text, NULL, NULL));
	return text;
}

static const char *require_env(const char *name)
{
	const char *value = g_getenv(name);

	if (!value || !*value) {
		g_test_skip_printf("%s is not set (run through meson test)", name);
		return NULL;
	}
	return value;
}

/* ---- the real VMM ---- */

static void test_lifecycle(gconstpointer data)
{
	const char *accel = data;
	const char *vmm = require_env("VESSEL_VMM");
	const char *demo = require_env("VESSEL_GUEST_DEMO");
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) status = NULL;
	g_autoptr(JsonObject) arguments = NULL;
	g_autofree char *log = NULL;

	if (!vmm || !demo)
		return;
	if (g_str_equal(accel, "kvm") && access("/dev/kvm", R_OK | W_OK) != 0) {
		g_test_skip("/dev/kvm is not there");
		return;
	}
	/* Not --no-reboot: system_reset would end the VMM. */
	const char *args[] = { "--accel", accel, "--memory", "64M", "--kernel", demo,
			       "--display", "none", NULL };

	fixture_set_up(&f, vmm);
	/* Twice on one object: a supervisor can start its machine again. */
	for (int run = 0; run < 2; run++) {
		f.exited = FALSE;
		g_ptr_array_set_size(f.events, 0);
		g_ptr_array_set_size(f.lines, 0);
		start(&f, args);
		wait_for_state(&f, VESSEL_VM_STATE_RUNNING, 20000);
		g_assert_null(vessel_vm_process_get_error(f.vm));
		g_assert_true(wait_until(&f, saw_line, "Vessel demo guest", 10000));

		status = execute(&f, "query-status", NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(json_object_get_string_member(json_node_get_object(status), "status"),
				==, "running");
		g_clear_pointer(&status, json_node_unref);

		/* STOP arrives before the reply to stop (docs/control-protocol.md). */
		execute_ok(&f, "stop");
		g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_PAUSED);
		g_assert_true(saw_event(&f, "STOP"));
		execute_ok(&f, "cont");
		g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_RUNNING);
		g_assert_true(saw_event(&f, "RESUME"));

		execute_ok(&f, "system_reset");
		g_assert_true(wait_until(&f, saw_event, "RESET", 5000));
		g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_RUNNING);

		/* A request cancelled before its reply reports the cancellation. */
		{
			g_autoptr(GCancellable) cancellable = g_cancellable_new();
			Reply reply = { 0 };

			vessel_vm_process_execute_async(f.vm, "query-status", NULL, cancellable,
							on_reply, &reply);
			g_cancellable_cancel(cancellable);
			g_assert_true(wait_until(&f, reply_done, &reply, 10000));
			g_assert_null(reply.result);
			g_assert_error(reply.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
			g_clear_error(&reply.error);
		}

		status = execute(&f, "no-such-command", NULL, &error);
		g_assert_null(status);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
		g_assert_cmpstr(error->message, ==, "The command no-such-command has not been found");
		g_clear_error(&error);

		/* Arguments reach the VMM. */
		arguments = json_object_new();
		json_object_set_int_member(arguments, "bogus", 1);
		status = execute(&f, "stop", arguments, &error);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
		g_assert_cmpstr(error->message, ==, "Parameter 'bogus' is unexpected");
		g_clear_error(&error);
		g_clear_pointer(&arguments, json_object_unref);
		g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_RUNNING);

		/* A second start while it runs is refused. */
		g_assert_false(vessel_vm_process_start(f.vm, args, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
		g_clear_error(&error);

		vessel_vm_process_force_off(f.vm);
		g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_STOPPING);
		wait_for_exit(&f, 10000);
		g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_STOPPED);
		g_assert_null(vessel_vm_process_get_error(f.vm));
		/* It obeyed quit (status 0), it was not killed after the grace time. */
		g_assert_true(WIFEXITED(f.exit_status));
		g_assert_cmpint(WEXITSTATUS(f.exit_status), ==, 0);
		g_assert_true(saw_event(&f, "SHUTDOWN"));
		/* The VMM removed its socket on the way out. */
		g_assert_false(g_file_test(f.socket_path, G_FILE_TEST_EXISTS));

		status = execute(&f, "query-status", NULL, &error);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
		g_assert_cmpstr(error->message, ==, "The machine is not running");
		g_clear_error(&error);
	}

	/* The state went through every step, for both runs. */
	const VesselVmState expected[] = {
		VESSEL_VM_STATE_STARTING, VESSEL_VM_STATE_RUNNING, VESSEL_VM_STATE_PAUSED,
		VESSEL_VM_STATE_RUNNING, VESSEL_VM_STATE_STOPPING, VESSEL_VM_STATE_STOPPED,
	};
	g_assert_cmpuint(f.states->len, ==, 2 * G_N_ELEMENTS(expected));
	for (guint i = 0; i < f.states->len; i++)
		g_assert_cmpint(GPOINTER_TO_INT(g_ptr_array_index(f.states, i)), ==,
				expected[i % G_N_ELEMENTS(expected)]);

	log = read_log(&f);
	g_assert_true(g_str_has_prefix(log, "--- vessel-vmm started "));
	/* Both runs: a header, then the guest's output. */
	g_assert_nonnull(strstr(strstr(log, "Vessel demo guest"), "\n--- vessel-vmm started "));
	g_assert_nonnull(strstr(g_strrstr(log, "\n--- vessel-vmm started "), "Vessel demo guest"));
	fixture_tear_down(&f);
}

static void test_vmm_error(void)
{
	const char *vmm = require_env("VESSEL_VMM");
	const char *args[] = { "--accel", "tcg", "--memory", "64M",
			       "--kernel", "/nonexistent/vessel-test/kernel.elf", NULL };
	Fixture f = { 0 };
	g_autofree char *tail = NULL;
	const char *error_line;

	if (!vmm)
		return;
	fixture_set_up(&f, vmm);
	start(&f, args);
	wait_for_exit(&f, 20000);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_ERROR);
	g_assert_true(WIFEXITED(f.exit_status) && WEXITSTATUS(f.exit_status) != 0);

	/* The message is the VMM's own error line, without its prefix. */
	tail = vessel_vm_process_get_log_tail(f.vm, 100);
	error_line = strstr(tail, "vessel-vmm: error: ");
	g_assert_nonnull(error_line);
	g_assert_true(g_str_has_prefix(error_line + strlen("vessel-vmm: error: "),
				       vessel_vm_process_get_error(f.vm)));
	g_assert_nonnull(strstr(vessel_vm_process_get_error(f.vm), "/nonexistent/vessel-test/kernel.elf"));
	fixture_tear_down(&f);
}

/* ---- stand-ins ---- */

static void test_spawn_failure(void)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;

	fixture_set_up(&f, "/nonexistent/vessel-test/vessel-vmm");
	g_assert_false(vessel_vm_process_start(f.vm, NULL, &error));
	g_assert_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_ERROR);
	g_assert_cmpstr(vessel_vm_process_get_error(f.vm), ==, error->message);
	g_assert_false(f.exited);
	fixture_tear_down(&f);
}

static void test_command_line(void)
{
	Fixture f = { 0 };
	g_autofree char *script = NULL;
	g_autofree char *expected = NULL;
	g_autofree char *tail = NULL;
	const char *args[] = { "--accel", "tcg", "two words", NULL };

	/* Prints its arguments one per line, as the VMM would receive them. */
	fixture_set_up(&f, "/bin/sh");
	script = write_script(&f, "args", "for arg; do echo \"[$arg]\"; done");
	g_clear_object(&f.vm);
	f.vm = vessel_vm_process_new(script, "/some/machine.ini", f.socket_path, f.log_path);
	g_signal_connect(f.vm, "exited", G_CALLBACK(on_exited), &f);
	start(&f, args);
	wait_for_exit(&f, 5000);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_STOPPED);
	expected = g_strdup_printf("[--profile]\n[/some/machine.ini]\n[--control]\n[%s]\n"
				   "[--serial]\n[stdio]\n[--accel]\n[tcg]\n[two words]",
				   f.socket_path);
	tail = vessel_vm_process_get_log_tail(f.vm, 100);
	g_assert_cmpstr(tail, ==, expected);
	fixture_tear_down(&f);
}

static void test_crash(void)
{
	Fixture f = { 0 };
	g_autofree char *script = NULL;
	g_autofree char *tail = NULL;
	g_autofree char *log = NULL;

	fixture_set_up(&f, "/bin/sh");
	script = write_script(&f, "crash", "echo booting\necho 'vessel-vmm: warning: not an error'\n"
				 "echo 'last words'\nkill -SEGV $$\nsleep 10");
	fixture_new_vm(&f, script);
	start(&f, NULL);
	wait_for_exit(&f, 10000);

	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_ERROR);
	g_assert_true(WIFSIGNALED(f.exit_status));
	g_assert_cmpint(WTERMSIG(f.exit_status), ==, SIGSEGV);
	g_assert_true(g_str_has_prefix(vessel_vm_process_get_error(f.vm),
				       "vessel-vmm was killed by signal SIGSEGV ("));
	/* Everything printed before the crash is in, in order. */
	tail = vessel_vm_process_get_log_tail(f.vm, 2);
	g_assert_cmpstr(tail, ==, "vessel-vmm: warning: not an error\nlast words");
	g_clear_pointer(&tail, g_free);
	tail = vessel_vm_process_get_log_tail(f.vm, 100);
	g_assert_cmpstr(tail, ==, "booting\nvessel-vmm: warning: not an error\nlast words");
	log = read_log(&f);
	g_assert_nonnull(strstr(log, " ---\nbooting\nvessel-vmm: warning: not an error\nlast words\n"));
	fixture_tear_down(&f);
}

static void test_exit_status(void)
{
	Fixture f = { 0 };
	g_autofree char *script = NULL;

	/* Exits without ever opening the socket: an error, not a hang. */
	fixture_set_up(&f, "/bin/sh");
	script = write_script(&f, "exit3", "echo 'about to fail'\nsleep 0.2\nexit 3");
	fixture_new_vm(&f, script);
	start(&f, NULL);
	wait_for_exit(&f, 5000);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_ERROR);
	g_assert_cmpstr(vessel_vm_process_get_error(f.vm), ==, "vessel-vmm ended with status 3");

	/* An error line wins over the status. */
	g_free(script);
	script = write_script(&f, "error-line",
			      "echo 'vessel-vmm: error: first problem'\n"
			      "echo 'vessel-vmm: error: /dev/kvm: permission denied — add your user to the kvm group'\n"
			      "echo 'vessel-vmm: shutting down'\nexit 1");
	fixture_new_vm(&f, script);
	start(&f, NULL);
	wait_for_exit(&f, 5000);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_ERROR);
	g_assert_cmpstr(vessel_vm_process_get_error(f.vm), ==,
			"/dev/kvm: permission denied — add your user to the kvm group");

	/* Status 0 is a clean end even without a socket. */
	fixture_new_vm(&f, "/bin/true");
	start(&f, NULL);
	wait_for_exit(&f, 5000);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_STOPPED);
	g_assert_null(vessel_vm_process_get_error(f.vm));

	fixture_new_vm(&f, "/bin/false");
	start(&f, NULL);
	wait_for_exit(&f, 5000);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_ERROR);
	g_assert_cmpstr(vessel_vm_process_get_error(f.vm), ==, "vessel-vmm ended with status 1");
	fixture_tear_down(&f);
}

static void test_no_socket(void)
{
	Fixture f = { 0 };
	g_autofree char *script = NULL;
	gint64 started;

	/* Runs on but never listens: given up after 10 s, killed, an error. */
	fixture_set_up(&f, "/bin/sh");
	script = write_script(&f, "silent", "echo 'waiting forever'\nexec sleep 60");
	fixture_new_vm(&f, script);
	started = g_get_monotonic_time();
	start(&f, NULL);
	wait_for_exit(&f, 15000);
	g_assert_cmpint(g_get_monotonic_time() - started, >=, 9 * G_USEC_PER_SEC);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_ERROR);
	g_assert_true(WIFSIGNALED(f.exit_status));
	g_assert_true(g_str_has_prefix(vessel_vm_process_get_error(f.vm),
				       "vessel-vmm did not open its control socket "));
	fixture_tear_down(&f);
}

static void test_chatty(void)
{
	Fixture f = { 0 };
	g_autofree char *script = NULL;
	g_autofree char *tail = NULL;
	g_autofree char *log = NULL;
	g_autofree char *long_line = NULL;
	g_autofree char *expected_numbers = NULL;
	g_autoptr(GString) numbers = g_string_new(NULL);
	g_autofree char *log_bytes = NULL;
	gsize log_size;
	static const char expected_end[] = "nul\0byte\nno newline at the end\n";
	gsize long_seen = 0;
	guint n;

	/*
	 * 200000 lines as fast as the pipe takes them, a 20000-byte line,
	 * invalid UTF-8 and a NUL, and a last line without its newline.
	 */
	fixture_set_up(&f, "/bin/sh");
	script = write_script(&f, "chatty",
			      "seq 1 200000\n"
			      "head -c 20000 /dev/zero | tr '\\000' x; echo\n"
			      "printf 'bad \\377\\376 bytes\\r\\n'\n"
			      "printf 'nul\\000byte\\n'\n"
			      "printf 'no newline at the end'");
	fixture_new_vm(&f, script);
	start(&f, NULL);
	wait_for_exit(&f, 60000);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_STOPPED);

	g_assert_true(f.lines_valid);
	for (n = 0; n < 200000; n++) {
		char expected[16];

		g_snprintf(expected, sizeof(expected), "%u", n + 1);
		g_assert_cmpstr(g_ptr_array_index(f.lines, n), ==, expected);
	}
	/* The long line arrives split, every byte of it. */
	for (; n < f.lines->len && ((char *)g_ptr_array_index(f.lines, n))[0] == 'x'; n++) {
		const char *piece = g_ptr_array_index(f.lines, n);

		g_assert_cmpuint(strspn(piece, "x"), ==, strlen(piece));
		g_assert_cmpuint(strlen(piece), <=, 16384);
		long_seen += strlen(piece);
	}
	g_assert_cmpuint(long_seen, ==, 20000);
	g_assert_cmpuint(f.lines->len, ==, n + 3);
	g_assert_cmpstr(g_ptr_array_index(f.lines, n), ==, "bad \xef\xbf\xbd\xef\xbf\xbd bytes");
	g_assert_cmpstr(g_ptr_array_index(f.lines, n + 1), ==, "nul\xef\xbf\xbd" "byte");
	g_assert_cmpstr(g_ptr_array_index(f.lines, n + 2), ==, "no newline at the end");

	tail = vessel_vm_process_get_log_tail(f.vm, 2);
	g_assert_cmpstr(tail, ==, "nul\xef\xbf\xbd" "byte\nno newline at the end");
	g_clear_pointer(&tail, g_free);
	tail = vessel_vm_process_get_log_tail(f.vm, 1000);
	g_assert_cmpuint(strlen(tail), >, 20000);
	g_assert_true(g_str_has_suffix(tail, "\nno newline at the end"));

	/* The log holds the bytes exactly as printed, and a final newline. */
	log = read_log(&f);
	for (n = 1; n <= 200000; n++)
		g_string_append_printf(numbers, "%u\n", n);
	g_assert_nonnull(strstr(log, numbers->str));
	long_line = g_strnfill(20000, 'x');
	g_assert_nonnull(strstr(log, long_line));
	g_assert_nonnull(strstr(log, "bad \377\376 bytes\r\nnul"));
	/* (The NUL byte ends the C string: compare the file's last bytes.) */
	g_assert_true(g_file_get_contents(f.log_path, &log_bytes, &log_size, NULL));
	g_assert_cmpuint(log_size, >, sizeof(expected_end));
	g_assert_cmpmem(log_bytes + log_size - (sizeof(expected_end) - 1), sizeof(expected_end) - 1,
			expected_end, sizeof(expected_end) - 1);
	fixture_tear_down(&f);
}

static void test_dispose_kills(gconstpointer data)
{
	gboolean while_starting = GPOINTER_TO_INT(data);
	const char *vmm = require_env("VESSEL_VMM");
	const char *demo = require_env("VESSEL_GUEST_DEMO");
	Fixture f = { 0 };
	g_autofree char *pid_file = NULL;
	g_autofree char *wrapper = NULL;
	pid_t pid;

	if (!vmm || !demo)
		return;
	const char *args[] = { "--accel", "tcg", "--memory", "64M", "--kernel", demo,
			       "--display", "none", NULL };

	fixture_set_up(&f, vmm);
	wrapper = write_pid_wrapper(&f, vmm, &pid_file);
	fixture_new_vm(&f, wrapper);
	start(&f, args);
	if (while_starting) {
		/*
		 * Without iterating the main loop: the first connection attempt
		 * and the output read are still pending at the unref.
		 */
		for (int i = 0; i < 5000 && (pid = read_pid(pid_file)) <= 0; i++)
			g_usleep(1000);
	} else {
		wait_for_state(&f, VESSEL_VM_STATE_RUNNING, 20000);
		pid = read_pid(pid_file);
	}
	g_assert_cmpint(pid, >, 0);
	g_assert_cmpint(kill(pid, 0), ==, 0);

	g_clear_object(&f.vm);
	/* Pending callbacks run now and must find nothing to touch. */
	g_assert_true(wait_until(&f, pid_gone, GINT_TO_POINTER(pid), 5000));
	if (!while_starting) {
		/* A VMM killed by SIGKILL leaves its socket; the supervisor removed it. */
		g_assert_false(g_file_test(f.socket_path, G_FILE_TEST_EXISTS));
	}
	fixture_tear_down(&f);
}

/*
 * The app dies (SIGKILL, a crash) with a machine running: nothing could
 * ever reach that VMM again, so it must end too (PR_SET_PDEATHSIG).  The
 * "app" is a subprocess of this test that starts a VMM and kills itself.
 */
static gboolean pid_ended(Fixture *f, gconstpointer pid)
{
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", GPOINTER_TO_INT(pid));
	g_autofree char *stat = NULL;
	const char *state;

	if (pid_gone(f, pid) || !g_file_get_contents(stat_path, &stat, NULL, NULL))
		return TRUE;
	/* Reparented and not reaped yet (a container's PID 1 may never reap): a zombie has ended. */
	state = strrchr(stat, ')');
	return state && state[1] == ' ' && state[2] == 'Z';
}

static void test_app_killed(void)
{
	const char *vmm = require_env("VESSEL_VMM");
	const char *demo = require_env("VESSEL_GUEST_DEMO");

	if (!vmm || !demo)
		return;
	if (g_test_subprocess()) {
		const char *args[] = { "--accel", "tcg", "--memory", "64M", "--kernel", demo,
				       "--display", "none", NULL };
		Fixture f = { 0 };
		g_autofree char *pid_file = NULL;
		g_autofree char *wrapper = NULL;
		g_autofree char *pid_text = NULL;

		fixture_set_up(&f, vmm);
		wrapper = write_pid_wrapper(&f, vmm, &pid_file);
		fixture_new_vm(&f, wrapper);
		start(&f, args);
		wait_for_state(&f, VESSEL_VM_STATE_RUNNING, 20000);
		pid_text = g_strdup_printf("%d", read_pid(pid_file));
		g_assert_true(g_file_set_contents(g_getenv("VESSEL_TEST_VMM_PID"), pid_text, -1, NULL));
		raise(SIGKILL);
		return;
	}

	{
		g_autofree char *dir = g_dir_make_tmp("vessel-app-killed-XXXXXX", NULL);
		g_autofree char *pid_path = g_build_filename(dir, "vmm.pid", NULL);
		Fixture f = { 0 };
		pid_t pid;

		g_setenv("VESSEL_TEST_VMM_PID", pid_path, TRUE);
		g_test_trap_subprocess(NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
		g_test_trap_assert_failed();
		pid = read_pid(pid_path);
		g_assert_cmpint(pid, >, 0);
		g_assert_true(wait_until(&f, pid_ended, GINT_TO_POINTER(pid), 5000));
		g_unlink(pid_path);
		g_rmdir(dir);
	}
}

static char *fake_vmm_wrapper(Fixture *f, const char *mode)
{
	const char *fake = require_env("VESSEL_FAKE_VMM");
	const char *python = require_env("VESSEL_PYTHON");
	g_autofree char *quoted_fake = NULL;
	g_autofree char *quoted_python = NULL;
	g_autofree char *body = NULL;

	if (!fake || !python)
		return NULL;
	quoted_fake = g_shell_quote(fake);
	quoted_python = g_shell_quote(python);
	body = g_strdup_printf("exec %s %s --mode %s \"$@\"", quoted_python, quoted_fake, mode);
	return write_script(f, "fake-vmm", body);
}

static void test_garbage_control(void)
{
	Fixture f = { 0 };
	g_autofree char *wrapper = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) result = NULL;
	gint64 started;

	fixture_set_up(&f, "/bin/sh");
	wrapper = fake_vmm_wrapper(&f, "garbage");
	if (!wrapper) {
		fixture_tear_down(&f);
		return;
	}
	fixture_new_vm(&f, wrapper);
	start(&f, NULL);
	/* Garbage before the status reply is skipped; the status says paused. */
	wait_for_state(&f, VESSEL_VM_STATE_PAUSED, 20000);

	result = execute(&f, "reset-me", NULL, &error);
	g_assert_no_error(error);
	g_assert_true(json_object_get_boolean_member(json_node_get_object(result), "done"));
	g_assert_true(saw_event(&f, "RESET"));
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_PAUSED);
	/* The STOP event amid the garbage came with bad data: still an event, data {}. */
	g_assert_true(saw_event(&f, "STOP"));

	g_clear_pointer(&result, json_node_unref);
	result = execute(&f, "hang-up", NULL, &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
	g_assert_nonnull(strstr(error->message, "closed the control connection"));
	g_clear_error(&error);
	g_assert_false(f.exited);
	result = execute(&f, "query-status", NULL, &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
	g_clear_error(&error);

	/* No socket to ask: force off kills at once. */
	started = g_get_monotonic_time();
	vessel_vm_process_force_off(f.vm);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_STOPPING);
	wait_for_exit(&f, 5000);
	g_assert_cmpint(g_get_monotonic_time() - started, <, 2 * G_USEC_PER_SEC);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_STOPPED);
	g_assert_true(WIFSIGNALED(f.exit_status));
	g_assert_cmpint(WTERMSIG(f.exit_status), ==, SIGKILL);
	g_assert_true(saw_line(&f, "fake-vmm: hanging up"));
	fixture_tear_down(&f);
}

static void test_bad_greeting(void)
{
	Fixture f = { 0 };
	g_autofree char *wrapper = NULL;

	fixture_set_up(&f, "/bin/sh");
	wrapper = fake_vmm_wrapper(&f, "greeting");
	if (!wrapper) {
		fixture_tear_down(&f);
		return;
	}
	fixture_new_vm(&f, wrapper);
	start(&f, NULL);
	wait_for_exit(&f, 8000);
	g_assert_cmpint(vessel_vm_process_get_state(f.vm), ==, VESSEL_VM_STATE_ERROR);
	g_assert_cmpstr(vessel_vm_process_get_error(f.vm), ==,
			"vessel-vmm's control socket did not greet as expected; it sent “hello, I am not a VMM”");
	fixture_tear_down(&f);
}

static void ignore_message(const char *domain, GLogLevelFlags level, const char *message,
			   gpointer data)
{
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* GSocketClient's debug lines for every connection attempt drown the log. */
	g_log_set_handler("GLib-GIO", G_LOG_LEVEL_DEBUG, ignore_message, NULL);

	g_test_add_data_func("/vm-process/lifecycle/kvm", "kvm", test_lifecycle);
	g_test_add_data_func("/vm-process/lifecycle/tcg", "tcg", test_lifecycle);
	g_test_add_func("/vm-process/vmm-error", test_vmm_error);
	g_test_add_func("/vm-process/spawn-failure", test_spawn_failure);
	g_test_add_func("/vm-process/command-line", test_command_line);
	g_test_add_func("/vm-process/crash", test_crash);
	g_test_add_func("/vm-process/exit-status", test_exit_status);
	g_test_add_func("/vm-process/no-socket", test_no_socket);
	g_test_add_func("/vm-process/chatty", test_chatty);
	g_test_add_data_func("/vm-process/dispose/running", GINT_TO_POINTER(FALSE), test_dispose_kills);
	g_test_add_data_func("/vm-process/dispose/starting", GINT_TO_POINTER(TRUE), test_dispose_kills);
	g_test_add_func("/vm-process/app-killed", test_app_killed);
	g_test_add_func("/vm-process/garbage-control", test_garbage_control);
	g_test_add_func("/vm-process/bad-greeting", test_bad_greeting);
	return g_test_run();
}
