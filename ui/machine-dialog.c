/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "machine-dialog.h"

#include "config.h"
#include <glib/gi18n-lib.h>


struct _VesselMachineDialog {
	AdwWindow parent_instance;

	struct profile *profile;	/* the working copy that is saved */
	char *machines_dir;
	struct profile_host_limits limits;
	gboolean editing;
	gboolean had_password;		/* editing, and a password file exists */
	gboolean save_tried;		/* show every message from the first Save on */
	gboolean filling;		/* fields are being set from the profile */
	GtkFileChooserNative *chooser;

	GtkButton *save_button;
	AdwEntryRow *name_row;
	AdwEntryRow *kernel_row;
	AdwEntryRow *initrd_row;
	AdwEntryRow *cmdline_row;
	GtkSpinButton *memory_spin;
	GtkSpinButton *cpus_spin;
	GtkSwitch *window_switch;
	GtkSwitch *spice_switch;
	AdwActionRow *spice_port_row;
	GtkSpinButton *spice_port_spin;
	AdwActionRow *spice_password_switch_row;
	GtkSwitch *spice_password_switch;
	AdwPasswordEntryRow *spice_password_row;

	/* Indexed by enum profile_field. */
	GtkLabel *errors[PROFILE_FIELD_COUNT];
	GtkWidget *error_rows[PROFILE_FIELD_COUNT];
};

G_DEFINE_FINAL_TYPE(VesselMachineDialog, vessel_machine_dialog, ADW_TYPE_WINDOW)

enum {
	SIGNAL_SAVED,
	N_SIGNALS
};

static guint signals[N_SIGNALS];

static char *entry_text(AdwEntryRow *row)
{
	return g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(row))));
}

/* The password as typed; NULL when editing and left empty (keep the current one). */
static const char *typed_password(VesselMachineDialog *self)
{
	const char *text = gtk_editable_get_text(GTK_EDITABLE(self->spice_password_row));

	if (!*text && self->had_password)
		return NULL;
	return text;
}

static void read_fields(VesselMachineDialog *self)
{
	struct profile *profile = self->profile;

	g_free(profile->name);
	profile->name = entry_text(self->name_row);
	g_free(profile->kernel_path);
	profile->kernel_path = entry_text(self->kernel_row);
	g_free(profile->initrd_path);
	profile->initrd_path = entry_text(self->initrd_row);
	g_free(profile->cmdline);
	profile->cmdline = entry_text(self->cmdline_row);
	profile->memory_mib = (uint64_t)gtk_spin_button_get_value_as_int(self->memory_spin);
	profile->cpus = (unsigned int)gtk_spin_button_get_value_as_int(self->cpus_spin);
	profile->display_window = gtk_switch_get_active(self->window_switch);
	profile->spice = gtk_switch_get_active(self->spice_switch);
	profile->spice_port = (unsigned int)gtk_spin_button_get_value_as_int(self->spice_port_spin);
	profile->spice_password_required = gtk_switch_get_active(self->spice_password_switch);
}

static void update_visibility(VesselMachineDialog *self)
{
	gboolean spice = gtk_switch_get_active(self->spice_switch);
	gboolean password = spice && gtk_switch_get_active(self->spice_password_switch);

	gtk_widget_set_visible(GTK_WIDGET(self->spice_port_row), spice);
	gtk_widget_set_visible(GTK_WIDGET(self->spice_password_switch_row), spice);
	gtk_widget_set_visible(GTK_WIDGET(self->spice_password_row), password);
}

/* Validates; shows the messages once Save was tried.  Returns the first bad field or -1. */
static int validate(VesselMachineDialog *self)
{
	char *messages[PROFILE_FIELD_COUNT] = { NULL };
	int first_bad = -1;

	read_fields(self);
	profile_validate(self->profile, &self->limits, typed_password(self), messages);
	for (int field = 0; field < PROFILE_FIELD_COUNT; field++) {
		gboolean show = self->save_tried && messages[field] != NULL;

		if (messages[field] && first_bad < 0)
			first_bad = field;
		if (!self->errors[field])
			continue;
		gtk_label_set_text(self->errors[field], show ? messages[field] : "");
		gtk_widget_set_visible(GTK_WIDGET(self->errors[field]), show);
		if (self->error_rows[field]) {
			if (show)
				gtk_widget_add_css_class(self->error_rows[field], "error");
			else
				gtk_widget_remove_css_class(self->error_rows[field], "error");
		}
	}
	profile_messages_clear(messages);
	return first_bad;
}

static void on_field_changed(VesselMachineDialog *self)
{
	/* Reading half-filled fields back would overwrite the profile's values. */
	if (self->filling)
		return;
	update_visibility(self);
	validate(self);
}

