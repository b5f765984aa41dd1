/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_INPUT_KEYMAP_H
#define VESSEL_INPUT_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * evdev key codes (<linux/input-event-codes.h>) to the bytes a PS/2 (MF2)
 * keyboard sends, and the 8042 controller's set 2 -> set 1 translation.
 *
 * Scan code sets as in the IBM PS/2 Technical Reference (Keyboards, "Scan
 * Code Tables") and the Microsoft "Keyboard Scan Code Specification"
 * (rev. 1.3a) for the Windows, ACPI power and multimedia keys.
 */

/* Longest sequence: Pause in set 2, E1 14 77 E1 F0 14 F0 77. */
#define KEYMAP_SEQUENCE_MAX	8

/* Bytes for scan code set 1 or 2 (no set 3: the keyboard refuses it). */
#define KEYMAP_SET1		1
#define KEYMAP_SET2		2

/*
 * Writes the bytes for @code going down (make) or up (break) in scan code
 * set @set to @bytes (KEYMAP_SEQUENCE_MAX long) and returns how many; 0 when
 * the key has no PS/2 code or sends nothing on release (Pause, the Korean
 * Hangul and Hanja keys).
 */
unsigned int keymap_ps2_sequence(unsigned int set, unsigned int code, bool down, uint8_t *bytes);

/* Whether a held key repeats (typematic); Pause and Hangul/Hanja do not. */
bool keymap_ps2_repeats(unsigned int code);

/*
 * The 8042's translation of one byte received from the keyboard when the
 * command byte has XLATE set: set 2 codes become set 1 codes.  F0 (the set 2
 * break prefix) is not translated here: the controller swallows it and sets
 * bit 7 of the next translated byte.
 */
uint8_t keymap_set2_to_set1(uint8_t byte);

/*
 * The evdev code of a set 1 make code (e0: after an E0 prefix), 0 if no key
 * has it.  Pause (E1 1D 45) is the caller's: it has no single make code.
 */
unsigned int keymap_set1_to_evdev(bool e0, uint8_t make);

#endif
