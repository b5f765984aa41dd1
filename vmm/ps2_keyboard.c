/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ps2_keyboard.h"

#include <glib.h>
#include <pthread.h>

#include "keymap.h"

/*
 * Keyboard commands and answers: IBM PS/2 Technical Reference, Keyboards
 * (101- and 102-key), "Commands from the System" and "Commands to the
 * System".
 */
enum ps2_keyboard_command {
	KBD_CMD_SET_LEDS = 0xed,
	KBD_CMD_ECHO = 0xee,
	KBD_CMD_SCANCODE_SET = 0xf0,
	KBD_CMD_IDENTIFY = 0xf2,
	KBD_CMD_TYPEMATIC = 0xf3,
	KBD_CMD_ENABLE = 0xf4,
	KBD_CMD_DEFAULT_DISABLE = 0xf5,
	KBD_CMD_SET_DEFAULT = 0xf6,
	KBD_CMD_RESEND = 0xfe,
	KBD_CMD_RESET = 0xff,
};

#define KBD_ACK			0xfa
#define KBD_RESEND		0xfe
#define KBD_BAT_OK		0xaa
#define KBD_ECHO		0xee
#define KBD_ID_FIRST		0xab	/* MF2 keyboard: AB 83 */
#define KBD_ID_SECOND		0x83

/*
 * Typematic byte (command F3): bits 6-5 delay, (1 + D) * 250 ms; bits 4-3
 * (B) and 2-0 (A) the period, (8 + A) * 2^B * 4.17 ms.  The default 2B is
 * 500 ms and 10.9 characters per second.
 */
#define TYPEMATIC_DEFAULT	0x2b
#define TYPEMATIC_UNIT_NS	4170000ll
#define TYPEMATIC_DELAY_NS	250000000ll

#define LED_MASK	(INPUT_LED_SCROLL_LOCK | INPUT_LED_NUM_LOCK | INPUT_LED_CAPS_LOCK)

struct ps2_keyboard {
	/*
	 * Held while sending, so the bytes of one key (E0 F0 75) never mix
	 * with a typematic repeat or a command answer from another thread.
	 * Order: input's event lock -> this -> the i8042's locks -> timers.
	 */
	pthread_mutex_t lock;
	struct i8042 *i8042;
	struct input *input;
	struct timer *repeat_timer;

	bool scanning;			/* F4/F5: keys are reported */
	unsigned int scancode_set;	/* KEYMAP_SET1 or KEYMAP_SET2 */
	uint8_t pending_command;	/* command waiting for its data byte, or 0 */
	uint8_t typematic;
	uint8_t last_sent;		/* for the host's Resend (FE) */
	unsigned int leds;

	unsigned int repeat_code;	/* evdev code repeating, 0 if none */
	int64_t repeat_deadline_ns;
};

static int64_t typematic_delay_ns(uint8_t typematic)
{
	return (1 + ((typematic >> 5) & 3)) * TYPEMATIC_DELAY_NS;
}

static int64_t typematic_period_ns(uint8_t typematic)
{
	return (8 + (typematic & 7)) * (1ll << ((typematic >> 3) & 3)) * TYPEMATIC_UNIT_NS;
}

static void send_byte(struct ps2_keyboard *kbd, uint8_t byte)
{
	kbd->last_sent = byte;
	i8042_keyboard_send(kbd->i8042, byte);
}

static void send_bytes(struct ps2_keyboard *kbd, const uint8_t *bytes, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++)
		send_byte(kbd, bytes[i]);
}

static void stop_repeat(struct ps2_keyboard *kbd)
{
	kbd->repeat_code = 0;
	timer_cancel(kbd->repeat_timer);
}

/* F6 and F5: typematic defaults; the scan code set and the LEDs stay. */
static void set_defaults(struct ps2_keyboard *kbd)
{
	kbd->typematic = TYPEMATIC_DEFAULT;
	kbd->pending_command = 0;
	stop_repeat(kbd);
}

