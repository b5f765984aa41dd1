/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_I8042_H
#define GUEST_I8042_H

#define I8042_DATA		0x60
#define I8042_STATUS		0x64	/* read */
#define I8042_COMMAND		0x64	/* write */

#define I8042_STATUS_IBF	0x02	/* input buffer full: busy */
#define I8042_CMD_PULSE_RESET	0xfe	/* pulse output line 0: CPU reset */

/*
 * Reset the machine through the keyboard controller.  Returns only if the
 * reset did not happen within a few milliseconds.
 */
void i8042_reset(void);

#endif
