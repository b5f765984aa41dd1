/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VesselMachine (app/vessel_machine.c), what the app's rows bind to: a
 * profile and its run of the real vessel-vmm on the demo test guest.
 * Start/Pause/Resume/Reset/Screenshot/Stop → wait → Force Off, a kernel that
 * is gone, a VMM that fails, an unreadable profile.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "vessel_machine.h"

#define WAIT_TIMEOUT_S 30

struct fixture {
	char *tmp_dir;
	char *machines_dir;
	char *runtime_dir;
	GPtrArray *messages;
};

static const char *vmm_path(void)
{
	const char *path = g_getenv("VESSEL_VMM");

	g_assert_nonnull(path);
	return path;
}

static void fixture_set_up(struct fixture *f, gconstpointer data)
{
	f->tmp_dir = g_dir_make_tmp("vessel-machine-XXXXXX", NULL);
	g_assert_nonnull(f->tmp_dir);
	f->machines_dir = g_build_filename(f->tmp_dir, "machines", NULL);
	f->runtime_dir = g_build_filename(f->tmp_dir, "run", NULL);
	g_assert_cmpint(g_mkdir(f->runtime_dir, 0700), ==, 0);
	f->messages = g_ptr_array_new_with_free_func(g_free);
}

static void remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			remove_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

static void fixture_tear_down(struct fixture *f, gconstpointer data)
{
	remove_tree(f->tmp_dir);
	g_free(f->tmp_dir);
	g_free(f->machines_dir);
	g_free(f->runtime_dir);
	g_ptr_array_unref(f->messages);
}

static void on_message(VesselMachine *machine, const char *text, struct fixture *f)
{
	g_test_message("message: %s", text);
	g_ptr_array_add(f->messages, g_strdup(text));
}

/* A saved profile booting the demo guest (or kernel_path), no window. */
static VesselMachine *make_machine(struct fixture *f, const char *kernel_path, const char *accel)
{
	g_autoptr(GError) error = NULL;
	struct profile *profile = profile_new("Test machine");
	VesselMachine *machine;

	g_free(profile->kernel_path);
	profile->kernel_path = g_strdup(kernel_path);
	profile->memory_mib = 64;
	profile->display_window = false;
	profile->accel = g_str_equal(accel, "kvm") ? PROFILE_ACCEL_KVM : PROFILE_ACCEL_TCG;
	g_assert_true(profile_save(profile, f->machines_dir, NULL, &error));
	g_assert_no_error(error);
	machine = vessel_machine_new(profile, vmm_path(), f->runtime_dir);
	g_signal_connect(machine, "message", G_CALLBACK(on_message), f);
	return machine;
}

