/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * struct input between fake front ends and fake devices: what is forwarded,
 * what is dropped, release_all, LEDs, and events from several threads.
 */
#include <glib.h>
#include <linux/input-event-codes.h>

#include "input.h"

struct event {
	char kind;		/* 'k' key, 'b' button, 'm' motion */
	unsigned int code;
	bool down;
	int dx, dy, dz;
};

struct recorder {
	GArray *events;
	gint key_downs[INPUT_KEY_MAX], key_ups[INPUT_KEY_MAX];
};

static void record_key(void *opaque, unsigned int code, bool down)
{
	struct recorder *r = opaque;
	struct event e = { 'k', code, down };

	g_array_append_val(r->events, e);
	/* Not atomic on purpose: input must deliver one event at a time. */
	if (down)
		r->key_downs[code]++;
	else
		r->key_ups[code]++;
}

static void record_motion(void *opaque, int dx, int dy, int dz)
{
	struct recorder *r = opaque;
	struct event e = { 'm', 0, false, dx, dy, dz };

	g_array_append_val(r->events, e);
}

static void record_button(void *opaque, unsigned int code, bool down)
{
	struct recorder *r = opaque;
	struct event e = { 'b', code, down };

	g_array_append_val(r->events, e);
}

static const struct input_keyboard_ops keyboard_ops = { .key = record_key };
static const struct input_pointer_ops pointer_ops = {
	.motion = record_motion,
	.button = record_button,
};

struct fixture {
	struct input *input;
	struct recorder rec;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	f->input = input_new();
	f->rec = (struct recorder){ .events = g_array_new(FALSE, TRUE, sizeof(struct event)) };
	input_attach_keyboard(f->input, &keyboard_ops, &f->rec);
	input_attach_pointer(f->input, &pointer_ops, &f->rec);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	input_free(f->input);
	g_array_unref(f->rec.events);
}

static const struct event *event_at(struct fixture *f, unsigned int i)
{
	g_assert_cmpuint(i, <, f->rec.events->len);
	return &g_array_index(f->rec.events, struct event, i);
}

static void test_keys(struct fixture *f, gconstpointer data)
{
	input_key(f->input, KEY_A, true);
	/* The host's auto-repeat: the PS/2 keyboard repeats by itself. */
	input_key(f->input, KEY_A, true);
	input_key(f->input, KEY_A, true);
	input_key(f->input, KEY_A, false);
	/* A release without a press (pressed before the window had focus). */
	input_key(f->input, KEY_B, false);
	input_key(f->input, KEY_A, false);
	/* Codes beyond what input tracks are not forwarded. */
	input_key(f->input, INPUT_KEY_MAX, true);

	g_assert_cmpuint(f->rec.events->len, ==, 2);
	g_assert_cmpint(event_at(f, 0)->kind, ==, 'k');
	g_assert_cmpuint(event_at(f, 0)->code, ==, KEY_A);
	g_assert_true(event_at(f, 0)->down);
	g_assert_cmpuint(event_at(f, 1)->code, ==, KEY_A);
	g_assert_false(event_at(f, 1)->down);
}

static void test_pointer(struct fixture *f, gconstpointer data)
{
	input_motion(f->input, 3, -4, 1);
	input_motion(f->input, 0, 0, 0);	/* nothing to tell */
	input_button(f->input, BTN_LEFT, true);
	input_button(f->input, BTN_LEFT, true);
	input_button(f->input, BTN_RIGHT, false);
	input_button(f->input, BTN_LEFT, false);

	g_assert_cmpuint(f->rec.events->len, ==, 3);
	g_assert_cmpint(event_at(f, 0)->kind, ==, 'm');
	g_assert_cmpint(event_at(f, 0)->dx, ==, 3);
	g_assert_cmpint(event_at(f, 0)->dy, ==, -4);
	g_assert_cmpint(event_at(f, 0)->dz, ==, 1);
	g_assert_cmpint(event_at(f, 1)->kind, ==, 'b');
	g_assert_cmpuint(event_at(f, 1)->code, ==, BTN_LEFT);
	g_assert_true(event_at(f, 1)->down);
	g_assert_cmpint(event_at(f, 2)->kind, ==, 'b');
	g_assert_false(event_at(f, 2)->down);
}

