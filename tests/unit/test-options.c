/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vessel-vmm's command line: every option with good and bad values, as a
 * user types them, and --profile under the options that override it.
 * Errors must say which option was wrong.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>

#include "error.h"
#include "options.h"

/* Parses "vessel-vmm" followed by the given NULL-terminated arguments. */
static bool parse(struct vmm_options *options, GError **error, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	const char *arg;
	va_list ap;

	g_ptr_array_add(argv, (gpointer) "vessel-vmm");
	va_start(ap, error);
	while ((arg = va_arg(ap, const char *)))
		g_ptr_array_add(argv, (gpointer)arg);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	vmm_options_init(options);
	return vmm_options_parse(options, (int)argv->len - 1, (char **)argv->pdata, error);
}

/* Asserts that the arguments are refused with a message containing `mention`. */
#define REFUSED(mention, ...)							\
	do {									\
		struct vmm_options o_;						\
		g_autoptr(GError) e_ = NULL;					\
										\
		g_assert_false(parse(&o_, &e_, __VA_ARGS__, NULL));		\
		g_assert_nonnull(e_);						\
		if (!strstr(e_->message, (mention)))				\
			g_error("'%s' does not mention '%s'", e_->message, (mention)); \
		vmm_options_clear(&o_);						\
	} while (0)

static void test_defaults(void)
{
	g_autoptr(GError) error = NULL;
	struct vmm_options o;

	g_assert_true(parse(&o, &error, NULL));
	g_assert_no_error(error);
	g_assert_cmpint(o.machine.accel, ==, ACCEL_CHOICE_AUTO);
	g_assert_cmpuint(o.machine.ram_size_bytes, ==, 512ULL << 20);
	g_assert_cmpuint(o.machine.nr_cpus, ==, 1);
	g_assert_cmpint(o.machine.serial, ==, SERIAL_BACKEND_STDIO);
	g_assert_null(o.machine.kernel_path);
	g_assert_null(o.machine.control_path);
	g_assert_false(o.machine.no_reboot);
	g_assert_cmpuint(o.machine.fw_cfg_files->len, ==, 0);
	g_assert_cmpint(o.display, ==, VMM_DISPLAY_NONE);
	g_assert_false(o.verbose);
	g_assert_false(o.version);
	vmm_options_clear(&o);
}

static void test_accel(void)
{
	static const struct { const char *arg; enum accel_choice accel; } ok[] = {
		{ "--accel=kvm", ACCEL_CHOICE_KVM }, { "--accel=tcg", ACCEL_CHOICE_TCG },
		{ "--accel=auto", ACCEL_CHOICE_AUTO },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GError) error = NULL;
		struct vmm_options o;

		g_assert_true(parse(&o, &error, ok[i].arg, NULL));
		g_assert_cmpint(o.machine.accel, ==, ok[i].accel);
		vmm_options_clear(&o);
	}
	{
		g_autoptr(GError) error = NULL;
		struct vmm_options o;

		/* Separate value and short form. */
		g_assert_true(parse(&o, &error, "-a", "tcg", NULL));
		g_assert_cmpint(o.machine.accel, ==, ACCEL_CHOICE_TCG);
		vmm_options_clear(&o);
	}
	REFUSED("--accel", "--accel", "xen");
	REFUSED("--accel", "--accel=KVM");
	REFUSED("--accel", "--accel=");
	{
		g_autoptr(GError) error = NULL;
		enum accel_choice accel = ACCEL_CHOICE_KVM;

		g_assert_false(vmm_options_parse_accel("hvf", &accel, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
		g_assert_cmpint(accel, ==, ACCEL_CHOICE_KVM);
	}
}

static void test_memory(void)
{
	static const struct { const char *arg; uint64_t bytes; } ok[] = {
		{ "--memory=1G", 1ULL << 30 }, { "--memory=256", 256ULL << 20 },
		{ "--memory=64M", 64ULL << 20 }, { "--memory=6G", 6ULL << 30 },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GError) error = NULL;
		struct vmm_options o;

		g_assert_true(parse(&o, &error, ok[i].arg, NULL));
		g_assert_no_error(error);
		g_assert_cmpuint(o.machine.ram_size_bytes, ==, ok[i].bytes);
		vmm_options_clear(&o);
	}
	{
		g_autoptr(GError) error = NULL;
		struct vmm_options o;

		g_assert_true(parse(&o, &error, "-m", "2G", NULL));
		g_assert_cmpuint(o.machine.ram_size_bytes, ==, 2ULL << 30);
		vmm_options_clear(&o);
	}
	REFUSED("--memory", "--memory=lots");
	REFUSED("--memory", "--memory=");
	REFUSED("--memory", "--memory=-1G");
	REFUSED("--memory", "--memory=1.5G");
}

