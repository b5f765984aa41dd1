/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vessel-vmm: one virtual machine per process.  The main thread runs the
 * machine's lifecycle, or, with --display sdl, the window (SDL wants the
 * main thread) while a "machine" thread runs the lifecycle; an I/O thread
 * runs a GLib main context for the control socket, the serial console's
 * stdin and signals; each vCPU has a thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "console.h"
#include "control.h"
#include "log.h"
#include "machine.h"
#include "machine_control.h"
#include "options.h"
#include "sdl.h"
#include "spice_display.h"

struct io_thread {
	GMainContext *context;
	GMainLoop *loop;
	GThread *thread;
};

/*
 * Quitting from inside the loop: g_main_loop_quit() from another thread is
 * lost if the loop has not started running yet.
 */
static gboolean io_thread_quit(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

static gpointer io_thread_main(gpointer data)
{
	struct io_thread *io = data;

	g_main_context_push_thread_default(io->context);
	g_main_loop_run(io->loop);
	g_main_context_pop_thread_default(io->context);
	return NULL;
}

struct signal_watch {
	struct machine *machine;
	int signo;
};

static gboolean on_signal(gpointer data)
{
	struct signal_watch *watch = data;

	log_info("terminating on signal %d (%s)", watch->signo, g_strsignal(watch->signo));
	machine_request_shutdown(watch->machine, 0, "host-signal", false);
	return G_SOURCE_CONTINUE;
}

static void watch_signals(struct machine *machine, GMainContext *context,
			  struct signal_watch watches[3])
{
	static const int signals[3] = { SIGINT, SIGTERM, SIGHUP };

	for (int i = 0; i < 3; i++) {
		GSource *source = g_unix_signal_source_new(signals[i]);

		watches[i] = (struct signal_watch){ machine, signals[i] };
		g_source_set_callback(source, on_signal, &watches[i], NULL);
		g_source_attach(source, context);
		g_source_unref(source);
	}
}

static int open_serial_output(const struct machine_config *config, GError **error)
{
	int fd;

	switch (config->serial) {
	case SERIAL_BACKEND_STDIO:
		return STDOUT_FILENO;
	case SERIAL_BACKEND_FILE:
		fd = open(config->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			int err = errno;

			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
				    "--serial: cannot write '%s': %s", config->serial_path, g_strerror(err));
		}
		return fd;
	default:
		return -1;
	}
}

/* --display sdl: the machine runs on its own thread, the window on the main one. */
struct machine_thread {
	struct machine *machine;
	struct sdl_window *window;
	GError *error;
	int status;
};

static gpointer machine_thread_main(gpointer data)
{
	struct machine_thread *mt = data;

	mt->status = machine_run(mt->machine, &mt->error);
	/* The machine is gone (powered off, quit, failed): so is its window. */
	sdl_window_quit(mt->window);
	return NULL;
}

/*
 * Closing the window: with ACPI a guest could be asked to power down; this
 * machine has no ACPI yet, so it is switched off, and the log says so.
 */
static void window_close_requested(void *opaque)
{
	struct machine_thread *mt = opaque;

	log_info("window closed: switching the machine off (the guest cannot be asked to shut down: no ACPI yet)");
	machine_request_shutdown(mt->machine, 0, "host-ui", false);
}

static const char *window_machine_state(void *opaque)
{
	struct machine_thread *mt = opaque;

	switch (machine_get_status(mt->machine)) {
	case MACHINE_STATUS_RUNNING: return "running";
	case MACHINE_STATUS_PAUSED: return "paused";
	case MACHINE_STATUS_SHUTDOWN: break;
	}
	return "shutting down";
}

