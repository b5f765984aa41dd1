/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bochs_display.h"
#include "config.h"
#include "error.h"
#include "profile.h"

void vmm_options_init(struct vmm_options *options)
{
	memset(options, 0, sizeof(*options));
	machine_config_init(&options->machine);
	options->display = VMM_DISPLAY_NONE;
}

void vmm_options_clear(struct vmm_options *options)
{
	g_free(options->name);
	g_free(options->profile_path);
	spice_display_config_clear(&options->spice_config);
	machine_config_clear(&options->machine);
}

static gboolean invalid(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean invalid(GError **error, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, format);
	message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error_literal(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT, message);
	return FALSE;
}

bool vmm_options_parse_accel(const char *value, enum accel_choice *accel, GError **error)
{
	if (!strcmp(value, "kvm"))
		*accel = ACCEL_CHOICE_KVM;
	else if (!strcmp(value, "tcg"))
		*accel = ACCEL_CHOICE_TCG;
	else if (!strcmp(value, "auto"))
		*accel = ACCEL_CHOICE_AUTO;
	else
		return invalid(error, "--accel: unknown accelerator '%s' (use kvm, tcg or auto)", value);
	return true;
}

bool vmm_options_parse_serial(const char *value, struct machine_config *config, GError **error)
{
	if (!strcmp(value, "stdio")) {
		config->serial = SERIAL_BACKEND_STDIO;
	} else if (!strcmp(value, "none")) {
		config->serial = SERIAL_BACKEND_NONE;
	} else if (g_str_has_prefix(value, "file:") && value[5]) {
		config->serial = SERIAL_BACKEND_FILE;
		g_free(config->serial_path);
		config->serial_path = g_strdup(value + 5);
	} else {
		return invalid(error, "--serial: '%s' is not stdio, none or file:PATH", value);
	}
	return true;
}

bool vmm_options_parse_fw_cfg(const char *value, struct machine_config *config, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(value, ",", 2);
	const char *name = NULL, *rest = NULL;
	struct fw_cfg_user_file *file;
	GBytes *data;

	/*
	 * name=NAME,file=PATH or name=NAME,string=TEXT (QEMU's -fw_cfg syntax).
	 * g_strsplit("") returns an empty vector: parts[1] exists only when
	 * parts[0] does.
	 */
	if (parts[0]) {
		rest = parts[1];
		if (g_str_has_prefix(parts[0], "name="))
			name = parts[0] + 5;
	}
	if (!name || !*name || !rest)
		return invalid(error, "--fw-cfg: expected name=NAME,file=PATH or name=NAME,string=TEXT, not '%s'",
			       value);
	if (g_str_has_prefix(rest, "string=")) {
		data = g_bytes_new(rest + 7, strlen(rest + 7));
	} else if (g_str_has_prefix(rest, "file=")) {
		g_autoptr(GError) read_error = NULL;
		char *contents;
		gsize len;

		if (!g_file_get_contents(rest + 5, &contents, &len, &read_error))
			return invalid(error, "--fw-cfg %s: %s", name, read_error->message);
		data = g_bytes_new_take(contents, len);
	} else {
		return invalid(error, "--fw-cfg %s: give the content as file=PATH or string=TEXT", name);
	}
	file = g_new0(struct fw_cfg_user_file, 1);
	file->name = g_strdup(name);
	file->data = data;
	g_ptr_array_add(config->fw_cfg_files, file);
	return true;
}

/* GOption callbacks: the parser's user data is struct vmm_options. */

static gboolean on_accel(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;

	return vmm_options_parse_accel(value, &options->machine.accel, error);
}

static gboolean on_memory(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;
	g_autoptr(GError) size_error = NULL;

	if (!guest_memory_parse_size(value, &options->machine.ram_size_bytes, &size_error))
		return invalid(error, "--memory: %s", size_error->message);
	return TRUE;
}

static gboolean on_cpus(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno || end == value || *end || !g_ascii_isdigit(*value) || n < 1 || n > MACHINE_MAX_CPUS)
		return invalid(error, "--cpus: '%s' is not a number of CPUs from 1 to %d", value,
			       MACHINE_MAX_CPUS);
	options->machine.nr_cpus = (unsigned int)n;
	return TRUE;
}

static gboolean on_serial(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;

	return vmm_options_parse_serial(value, &options->machine, error);
}

static gboolean on_display(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;

	if (!strcmp(value, "none")) {
		options->display = VMM_DISPLAY_NONE;
		return TRUE;
	}
	if (!strcmp(value, "sdl")) {
		options->display = VMM_DISPLAY_SDL;
		return TRUE;
	}
	return invalid(error, "--display: unknown display '%s' (choose none or sdl)", value);
}