static gboolean on_timeout(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Runs the main loop until check(machine) or the timeout (a test failure). */
#define WAIT_UNTIL(machine, condition, what)                                             \
	do {                                                                             \
		gboolean timed_out_ = FALSE;                                             \
		guint timer_ = g_timeout_add_seconds(WAIT_TIMEOUT_S, on_timeout, &timed_out_); \
		while (!(condition) && !timed_out_)                                      \
			g_main_context_iteration(NULL, TRUE);                            \
		if (timed_out_)                                                          \
			g_error("timed out waiting for %s (state %d, error %s)", what,   \
				vessel_machine_get_state(machine),                       \
				vessel_machine_get_error(machine));                      \
		g_source_remove(timer_);                                                 \
	} while (0)

static gboolean has_message(struct fixture *f, const char *prefix)
{
	for (guint i = 0; i < f->messages->len; i++)
		if (g_str_has_prefix(g_ptr_array_index(f->messages, i), prefix))
			return TRUE;
	return FALSE;
}

static void test_lifecycle(struct fixture *f, gconstpointer data)
{
	const char *accel = data;
	g_autoptr(VesselMachine) machine = make_machine(f, g_getenv("VESSEL_GUEST_DEMO"), accel);
	g_autofree char *pictures = g_build_filename(f->tmp_dir, "Pictures", NULL);
	g_autoptr(GError) error = NULL;
	int countdown_seen = -1;

	if (g_str_equal(accel, "kvm") && !g_file_test("/dev/kvm", G_FILE_TEST_EXISTS)) {
		g_test_skip("no /dev/kvm on this host");
		return;
	}
	g_assert_cmpint(vessel_machine_get_state(machine), ==, VESSEL_VM_STATE_STOPPED);
	g_assert_true(vessel_machine_start(machine, &error));
	g_assert_no_error(error);
	WAIT_UNTIL(machine, vessel_machine_get_state(machine) == VESSEL_VM_STATE_RUNNING, "Running");

	vessel_machine_pause(machine);
	WAIT_UNTIL(machine, vessel_machine_get_state(machine) == VESSEL_VM_STATE_PAUSED, "Paused");
	vessel_machine_resume(machine);
	WAIT_UNTIL(machine, vessel_machine_get_state(machine) == VESSEL_VM_STATE_RUNNING, "Resumed");

	vessel_machine_reset(machine);
	WAIT_UNTIL(machine, has_message(f, "The machine was reset"), "the reset's message");
	g_assert_cmpint(vessel_machine_get_state(machine), ==, VESSEL_VM_STATE_RUNNING);

	/* The firmware's mode shows even before the guest draws: a PNG in the folder. */
	vessel_machine_screenshot(machine, pictures);
	WAIT_UNTIL(machine, has_message(f, "Screenshot saved as "), "the screenshot's message");
	{
		const char *message = g_ptr_array_index(f->messages, f->messages->len - 1);
		const char *path = message + strlen("Screenshot saved as ");
		g_autofree char *png = NULL;
		gsize length = 0;

		g_assert_true(g_str_has_prefix(path, pictures));
		g_assert_true(g_file_get_contents(path, &png, &length, NULL));
		g_assert_cmpuint(length, >, 8);
		g_assert_cmpint(memcmp(png, "\x89PNG\r\n\x1a\n", 8), ==, 0);
	}

	/* A running machine is not deleted. */
	g_assert_false(vessel_machine_delete(machine, FALSE, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
	g_clear_error(&error);

	/* Stop: the test guest ignores the power button; Force Off is offered after the wait. */
	vessel_machine_set_stop_timeout(machine, 2);
	vessel_machine_stop(machine);
	g_assert_cmpint(vessel_machine_get_stop_seconds_left(machine), ==, 2);
	g_assert_false(vessel_machine_get_force_off_offered(machine));
	WAIT_UNTIL(machine, vessel_machine_get_stop_seconds_left(machine) == 1 ||
		   vessel_machine_get_force_off_offered(machine), "the countdown");
	countdown_seen = vessel_machine_get_stop_seconds_left(machine);
	g_assert_cmpint(countdown_seen, ==, 1);
	g_assert_false(has_message(f, "The guest cannot be asked"));
	WAIT_UNTIL(machine, vessel_machine_get_force_off_offered(machine), "Force Off to be offered");
	g_assert_cmpint(vessel_machine_get_state(machine), ==, VESSEL_VM_STATE_RUNNING);

	vessel_machine_force_off(machine);
	WAIT_UNTIL(machine, vessel_machine_get_state(machine) == VESSEL_VM_STATE_STOPPED, "Stopped");
	g_assert_null(vessel_machine_get_error(machine));
	g_assert_false(vessel_machine_get_force_off_offered(machine));
	g_assert_cmpint(vessel_machine_get_stop_seconds_left(machine), ==, -1);

	/* It starts again, and can then be deleted once stopped. */
	g_assert_true(vessel_machine_start(machine, &error));
	WAIT_UNTIL(machine, vessel_machine_get_state(machine) == VESSEL_VM_STATE_RUNNING, "Running again");
	vessel_machine_force_off(machine);
	WAIT_UNTIL(machine, vessel_machine_get_state(machine) == VESSEL_VM_STATE_STOPPED, "Stopped again");
	g_assert_true(vessel_machine_delete(machine, TRUE, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(vessel_machine_get_profile(machine)->dir, G_FILE_TEST_EXISTS));
}

static void test_kernel_gone(struct fixture *f, gconstpointer data)
{
	g_autofree char *kernel = g_build_filename(f->tmp_dir, "vmlinuz", NULL);
	g_autoptr(VesselMachine) machine = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(kernel, "not really", -1, NULL));
	machine = make_machine(f, kernel, "tcg");
	g_unlink(kernel);
	g_assert_false(vessel_machine_start(machine, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_assert_cmpint(vessel_machine_get_state(machine), ==, VESSEL_VM_STATE_ERROR);
	g_assert_nonnull(strstr(vessel_machine_get_error(machine), kernel));
	g_assert_nonnull(strstr(vessel_machine_get_error(machine), "is gone"));
}

static void test_vmm_fails(struct fixture *f, gconstpointer data)
{
	g_autofree char *kernel = g_build_filename(f->tmp_dir, "vmlinuz", NULL);
	g_autoptr(VesselMachine) machine = NULL;
	g_autoptr(GError) error = NULL;

	/* Not a kernel: vessel-vmm starts and says why it cannot boot it. */
	g_assert_true(g_file_set_contents(kernel, "this is not a kernel image\n", -1, NULL));
	machine = make_machine(f, kernel, "tcg");
	g_assert_true(vessel_machine_start(machine, &error));
	WAIT_UNTIL(machine, vessel_machine_get_state(machine) == VESSEL_VM_STATE_ERROR, "Error");
	g_test_message("error: %s", vessel_machine_get_error(machine));
	g_assert_nonnull(strstr(vessel_machine_get_error(machine), kernel));
	g_assert_false(vessel_machine_get_broken(machine));
}

static void test_unreadable(struct fixture *f, gconstpointer data)
{
	g_autofree char *dir = g_build_filename(f->machines_dir, "broken", NULL);
	g_autofree char *path = g_build_filename(dir, PROFILE_FILE_NAME, NULL);
	g_autoptr(VesselMachine) machine = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *description = NULL;
	g_autofree char *after = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(path, "\x01garbage[[\n", -1, NULL));
	machine = vessel_machine_new(profile_load(dir), vmm_path(), f->runtime_dir);
	g_assert_true(vessel_machine_get_broken(machine));
	g_assert_nonnull(vessel_machine_get_error(machine));
	description = vessel_machine_describe(machine);
	g_assert_nonnull(strstr(description, "cannot be read"));
	g_assert_false(vessel_machine_start(machine, &error));
	g_assert_nonnull(strstr(error->message, "cannot be read"));
	g_clear_error(&error);
	g_assert_false(vessel_machine_delete(machine, TRUE, &error));
	g_assert_true(g_file_get_contents(path, &after, NULL, NULL));
	g_assert_cmpstr(after, ==, "\x01garbage[[\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/machine/lifecycle/kvm", struct fixture, "kvm", fixture_set_up, test_lifecycle,
		   fixture_tear_down);
	g_test_add("/machine/lifecycle/tcg", struct fixture, "tcg", fixture_set_up, test_lifecycle,
		   fixture_tear_down);
	g_test_add("/machine/kernel-gone", struct fixture, NULL, fixture_set_up, test_kernel_gone,
		   fixture_tear_down);
	g_test_add("/machine/vmm-fails", struct fixture, NULL, fixture_set_up, test_vmm_fails,
		   fixture_tear_down);
	g_test_add("/machine/unreadable", struct fixture, NULL, fixture_set_up, test_unreadable,
		   fixture_tear_down);
	return g_test_run();
}
