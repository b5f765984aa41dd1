/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "application.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

#include "demo_setup.h"
#include "host_check.h"
#include "machine-dialog.h"
#include "profile.h"
#include "vessel_machine.h"
#include "window.h"

#define DEMO_NAME "Demo"
#define DEMO_MEMORY_MIB 256

struct _VesselApplication {
	AdwApplication parent_instance;

	GSettings *settings;		/* NULL when the schema is not installed */
	GListStore *machines;		/* VesselMachine, sorted by name */
	char *machines_dir;
	char *runtime_dir;		/* control sockets; NULL when it cannot be made */
	char *runtime_dir_error;
	char *vmm_path;
	char *demo_script;
	char *kvm_notice;
	VesselDemoSetup *demo;
	gboolean demo_checked;
	gboolean quitting;
};

G_DEFINE_FINAL_TYPE(VesselApplication, vessel_application, ADW_TYPE_APPLICATION)

static VesselWindow *main_window(VesselApplication *self)
{
	GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(self));

	for (GList *l = gtk_application_get_windows(GTK_APPLICATION(self)); !VESSEL_IS_WINDOW(window) && l;
	     l = l->next)
		window = l->data;
	return VESSEL_IS_WINDOW(window) ? VESSEL_WINDOW(window) : NULL;
}

static void toast(VesselApplication *self, const char *text)
{
	VesselWindow *window = main_window(self);

	if (window)
		vessel_window_show_toast(window, text);
	else
		g_message("%s", text);
}

/* --- where things are -------------------------------------------------- */

/* The program to run, from the environment (development trees, tests) or the installation. */
static char *find_program(const char *env_name, const char *installed_path, const char *name)
{
	const char *from_env = g_getenv(env_name);

	if (from_env && *from_env)
		return g_strdup(from_env);
	if (g_file_test(installed_path, G_FILE_TEST_IS_EXECUTABLE))
		return g_strdup(installed_path);
	return name ? g_find_program_in_path(name) : NULL;
}

/*
 * $XDG_RUNTIME_DIR/vessel, mode 0700 and ours: whoever can reach a control
 * socket controls the machine (docs/control-protocol.md).
 */
static char *make_runtime_dir(char **error)
{
	g_autofree char *dir = g_build_filename(g_get_user_runtime_dir(), "vessel", NULL);
	struct stat st;

	if (g_mkdir_with_parents(dir, 0700) < 0 || lstat(dir, &st) < 0) {
		*error = g_strdup_printf(_("The folder for running machines, “%s”, cannot be "
					   "created: %s"), dir, g_strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
		*error = g_strdup_printf(_("“%s” is not a folder of yours; remove it so Vessel can "
					   "create its own."), dir);
		return NULL;
	}
	if ((st.st_mode & 0077) && chmod(dir, 0700) < 0) {
		*error = g_strdup_printf(_("The folder “%s” is open to other users and cannot be "
					   "made private: %s"), dir, g_strerror(errno));
		return NULL;
	}
	return g_steal_pointer(&dir);
}

/* --- the machine list -------------------------------------------------- */

static int compare_machines(gconstpointer a, gconstpointer b, gpointer user_data)
{
	g_autofree char *key_a = g_utf8_collate_key(vessel_machine_get_name((VesselMachine *)a), -1);
	g_autofree char *key_b = g_utf8_collate_key(vessel_machine_get_name((VesselMachine *)b), -1);

	return strcmp(key_a, key_b);
}

static VesselMachine *find_machine(VesselApplication *self, const char *id, guint *position)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->machines));

	for (guint i = 0; i < n; i++) {
		g_autoptr(VesselMachine) machine = g_list_model_get_item(G_LIST_MODEL(self->machines), i);

		if (g_strcmp0(vessel_machine_get_profile(machine)->id, id) == 0) {
			if (position)
				*position = i;
			return machine;	/* the store keeps it alive */
		}
	}
	return NULL;
}

static void on_machine_message(VesselMachine *machine, const char *text, VesselApplication *self)
{
	toast(self, text);
}

