/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

#include "vessel_machine.h"

G_BEGIN_DECLS

#define VESSEL_TYPE_MACHINE_ROW (vessel_machine_row_get_type())
G_DECLARE_FINAL_TYPE(VesselMachineRow, vessel_machine_row, VESSEL, MACHINE_ROW, AdwExpanderRow)

/* One machine in the main window's list; its buttons activate app.*-machine('<id>'). */
GtkWidget *vessel_machine_row_new(VesselMachine *machine);

G_END_DECLS
