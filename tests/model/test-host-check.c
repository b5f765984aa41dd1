/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the app tells a user about KVM (app/host_check.c): no device, a
 * device they may not open (tested as an unprivileged user when run as
 * root), another failure, and a device that opens.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "host_check.h"

static char *tmp_dir;

static void test_missing(void)
{
	g_autofree char *path = g_build_filename(tmp_dir, "no-kvm", NULL);
	g_autofree char *message = NULL;

	g_assert_cmpint(host_check_kvm(path, &message), ==, HOST_KVM_MISSING);
	g_assert_nonnull(strstr(message, "software CPU"));
	g_assert_nonnull(strstr(message, "VT-x"));
}

static void test_no_permission(void)
{
	g_autofree char *path = g_build_filename(tmp_dir, "kvm", NULL);
	g_autofree char *message = NULL;

	if (g_test_subprocess()) {
		/* root opens anything: be the user a desktop has. */
		if (geteuid() == 0)
			g_assert_cmpint(setresgid(65534, 65534, 65534) == 0 &&
					setresuid(65534, 65534, 65534) == 0, ==, TRUE);
		g_assert_cmpint(host_check_kvm(path, &message), ==, HOST_KVM_NO_PERMISSION);
		g_assert_nonnull(strstr(message, path));
		g_assert_nonnull(strstr(message, "usermod -aG kvm"));
		g_assert_nonnull(strstr(message, "log out"));
		return;
	}
	g_assert_true(g_file_set_contents(path, "", 0, NULL));
	g_assert_cmpint(g_chmod(path, 0), ==, 0);
	g_assert_cmpint(g_chmod(tmp_dir, 0755), ==, 0);
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
}

static void test_other_failure(void)
{
	g_autofree char *message = NULL;

	/* A directory cannot be opened for writing: neither missing nor forbidden. */
	g_assert_cmpint(host_check_kvm(tmp_dir, &message), ==, HOST_KVM_FAILED);
	g_assert_nonnull(strstr(message, tmp_dir));
	g_assert_nonnull(strstr(message, "software CPU"));
}

static void test_available(void)
{
	g_autofree char *message = NULL;

	g_assert_cmpint(host_check_kvm("/dev/null", &message), ==, HOST_KVM_AVAILABLE);
	g_assert_null(message);
}

int main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_strdup(g_getenv("VESSEL_HOST_CHECK_DIR"));
	if (!tmp_dir)
		tmp_dir = g_dir_make_tmp("vessel-host-check-XXXXXX", NULL);
	/* The subprocess of a trapped test finds the same folder. */
	g_setenv("VESSEL_HOST_CHECK_DIR", tmp_dir, TRUE);
	g_test_add_func("/host-check/missing", test_missing);
	g_test_add_func("/host-check/no-permission", test_no_permission);
	g_test_add_func("/host-check/other-failure", test_other_failure);
	g_test_add_func("/host-check/available", test_available);
	status = g_test_run();
	if (!g_test_subprocess()) {
		g_autofree char *kvm = g_build_filename(tmp_dir, "kvm", NULL);

		g_unlink(kvm);
		g_rmdir(tmp_dir);
	}
	g_free(tmp_dir);
	return status;
}