/* `what` names where the size came from: "--resolution" or the profile. */
static bool set_resolution(unsigned int width, unsigned int height, const char *what,
			   struct machine_config *config, GError **error)
{
	/* 32 bpp in the framebuffer's video memory, within the dispi registers' limits. */
	if (width < 320 || height < 200 || width > BOCHS_DISPLAY_MAX_WIDTH ||
	    height > BOCHS_DISPLAY_MAX_HEIGHT || (uint64_t)width * height * 4 > BOCHS_DISPLAY_DEFAULT_VRAM)
		return invalid(error, "%s: %ux%u is out of range (from 320x200 up to 16 MiB at 32 bits per pixel, e.g. 2560x1600)",
			       what, width, height);
	config->display_width = width;
	config->display_height = height;
	return true;
}

bool vmm_options_parse_resolution(const char *value, struct machine_config *config, GError **error)
{
	unsigned int width, height;
	int end = 0;

	if (sscanf(value, "%ux%u%n", &width, &height, &end) != 2 || value[end] || !g_ascii_isdigit(value[0])) {
		return invalid(error, "--resolution: '%s' is not WIDTHxHEIGHT, e.g. 1280x800", value);
	}
	return set_resolution(width, height, "--resolution", config, error);
}

static gboolean on_name(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;

	if (!*value || !g_utf8_validate(value, -1, NULL))
		return invalid(error, "--name: give a non-empty name in UTF-8");
	g_free(options->name);
	options->name = g_strdup(value);
	return TRUE;
}

static gboolean on_spice(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;

	spice_display_config_clear(&options->spice_config);
	options->spice = spice_display_parse(value, &options->spice_config, error);
	return options->spice;
}

static gboolean on_resolution(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;

	return vmm_options_parse_resolution(value, &options->machine, error);
}

static gboolean on_fw_cfg(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;

	return vmm_options_parse_fw_cfg(value, &options->machine, error);
}

static gboolean set_string(char **slot, const char *option, const char *value, GError **error)
{
	if (!*value)
		return invalid(error, "%s needs a value", option);
	g_free(*slot);
	*slot = g_strdup(value);
	return TRUE;
}

static gboolean on_kernel(const char *option, const char *value, gpointer data, GError **error)
{
	return set_string(&((struct vmm_options *)data)->machine.kernel_path, option, value, error);
}

static gboolean on_initrd(const char *option, const char *value, gpointer data, GError **error)
{
	return set_string(&((struct vmm_options *)data)->machine.initrd_path, option, value, error);
}

static gboolean on_cmdline(const char *option, const char *value, gpointer data, GError **error)
{
	struct vmm_options *options = data;

	/* An empty command line is a valid choice. */
	g_free(options->machine.cmdline);
	options->machine.cmdline = g_strdup(value);
	return TRUE;
}

static gboolean on_profile(const char *option, const char *value, gpointer data, GError **error)
{
	return set_string(&((struct vmm_options *)data)->profile_path, option, value, error);
}

static gboolean on_guest_decompress(const char *option, const char *value, gpointer data,
				    GError **error)
{
	((struct vmm_options *)data)->machine.guest_decompress = true;
	return TRUE;
}

static gboolean on_control(const char *option, const char *value, gpointer data, GError **error)
{
	return set_string(&((struct vmm_options *)data)->machine.control_path, option, value, error);
}

static gboolean on_no_reboot(const char *option, const char *value, gpointer data, GError **error)
{
	((struct vmm_options *)data)->machine.no_reboot = true;
	return TRUE;
}

static gboolean on_verbose(const char *option, const char *value, gpointer data, GError **error)
{
	((struct vmm_options *)data)->verbose = true;
	return TRUE;
}

static gboolean on_version(const char *option, const char *value, gpointer data, GError **error)
{
	((struct vmm_options *)data)->version = true;
	return TRUE;
}

#define CALLBACK(fn) G_OPTION_ARG_CALLBACK, (gpointer)(fn)

