/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Machine profiles: machine.ini read and written through GKeyFile
 * (docs/profiles.md).  The key file as read stays in struct profile, and
 * saving writes the known fields into it, so keys, groups and comments
 * written by a newer Vessel or by hand survive an edit.
 */
#include "config.h"

#include "profile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#define GROUP_MACHINE	"machine"
#define GROUP_BOOT	"boot"
#define GROUP_DISPLAY	"display"

/* What the host keeps for itself when we suggest the most memory a guest may have. */
#define HOST_RESERVED_MEMORY_MIB	512

/* Linux x86 boot protocol, "cmdline_size": 2047 bytes on x86-64 kernels since 2.6.22. */
#define LINUX_CMDLINE_MAX		2047

/* Gives up making a unique id after this many taken ones (a folder full of "demo-N"). */
#define MAX_ID_ATTEMPTS			10000

/* The longest id made from a name, before any "-N" suffix. */
#define MAX_SLUG_LEN			48

static const char *const accel_names[] = {
	[PROFILE_ACCEL_AUTO] = "auto",
	[PROFILE_ACCEL_KVM] = "kvm",
	[PROFILE_ACCEL_TCG] = "tcg",
};

static const char *const boot_names[] = {
	[PROFILE_BOOT_LINUX] = "linux",
};

/* Files inside a machine's folder that profile_delete() treats as its disks. */
static const char *const disk_extensions[] = { ".img", ".qcow2", ".raw", ".iso" };

void profile_host_limits(struct profile_host_limits *limits)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long page_size = sysconf(_SC_PAGE_SIZE);
	uint64_t ram_mib = 0;

	if (pages > 0 && page_size > 0)
		ram_mib = ((uint64_t)pages * (uint64_t)page_size) >> 20;
	limits->max_memory_mib = ram_mib > HOST_RESERVED_MEMORY_MIB + PROFILE_MIN_MEMORY_MIB ?
				 ram_mib - HOST_RESERVED_MEMORY_MIB : PROFILE_MIN_MEMORY_MIB;
	limits->max_cpus = g_get_num_processors();
}

char *profile_machines_dir(void)
{
	return g_build_filename(g_get_user_data_dir(), "vessel", "machines", NULL);
}

static void profile_set_defaults(struct profile *profile)
{
	g_free(profile->name);
	g_free(profile->kernel_path);
	g_free(profile->initrd_path);
	g_free(profile->cmdline);
	profile->name = g_strdup("");
	profile->boot = PROFILE_BOOT_LINUX;
	profile->kernel_path = g_strdup("");
	profile->initrd_path = g_strdup("");
	profile->cmdline = g_strdup("");
	profile->memory_mib = PROFILE_DEFAULT_MEMORY_MIB;
	profile->cpus = 1;
	profile->accel = PROFILE_ACCEL_AUTO;
	profile->display_window = true;
	profile->spice = false;
	profile->spice_port = PROFILE_DEFAULT_SPICE_PORT;
	profile->spice_password_required = true;
	profile->resolution_width = 0;
	profile->resolution_height = 0;
}

struct profile *profile_new(const char *name)
{
	struct profile *profile = g_new0(struct profile, 1);

	profile_set_defaults(profile);
	g_free(profile->name);
	profile->name = g_strdup(name ? name : "");
	profile->keyfile = g_key_file_new();
	return profile;
}

void profile_free(struct profile *profile)
{
	if (!profile)
		return;
	g_free(profile->id);
	g_free(profile->dir);
	g_free(profile->path);
	g_clear_error(&profile->load_error);
	g_free(profile->name);
	g_free(profile->kernel_path);
	g_free(profile->initrd_path);
	g_free(profile->cmdline);
	if (profile->keyfile)
		g_key_file_unref(profile->keyfile);
	g_free(profile);
}

/* Reading machine.ini: each helper leaves the field alone when the key is absent. */

struct reader {
	GKeyFile *keyfile;
	const char *path;
};

static bool key_missing(const GError *error)
{
	return g_error_matches(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND) ||
	       g_error_matches(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND);
}