static void add_machine(VesselApplication *self, struct profile *profile)
{
	g_autoptr(VesselMachine) machine = vessel_machine_new(profile, self->vmm_path,
							      self->runtime_dir);

	if (self->settings)
		vessel_machine_set_stop_timeout(machine,
						g_settings_get_uint(self->settings,
								    "stop-timeout-seconds"));
	g_signal_connect(machine, "message", G_CALLBACK(on_machine_message), self);
	g_list_store_insert_sorted(self->machines, machine, compare_machines, NULL);
}

static void load_machines(VesselApplication *self)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) profiles = profile_store_list(self->machines_dir, &error);

	if (!profiles) {
		g_autofree char *message = g_strdup_printf(_("Your machines cannot be listed: %s"),
							   error->message);
		toast(self, message);
		return;
	}
	/* The array owns its profiles: move each into a machine. */
	g_ptr_array_set_free_func(profiles, NULL);
	for (guint i = 0; i < profiles->len; i++)
		add_machine(self, g_ptr_array_index(profiles, i));
}

static gboolean any_machine_running(VesselApplication *self)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->machines));

	for (guint i = 0; i < n; i++) {
		g_autoptr(VesselMachine) machine = g_list_model_get_item(G_LIST_MODEL(self->machines), i);
		VesselVmState state = vessel_machine_get_state(machine);

		if (state != VESSEL_VM_STATE_STOPPED && state != VESSEL_VM_STATE_ERROR)
			return TRUE;
	}
	return FALSE;
}

/* --- the demo machine -------------------------------------------------- */

static void start_demo_setup(VesselApplication *self);

static void on_demo_progress(VesselDemoSetup *demo, double fraction, const char *message,
			     VesselApplication *self)
{
	VesselWindow *window = main_window(self);

	if (window)
		vessel_window_show_demo_progress(window, fraction, message);
}

static void on_demo_finished(VesselDemoSetup *demo, const char *kernel, const char *initrd,
			     const char *cmdline, VesselApplication *self)
{
	VesselWindow *window = main_window(self);
	g_autoptr(GError) error = NULL;
	struct profile *profile = profile_new(DEMO_NAME);

	g_free(profile->kernel_path);
	profile->kernel_path = g_strdup(kernel);
	g_free(profile->initrd_path);
	profile->initrd_path = g_strdup(initrd);
	g_free(profile->cmdline);
	profile->cmdline = g_strdup(cmdline);
	profile->memory_mib = DEMO_MEMORY_MIB;
	profile->cpus = 1;
	profile->display_window = TRUE;
	/*
	 * On a host that is itself a VM, KVM is likely nested: Linux would take
	 * minutes to boot on it and seconds on the software CPU.
	 */
	profile->accel = host_is_virtual_machine() ? PROFILE_ACCEL_TCG : PROFILE_ACCEL_AUTO;
	if (!profile_save(profile, self->machines_dir, NULL, &error)) {
		if (window)
			vessel_window_show_demo_failure(window, error->message);
		profile_free(profile);
	} else {
		if (window)
			vessel_window_hide_demo(window);
		add_machine(self, profile);
		if (self->settings)
			g_settings_set_boolean(self->settings, "demo-created", TRUE);
	}
	g_clear_object(&self->demo);
}

static void on_demo_failed(VesselDemoSetup *demo, const char *message, VesselApplication *self)
{
	VesselWindow *window = main_window(self);

	if (window)
		vessel_window_show_demo_failure(window, message);
	g_clear_object(&self->demo);
}

static void start_demo_setup(VesselApplication *self)
{
	VesselWindow *window = main_window(self);

	if (self->demo)
		return;
	if (!self->demo_script) {
		if (window)
			vessel_window_show_demo_failure(window,
				_("the preparation script vessel-prepare-demo is not installed."));
		return;
	}
	if (window)
		vessel_window_show_demo_progress(window, 0.0, _("Preparing the demo machine…"));
	self->demo = vessel_demo_setup_new(self->demo_script);
	g_signal_connect(self->demo, "progress", G_CALLBACK(on_demo_progress), self);
	g_signal_connect(self->demo, "finished", G_CALLBACK(on_demo_finished), self);
	g_signal_connect(self->demo, "failed", G_CALLBACK(on_demo_failed), self);
	vessel_demo_setup_start(self->demo);
}

