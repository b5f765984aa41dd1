/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_DEBUG_EXIT_H
#define VESSEL_VMM_DEBUG_EXIT_H

#include "bus.h"

/*
 * The test-exit port, compatible with QEMU's isa-debug-exit at 0xf4: a write
 * of value v (any width) ends the VMM with exit status (v << 1) | 1, so test
 * guests report a result that cannot be confused with a clean power-off (0).
 */
#define DEBUG_EXIT_PORT		0xf4
#define DEBUG_EXIT_PORT_COUNT	4

struct debug_exit {
	void (*request_exit)(void *opaque, int status);
	void *opaque;
};

extern const struct bus_ops debug_exit_ops;

#endif
