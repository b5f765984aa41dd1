/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_INPUT_INPUT_H
#define VESSEL_INPUT_INPUT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One vocabulary for host input: Linux evdev codes (KEY_*, BTN_* from
 * <linux/input-event-codes.h>).  Front ends (the SDL window, SPICE later)
 * translate their events into it once; guest devices (the PS/2 keyboard and
 * mouse behind the i8042) translate from it once.
 *
 * struct input routes events from any front-end thread to the devices
 * attached to it.  It remembers which keys and buttons are down, so
 * input_release_all() can send a release for each (a window losing focus
 * must not leave a key stuck in the guest).
 */

#define INPUT_KEY_MAX 0x300	/* evdev codes below this are tracked */

struct input_keyboard_ops {
	/* A key (evdev KEY_* code) went down or up. */
	void (*key)(void *opaque, unsigned int code, bool down);
};

struct input_pointer_ops {
	/* Relative motion in device units (host pixels), dz: wheel notches (+ is away from the user). */
	void (*motion)(void *opaque, int dx, int dy, int dz);
	/* BTN_LEFT, BTN_RIGHT, BTN_MIDDLE. */
	void (*button)(void *opaque, unsigned int code, bool down);
};

/* Keyboard LED bits, as the guest sets them. */
#define INPUT_LED_SCROLL_LOCK	(1u << 0)
#define INPUT_LED_NUM_LOCK	(1u << 1)
#define INPUT_LED_CAPS_LOCK	(1u << 2)

typedef void (*input_led_fn)(void *opaque, unsigned int leds);

struct input;

struct input *input_new(void);
void input_free(struct input *input);

/* Device side: at most one keyboard and one pointer. */
void input_attach_keyboard(struct input *input, const struct input_keyboard_ops *ops, void *opaque);
void input_attach_pointer(struct input *input, const struct input_pointer_ops *ops, void *opaque);
/* The guest set its keyboard LEDs; front ends listening are told. */
void input_set_leds(struct input *input, unsigned int leds);

/* Front-end side; any thread. */
void input_key(struct input *input, unsigned int code, bool down);
void input_motion(struct input *input, int dx, int dy, int dz);
void input_button(struct input *input, unsigned int code, bool down);
/* Releases every key and button still down. */
void input_release_all(struct input *input);
/*
 * @fn runs on the thread that set the LEDs (a vCPU thread) with no input
 * lock held, only when they change; it should hand the value to its own
 * thread and return.
 */
void input_set_led_listener(struct input *input, input_led_fn fn, void *opaque);
unsigned int input_get_leds(struct input *input);

#endif
