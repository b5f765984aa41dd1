/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_APP_CONSOLE_H
#define VESSEL_APP_CONSOLE_H

#include <glib.h>

#include "machine.h"

/*
 * The host side of `--serial stdio`: the terminal in character mode (no
 * line editing, no echo: the guest echoes), stdin bytes fed to the guest's
 * COM1 from the I/O thread, with back-pressure when the guest reads slowly.
 * Ctrl-C still ends the VMM, as with QEMU's -serial stdio.
 */
struct console;

struct console *console_new(struct machine *machine, GMainContext *context);
void console_free(struct console *console);	/* restores the terminal */

#endif