static bool wrong_value(const struct reader *reader, const char *group, const char *key,
			const char *value, const char *expected, GError **error)
{
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    "%s: %s in [%s] is “%s”, not %s", reader->path, key, group, value, expected);
	return false;
}

/* The raw value; NULL (and no error) when the key is not there. */
static char *read_value(const struct reader *reader, const char *group, const char *key,
			GError **error)
{
	g_autoptr(GError) local = NULL;
	char *value = g_key_file_get_value(reader->keyfile, group, key, &local);

	if (!value && !key_missing(local))
		g_set_error(error, G_KEY_FILE_ERROR, local->code, "%s: %s in [%s]: %s", reader->path,
			    key, group, local->message);
	return value;
}

static bool read_string(const struct reader *reader, const char *group, const char *key,
			char **field, GError **error)
{
	g_autoptr(GError) local = NULL;
	/* GLib returns a value and an error for a bad escape sequence: the error counts. */
	char *value = g_key_file_get_string(reader->keyfile, group, key, &local);

	if (local) {
		g_free(value);
		if (key_missing(local))
			return true;
		g_set_error(error, G_KEY_FILE_ERROR, local->code,
			    "%s: %s in [%s] is not valid text (%s)", reader->path, key, group,
			    local->message);
		return false;
	}
	g_free(*field);
	*field = value;
	return true;
}

static bool read_unsigned(const struct reader *reader, const char *group, const char *key,
			  uint64_t max, const char *expected, uint64_t *field, GError **error)
{
	g_autofree char *value = read_value(reader, group, key, error);
	guint64 number;

	if (!value)
		return !error || !*error;
	/* g_ascii_string_to_unsigned() refuses signs, spaces and overflow, unlike strtoull(). */
	if (!g_ascii_string_to_unsigned(value, 10, 0, max, &number, NULL))
		return wrong_value(reader, group, key, value, expected, error);
	*field = number;
	return true;
}

static bool read_bool(const struct reader *reader, const char *group, const char *key,
		      bool *field, GError **error)
{
	g_autofree char *value = read_value(reader, group, key, error);

	if (!value)
		return !error || !*error;
	if (!strcmp(value, "true") || !strcmp(value, "1"))
		*field = true;
	else if (!strcmp(value, "false") || !strcmp(value, "0"))
		*field = false;
	else
		return wrong_value(reader, group, key, value, "true or false", error);
	return true;
}

static bool read_choice(const struct reader *reader, const char *group, const char *key,
			const char *const *names, unsigned int count, const char *expected,
			unsigned int *field, GError **error)
{
	g_autofree char *value = read_value(reader, group, key, error);

	if (!value)
		return !error || !*error;
	for (unsigned int i = 0; i < count; i++) {
		if (!strcmp(value, names[i])) {
			*field = i;
			return true;
		}
	}
	return wrong_value(reader, group, key, value, expected, error);
}

static bool read_resolution(const struct reader *reader, struct profile *profile, GError **error)
{
	g_autofree char *value = read_value(reader, GROUP_DISPLAY, "resolution", error);
	g_auto(GStrv) parts = NULL;
	guint64 width, height;

	if (!value)
		return !error || !*error;
	parts = g_strsplit(value, "x", 3);
	if (g_strv_length(parts) != 2 ||
	    !g_ascii_string_to_unsigned(parts[0], 10, 1, 65535, &width, NULL) ||
	    !g_ascii_string_to_unsigned(parts[1], 10, 1, 65535, &height, NULL))
		return wrong_value(reader, GROUP_DISPLAY, "resolution", value,
				   "WIDTHxHEIGHT (for example 1280x800)", error);
	profile->resolution_width = (unsigned int)width;
	profile->resolution_height = (unsigned int)height;
	return true;
}