static void test_cpus(void)
{
	static const char *const good[] = { "1", "2", "4", "64" };
	static const char *const bad[] = { "0", "65", "abc", "", "-1", "+2", " 2", "2x", "4294967297",
					   "99999999999999999999999" };

	for (unsigned int i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *arg = g_strdup_printf("--cpus=%s", good[i]);
		struct vmm_options o;

		g_assert_true(parse(&o, &error, arg, NULL));
		g_assert_cmpuint(o.machine.nr_cpus, ==, g_ascii_strtoull(good[i], NULL, 10));
		vmm_options_clear(&o);
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *arg = g_strdup_printf("--cpus=%s", bad[i]);

		REFUSED("--cpus", arg);
	}
	{
		g_autoptr(GError) error = NULL;
		struct vmm_options o;

		g_assert_true(parse(&o, &error, "-c", "3", NULL));
		g_assert_cmpuint(o.machine.nr_cpus, ==, 3);
		vmm_options_clear(&o);
	}
}

static void test_serial(void)
{
	g_autoptr(GError) error = NULL;
	struct vmm_options o;

	g_assert_true(parse(&o, &error, "--serial=none", NULL));
	g_assert_cmpint(o.machine.serial, ==, SERIAL_BACKEND_NONE);
	vmm_options_clear(&o);

	g_assert_true(parse(&o, &error, "--serial", "file:/tmp/com1.log", NULL));
	g_assert_cmpint(o.machine.serial, ==, SERIAL_BACKEND_FILE);
	g_assert_cmpstr(o.machine.serial_path, ==, "/tmp/com1.log");
	vmm_options_clear(&o);

	/* The last --serial wins. */
	g_assert_true(parse(&o, &error, "--serial=file:a", "--serial=file:b:c", "--serial=stdio", NULL));
	g_assert_cmpint(o.machine.serial, ==, SERIAL_BACKEND_STDIO);
	vmm_options_clear(&o);
	g_assert_true(parse(&o, &error, "--serial=none", "--serial=file:b:c", NULL));
	g_assert_cmpint(o.machine.serial, ==, SERIAL_BACKEND_FILE);
	g_assert_cmpstr(o.machine.serial_path, ==, "b:c");
	vmm_options_clear(&o);
	g_assert_no_error(error);

	REFUSED("--serial", "--serial=file:");
	REFUSED("--serial", "--serial=tcp:localhost:4444");
	REFUSED("--serial", "--serial=");
	REFUSED("--serial", "--serial=STDIO");
}

static void test_display(void)
{
	g_autoptr(GError) error = NULL;
	struct vmm_options o;

	g_assert_true(parse(&o, &error, "--display=none", NULL));
	g_assert_cmpint(o.display, ==, VMM_DISPLAY_NONE);
	vmm_options_clear(&o);
	g_assert_true(parse(&o, &error, "--display", "sdl", NULL));
	g_assert_cmpint(o.display, ==, VMM_DISPLAY_SDL);
	vmm_options_clear(&o);
	REFUSED("none or sdl", "--display", "x");
	REFUSED("--display", "--display=");
}

static void test_resolution(void)
{
	g_autoptr(GError) error = NULL;
	struct vmm_options o;

	g_assert_true(parse(&o, &error, "--kernel", "k", NULL));
	g_assert_cmpuint(o.machine.display_width, ==, 1024);
	g_assert_cmpuint(o.machine.display_height, ==, 768);
	vmm_options_clear(&o);
	g_assert_true(parse(&o, &error, "--resolution", "1920x1080", NULL));
	g_assert_cmpuint(o.machine.display_width, ==, 1920);
	g_assert_cmpuint(o.machine.display_height, ==, 1080);
	vmm_options_clear(&o);
	REFUSED("WIDTHxHEIGHT", "--resolution", "1920");
	REFUSED("WIDTHxHEIGHT", "--resolution", "1920x1080x32");
	REFUSED("WIDTHxHEIGHT", "--resolution", "-1x5");
	REFUSED("out of range", "--resolution", "100x100");
	/* 4096x2160 needs 33.75 MiB at 32 bpp: more than the video memory. */
	REFUSED("out of range", "--resolution", "4096x2160");
}

