/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_APP_VM_PROCESS_H
#define VESSEL_APP_VM_PROCESS_H

/*
 * One running vessel-vmm, seen from the app (docs/architecture.md, "VM
 * supervision"): spawns `vessel-vmm --profile FILE --control SOCKET`,
 * writes everything the VMM prints into the run log (and keeps the last
 * lines in memory), talks to it over the control socket (docs/control-protocol.md)
 * and follows its state from the socket's events and the process's exit.
 *
 * GLib/GIO/json-glib only (no GTK).  All calls and signals on the thread
 * whose main context was the thread-default when the object was made.
 */

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
	VESSEL_VM_STATE_STOPPED,	/* not running (never started, or ended cleanly) */
	VESSEL_VM_STATE_STARTING,	/* spawned; control socket not negotiated yet */
	VESSEL_VM_STATE_RUNNING,
	VESSEL_VM_STATE_PAUSED,
	VESSEL_VM_STATE_STOPPING,	/* power-down or force off asked; waiting for exit */
	VESSEL_VM_STATE_ERROR,		/* failed to start, or ended with an error / crash */
} VesselVmState;

#define VESSEL_TYPE_VM_PROCESS (vessel_vm_process_get_type())
G_DECLARE_FINAL_TYPE(VesselVmProcess, vessel_vm_process, VESSEL, VM_PROCESS, GObject)

/*
 * vmm_path: the vessel-vmm executable.  profile_path: machine.ini (NULL:
 * none, the options come from extra_args alone — for tests and scripts).
 * socket_path: where the control socket goes (its folder exists, mode 0700).
 * log_path: the run log (appended to; a header line per start).
 */
VesselVmProcess *vessel_vm_process_new(const char *vmm_path, const char *profile_path,
				       const char *socket_path, const char *log_path);

/*
 * Spawns the VMM (state STARTING, then RUNNING once the control socket
 * answers, or ERROR).  extra_args: more vessel-vmm options (may be NULL).
 * Fails at once only when the process cannot be spawned; everything later
 * shows as state ERROR with vessel_vm_process_get_error().
 */
gboolean vessel_vm_process_start(VesselVmProcess *self, const char *const *extra_args,
				 GError **error);

VesselVmState vessel_vm_process_get_state(VesselVmProcess *self);

/* In state ERROR: a sentence for the user (e.g. the VMM's own error line). */
const char *vessel_vm_process_get_error(VesselVmProcess *self);

/* The last (up to) n lines the VMM printed, oldest first, joined with '\n'. */
char *vessel_vm_process_get_log_tail(VesselVmProcess *self, guint n);

/*
 * Runs a control command (arguments may be NULL; not taken).  The result
 * is the reply's "return" value; an "error" reply is a G_IO_ERROR_FAILED
 * GError whose message is the VMM's "desc".
 */
void vessel_vm_process_execute_async(VesselVmProcess *self, const char *command,
				     JsonObject *arguments, GCancellable *cancellable,
				     GAsyncReadyCallback callback, gpointer user_data);
JsonNode *vessel_vm_process_execute_finish(VesselVmProcess *self, GAsyncResult *result,
					   GError **error);

/*
 * Ends the VMM without asking the guest: `quit` over the socket, and
 * SIGKILL if the process has not exited 3 s later (or at once when the
 * socket is not there).  State STOPPING, then STOPPED.
 */
void vessel_vm_process_force_off(VesselVmProcess *self);

/*
 * Signals:
 *   "notify::state"  — the state changed.
 *   "event" (const char *name, JsonObject *data) — every control event.
 *   "log-line" (const char *line) — each line the VMM printed.
 *   "exited" (int wait_status) — the process ended (state already updated).
 */

G_END_DECLS

#endif
