/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PS/2 keyboard and mouse behind a real i8042, driven through ports
 * 0x60/0x64 as a guest driver does, with host events coming through a real
 * struct input and typematic repeats on a real timer service.
 */
#include <glib.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "i8042.h"
#include "input.h"
#include "ps2_keyboard.h"
#include "ps2_mouse.h"
#include "timer.h"

#define ST_OBF		0x01
#define ST_AUX		0x20
#define MS		1000000ll

struct fixture {
	struct timer_service *timers;
	struct input *input;
	struct i8042 *c;
	struct ps2_keyboard *kbd;
	struct ps2_mouse *mouse;
	GArray *led_calls;
};

static void led_listener(void *opaque, unsigned int leds)
{
	g_array_append_val((GArray *)opaque, leds);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	f->timers = timer_service_new();
	f->input = input_new();
	f->c = i8042_new((struct irq_line){ 0 }, (struct irq_line){ 0 }, NULL, NULL);
	f->kbd = ps2_keyboard_new(f->c, f->input, f->timers);
	f->mouse = ps2_mouse_new(f->c, f->input);
	f->led_calls = g_array_new(FALSE, FALSE, sizeof(unsigned int));
	input_set_led_listener(f->input, led_listener, f->led_calls);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	ps2_mouse_free(f->mouse);
	ps2_keyboard_free(f->kbd);
	i8042_free(f->c);
	input_free(f->input);
	timer_service_free(f->timers);
	g_array_unref(f->led_calls);
}

static uint8_t status(struct fixture *f)
{
	return (uint8_t)i8042_command_ops.read(f->c, 0, 1);
}

static void command(struct fixture *f, uint8_t cmd)
{
	i8042_command_ops.write(f->c, 0, cmd, 1);
}

static void data_write(struct fixture *f, uint8_t value)
{
	i8042_data_ops.write(f->c, 0, value, 1);
}

static void mouse_write(struct fixture *f, uint8_t value)
{
	command(f, 0xd4);
	data_write(f, value);
}

static void write_ccb(struct fixture *f, uint8_t ccb)
{
	command(f, 0x60);
	data_write(f, ccb);
}

/* Reads everything waiting, checking each byte comes from the device expected. */
static GByteArray *read_all(struct fixture *f, bool aux)
{
	GByteArray *bytes = g_byte_array_new();

	while (status(f) & ST_OBF) {
		uint8_t byte;

		g_assert_cmphex(status(f) & ST_AUX, ==, aux ? ST_AUX : 0);
		byte = (uint8_t)i8042_data_ops.read(f->c, 0, 1);
		g_byte_array_append(bytes, &byte, 1);
	}
	return bytes;
}

#define expect(f, aux, ...) do {						\
	static const uint8_t expected_[] = { __VA_ARGS__ };			\
	GByteArray *got_ = read_all(f, aux);					\
										\
	g_assert_cmpmem(got_->data, got_->len, expected_, sizeof(expected_));	\
	g_byte_array_unref(got_);						\
} while (0)

static void expect_nothing(struct fixture *f)
{
	g_assert_cmphex(status(f) & ST_OBF, ==, 0);
}

/* Translation off: the keyboard's own bytes. */
#define CCB_RAW		0x07
#define CCB_XLATE	0x47

static void test_kbd_reset_identify(struct fixture *f, gconstpointer data)
{
	data_write(f, 0xff);
	expect(f, false, 0xfa, 0xaa);

	write_ccb(f, CCB_RAW);
	data_write(f, 0xf2);
	expect(f, false, 0xfa, 0xab, 0x83);
	/* Resend repeats the last byte. */
	data_write(f, 0xfe);
	expect(f, false, 0x83);
	/* Through a translating 8042 the MF2 ID reads AB 41, as Linux expects. */
	write_ccb(f, CCB_XLATE);
	data_write(f, 0xf2);
	expect(f, false, 0xfa, 0xab, 0x41);

	data_write(f, 0xee);
	expect(f, false, 0xee);
	/* Unknown commands, and the set 3 only ones, are refused. */
	data_write(f, 0xfb);
	expect(f, false, 0xfe);
	data_write(f, 0x01);
	expect(f, false, 0xfe);
}