static void test_fw_cfg(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("vessel-options-XXXXXX", &error);
	g_autofree char *path = g_build_filename(dir, "blob.bin", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing.bin", NULL);
	g_autofree char *file_arg = g_strdup_printf("name=opt/vessel/blob,file=%s", path);
	g_autofree char *missing_arg = g_strdup_printf("name=opt/vessel/x,file=%s", missing);
	struct vmm_options o;
	const struct fw_cfg_user_file *file;
	gsize len;
	const char *bytes;

	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(path, "\x01\x00\x02", 3, &error));

	g_assert_true(parse(&o, &error, "--fw-cfg", "name=opt/vessel/text,string=hello, world",
			    "--fw-cfg", file_arg, "--fw-cfg=name=opt/vessel/empty,string=", NULL));
	g_assert_no_error(error);
	g_assert_cmpuint(o.machine.fw_cfg_files->len, ==, 3);
	file = g_ptr_array_index(o.machine.fw_cfg_files, 0);
	g_assert_cmpstr(file->name, ==, "opt/vessel/text");
	bytes = g_bytes_get_data(file->data, &len);
	g_assert_cmpmem(bytes, len, "hello, world", 12);
	file = g_ptr_array_index(o.machine.fw_cfg_files, 1);
	g_assert_cmpstr(file->name, ==, "opt/vessel/blob");
	bytes = g_bytes_get_data(file->data, &len);
	g_assert_cmpmem(bytes, len, "\x01\x00\x02", 3);
	file = g_ptr_array_index(o.machine.fw_cfg_files, 2);
	g_assert_cmpuint(g_bytes_get_size(file->data), ==, 0);
	vmm_options_clear(&o);

	/* A missing file is reported with its path. */
	REFUSED(missing, "--fw-cfg", missing_arg);
	REFUSED("--fw-cfg", "--fw-cfg", "name=opt/vessel/x");
	REFUSED("--fw-cfg", "--fw-cfg", "name=,string=x");
	REFUSED("--fw-cfg", "--fw-cfg", "name=opt/vessel/x,data=x");
	REFUSED("--fw-cfg", "--fw-cfg", "");
	REFUSED("--fw-cfg", "--fw-cfg", ",");
	REFUSED("--fw-cfg", "--fw-cfg", "name=opt/vessel/x,");

	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_flags_and_paths(void)
{
	g_autoptr(GError) error = NULL;
	struct vmm_options o;

	g_assert_true(parse(&o, &error, "--no-reboot", "--verbose", "--kernel", "/boot/vmlinuz",
			    "-i", "initrd.img", "--cmdline=console=ttyS0 quiet", "--control=/run/vm.sock",
			    NULL));
	g_assert_no_error(error);
	g_assert_true(o.machine.no_reboot);
	g_assert_true(o.verbose);
	g_assert_cmpstr(o.machine.kernel_path, ==, "/boot/vmlinuz");
	g_assert_cmpstr(o.machine.initrd_path, ==, "initrd.img");
	g_assert_cmpstr(o.machine.cmdline, ==, "console=ttyS0 quiet");
	g_assert_cmpstr(o.machine.control_path, ==, "/run/vm.sock");
	vmm_options_clear(&o);

	/* An empty kernel command line is a choice; an empty path is not. */
	g_assert_true(parse(&o, &error, "--cmdline=", "--version", NULL));
	g_assert_cmpstr(o.machine.cmdline, ==, "");
	g_assert_true(o.version);
	vmm_options_clear(&o);
	REFUSED("--kernel", "--kernel=");
	REFUSED("--initrd", "--initrd=");
	REFUSED("--control", "--control=");
}

static void test_stray_arguments(void)
{
	REFUSED("guest.elf", "guest.elf");
	REFUSED("extra", "--kernel=guest.elf", "extra");
	REFUSED("--bogus", "--bogus");
	REFUSED("--kernel", "--kernel");	/* the value is missing */
}

/* A machine.ini in a new folder; returns the folder (the file is dir/machine.ini). */
static char *write_profile(const char *contents)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("vessel-options-profile-XXXXXX", &error);
	g_autofree char *path = g_build_filename(dir, "machine.ini", NULL);

	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(path, contents, -1, &error));
	return dir;
}

