/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ps2_mouse.h"

#include <glib.h>
#include <linux/input-event-codes.h>
#include <pthread.h>

/*
 * Commands and packets: IBM PS/2 Technical Reference, "Pointing Device";
 * the wheel: Microsoft IntelliMouse (ID 3, a fourth packet byte), enabled
 * by setting the sample rate to 200, 100 and 80 in a row.
 */
enum ps2_mouse_command {
	MOUSE_CMD_SCALING_1_1 = 0xe6,
	MOUSE_CMD_SCALING_2_1 = 0xe7,
	MOUSE_CMD_SET_RESOLUTION = 0xe8,
	MOUSE_CMD_STATUS = 0xe9,
	MOUSE_CMD_STREAM_MODE = 0xea,
	MOUSE_CMD_READ_DATA = 0xeb,
	MOUSE_CMD_RESET_WRAP = 0xec,
	MOUSE_CMD_WRAP_MODE = 0xee,
	MOUSE_CMD_REMOTE_MODE = 0xf0,
	MOUSE_CMD_GET_ID = 0xf2,
	MOUSE_CMD_SAMPLE_RATE = 0xf3,
	MOUSE_CMD_ENABLE = 0xf4,
	MOUSE_CMD_DISABLE = 0xf5,
	MOUSE_CMD_SET_DEFAULT = 0xf6,
	MOUSE_CMD_RESEND = 0xfe,
	MOUSE_CMD_RESET = 0xff,
};

#define MOUSE_ACK		0xfa
#define MOUSE_RESEND		0xfe
#define MOUSE_BAT_OK		0xaa
#define MOUSE_ID_STANDARD	0x00
#define MOUSE_ID_WHEEL		0x03

/* Packet byte 0. */
#define PACKET_LEFT		0x01
#define PACKET_RIGHT		0x02
#define PACKET_MIDDLE		0x04
#define PACKET_ALWAYS_ONE	0x08
#define PACKET_X_SIGN		0x10
#define PACKET_Y_SIGN		0x20

/* Status byte 1 (E9): note the buttons are in another order than in packets. */
#define STATUS_RIGHT		0x01
#define STATUS_MIDDLE		0x02
#define STATUS_LEFT		0x04
#define STATUS_SCALING_2_1	0x10
#define STATUS_ENABLED		0x20
#define STATUS_REMOTE		0x40

#define DEFAULT_SAMPLE_RATE	100
#define DEFAULT_RESOLUTION	2	/* 4 counts/mm */

/* Nine-bit two's complement motion, four-bit wheel. */
#define MOTION_MIN		-256
#define MOTION_MAX		255
#define WHEEL_MIN		-8
#define WHEEL_MAX		7

enum mouse_mode {
	MODE_STREAM,
	MODE_REMOTE,
	MODE_WRAP,
};

struct ps2_mouse {
	/* Held while sending; order: input's event lock -> this -> the i8042's locks. */
	pthread_mutex_t lock;
	struct i8042 *i8042;
	struct input *input;

	enum mouse_mode mode, mode_before_wrap;
	bool reporting;			/* F4/F5, stream mode only */
	bool scaling_2_1;
	uint8_t sample_rate, resolution;
	uint8_t id;
	uint8_t rates[3];		/* the last three sample rates, oldest first */
	uint8_t pending_command;	/* F3 or E8 waiting for its data byte, or 0 */
	uint8_t last_sent;		/* for the host's Resend (FE) */

	/* Movement counters, PS/2 orientation: +y is up, +z is towards the user. */
	int dx, dy, dz;
	uint8_t buttons, buttons_sent;	/* PACKET_LEFT/RIGHT/MIDDLE */
	bool packet_in_flight;		/* sent, not yet all read by the guest */
};

static void send_byte(struct ps2_mouse *mouse, uint8_t byte)
{
	mouse->last_sent = byte;
	i8042_aux_send(mouse->i8042, byte);
}

static int take_clamped(int *counter, int min, int max)
{
	int value = CLAMP(*counter, min, max);

	*counter -= value;
	return value;
}

