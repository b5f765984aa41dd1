/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_ERROR_H
#define VESSEL_VMM_ERROR_H

#include <glib.h>

/*
 * One GError domain for everything vessel-vmm reports to a user.  Messages
 * name the problem and, where there is one, the fix; main() prints them on
 * one line and exits 1.
 */
#define VESSEL_ERROR (vessel_error_quark())
GQuark vessel_error_quark(void);

enum vessel_error_code {
	VESSEL_ERROR_FAILED,
	VESSEL_ERROR_INVALID_ARGUMENT,	/* bad option or option value */
	VESSEL_ERROR_BAD_IMAGE,		/* kernel/initrd unusable */
	VESSEL_ERROR_NO_ACCEL,		/* requested accelerator unavailable */
	VESSEL_ERROR_PERMISSION,
	VESSEL_ERROR_NO_MEMORY,
	VESSEL_ERROR_IO,
};

#endif
