/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "debug_exit.h"

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	const struct debug_exit *d = opaque;

	/* A process exit status keeps 8 bits; so does QEMU's. */
	d->request_exit(d->opaque, (int)(((value << 1) | 1) & 0xff));
}

const struct bus_ops debug_exit_ops = {
	.write = debug_exit_write,
};