static bool read_fields(const struct reader *reader, struct profile *profile, GError **error)
{
	g_autofree char *version = read_value(reader, GROUP_MACHINE, "version", error);
	guint64 version_number;
	uint64_t number;
	unsigned int choice;
	bool ok;

	if (!version) {
		if (!*error)
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "%s is not a Vessel machine profile: it has no version in [machine]",
				    reader->path);
		return false;
	}
	if (!g_ascii_string_to_unsigned(version, 10, 1, G_MAXINT, &version_number, NULL))
		return wrong_value(reader, GROUP_MACHINE, "version", version, "a version number",
				   error);
	if (version_number > PROFILE_VERSION) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s was written by a newer Vessel (profile version %" G_GUINT64_FORMAT
			    "; this one reads version %d): update Vessel to use it",
			    reader->path, version_number, PROFILE_VERSION);
		return false;
	}

	ok = read_string(reader, GROUP_MACHINE, "name", &profile->name, error);
	/* Any size whose byte count fits in 64 bits; the range is profile_validate()'s. */
	ok = ok && read_unsigned(reader, GROUP_MACHINE, "memory-mib", G_MAXUINT64 >> 20,
				 "a whole number of MiB", &profile->memory_mib, error);
	number = profile->cpus;
	if (ok && (ok = read_unsigned(reader, GROUP_MACHINE, "cpus", G_MAXUINT,
				      "a whole number of CPUs", &number, error)))
		profile->cpus = (unsigned int)number;
	choice = profile->accel;
	if (ok && (ok = read_choice(reader, GROUP_MACHINE, "accel", accel_names,
				    G_N_ELEMENTS(accel_names), "auto, kvm or tcg", &choice, error)))
		profile->accel = choice;

	choice = profile->boot;
	if (ok && (ok = read_choice(reader, GROUP_BOOT, "type", boot_names, G_N_ELEMENTS(boot_names),
				    "linux (the only boot type this version knows)", &choice, error)))
		profile->boot = choice;
	ok = ok && read_string(reader, GROUP_BOOT, "kernel", &profile->kernel_path, error);
	ok = ok && read_string(reader, GROUP_BOOT, "initrd", &profile->initrd_path, error);
	ok = ok && read_string(reader, GROUP_BOOT, "cmdline", &profile->cmdline, error);

	ok = ok && read_bool(reader, GROUP_DISPLAY, "window", &profile->display_window, error);
	ok = ok && read_bool(reader, GROUP_DISPLAY, "spice", &profile->spice, error);
	number = profile->spice_port;
	if (ok && (ok = read_unsigned(reader, GROUP_DISPLAY, "spice-port", 65535,
				      "a port number (1024 to 65535)", &number, error)))
		profile->spice_port = (unsigned int)number;
	ok = ok && read_bool(reader, GROUP_DISPLAY, "spice-password",
			     &profile->spice_password_required, error);
	ok = ok && read_resolution(reader, profile, error);
	return ok;
}

/* Fills profile from profile->path; on failure load_error is set and the fields are defaults. */
static void profile_read(struct profile *profile)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *contents = NULL;
	struct reader reader = { .path = profile->path };
	gsize length;

	profile->keyfile = g_key_file_new();
	reader.keyfile = profile->keyfile;
	if (!g_file_get_contents(profile->path, &contents, &length, &local)) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_set_error(&profile->load_error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
				    "%s does not exist", profile->path);
		else
			g_set_error(&profile->load_error, G_FILE_ERROR, local->code,
				    "%s cannot be read: %s", profile->path, local->message);
	} else if (!g_key_file_load_from_data(profile->keyfile, contents, length,
					      G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS,
					      &local)) {
		g_set_error(&profile->load_error, G_KEY_FILE_ERROR, local->code,
			    "%s is not a Vessel machine profile (not a key file: %s)", profile->path,
			    local->message);
	} else if (read_fields(&reader, profile, &profile->load_error) &&
		   !g_key_file_has_key(profile->keyfile, GROUP_MACHINE, "name", NULL)) {
		/* A hand-written profile may leave the name out: the list shows the folder's. */
		g_free(profile->name);
		profile->name = g_strdup(profile->id);
	}
	if (profile->load_error) {
		profile_set_defaults(profile);
		g_free(profile->name);
		profile->name = g_strdup(profile->id);
		/* Nothing of a file we could not understand may be written back. */
		g_key_file_unref(profile->keyfile);
		profile->keyfile = g_key_file_new();
	}
}

static struct profile *profile_load_path(const char *dir, const char *path)
{
	struct profile *profile = g_new0(struct profile, 1);

