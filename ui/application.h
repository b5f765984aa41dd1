/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VESSEL_TYPE_APPLICATION (vessel_application_get_type())
G_DECLARE_FINAL_TYPE(VesselApplication, vessel_application, VESSEL, APPLICATION, AdwApplication)

VesselApplication *vessel_application_new(void);

G_END_DECLS