static void test_kbd_leds(struct fixture *f, gconstpointer data)
{
	data_write(f, 0xed);
	expect(f, false, 0xfa);
	data_write(f, 0x06);	/* Num and Caps Lock */
	expect(f, false, 0xfa);
	g_assert_cmpuint(input_get_leds(f->input), ==, INPUT_LED_NUM_LOCK | INPUT_LED_CAPS_LOCK);
	g_assert_cmpuint(f->led_calls->len, ==, 1);

	data_write(f, 0xed);
	data_write(f, 0x01);
	expect(f, false, 0xfa, 0xfa);
	g_assert_cmpuint(input_get_leds(f->input), ==, INPUT_LED_SCROLL_LOCK);

	/* A command instead of the data byte abandons ED. */
	data_write(f, 0xed);
	data_write(f, 0xee);
	expect(f, false, 0xfa, 0xee);
	g_assert_cmpuint(input_get_leds(f->input), ==, INPUT_LED_SCROLL_LOCK);

	/* Reset turns them off. */
	data_write(f, 0xff);
	expect(f, false, 0xfa, 0xaa);
	g_assert_cmpuint(input_get_leds(f->input), ==, 0);
	g_assert_cmpuint(f->led_calls->len, ==, 3);
}

static void press(struct fixture *f, unsigned int code)
{
	input_key(f->input, code, true);
	input_key(f->input, code, false);
}

static void test_kbd_scancode_sets(struct fixture *f, gconstpointer data)
{
	/* Set 2, as the keyboard sends it. */
	write_ccb(f, CCB_RAW);
	press(f, KEY_A);
	expect(f, false, 0x1c, 0xf0, 0x1c);
	press(f, KEY_RIGHTCTRL);
	expect(f, false, 0xe0, 0x14, 0xe0, 0xf0, 0x14);
	data_write(f, 0xf0);
	data_write(f, 0x00);
	expect(f, false, 0xfa, 0xfa, 0x02);

	/* Set 2 through the 8042's translation: set 1 for the guest. */
	write_ccb(f, CCB_XLATE);
	press(f, KEY_A);
	expect(f, false, 0x1e, 0x9e);
	press(f, KEY_RIGHTCTRL);
	expect(f, false, 0xe0, 0x1d, 0xe0, 0x9d);
	input_key(f->input, KEY_PAUSE, true);
	input_key(f->input, KEY_PAUSE, false);
	expect(f, false, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
	data_write(f, 0xf0);
	data_write(f, 0x00);
	expect(f, false, 0xfa, 0xfa, 0x41);	/* "set 2", translated */

	/* Set 1 selected in the keyboard itself. */
	write_ccb(f, CCB_RAW);
	data_write(f, 0xf0);
	data_write(f, 0x01);
	expect(f, false, 0xfa, 0xfa);
	press(f, KEY_ENTER);
	expect(f, false, 0x1c, 0x9c);
	press(f, KEY_SYSRQ);
	expect(f, false, 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
	data_write(f, 0xf0);
	data_write(f, 0x00);
	expect(f, false, 0xfa, 0xfa, 0x01);

	/* Set 3 is refused and the set stays. */
	data_write(f, 0xf0);
	data_write(f, 0x03);
	expect(f, false, 0xfa, 0xfe);
	press(f, KEY_A);
	expect(f, false, 0x1e, 0x9e);

	/* Reset goes back to set 2. */
	data_write(f, 0xff);
	expect(f, false, 0xfa, 0xaa);
	press(f, KEY_A);
	expect(f, false, 0x1c, 0xf0, 0x1c);
}

static void test_kbd_disable(struct fixture *f, gconstpointer data)
{
	write_ccb(f, CCB_RAW);
	data_write(f, 0xf5);
	expect(f, false, 0xfa);
	/* Not scanning: the key is lost, also when enabled again. */
	input_key(f->input, KEY_B, true);
	expect_nothing(f);
	data_write(f, 0xf4);
	expect(f, false, 0xfa);
	input_key(f->input, KEY_B, false);
	press(f, KEY_C);
	expect(f, false, 0xf0, 0x32, 0x21, 0xf0, 0x21);
}

/* Reads what the keyboard sends until @until_ns, as a polling guest would. */
static void collect(struct fixture *f, GByteArray *into, int64_t until_ns)
{
	while (timer_now_ns() < until_ns) {
		GByteArray *got = read_all(f, false);

		g_byte_array_append(into, got->data, got->len);
		g_byte_array_unref(got);
		g_usleep(2000);
	}
	GByteArray *got = read_all(f, false);

	g_byte_array_append(into, got->data, got->len);
	g_byte_array_unref(got);
}

static unsigned int count_byte(GByteArray *bytes, uint8_t value)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < bytes->len; i++)
		n += bytes->data[i] == value;
	return n;
}

