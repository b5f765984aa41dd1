/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "window.h"

#include "config.h"
#include <glib/gi18n-lib.h>

#include "machine-row.h"
#include "vessel_machine.h"

struct _VesselWindow {
	AdwApplicationWindow parent_instance;

	GListModel *machines;

	GtkRevealer *kvm_revealer;
	GtkLabel *kvm_label;
	GtkRevealer *demo_revealer;
	GtkLabel *demo_label;
	GtkProgressBar *demo_progress;
	GtkButton *demo_retry_button;
	AdwToastOverlay *toast_overlay;
	GtkStack *stack;
	GtkListBox *machine_list;
};

G_DEFINE_FINAL_TYPE(VesselWindow, vessel_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
	SIGNAL_DEMO_RETRY,
	N_SIGNALS
};

static guint signals[N_SIGNALS];

static void on_demo_retry_clicked(VesselWindow *self)
{
	g_signal_emit(self, signals[SIGNAL_DEMO_RETRY], 0);
}

static void vessel_window_dispose(GObject *object)
{
	VesselWindow *self = VESSEL_WINDOW(object);

	if (self->machines)
		g_signal_handlers_disconnect_by_data(self->machines, self);
	g_clear_object(&self->machines);
	gtk_widget_dispose_template(GTK_WIDGET(self), VESSEL_TYPE_WINDOW);
	G_OBJECT_CLASS(vessel_window_parent_class)->dispose(object);
}

static void vessel_window_class_init(VesselWindowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->dispose = vessel_window_dispose;
	signals[SIGNAL_DEMO_RETRY] = g_signal_new("demo-retry", G_TYPE_FROM_CLASS(klass),
						  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
						  G_TYPE_NONE, 0);
	gtk_widget_class_set_template_from_resource(widget_class, "/dev/vessel/Vessel/window.ui");
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, kvm_revealer);
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, kvm_label);
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, demo_revealer);
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, demo_label);
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, demo_progress);
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, demo_retry_button);
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, toast_overlay);
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, stack);
	gtk_widget_class_bind_template_child(widget_class, VesselWindow, machine_list);
	gtk_widget_class_bind_template_callback(widget_class, on_demo_retry_clicked);
}

static void vessel_window_init(VesselWindow *self)
{
	gtk_widget_init_template(GTK_WIDGET(self));
}

static GtkWidget *create_row(gpointer item, gpointer user_data)
{
	return vessel_machine_row_new(VESSEL_MACHINE(item));
}

static void update_page(VesselWindow *self)
{
	gtk_stack_set_visible_child_name(self->stack,
					 g_list_model_get_n_items(self->machines) ? "list" : "empty");
}

VesselWindow *vessel_window_new(GtkApplication *application, GListModel *machines)
{
	VesselWindow *self = g_object_new(VESSEL_TYPE_WINDOW, "application", application, NULL);

	self->machines = g_object_ref(machines);
	gtk_list_box_bind_model(self->machine_list, machines, create_row, NULL, NULL);
	g_signal_connect_swapped(machines, "items-changed", G_CALLBACK(update_page), self);
	update_page(self);
	return self;
}

void vessel_window_show_toast(VesselWindow *self, const char *text)
{
	AdwToast *toast = adw_toast_new(text);

	adw_toast_set_timeout(toast, 6);
	adw_toast_overlay_add_toast(self->toast_overlay, toast);
}

void vessel_window_set_kvm_notice(VesselWindow *self, const char *text)
{
	gtk_label_set_text(self->kvm_label, text ? text : "");
	gtk_revealer_set_reveal_child(self->kvm_revealer, text != NULL);
}

void vessel_window_show_demo_progress(VesselWindow *self, double fraction, const char *text)
{
	gtk_label_set_text(self->demo_label, text);
	gtk_widget_remove_css_class(GTK_WIDGET(self->demo_label), "error");
	gtk_widget_set_visible(GTK_WIDGET(self->demo_retry_button), FALSE);
	gtk_widget_set_visible(GTK_WIDGET(self->demo_progress), TRUE);
	if (fraction < 0)
		gtk_progress_bar_pulse(self->demo_progress);
	else
		gtk_progress_bar_set_fraction(self->demo_progress, fraction);
	gtk_revealer_set_reveal_child(self->demo_revealer, TRUE);
}

void vessel_window_show_demo_failure(VesselWindow *self, const char *text)
{
	g_autofree char *message = g_strdup_printf(_("The demo machine could not be prepared: %s"),
						   text);

	gtk_label_set_text(self->demo_label, message);
	gtk_widget_add_css_class(GTK_WIDGET(self->demo_label), "error");
	gtk_widget_set_visible(GTK_WIDGET(self->demo_retry_button), TRUE);
	gtk_widget_set_visible(GTK_WIDGET(self->demo_progress), FALSE);
	gtk_revealer_set_reveal_child(self->demo_revealer, TRUE);
}

void vessel_window_hide_demo(VesselWindow *self)
{
	gtk_revealer_set_reveal_child(self->demo_revealer, FALSE);
}
