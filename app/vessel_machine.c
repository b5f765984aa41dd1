/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vessel_machine.h"

#include "config.h"
#include <glib/gi18n-lib.h>
#include <errno.h>

#include <glib/gstdio.h>


#define DEFAULT_STOP_TIMEOUT_SECONDS 20

struct _VesselMachine {
	GObject parent_instance;

	struct profile *profile;
	char *vmm_path;
	char *runtime_dir;

	/* The current run, or the last one (for its error and log) once ended. */
	VesselVmProcess *process;
	char *error;		/* why the last start failed, when not the process's own */

	guint stop_timeout_seconds;
	guint stop_timer_id;
	int stop_seconds_left;
	gboolean force_off_offered;
};

G_DEFINE_FINAL_TYPE(VesselMachine, vessel_machine, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_NAME,
	PROP_STATE,
	PROP_ERROR,
	PROP_BROKEN,
	PROP_STOP_SECONDS_LEFT,
	PROP_FORCE_OFF_OFFERED,
	N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
	SIGNAL_MESSAGE,
	N_SIGNALS
};

static guint signals[N_SIGNALS];

static void emit_message(VesselMachine *self, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void emit_message(VesselMachine *self, const char *format, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_signal_emit(self, signals[SIGNAL_MESSAGE], 0, text);
}

static void set_error(VesselMachine *self, const char *error)
{
	if (g_strcmp0(self->error, error) == 0)
		return;
	g_free(self->error);
	self->error = g_strdup(error);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_ERROR]);
}

static void end_stop_wait(VesselMachine *self)
{
	g_clear_handle_id(&self->stop_timer_id, g_source_remove);
	if (self->stop_seconds_left != -1) {
		self->stop_seconds_left = -1;
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STOP_SECONDS_LEFT]);
	}
	if (self->force_off_offered) {
		self->force_off_offered = FALSE;
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_FORCE_OFF_OFFERED]);
	}
}

static void offer_force_off(VesselMachine *self)
{
	if (self->force_off_offered)
		return;
	self->force_off_offered = TRUE;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_FORCE_OFF_OFFERED]);
}

static void on_process_state(VesselVmProcess *process, GParamSpec *pspec, VesselMachine *self)
{
	VesselVmState state = vessel_vm_process_get_state(process);

	if (state == VESSEL_VM_STATE_STOPPED || state == VESSEL_VM_STATE_ERROR)
		end_stop_wait(self);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_ERROR]);
}

static void drop_process(VesselMachine *self)
{
	if (!self->process)
		return;
	g_signal_handlers_disconnect_by_data(self->process, self);
	g_clear_object(&self->process);
}

static void vessel_machine_dispose(GObject *object)
{
	VesselMachine *self = VESSEL_MACHINE(object);

	g_clear_handle_id(&self->stop_timer_id, g_source_remove);
	drop_process(self);
	G_OBJECT_CLASS(vessel_machine_parent_class)->dispose(object);
}

static void vessel_machine_finalize(GObject *object)
{
	VesselMachine *self = VESSEL_MACHINE(object);

	profile_free(self->profile);
	g_free(self->vmm_path);
	g_free(self->runtime_dir);
	g_free(self->error);
	G_OBJECT_CLASS(vessel_machine_parent_class)->finalize(object);
}