static void show_save_error(VesselMachineDialog *self, const char *message)
{
	AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG(
		adw_message_dialog_new(GTK_WINDOW(self), _("The Machine Could Not Be Saved"), message));

	adw_message_dialog_add_response(dialog, "close", _("_Close"));
	gtk_window_present(GTK_WINDOW(dialog));
}

static void on_save_clicked(VesselMachineDialog *self)
{
	g_autoptr(GError) error = NULL;
	int first_bad;

	self->save_tried = TRUE;
	first_bad = validate(self);
	if (first_bad >= 0) {
		if (self->error_rows[first_bad])
			gtk_widget_grab_focus(self->error_rows[first_bad]);
		return;
	}
	if (!profile_save(self->profile, self->machines_dir,
			  self->profile->spice && self->profile->spice_password_required
				  ? typed_password(self) : NULL,
			  &error)) {
		show_save_error(self, error->message);
		return;
	}
	g_signal_emit(self, signals[SIGNAL_SAVED], 0, self->profile);
	gtk_window_destroy(GTK_WINDOW(self));
}

static void on_cancel_clicked(VesselMachineDialog *self)
{
	gtk_window_destroy(GTK_WINDOW(self));
}

static void on_chooser_response(GtkNativeDialog *chooser, int response, gpointer user_data)
{
	AdwEntryRow *row = user_data;

	if (response == GTK_RESPONSE_ACCEPT) {
		g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(chooser));
		g_autofree char *path = file ? g_file_get_path(file) : NULL;

		if (path)
			gtk_editable_set_text(GTK_EDITABLE(row), path);
	}
}

static void choose_file(VesselMachineDialog *self, const char *title, AdwEntryRow *row)
{
	g_autofree char *current = entry_text(row);

	g_clear_object(&self->chooser);
	self->chooser = gtk_file_chooser_native_new(title, GTK_WINDOW(self),
						    GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"),
						    _("_Cancel"));
	if (*current) {
		g_autofree char *folder_path = g_path_get_dirname(current);
		g_autoptr(GFile) folder = g_file_new_for_path(folder_path);

		gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(self->chooser), folder, NULL);
	} else if (g_file_test("/boot", G_FILE_TEST_IS_DIR)) {
		g_autoptr(GFile) boot = g_file_new_for_path("/boot");

		gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(self->chooser), boot, NULL);
	}
	g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), row);
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void on_kernel_choose_button_clicked(VesselMachineDialog *self)
{
	choose_file(self, _("Choose a Linux Kernel"), self->kernel_row);
}

static void on_initrd_choose_button_clicked(VesselMachineDialog *self)
{
	choose_file(self, _("Choose an Initial RAM Disk"), self->initrd_row);
}

static void vessel_machine_dialog_dispose(GObject *object)
{
	VesselMachineDialog *self = VESSEL_MACHINE_DIALOG(object);

	if (self->chooser)
		gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
	g_clear_object(&self->chooser);
	gtk_widget_dispose_template(GTK_WIDGET(self), VESSEL_TYPE_MACHINE_DIALOG);
	G_OBJECT_CLASS(vessel_machine_dialog_parent_class)->dispose(object);
}

static void vessel_machine_dialog_finalize(GObject *object)
{
	VesselMachineDialog *self = VESSEL_MACHINE_DIALOG(object);

	profile_free(self->profile);
	g_free(self->machines_dir);
	G_OBJECT_CLASS(vessel_machine_dialog_parent_class)->finalize(object);
}

#define BIND(name) gtk_widget_class_bind_template_child(widget_class, VesselMachineDialog, name)
#define BIND_ERROR(field, name) \
	gtk_widget_class_bind_template_child_full(widget_class, name, FALSE, \
		G_STRUCT_OFFSET(VesselMachineDialog, errors) + (field) * sizeof(GtkLabel *))