	profile_set_defaults(profile);
	profile->dir = g_canonicalize_filename(dir, NULL);
	profile->id = g_path_get_basename(profile->dir);
	profile->path = g_canonicalize_filename(path, NULL);
	profile_read(profile);
	return profile;
}

struct profile *profile_load(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, PROFILE_FILE_NAME, NULL);

	return profile_load_path(dir, path);
}

struct profile *profile_load_file(const char *path, GError **error)
{
	g_autofree char *absolute = g_canonicalize_filename(path, NULL);
	g_autofree char *dir = g_path_get_dirname(absolute);
	struct profile *profile = profile_load_path(dir, absolute);

	if (profile->load_error) {
		g_propagate_error(error, g_steal_pointer(&profile->load_error));
		profile_free(profile);
		return NULL;
	}
	return profile;
}

static int compare_by_name(gconstpointer a, gconstpointer b)
{
	const struct profile *pa = *(struct profile *const *)a;
	const struct profile *pb = *(struct profile *const *)b;
	g_autofree char *fa = g_utf8_casefold(pa->name, -1);
	g_autofree char *fb = g_utf8_casefold(pb->name, -1);
	int order = g_utf8_collate(fa, fb);

	/* Ids are unique: two machines of the same name keep one order. */
	return order ? order : strcmp(pa->id, pb->id);
}

GPtrArray *profile_store_list(const char *machines_dir, GError **error)
{
	GPtrArray *profiles = g_ptr_array_new_with_free_func((GDestroyNotify)profile_free);
	g_autoptr(GError) local = NULL;
	GDir *dir = g_dir_open(machines_dir, 0, &local);
	const char *entry;

	if (!dir) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return profiles;
		g_set_error(error, G_FILE_ERROR, local->code, "Cannot list the machines in %s: %s",
			    machines_dir, local->message);
		g_ptr_array_unref(profiles);
		return NULL;
	}
	while ((entry = g_dir_read_name(dir))) {
		g_autofree char *folder = g_build_filename(machines_dir, entry, NULL);
		g_autofree char *ini = g_build_filename(folder, PROFILE_FILE_NAME, NULL);
		GStatBuf st;

		if (entry[0] == '.' || !g_file_test(folder, G_FILE_TEST_IS_DIR))
			continue;
		/*
		 * A folder without machine.ini is not a machine: disks kept by
		 * profile_delete(), or a folder profile_save() has just made.
		 * One whose machine.ini cannot be read is listed with its error.
		 */
		if (g_lstat(ini, &st) < 0 && errno == ENOENT)
			continue;
		g_ptr_array_add(profiles, profile_load(folder));
	}
	g_dir_close(dir);
	g_ptr_array_sort(profiles, compare_by_name);
	return profiles;
}

/* "My Debian VM (test)" → "my-debian-vm-test"; "Über" → "uber". */
static char *profile_slug(const char *name)
{
	g_autofree char *ascii = g_str_to_ascii(name, "C");
	GString *slug = g_string_new(NULL);

	for (const char *c = ascii; *c && slug->len < MAX_SLUG_LEN; c++) {
		if (g_ascii_isalnum(*c))
			g_string_append_c(slug, g_ascii_tolower(*c));
		else if (slug->len && slug->str[slug->len - 1] != '-')
			g_string_append_c(slug, '-');
	}
	while (slug->len && slug->str[slug->len - 1] == '-')
		g_string_truncate(slug, slug->len - 1);
	if (!slug->len)
		g_string_append(slug, "machine");
	return g_string_free(slug, FALSE);
}

/*
 * Makes the folder of a new machine.  mkdir() either creates the folder or
 * fails with EEXIST, atomically: two processes saving "Demo" at once get
 * "demo" and "demo-2", never the same folder.
 */
