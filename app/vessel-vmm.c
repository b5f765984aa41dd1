/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vessel-vmm: one virtual machine per process.  The main thread runs the
 * machine's lifecycle; an I/O thread runs a GLib main context for the control
 * socket, the serial console's stdin and signals; each vCPU has a thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
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
	struct io_thread io = { 0 };
	struct signal_watch signal_watches[3];
	GError *error = NULL;
	int serial_fd = -1, status = 1;
	sigset_t kick;

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
	}
	if (options.machine.serial == SERIAL_BACKEND_STDIO)
		console = console_new(machine, io.context);
	watch_signals(machine, io.context, signal_watches);
	io.thread = g_thread_new("io", io_thread_main, &io);

	status = machine_run(machine, &error);

	/* Let the last reply and the SHUTDOWN event reach control clients. */
	if (server)
		control_server_flush(server, 1000);
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
