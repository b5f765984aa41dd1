/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "keymap.h"

#include <glib.h>
#include <linux/input-event-codes.h>

/*
 * Each key's code in scan code sets 1 and 2.  EXT marks the E0-prefixed
 * keys of the MF2 keyboard (IBM PS/2 Technical Reference, Keyboards,
 * "Scan Code Set 1/2"; Microsoft Keyboard Scan Code Specification for the
 * Windows, power and multimedia keys).  Pause, PrintScreen, Hangul and Hanja
 * have sequences of their own (keymap_ps2_sequence).
 */
#define EXT		0x100
#define PREFIX_EXT	0xe0
#define SET2_BREAK	0xf0
#define SET1_BREAK	0x80

struct ps2_key {
	uint16_t set1, set2;
};

static const struct ps2_key keys[KEY_MAX + 1] = {
	[KEY_ESC] = { 0x01, 0x76 },
	[KEY_1] = { 0x02, 0x16 },
	[KEY_2] = { 0x03, 0x1e },
	[KEY_3] = { 0x04, 0x26 },
	[KEY_4] = { 0x05, 0x25 },
	[KEY_5] = { 0x06, 0x2e },
	[KEY_6] = { 0x07, 0x36 },
	[KEY_7] = { 0x08, 0x3d },
	[KEY_8] = { 0x09, 0x3e },
	[KEY_9] = { 0x0a, 0x46 },
	[KEY_0] = { 0x0b, 0x45 },
	[KEY_MINUS] = { 0x0c, 0x4e },
	[KEY_EQUAL] = { 0x0d, 0x55 },
	[KEY_BACKSPACE] = { 0x0e, 0x66 },
	[KEY_TAB] = { 0x0f, 0x0d },
	[KEY_Q] = { 0x10, 0x15 },
	[KEY_W] = { 0x11, 0x1d },
	[KEY_E] = { 0x12, 0x24 },
	[KEY_R] = { 0x13, 0x2d },
	[KEY_T] = { 0x14, 0x2c },
	[KEY_Y] = { 0x15, 0x35 },
	[KEY_U] = { 0x16, 0x3c },
	[KEY_I] = { 0x17, 0x43 },
	[KEY_O] = { 0x18, 0x44 },
	[KEY_P] = { 0x19, 0x4d },
	[KEY_LEFTBRACE] = { 0x1a, 0x54 },
	[KEY_RIGHTBRACE] = { 0x1b, 0x5b },
	[KEY_ENTER] = { 0x1c, 0x5a },
	[KEY_LEFTCTRL] = { 0x1d, 0x14 },
	[KEY_A] = { 0x1e, 0x1c },
	[KEY_S] = { 0x1f, 0x1b },
	[KEY_D] = { 0x20, 0x23 },
	[KEY_F] = { 0x21, 0x2b },
	[KEY_G] = { 0x22, 0x34 },
	[KEY_H] = { 0x23, 0x33 },
	[KEY_J] = { 0x24, 0x3b },
	[KEY_K] = { 0x25, 0x42 },
	[KEY_L] = { 0x26, 0x4b },
	[KEY_SEMICOLON] = { 0x27, 0x4c },
	[KEY_APOSTROPHE] = { 0x28, 0x52 },
	[KEY_GRAVE] = { 0x29, 0x0e },
	[KEY_LEFTSHIFT] = { 0x2a, 0x12 },
	[KEY_BACKSLASH] = { 0x2b, 0x5d },
	[KEY_Z] = { 0x2c, 0x1a },
	[KEY_X] = { 0x2d, 0x22 },
	[KEY_C] = { 0x2e, 0x21 },
	[KEY_V] = { 0x2f, 0x2a },
	[KEY_B] = { 0x30, 0x32 },
	[KEY_N] = { 0x31, 0x31 },
	[KEY_M] = { 0x32, 0x3a },
	[KEY_COMMA] = { 0x33, 0x41 },
	[KEY_DOT] = { 0x34, 0x49 },
	[KEY_SLASH] = { 0x35, 0x4a },
	[KEY_RIGHTSHIFT] = { 0x36, 0x59 },
	[KEY_KPASTERISK] = { 0x37, 0x7c },
	[KEY_LEFTALT] = { 0x38, 0x11 },
	[KEY_SPACE] = { 0x39, 0x29 },
	[KEY_CAPSLOCK] = { 0x3a, 0x58 },
	[KEY_F1] = { 0x3b, 0x05 },
	[KEY_F2] = { 0x3c, 0x06 },
	[KEY_F3] = { 0x3d, 0x04 },
	[KEY_F4] = { 0x3e, 0x0c },
	[KEY_F5] = { 0x3f, 0x03 },
	[KEY_F6] = { 0x40, 0x0b },
	[KEY_F7] = { 0x41, 0x83 },
	[KEY_F8] = { 0x42, 0x0a },
	[KEY_F9] = { 0x43, 0x01 },
	[KEY_F10] = { 0x44, 0x09 },
	[KEY_NUMLOCK] = { 0x45, 0x77 },
	[KEY_SCROLLLOCK] = { 0x46, 0x7e },
	[KEY_KP7] = { 0x47, 0x6c },
	[KEY_KP8] = { 0x48, 0x75 },
	[KEY_KP9] = { 0x49, 0x7d },
	[KEY_KPMINUS] = { 0x4a, 0x7b },
	[KEY_KP4] = { 0x4b, 0x6b },
	[KEY_KP5] = { 0x4c, 0x73 },
	[KEY_KP6] = { 0x4d, 0x74 },
	[KEY_KPPLUS] = { 0x4e, 0x79 },
	[KEY_KP1] = { 0x4f, 0x69 },
	[KEY_KP2] = { 0x50, 0x72 },
	[KEY_KP3] = { 0x51, 0x7a },
	[KEY_KP0] = { 0x52, 0x70 },
	[KEY_KPDOT] = { 0x53, 0x71 },
	[KEY_102ND] = { 0x56, 0x61 },		/* ISO key left of Z */
	[KEY_F11] = { 0x57, 0x78 },
	[KEY_F12] = { 0x58, 0x07 },
	[KEY_KPEQUAL] = { 0x59, 0x0f },
	[KEY_F13] = { 0x64, 0x08 },
	[KEY_F14] = { 0x65, 0x10 },
	[KEY_F15] = { 0x66, 0x18 },
	[KEY_F16] = { 0x67, 0x20 },
	[KEY_F17] = { 0x68, 0x28 },
	[KEY_F18] = { 0x69, 0x30 },
	[KEY_F19] = { 0x6a, 0x38 },
	[KEY_F20] = { 0x6b, 0x40 },
	[KEY_F21] = { 0x6c, 0x48 },
	[KEY_F22] = { 0x6d, 0x50 },
	[KEY_F23] = { 0x6e, 0x57 },
	[KEY_F24] = { 0x76, 0x5f },
	/* Japanese and Brazilian keyboards. */
	[KEY_KATAKANAHIRAGANA] = { 0x70, 0x13 },
	[KEY_RO] = { 0x73, 0x51 },
	[KEY_HENKAN] = { 0x79, 0x64 },
	[KEY_MUHENKAN] = { 0x7b, 0x67 },
	[KEY_YEN] = { 0x7d, 0x6a },
	[KEY_KPCOMMA] = { 0x7e, 0x6d },

	/* The MF2 keys with an E0 prefix. */
	[KEY_KPENTER] = { EXT | 0x1c, EXT | 0x5a },
	[KEY_RIGHTCTRL] = { EXT | 0x1d, EXT | 0x14 },
	[KEY_KPSLASH] = { EXT | 0x35, EXT | 0x4a },
	[KEY_RIGHTALT] = { EXT | 0x38, EXT | 0x11 },
	[KEY_HOME] = { EXT | 0x47, EXT | 0x6c },
	[KEY_UP] = { EXT | 0x48, EXT | 0x75 },
	[KEY_PAGEUP] = { EXT | 0x49, EXT | 0x7d },
	[KEY_LEFT] = { EXT | 0x4b, EXT | 0x6b },
	[KEY_RIGHT] = { EXT | 0x4d, EXT | 0x74 },
	[KEY_END] = { EXT | 0x4f, EXT | 0x69 },
	[KEY_DOWN] = { EXT | 0x50, EXT | 0x72 },
	[KEY_PAGEDOWN] = { EXT | 0x51, EXT | 0x7a },
	[KEY_INSERT] = { EXT | 0x52, EXT | 0x70 },
	[KEY_DELETE] = { EXT | 0x53, EXT | 0x71 },
	/* Windows keys, ACPI keys, multimedia keys (Microsoft spec). */
	[KEY_LEFTMETA] = { EXT | 0x5b, EXT | 0x1f },
	[KEY_RIGHTMETA] = { EXT | 0x5c, EXT | 0x27 },
	[KEY_COMPOSE] = { EXT | 0x5d, EXT | 0x2f },	/* Application (menu) key */
	[KEY_POWER] = { EXT | 0x5e, EXT | 0x37 },
	[KEY_SLEEP] = { EXT | 0x5f, EXT | 0x3f },
	[KEY_WAKEUP] = { EXT | 0x63, EXT | 0x5e },
	[KEY_NEXTSONG] = { EXT | 0x19, EXT | 0x4d },
	[KEY_PREVIOUSSONG] = { EXT | 0x10, EXT | 0x15 },
	[KEY_STOPCD] = { EXT | 0x24, EXT | 0x3b },
	[KEY_PLAYPAUSE] = { EXT | 0x22, EXT | 0x34 },
	[KEY_MUTE] = { EXT | 0x20, EXT | 0x23 },
	[KEY_VOLUMEUP] = { EXT | 0x30, EXT | 0x32 },
	[KEY_VOLUMEDOWN] = { EXT | 0x2e, EXT | 0x21 },
	[KEY_MEDIA] = { EXT | 0x6d, EXT | 0x50 },
	[KEY_MAIL] = { EXT | 0x6c, EXT | 0x48 },
	[KEY_CALC] = { EXT | 0x21, EXT | 0x2b },
	[KEY_COMPUTER] = { EXT | 0x6b, EXT | 0x40 },
	[KEY_SEARCH] = { EXT | 0x65, EXT | 0x10 },
	[KEY_HOMEPAGE] = { EXT | 0x32, EXT | 0x3a },
	[KEY_BACK] = { EXT | 0x6a, EXT | 0x38 },
	[KEY_FORWARD] = { EXT | 0x69, EXT | 0x30 },
	[KEY_STOP] = { EXT | 0x68, EXT | 0x28 },
	[KEY_REFRESH] = { EXT | 0x67, EXT | 0x20 },
	[KEY_BOOKMARKS] = { EXT | 0x66, EXT | 0x18 },
};