static bool profile_make_folder(struct profile *profile, const char *machines_dir, GError **error)
{
	g_autofree char *slug = profile_slug(profile->name);

	if (g_mkdir_with_parents(machines_dir, 0700) < 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
			    "Cannot create the folder %s: %s", machines_dir, g_strerror(err));
		return false;
	}
	for (unsigned int n = 1; n <= MAX_ID_ATTEMPTS; n++) {
		g_autofree char *id = n == 1 ? g_strdup(slug) : g_strdup_printf("%s-%u", slug, n);
		g_autofree char *dir = g_build_filename(machines_dir, id, NULL);
		int err;

		if (g_mkdir(dir, 0700) == 0) {
			profile->id = g_steal_pointer(&id);
			profile->dir = g_canonicalize_filename(dir, NULL);
			profile->path = g_build_filename(profile->dir, PROFILE_FILE_NAME, NULL);
			return true;
		}
		err = errno;
		if (err != EEXIST) {
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
				    "Cannot create the folder %s: %s", dir, g_strerror(err));
			return false;
		}
	}
	g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
		    "%s already holds %d machines named like “%s”; choose another name", machines_dir,
		    MAX_ID_ATTEMPTS, profile->name);
	return false;
}

/* Writes the fields into the key file, keeping whatever else it holds. */
static void profile_fill_keyfile(const struct profile *profile)
{
	GKeyFile *kf = profile->keyfile;

	g_key_file_set_integer(kf, GROUP_MACHINE, "version", PROFILE_VERSION);
	g_key_file_set_string(kf, GROUP_MACHINE, "name", profile->name);
	g_key_file_set_uint64(kf, GROUP_MACHINE, "memory-mib", profile->memory_mib);
	g_key_file_set_uint64(kf, GROUP_MACHINE, "cpus", profile->cpus);
	g_key_file_set_value(kf, GROUP_MACHINE, "accel", accel_names[profile->accel]);

	g_key_file_set_value(kf, GROUP_BOOT, "type", boot_names[profile->boot]);
	g_key_file_set_string(kf, GROUP_BOOT, "kernel", profile->kernel_path ? profile->kernel_path : "");
	if (profile->initrd_path && *profile->initrd_path)
		g_key_file_set_string(kf, GROUP_BOOT, "initrd", profile->initrd_path);
	else
		g_key_file_remove_key(kf, GROUP_BOOT, "initrd", NULL);
	if (profile->cmdline && *profile->cmdline)
		g_key_file_set_string(kf, GROUP_BOOT, "cmdline", profile->cmdline);
	else
		g_key_file_remove_key(kf, GROUP_BOOT, "cmdline", NULL);

	g_key_file_set_boolean(kf, GROUP_DISPLAY, "window", profile->display_window);
	g_key_file_set_boolean(kf, GROUP_DISPLAY, "spice", profile->spice);
	g_key_file_set_uint64(kf, GROUP_DISPLAY, "spice-port", profile->spice_port);
	g_key_file_set_boolean(kf, GROUP_DISPLAY, "spice-password", profile->spice_password_required);
	if (profile->resolution_width && profile->resolution_height) {
		g_autofree char *resolution = g_strdup_printf("%ux%u", profile->resolution_width,
							      profile->resolution_height);

		g_key_file_set_value(kf, GROUP_DISPLAY, "resolution", resolution);
	} else {
		g_key_file_remove_key(kf, GROUP_DISPLAY, "resolution", NULL);
	}
}

/* GKeyFile stores UTF-8 only: a string that is not would make the file unreadable. */
static bool check_text(const char *what, const char *value, GError **error)
{
	if (!value || g_utf8_validate(value, -1, NULL))
		return true;
	g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
		    "The %s is not valid UTF-8 text; the profile was not saved", what);
	return false;
}

/* Temporary file in the same folder, fsync, rename: readers see the old or the new file. */
static bool write_atomically(const char *path, const char *data, gsize length, int mode,
			     GError **error)
{
	g_autoptr(GError) local = NULL;

	if (g_file_set_contents_full(path, data, (gssize)length, G_FILE_SET_CONTENTS_CONSISTENT,
				     mode, &local))
		return true;
	g_set_error(error, G_FILE_ERROR, local->code, "Cannot save %s: %s", path, local->message);
	return false;
}

static bool write_spice_password(const struct profile *profile, const char *password,
				 GError **error)
{
	g_autofree char *path = profile_spice_password_path(profile);
	g_autofree char *line = NULL;
	bool ok;

	if (!*password) {
		if (g_unlink(path) < 0 && errno != ENOENT) {
			int err = errno;

			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
				    "Cannot remove %s: %s", path, g_strerror(err));
			return false;
		}
		return true;
	}
	/* vessel-vmm --spice password-file=F reads the first line of F. */
	line = g_strconcat(password, "\n", NULL);
	ok = write_atomically(path, line, strlen(line), 0600, error);
	memset(line, 0, strlen(line));
	return ok;
}