static void test_kbd_typematic(struct fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) early = g_byte_array_new();
	g_autoptr(GByteArray) held = g_byte_array_new();
	g_autoptr(GByteArray) after = g_byte_array_new();
	int64_t t0;

	write_ccb(f, CCB_RAW);
	data_write(f, 0xf3);
	data_write(f, 0x00);	/* 250 ms delay, 30 characters per second */
	expect(f, false, 0xfa, 0xfa);

	t0 = timer_now_ns();
	input_key(f->input, KEY_A, true);
	collect(f, early, t0 + 150 * MS);
	/* The make code, and no repeat before the delay. */
	if (timer_now_ns() < t0 + 240 * MS)
		g_assert_cmpuint(count_byte(early, 0x1c), ==, 1);

	/* 250 ms + n * 33 ms: about 10 repeats by 600 ms. */
	collect(f, held, t0 + 600 * MS);
	g_assert_cmpuint(count_byte(early, 0x1c) + count_byte(held, 0x1c), >=, 1 + 4);
	g_assert_cmpuint(count_byte(early, 0x1c) + count_byte(held, 0x1c), <=, 1 + 12);
	g_assert_cmpuint(held->len, ==, count_byte(held, 0x1c));

	/* Released: the break, then silence. */
	input_key(f->input, KEY_A, false);
	collect(f, after, timer_now_ns() + 120 * MS);
	g_assert_cmpuint(after->len, >=, 2);
	g_assert_cmphex(after->data[after->len - 2], ==, 0xf0);
	g_assert_cmphex(after->data[after->len - 1], ==, 0x1c);
	g_assert_cmpuint(count_byte(after, 0x1c), ==, 1 + (after->len - 2));
}

static void test_kbd_typematic_last_key(struct fixture *f, gconstpointer data)
{
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	g_autoptr(GByteArray) after = g_byte_array_new();

	write_ccb(f, CCB_XLATE);
	data_write(f, 0xf3);
	data_write(f, 0x00);
	expect(f, false, 0xfa, 0xfa);

	/* The last key pressed repeats; an E0 key repeats with its prefix. */
	input_key(f->input, KEY_A, true);
	input_key(f->input, KEY_UP, true);
	collect(f, bytes, timer_now_ns() + 400 * MS);
	g_assert_cmpuint(count_byte(bytes, 0x1e), ==, 1);
	g_assert_cmpuint(count_byte(bytes, 0x48), >=, 3);
	g_assert_cmpuint(count_byte(bytes, 0xe0), ==, count_byte(bytes, 0x48));
	/* Releasing it stops the repeat although A is still held. */
	input_key(f->input, KEY_UP, false);
	collect(f, after, timer_now_ns() + 150 * MS);
	g_assert_cmpuint(count_byte(after, 0x1e), ==, 0);
	g_assert_cmphex(after->data[after->len - 1], ==, 0xc8);
	input_key(f->input, KEY_A, false);
	expect(f, false, 0x9e);

	/* Pause never repeats. */
	g_byte_array_set_size(bytes, 0);
	input_key(f->input, KEY_PAUSE, true);
	collect(f, bytes, timer_now_ns() + 350 * MS);
	g_assert_cmpuint(bytes->len, ==, 6);
	input_key(f->input, KEY_PAUSE, false);
	expect_nothing(f);
}

/* Mouse. */

static void mouse_command(struct fixture *f, uint8_t byte)
{
	mouse_write(f, byte);
	expect(f, true, 0xfa);
}

static void mouse_set_rate(struct fixture *f, uint8_t rate)
{
	mouse_write(f, 0xf3);
	mouse_write(f, rate);
	expect(f, true, 0xfa, 0xfa);
}

static void make_wheel_mouse(struct fixture *f)
{
	mouse_set_rate(f, 200);
	mouse_set_rate(f, 100);
	mouse_set_rate(f, 80);
}

