/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_APP_VESSEL_MACHINE_H
#define VESSEL_APP_VESSEL_MACHINE_H

/*
 * A machine as the app shows it: its profile (app/profile.h) and, while it
 * runs, its vessel-vmm (app/vm_process.h).  The widgets in ui/ bind to its
 * properties and call its actions; it knows nothing of GTK.
 *
 * Properties: "name", "state" (VesselVmState as int), "error" (string or
 * NULL), "broken" (the profile cannot be read: nothing but Delete works),
 * "stop-seconds-left" (int, -1 when no Stop is pending),
 * "force-off-offered" (bool: Stop waited long enough, or the guest cannot be
 * asked).  Signal "message" (string): a one-line result for a toast.
 */

#include <gio/gio.h>

#include "profile.h"
#include "vm_process.h"

G_BEGIN_DECLS

#define VESSEL_TYPE_MACHINE (vessel_machine_get_type())
G_DECLARE_FINAL_TYPE(VesselMachine, vessel_machine, VESSEL, MACHINE, GObject)

/* Takes profile.  vmm_path: vessel-vmm; runtime_dir: private folder for control sockets. */
VesselMachine *vessel_machine_new(struct profile *profile, const char *vmm_path,
				  const char *runtime_dir);

const struct profile *vessel_machine_get_profile(VesselMachine *self);
/* After an edit was saved: takes profile (same id). */
void vessel_machine_set_profile(VesselMachine *self, struct profile *profile);

const char *vessel_machine_get_name(VesselMachine *self);
VesselVmState vessel_machine_get_state(VesselMachine *self);
const char *vessel_machine_get_error(VesselMachine *self);
gboolean vessel_machine_get_broken(VesselMachine *self);
int vessel_machine_get_stop_seconds_left(VesselMachine *self);
gboolean vessel_machine_get_force_off_offered(VesselMachine *self);
/* "Linux kernel vmlinuz-… · 1 GiB · 2 CPUs". */
char *vessel_machine_describe(VesselMachine *self);
/* The last lines the VMM printed (this run or the last one). */
char *vessel_machine_get_log_tail(VesselMachine *self, guint lines);
/* Translated state name: "Stopped", "Running", ... */
const char *vessel_machine_state_label(VesselVmState state);

/* Seconds Stop waits for the guest before offering Force Off. */
void vessel_machine_set_stop_timeout(VesselMachine *self, guint seconds);

gboolean vessel_machine_start(VesselMachine *self, GError **error);
void vessel_machine_stop(VesselMachine *self);
void vessel_machine_force_off(VesselMachine *self);
void vessel_machine_pause(VesselMachine *self);
void vessel_machine_resume(VesselMachine *self);
void vessel_machine_reset(VesselMachine *self);
/* Saves a PNG of the guest screen into folder; the "message" signal says where. */
void vessel_machine_screenshot(VesselMachine *self, const char *folder);
gboolean vessel_machine_delete(VesselMachine *self, gboolean delete_disks, GError **error);

G_END_DECLS

#endif