/* Runs the machine behind a window until either ends. Returns the exit status. */
static int run_with_window(struct machine *machine, const struct vmm_options *options,
			   GError **error)
{
	struct machine_thread mt = { .machine = machine, .status = -1 };
	struct sdl_window_config config = {
		.machine_name = options->name ? options->name : "Vessel",
		.request_close = window_close_requested,
		.get_state = window_machine_state,
		.opaque = &mt,
	};
	GThread *thread;

	mt.window = sdl_window_new(machine_display(machine), machine_input(machine), &config, error);
	if (!mt.window)
		return -1;
	thread = g_thread_new("machine", machine_thread_main, &mt);
	sdl_window_run(mt.window);
	/* The loop also ends on a fatal window error: the machine must stop too. */
	machine_request_shutdown(machine, 0, "host-ui", false);
	g_thread_join(thread);
	sdl_window_free(mt.window);
	if (mt.error)
		g_propagate_error(error, mt.error);
	return mt.status;
}

/*
 * QMP's set_password {"protocol": "spice", "password": PW}: sets or changes
 * the SPICE password; an error names why when SPICE is off.
 */
static JsonNode *cmd_set_password(JsonObject *args, void *opaque, GError **error)
{
	struct spice_display *spice = g_atomic_pointer_get((struct spice_display **)opaque);
	const char *protocol = json_object_get_string_member(args, "protocol");
	GError *local = NULL;

	if (g_strcmp0(protocol, "spice") != 0) {
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
			    "set_password: protocol '%s' is not supported; use \"spice\"", protocol);
		return NULL;
	}
	if (!spice) {
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC,
			    "set_password: SPICE is not running (start the VMM with --spice)");
		return NULL;
	}
	if (!spice_display_set_password(spice, json_object_get_string_member(args, "password"), &local)) {
		g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_GENERIC, "set_password: %s", local->message);
		g_error_free(local);
	}
	return NULL;
}

static const struct control_arg set_password_args[] = {
	{ "protocol", CONTROL_ARG_STRING, false },
	{ "password", CONTROL_ARG_STRING, false },
	{ "connected", CONTROL_ARG_STRING, true },	/* QMP's; "keep" is what we do */
	{ NULL },
};

/*
 * spice-server wants to be created and destroyed on the thread that runs
 * its core (its channels and clients remember the thread that made them):
 * the I/O thread.  These run a function there and wait for it.
 */
struct io_call {
	void (*fn)(void *data);
	void *data;
	GMutex lock;
	GCond cond;
	bool done;
};

static gboolean io_call_run(gpointer opaque)
{
	struct io_call *call = opaque;

	call->fn(call->data);
	g_mutex_lock(&call->lock);
	call->done = true;
	g_cond_signal(&call->cond);
	g_mutex_unlock(&call->lock);
	return G_SOURCE_REMOVE;
}

static void run_on_io_thread(GMainContext *context, void (*fn)(void *data), void *data)
{
	struct io_call call = { .fn = fn, .data = data };

	g_mutex_init(&call.lock);
	g_cond_init(&call.cond);
	g_main_context_invoke(context, io_call_run, &call);
	g_mutex_lock(&call.lock);
	while (!call.done)
		g_cond_wait(&call.cond, &call.lock);
	g_mutex_unlock(&call.lock);
	g_mutex_clear(&call.lock);
	g_cond_clear(&call.cond);
}

struct spice_start {
	struct vmm_options *options;
	struct machine *machine;
	GMainContext *context;
	struct spice_display *spice;
	GError *error;
};

static void spice_new_call(void *data)
{
	struct spice_start *start = data;

	start->spice = spice_display_new(&start->options->spice_config, machine_display(start->machine),
					 machine_input(start->machine), start->context, &start->error);
}

static void spice_free_call(void *data)
{
	spice_display_free(data);
}

static void stop_spice(struct spice_display **spice, GMainContext *context)
{
	struct spice_display *running = g_atomic_pointer_get(spice);

	if (!running)
		return;
	g_atomic_pointer_set(spice, NULL);
	run_on_io_thread(context, spice_free_call, running);
}

