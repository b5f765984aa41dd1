/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The evdev -> PS/2 scan code tables, the 8042's set 2 -> set 1
 * translation and the SDL -> evdev table.  The two scan code sets are
 * checked against each other through the translation table, so a wrong
 * byte in any of the three shows.
 */
#include <glib.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "input.h"
#include "keymap.h"
#include "keymap_sdl.h"

/* What a translating 8042 makes of a set 2 byte stream. */
static unsigned int translate(const uint8_t *set2, unsigned int count, uint8_t *set1)
{
	unsigned int n = 0;
	bool brk = false;

	for (unsigned int i = 0; i < count; i++) {
		if (set2[i] == 0xf0) {
			brk = true;
			continue;
		}
		set1[n++] = keymap_set2_to_set1(set2[i]) | (brk ? 0x80 : 0);
		brk = false;
	}
	return n;
}

static void assert_sequence(unsigned int set, unsigned int code, bool down,
			    const uint8_t *expected, unsigned int count)
{
	uint8_t bytes[KEYMAP_SEQUENCE_MAX];

	g_assert_cmpuint(keymap_ps2_sequence(set, code, down, bytes), ==, count);
	g_assert_cmpmem(bytes, count, expected, count);
}

static void test_sets_agree(void)
{
	unsigned int keys = 0;

	for (unsigned int code = 0; code <= KEY_MAX; code++) {
		for (int down = 0; down <= 1; down++) {
			uint8_t set1[KEYMAP_SEQUENCE_MAX], set2[KEYMAP_SEQUENCE_MAX];
			uint8_t translated[KEYMAP_SEQUENCE_MAX];
			unsigned int n1 = keymap_ps2_sequence(KEYMAP_SET1, code, down, set1);
			unsigned int n2 = keymap_ps2_sequence(KEYMAP_SET2, code, down, set2);

			/* A key in one set is in the other... */
			g_assert_cmpuint(n1 != 0, ==, n2 != 0);
			g_assert_cmpuint(n2, <=, KEYMAP_SEQUENCE_MAX);
			/* ...and the 8042 turns its set 2 bytes into its set 1 bytes. */
			g_assert_cmpmem(set1, n1, translated, translate(set2, n2, translated));
			if (down && n2)
				keys++;
		}
	}
	/* The 104-key layout, F13-F24, Japanese, Korean and multimedia keys. */
	g_assert_cmpuint(keys, >=, 104 + 12 + 6 + 2 + 20);

	/* Nothing for codes past the table or sets other than 1 and 2. */
	uint8_t bytes[KEYMAP_SEQUENCE_MAX];

	g_assert_cmpuint(keymap_ps2_sequence(KEYMAP_SET2, KEY_MAX + 1, true, bytes), ==, 0);
	g_assert_cmpuint(keymap_ps2_sequence(KEYMAP_SET2, BTN_LEFT, true, bytes), ==, 0);
	g_assert_cmpuint(keymap_ps2_sequence(3, KEY_A, true, bytes), ==, 0);
}

static void test_spot_checks(void)
{
	/* IBM PS/2 Technical Reference scan code tables. */
	assert_sequence(KEYMAP_SET2, KEY_A, true, (const uint8_t[]){ 0x1c }, 1);
	assert_sequence(KEYMAP_SET2, KEY_A, false, (const uint8_t[]){ 0xf0, 0x1c }, 2);
	assert_sequence(KEYMAP_SET1, KEY_A, true, (const uint8_t[]){ 0x1e }, 1);
	assert_sequence(KEYMAP_SET1, KEY_A, false, (const uint8_t[]){ 0x9e }, 1);
	assert_sequence(KEYMAP_SET2, KEY_ENTER, true, (const uint8_t[]){ 0x5a }, 1);
	assert_sequence(KEYMAP_SET1, KEY_ENTER, true, (const uint8_t[]){ 0x1c }, 1);
	assert_sequence(KEYMAP_SET2, KEY_RIGHTCTRL, true, (const uint8_t[]){ 0xe0, 0x14 }, 2);
	assert_sequence(KEYMAP_SET2, KEY_RIGHTCTRL, false, (const uint8_t[]){ 0xe0, 0xf0, 0x14 }, 3);
	assert_sequence(KEYMAP_SET1, KEY_RIGHTCTRL, true, (const uint8_t[]){ 0xe0, 0x1d }, 2);
	assert_sequence(KEYMAP_SET1, KEY_RIGHTCTRL, false, (const uint8_t[]){ 0xe0, 0x9d }, 2);
	assert_sequence(KEYMAP_SET2, KEY_UP, true, (const uint8_t[]){ 0xe0, 0x75 }, 2);
	assert_sequence(KEYMAP_SET2, KEY_F7, true, (const uint8_t[]){ 0x83 }, 1);
	assert_sequence(KEYMAP_SET2, KEY_LEFTMETA, true, (const uint8_t[]){ 0xe0, 0x1f }, 2);

	/* Pause: the whole make and break on the way down, nothing on the way up. */
	assert_sequence(KEYMAP_SET2, KEY_PAUSE, true,
			(const uint8_t[]){ 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 }, 8);
	assert_sequence(KEYMAP_SET1, KEY_PAUSE, true,
			(const uint8_t[]){ 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 }, 6);
	assert_sequence(KEYMAP_SET2, KEY_PAUSE, false, NULL, 0);
	g_assert_false(keymap_ps2_repeats(KEY_PAUSE));
	g_assert_true(keymap_ps2_repeats(KEY_A));

	/* PrintScreen: a fake left Shift, then KP*; released in reverse. */
	assert_sequence(KEYMAP_SET2, KEY_SYSRQ, true, (const uint8_t[]){ 0xe0, 0x12, 0xe0, 0x7c }, 4);
	assert_sequence(KEYMAP_SET2, KEY_SYSRQ, false,
			(const uint8_t[]){ 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 }, 6);
	assert_sequence(KEYMAP_SET1, KEY_SYSRQ, true, (const uint8_t[]){ 0xe0, 0x2a, 0xe0, 0x37 }, 4);
	assert_sequence(KEYMAP_SET1, KEY_SYSRQ, false, (const uint8_t[]){ 0xe0, 0xb7, 0xe0, 0xaa }, 4);
}