static void vessel_machine_get_property(GObject *object, guint prop_id, GValue *value,
					GParamSpec *pspec)
{
	VesselMachine *self = VESSEL_MACHINE(object);

	switch (prop_id) {
	case PROP_NAME:
		g_value_set_string(value, vessel_machine_get_name(self));
		break;
	case PROP_STATE:
		g_value_set_int(value, vessel_machine_get_state(self));
		break;
	case PROP_ERROR:
		g_value_set_string(value, vessel_machine_get_error(self));
		break;
	case PROP_BROKEN:
		g_value_set_boolean(value, vessel_machine_get_broken(self));
		break;
	case PROP_STOP_SECONDS_LEFT:
		g_value_set_int(value, self->stop_seconds_left);
		break;
	case PROP_FORCE_OFF_OFFERED:
		g_value_set_boolean(value, self->force_off_offered);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void vessel_machine_class_init(VesselMachineClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = vessel_machine_dispose;
	object_class->finalize = vessel_machine_finalize;
	object_class->get_property = vessel_machine_get_property;

	properties[PROP_NAME] = g_param_spec_string("name", NULL, NULL, NULL,
						    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	properties[PROP_STATE] = g_param_spec_int("state", NULL, NULL, 0, G_MAXINT,
						  VESSEL_VM_STATE_STOPPED,
						  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	properties[PROP_ERROR] = g_param_spec_string("error", NULL, NULL, NULL,
						     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	properties[PROP_BROKEN] = g_param_spec_boolean("broken", NULL, NULL, FALSE,
						       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	properties[PROP_STOP_SECONDS_LEFT] =
		g_param_spec_int("stop-seconds-left", NULL, NULL, -1, G_MAXINT, -1,
				 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	properties[PROP_FORCE_OFF_OFFERED] =
		g_param_spec_boolean("force-off-offered", NULL, NULL, FALSE,
				     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);

	signals[SIGNAL_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
					       G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void vessel_machine_init(VesselMachine *self)
{
	self->stop_timeout_seconds = DEFAULT_STOP_TIMEOUT_SECONDS;
	self->stop_seconds_left = -1;
}

VesselMachine *vessel_machine_new(struct profile *profile, const char *vmm_path,
				  const char *runtime_dir)
{
	VesselMachine *self = g_object_new(VESSEL_TYPE_MACHINE, NULL);

	self->profile = profile;
	self->vmm_path = g_strdup(vmm_path);
	self->runtime_dir = g_strdup(runtime_dir);
	return self;
}

const struct profile *vessel_machine_get_profile(VesselMachine *self)
{
	return self->profile;
}

void vessel_machine_set_profile(VesselMachine *self, struct profile *profile)
{
	gboolean was_broken = vessel_machine_get_broken(self);

	profile_free(self->profile);
	self->profile = profile;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_NAME]);
	if (was_broken != vessel_machine_get_broken(self))
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_BROKEN]);
	/* Whatever went wrong with the old settings no longer applies. */
	set_error(self, NULL);
}

const char *vessel_machine_get_name(VesselMachine *self)
{
	return self->profile->name;
}

VesselVmState vessel_machine_get_state(VesselMachine *self)
{
	if (self->error)
		return VESSEL_VM_STATE_ERROR;
	if (!self->process)
		return VESSEL_VM_STATE_STOPPED;
	return vessel_vm_process_get_state(self->process);
}

const char *vessel_machine_get_error(VesselMachine *self)
{
	if (self->profile->load_error)
		return self->profile->load_error->message;
	if (self->error)
		return self->error;
	if (self->process && vessel_vm_process_get_state(self->process) == VESSEL_VM_STATE_ERROR)
		return vessel_vm_process_get_error(self->process);
	return NULL;
}

gboolean vessel_machine_get_broken(VesselMachine *self)
{
	return self->profile->load_error != NULL;
}

int vessel_machine_get_stop_seconds_left(VesselMachine *self)
{
	return self->stop_seconds_left;
}

gboolean vessel_machine_get_force_off_offered(VesselMachine *self)
{
	return self->force_off_offered;
}

char *vessel_machine_describe(VesselMachine *self)
{
	const struct profile *profile = self->profile;
	g_autofree char *boot = NULL;
	g_autofree char *memory = NULL;

	if (profile->load_error)
		return g_strdup(_("This machine’s settings cannot be read"));
	boot = profile_describe_boot(profile);
	if (profile->memory_mib % 1024 == 0)
		/* TRANSLATORS: memory size in gibibytes */
		memory = g_strdup_printf(_("%llu GiB"), (unsigned long long)(profile->memory_mib / 1024));
	else
		/* TRANSLATORS: memory size in mebibytes */
		memory = g_strdup_printf(_("%llu MiB"), (unsigned long long)profile->memory_mib);
	/* TRANSLATORS: what the machine boots · memory · number of CPUs */
	return g_strdup_printf(ngettext("%s · %s · %u CPU", "%s · %s · %u CPUs", profile->cpus),
			       boot, memory, profile->cpus);
}

char *vessel_machine_get_log_tail(VesselMachine *self, guint lines)
{
	if (!self->process)
		return g_strdup("");
	return vessel_vm_process_get_log_tail(self->process, lines);
}

const char *vessel_machine_state_label(VesselVmState state)
{
	switch (state) {
	case VESSEL_VM_STATE_STOPPED:
		return _("Stopped");
	case VESSEL_VM_STATE_STARTING:
		return _("Starting");
	case VESSEL_VM_STATE_RUNNING:
		return _("Running");
	case VESSEL_VM_STATE_PAUSED:
		return _("Paused");
	case VESSEL_VM_STATE_STOPPING:
		return _("Stopping");
	case VESSEL_VM_STATE_ERROR:
		return _("Error");
	}
	return "";
}

void vessel_machine_set_stop_timeout(VesselMachine *self, guint seconds)
{
	self->stop_timeout_seconds = MAX(seconds, 1);
}

/* The kernel or initial RAM disk the profile names, gone since it was saved. */
static gboolean check_files_present(const struct profile *profile, GError **error)
{
	const char *kernel = profile->kernel_path;
	const char *initrd = profile->initrd_path;

	if (kernel && *kernel && !g_file_test(kernel, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    _("The kernel file “%s” is gone. Edit the machine and choose the file "
			      "again, or put it back."), kernel);
		return FALSE;
	}
	if (initrd && *initrd && !g_file_test(initrd, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    _("The initial RAM disk file “%s” is gone. Edit the machine and choose "
			      "the file again, or put it back."), initrd);
		return FALSE;
	}
	return TRUE;
}

gboolean vessel_machine_start(VesselMachine *self, GError **error)
{
	const struct profile *profile = self->profile;
	g_autofree char *socket_path = NULL;
	g_autofree char *log_path = NULL;
	VesselVmState state = vessel_machine_get_state(self);
	GError *local_error = NULL;

	if (profile->load_error) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    _("This machine cannot start: its settings cannot be read (%s)."),
			    profile->load_error->message);
		return FALSE;
	}
	if (state != VESSEL_VM_STATE_STOPPED && state != VESSEL_VM_STATE_ERROR)
		return TRUE;

	if (!check_files_present(profile, &local_error)) {
		set_error(self, local_error->message);
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
		g_propagate_error(error, local_error);
		return FALSE;
	}

	drop_process(self);
	set_error(self, NULL);
	end_stop_wait(self);

	socket_path = g_strdup_printf("%s/%s.sock", self->runtime_dir, profile->id);
	log_path = profile_log_path(profile);
	self->process = vessel_vm_process_new(self->vmm_path, profile->path, socket_path, log_path);
	g_signal_connect(self->process, "notify::state", G_CALLBACK(on_process_state), self);
	if (!vessel_vm_process_start(self->process, NULL, &local_error)) {
		/* TRANSLATORS: %s is the reason, from the system */
		g_autofree char *message = g_strdup_printf(_("The machine could not start: %s"),
							   local_error->message);
		set_error(self, message);
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
		g_propagate_error(error, local_error);
		return FALSE;
	}
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
	return TRUE;
}

/* Keeps the machine alive until a command's reply arrives. */
struct command_call {
	VesselMachine *machine;
	const char *failure;	/* translated "Could not %s" sentence start */
	char *success;		/* message on success, or NULL */
};

static void on_command_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
	struct command_call *call = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) reply = vessel_vm_process_execute_finish(VESSEL_VM_PROCESS(source),
								     result, &error);

	if (!reply)
		/* TRANSLATORS: what failed, then why: "Could not pause the machine: <reason>" */
		emit_message(call->machine, _("%s: %s"), call->failure, error->message);
	else if (call->success)
		emit_message(call->machine, "%s", call->success);
	g_object_unref(call->machine);
	g_free(call->success);
	g_free(call);
}

static void run_command(VesselMachine *self, const char *command, JsonObject *arguments,
			const char *failure, char *success)
{
	struct command_call *call;

	if (!self->process) {
		emit_message(self, _("%s: %s"), failure, _("the machine is not running"));
		g_free(success);
		return;
	}
	call = g_new0(struct command_call, 1);
	call->machine = g_object_ref(self);
	call->failure = failure;
	call->success = success;
	vessel_vm_process_execute_async(self->process, command, arguments, NULL,
					on_command_done, call);
}

static gboolean on_stop_tick(gpointer user_data)
{
	VesselMachine *self = user_data;

	if (self->stop_seconds_left > 0) {
		self->stop_seconds_left--;
		g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STOP_SECONDS_LEFT]);
	}
	if (self->stop_seconds_left == 0) {
		offer_force_off(self);
		self->stop_timer_id = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void on_powerdown_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
	VesselMachine *self = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) reply = vessel_vm_process_execute_finish(VESSEL_VM_PROCESS(source),
								     result, &error);

	if (!reply && self->stop_seconds_left >= 0) {
		/* The guest cannot be asked: say why and offer Force Off now. */
		emit_message(self, _("The guest cannot be asked to shut down: %s"), error->message);
		g_clear_handle_id(&self->stop_timer_id, g_source_remove);
		offer_force_off(self);
	}
	g_object_unref(self);
}

