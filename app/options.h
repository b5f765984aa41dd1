/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_APP_OPTIONS_H
#define VESSEL_APP_OPTIONS_H

#include <glib.h>
#include <stdbool.h>

#include "machine.h"
#include "spice_display.h"

enum vmm_display {
	VMM_DISPLAY_NONE,	/* no window; the screen is still there for screendump */
	VMM_DISPLAY_SDL,	/* an SDL2 window */
};

/* What the vessel-vmm command line asks for (docs/vessel-vmm.md). */
struct vmm_options {
	struct machine_config machine;
	bool verbose;
	bool version;
	enum vmm_display display;
	char *name;		/* --name: for the window title */
	bool spice;		/* --spice given */
	struct spice_display_config spice_config;
	char *profile_path;	/* --profile: machine.ini the options above started from */
};

void vmm_options_init(struct vmm_options *options);
void vmm_options_clear(struct vmm_options *options);

/*
 * Parses argv (GOption syntax: --name VALUE or --name=VALUE).  On error the
 * message names the option and what it accepts.  --help prints and exits 0
 * inside GOption, as users expect.  With --profile FILE the machine profile
 * (docs/profiles.md) gives the starting values and every other option on
 * the command line overrides it, wherever it stands.
 */
bool vmm_options_parse(struct vmm_options *options, int argc, char **argv, GError **error);

/* Pieces of the parser, for tests. */
bool vmm_options_parse_accel(const char *value, enum accel_choice *accel, GError **error);
bool vmm_options_parse_serial(const char *value, struct machine_config *config, GError **error);
bool vmm_options_parse_fw_cfg(const char *value, struct machine_config *config, GError **error);
bool vmm_options_parse_resolution(const char *value, struct machine_config *config, GError **error);

#endif