static void test_translation_table(void)
{
	bool seen[256] = { false };

	g_assert_cmphex(keymap_set2_to_set1(0x1c), ==, 0x1e);	/* A */
	g_assert_cmphex(keymap_set2_to_set1(0x5a), ==, 0x1c);	/* Enter */
	g_assert_cmphex(keymap_set2_to_set1(0x14), ==, 0x1d);	/* Ctrl */
	g_assert_cmphex(keymap_set2_to_set1(0x77), ==, 0x45);	/* Num Lock (Pause's second byte) */
	g_assert_cmphex(keymap_set2_to_set1(0x83), ==, 0x41);	/* F7 */
	g_assert_cmphex(keymap_set2_to_set1(0x84), ==, 0x54);	/* SysRq */
	/* What guests see of the set query and ID of a translated keyboard. */
	g_assert_cmphex(keymap_set2_to_set1(0x02), ==, 0x41);
	g_assert_cmphex(keymap_set2_to_set1(0x01), ==, 0x43);
	g_assert_cmphex(keymap_set2_to_set1(0x03), ==, 0x3f);
	g_assert_cmphex(keymap_set2_to_set1(0xab), ==, 0xab);
	/* Prefixes and answers pass through. */
	g_assert_cmphex(keymap_set2_to_set1(0xe0), ==, 0xe0);
	g_assert_cmphex(keymap_set2_to_set1(0xe1), ==, 0xe1);
	g_assert_cmphex(keymap_set2_to_set1(0xfa), ==, 0xfa);
	g_assert_cmphex(keymap_set2_to_set1(0xaa), ==, 0xaa);
	g_assert_cmphex(keymap_set2_to_set1(0x00), ==, 0xff);	/* overrun */

	/* The 128-entry table is a permutation: 00 -> FF, the rest onto 01-7F. */
	for (unsigned int i = 0; i < 0x80; i++) {
		uint8_t v = keymap_set2_to_set1((uint8_t)i);

		g_assert_false(seen[v]);
		seen[v] = true;
		g_assert_true(i == 0 ? v == 0xff : (v >= 0x01 && v <= 0x7f));
	}
}

static void test_sdl(void)
{
	/* Every key of a PC keyboard SDL knows reaches the guest's PS/2 keyboard. */
	static const SDL_Scancode ranges[][2] = {
		{ SDL_SCANCODE_A, SDL_SCANCODE_APPLICATION },
		{ SDL_SCANCODE_POWER, SDL_SCANCODE_F24 },
		{ SDL_SCANCODE_INTERNATIONAL1, SDL_SCANCODE_INTERNATIONAL5 },
		{ SDL_SCANCODE_LANG1, SDL_SCANCODE_LANG2 },
		{ SDL_SCANCODE_LCTRL, SDL_SCANCODE_RGUI },
		{ SDL_SCANCODE_AUDIONEXT, SDL_SCANCODE_MEDIASELECT },
		{ SDL_SCANCODE_MAIL, SDL_SCANCODE_AC_BOOKMARKS },
	};
	unsigned int mapped = 0;

	for (unsigned int r = 0; r < G_N_ELEMENTS(ranges); r++) {
		for (unsigned int sc = ranges[r][0]; sc <= ranges[r][1]; sc++) {
			uint8_t bytes[KEYMAP_SEQUENCE_MAX];
			unsigned int code = keymap_sdl_to_evdev((SDL_Scancode)sc);

			if (!code || !keymap_ps2_sequence(KEYMAP_SET2, code, true, bytes))
				g_error("SDL scan code %u (evdev %u) has no PS/2 code", sc, code);
		}
	}
	for (unsigned int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
		unsigned int code = keymap_sdl_to_evdev((SDL_Scancode)sc);

		g_assert_cmpuint(code, <, INPUT_KEY_MAX);
		mapped += code != 0;
	}
	g_assert_cmpuint(mapped, >=, 180);

	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_UNKNOWN), ==, 0);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_NUM_SCANCODES), ==, 0);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_A), ==, KEY_A);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_Z), ==, KEY_Z);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_RETURN), ==, KEY_ENTER);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_PRINTSCREEN), ==, KEY_SYSRQ);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_NONUSBACKSLASH), ==, KEY_102ND);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_INTERNATIONAL1), ==, KEY_RO);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_KP_ENTER), ==, KEY_KPENTER);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_RGUI), ==, KEY_RIGHTMETA);
	g_assert_cmpuint(keymap_sdl_to_evdev(SDL_SCANCODE_GRAVE), ==, KEY_GRAVE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/keymap/sets-agree", test_sets_agree);
	g_test_add_func("/keymap/spot-checks", test_spot_checks);
	g_test_add_func("/keymap/translation-table", test_translation_table);
	g_test_add_func("/keymap/sdl", test_sdl);
	return g_test_run();
}
