/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "demo_setup.h"

#include "config.h"
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>


struct _VesselDemoSetup {
	GObject parent_instance;

	char *script_path;
	GSubprocess *process;
	GDataInputStream *output;
	GCancellable *cancellable;
	char *kernel, *initrd, *cmdline;
	char *error;		/* the script's own "error" line */
	gboolean done;
	GString *stderr_text;	/* unexpected output, for a failure message */
};

G_DEFINE_FINAL_TYPE(VesselDemoSetup, vessel_demo_setup, G_TYPE_OBJECT)

enum {
	SIGNAL_PROGRESS,
	SIGNAL_FINISHED,
	SIGNAL_FAILED,
	N_SIGNALS
};

static guint signals[N_SIGNALS];

static void vessel_demo_setup_dispose(GObject *object)
{
	VesselDemoSetup *self = VESSEL_DEMO_SETUP(object);

	if (self->cancellable)
		g_cancellable_cancel(self->cancellable);
	if (self->process)
		g_subprocess_force_exit(self->process);
	g_clear_object(&self->process);
	g_clear_object(&self->output);
	g_clear_object(&self->cancellable);
	G_OBJECT_CLASS(vessel_demo_setup_parent_class)->dispose(object);
}

static void vessel_demo_setup_finalize(GObject *object)
{
	VesselDemoSetup *self = VESSEL_DEMO_SETUP(object);

	g_free(self->script_path);
	g_free(self->kernel);
	g_free(self->initrd);
	g_free(self->cmdline);
	g_free(self->error);
	g_string_free(self->stderr_text, TRUE);
	G_OBJECT_CLASS(vessel_demo_setup_parent_class)->finalize(object);
}

static void vessel_demo_setup_class_init(VesselDemoSetupClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vessel_demo_setup_dispose;
	object_class->finalize = vessel_demo_setup_finalize;
	signals[SIGNAL_PROGRESS] = g_signal_new("progress", G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
						G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_STRING);
	signals[SIGNAL_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
						3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
	signals[SIGNAL_FAILED] = g_signal_new("failed", G_TYPE_FROM_CLASS(klass),
					      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
					      G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void vessel_demo_setup_init(VesselDemoSetup *self)
{
	self->stderr_text = g_string_new(NULL);
}

VesselDemoSetup *vessel_demo_setup_new(const char *script_path)
{
	VesselDemoSetup *self = g_object_new(VESSEL_TYPE_DEMO_SETUP, NULL);

	self->script_path = g_strdup(script_path);
	return self;
}

/* One line of the protocol in docs/demo.md. */
static void handle_line(VesselDemoSetup *self, const char *line)
{
	const char *space = strchr(line, ' ');
	g_autofree char *word = space ? g_strndup(line, space - line) : g_strdup(line);
	const char *rest = space ? space + 1 : "";

	if (g_str_equal(word, "progress")) {
		char *end;
		double fraction = g_ascii_strtod(rest, &end);

		if (end != rest) {
			while (*end == ' ')
				end++;
			g_signal_emit(self, signals[SIGNAL_PROGRESS], 0, CLAMP(fraction, 0.0, 1.0), end);
		}
	} else if (g_str_equal(word, "kernel")) {
		g_free(self->kernel);
		self->kernel = g_strdup(rest);
	} else if (g_str_equal(word, "initrd")) {
		g_free(self->initrd);
		self->initrd = g_strdup(rest);
	} else if (g_str_equal(word, "cmdline")) {
		g_free(self->cmdline);
		self->cmdline = g_strdup(rest);
	} else if (g_str_equal(word, "done")) {
		self->done = TRUE;
	} else if (g_str_equal(word, "error")) {
		g_free(self->error);
		self->error = g_strdup(rest);
	} else if (self->stderr_text->len < 4096) {
		g_string_append_printf(self->stderr_text, "%s\n", line);
	}
}

static void finish(VesselDemoSetup *self)
{
	if (self->done && self->kernel && self->initrd) {
		g_signal_emit(self, signals[SIGNAL_FINISHED], 0, self->kernel, self->initrd,
			      self->cmdline ? self->cmdline : "");
	} else if (self->error) {
		g_signal_emit(self, signals[SIGNAL_FAILED], 0, self->error);
	} else {
		g_autofree char *message = g_strdup_printf(
			_("Preparing the demo machine failed without saying why. %s"),
			self->stderr_text->str);

		g_signal_emit(self, signals[SIGNAL_FAILED], 0, g_strstrip(message));
	}
}

static void on_line(GObject *source, GAsyncResult *result, gpointer user_data)
{
	VesselDemoSetup *self = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree char *line = g_data_input_stream_read_line_finish_utf8(
		G_DATA_INPUT_STREAM(source), result, NULL, &error);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_object_unref(self);
		return;
	}
	if (line) {
		handle_line(self, line);
		g_data_input_stream_read_line_async(self->output, G_PRIORITY_DEFAULT,
						    self->cancellable, on_line, self);
		return;
	}
	/* End of output (or an unreadable line): the script is done. */
	finish(self);
	g_object_unref(self);
}

static gboolean fail_later(gpointer user_data)
{
	VesselDemoSetup *self = user_data;

	finish(self);
	return G_SOURCE_REMOVE;
}

void vessel_demo_setup_start(VesselDemoSetup *self)
{
	g_autoptr(GError) error = NULL;

	g_return_if_fail(self->process == NULL);
	self->process = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					 G_SUBPROCESS_FLAGS_STDERR_MERGE, &error,
					 self->script_path, NULL);
	if (!self->process) {
		g_free(self->error);
		self->error = g_strdup_printf(_("The demo machine cannot be prepared: %s"),
					      error->message);
		g_idle_add_full(G_PRIORITY_DEFAULT, fail_later, g_object_ref(self), g_object_unref);
		return;
	}
	self->cancellable = g_cancellable_new();
	self->output = g_data_input_stream_new(g_subprocess_get_stdout_pipe(self->process));
	g_data_input_stream_read_line_async(self->output, G_PRIORITY_DEFAULT, self->cancellable,
					    on_line, g_object_ref(self));
}