static void test_mouse_reset_id(struct fixture *f, gconstpointer data)
{
	mouse_write(f, 0xff);
	expect(f, true, 0xfa, 0xaa, 0x00);
	mouse_write(f, 0xf2);
	expect(f, true, 0xfa, 0x00);

	/* Not the knock: still ID 0. */
	mouse_set_rate(f, 200);
	mouse_set_rate(f, 80);
	mouse_set_rate(f, 100);
	mouse_write(f, 0xf2);
	expect(f, true, 0xfa, 0x00);

	make_wheel_mouse(f);
	mouse_write(f, 0xf2);
	expect(f, true, 0xfa, 0x03);
	/* Reset makes it a standard mouse again. */
	mouse_write(f, 0xff);
	expect(f, true, 0xfa, 0xaa, 0x00);
	mouse_write(f, 0xf2);
	expect(f, true, 0xfa, 0x00);

	/* An invalid sample rate is refused. */
	mouse_write(f, 0xf3);
	mouse_write(f, 33);
	expect(f, true, 0xfa, 0xfe);
	/* Unknown commands too. */
	mouse_write(f, 0xd0);
	expect(f, true, 0xfe);
}

static void test_mouse_status(struct fixture *f, gconstpointer data)
{
	mouse_write(f, 0xe9);
	expect(f, true, 0xfa, 0x00, 0x02, 100);
	mouse_command(f, 0xf4);
	mouse_command(f, 0xe7);
	mouse_write(f, 0xe8);
	mouse_write(f, 0x03);
	expect(f, true, 0xfa, 0xfa);
	mouse_set_rate(f, 40);
	input_button(f->input, BTN_LEFT, true);
	expect(f, true, 0x09, 0x00, 0x00);
	mouse_write(f, 0xe9);
	expect(f, true, 0xfa, 0x34, 0x03, 40);
	/* F6: defaults, reporting off; the button stays pressed. */
	mouse_command(f, 0xf6);
	mouse_write(f, 0xe9);
	expect(f, true, 0xfa, 0x04, 0x02, 100);
}

static void test_mouse_packets(struct fixture *f, gconstpointer data)
{
	/* Reporting is off after reset: motion makes no packets. */
	input_motion(f->input, 5, 5, 0);
	expect_nothing(f);
	mouse_command(f, 0xf4);
	expect_nothing(f);

	/* Host +y is down, PS/2 +y is up. */
	input_motion(f->input, 10, 5, 0);
	expect(f, true, 0x28, 0x0a, 0xfb);
	input_motion(f->input, -3, -7, 0);
	expect(f, true, 0x18, 0xfd, 0x07);
	/* A standard mouse ignores the wheel. */
	input_motion(f->input, 0, 0, 1);
	expect_nothing(f);

	/* Buttons: left 0, right 1, middle 2. */
	input_button(f->input, BTN_LEFT, true);
	expect(f, true, 0x09, 0x00, 0x00);
	input_button(f->input, BTN_RIGHT, true);
	expect(f, true, 0x0b, 0x00, 0x00);
	input_button(f->input, BTN_MIDDLE, true);
	expect(f, true, 0x0f, 0x00, 0x00);
	input_release_all(f->input);
	expect(f, true, 0x0e, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x08, 0x00, 0x00);

	/* A click while a packet waits for the guest is not coalesced away. */
	input_motion(f->input, 1, 0, 0);
	input_button(f->input, BTN_LEFT, true);
	input_motion(f->input, 2, 0, 0);
	input_button(f->input, BTN_LEFT, false);
	input_motion(f->input, 4, 0, 0);
	expect(f, true, 0x08, 0x01, 0x00,
		        0x09, 0x00, 0x00,
		        0x08, 0x02, 0x00,
		        0x08, 0x04, 0x00);

	/* Disabled again: nothing. */
	mouse_command(f, 0xf5);
	input_motion(f->input, 1, 1, 0);
	expect_nothing(f);
}

static void test_mouse_wheel(struct fixture *f, gconstpointer data)
{
	make_wheel_mouse(f);
	mouse_command(f, 0xf4);

	/* One notch away from the user: -1 in the fourth byte. */
	input_motion(f->input, 1, 0, 1);
	expect(f, true, 0x08, 0x01, 0x00, 0xff);
	input_motion(f->input, 0, 0, -1);
	expect(f, true, 0x08, 0x00, 0x00, 0x01);
	/* Beyond -8..7: the rest follows in the next packets. */
	input_motion(f->input, 0, 0, -20);
	expect(f, true, 0x08, 0x00, 0x00, 0x07,
		        0x08, 0x00, 0x00, 0x07,
		        0x08, 0x00, 0x00, 0x06);
	input_motion(f->input, 0, 0, 9);
	expect(f, true, 0x08, 0x00, 0x00, 0xf8,
		        0x08, 0x00, 0x00, 0xff);
}