/* Undoes a new profile's folder after a failed first save. */
static void profile_unmake_folder(struct profile *profile)
{
	g_autofree char *password = profile_spice_password_path(profile);

	g_unlink(password);
	g_unlink(profile->path);
	g_rmdir(profile->dir);
	g_clear_pointer(&profile->id, g_free);
	g_clear_pointer(&profile->dir, g_free);
	g_clear_pointer(&profile->path, g_free);
}

bool profile_save(struct profile *profile, const char *machines_dir,
		  const char *spice_password, GError **error)
{
	g_autofree char *default_dir = NULL;
	g_autofree char *data = NULL;
	gsize length;
	bool created = false;

	if (profile->load_error) {
		g_set_error(error, profile->load_error->domain, profile->load_error->code,
			    "Not saving a profile that could not be read (%s)",
			    profile->load_error->message);
		return false;
	}
	if (!check_text("name", profile->name, error) ||
	    !check_text("kernel path", profile->kernel_path, error) ||
	    !check_text("initrd path", profile->initrd_path, error) ||
	    !check_text("kernel command line", profile->cmdline, error) ||
	    !check_text("SPICE password", spice_password, error))
		return false;
	if (!profile->id) {
		if (!machines_dir)
			machines_dir = default_dir = profile_machines_dir();
		if (!profile_make_folder(profile, machines_dir, error))
			return false;
		created = true;
	}
	if (spice_password && !write_spice_password(profile, spice_password, error))
		goto fail;
	profile_fill_keyfile(profile);
	data = g_key_file_to_data(profile->keyfile, &length, NULL);
	if (!write_atomically(profile->path, data, length, 0600, error))
		goto fail;
	return true;

fail:
	if (created)
		profile_unmake_folder(profile);
	return false;
}

static bool is_disk_file(const char *name)
{
	for (unsigned int i = 0; i < G_N_ELEMENTS(disk_extensions); i++) {
		size_t name_len = strlen(name), ext_len = strlen(disk_extensions[i]);

		if (name_len > ext_len &&
		    !g_ascii_strcasecmp(name + name_len - ext_len, disk_extensions[i]))
			return true;
	}
	return false;
}

static bool remove_file(const char *dir, const char *name, GError **error)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	int err;

	if (g_unlink(path) == 0 || errno == ENOENT)
		return true;
	err = errno;
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "Cannot delete %s: %s",
		    path, g_strerror(err));
	return false;
}

bool profile_delete(struct profile *profile, bool delete_disks, GError **error)
{
	g_autofree char *deleted_path = NULL;
	g_autoptr(GError) local = NULL;
	g_autoptr(GPtrArray) disks = g_ptr_array_new_with_free_func(g_free);
	GDir *dir;
	const char *entry;
	int err;

	if (profile->load_error) {
		g_set_error(error, profile->load_error->domain, profile->load_error->code,
			    "Not deleting a profile that could not be read (%s); remove its folder %s yourself if you are sure",
			    profile->load_error->message, profile->dir);
		return false;
	}
	if (!profile->dir) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
			    "The machine “%s” was never saved, so there is nothing to delete",
			    profile->name);
		return false;
	}
	/* First out of the store's sight, in one rename; the rest can fail harmlessly. */
	deleted_path = g_strconcat(profile->path, ".deleted", NULL);
	if (g_rename(profile->path, deleted_path) < 0) {
		err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "Cannot delete %s: %s",
			    profile->path, g_strerror(err));
		return false;
	}
	if (!remove_file(profile->dir, PROFILE_LOG_NAME, error) ||
	    !remove_file(profile->dir, PROFILE_SPICE_PASSWORD_NAME, error))
		return false;

	dir = g_dir_open(profile->dir, 0, &local);
	if (!dir) {
		g_set_error(error, G_FILE_ERROR, local->code, "Cannot delete %s: %s", profile->dir,
			    local->message);
		return false;
	}
	while ((entry = g_dir_read_name(dir)))
		if (is_disk_file(entry))
			g_ptr_array_add(disks, g_strdup(entry));
	g_dir_close(dir);
	if (disks->len && !delete_disks)
		return true;	/* the folder stays with its disks and machine.ini.deleted */

	for (unsigned int i = 0; i < disks->len; i++)
		if (!remove_file(profile->dir, g_ptr_array_index(disks, i), error))
			return false;
	if (!remove_file(profile->dir, PROFILE_FILE_NAME ".deleted", error))
		return false;
	/* Files we do not know (the user's own) keep the folder: never removed behind their back. */
	if (g_rmdir(profile->dir) < 0 && errno != ENOTEMPTY && errno != EEXIST) {
		err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "Cannot delete %s: %s",
			    profile->dir, g_strerror(err));
		return false;
	}
	return true;
}

