/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "i8042.h"
#include "io.h"

#define I8042_POLL_LIMIT	1000
#define RESET_WAIT_LOOPS	5000

void i8042_reset(void)
{
	/* The controller takes a command only with its input buffer empty. */
	for (int i = 0; i < I8042_POLL_LIMIT; i++) {
		if (!(inb(I8042_STATUS) & I8042_STATUS_IBF))
			break;
		cpu_relax();
	}
	outb(I8042_COMMAND, I8042_CMD_PULSE_RESET);
	/* The reset may take effect a little after the OUT. */
	for (int i = 0; i < RESET_WAIT_LOOPS; i++)
		cpu_relax();
}