/*
 * The 8042's translation table for bytes 00-7F.  Every key's entry follows
 * from the two scan code sets above (set 2 code -> set 1 code); the entries
 * no key uses are the controller's fixed values, which guests see when they
 * ask a translated keyboard for its scan code set (F0 00 answers 02, read
 * as 41) or its ID (AB 83, read as AB 41).
 */
static const uint8_t set2_to_set1[128] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,	/* 00 */
	0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,	/* 10 */
	0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,	/* 20 */
	0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,	/* 30 */
	0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,	/* 40 */
	0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,	/* 50 */
	0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,	/* 60 */
	0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,	/* 70 */
	0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t keymap_set2_to_set1(uint8_t byte)
{
	if (byte < 0x80)
		return set2_to_set1[byte];
	/*
	 * Above 7F the controller passes bytes through (E0, E1, the FA/AA/EE/FE
	 * answers) except the two set 2 codes that do not fit in seven bits:
	 * F7 (83) and Alt+PrintScreen, SysRq (84).
	 */
	if (byte == 0x83)
		return 0x41;
	if (byte == 0x84)
		return 0x54;
	return byte;
}

static unsigned int copy_bytes(uint8_t *bytes, const uint8_t *from, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++)
		bytes[i] = from[i];
	return count;
}

/*
 * Keys whose sequences are not one code with an optional E0: Pause sends
 * its whole make and break at once on the way down and nothing on the way
 * up; PrintScreen (unshifted) is a fake left Shift plus KP*; Hangul and
 * Hanja send one byte with no break (Microsoft spec, "Korean keyboards").
 */