static void remove_profile(const char *dir)
{
	static const char *const names[] = { "machine.ini", "spice-password" };

	for (unsigned int i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(dir, names[i], NULL);

		g_unlink(path);
	}
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static const char full_profile[] =
	"[machine]\n"
	"version=1\n"
	"name=Demo machine\n"
	"memory-mib=256\n"
	"cpus=2\n"
	"accel=tcg\n"
	"[boot]\n"
	"type=linux\n"
	"kernel=/boot/vmlinuz-test\n"
	"initrd=initrd.img\n"
	"cmdline=console=ttyS0 quiet\n"
	"[display]\n"
	"window=true\n"
	"spice=false\n"
	"resolution=1280x800\n";

static void test_profile(void)
{
	g_autofree char *dir = write_profile(full_profile);
	g_autofree char *path = g_build_filename(dir, "machine.ini", NULL);
	g_autofree char *initrd = g_build_filename(dir, "initrd.img", NULL);
	g_autoptr(GError) error = NULL;
	struct vmm_options o;

	/* Every key of the profile, mapped onto the options. */
	g_assert_true(parse(&o, &error, "--profile", path, NULL));
	g_assert_no_error(error);
	g_assert_cmpstr(o.profile_path, ==, path);
	g_assert_cmpuint(o.machine.ram_size_bytes, ==, 256ULL << 20);
	g_assert_cmpuint(o.machine.nr_cpus, ==, 2);
	g_assert_cmpint(o.machine.accel, ==, ACCEL_CHOICE_TCG);
	g_assert_cmpstr(o.machine.kernel_path, ==, "/boot/vmlinuz-test");
	/* Relative to the profile's folder, not to where vessel-vmm runs. */
	g_assert_cmpstr(o.machine.initrd_path, ==, initrd);
	g_assert_cmpstr(o.machine.cmdline, ==, "console=ttyS0 quiet");
	g_assert_cmpint(o.display, ==, VMM_DISPLAY_SDL);
	g_assert_cmpuint(o.machine.display_width, ==, 1280);
	g_assert_cmpuint(o.machine.display_height, ==, 800);
	g_assert_cmpstr(o.name, ==, "Demo machine");
	g_assert_false(o.spice);
	/* What a profile does not describe keeps the command line's defaults. */
	g_assert_cmpint(o.machine.serial, ==, SERIAL_BACKEND_STDIO);
	g_assert_null(o.machine.control_path);
	vmm_options_clear(&o);

	/* The command line wins, before or after --profile. */
	g_assert_true(parse(&o, &error, "--memory", "64M", "--accel=kvm", "--display=none",
			    "--profile", path, "--cpus", "1", "--kernel", "other.elf", "--name", "Override",
			    "--cmdline=", "--resolution=800x600", "--control=/run/vm.sock", NULL));
	g_assert_no_error(error);
	g_assert_cmpuint(o.machine.ram_size_bytes, ==, 64ULL << 20);
	g_assert_cmpuint(o.machine.nr_cpus, ==, 1);
	g_assert_cmpint(o.machine.accel, ==, ACCEL_CHOICE_KVM);
	g_assert_cmpint(o.display, ==, VMM_DISPLAY_NONE);
	g_assert_cmpstr(o.machine.kernel_path, ==, "other.elf");	/* the user's own: as typed */
	g_assert_cmpstr(o.machine.initrd_path, ==, initrd);		/* not overridden */
	g_assert_cmpstr(o.machine.cmdline, ==, "");
	g_assert_cmpstr(o.name, ==, "Override");
	g_assert_cmpuint(o.machine.display_width, ==, 800);
	g_assert_cmpstr(o.machine.control_path, ==, "/run/vm.sock");
	vmm_options_clear(&o);

	/* The last --profile is the one used, as with every option. */
	{
		g_autofree char *other_dir = write_profile("[machine]\nversion=1\nmemory-mib=128\n");
		g_autofree char *other = g_build_filename(other_dir, "machine.ini", NULL);

		g_assert_true(parse(&o, &error, "--profile", path, "--profile", other, NULL));
		g_assert_cmpuint(o.machine.ram_size_bytes, ==, 128ULL << 20);
		g_assert_null(o.machine.kernel_path);
		vmm_options_clear(&o);
		remove_profile(other_dir);
	}
	remove_profile(dir);
}

static void test_profile_spice(void)
{
	g_autofree char *dir = write_profile(
		"[machine]\nversion=1\nname=Remote\n[boot]\nkernel=k\n"
		"[display]\nwindow=false\nspice=true\nspice-port=5999\nspice-password=true\n");
	g_autofree char *path = g_build_filename(dir, "machine.ini", NULL);
	g_autofree char *password = g_build_filename(dir, "spice-password", NULL);
	g_autoptr(GError) error = NULL;
	struct vmm_options o;

	/* A password is needed and there is none: refused, saying where it should be. */
	REFUSED(password, "--profile", path);
	REFUSED("spice-password=false", "--profile", path);

	g_assert_true(g_file_set_contents(password, "s3cret\n", -1, &error));
	g_assert_true(parse(&o, &error, "--profile", path, NULL));
	g_assert_no_error(error);
	g_assert_true(o.spice);
	g_assert_cmpint(o.display, ==, VMM_DISPLAY_NONE);
	g_assert_cmpuint(o.spice_config.port, ==, 5999);
	g_assert_cmpstr(o.spice_config.addr, ==, "127.0.0.1");
	g_assert_cmpstr(o.spice_config.password, ==, "s3cret");
	g_assert_false(o.spice_config.disable_ticketing);
	g_assert_cmpuint(o.spice_config.tls_port, ==, 0);
	vmm_options_clear(&o);

	/* --spice on the command line replaces the profile's SPICE settings. */
	g_assert_true(parse(&o, &error, "--spice", "port=6100,disable-ticketing", "--profile", path, NULL));
	g_assert_no_error(error);
	g_assert_cmpuint(o.spice_config.port, ==, 6100);
	g_assert_null(o.spice_config.password);
	g_assert_true(o.spice_config.disable_ticketing);
	vmm_options_clear(&o);

	g_assert_true(g_file_set_contents(password, "", -1, &error));
	REFUSED("empty", "--profile", path);

	/* Opted out of a password: anyone on this computer may connect. */
	g_assert_true(g_file_set_contents(path,
		"[machine]\nversion=1\n[display]\nspice=true\nspice-password=false\n", -1, &error));
	g_assert_true(parse(&o, &error, "--profile", path, NULL));
	g_assert_no_error(error);
	g_assert_true(o.spice);
	g_assert_cmpuint(o.spice_config.port, ==, 5930);
	g_assert_true(o.spice_config.disable_ticketing);
	g_assert_null(o.spice_config.password);
	vmm_options_clear(&o);
	remove_profile(dir);
}

static void test_profile_errors(void)
{
	static const struct { const char *contents, *mention; } broken[] = {
		{ "not a profile\n", "not a key file" },
		{ "[machine]\nversion=2\n", "newer Vessel" },
		{ "[machine]\nversion=1\nmemory-mib=abc\n", "memory-mib" },
		{ "[machine]\nversion=1\ncpus=0\n", "cpus=0" },
		{ "[machine]\nversion=1\ncpus=65\n", "1 to 64" },
		{ "[machine]\nversion=1\n[display]\nresolution=9000x9000\n", "out of range" },
		{ "[machine]\nversion=1\n[display]\nspice=true\nspice-port=0\nspice-password=false\n",
		  "spice-port=0" },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(broken); i++) {
		g_autofree char *dir = write_profile(broken[i].contents);
		g_autofree char *path = g_build_filename(dir, "machine.ini", NULL);

		/* One message naming the option, the file and the problem. */
		REFUSED("--profile", "--profile", path);
		REFUSED(path, "--profile", path);
		REFUSED(broken[i].mention, "--profile", path);
		remove_profile(dir);
	}
	REFUSED("/nonexistent/machine.ini", "--profile", "/nonexistent/machine.ini");
	REFUSED("does not exist", "--profile=/nonexistent/machine.ini");
	REFUSED("--profile", "--profile=");
	/* The command line's own mistakes come first. */
	REFUSED("--cpus", "--profile=/nonexistent/machine.ini", "--cpus=0");
	{
		g_autoptr(GError) error = NULL;
		struct vmm_options o;

		/* --version answers without reading the profile. */
		g_assert_true(parse(&o, &error, "--profile=/nonexistent/machine.ini", "--version", NULL));
		g_assert_true(o.version);
		vmm_options_clear(&o);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/options/defaults", test_defaults);
	g_test_add_func("/options/accel", test_accel);
	g_test_add_func("/options/memory", test_memory);
	g_test_add_func("/options/cpus", test_cpus);
	g_test_add_func("/options/serial", test_serial);
	g_test_add_func("/options/display", test_display);
	g_test_add_func("/options/resolution", test_resolution);
	g_test_add_func("/options/fw-cfg", test_fw_cfg);
	g_test_add_func("/options/flags-and-paths", test_flags_and_paths);
	g_test_add_func("/options/stray-arguments", test_stray_arguments);
	g_test_add_func("/options/profile", test_profile);
	g_test_add_func("/options/profile-spice", test_profile_spice);
	g_test_add_func("/options/profile-errors", test_profile_errors);
	return g_test_run();
}