static void test_mouse_clamp_coalesce(struct fixture *f, gconstpointer data)
{
	mouse_command(f, 0xf4);

	/* 1000 to the right: 255 + 255 + 255 + 235, no overflow bits. */
	input_motion(f->input, 1000, 0, 0);
	expect(f, true, 0x08, 0xff, 0x00,
		        0x08, 0xff, 0x00,
		        0x08, 0xff, 0x00,
		        0x08, 0xeb, 0x00);
	/* 300 down (PS/2 -300): -256, then -44. */
	input_motion(f->input, 0, 300, 0);
	expect(f, true, 0x28, 0x00, 0x00,
		        0x28, 0x00, 0xd4);

	/*
	 * While a packet waits to be read, motion adds up instead of queueing
	 * packets: ten moves make two packets, 1 and 9.
	 */
	for (unsigned int i = 0; i < 10; i++)
		input_motion(f->input, 1, 0, 0);
	expect(f, true, 0x08, 0x01, 0x00,
		        0x08, 0x09, 0x00);
}

static void test_mouse_modes(struct fixture *f, gconstpointer data)
{
	/* Remote mode: nothing unless asked with EB. */
	mouse_command(f, 0xf0);
	mouse_command(f, 0xf4);
	input_motion(f->input, 4, -2, 0);
	expect_nothing(f);
	mouse_write(f, 0xeb);
	expect(f, true, 0xfa, 0x08, 0x04, 0x02);
	mouse_write(f, 0xeb);
	expect(f, true, 0xfa, 0x08, 0x00, 0x00);
	mouse_write(f, 0xe9);
	expect(f, true, 0xfa, 0x60, 0x02, 100);

	/* Back to stream mode. */
	mouse_command(f, 0xea);
	input_motion(f->input, 1, 0, 0);
	expect(f, true, 0x08, 0x01, 0x00);

	/* 2:1 scaling: 1 1 3 6 9 then double. */
	mouse_command(f, 0xe7);
	input_motion(f->input, 3, 0, 0);
	expect(f, true, 0x08, 0x03, 0x00);
	input_motion(f->input, 5, 0, 0);
	expect(f, true, 0x08, 0x09, 0x00);
	input_motion(f->input, 20, 0, 0);
	expect(f, true, 0x08, 0x28, 0x00);
	mouse_command(f, 0xe6);
	input_motion(f->input, 20, 0, 0);
	expect(f, true, 0x08, 0x14, 0x00);

	/* Wrap mode echoes until EC. */
	mouse_command(f, 0xee);
	mouse_write(f, 0x42);
	expect(f, true, 0x42);
	mouse_write(f, 0xf2);
	expect(f, true, 0xf2);
	mouse_command(f, 0xec);
	mouse_write(f, 0xf2);
	expect(f, true, 0xfa, 0x00);
}

static void test_mouse_port_disabled(struct fixture *f, gconstpointer data)
{
	mouse_command(f, 0xf4);
	/* The controller holds the mouse's bytes while its port is disabled. */
	command(f, 0xa7);
	input_motion(f->input, 2, 0, 0);
	input_motion(f->input, 3, 0, 0);
	expect_nothing(f);
	/* Keyboard bytes still flow. */
	write_ccb(f, 0x27);	/* aux disabled, no translation */
	press(f, KEY_A);
	expect(f, false, 0x1c, 0xf0, 0x1c);
	command(f, 0xa8);
	expect(f, true, 0x08, 0x02, 0x00, 0x08, 0x03, 0x00);
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/ps2/keyboard/reset-identify", test_kbd_reset_identify);
	ADD("/ps2/keyboard/leds", test_kbd_leds);
	ADD("/ps2/keyboard/scancode-sets", test_kbd_scancode_sets);
	ADD("/ps2/keyboard/disable", test_kbd_disable);
	ADD("/ps2/keyboard/typematic", test_kbd_typematic);
	ADD("/ps2/keyboard/typematic-last-key", test_kbd_typematic_last_key);
	ADD("/ps2/mouse/reset-id", test_mouse_reset_id);
	ADD("/ps2/mouse/status", test_mouse_status);
	ADD("/ps2/mouse/packets", test_mouse_packets);
	ADD("/ps2/mouse/wheel", test_mouse_wheel);
	ADD("/ps2/mouse/clamp-coalesce", test_mouse_clamp_coalesce);
	ADD("/ps2/mouse/modes", test_mouse_modes);
	ADD("/ps2/mouse/port-disabled", test_mouse_port_disabled);
	return g_test_run();
}