/* 2:1 scaling (stream mode only): 0, 1, 1, 3, 6, 9, then twice the count. */
static int scale_2_1(int value)
{
	static const int small[] = { 0, 1, 1, 3, 6, 9 };
	int magnitude = ABS(value);
	int scaled = magnitude < (int)G_N_ELEMENTS(small) ? small[magnitude] : 2 * magnitude;

	scaled = MIN(scaled, 256);
	return value < 0 ? -scaled : MIN(scaled, MOTION_MAX);
}

/*
 * A packet takes at most what fits from the counters and leaves the rest for
 * the next one, so large motion is never lost: the overflow bits (6, 7) are
 * never set, since a guest driver may drop a packet that has them.
 */
static void send_packet(struct ps2_mouse *mouse)
{
	int x = take_clamped(&mouse->dx, MOTION_MIN, MOTION_MAX);
	int y = take_clamped(&mouse->dy, MOTION_MIN, MOTION_MAX);
	uint8_t status = PACKET_ALWAYS_ONE | mouse->buttons;

	if (mouse->scaling_2_1 && mouse->mode == MODE_STREAM) {
		x = scale_2_1(x);
		y = scale_2_1(y);
	}
	if (x < 0)
		status |= PACKET_X_SIGN;
	if (y < 0)
		status |= PACKET_Y_SIGN;
	send_byte(mouse, status);
	send_byte(mouse, (uint8_t)x);
	send_byte(mouse, (uint8_t)y);
	if (mouse->id == MOUSE_ID_WHEEL)
		send_byte(mouse, (uint8_t)take_clamped(&mouse->dz, WHEEL_MIN, WHEEL_MAX));
	else
		mouse->dz = 0;	/* a standard mouse has no wheel */
	mouse->buttons_sent = mouse->buttons;
}

static bool has_news(const struct ps2_mouse *mouse)
{
	return mouse->dx || mouse->dy || (mouse->dz && mouse->id == MOUSE_ID_WHEEL) ||
	       mouse->buttons != mouse->buttons_sent;
}

/*
 * Stream mode: motion waits while a packet is in flight and adds up, so a
 * slow guest gets fewer, larger moves.  A button change goes out at once
 * (@button_changed): coalescing a press with its release would lose the
 * click, and clicks are too rare to fill the controller's queue.
 */
static void maybe_send_packet(struct ps2_mouse *mouse, bool button_changed)
{
	if (mouse->mode != MODE_STREAM || !mouse->reporting)
		return;
	if (!button_changed && (mouse->packet_in_flight || !has_news(mouse)))
		return;
	send_packet(mouse);
	mouse->packet_in_flight = true;
}

static void clear_counters(struct ps2_mouse *mouse)
{
	mouse->dx = mouse->dy = mouse->dz = 0;
}

static void set_defaults(struct ps2_mouse *mouse)
{
	mouse->sample_rate = DEFAULT_SAMPLE_RATE;
	mouse->resolution = DEFAULT_RESOLUTION;
	mouse->scaling_2_1 = false;
	mouse->reporting = false;
	mouse->pending_command = 0;
	clear_counters(mouse);
}

static void reset_locked(struct ps2_mouse *mouse)
{
	set_defaults(mouse);
	mouse->mode = MODE_STREAM;
	mouse->id = MOUSE_ID_STANDARD;
	for (unsigned int i = 0; i < G_N_ELEMENTS(mouse->rates); i++)
		mouse->rates[i] = 0;
	mouse->buttons_sent = mouse->buttons;
	mouse->packet_in_flight = false;
}

static void pointer_motion(void *opaque, int dx, int dy, int dz)
{
	struct ps2_mouse *mouse = opaque;

	pthread_mutex_lock(&mouse->lock);
	/*
	 * Saturating: a counter far beyond a packet's range only means many
	 * packets to come, and must not overflow an int.  Host y grows
	 * downwards and host wheel + is away from the user; PS/2 is the
	 * other way round for both.
	 */
	mouse->dx = CLAMP((long)mouse->dx + dx, -(1 << 20), 1 << 20);
	mouse->dy = CLAMP((long)mouse->dy - dy, -(1 << 20), 1 << 20);
	mouse->dz = CLAMP((long)mouse->dz - dz, -(1 << 20), 1 << 20);
	maybe_send_packet(mouse, false);
	pthread_mutex_unlock(&mouse->lock);
}