/* First start: a fresh user gets a ready machine to try. */
static void maybe_offer_demo(VesselApplication *self)
{
	gboolean offer = TRUE, created = FALSE;

	if (self->demo_checked)
		return;
	self->demo_checked = TRUE;
	if (self->settings) {
		offer = g_settings_get_boolean(self->settings, "offer-demo");
		created = g_settings_get_boolean(self->settings, "demo-created");
	}
	if (offer && !created && g_list_model_get_n_items(G_LIST_MODEL(self->machines)) == 0)
		start_demo_setup(self);
}

/* --- actions ----------------------------------------------------------- */

static VesselMachine *machine_for_action(VesselApplication *self, GVariant *parameter)
{
	const char *id = g_variant_get_string(parameter, NULL);
	VesselMachine *machine = find_machine(self, id, NULL);

	if (!machine) {
		g_autofree char *message = g_strdup_printf(_("There is no machine “%s”."), id);

		toast(self, message);
	}
	return machine;
}

static void on_dialog_saved(VesselMachineDialog *dialog, struct profile *saved,
			    VesselApplication *self)
{
	guint position;
	VesselMachine *machine = find_machine(self, saved->id, &position);
	struct profile *fresh = profile_load(saved->dir);

	if (machine) {
		VesselVmState state = vessel_machine_get_state(machine);

		vessel_machine_set_profile(machine, fresh);
		/* The name may have changed: keep the list sorted. */
		g_object_ref(machine);
		g_list_store_remove(self->machines, position);
		g_list_store_insert_sorted(self->machines, machine, compare_machines, NULL);
		g_object_unref(machine);
		if (state != VESSEL_VM_STATE_STOPPED && state != VESSEL_VM_STATE_ERROR)
			toast(self, _("The changes apply the next time the machine starts."));
	} else {
		add_machine(self, fresh);
	}
}

