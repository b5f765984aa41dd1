/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "machine-row.h"

#include "config.h"
#include <glib/gi18n-lib.h>


/* How many of the VMM's last lines a row shows when it is expanded. */
#define LOG_TAIL_LINES 12

struct _VesselMachineRow {
	AdwExpanderRow parent_instance;

	VesselMachine *machine;

	GtkSpinner *spinner;
	GtkLabel *state_label;
	GtkButton *start_button;
	GtkButton *resume_button;
	GtkButton *pause_button;
	GtkButton *reset_button;
	GtkButton *screenshot_button;
	GtkButton *stop_button;
	GtkButton *force_off_button;
	GtkMenuButton *menu_button;
	GtkLabel *error_label;
	GtkLabel *details_label;
	GtkLabel *log_label;
};

G_DEFINE_FINAL_TYPE(VesselMachineRow, vessel_machine_row, ADW_TYPE_EXPANDER_ROW)

static const char *const state_classes[] = {
	"stopped", "starting", "running", "paused", "stopping", "error",
};

static void update_text(VesselMachineRow *self)
{
	const struct profile *profile = vessel_machine_get_profile(self->machine);
	g_autofree char *subtitle = vessel_machine_describe(self->machine);
	g_autofree char *details = NULL;
	g_autofree char *title = g_markup_escape_text(vessel_machine_get_name(self->machine), -1);
	g_autofree char *escaped_subtitle = g_markup_escape_text(subtitle, -1);

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self), title);
	adw_expander_row_set_subtitle(ADW_EXPANDER_ROW(self), escaped_subtitle);
	if (profile->load_error)
		details = g_strdup_printf(_("Settings file: %s"), profile->path);
	else
		details = g_strdup_printf(_("Kernel: %s\nInitial RAM disk: %s\nCommand line: %s\nFolder: %s"),
					  profile->kernel_path ? profile->kernel_path : "",
					  profile->initrd_path && *profile->initrd_path
						  ? profile->initrd_path : _("none"),
					  profile->cmdline && *profile->cmdline
						  ? profile->cmdline : _("none"),
					  profile->dir ? profile->dir : "");
	gtk_label_set_text(self->details_label, details);
}

static void update_log(VesselMachineRow *self)
{
	g_autofree char *tail = vessel_machine_get_log_tail(self->machine, LOG_TAIL_LINES);

	gtk_label_set_text(self->log_label, tail);
	gtk_widget_set_visible(GTK_WIDGET(self->log_label), tail && *tail);
}

static void update_state(VesselMachineRow *self)
{
	VesselMachine *machine = self->machine;
	VesselVmState state = vessel_machine_get_state(machine);
	gboolean broken = vessel_machine_get_broken(machine);
	int seconds_left = vessel_machine_get_stop_seconds_left(machine);
	gboolean force_off = vessel_machine_get_force_off_offered(machine);
	gboolean running = state == VESSEL_VM_STATE_RUNNING || state == VESSEL_VM_STATE_PAUSED;
	const char *error = vessel_machine_get_error(machine);
	g_autofree char *state_text = NULL;

	if (broken)
		state_text = g_strdup(_("Unreadable"));
	else if (running && seconds_left > 0)
		/* TRANSLATORS: waiting for the guest to power down, seconds left */
		state_text = g_strdup_printf(ngettext("Stopping… %d s", "Stopping… %d s", seconds_left),
					     seconds_left);
	else if (running && force_off)
		state_text = g_strdup(_("Not responding"));
	else
		state_text = g_strdup(vessel_machine_state_label(state));
	gtk_label_set_text(self->state_label, state_text);
	for (guint i = 0; i < G_N_ELEMENTS(state_classes); i++)
		gtk_widget_remove_css_class(GTK_WIDGET(self->state_label), state_classes[i]);
	/* A guest that does not react to Stop looks like one stopping, not a healthy one. */
	if (running && (seconds_left >= 0 || force_off))
		gtk_widget_add_css_class(GTK_WIDGET(self->state_label), "stopping");
	else if ((guint)state < G_N_ELEMENTS(state_classes))
		gtk_widget_add_css_class(GTK_WIDGET(self->state_label), state_classes[state]);

	gtk_spinner_set_spinning(self->spinner, state == VESSEL_VM_STATE_STARTING ||
				 state == VESSEL_VM_STATE_STOPPING || (running && seconds_left > 0));
	gtk_widget_set_visible(GTK_WIDGET(self->start_button),
			       !broken && (state == VESSEL_VM_STATE_STOPPED ||
					   state == VESSEL_VM_STATE_ERROR));
	gtk_widget_set_visible(GTK_WIDGET(self->pause_button), state == VESSEL_VM_STATE_RUNNING);
	gtk_widget_set_visible(GTK_WIDGET(self->resume_button), state == VESSEL_VM_STATE_PAUSED);
	gtk_widget_set_visible(GTK_WIDGET(self->reset_button), running);
	gtk_widget_set_visible(GTK_WIDGET(self->screenshot_button), running);
	gtk_widget_set_visible(GTK_WIDGET(self->stop_button), running && seconds_left < 0 && !force_off);
	gtk_widget_set_visible(GTK_WIDGET(self->force_off_button),
			       force_off || state == VESSEL_VM_STATE_STARTING ||
			       state == VESSEL_VM_STATE_STOPPING);

	gtk_label_set_text(self->error_label, error ? error : "");
	gtk_widget_set_visible(GTK_WIDGET(self->error_label), error != NULL);
	/* Why it failed, or why it cannot be read, shows without a click. */
	if (error && (state == VESSEL_VM_STATE_ERROR || broken))
		adw_expander_row_set_expanded(ADW_EXPANDER_ROW(self), TRUE);
	update_log(self);
}