static void vessel_machine_dialog_class_init(VesselMachineDialogClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = vessel_machine_dialog_dispose;
	object_class->finalize = vessel_machine_dialog_finalize;

	signals[SIGNAL_SAVED] = g_signal_new("saved", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
					     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);

	gtk_widget_class_set_template_from_resource(widget_class,
						    "/dev/vessel/Vessel/machine-dialog.ui");
	BIND(save_button);
	BIND(name_row);
	BIND(kernel_row);
	BIND(initrd_row);
	BIND(cmdline_row);
	BIND(memory_spin);
	BIND(cpus_spin);
	BIND(window_switch);
	BIND(spice_switch);
	BIND(spice_port_row);
	BIND(spice_port_spin);
	BIND(spice_password_switch_row);
	BIND(spice_password_switch);
	BIND(spice_password_row);
	BIND_ERROR(PROFILE_FIELD_NAME, "name_error");
	BIND_ERROR(PROFILE_FIELD_KERNEL, "kernel_error");
	BIND_ERROR(PROFILE_FIELD_INITRD, "initrd_error");
	BIND_ERROR(PROFILE_FIELD_CMDLINE, "cmdline_error");
	BIND_ERROR(PROFILE_FIELD_MEMORY, "memory_error");
	BIND_ERROR(PROFILE_FIELD_CPUS, "cpus_error");
	BIND_ERROR(PROFILE_FIELD_DISPLAY, "display_error");
	BIND_ERROR(PROFILE_FIELD_SPICE_PORT, "spice_port_error");
	BIND_ERROR(PROFILE_FIELD_SPICE_PASSWORD, "spice_password_error");
	gtk_widget_class_bind_template_callback(widget_class, on_field_changed);
	gtk_widget_class_bind_template_callback(widget_class, on_save_clicked);
	gtk_widget_class_bind_template_callback(widget_class, on_cancel_clicked);
	gtk_widget_class_bind_template_callback(widget_class, on_kernel_choose_button_clicked);
	gtk_widget_class_bind_template_callback(widget_class, on_initrd_choose_button_clicked);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void vessel_machine_dialog_init(VesselMachineDialog *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
	self->error_rows[PROFILE_FIELD_NAME] = GTK_WIDGET(self->name_row);
	self->error_rows[PROFILE_FIELD_KERNEL] = GTK_WIDGET(self->kernel_row);
	self->error_rows[PROFILE_FIELD_INITRD] = GTK_WIDGET(self->initrd_row);
	self->error_rows[PROFILE_FIELD_CMDLINE] = GTK_WIDGET(self->cmdline_row);
	self->error_rows[PROFILE_FIELD_MEMORY] = GTK_WIDGET(self->memory_spin);
	self->error_rows[PROFILE_FIELD_CPUS] = GTK_WIDGET(self->cpus_spin);
	self->error_rows[PROFILE_FIELD_DISPLAY] = GTK_WIDGET(self->window_switch);
	self->error_rows[PROFILE_FIELD_SPICE_PORT] = GTK_WIDGET(self->spice_port_spin);
	self->error_rows[PROFILE_FIELD_SPICE_PASSWORD] = GTK_WIDGET(self->spice_password_row);
}

static void fill_fields(VesselMachineDialog *self)
{
	const struct profile *profile = self->profile;

	self->filling = TRUE;
	gtk_editable_set_text(GTK_EDITABLE(self->name_row), profile->name ? profile->name : "");
	gtk_editable_set_text(GTK_EDITABLE(self->kernel_row),
			      profile->kernel_path ? profile->kernel_path : "");
	gtk_editable_set_text(GTK_EDITABLE(self->initrd_row),
			      profile->initrd_path ? profile->initrd_path : "");
	gtk_editable_set_text(GTK_EDITABLE(self->cmdline_row), profile->cmdline ? profile->cmdline : "");
	/* An edited profile may ask for more than this host has: show it, and say so. */
	gtk_spin_button_set_range(self->memory_spin, PROFILE_MIN_MEMORY_MIB,
				  (double)MAX(self->limits.max_memory_mib, profile->memory_mib));
	gtk_spin_button_set_range(self->cpus_spin, 1, MAX(self->limits.max_cpus, profile->cpus));
	gtk_spin_button_set_value(self->memory_spin, (double)profile->memory_mib);
	gtk_spin_button_set_value(self->cpus_spin, profile->cpus);
	gtk_switch_set_active(self->window_switch, profile->display_window);
	gtk_switch_set_active(self->spice_switch, profile->spice);
	gtk_spin_button_set_value(self->spice_port_spin,
				  profile->spice_port ? profile->spice_port : PROFILE_DEFAULT_SPICE_PORT);
	gtk_switch_set_active(self->spice_password_switch, profile->spice_password_required);
	self->filling = FALSE;
}

VesselMachineDialog *vessel_machine_dialog_new(GtkWindow *parent, const struct profile *profile,
					       const char *machines_dir)
{
	VesselMachineDialog *self = g_object_new(VESSEL_TYPE_MACHINE_DIALOG,
						 "transient-for", parent, NULL);

	self->machines_dir = g_strdup(machines_dir);
	profile_host_limits(&self->limits);
	if (profile) {
		/* Re-read the file: what is saved keeps keys other versions wrote. */
		g_autofree char *password_path = profile_spice_password_path(profile);

		self->editing = TRUE;
		self->profile = profile_load(profile->dir);
		self->had_password = g_file_test(password_path, G_FILE_TEST_EXISTS);
		gtk_window_set_title(GTK_WINDOW(self), _("Edit Machine"));
		gtk_button_set_label(self->save_button, _("_Save"));
	} else {
		self->profile = profile_new("");
		gtk_window_set_title(GTK_WINDOW(self), _("New Machine"));
		gtk_button_set_label(self->save_button, _("C_reate"));
	}
	fill_fields(self);
	update_visibility(self);
	validate(self);
	gtk_widget_grab_focus(GTK_WIDGET(self->name_row));
	return self;
}