static void open_dialog(VesselApplication *self, const struct profile *profile)
{
	VesselMachineDialog *dialog = vessel_machine_dialog_new(GTK_WINDOW(main_window(self)),
								 profile, self->machines_dir);

	g_signal_connect_object(dialog, "saved", G_CALLBACK(on_dialog_saved), self, 0);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void new_machine_activated(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	open_dialog(user_data, NULL);
}

static void edit_machine_activated(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	VesselApplication *self = user_data;
	VesselMachine *machine = machine_for_action(self, parameter);

	if (!machine)
		return;
	if (vessel_machine_get_broken(machine)) {
		toast(self, _("This machine’s settings cannot be read, so they cannot be edited here. "
			      "Fix or remove its machine.ini."));
		return;
	}
	open_dialog(self, vessel_machine_get_profile(machine));
}

static void start_machine_activated(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	VesselApplication *self = user_data;
	VesselMachine *machine = machine_for_action(self, parameter);
	g_autoptr(GError) error = NULL;

	if (!machine)
		return;
	if (!self->vmm_path) {
		toast(self, _("vessel-vmm, the program that runs machines, is not installed."));
		return;
	}
	if (!self->runtime_dir) {
		toast(self, self->runtime_dir_error);
		return;
	}
	if (!vessel_machine_start(machine, &error))
		toast(self, error->message);
}

/* Actions that hand the machine one command, by action name. */
static const struct {
	const char *action;
	void (*run)(VesselMachine *machine);
} machine_commands[] = {
	{ "stop-machine", vessel_machine_stop },
	{ "force-off-machine", vessel_machine_force_off },
	{ "pause-machine", vessel_machine_pause },
	{ "resume-machine", vessel_machine_resume },
	{ "reset-machine", vessel_machine_reset },
};

static void machine_command_activated(GSimpleAction *action, GVariant *parameter,
				      gpointer user_data)
{
	const char *name = g_action_get_name(G_ACTION(action));
	VesselMachine *machine = machine_for_action(user_data, parameter);

	for (guint i = 0; machine && i < G_N_ELEMENTS(machine_commands); i++)
		if (g_str_equal(machine_commands[i].action, name))
			machine_commands[i].run(machine);
}

static void screenshot_machine_activated(GSimpleAction *action, GVariant *parameter,
					 gpointer user_data)
{
	VesselMachine *machine = machine_for_action(user_data, parameter);
	const char *pictures = g_get_user_special_dir(G_USER_DIRECTORY_PICTURES);
	g_autofree char *folder = NULL;

	if (!machine)
		return;
	folder = g_build_filename(pictures ? pictures : g_get_home_dir(), "Vessel", NULL);
	vessel_machine_screenshot(machine, folder);
}

struct delete_request {
	VesselApplication *app;
	char *id;
	GtkCheckButton *disks;
};

static void delete_request_free(gpointer data)
{
	struct delete_request *request = data;

	g_free(request->id);
	g_free(request);
}

static void on_delete_response(AdwMessageDialog *dialog, const char *response,
			       struct delete_request *request)
{
	VesselApplication *self = request->app;
	g_autoptr(GError) error = NULL;
	VesselMachine *machine;
	guint position;

	if (!g_str_equal(response, "delete"))
		return;
	machine = find_machine(self, request->id, &position);
	if (!machine)
		return;
	if (!vessel_machine_delete(machine, gtk_check_button_get_active(request->disks), &error)) {
		toast(self, error->message);
		return;
	}
	g_list_store_remove(self->machines, position);
}

static void delete_machine_activated(GSimpleAction *action, GVariant *parameter,
				     gpointer user_data)
{
	VesselApplication *self = user_data;
	VesselMachine *machine = machine_for_action(self, parameter);
	struct delete_request *request;
	AdwMessageDialog *dialog;
	g_autofree char *heading = NULL;
	VesselVmState state;

	if (!machine)
		return;
	state = vessel_machine_get_state(machine);
	if (state != VESSEL_VM_STATE_STOPPED && state != VESSEL_VM_STATE_ERROR) {
		toast(self, _("Stop the machine before deleting it."));
		return;
	}
	heading = g_strdup_printf(_("Delete “%s”?"), vessel_machine_get_name(machine));
	dialog = ADW_MESSAGE_DIALOG(adw_message_dialog_new(
		GTK_WINDOW(main_window(self)), heading,
		_("The machine’s settings and log are removed. Its disk files are kept unless you "
		  "tick the box below.")));
	request = g_new0(struct delete_request, 1);
	request->app = self;
	request->id = g_strdup(vessel_machine_get_profile(machine)->id);
	request->disks = GTK_CHECK_BUTTON(gtk_check_button_new_with_mnemonic(
		_("Also delete the machine’s _disk files")));
	adw_message_dialog_set_extra_child(dialog, GTK_WIDGET(request->disks));
	adw_message_dialog_add_responses(dialog, "cancel", _("_Cancel"), "delete", _("_Delete"), NULL);
	adw_message_dialog_set_response_appearance(dialog, "delete", ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(dialog, "cancel");
	adw_message_dialog_set_close_response(dialog, "cancel");
	g_signal_connect_data(dialog, "response", G_CALLBACK(on_delete_response), request,
			      (GClosureNotify)(void (*)(void))delete_request_free, 0);
	gtk_window_present(GTK_WINDOW(dialog));
}

static void about_activated(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	VesselApplication *self = user_data;
	const char *developers[] = { _("Vessel developers"), NULL };
	GtkWidget *about = adw_about_window_new();

	g_object_set(about,
		     "transient-for", main_window(self),
		     "application-name", _("Vessel"),
		     "application-icon", VESSEL_APPLICATION_ID,
		     "version", VESSEL_VERSION,
		     "developers", developers,
		     "license-type", GTK_LICENSE_GPL_2_0,
		     /* TRANSLATORS: your name(s), shown in the About window */
		     "translator-credits", _("translator-credits"),
		     NULL);
	gtk_window_present(GTK_WINDOW(about));
}

static void force_off_all(VesselApplication *self)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(self->machines));

	for (guint i = 0; i < n; i++) {
		g_autoptr(VesselMachine) machine = g_list_model_get_item(G_LIST_MODEL(self->machines), i);

		vessel_machine_force_off(machine);
	}
}

static void on_quit_response(AdwMessageDialog *dialog, const char *response,
			     VesselApplication *self)
{
	if (!g_str_equal(response, "quit"))
		return;
	self->quitting = TRUE;
	force_off_all(self);
	g_application_quit(G_APPLICATION(self));
}

