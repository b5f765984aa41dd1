/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main() of the vessel app (ui/application.c does the work). */
#include <locale.h>

#include "config.h"
#include <glib/gi18n-lib.h>

#include "application.h"

int main(int argc, char **argv)
{
	g_autoptr(VesselApplication) app = NULL;
	const char *localedir = g_getenv("VESSEL_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, localedir && *localedir ? localedir : VESSEL_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	g_set_application_name(_("Vessel"));
	app = vessel_application_new();
	return g_application_run(G_APPLICATION(app), argc, argv);
}