static unsigned int special_sequence(unsigned int set, unsigned int code, bool down,
				     uint8_t *bytes)
{
	static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
	static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
	static const uint8_t print1_make[] = { 0xe0, 0x2a, 0xe0, 0x37 };
	static const uint8_t print1_break[] = { 0xe0, 0xb7, 0xe0, 0xaa };
	static const uint8_t print2_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
	static const uint8_t print2_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };

	switch (code) {
	case KEY_PAUSE:
		if (!down)
			return 0;
		if (set == KEYMAP_SET1)
			return copy_bytes(bytes, pause1, sizeof(pause1));
		return copy_bytes(bytes, pause2, sizeof(pause2));
	case KEY_SYSRQ:		/* evdev's name for the PrintScreen/SysRq key */
		if (set == KEYMAP_SET1)
			return down ? copy_bytes(bytes, print1_make, sizeof(print1_make))
				    : copy_bytes(bytes, print1_break, sizeof(print1_break));
		return down ? copy_bytes(bytes, print2_make, sizeof(print2_make))
			    : copy_bytes(bytes, print2_break, sizeof(print2_break));
	case KEY_HANGEUL:
	case KEY_HANJA:
		if (!down)
			return 0;
		bytes[0] = code == KEY_HANGEUL ? 0xf2 : 0xf1;	/* same in both sets */
		return 1;
	}
	return 0;
}