/* Quitting ends the machines too: ask first when some are running. */
static gboolean confirm_quit(VesselApplication *self)
{
	AdwMessageDialog *dialog;

	if (self->quitting || !any_machine_running(self))
		return TRUE;
	dialog = ADW_MESSAGE_DIALOG(adw_message_dialog_new(
		GTK_WINDOW(main_window(self)), _("Switch Off Running Machines?"),
		_("Quitting Vessel switches off the machines that are still running, without "
		  "asking their guests; unsaved work in them is lost. Stop them first to shut "
		  "them down cleanly.")));
	adw_message_dialog_add_responses(dialog, "cancel", _("_Cancel"), "quit",
					 _("_Force Off and Quit"), NULL);
	adw_message_dialog_set_response_appearance(dialog, "quit", ADW_RESPONSE_DESTRUCTIVE);
	adw_message_dialog_set_default_response(dialog, "cancel");
	adw_message_dialog_set_close_response(dialog, "cancel");
	g_signal_connect(dialog, "response", G_CALLBACK(on_quit_response), self);
	gtk_window_present(GTK_WINDOW(dialog));
	return FALSE;
}

static void quit_activated(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
	VesselApplication *self = user_data;

	if (confirm_quit(self))
		g_application_quit(G_APPLICATION(self));
}

static gboolean on_close_request(GtkWindow *window, VesselApplication *self)
{
	if (self->settings) {
		int width, height;

		gtk_window_get_default_size(window, &width, &height);
		g_settings_set_int(self->settings, "window-width", width);
		g_settings_set_int(self->settings, "window-height", height);
		g_settings_set_boolean(self->settings, "window-maximized",
				       gtk_window_is_maximized(window));
	}
	return !confirm_quit(self);
}

/*
 * SIGTERM (logout, kill), SIGINT (Ctrl+C in a terminal), SIGHUP: quit
 * cleanly, switching off running machines (they could not be reached by a
 * later app; vm_process.c also ties them to the app's life).
 */
static gboolean on_quit_signal(gpointer user_data)
{
	VesselApplication *self = user_data;

	self->quitting = TRUE;
	force_off_all(self);
	g_application_quit(G_APPLICATION(self));
	return G_SOURCE_CONTINUE;
}

static const GActionEntry app_actions[] = {
	{ "new-machine", new_machine_activated },
	{ "edit-machine", edit_machine_activated, "s" },
	{ "start-machine", start_machine_activated, "s" },
	{ "stop-machine", machine_command_activated, "s" },
	{ "force-off-machine", machine_command_activated, "s" },
	{ "pause-machine", machine_command_activated, "s" },
	{ "resume-machine", machine_command_activated, "s" },
	{ "reset-machine", machine_command_activated, "s" },
	{ "screenshot-machine", screenshot_machine_activated, "s" },
	{ "delete-machine", delete_machine_activated, "s" },
	{ "about", about_activated },
	{ "quit", quit_activated },
};

/* --- GApplication ------------------------------------------------------ */

static GSettings *open_settings(void)
{
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema =
		source ? g_settings_schema_source_lookup(source, VESSEL_APPLICATION_ID, TRUE) : NULL;

	if (!schema) {
		g_warning("The settings schema %s is not installed; preferences are not kept "
			  "(run from the build tree with GSETTINGS_SCHEMA_DIR=<build>/data)",
			  VESSEL_APPLICATION_ID);
		return NULL;
	}
	return g_settings_new_full(schema, NULL, NULL);
}

static void vessel_application_startup(GApplication *application)
{
	VesselApplication *self = VESSEL_APPLICATION(application);
	const char *const quit_accels[] = { "<Control>q", NULL };
	const char *const new_accels[] = { "<Control>n", NULL };
	const char *kvm_device;

	G_APPLICATION_CLASS(vessel_application_parent_class)->startup(application);

	g_action_map_add_action_entries(G_ACTION_MAP(self), app_actions, G_N_ELEMENTS(app_actions),
					self);
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "app.quit", quit_accels);
	gtk_application_set_accels_for_action(GTK_APPLICATION(self), "app.new-machine", new_accels);

	self->settings = open_settings();
	self->machines_dir = profile_machines_dir();
	self->runtime_dir = make_runtime_dir(&self->runtime_dir_error);
	self->vmm_path = find_program("VESSEL_VMM", VESSEL_BINDIR "/vessel-vmm", "vessel-vmm");
	self->demo_script = find_program("VESSEL_PREPARE_DEMO",
					 VESSEL_LIBEXECDIR "/vessel-prepare-demo", NULL);
	/* VESSEL_KVM_DEVICE: the same override vessel-vmm honours (docs/vessel-vmm.md). */
	kvm_device = g_getenv("VESSEL_KVM_DEVICE");
	host_check_kvm(kvm_device && *kvm_device ? kvm_device : "/dev/kvm", &self->kvm_notice);
	load_machines(self);
	g_unix_signal_add(SIGTERM, on_quit_signal, self);
	g_unix_signal_add(SIGINT, on_quit_signal, self);
	g_unix_signal_add(SIGHUP, on_quit_signal, self);
}