static GMenuModel *build_menu(const char *id)
{
	GMenu *menu = g_menu_new();
	g_autoptr(GMenuItem) edit = g_menu_item_new(_("_Edit…"), NULL);
	g_autoptr(GMenuItem) delete = g_menu_item_new(_("_Delete…"), NULL);

	g_menu_item_set_action_and_target(edit, "app.edit-machine", "s", id);
	g_menu_item_set_action_and_target(delete, "app.delete-machine", "s", id);
	g_menu_append_item(menu, edit);
	g_menu_append_item(menu, delete);
	return G_MENU_MODEL(menu);
}

static void vessel_machine_row_dispose(GObject *object)
{
	VesselMachineRow *self = VESSEL_MACHINE_ROW(object);

	if (self->machine)
		g_signal_handlers_disconnect_by_data(self->machine, self);
	g_clear_object(&self->machine);
	gtk_widget_dispose_template(GTK_WIDGET(self), VESSEL_TYPE_MACHINE_ROW);
	G_OBJECT_CLASS(vessel_machine_row_parent_class)->dispose(object);
}

static void vessel_machine_row_class_init(VesselMachineRowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = vessel_machine_row_dispose;
	gtk_widget_class_set_template_from_resource(widget_class, "/dev/vessel/Vessel/machine-row.ui");
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, spinner);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, state_label);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, start_button);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, resume_button);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, pause_button);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, reset_button);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, screenshot_button);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, stop_button);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, force_off_button);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, menu_button);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, error_label);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, details_label);
	gtk_widget_class_bind_template_child(widget_class, VesselMachineRow, log_label);
}

static void vessel_machine_row_init(VesselMachineRow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

static void on_machine_changed(VesselMachine *machine, GParamSpec *pspec, VesselMachineRow *self)
{
	if (g_str_equal(pspec->name, "name") || g_str_equal(pspec->name, "broken"))
		update_text(self);
	update_state(self);
}

GtkWidget *vessel_machine_row_new(VesselMachine *machine)
{
	VesselMachineRow *self = g_object_new(VESSEL_TYPE_MACHINE_ROW, NULL);
	const char *id = vessel_machine_get_profile(machine)->id;
	g_autoptr(GMenuModel) menu = build_menu(id);
	GtkButton *buttons[] = {
		self->start_button, self->resume_button, self->pause_button, self->reset_button,
		self->screenshot_button, self->stop_button, self->force_off_button,
	};

	self->machine = g_object_ref(machine);
	for (guint i = 0; i < G_N_ELEMENTS(buttons); i++)
		gtk_actionable_set_action_target(GTK_ACTIONABLE(buttons[i]), "s", id);
	gtk_menu_button_set_menu_model(self->menu_button, menu);
	/* Rows are found by name: tests (AT-SPI) and screen readers. */
	gtk_widget_set_name(GTK_WIDGET(self), id);

	g_signal_connect(machine, "notify", G_CALLBACK(on_machine_changed), self);
	g_signal_connect_swapped(self, "notify::expanded", G_CALLBACK(update_log), self);
	update_text(self);
	update_state(self);
	return GTK_WIDGET(self);
}