unsigned int keymap_ps2_sequence(unsigned int set, unsigned int code, bool down, uint8_t *bytes)
{
	unsigned int n = 0;
	uint16_t value;

	if (set != KEYMAP_SET1 && set != KEYMAP_SET2)
		return 0;
	if (code > KEY_MAX)
		return 0;
	if (code == KEY_PAUSE || code == KEY_SYSRQ || code == KEY_HANGEUL || code == KEY_HANJA)
		return special_sequence(set, code, down, bytes);

	value = set == KEYMAP_SET1 ? keys[code].set1 : keys[code].set2;
	if (!value)
		return 0;
	if (value & EXT)
		bytes[n++] = PREFIX_EXT;
	if (set == KEYMAP_SET1) {
		bytes[n++] = (uint8_t)(value | (down ? 0 : SET1_BREAK));
	} else {
		if (!down)
			bytes[n++] = SET2_BREAK;
		bytes[n++] = (uint8_t)value;
	}
	return n;
}

bool keymap_ps2_repeats(unsigned int code)
{
	uint8_t bytes[KEYMAP_SEQUENCE_MAX];

	if (code == KEY_PAUSE || code == KEY_HANGEUL || code == KEY_HANJA)
		return false;
	return keymap_ps2_sequence(KEYMAP_SET2, code, true, bytes) > 0;
}

/*
 * Set 1 back to evdev, for front ends that speak scan codes (SPICE clients
 * send PC AT set 1).  Built once from the table above, so both directions
 * always agree.
 */
static uint16_t set1_to_evdev_table[2][128];	/* [E0 prefix][make code] */

static gpointer build_set1_to_evdev(gpointer unused)
{
	uint8_t bytes[KEYMAP_SEQUENCE_MAX];

	for (unsigned int code = 1; code <= KEY_MAX; code++) {
		unsigned int n = keymap_ps2_sequence(KEYMAP_SET1, code, true, bytes);

		if (n == 1 && bytes[0] < 0x80 && !set1_to_evdev_table[0][bytes[0]])
			set1_to_evdev_table[0][bytes[0]] = (uint16_t)code;
		else if (n == 2 && bytes[0] == 0xe0 && bytes[1] < 0x80 && !set1_to_evdev_table[1][bytes[1]])
			set1_to_evdev_table[1][bytes[1]] = (uint16_t)code;
	}
	return NULL;
}

unsigned int keymap_set1_to_evdev(bool e0, uint8_t make)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, build_set1_to_evdev, NULL);
	return make < 0x80 ? set1_to_evdev_table[e0][make] : 0;
}