void vessel_machine_stop(VesselMachine *self)
{
	VesselVmState state = vessel_machine_get_state(self);

	if (state != VESSEL_VM_STATE_RUNNING && state != VESSEL_VM_STATE_PAUSED)
		return;
	if (self->stop_seconds_left >= 0 || self->force_off_offered)
		return;		/* already waiting */
	self->stop_seconds_left = self->stop_timeout_seconds;
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STOP_SECONDS_LEFT]);
	self->stop_timer_id = g_timeout_add_seconds(1, on_stop_tick, self);
	/* A paused guest cannot react to the power button: let it run. */
	if (state == VESSEL_VM_STATE_PAUSED)
		vessel_vm_process_execute_async(self->process, "cont", NULL, NULL, NULL, NULL);
	vessel_vm_process_execute_async(self->process, "system_powerdown", NULL, NULL,
					on_powerdown_done, g_object_ref(self));
}

void vessel_machine_force_off(VesselMachine *self)
{
	if (!self->process)
		return;
	g_clear_handle_id(&self->stop_timer_id, g_source_remove);
	vessel_vm_process_force_off(self->process);
}

void vessel_machine_pause(VesselMachine *self)
{
	run_command(self, "stop", NULL, _("Could not pause the machine"), NULL);
}

void vessel_machine_resume(VesselMachine *self)
{
	run_command(self, "cont", NULL, _("Could not resume the machine"), NULL);
}

