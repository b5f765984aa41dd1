/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_PS2_KEYBOARD_H
#define VESSEL_VMM_PS2_KEYBOARD_H

#include "i8042.h"
#include "input.h"
#include "timer.h"

/*
 * A PS/2 MF2 keyboard behind the i8042's keyboard port: the host's keys
 * (evdev codes from struct input) become scan code set 2 (or set 1)
 * sequences, held keys repeat at the guest-programmed typematic rate on the
 * machine's timer thread, and the guest's LED settings go back to input.
 */
struct ps2_keyboard;

/* Attaches itself to @i8042's keyboard port and to @input as its keyboard. */
struct ps2_keyboard *ps2_keyboard_new(struct i8042 *i8042, struct input *input,
				      struct timer_service *timers);
/* Detaches; call before freeing the i8042, the input or the timer service. */
void ps2_keyboard_free(struct ps2_keyboard *keyboard);
/* Power-on state: scanning, set 2, default typematic, LEDs off. */
void ps2_keyboard_reset(struct ps2_keyboard *keyboard);

#endif