static void vessel_application_activate(GApplication *application)
{
	VesselApplication *self = VESSEL_APPLICATION(application);
	VesselWindow *window = main_window(self);

	if (!window) {
		window = vessel_window_new(GTK_APPLICATION(self), G_LIST_MODEL(self->machines));
		if (self->settings) {
			gtk_window_set_default_size(GTK_WINDOW(window),
						    g_settings_get_int(self->settings, "window-width"),
						    g_settings_get_int(self->settings, "window-height"));
			if (g_settings_get_boolean(self->settings, "window-maximized"))
				gtk_window_maximize(GTK_WINDOW(window));
		}
		g_signal_connect(window, "close-request", G_CALLBACK(on_close_request), self);
		g_signal_connect_swapped(window, "demo-retry", G_CALLBACK(start_demo_setup), self);
		vessel_window_set_kvm_notice(window, self->kvm_notice);
	}
	gtk_window_present(GTK_WINDOW(window));
	maybe_offer_demo(self);
}

static void vessel_application_shutdown(GApplication *application)
{
	VesselApplication *self = VESSEL_APPLICATION(application);

	/* Nothing outlives the app: force off what still runs (it was asked first). */
	force_off_all(self);
	if (self->demo)
		g_object_run_dispose(G_OBJECT(self->demo));
	G_APPLICATION_CLASS(vessel_application_parent_class)->shutdown(application);
}

static void vessel_application_finalize(GObject *object)
{
	VesselApplication *self = VESSEL_APPLICATION(object);

	g_clear_object(&self->settings);
	g_clear_object(&self->machines);
	g_clear_object(&self->demo);
	g_free(self->machines_dir);
	g_free(self->runtime_dir);
	g_free(self->runtime_dir_error);
	g_free(self->vmm_path);
	g_free(self->demo_script);
	g_free(self->kvm_notice);
	G_OBJECT_CLASS(vessel_application_parent_class)->finalize(object);
}

static int vessel_application_handle_local_options(GApplication *application,
						  GVariantDict *options)
{
	if (g_variant_dict_contains(options, "version")) {
		g_print("vessel %s\n", VESSEL_VERSION);
		return 0;
	}
	return -1;	/* go on: register, activate */
}

static void vessel_application_class_init(VesselApplicationClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GApplicationClass *app_class = G_APPLICATION_CLASS(klass);

	object_class->finalize = vessel_application_finalize;
	app_class->startup = vessel_application_startup;
	app_class->activate = vessel_application_activate;
	app_class->shutdown = vessel_application_shutdown;
	app_class->handle_local_options = vessel_application_handle_local_options;
}

static void vessel_application_init(VesselApplication *self)
{
	const GOptionEntry options[] = {
		{ "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
		{ NULL }
	};

	self->machines = g_list_store_new(VESSEL_TYPE_MACHINE);
	g_application_add_main_option_entries(G_APPLICATION(self), options);
	g_application_set_option_context_summary(G_APPLICATION(self),
		_("Create, run and watch virtual machines. Machines are kept in "
		  "$XDG_DATA_HOME/vessel/machines; see docs/app.md."));
}

VesselApplication *vessel_application_new(void)
{
	return g_object_new(VESSEL_TYPE_APPLICATION,
			    "application-id", VESSEL_APPLICATION_ID,
			    "flags", G_APPLICATION_DEFAULT_FLAGS,
			    "resource-base-path", "/dev/vessel/Vessel",
			    NULL);
}