/* Starts the SPICE server on the running I/O thread and says how to connect. */
static struct spice_display *start_spice(struct vmm_options *options, struct machine *machine,
					 GMainContext *context, GError **error)
{
	struct spice_display_config *config = &options->spice_config;
	struct spice_start start = { .options = options, .machine = machine, .context = context };
	struct spice_display *spice;

	config->name = options->name ? options->name : "Vessel";
	run_on_io_thread(context, spice_new_call, &start);
	spice = start.spice;
	if (!spice) {
		g_propagate_error(error, start.error);
		return NULL;
	}
	log_info("SPICE: connect to %s", spice_display_uri(spice));
	if (config->disable_ticketing)
		log_warning("SPICE: no password (disable-ticketing): anyone who can reach %s can use this machine",
			    config->addr ? config->addr : "127.0.0.1");
	else if (!config->password)
		log_warning("SPICE: no password yet: clients are refused until one is set (password-file= or set_password on the control socket)");
	return spice;
}

static int fail(GError *error)
{
	log_error("%s", error->message);
	g_error_free(error);
	return 1;
}

int main(int argc, char **argv)
{
	struct vmm_options options;
	struct machine *machine = NULL;
	struct control_server *server = NULL;
	struct console *console = NULL;
	struct spice_display *spice = NULL;
	struct io_thread io = { 0 };
	struct signal_watch signal_watches[3];
	GError *error = NULL;
	int serial_fd = -1, status = 1;
	sigset_t kick;

	/* The user's character set, for a --name in the window title; numbers stay in C. */
	setlocale(LC_CTYPE, "");
	/* A closed stdout or client must not kill the VMM; writes report EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* Only vCPU threads take the kick signal (they unblock it themselves). */
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &kick, NULL);

	vmm_options_init(&options);
	if (!vmm_options_parse(&options, argc, argv, &error)) {
		vmm_options_clear(&options);
		return fail(error);
	}
	if (options.version) {
		printf("vessel-vmm %s\n", VESSEL_VERSION);
		vmm_options_clear(&options);
		return 0;
	}
	if (options.verbose)
		log_set_level(LOG_DEBUG);

	serial_fd = open_serial_output(&options.machine, &error);
	if (error)
		goto out;
	machine = machine_new(&options.machine, serial_fd, &error);
	if (!machine)
		goto out;

	io.context = g_main_context_new();
	io.loop = g_main_loop_new(io.context, FALSE);
	if (options.machine.control_path) {
		server = control_server_new(options.machine.control_path, io.context, &error);
		if (!server)
			goto out;
		machine_control_register(server, machine);
		/* The server starts later, on the I/O thread: the command reads it then. */
		control_server_add_command(server, "set_password", set_password_args, cmd_set_password, &spice);
	}
	if (options.machine.serial == SERIAL_BACKEND_STDIO)
		console = console_new(machine, io.context);
	watch_signals(machine, io.context, signal_watches);
	io.thread = g_thread_new("io", io_thread_main, &io);
	if (options.spice) {
		g_atomic_pointer_set(&spice, start_spice(&options, machine, io.context, &error));
		if (!spice)
			goto stop_io;
	}

	if (options.display == VMM_DISPLAY_SDL)
		status = run_with_window(machine, &options, &error);
	else
		status = machine_run(machine, &error);

	/* Let the last reply and the SHUTDOWN event reach control clients. */
	if (server)
		control_server_flush(server, 1000);
	stop_spice(&spice, io.context);
stop_io:
	g_main_context_invoke(io.context, io_thread_quit, io.loop);
	g_thread_join(io.thread);
	io.thread = NULL;

out:
	console_free(console);
	control_server_free(server);
	if (io.loop)
		g_main_loop_unref(io.loop);
	if (io.context)
		g_main_context_unref(io.context);
	machine_free(machine);
	if (serial_fd > STDERR_FILENO)
		close(serial_fd);
	vmm_options_clear(&options);
	if (error)
		return fail(error);
	return status;
}