/* Paths in a profile may be relative to its folder (hand-written profiles next to their kernel). */
static char *profile_resolve(const struct profile *profile, const char *path)
{
	if (g_path_is_absolute(path) || !profile->dir)
		return g_strdup(path);
	return g_build_filename(profile->dir, path, NULL);
}

enum file_problem {
	FILE_OK,
	FILE_MISSING,
	FILE_NOT_REGULAR,
	FILE_UNREADABLE,
};

static enum file_problem check_file(const struct profile *profile, const char *path)
{
	g_autofree char *resolved = profile_resolve(profile, path);
	GStatBuf st;

	if (g_stat(resolved, &st) < 0)
		return FILE_MISSING;
	if (!S_ISREG(st.st_mode))
		return FILE_NOT_REGULAR;
	if (g_access(resolved, R_OK) < 0)
		return FILE_UNREADABLE;
	return FILE_OK;
}

static char *check_kernel(const struct profile *profile)
{
	const char *path = profile->kernel_path;

	if (!path || !*path)
		return g_strdup(_("Choose the Linux kernel to boot (for example /boot/vmlinuz-…)."));
	switch (check_file(profile, path)) {
	case FILE_MISSING:
		return g_strdup_printf(_("The kernel file “%s” does not exist. Choose a Linux kernel image (for example /boot/vmlinuz-…)."),
				       path);
	case FILE_NOT_REGULAR:
		return g_strdup_printf(_("“%s” is not a file. Choose a Linux kernel image (for example /boot/vmlinuz-…)."),
				       path);
	case FILE_UNREADABLE:
		return g_strdup_printf(_("You do not have permission to read the kernel file “%s”. Make it readable (for example sudo chmod a+r “%s”) or choose another kernel."),
				       path, path);
	case FILE_OK:
		break;
	}
	return NULL;
}

static char *check_initrd(const struct profile *profile)
{
	const char *path = profile->initrd_path;

	if (!path || !*path)
		return NULL;	/* optional */
	switch (check_file(profile, path)) {
	case FILE_MISSING:
		return g_strdup_printf(_("The initrd file “%s” does not exist. Choose an initial RAM disk (for example /boot/initrd.img-…) or leave the field empty."),
				       path);
	case FILE_NOT_REGULAR:
		return g_strdup_printf(_("“%s” is not a file. Choose an initial RAM disk (for example /boot/initrd.img-…) or leave the field empty."),
				       path);
	case FILE_UNREADABLE:
		return g_strdup_printf(_("You do not have permission to read the initrd file “%s”. Make it readable (for example sudo chmod a+r “%s”) or choose another one."),
				       path, path);
	case FILE_OK:
		break;
	}
	return NULL;
}

static char *check_cmdline(const struct profile *profile)
{
	size_t len = profile->cmdline ? strlen(profile->cmdline) : 0;

	if (len > LINUX_CMDLINE_MAX)
		return g_strdup_printf(_("The kernel command line is %zu characters long; Linux reads at most %d. Shorten it."),
				       len, LINUX_CMDLINE_MAX);
	if (profile->cmdline && strpbrk(profile->cmdline, "\n\r"))
		return g_strdup(_("The kernel command line cannot contain line breaks. Put all options on one line, separated by spaces."));
	return NULL;
}

