/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_APP_DEMO_SETUP_H
#define VESSEL_APP_DEMO_SETUP_H

/*
 * Runs the demo machine's preparation script (data/demo/vessel-prepare-demo,
 * docs/demo.md) and reports its progress lines.  GIO only.
 *
 * Signals: "progress" (double fraction, const char *message);
 * "finished" (const char *kernel, const char *initrd, const char *cmdline);
 * "failed" (const char *message).
 */

#include <gio/gio.h>

G_BEGIN_DECLS

#define VESSEL_TYPE_DEMO_SETUP (vessel_demo_setup_get_type())
G_DECLARE_FINAL_TYPE(VesselDemoSetup, vessel_demo_setup, VESSEL, DEMO_SETUP, GObject)

VesselDemoSetup *vessel_demo_setup_new(const char *script_path);
/* Starts the script; "failed" is emitted (from the main loop) when it cannot run. */
void vessel_demo_setup_start(VesselDemoSetup *self);

G_END_DECLS

#endif