/* Returns true when the LEDs changed. */
static bool reset_locked(struct ps2_keyboard *kbd)
{
	bool leds_changed = kbd->leds != 0;

	set_defaults(kbd);
	kbd->scanning = true;
	kbd->scancode_set = KEYMAP_SET2;
	kbd->leds = 0;
	kbd->last_sent = 0;
	return leds_changed;
}

/*
 * The typematic repeat: only the last key pressed repeats, sending its make
 * code again, first after the delay and then once per period.  A late timer
 * thread does not cause a burst: the next repeat is a period after now.
 */
static void repeat_fire(void *opaque)
{
	struct ps2_keyboard *kbd = opaque;
	int64_t now = timer_now_ns();

	pthread_mutex_lock(&kbd->lock);
	if (kbd->repeat_code && kbd->scanning) {
		uint8_t bytes[KEYMAP_SEQUENCE_MAX];

		send_bytes(kbd, bytes, keymap_ps2_sequence(kbd->scancode_set, kbd->repeat_code,
							   true, bytes));
		kbd->repeat_deadline_ns += typematic_period_ns(kbd->typematic);
		if (kbd->repeat_deadline_ns < now)
			kbd->repeat_deadline_ns = now + typematic_period_ns(kbd->typematic);
		timer_arm_ns(kbd->repeat_timer, kbd->repeat_deadline_ns);
	}
	pthread_mutex_unlock(&kbd->lock);
}

static void keyboard_key(void *opaque, unsigned int code, bool down)
{
	struct ps2_keyboard *kbd = opaque;
	uint8_t bytes[KEYMAP_SEQUENCE_MAX];
	unsigned int count;

	pthread_mutex_lock(&kbd->lock);
	/* A disabled keyboard (F5) does not scan: the key is lost, as on hardware. */
	if (!kbd->scanning)
		goto out;
	count = keymap_ps2_sequence(kbd->scancode_set, code, down, bytes);
	if (down && !count)
		goto out;	/* no such key on a PS/2 keyboard */
	send_bytes(kbd, bytes, count);
	if (down && keymap_ps2_repeats(code)) {
		kbd->repeat_code = code;
		kbd->repeat_deadline_ns = timer_now_ns() + typematic_delay_ns(kbd->typematic);
		timer_arm_ns(kbd->repeat_timer, kbd->repeat_deadline_ns);
	} else if (down || code == kbd->repeat_code) {
		/* Pause pressed, or the repeating key released: the repeat ends. */
		stop_repeat(kbd);
	}
out:
	pthread_mutex_unlock(&kbd->lock);
}

static const struct input_keyboard_ops keyboard_input_ops = {
	.key = keyboard_key,
};

/* A data byte for the pending command.  Returns true when the LEDs changed. */
static bool receive_data(struct ps2_keyboard *kbd, uint8_t command, uint8_t byte)
{
	bool leds_changed = false;

	switch (command) {
	case KBD_CMD_SET_LEDS:
		leds_changed = kbd->leds != (byte & LED_MASK);
		kbd->leds = byte & LED_MASK;
		send_byte(kbd, KBD_ACK);
		break;
	case KBD_CMD_TYPEMATIC:
		kbd->typematic = byte & 0x7f;
		send_byte(kbd, KBD_ACK);
		break;
	case KBD_CMD_SCANCODE_SET:
		if (byte == 0) {
			/* Query; a translating 8042 turns the answer 02 into 41. */
			send_byte(kbd, KBD_ACK);
			send_byte(kbd, (uint8_t)kbd->scancode_set);
		} else if (byte == KEYMAP_SET1 || byte == KEYMAP_SET2) {
			send_byte(kbd, KBD_ACK);
			kbd->scancode_set = byte;
			stop_repeat(kbd);
		} else {
			/*
			 * Set 3 (make-only and typematic-per-key modes) is not
			 * implemented: refused, the set stays.  Linux asks for
			 * it only with atkbd.set=3 and falls back to set 2.
			 */
			send_byte(kbd, KBD_RESEND);
		}
		break;
	}
	return leds_changed;
}

