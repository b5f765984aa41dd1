/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_MACHINE_CONTROL_H
#define VESSEL_VMM_MACHINE_CONTROL_H

#include "control.h"
#include "machine.h"

/*
 * The machine's control-socket commands (docs/control-protocol.md):
 * query-status, stop, cont, system_reset, system_powerdown, quit, pmemsave,
 * screendump.
 * Machine events (STOP, RESUME, RESET, SHUTDOWN, POWERDOWN) are forwarded to the
 * server's clients.
 */
void machine_control_register(struct control_server *server, struct machine *machine);

#endif