static const GOptionEntry entries[] = {
	{ "accel", 'a', 0, CALLBACK(on_accel),
	  "How to run the vCPUs: kvm, tcg (software CPU) or auto (default: kvm when usable)", "ACCEL" },
	{ "memory", 'm', 0, CALLBACK(on_memory),
	  "Guest RAM, e.g. 512M or 4G; a bare number means MiB (default: 512M)", "SIZE" },
	{ "cpus", 'c', 0, CALLBACK(on_cpus), "Number of vCPUs (default: 1)", "N" },
	{ "kernel", 'k', 0, CALLBACK(on_kernel),
	  "Kernel to boot: a Linux bzImage or a multiboot ELF", "FILE" },
	{ "initrd", 'i', 0, CALLBACK(on_initrd), "Initial RAM disk for the kernel", "FILE" },
	{ "cmdline", 0, 0, CALLBACK(on_cmdline), "Kernel command line", "STRING" },
	{ "guest-decompress", 0, G_OPTION_FLAG_NO_ARG, CALLBACK(on_guest_decompress),
	  "Let the kernel decompress itself, as firmware-booted kernels do "
	  "(default: vessel-vmm unpacks a Linux bzImage's kernel first, which is faster)", NULL },
	{ "serial", 0, 0, CALLBACK(on_serial),
	  "Where COM1 goes: stdio (default), none, or file:PATH", "BACKEND" },
	{ "display", 0, 0, CALLBACK(on_display),
	  "Show the guest screen: sdl (a window) or none (default; the control socket's screendump still works)", "TYPE" },
	{ "spice", 0, 0, CALLBACK(on_spice),
	  "Let SPICE clients view and drive the machine: port=N[,addr=A][,password-file=F]"
	  "[,disable-ticketing][,tls-port=M,x509-dir=D] (addr defaults to 127.0.0.1; a password "
	  "is needed unless disable-ticketing is given)", "OPTIONS" },
	{ "profile", 0, 0, CALLBACK(on_profile),
	  "Run the machine a profile describes (machine.ini, see docs/profiles.md); "
	  "the other options given override it, wherever they stand", "FILE" },
	{ "name", 0, 0, CALLBACK(on_name), "Name of the machine, shown in the window title (default: Vessel)", "NAME" },
	{ "resolution", 0, 0, CALLBACK(on_resolution),
	  "Screen size the firmware sets up for the kernel (default: 1024x768)", "WxH" },
	{ "control", 0, 0, CALLBACK(on_control),
	  "Create a QMP-style control socket at PATH (mode 0600)", "PATH" },
	{ "no-reboot", 0, G_OPTION_FLAG_NO_ARG, CALLBACK(on_no_reboot),
	  "Exit (status 0) instead of rebooting when the guest resets", NULL },
	{ "fw-cfg", 0, 0, CALLBACK(on_fw_cfg),
	  "Add a firmware configuration file: name=NAME,file=PATH or name=NAME,string=TEXT", "SPEC" },
	{ "verbose", 'v', G_OPTION_FLAG_NO_ARG, CALLBACK(on_verbose), "Log more about what happens", NULL },
	{ "version", 0, G_OPTION_FLAG_NO_ARG, CALLBACK(on_version), "Print the version and exit", NULL },
	{ NULL },
};

static const char description[] =
	"Exit status: 0 when the guest powers off (or resets, with --no-reboot) or\n"
	"the VMM is told to quit; (v << 1) | 1 when the guest writes v to the\n"
	"test-exit port 0xf4; 1 after an error, with a message on stderr.\n"
	"\n"
	"Examples:\n"
	"  vessel-vmm --kernel /boot/vmlinuz --initrd initrd.img --cmdline console=ttyS0 --memory 1G\n"
	"  vessel-vmm --accel kvm --kernel guest.elf --no-reboot --control /run/user/1000/vm.sock\n"
	"  vessel-vmm --profile ~/.local/share/vessel/machines/demo/machine.ini --display none\n"
	"\n"
	"Full documentation: docs/vessel-vmm.md, docs/profiles.md and docs/control-protocol.md.";

/* The profile's SPICE password: the first line of its spice-password file, as --spice password-file=F. */
static bool read_profile_password(const struct profile *profile, char **password, GError **error)
{
	g_autofree char *path = profile_spice_password_path(profile);
	g_autoptr(GError) local = NULL;
	g_autofree char *contents = NULL;
	char *newline;

	if (!g_file_get_contents(path, &contents, NULL, &local)) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return invalid(error, "--profile: %s: SPICE needs a password, but %s does not exist "
				       "(set one in Vessel, write it into that file, or set spice-password=false)",
				       profile->path, path);
		return invalid(error, "--profile: %s: cannot read the SPICE password: %s", profile->path,
			       local->message);
	}
	newline = strchr(contents, '\n');
	if (newline)
		*newline = '\0';
	if (!*contents)
		return invalid(error, "--profile: %s: the SPICE password file %s is empty", profile->path,
			       path);
	*password = g_strdup(contents);
	memset(contents, 0, strlen(contents));
	return true;
}

