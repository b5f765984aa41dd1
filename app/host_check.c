/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "host_check.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include <glib/gi18n-lib.h>


enum host_kvm_status host_check_kvm(const char *device_path, char **message)
{
	int fd = open(device_path, O_RDWR | O_CLOEXEC);
	int saved_errno = errno;

	*message = NULL;
	if (fd >= 0) {
		close(fd);
		return HOST_KVM_AVAILABLE;
	}
	switch (saved_errno) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		*message = g_strdup(_("KVM is not available on this computer, so machines run on "
				      "Vessel’s software CPU — it works, but guests are much slower. "
				      "KVM needs a processor with virtualization (Intel VT-x or AMD-V) "
				      "switched on in the computer’s firmware settings, and the kvm_intel "
				      "or kvm_amd kernel module loaded."));
		return HOST_KVM_MISSING;
	case EACCES:
	case EPERM:
		*message = g_strdup_printf(_("You are not allowed to use %s, so machines run on "
					     "Vessel’s software CPU, much slower. To fix it, add yourself "
					     "to the “kvm” group (sudo usermod -aG kvm %s), then log out "
					     "and back in."), device_path, g_get_user_name());
		return HOST_KVM_NO_PERMISSION;
	default:
		*message = g_strdup_printf(_("%s cannot be opened (%s), so machines run on Vessel’s "
					     "software CPU, much slower."), device_path,
					   g_strerror(saved_errno));
		return HOST_KVM_FAILED;
	}
}

gboolean host_is_virtual_machine(void)
{
	g_autofree char *cpuinfo = NULL;

	if (!g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL))
		return FALSE;
	for (char *line = cpuinfo; line && *line; ) {
		char *end = strchr(line, '\n');

		if (end)
			*end = '\0';
		if (g_str_has_prefix(line, "flags")) {
			g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);

			return g_strv_contains((const char *const *)words, "hypervisor");
		}
		line = end ? end + 1 : NULL;
	}
	return FALSE;
}
