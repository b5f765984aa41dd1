/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "input.h"

#include <glib.h>
#include <limits.h>
#include <linux/input-event-codes.h>

#define BITS_PER_LONG	(CHAR_BIT * sizeof(unsigned long))

/*
 * Two locks.  `lock` orders events: it is held while a device callback
 * runs, so two front-end threads cannot interleave a key's press with its
 * release inside the device, and the down bitmap always matches what the
 * devices were told.  `led_lock` is a leaf for the LED state: the keyboard
 * device sets the LEDs from a vCPU thread while a front end may hold `lock`
 * and wait for the keyboard's own lock, so input_set_leds must not take
 * `lock`.
 */
struct input {
	GMutex lock;
	const struct input_keyboard_ops *keyboard_ops;
	void *keyboard_opaque;
	const struct input_pointer_ops *pointer_ops;
	void *pointer_opaque;
	/* Keys and buttons (BTN_* are evdev codes too) the devices saw go down. */
	unsigned long down[(INPUT_KEY_MAX + BITS_PER_LONG - 1) / BITS_PER_LONG];

	GMutex led_lock;
	unsigned int leds;
	input_led_fn led_fn;
	void *led_opaque;
};

static bool is_down(const struct input *input, unsigned int code)
{
	return input->down[code / BITS_PER_LONG] & (1ul << (code % BITS_PER_LONG));
}

/* Returns false when @code is already in that state: nothing to forward. */
static bool set_down(struct input *input, unsigned int code, bool down)
{
	unsigned long bit = 1ul << (code % BITS_PER_LONG);

	if (code >= INPUT_KEY_MAX || is_down(input, code) == down)
		return false;
	if (down)
		input->down[code / BITS_PER_LONG] |= bit;
	else
		input->down[code / BITS_PER_LONG] &= ~bit;
	return true;
}

static bool is_button(unsigned int code)
{
	return code >= BTN_MISC && code < KEY_OK;
}

struct input *input_new(void)
{
	struct input *input = g_new0(struct input, 1);

	g_mutex_init(&input->lock);
	g_mutex_init(&input->led_lock);
	return input;
}

void input_free(struct input *input)
{
	if (!input)
		return;
	g_mutex_clear(&input->led_lock);
	g_mutex_clear(&input->lock);
	g_free(input);
}

void input_attach_keyboard(struct input *input, const struct input_keyboard_ops *ops, void *opaque)
{
	g_mutex_lock(&input->lock);
	input->keyboard_ops = ops;
	input->keyboard_opaque = opaque;
	g_mutex_unlock(&input->lock);
}

void input_attach_pointer(struct input *input, const struct input_pointer_ops *ops, void *opaque)
{
	g_mutex_lock(&input->lock);
	input->pointer_ops = ops;
	input->pointer_opaque = opaque;
	g_mutex_unlock(&input->lock);
}

/*
 * A key going down while already down is the host's auto-repeat: dropped,
 * because the PS/2 keyboard repeats by itself at the rate the guest
 * programmed (F3), and forwarding both would double the rate.  A release of
 * a key not down (pressed before the window had focus, or already released
 * by input_release_all) is dropped too: the guest never saw the press.
 */
void input_key(struct input *input, unsigned int code, bool down)
{
	g_mutex_lock(&input->lock);
	if (set_down(input, code, down) && input->keyboard_ops && input->keyboard_ops->key)
		input->keyboard_ops->key(input->keyboard_opaque, code, down);
	g_mutex_unlock(&input->lock);
}

void input_motion(struct input *input, int dx, int dy, int dz)
{
	g_mutex_lock(&input->lock);
	if ((dx || dy || dz) && input->pointer_ops && input->pointer_ops->motion)
		input->pointer_ops->motion(input->pointer_opaque, dx, dy, dz);
	g_mutex_unlock(&input->lock);
}

void input_button(struct input *input, unsigned int code, bool down)
{
	g_mutex_lock(&input->lock);
	if (set_down(input, code, down) && input->pointer_ops && input->pointer_ops->button)
		input->pointer_ops->button(input->pointer_opaque, code, down);
	g_mutex_unlock(&input->lock);
}

void input_release_all(struct input *input)
{
	g_mutex_lock(&input->lock);
	for (unsigned int code = 0; code < INPUT_KEY_MAX; code++) {
		if (!is_down(input, code))
			continue;
		set_down(input, code, false);
		if (is_button(code)) {
			if (input->pointer_ops && input->pointer_ops->button)
				input->pointer_ops->button(input->pointer_opaque, code, false);
		} else if (input->keyboard_ops && input->keyboard_ops->key) {
			input->keyboard_ops->key(input->keyboard_opaque, code, false);
		}
	}
	g_mutex_unlock(&input->lock);
}

/*
 * The listener runs on the thread that set the LEDs (a vCPU thread, from
 * the keyboard's ED command) with no input lock held, so it may call back
 * into input_*; it should only post the change to its own thread.
 */
void input_set_leds(struct input *input, unsigned int leds)
{
	input_led_fn fn;
	void *opaque;
	bool changed;

	g_mutex_lock(&input->led_lock);
	changed = input->leds != leds;
	input->leds = leds;
	fn = input->led_fn;
	opaque = input->led_opaque;
	g_mutex_unlock(&input->led_lock);
	if (changed && fn)
		fn(opaque, leds);
}

void input_set_led_listener(struct input *input, input_led_fn fn, void *opaque)
{
	g_mutex_lock(&input->led_lock);
	input->led_fn = fn;
	input->led_opaque = opaque;
	g_mutex_unlock(&input->led_lock);
}

unsigned int input_get_leds(struct input *input)
{
	unsigned int leds;

	g_mutex_lock(&input->led_lock);
	leds = input->leds;
	g_mutex_unlock(&input->led_lock);
	return leds;
}
