/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main() of the vessel app (ui/application.c does the work). */
#include <locale.h>

#include "config.h"
#include <glib/gi18n-lib.h>

#include "application.h"

/* A DRM render node is what hardware OpenGL needs; without one, Mesa renders on the CPU. */
static gboolean has_render_node(void)
{
	g_autoptr(GDir) dri = g_dir_open("/dev/dri", 0, NULL);
	const char *name;

	while (dri && (name = g_dir_read_name(dri)))
		if (g_str_has_prefix(name, "renderD"))
			return TRUE;
	return FALSE;
}

int main(int argc, char **argv)
{
	g_autoptr(VesselApplication) app = NULL;
	const char *localedir = g_getenv("VESSEL_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, localedir && *localedir ? localedir : VESSEL_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	/*
	 * Without a GPU, GTK's OpenGL renderer runs on Mesa's llvmpipe: about
	 * 125 MiB more memory and CPU time for a window of lists and buttons
	 * (docs/benchmarks.md).  Draw with cairo instead, unless told otherwise.
	 */
	if (!has_render_node() && !g_getenv("GSK_RENDERER") && !g_getenv("GDK_DEBUG")) {
		g_setenv("GSK_RENDERER", "cairo", FALSE);
		g_setenv("GDK_DEBUG", "gl-disable", FALSE);
	}
	g_set_application_name(_("Vessel"));
	app = vessel_application_new();
	return g_application_run(G_APPLICATION(app), argc, argv);
}