static void test_release_all(struct fixture *f, gconstpointer data)
{
	bool released[INPUT_KEY_MAX] = { false };

	input_key(f->input, KEY_LEFTCTRL, true);
	input_key(f->input, KEY_LEFTALT, true);
	input_key(f->input, KEY_F2, true);
	input_key(f->input, KEY_F2, false);
	input_key(f->input, KEY_RIGHTMETA, true);
	input_button(f->input, BTN_MIDDLE, true);
	g_array_set_size(f->rec.events, 0);

	input_release_all(f->input);
	g_assert_cmpuint(f->rec.events->len, ==, 4);
	for (unsigned int i = 0; i < f->rec.events->len; i++) {
		const struct event *e = event_at(f, i);

		g_assert_false(e->down);
		g_assert_cmpint(e->kind, ==, e->code == BTN_MIDDLE ? 'b' : 'k');
		released[e->code] = true;
	}
	g_assert_true(released[KEY_LEFTCTRL]);
	g_assert_true(released[KEY_LEFTALT]);
	g_assert_true(released[KEY_RIGHTMETA]);
	g_assert_true(released[BTN_MIDDLE]);

	/* All up now: neither a second release_all nor the real releases send more. */
	input_release_all(f->input);
	input_key(f->input, KEY_LEFTCTRL, false);
	input_button(f->input, BTN_MIDDLE, false);
	g_assert_cmpuint(f->rec.events->len, ==, 4);
	/* And the key can go down again. */
	input_key(f->input, KEY_LEFTCTRL, true);
	g_assert_cmpuint(f->rec.events->len, ==, 5);
}

static void count_leds(void *opaque, unsigned int leds)
{
	GArray *seen = opaque;

	g_array_append_val(seen, leds);
}

static void test_leds(struct fixture *f, gconstpointer data)
{
	GArray *seen = g_array_new(FALSE, FALSE, sizeof(unsigned int));

	g_assert_cmpuint(input_get_leds(f->input), ==, 0);
	input_set_led_listener(f->input, count_leds, seen);
	input_set_leds(f->input, INPUT_LED_CAPS_LOCK | INPUT_LED_NUM_LOCK);
	g_assert_cmpuint(input_get_leds(f->input), ==, INPUT_LED_CAPS_LOCK | INPUT_LED_NUM_LOCK);
	input_set_leds(f->input, INPUT_LED_CAPS_LOCK | INPUT_LED_NUM_LOCK);	/* no change */
	input_set_leds(f->input, INPUT_LED_SCROLL_LOCK);
	g_assert_cmpuint(seen->len, ==, 2);
	g_assert_cmpuint(g_array_index(seen, unsigned int, 0), ==, INPUT_LED_CAPS_LOCK | INPUT_LED_NUM_LOCK);
	g_assert_cmpuint(g_array_index(seen, unsigned int, 1), ==, INPUT_LED_SCROLL_LOCK);
	g_array_unref(seen);
}

#define THREADS		4
#define ROUNDS		20000

struct typist {
	struct input *input;
	unsigned int code;
};

static gpointer typist_run(gpointer data)
{
	struct typist *t = data;

	for (unsigned int i = 0; i < ROUNDS; i++) {
		input_key(t->input, t->code, true);
		input_key(t->input, t->code, true);	/* host auto-repeat */
		input_key(t->input, t->code, false);
	}
	return NULL;
}

static void test_threads(struct fixture *f, gconstpointer data)
{
	/* Neighbouring codes share a word of the down bitmap. */
	struct typist typists[THREADS];
	GThread *threads[THREADS];

	for (unsigned int i = 0; i < THREADS; i++) {
		typists[i] = (struct typist){ f->input, KEY_Q + i };
		threads[i] = g_thread_new("typist", typist_run, &typists[i]);
	}
	for (unsigned int i = 0; i < THREADS; i++)
		g_thread_join(threads[i]);
	for (unsigned int i = 0; i < THREADS; i++) {
		g_assert_cmpint(f->rec.key_downs[KEY_Q + i], ==, ROUNDS);
		g_assert_cmpint(f->rec.key_ups[KEY_Q + i], ==, ROUNDS);
	}
	g_assert_cmpuint(f->rec.events->len, ==, 2 * THREADS * ROUNDS);
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/input/keys", test_keys);
	ADD("/input/pointer", test_pointer);
	ADD("/input/release-all", test_release_all);
	ADD("/input/leds", test_leds);
	ADD("/input/threads", test_threads);
	return g_test_run();
}
