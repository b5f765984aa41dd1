/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VESSEL_TYPE_WINDOW (vessel_window_get_type())
G_DECLARE_FINAL_TYPE(VesselWindow, vessel_window, VESSEL, WINDOW, AdwApplicationWindow)

/* machines: a GListModel of VesselMachine, shown as rows (empty state when none). */
VesselWindow *vessel_window_new(GtkApplication *application, GListModel *machines);

void vessel_window_show_toast(VesselWindow *self, const char *text);
/* Why machines run on the software CPU; NULL hides the notice. */
void vessel_window_set_kvm_notice(VesselWindow *self, const char *text);
/* Demo preparation: progress (fraction < 0: pulse), failure (with Try Again), or hidden. */
void vessel_window_show_demo_progress(VesselWindow *self, double fraction, const char *text);
void vessel_window_show_demo_failure(VesselWindow *self, const char *text);
void vessel_window_hide_demo(VesselWindow *self);

/* Signal "demo-retry": the user asked to prepare the demo again. */

G_END_DECLS