static char *check_spice_password(const struct profile *profile, const char *spice_password)
{
	if (!profile->spice || !profile->spice_password_required)
		return NULL;
	if (spice_password) {
		if (!*spice_password)
			return g_strdup(_("Type a password for SPICE viewers, or choose to allow connections without a password."));
		if (strpbrk(spice_password, "\n\r"))
			return g_strdup(_("The SPICE password cannot contain line breaks. Type it on one line."));
		return NULL;
	}
	if (profile->dir) {
		g_autofree char *path = profile_spice_password_path(profile);

		if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
			return NULL;
	}
	return g_strdup(_("Type a password for SPICE viewers, or choose to allow connections without a password."));
}

bool profile_validate(const struct profile *profile, const struct profile_host_limits *limits,
		      const char *spice_password, char *messages[PROFILE_FIELD_COUNT])
{
	const char *name = profile->name ? profile->name : "";
	bool valid = true;

	for (int i = 0; i < PROFILE_FIELD_COUNT; i++)
		messages[i] = NULL;

	while (g_ascii_isspace(*name))
		name++;
	if (!*name)
		messages[PROFILE_FIELD_NAME] = g_strdup(_("Give the machine a name."));
	messages[PROFILE_FIELD_KERNEL] = check_kernel(profile);
	messages[PROFILE_FIELD_INITRD] = check_initrd(profile);
	messages[PROFILE_FIELD_CMDLINE] = check_cmdline(profile);
	if (profile->memory_mib < PROFILE_MIN_MEMORY_MIB)
		messages[PROFILE_FIELD_MEMORY] =
			g_strdup_printf(_("Give the machine at least %d MiB of memory."),
					PROFILE_MIN_MEMORY_MIB);
	else if (profile->memory_mib > limits->max_memory_mib)
		messages[PROFILE_FIELD_MEMORY] =
			g_strdup_printf(_("This computer can give a machine at most %llu MiB of memory. Choose less."),
					(unsigned long long)limits->max_memory_mib);
	if (profile->cpus < 1 || profile->cpus > limits->max_cpus)
		messages[PROFILE_FIELD_CPUS] =
			g_strdup_printf(ngettext("This computer has %u CPU: choose 1.",
						 "Choose from 1 to %u CPUs, as many as this computer has.",
						 limits->max_cpus),
					limits->max_cpus);
	if (!profile->display_window && !profile->spice)
		messages[PROFILE_FIELD_DISPLAY] =
			g_strdup(_("Choose at least one way to see the machine: a window or SPICE remote viewing."));
	if (profile->spice && (profile->spice_port < 1024 || profile->spice_port > 65535))
		messages[PROFILE_FIELD_SPICE_PORT] =
			g_strdup_printf(_("Choose a SPICE port from 1024 to 65535 (for example %d)."),
					PROFILE_DEFAULT_SPICE_PORT);
	messages[PROFILE_FIELD_SPICE_PASSWORD] = check_spice_password(profile, spice_password);

	for (int i = 0; i < PROFILE_FIELD_COUNT; i++)
		valid = valid && !messages[i];
	return valid;
}

void profile_messages_clear(char *messages[PROFILE_FIELD_COUNT])
{
	for (int i = 0; i < PROFILE_FIELD_COUNT; i++)
		g_clear_pointer(&messages[i], g_free);
}

char *profile_describe_boot(const struct profile *profile)
{
	g_autofree char *base = NULL;

	if (!profile->kernel_path || !*profile->kernel_path)
		return g_strdup(_("No kernel chosen"));
	base = g_path_get_basename(profile->kernel_path);
	/* TRANSLATORS: %s is a file name such as vmlinuz-6.1.0-28-amd64. */
	return g_strdup_printf(_("Linux kernel %s"), base);
}

char *profile_log_path(const struct profile *profile)
{
	return profile->dir ? g_build_filename(profile->dir, PROFILE_LOG_NAME, NULL) : NULL;
}

char *profile_spice_password_path(const struct profile *profile)
{
	return profile->dir ? g_build_filename(profile->dir, PROFILE_SPICE_PASSWORD_NAME, NULL) : NULL;
}