/* A path from the profile: relative ones are relative to the profile's folder. */
static char *profile_file(const struct profile *profile, const char *path)
{
	if (g_path_is_absolute(path))
		return g_strdup(path);
	return g_build_filename(profile->dir, path, NULL);
}

/* Sets the options a profile describes (docs/profiles.md), before the command line's own. */
static bool apply_profile(struct vmm_options *options, const struct profile *profile, GError **error)
{
	static const enum accel_choice accels[] = {
		[PROFILE_ACCEL_AUTO] = ACCEL_CHOICE_AUTO,
		[PROFILE_ACCEL_KVM] = ACCEL_CHOICE_KVM,
		[PROFILE_ACCEL_TCG] = ACCEL_CHOICE_TCG,
	};
	struct machine_config *machine = &options->machine;
	g_autofree char *what = g_strdup_printf("--profile: %s: resolution", profile->path);

	if (profile->cpus < 1 || profile->cpus > MACHINE_MAX_CPUS)
		return invalid(error, "--profile: %s: cpus=%u is not a number of CPUs from 1 to %d",
			       profile->path, profile->cpus, MACHINE_MAX_CPUS);
	/* profile_load() keeps memory-mib small enough for this not to overflow. */
	machine->ram_size_bytes = profile->memory_mib << 20;
	machine->nr_cpus = profile->cpus;
	machine->accel = accels[profile->accel];
	if (profile->kernel_path && *profile->kernel_path)
		machine->kernel_path = profile_file(profile, profile->kernel_path);
	if (profile->initrd_path && *profile->initrd_path)
		machine->initrd_path = profile_file(profile, profile->initrd_path);
	if (profile->cmdline && *profile->cmdline)
		machine->cmdline = g_strdup(profile->cmdline);
	if (profile->resolution_width &&
	    !set_resolution(profile->resolution_width, profile->resolution_height, what, machine, error))
		return false;
	options->display = profile->display_window ? VMM_DISPLAY_SDL : VMM_DISPLAY_NONE;
	if (profile->name && *profile->name)
		options->name = g_strdup(profile->name);
	if (profile->spice) {
		struct spice_display_config *spice = &options->spice_config;

		if (profile->spice_port < 1 || profile->spice_port > 65535)
			return invalid(error, "--profile: %s: spice-port=%u is not a port number (1-65535)",
				       profile->path, profile->spice_port);
		spice->port = profile->spice_port;
		/* Profiles only ever offer the machine to this computer; remote access is --spice's. */
		spice->addr = g_strdup("127.0.0.1");
		if (!profile->spice_password_required)
			spice->disable_ticketing = true;
		else if (!read_profile_password(profile, &spice->password, error))
			return false;
		options->spice = true;
	}
	return true;
}

/* One pass of GOption over argv into options. */
static bool parse_command_line(struct vmm_options *options, int argc, char **argv, GError **error)
{
	g_autoptr(GOptionContext) context = g_option_context_new("- run a virtual machine");
	GOptionGroup *group = g_option_group_new("vessel-vmm", "vessel-vmm options", "vessel-vmm options",
						 options, NULL);
	g_auto(GStrv) args = g_new0(char *, argc + 1);

	for (int i = 0; i < argc; i++)
		args[i] = g_strdup(argv[i]);
	g_option_group_add_entries(group, entries);
	g_option_context_set_main_group(context, group);
	g_option_context_set_summary(context,
		"The Vessel virtual machine monitor: runs one guest on KVM (or the software CPU).");
	g_option_context_set_description(context, description);
	if (!g_option_context_parse_strv(context, &args, error))
		return false;
	if (args[0] && args[1]) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "unexpected argument '%s' (options start with --; see --help)", args[1]);
		return false;
	}
	return true;
}

bool vmm_options_parse(struct vmm_options *options, int argc, char **argv, GError **error)
{
	g_autoptr(GError) load_error = NULL;
	g_autofree char *profile_path = NULL;
	struct profile *profile;
	bool ok;

	/*
	 * The command line is read first to find --profile (and to report its
	 * own errors first); then again over the profile's values, so that an
	 * option overrides the profile whether it comes before or after it.
	 */
	if (!parse_command_line(options, argc, argv, error))
		return false;
	if (!options->profile_path || options->version)
		return true;

	profile_path = g_strdup(options->profile_path);
	profile = profile_load_file(profile_path, &load_error);
	if (!profile)
		return invalid(error, "--profile: %s", load_error->message);
	vmm_options_clear(options);
	vmm_options_init(options);
	ok = apply_profile(options, profile, error) &&
	     parse_command_line(options, argc, argv, error);
	profile_free(profile);
	return ok;
}
