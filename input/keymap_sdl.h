/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_INPUT_KEYMAP_SDL_H
#define VESSEL_INPUT_KEYMAP_SDL_H

#include <SDL2/SDL_scancode.h>

/*
 * SDL2 scan codes (USB HID keyboard usages, HID Usage Tables 1.3 §10, plus
 * SDL's own media keys from 257 on) to evdev KEY_* codes.  Returns 0
 * (KEY_RESERVED) for a scan code with no evdev equivalent.
 */
unsigned int keymap_sdl_to_evdev(SDL_Scancode scancode);

#endif