static void pointer_button(void *opaque, unsigned int code, bool down)
{
	struct ps2_mouse *mouse = opaque;
	uint8_t bit;

	switch (code) {
	case BTN_LEFT:
		bit = PACKET_LEFT;
		break;
	case BTN_RIGHT:
		bit = PACKET_RIGHT;
		break;
	case BTN_MIDDLE:
		bit = PACKET_MIDDLE;
		break;
	default:
		return;	/* a three-button wheel mouse has no side buttons */
	}
	pthread_mutex_lock(&mouse->lock);
	if (down)
		mouse->buttons |= bit;
	else
		mouse->buttons &= ~bit;
	maybe_send_packet(mouse, true);
	pthread_mutex_unlock(&mouse->lock);
}

static const struct input_pointer_ops mouse_input_ops = {
	.motion = pointer_motion,
	.button = pointer_button,
};

static bool valid_sample_rate(uint8_t rate)
{
	switch (rate) {
	case 10: case 20: case 40: case 60: case 80: case 100: case 200:
		return true;
	}
	return false;
}

static void set_sample_rate(struct ps2_mouse *mouse, uint8_t rate)
{
	mouse->sample_rate = rate;
	mouse->rates[0] = mouse->rates[1];
	mouse->rates[1] = mouse->rates[2];
	mouse->rates[2] = rate;
	/* The IntelliMouse knock: 200, 100, 80 turns the wheel on (ID 3). */
	if (mouse->rates[0] == 200 && mouse->rates[1] == 100 && mouse->rates[2] == 80)
		mouse->id = MOUSE_ID_WHEEL;
}

static void receive_data(struct ps2_mouse *mouse, uint8_t command, uint8_t byte)
{
	switch (command) {
	case MOUSE_CMD_SAMPLE_RATE:
		if (!valid_sample_rate(byte)) {
			send_byte(mouse, MOUSE_RESEND);
			return;
		}
		set_sample_rate(mouse, byte);
		break;
	case MOUSE_CMD_SET_RESOLUTION:
		if (byte > 3) {
			send_byte(mouse, MOUSE_RESEND);
			return;
		}
		/*
		 * Reported back by E9, but motion stays in host pixels: a host
		 * pixel has no physical size to scale by counts/mm.
		 */
		mouse->resolution = byte;
		break;
	}
	send_byte(mouse, MOUSE_ACK);
}

static void send_status(struct ps2_mouse *mouse)
{
	uint8_t status = 0;

	if (mouse->buttons & PACKET_LEFT)
		status |= STATUS_LEFT;
	if (mouse->buttons & PACKET_MIDDLE)
		status |= STATUS_MIDDLE;
	if (mouse->buttons & PACKET_RIGHT)
		status |= STATUS_RIGHT;
	if (mouse->scaling_2_1)
		status |= STATUS_SCALING_2_1;
	if (mouse->reporting)
		status |= STATUS_ENABLED;
	if (mouse->mode == MODE_REMOTE)
		status |= STATUS_REMOTE;
	send_byte(mouse, MOUSE_ACK);
	send_byte(mouse, status);
	send_byte(mouse, mouse->resolution);
	send_byte(mouse, mouse->sample_rate);
}