static void keyboard_receive(void *opaque, uint8_t byte)
{
	struct ps2_keyboard *kbd = opaque;
	bool leds_changed = false;
	unsigned int leds;

	pthread_mutex_lock(&kbd->lock);
	/*
	 * The data bytes of ED, F3 and F0 all have bit 7 clear; a byte with it
	 * set is a new command, which abandons the one waiting for data (as a
	 * keyboard does when the host gives up on a command).
	 */
	if (kbd->pending_command && !(byte & 0x80)) {
		uint8_t command = kbd->pending_command;

		kbd->pending_command = 0;
		leds_changed = receive_data(kbd, command, byte);
		goto out;
	}
	kbd->pending_command = 0;

	switch (byte) {
	case KBD_CMD_RESET:
		send_byte(kbd, KBD_ACK);
		leds_changed = reset_locked(kbd);
		/* The basic assurance test is instantaneous here: no guest needs it to take time. */
		send_byte(kbd, KBD_BAT_OK);
		break;
	case KBD_CMD_RESEND:
		i8042_keyboard_send(kbd->i8042, kbd->last_sent);
		break;
	case KBD_CMD_SET_DEFAULT:
		set_defaults(kbd);
		kbd->scanning = true;
		send_byte(kbd, KBD_ACK);
		break;
	case KBD_CMD_DEFAULT_DISABLE:
		set_defaults(kbd);
		kbd->scanning = false;
		send_byte(kbd, KBD_ACK);
		break;
	case KBD_CMD_ENABLE:
		kbd->scanning = true;
		send_byte(kbd, KBD_ACK);
		break;
	case KBD_CMD_TYPEMATIC:
	case KBD_CMD_SCANCODE_SET:
	case KBD_CMD_SET_LEDS:
		kbd->pending_command = byte;
		send_byte(kbd, KBD_ACK);
		break;
	case KBD_CMD_IDENTIFY:
		send_byte(kbd, KBD_ACK);
		send_byte(kbd, KBD_ID_FIRST);
		send_byte(kbd, KBD_ID_SECOND);
		break;
	case KBD_CMD_ECHO:
		send_byte(kbd, KBD_ECHO);
		break;
	default:
		/* Including F7-FD, which only mean something in set 3. */
		send_byte(kbd, KBD_RESEND);
		break;
	}
out:
	leds = kbd->leds;
	pthread_mutex_unlock(&kbd->lock);
	/* Outside the lock: a front end's LED listener may call input_key. */
	if (leds_changed)
		input_set_leds(kbd->input, leds);
}

static const struct ps2_device_ops keyboard_port_ops = {
	.receive = keyboard_receive,
};

struct ps2_keyboard *ps2_keyboard_new(struct i8042 *i8042, struct input *input,
				      struct timer_service *timers)
{
	struct ps2_keyboard *kbd = g_new0(struct ps2_keyboard, 1);

	pthread_mutex_init(&kbd->lock, NULL);
	kbd->i8042 = i8042;
	kbd->input = input;
	kbd->repeat_timer = timer_new(timers, repeat_fire, kbd);
	reset_locked(kbd);
	i8042_attach_keyboard(i8042, &keyboard_port_ops, kbd);
	input_attach_keyboard(input, &keyboard_input_ops, kbd);
	return kbd;
}

void ps2_keyboard_free(struct ps2_keyboard *kbd)
{
	if (!kbd)
		return;
	/* Detaching waits for an event in flight (input holds its lock across it). */
	input_attach_keyboard(kbd->input, NULL, NULL);
	i8042_attach_keyboard(kbd->i8042, NULL, NULL);
	/* Without our lock: a running repeat_fire takes it and timer_free waits for it. */
	timer_free(kbd->repeat_timer);
	pthread_mutex_destroy(&kbd->lock);
	g_free(kbd);
}

void ps2_keyboard_reset(struct ps2_keyboard *kbd)
{
	bool leds_changed;

	pthread_mutex_lock(&kbd->lock);
	leds_changed = reset_locked(kbd);
	pthread_mutex_unlock(&kbd->lock);
	if (leds_changed)
		input_set_leds(kbd->input, 0);
}