void vessel_machine_reset(VesselMachine *self)
{
	run_command(self, "system_reset", NULL, _("Could not reset the machine"),
		    g_strdup(_("The machine was reset")));
}

void vessel_machine_screenshot(VesselMachine *self, const char *folder)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H-%M-%S");
	g_autofree char *file_name = NULL;
	g_autofree char *path = NULL;
	JsonObject *arguments;

	if (g_mkdir_with_parents(folder, 0755) < 0) {
		int saved_errno = errno;

		emit_message(self, _("Could not save a screenshot: cannot create the folder “%s” (%s)"),
			     folder, g_strerror(saved_errno));
		return;
	}
	/* No '/' in a file name, whatever the machine is called. */
	file_name = g_strdup_printf("%s %s.png", self->profile->name, stamp);
	g_strdelimit(file_name, "/", '-');
	path = g_build_filename(folder, file_name, NULL);
	arguments = json_object_new();
	json_object_set_string_member(arguments, "filename", path);
	run_command(self, "screendump", arguments, _("Could not save a screenshot"),
		    g_strdup_printf(_("Screenshot saved as %s"), path));
	json_object_unref(arguments);
}

gboolean vessel_machine_delete(VesselMachine *self, gboolean delete_disks, GError **error)
{
	VesselVmState state = vessel_machine_get_state(self);

	if (state != VESSEL_VM_STATE_STOPPED && state != VESSEL_VM_STATE_ERROR) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_BUSY,
				    _("Stop the machine before deleting it."));
		return FALSE;
	}
	return profile_delete(self->profile, delete_disks, error);
}
