/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

#include "profile.h"

G_BEGIN_DECLS

#define VESSEL_TYPE_MACHINE_DIALOG (vessel_machine_dialog_get_type())
G_DECLARE_FINAL_TYPE(VesselMachineDialog, vessel_machine_dialog, VESSEL, MACHINE_DIALOG, AdwWindow)

/*
 * New Machine (profile NULL) or Edit (a copy of profile is edited).  On a
 * successful save the dialog emits "saved" with the saved struct profile *
 * (owned by the dialog during the signal: copy or re-load what you keep)
 * and closes.  Invalid fields get inline messages; nothing typed is lost.
 */
VesselMachineDialog *vessel_machine_dialog_new(GtkWindow *parent, const struct profile *profile,
					       const char *machines_dir);

G_END_DECLS
