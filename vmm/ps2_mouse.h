/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_PS2_MOUSE_H
#define VESSEL_VMM_PS2_MOUSE_H

#include "i8042.h"
#include "input.h"

/*
 * A PS/2 mouse with the IntelliMouse wheel extension behind the i8042's
 * auxiliary port.  Host motion (struct input's pointer) accumulates and is
 * sent as one packet at a time: the next packet goes out when the guest has
 * read the previous one, so motion coalesces while the guest is busy.
 */
struct ps2_mouse;

/* Attaches itself to @i8042's auxiliary port and to @input as its pointer. */
struct ps2_mouse *ps2_mouse_new(struct i8042 *i8042, struct input *input);
/* Detaches; call before freeing the i8042 or the input. */
void ps2_mouse_free(struct ps2_mouse *mouse);
/* Power-on state: stream mode, reporting off, standard mouse (ID 0). */
void ps2_mouse_reset(struct ps2_mouse *mouse);

#endif
