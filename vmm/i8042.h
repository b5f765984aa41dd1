/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_I8042_H
#define VESSEL_VMM_I8042_H

#include <stdint.h>

#include "bus.h"
#include "irq.h"

/*
 * The 8042 keyboard controller at ports 0x60 (data) and 0x64 (status and
 * command).  Its output port's bit 0 is the CPU reset line: command 0xFE
 * (or writing the output port with bit 0 clear) resets the machine, which
 * is how Linux and most PC software reboot.
 *
 * The keyboard and mouse behind it are separate devices (ps2_keyboard.c,
 * ps2_mouse.c); until one is attached, bytes written for a device get no
 * answer, as with nothing plugged into the port.
 *
 * With the command byte's XLATE bit set (the power-on default, which Linux
 * keeps), bytes from the keyboard are translated from scan code set 2 to set
 * 1 on their way to the guest, as the 8042 does.  While the command byte
 * disables a port (bits 4/5, commands AD/A7), bytes that port's device sends
 * wait in the controller's queue and reach the guest once the port is
 * enabled again: a real device holds them in its own buffer while the
 * controller inhibits its clock line.
 *
 * Locking: the controller never calls a device while holding a lock, so a
 * device may call i8042_*_send with its own lock held; device callbacks run
 * on the vCPU thread that accessed the ports.  i8042_reset() empties the
 * queue without calling devices: reset the devices behind it too.
 */
#define I8042_DATA_PORT		0x60
#define I8042_COMMAND_PORT	0x64
#define I8042_KBD_GSI		1
#define I8042_AUX_GSI		12

struct i8042;

/* A PS/2 device behind one of the controller's two ports. */
struct ps2_device_ops {
	/* A byte the guest sent to the device; it answers with i8042_*_send. */
	void (*receive)(void *opaque, uint8_t byte);
	/*
	 * Optional: the guest has read every byte this device sent (or the
	 * controller dropped them).  A mouse sends its next packet then, so
	 * motion coalesces instead of filling the queue.
	 */
	void (*drained)(void *opaque);
};

struct i8042 *i8042_new(struct irq_line kbd_irq, struct irq_line aux_irq,
			void (*request_reset)(void *opaque), void *reset_opaque);
void i8042_free(struct i8042 *i8042);
void i8042_reset(struct i8042 *i8042);

void i8042_attach_keyboard(struct i8042 *i8042, const struct ps2_device_ops *ops, void *opaque);
void i8042_attach_aux(struct i8042 *i8042, const struct ps2_device_ops *ops, void *opaque);
/* Device -> guest bytes (scancodes, mouse packets, command answers). */
void i8042_keyboard_send(struct i8042 *i8042, uint8_t byte);
void i8042_aux_send(struct i8042 *i8042, uint8_t byte);

/* Register at I8042_DATA_PORT and at I8042_COMMAND_PORT, one port each. */
extern const struct bus_ops i8042_data_ops;
extern const struct bus_ops i8042_command_ops;

#endif