static void receive_command(struct ps2_mouse *mouse, uint8_t byte)
{
	/* Every command but Resend resets the movement counters. */
	if (byte != MOUSE_CMD_RESEND && byte != MOUSE_CMD_READ_DATA)
		clear_counters(mouse);

	switch (byte) {
	case MOUSE_CMD_RESET:
		send_byte(mouse, MOUSE_ACK);
		reset_locked(mouse);
		send_byte(mouse, MOUSE_BAT_OK);
		send_byte(mouse, MOUSE_ID_STANDARD);
		break;
	case MOUSE_CMD_RESEND:
		i8042_aux_send(mouse->i8042, mouse->last_sent);
		break;
	case MOUSE_CMD_SET_DEFAULT:
		set_defaults(mouse);
		send_byte(mouse, MOUSE_ACK);
		break;
	case MOUSE_CMD_DISABLE:
		mouse->reporting = false;
		send_byte(mouse, MOUSE_ACK);
		break;
	case MOUSE_CMD_ENABLE:
		mouse->reporting = true;
		mouse->buttons_sent = mouse->buttons;
		send_byte(mouse, MOUSE_ACK);
		break;
	case MOUSE_CMD_SAMPLE_RATE:
	case MOUSE_CMD_SET_RESOLUTION:
		mouse->pending_command = byte;
		send_byte(mouse, MOUSE_ACK);
		break;
	case MOUSE_CMD_GET_ID:
		send_byte(mouse, MOUSE_ACK);
		send_byte(mouse, mouse->id);
		break;
	case MOUSE_CMD_REMOTE_MODE:
		mouse->mode = MODE_REMOTE;
		send_byte(mouse, MOUSE_ACK);
		break;
	case MOUSE_CMD_STREAM_MODE:
		mouse->mode = MODE_STREAM;
		send_byte(mouse, MOUSE_ACK);
		break;
	case MOUSE_CMD_READ_DATA:
		send_byte(mouse, MOUSE_ACK);
		send_packet(mouse);
		break;
	case MOUSE_CMD_STATUS:
		send_status(mouse);
		break;
	case MOUSE_CMD_SCALING_1_1:
	case MOUSE_CMD_SCALING_2_1:
		mouse->scaling_2_1 = byte == MOUSE_CMD_SCALING_2_1;
		send_byte(mouse, MOUSE_ACK);
		break;
	case MOUSE_CMD_WRAP_MODE:
		mouse->mode_before_wrap = mouse->mode;
		mouse->mode = MODE_WRAP;
		send_byte(mouse, MOUSE_ACK);
		break;
	case MOUSE_CMD_RESET_WRAP:
		send_byte(mouse, MOUSE_ACK);
		break;
	default:
		send_byte(mouse, MOUSE_RESEND);
		break;
	}
}

static void mouse_receive(void *opaque, uint8_t byte)
{
	struct ps2_mouse *mouse = opaque;

	pthread_mutex_lock(&mouse->lock);
	if (mouse->mode == MODE_WRAP && byte != MOUSE_CMD_RESET && byte != MOUSE_CMD_RESET_WRAP) {
		/* Wrap (echo) mode: every byte comes back but these two. */
		send_byte(mouse, byte);
	} else if (mouse->mode == MODE_WRAP && byte == MOUSE_CMD_RESET_WRAP) {
		mouse->mode = mouse->mode_before_wrap;
		clear_counters(mouse);
		send_byte(mouse, MOUSE_ACK);
	} else if (mouse->pending_command) {
		uint8_t command = mouse->pending_command;

		/* Sample rates go up to 200, so a data byte may look like a command. */
		mouse->pending_command = 0;
		receive_data(mouse, command, byte);
	} else {
		receive_command(mouse, byte);
	}
	pthread_mutex_unlock(&mouse->lock);
}

/* The guest read our last byte: the next packet may go. */
static void mouse_drained(void *opaque)
{
	struct ps2_mouse *mouse = opaque;

	pthread_mutex_lock(&mouse->lock);
	mouse->packet_in_flight = false;
	maybe_send_packet(mouse, false);
	pthread_mutex_unlock(&mouse->lock);
}

static const struct ps2_device_ops mouse_port_ops = {
	.receive = mouse_receive,
	.drained = mouse_drained,
};

struct ps2_mouse *ps2_mouse_new(struct i8042 *i8042, struct input *input)
{
	struct ps2_mouse *mouse = g_new0(struct ps2_mouse, 1);

	pthread_mutex_init(&mouse->lock, NULL);
	mouse->i8042 = i8042;
	mouse->input = input;
	reset_locked(mouse);
	i8042_attach_aux(i8042, &mouse_port_ops, mouse);
	input_attach_pointer(input, &mouse_input_ops, mouse);
	return mouse;
}

void ps2_mouse_free(struct ps2_mouse *mouse)
{
	if (!mouse)
		return;
	input_attach_pointer(mouse->input, NULL, NULL);
	i8042_attach_aux(mouse->i8042, NULL, NULL);
	pthread_mutex_destroy(&mouse->lock);
	g_free(mouse);
}

void ps2_mouse_reset(struct ps2_mouse *mouse)
{
	pthread_mutex_lock(&mouse->lock);
	reset_locked(mouse);
	pthread_mutex_unlock(&mouse->lock);
}
