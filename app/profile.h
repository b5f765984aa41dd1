/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_APP_PROFILE_H
#define VESSEL_APP_PROFILE_H

/*
 * Machine profiles (docs/profiles.md): one folder per machine under
 * $XDG_DATA_HOME/vessel/machines/<id>/ holding machine.ini (a GKeyFile with
 * version=1, never executed), the run log and the disks the machine owns.
 *
 * Used by both programs: the app (list, create, edit, delete) and
 * vessel-vmm --profile FILE.  GLib only: no GTK here.
 *
 * Writes are atomic (temporary file + rename in the same folder).  Keys
 * and groups this version does not know are kept when a profile is saved.
 * A profile that cannot be read is listed with its error (load_error) and
 * never written or deleted by the store.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define PROFILE_VERSION		1
#define PROFILE_FILE_NAME	"machine.ini"
#define PROFILE_LOG_NAME	"vessel-vmm.log"
#define PROFILE_SPICE_PASSWORD_NAME "spice-password"

#define PROFILE_DEFAULT_MEMORY_MIB	1024
#define PROFILE_MIN_MEMORY_MIB		32
#define PROFILE_DEFAULT_SPICE_PORT	5930

enum profile_boot {
	PROFILE_BOOT_LINUX,		/* kernel + optional initrd + command line */
};

enum profile_accel {
	PROFILE_ACCEL_AUTO,
	PROFILE_ACCEL_KVM,
	PROFILE_ACCEL_TCG,
};

struct profile {
	char *id;		/* folder name under machines/; never changes */
	char *dir;		/* absolute path of that folder */
	char *path;		/* dir/machine.ini */

	/*
	 * Set when the profile could not be read (missing machine.ini, not a
	 * key file, newer version, a value of the wrong type).  The fields
	 * below then hold defaults (name = id) and profile_save() refuses.
	 */
	GError *load_error;

	char *name;
	enum profile_boot boot;
	char *kernel_path;
	char *initrd_path;	/* NULL or "" when none */
	char *cmdline;		/* NULL or "" when none */
	uint64_t memory_mib;
	unsigned int cpus;
	enum profile_accel accel;
	bool display_window;	/* an SDL window on this desktop */
	bool spice;		/* SPICE remote viewing */
	unsigned int spice_port;
	bool spice_password_required;	/* false only when the user opted out */
	unsigned int resolution_width, resolution_height;	/* 0: VMM default */

	/* The file as read: saving writes the fields into it, so unknown keys stay. */
	GKeyFile *keyfile;
};

/* Fields the New/Edit dialog shows, for per-field (inline) error messages. */
enum profile_field {
	PROFILE_FIELD_NAME,
	PROFILE_FIELD_KERNEL,
	PROFILE_FIELD_INITRD,
	PROFILE_FIELD_CMDLINE,
	PROFILE_FIELD_MEMORY,
	PROFILE_FIELD_CPUS,
	PROFILE_FIELD_DISPLAY,		/* neither window nor SPICE */
	PROFILE_FIELD_SPICE_PORT,
	PROFILE_FIELD_SPICE_PASSWORD,
	PROFILE_FIELD_COUNT,
};

/* What the host allows; filled by profile_host_limits(). */
struct profile_host_limits {
	uint64_t max_memory_mib;	/* host RAM minus room for the host itself */
	unsigned int max_cpus;		/* online host CPUs */
};

void profile_host_limits(struct profile_host_limits *limits);

/* $XDG_DATA_HOME/vessel/machines (not created). Free with g_free. */
char *profile_machines_dir(void);

/* A new, unsaved profile with defaults (1 GiB, 1 CPU, window display). */
struct profile *profile_new(const char *name);
void profile_free(struct profile *profile);
typedef struct profile profile_autoptr_type;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(profile_autoptr_type, profile_free)

/*
 * Reads dir/machine.ini.  Never fails as a whole: a profile that cannot be
 * read comes back with load_error set (and its file untouched).
 */
struct profile *profile_load(const char *dir);

/* Same, for a machine.ini path given on the vessel-vmm command line; errors are returned. */
struct profile *profile_load_file(const char *path, GError **error);

/*
 * Every folder under machines_dir, sorted by name (case-folded), as struct
 * profile * (freed by the array).  A missing machines_dir is an empty list.
 */
GPtrArray *profile_store_list(const char *machines_dir, GError **error);

/*
 * Saves atomically.  A profile without id gets a new folder (mode 0700)
 * under machines_dir with an id made from its name (unique, ASCII).
 * spice_password: non-NULL to (re)write dir/spice-password (mode 0600,
 * atomic), "" to remove it; NULL keeps the current file.
 */
bool profile_save(struct profile *profile, const char *machines_dir,
		  const char *spice_password, GError **error);

/*
 * Removes the folder: machine.ini, the log, the SPICE password file, and
 * disk files inside the folder only when delete_disks; with disks kept the
 * folder stays with them (and machine.ini renamed to machine.ini.deleted
 * so the store no longer lists it).
 */
bool profile_delete(struct profile *profile, bool delete_disks, GError **error);

/*
 * Checks every field against the host limits and the file system (kernel
 * and initrd exist and are readable files).  Fills messages[field] with a
 * translated sentence saying what is wrong and what to do, NULL when fine;
 * the caller frees them (profile_messages_clear).  spice_password is what
 * the user typed (NULL: unchanged, counts as set when the file exists).
 * Returns true when everything is valid.
 */
bool profile_validate(const struct profile *profile, const struct profile_host_limits *limits,
		      const char *spice_password, char *messages[PROFILE_FIELD_COUNT]);
void profile_messages_clear(char *messages[PROFILE_FIELD_COUNT]);

/* "Linux kernel vmlinuz-6.1.0-27-amd64" — what the machine boots, for the list. Translated. */
char *profile_describe_boot(const struct profile *profile);

/* Paths of the run log and SPICE password file.  Free with g_free. */
char *profile_log_path(const struct profile *profile);
char *profile_spice_password_path(const struct profile *profile);

#endif
