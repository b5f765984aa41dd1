/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Machine profiles (app/profile.c, docs/profiles.md) as the app and a user
 * editing machine.ini by hand meet them: every field survives a save, what
 * this version does not know survives too, a broken file is reported and
 * never overwritten, ids stay unique when many saves race, and the
 * validation messages point at the field that is wrong.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile.h"

/* A private folder per test, removed with everything in it afterwards. */
static char *make_tmp_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("vessel-profile-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

static void remove_tree(const char *path)
{
	GStatBuf st;

	if (g_lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		GDir *dir = g_dir_open(path, 0, NULL);
		const char *name;

		g_chmod(path, 0700);
		while (dir && (name = g_dir_read_name(dir))) {
			g_autofree char *child = g_build_filename(path, name, NULL);

			remove_tree(child);
		}
		if (dir)
			g_dir_close(dir);
		g_assert_cmpint(g_rmdir(path), ==, 0);
	} else {
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
}

static void write_file(const char *path, const char *contents)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, contents, -1, &error));
	g_assert_no_error(error);
}

static char *read_file(const char *path)
{
	g_autoptr(GError) error = NULL;
	char *contents = NULL;

	g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
	g_assert_no_error(error);
	return contents;
}

static bool exists(const char *path)
{
	GStatBuf st;

	return g_lstat(path, &st) == 0;
}

static unsigned int file_mode(const char *path)
{
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	return st.st_mode & 07777;
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in a folder, sorted, joined by spaces: easy to compare. */
static char *list_dir(const char *path)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *name;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)))
		g_ptr_array_add(names, g_strdup(name));
	g_dir_close(dir);
	g_ptr_array_sort(names, compare_strings);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(" ", (char **)names->pdata);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		g_error("“%s” does not contain “%s”", haystack, needle);
}

/* A saved profile from a hand-written machine.ini in machines/<id>/. */
static char *write_profile_dir(const char *machines, const char *id, const char *contents)
{
	char *dir = g_build_filename(machines, id, NULL);
	g_autofree char *ini = g_build_filename(dir, PROFILE_FILE_NAME, NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	if (contents)
		write_file(ini, contents);
	return dir;
}

static struct profile *save_new(const char *machines, const char *name)
{
	g_autoptr(GError) error = NULL;
	struct profile *profile = profile_new(name);

	g_assert_true(profile_save(profile, machines, NULL, &error));
	g_assert_no_error(error);
	return profile;
}

static void test_new_defaults(void)
{
	g_autoptr(profile_autoptr_type) profile = profile_new("Demo");

	g_assert_null(profile->id);
	g_assert_null(profile->dir);
	g_assert_null(profile->load_error);
	g_assert_cmpstr(profile->name, ==, "Demo");
	g_assert_cmpint(profile->boot, ==, PROFILE_BOOT_LINUX);
	g_assert_cmpuint(profile->memory_mib, ==, PROFILE_DEFAULT_MEMORY_MIB);
	g_assert_cmpuint(profile->cpus, ==, 1);
	g_assert_cmpint(profile->accel, ==, PROFILE_ACCEL_AUTO);
	g_assert_true(profile->display_window);
	g_assert_false(profile->spice);
	g_assert_cmpuint(profile->spice_port, ==, PROFILE_DEFAULT_SPICE_PORT);
	g_assert_true(profile->spice_password_required);
	g_assert_cmpuint(profile->resolution_width, ==, 0);
	g_assert_cmpuint(profile->resolution_height, ==, 0);
	g_assert_nonnull(profile->keyfile);
	g_assert_null(profile_log_path(profile));
	g_assert_null(profile_spice_password_path(profile));
}

static void assert_same_fields(const struct profile *a, const struct profile *b)
{
	g_assert_cmpstr(a->name, ==, b->name);
	g_assert_cmpint(a->boot, ==, b->boot);
	g_assert_cmpstr(a->kernel_path, ==, b->kernel_path);
	g_assert_cmpstr(a->initrd_path, ==, b->initrd_path);
	g_assert_cmpstr(a->cmdline, ==, b->cmdline);
	g_assert_cmpuint(a->memory_mib, ==, b->memory_mib);
	g_assert_cmpuint(a->cpus, ==, b->cpus);
	g_assert_cmpint(a->accel, ==, b->accel);
	g_assert_cmpint(a->display_window, ==, b->display_window);
	g_assert_cmpint(a->spice, ==, b->spice);
	g_assert_cmpuint(a->spice_port, ==, b->spice_port);
	g_assert_cmpint(a->spice_password_required, ==, b->spice_password_required);
	g_assert_cmpuint(a->resolution_width, ==, b->resolution_width);
	g_assert_cmpuint(a->resolution_height, ==, b->resolution_height);
}

static void test_round_trip(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *machines = g_build_filename(tmp, "machines", NULL);
	g_autoptr(profile_autoptr_type) profile = profile_new(" Übung = #1 ; \"quoted\"\tand\nnewline ");
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	profile->kernel_path = (g_free(profile->kernel_path), g_strdup("/boot/vmlinuz-6.1.0-28-amd64"));
	profile->initrd_path = (g_free(profile->initrd_path), g_strdup("/boot/initrd.img-6.1.0-28-amd64"));
	profile->cmdline = (g_free(profile->cmdline), g_strdup("console=ttyS0 root=\"/dev/vda 1\" \\ quiet;#"));
	profile->memory_mib = 3000;
	profile->cpus = 3;
	profile->accel = PROFILE_ACCEL_TCG;
	profile->display_window = false;
	profile->spice = true;
	profile->spice_port = 6001;
	profile->spice_password_required = false;
	profile->resolution_width = 1280;
	profile->resolution_height = 800;
	g_assert_true(profile_save(profile, machines, NULL, &error));
	g_assert_no_error(error);
	g_assert_nonnull(profile->id);

	/* Through each way of reading: the store, the folder, the file. */
	{
		g_autoptr(GPtrArray) list = profile_store_list(machines, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(list->len, ==, 1);
		g_assert_null(((struct profile *)list->pdata[0])->load_error);
		assert_same_fields(profile, list->pdata[0]);
	}
	{
		g_autoptr(profile_autoptr_type) loaded = profile_load(profile->dir);

		g_assert_no_error(loaded->load_error);
		assert_same_fields(profile, loaded);
		g_assert_cmpstr(loaded->id, ==, profile->id);
		g_assert_cmpstr(loaded->dir, ==, profile->dir);
		g_assert_cmpstr(loaded->path, ==, profile->path);
	}
	{
		g_autoptr(profile_autoptr_type) loaded = profile_load_file(profile->path, &error);

		g_assert_no_error(error);
		assert_same_fields(profile, loaded);
		g_assert_cmpstr(loaded->id, ==, profile->id);
	}

	/* The format docs/profiles.md documents, which people write by hand. */
	text = read_file(profile->path);
	assert_contains(text, "[machine]\nversion=1\n");
	assert_contains(text, "memory-mib=3000\n");
	assert_contains(text, "cpus=3\n");
	assert_contains(text, "accel=tcg\n");
	assert_contains(text, "[boot]\ntype=linux\nkernel=/boot/vmlinuz-6.1.0-28-amd64\n");
	assert_contains(text, "initrd=/boot/initrd.img-6.1.0-28-amd64\n");
	assert_contains(text, "[display]\nwindow=false\nspice=true\nspice-port=6001\n");
	assert_contains(text, "spice-password=false\n");
	assert_contains(text, "resolution=1280x800\n");

	/* The other value of every field; optional keys go away when empty. */
	g_free(profile->initrd_path);
	profile->initrd_path = g_strdup("");
	g_free(profile->cmdline);
	profile->cmdline = NULL;
	g_free(profile->name);
	profile->name = g_strdup("Plain");
	profile->memory_mib = PROFILE_MIN_MEMORY_MIB;
	profile->cpus = 64;
	profile->accel = PROFILE_ACCEL_KVM;
	profile->display_window = true;
	profile->spice = false;
	profile->spice_port = 65535;
	profile->spice_password_required = true;
	profile->resolution_width = profile->resolution_height = 0;
	g_assert_true(profile_save(profile, NULL, NULL, &error));
	g_assert_no_error(error);
	{
		g_autoptr(profile_autoptr_type) loaded = profile_load(profile->dir);
		g_autofree char *again = read_file(profile->path);

		g_assert_no_error(loaded->load_error);
		g_assert_cmpstr(loaded->initrd_path, ==, "");
		g_assert_cmpstr(loaded->cmdline, ==, "");
		g_free(profile->cmdline);
		profile->cmdline = g_strdup("");
		assert_same_fields(profile, loaded);
		g_assert_null(strstr(again, "initrd="));
		g_assert_null(strstr(again, "cmdline="));
		g_assert_null(strstr(again, "resolution="));
		assert_contains(again, "accel=kvm\n");
	}
	remove_tree(tmp);
}

/* A file as docs/profiles.md shows it, with what a later version might add. */
static const char future_file[] =
	"# Written by hand: keep this comment.\n"
	"\n"
	"[machine]\n"
	"version=1\n"
	"name=Demo\n"
	"name[de]=Vorführung\n"
	"# about the memory\n"
	"memory-mib=256\n"
	"cpus=1\n"
	"accel=auto\n"
	"future-key=some value\n"
	"\n"
	"[boot]\n"
	"type=linux\n"
	"kernel=/boot/vmlinuz\n"
	"\n"
	"[display]\n"
	"window=true\n"
	"spice=false\n"
	"spice-port=5930\n"
	"spice-password=true\n"
	"\n"
	"# A group from the future\n"
	"\n"	/* GKeyFile writes one blank line between a group's comment and the group */
	"[disks]\n"
	"disk0=system.qcow2\n"
	"disk0-bus=virtio\n";

static void test_unknown_kept(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = write_profile_dir(tmp, "demo", future_file);
	g_autoptr(profile_autoptr_type) profile = profile_load(dir);
	g_autoptr(GError) error = NULL;
	g_autofree char *unchanged = NULL, *changed = NULL, *expected = NULL;
	g_autoptr(GString) want = g_string_new(future_file);

	g_assert_no_error(profile->load_error);
	g_assert_cmpstr(profile->name, ==, "Demo");
	g_assert_cmpuint(profile->memory_mib, ==, 256);

	/* Saved as it is: byte for byte what was there. */
	g_assert_true(profile_save(profile, NULL, NULL, &error));
	g_assert_no_error(error);
	unchanged = read_file(profile->path);
	g_assert_cmpstr(unchanged, ==, future_file);

	/* Edited: only the changed line differs. */
	profile->memory_mib = 512;
	g_assert_true(profile_save(profile, NULL, NULL, &error));
	changed = read_file(profile->path);
	g_string_replace(want, "memory-mib=256\n", "memory-mib=512\n", 1);
	g_assert_cmpstr(changed, ==, want->str);

	/* And a fresh load of that keeps them for the next save too. */
	{
		g_autoptr(profile_autoptr_type) again = profile_load(dir);

		g_free(again->name);
		again->name = g_strdup("Renamed");
		g_assert_true(profile_save(again, NULL, NULL, &error));
		expected = read_file(again->path);
		assert_contains(expected, "# Written by hand: keep this comment.\n");
		assert_contains(expected, "name=Renamed\nname[de]=Vorführung\n# about the memory\n");
		assert_contains(expected, "future-key=some value\n");
		assert_contains(expected, "# A group from the future\n\n[disks]\ndisk0=system.qcow2\ndisk0-bus=virtio\n");
	}

	/* Where GKeyFile reformats (spaces around '='), the first save settles it: no drift. */
	{
		g_autofree char *other = write_profile_dir(tmp, "spaced",
			"[machine]\nversion = 1\nname = Spaced\n# c\n[x]\nk = v\n");
		g_autofree char *first = NULL, *second = NULL;

		for (int i = 0; i < 2; i++) {
			g_autoptr(profile_autoptr_type) again = profile_load(other);

			g_assert_no_error(again->load_error);
			g_assert_cmpstr(again->name, ==, "Spaced");
			g_assert_true(profile_save(again, NULL, NULL, &error));
			if (i == 0)
				first = read_file(again->path);
			else
				second = read_file(again->path);
		}
		assert_contains(first, "[x]\nk=v\n");
		g_assert_cmpstr(first, ==, second);
	}
	remove_tree(tmp);
}

/* Files vessel must refuse, and a word the message must contain. */
static const struct {
	const char *contents;	/* NULL: no machine.ini at all */
	const char *mention;
} malformed[] = {
	{ NULL, "does not exist" },
	{ "\x7f" "ELF\x02\x01\x01 binary garbage\n\x01\x02", "not a key file" },
	{ "hello world\n", "not a key file" },
	{ "", "no version" },
	{ "[machine]\nname=No version\n", "no version" },
	{ "[machine]\nversion=2\nname=Future\n", "newer Vessel" },
	{ "[machine]\nversion=0\n", "version" },
	{ "[machine]\nversion=one\n", "version" },
	{ "[machine]\nversion=1\nmemory-mib=abc\n", "memory-mib in [machine] is “abc”" },
	{ "[machine]\nversion=1\nmemory-mib=-5\n", "memory-mib" },
	{ "[machine]\nversion=1\nmemory-mib=99999999999999999999\n", "memory-mib" },
	{ "[machine]\nversion=1\ncpus=1.5\n", "cpus" },
	{ "[machine]\nversion=1\naccel=xen\n", "auto, kvm or tcg" },
	{ "[machine]\nversion=1\naccel=auto # comment\n", "accel" },
	{ "[machine]\nversion=1\n[boot]\ntype=windows\n", "type in [boot]" },
	{ "[machine]\nversion=1\n[display]\nwindow=maybe\n", "true or false" },
	{ "[machine]\nversion=1\n[display]\nspice-port=99999\n", "spice-port" },
	{ "[machine]\nversion=1\n[display]\nresolution=big\n", "WIDTHxHEIGHT" },
	{ "[machine]\nversion=1\n[display]\nresolution=1024x768x32\n", "resolution" },
	{ "[machine]\nversion=1\nname=bad\\qescape\n", "name" },
	{ "[machine]\nversion=1\nname=ends in an escape\\\n", "name" },
	{ "[machine]\nversion=1\nname=\xff\xfe\n", "name" },
};

static void test_malformed(void)
{
	g_autofree char *tmp = make_tmp_dir();

	for (unsigned int i = 0; i < G_N_ELEMENTS(malformed); i++) {
		g_autofree char *id = g_strdup_printf("broken-%u", i);
		g_autofree char *dir = write_profile_dir(tmp, id, malformed[i].contents);
		g_autofree char *ini = g_build_filename(dir, PROFILE_FILE_NAME, NULL);
		g_autoptr(profile_autoptr_type) profile = profile_load(dir);
		g_autoptr(GError) error = NULL;
		g_autofree char *before = malformed[i].contents ? read_file(ini) : NULL;
		g_autofree char *listing = list_dir(dir);

		g_test_message("case %u: %s", i, malformed[i].mention);
		g_assert_nonnull(profile->load_error);
		/* One line, naming the file and the problem. */
		assert_contains(profile->load_error->message, ini);
		assert_contains(profile->load_error->message, malformed[i].mention);
		g_assert_null(strchr(profile->load_error->message, '\n'));
		/* Listed under its folder name, with defaults. */
		g_assert_cmpstr(profile->id, ==, id);
		g_assert_cmpstr(profile->name, ==, id);
		g_assert_cmpuint(profile->memory_mib, ==, PROFILE_DEFAULT_MEMORY_MIB);

		/* Never written: not by save, not by delete. */
		profile->memory_mib = 2048;
		g_assert_false(profile_save(profile, tmp, "password", &error));
		g_assert_nonnull(error);
		g_clear_error(&error);
		g_assert_false(profile_delete(profile, true, &error));
		g_assert_nonnull(error);
		g_clear_error(&error);
		if (malformed[i].contents) {
			g_autofree char *after = read_file(ini);

			g_assert_cmpstr(before, ==, after);
		} else {
			g_assert_false(exists(ini));
		}
		{
			g_autofree char *listing_after = list_dir(dir);

			g_assert_cmpstr(listing, ==, listing_after);
		}

		/* vessel-vmm --profile gets the same message as an error. */
		g_assert_null(profile_load_file(ini, &error));
		g_assert_nonnull(error);
		assert_contains(error->message, ini);
		assert_contains(error->message, malformed[i].mention);
	}
	remove_tree(tmp);
}

static void test_store_list(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *machines = g_build_filename(tmp, "machines", NULL);
	g_autofree char *plain_file = g_build_filename(machines, "stray.txt", NULL);
	g_autofree char *broken = NULL, *empty = NULL, *hidden = NULL;
	g_autoptr(GError) error = NULL;
	/* Case-folded: "beta" before "Charlie", which a plain strcmp() would not do. */
	static const char *const names[] = { "beta", "Charlie", "alpha 2", "Alpha" };
	static const char *const sorted[] = { "Alpha", "alpha 2", "beta", "Charlie", "zz-broken" };
	GPtrArray *list;

	/* No machines yet: an empty list, not an error. */
	list = profile_store_list(machines, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 0);
	g_ptr_array_unref(list);

	for (unsigned int i = 0; i < G_N_ELEMENTS(names); i++)
		profile_free(save_new(machines, names[i]));
	broken = write_profile_dir(machines, "zz-broken", "not a profile\n");
	/* Not machines: a folder without machine.ini, a hidden folder, a file. */
	empty = write_profile_dir(machines, "aaa-empty", NULL);
	hidden = write_profile_dir(machines, ".hidden", "[machine]\nversion=1\nname=Hidden\n");
	write_file(plain_file, "x");

	list = profile_store_list(machines, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, G_N_ELEMENTS(sorted));
	for (unsigned int i = 0; i < list->len; i++) {
		const struct profile *profile = list->pdata[i];

		g_assert_cmpstr(profile->name, ==, sorted[i]);
		if (!strcmp(profile->id, "zz-broken"))
			g_assert_nonnull(profile->load_error);
		else
			g_assert_no_error(profile->load_error);
	}
	g_ptr_array_unref(list);

	/* A machines "folder" that is a file is an error. */
	g_assert_null(profile_store_list(plain_file, &error));
	g_assert_nonnull(error);
	assert_contains(error->message, plain_file);
	remove_tree(tmp);
}

static bool valid_id(const char *id)
{
	for (const char *c = id; *c; c++)
		if (!(g_ascii_islower(*c) || g_ascii_isdigit(*c) || *c == '-'))
			return false;
	return *id && id[0] != '-';
}

static void test_ids(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *machines = g_build_filename(tmp, "deep", "er", "machines", NULL);
	g_autofree char *deep = g_build_filename(tmp, "deep", NULL);
	static const struct { const char *name, *id; } cases[] = {
		{ "Demo", "demo" },
		{ "Demo", "demo-2" },
		{ "demo", "demo-3" },
		{ "DEMO!", "demo-4" },
		{ "My Debian VM (test)", "my-debian-vm-test" },
		{ "  --Über Maschine--  ", "uber-maschine" },
		{ "!!!", "machine" },
		{ "", "machine-2" },
		{ "日本語", "machine-3" },
		{ "Debian 12.5 / amd64", "debian-12-5-amd64" },
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(profile_autoptr_type) profile = save_new(machines, cases[i].name);
		g_autofree char *expected_dir = g_build_filename(machines, cases[i].id, NULL);

		g_assert_cmpstr(profile->id, ==, cases[i].id);
		g_assert_cmpstr(profile->dir, ==, expected_dir);
		g_assert_cmpuint(file_mode(profile->dir), ==, 0700);
	}
	/* Parents made for the store are private too. */
	g_assert_cmpuint(file_mode(machines), ==, 0700);
	g_assert_cmpuint(file_mode(deep), ==, 0700);

	/* A long name makes a bounded id. */
	{
		g_autofree char *name = g_strnfill(300, 'x');
		g_autoptr(profile_autoptr_type) profile = save_new(machines, name);

		g_assert_true(valid_id(profile->id));
		g_assert_cmpuint(strlen(profile->id), <=, 64);
	}
	/* The id never changes with the name. */
	{
		g_autoptr(profile_autoptr_type) profile = save_new(machines, "Stable");
		g_autofree char *dir = g_strdup(profile->dir);
		g_autoptr(GError) error = NULL;

		g_free(profile->name);
		profile->name = g_strdup("Renamed");
		g_assert_true(profile_save(profile, machines, NULL, &error));
		g_assert_cmpstr(profile->id, ==, "stable");
		g_assert_cmpstr(profile->dir, ==, dir);
	}
	remove_tree(tmp);
}

static void test_atomic_write(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autoptr(profile_autoptr_type) profile = profile_new("Atomic");
	g_autoptr(GError) error = NULL;
	g_autofree char *old_link = g_build_filename(tmp, "old-machine.ini", NULL);
	g_autofree char *old_text = NULL, *listing = NULL;

	g_assert_true(profile_save(profile, tmp, "pw", &error));
	g_assert_no_error(error);
	old_text = read_file(profile->path);
	/*
	 * A second name for the file as it was: a save that rewrote the file in
	 * place would change what it shows; a save by rename leaves it alone.
	 */
	g_assert_cmpint(link(profile->path, old_link), ==, 0);
	for (int i = 0; i < 5; i++) {
		profile->memory_mib = 100 + (uint64_t)i;
		g_assert_true(profile_save(profile, NULL, i % 2 ? "pw2" : NULL, &error));
		g_assert_no_error(error);
	}
	{
		g_autofree char *still = read_file(old_link);
		g_autofree char *now = read_file(profile->path);

		g_assert_cmpstr(still, ==, old_text);
		assert_contains(now, "memory-mib=104\n");
	}
	/* No temporary files left behind. */
	listing = list_dir(profile->dir);
	g_assert_cmpstr(listing, ==, "machine.ini spice-password");
	g_assert_cmpuint(file_mode(profile->path), ==, 0600);
	remove_tree(tmp);
}

#define RACE_THREADS		8
#define RACE_PROFILES_EACH	5

struct race {
	const char *machines;
	GPtrArray *ids[RACE_THREADS];	/* each thread's own */
};

static gpointer create_same_name(gpointer data)
{
	struct race *race = ((gpointer *)data)[0];
	unsigned int index = GPOINTER_TO_UINT(((gpointer *)data)[1]);

	for (int i = 0; i < RACE_PROFILES_EACH; i++) {
		g_autoptr(profile_autoptr_type) profile = profile_new("Same Name");
		g_autoptr(GError) error = NULL;

		profile->cpus = index + 1;
		if (!profile_save(profile, race->machines, "secret", &error))
			g_error("save failed: %s", error->message);
		g_ptr_array_add(race->ids[index], g_strdup(profile->id));
	}
	return NULL;
}

static void test_concurrent_create(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *machines = g_build_filename(tmp, "machines", NULL);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	struct race race = { .machines = machines };
	gpointer args[RACE_THREADS][2];
	GThread *threads[RACE_THREADS];
	GPtrArray *list;

	for (unsigned int i = 0; i < RACE_THREADS; i++) {
		race.ids[i] = g_ptr_array_new_with_free_func(g_free);
		args[i][0] = &race;
		args[i][1] = GUINT_TO_POINTER(i);
		threads[i] = g_thread_new("create", create_same_name, args[i]);
	}
	for (unsigned int i = 0; i < RACE_THREADS; i++)
		g_thread_join(threads[i]);

	for (unsigned int i = 0; i < RACE_THREADS; i++) {
		for (unsigned int j = 0; j < race.ids[i]->len; j++) {
			const char *id = race.ids[i]->pdata[j];
			g_autofree char *dir = g_build_filename(machines, id, NULL);
			g_autoptr(profile_autoptr_type) profile = profile_load(dir);

			g_assert_true(g_hash_table_add(seen, (gpointer)id));
			/* Each folder holds the profile of the thread that made it. */
			g_assert_no_error(profile->load_error);
			g_assert_cmpuint(profile->cpus, ==, i + 1);
		}
	}
	g_assert_cmpuint(g_hash_table_size(seen), ==, RACE_THREADS * RACE_PROFILES_EACH);
	list = profile_store_list(machines, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, RACE_THREADS * RACE_PROFILES_EACH);
	g_ptr_array_unref(list);
	for (unsigned int i = 0; i < RACE_THREADS; i++)
		g_ptr_array_unref(race.ids[i]);
	remove_tree(tmp);
}

#define SAVERS		4
#define SAVES_EACH	60

struct save_race {
	const char *dir;
	gint savers_left;
	gint reads;
};

static gpointer save_repeatedly(gpointer data)
{
	struct save_race *race = data;

	for (int i = 0; i < SAVES_EACH; i++) {
		g_autoptr(profile_autoptr_type) profile = profile_load(race->dir);
		g_autoptr(GError) error = NULL;

		if (profile->load_error)
			g_error("a saver read a broken file: %s", profile->load_error->message);
		/* Memory sizes stay within 1000-1999; a torn file would show something else. */
		profile->memory_mib = 1000 + (uint64_t)g_random_int_range(0, 1000);
		if (!profile_save(profile, NULL, i % 3 ? NULL : "pw", &error))
			g_error("save failed: %s", error->message);
	}
	g_atomic_int_dec_and_test(&race->savers_left);
	return NULL;
}

static void test_concurrent_save(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autoptr(profile_autoptr_type) first = save_new(tmp, "Busy");
	struct save_race race = { .dir = first->dir, .savers_left = SAVERS };
	GThread *threads[SAVERS];
	g_autofree char *listing = NULL;

	for (int i = 0; i < SAVERS; i++)
		threads[i] = g_thread_new("save", save_repeatedly, &race);
	/* Meanwhile the file always parses, with one of the values written. */
	while (g_atomic_int_get(&race.savers_left) > 0) {
		g_autoptr(profile_autoptr_type) profile = profile_load(first->dir);

		g_assert_no_error(profile->load_error);
		g_assert_cmpstr(profile->name, ==, "Busy");
		g_assert_true(profile->memory_mib == PROFILE_DEFAULT_MEMORY_MIB ||
			      (profile->memory_mib >= 1000 && profile->memory_mib < 2000));
		race.reads++;
	}
	for (int i = 0; i < SAVERS; i++)
		g_thread_join(threads[i]);
	g_test_message("%d reads during the saves", race.reads);
	g_assert_cmpint(race.reads, >, 0);
	listing = list_dir(first->dir);
	g_assert_cmpstr(listing, ==, "machine.ini spice-password");
	remove_tree(tmp);
}

static void test_delete(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autoptr(GError) error = NULL;

	/* No disks: the folder goes. */
	{
		g_autoptr(profile_autoptr_type) profile = profile_new("Plain");
		g_autofree char *log = NULL;

		g_assert_true(profile_save(profile, tmp, "pw", &error));
		log = profile_log_path(profile);
		write_file(log, "started\n");
		g_assert_true(profile_delete(profile, false, &error));
		g_assert_no_error(error);
		g_assert_false(exists(profile->dir));
	}
	/* Disks kept: they stay, the machine leaves the list. */
	{
		g_autoptr(profile_autoptr_type) profile = profile_new("Kept");
		g_autofree char *disk = NULL, *iso = NULL, *listing = NULL, *log = NULL;
		GPtrArray *list;

		g_assert_true(profile_save(profile, tmp, "pw", &error));
		disk = g_build_filename(profile->dir, "system.qcow2", NULL);
		iso = g_build_filename(profile->dir, "install.ISO", NULL);
		log = profile_log_path(profile);
		write_file(disk, "disk");
		write_file(iso, "cd");
		write_file(log, "log");
		g_assert_true(profile_delete(profile, false, &error));
		g_assert_no_error(error);
		listing = list_dir(profile->dir);
		g_assert_cmpstr(listing, ==, "install.ISO machine.ini.deleted system.qcow2");
		list = profile_store_list(tmp, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(list->len, ==, 0);
		g_ptr_array_unref(list);
	}
	/* Disks deleted: everything goes. */
	{
		g_autoptr(profile_autoptr_type) profile = profile_new("Gone");

		g_assert_true(profile_save(profile, tmp, "pw", &error));
		for (unsigned int i = 0; i < 4; i++) {
			static const char *const disks[] = { "a.img", "b.qcow2", "c.raw", "d.iso" };
			g_autofree char *disk = g_build_filename(profile->dir, disks[i], NULL);

			write_file(disk, "disk");
		}
		g_assert_true(profile_delete(profile, true, &error));
		g_assert_no_error(error);
		g_assert_false(exists(profile->dir));
	}
	/* Files that are not disks are the user's: the folder stays with them alone. */
	{
		g_autoptr(profile_autoptr_type) profile = profile_new("Notes");
		g_autofree char *notes = NULL, *disk = NULL, *listing = NULL;

		g_assert_true(profile_save(profile, tmp, NULL, &error));
		notes = g_build_filename(profile->dir, "notes.txt", NULL);
		disk = g_build_filename(profile->dir, "a.img", NULL);
		write_file(notes, "mine");
		write_file(disk, "disk");
		g_assert_true(profile_delete(profile, true, &error));
		g_assert_no_error(error);
		listing = list_dir(profile->dir);
		g_assert_cmpstr(listing, ==, "notes.txt");
	}
	/* Never saved: nothing to delete. */
	{
		g_autoptr(profile_autoptr_type) profile = profile_new("Unsaved");

		g_assert_false(profile_delete(profile, true, &error));
		g_assert_nonnull(error);
		g_clear_error(&error);
	}
	/* Leaves a folder with only notes.txt and the kept disks. */
	{
		g_autoptr(GPtrArray) list = profile_store_list(tmp, &error);

		g_assert_no_error(error);
		g_assert_cmpuint(list->len, ==, 0);
	}
	remove_tree(tmp);
}

/* A profile that passes validation, with real files in tmp. */
static struct profile *valid_profile(const char *tmp)
{
	g_autoptr(GError) error = NULL;
	struct profile *profile = profile_new("Valid");
	g_autofree char *kernel = g_build_filename(tmp, "vmlinuz", NULL);
	g_autofree char *initrd = g_build_filename(tmp, "initrd.img", NULL);

	write_file(kernel, "kernel");
	write_file(initrd, "initrd");
	g_free(profile->kernel_path);
	profile->kernel_path = g_strdup(kernel);
	g_free(profile->initrd_path);
	profile->initrd_path = g_strdup(initrd);
	return profile;
}

/* Asserts that exactly `field` has a message, containing `mention`. */
static void assert_only_invalid(const struct profile *profile, const struct profile_host_limits *limits,
				const char *password, enum profile_field field, const char *mention)
{
	char *messages[PROFILE_FIELD_COUNT];

	g_assert_false(profile_validate(profile, limits, password, messages));
	for (int i = 0; i < PROFILE_FIELD_COUNT; i++) {
		if (i == (int)field) {
			g_assert_nonnull(messages[i]);
			assert_contains(messages[i], mention);
			/* A sentence: capital letter, full stop. */
			g_assert_true(g_unichar_isupper(g_utf8_get_char(messages[i])) ||
				      messages[i][0] == '\xe2' /* “ */);
			g_assert_true(g_str_has_suffix(messages[i], "."));
		} else if (messages[i]) {
			g_error("field %d has an unexpected message: %s", i, messages[i]);
		}
	}
	profile_messages_clear(messages);
	for (int i = 0; i < PROFILE_FIELD_COUNT; i++)
		g_assert_null(messages[i]);
}

static void assert_valid(const struct profile *profile, const struct profile_host_limits *limits,
			 const char *password)
{
	char *messages[PROFILE_FIELD_COUNT];
	bool valid = profile_validate(profile, limits, password, messages);

	for (int i = 0; i < PROFILE_FIELD_COUNT; i++)
		if (messages[i])
			g_error("field %d: %s", i, messages[i]);
	g_assert_true(valid);
}

static void test_validate(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autoptr(profile_autoptr_type) profile = valid_profile(tmp);
	g_autofree char *missing = g_build_filename(tmp, "vmlinuz-missing", NULL);
	g_autofree char *long_cmdline = g_strnfill(2048, 'a');
	const struct profile_host_limits limits = { .max_memory_mib = 4096, .max_cpus = 4 };
	char *saved;

	assert_valid(profile, &limits, NULL);

	saved = profile->name;
	profile->name = g_strdup("");
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_NAME, "Give the machine a name");
	g_free(profile->name);
	profile->name = g_strdup("  \t ");
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_NAME, "name");
	g_free(profile->name);
	profile->name = saved;

	saved = profile->kernel_path;
	profile->kernel_path = g_strdup("");
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_KERNEL, "Choose the Linux kernel");
	g_free(profile->kernel_path);
	profile->kernel_path = g_strdup(missing);
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_KERNEL, "does not exist");
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_KERNEL, missing);
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_KERNEL, "/boot/vmlinuz-");
	g_free(profile->kernel_path);
	profile->kernel_path = g_strdup(tmp);
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_KERNEL, "is not a file");
	if (geteuid() != 0) {
		g_assert_cmpint(g_chmod(saved, 0), ==, 0);
		g_free(profile->kernel_path);
		profile->kernel_path = g_strdup(saved);
		assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_KERNEL, "permission");
		g_assert_cmpint(g_chmod(saved, 0644), ==, 0);
	}
	g_free(profile->kernel_path);
	profile->kernel_path = saved;

	saved = profile->initrd_path;
	profile->initrd_path = g_strdup(missing);
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_INITRD, "does not exist");
	g_free(profile->initrd_path);
	profile->initrd_path = g_strdup("");
	assert_valid(profile, &limits, NULL);	/* optional */
	g_free(profile->initrd_path);
	profile->initrd_path = saved;

	saved = profile->cmdline;
	profile->cmdline = long_cmdline;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_CMDLINE, "2047");
	long_cmdline[2047] = '\0';
	assert_valid(profile, &limits, NULL);
	profile->cmdline = (char *)"console=ttyS0\nquiet";
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_CMDLINE, "line breaks");
	profile->cmdline = saved;

	profile->memory_mib = PROFILE_MIN_MEMORY_MIB - 1;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_MEMORY, "at least 32 MiB");
	profile->memory_mib = 4097;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_MEMORY, "4096 MiB");
	profile->memory_mib = 4096;
	assert_valid(profile, &limits, NULL);
	profile->memory_mib = PROFILE_MIN_MEMORY_MIB;
	assert_valid(profile, &limits, NULL);

	profile->cpus = 0;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_CPUS, "1 to 4");
	profile->cpus = 5;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_CPUS, "1 to 4");
	profile->cpus = 4;
	assert_valid(profile, &limits, NULL);

	profile->display_window = false;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_DISPLAY, "window or SPICE");

	/* SPICE alone is a display; its port and password then count. */
	profile->spice = true;
	profile->spice_password_required = false;
	assert_valid(profile, &limits, NULL);
	profile->spice_port = 80;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_SPICE_PORT, "1024 to 65535");
	profile->spice_port = 65536;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_SPICE_PORT, "1024 to 65535");
	profile->spice_port = 1024;
	assert_valid(profile, &limits, NULL);

	profile->spice_password_required = true;
	assert_only_invalid(profile, &limits, NULL, PROFILE_FIELD_SPICE_PASSWORD, "password");
	assert_only_invalid(profile, &limits, "", PROFILE_FIELD_SPICE_PASSWORD, "password");
	assert_only_invalid(profile, &limits, "a\nb", PROFILE_FIELD_SPICE_PASSWORD, "line breaks");
	assert_valid(profile, &limits, "secret");
	/* Saved with a password: "unchanged" now counts as set. */
	{
		g_autoptr(GError) error = NULL;

		g_assert_true(profile_save(profile, tmp, "secret", &error));
		assert_valid(profile, &limits, NULL);
	}

	/* Without SPICE, its port and password are not asked for. */
	profile->spice = false;
	profile->display_window = true;
	profile->spice_port = 1;
	assert_valid(profile, &limits, NULL);
	assert_valid(profile, &limits, "");
	remove_tree(tmp);
}

/* Keys left out take their defaults; a profile without a name shows its folder's. */
static void test_defaults_when_absent(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = write_profile_dir(tmp, "minimal", "[machine]\nversion=1\n");
	g_autoptr(profile_autoptr_type) profile = profile_load(dir);
	g_autoptr(profile_autoptr_type) defaults = profile_new("minimal");

	g_assert_no_error(profile->load_error);
	assert_same_fields(profile, defaults);
	remove_tree(tmp);
}

static void test_relative_paths(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = write_profile_dir(tmp, "rel",
		"[machine]\nversion=1\nname=Rel\n[boot]\nkernel=vmlinuz\ninitrd=sub/initrd\n");
	g_autofree char *kernel = g_build_filename(dir, "vmlinuz", NULL);
	g_autoptr(profile_autoptr_type) profile = profile_load(dir);
	const struct profile_host_limits limits = { .max_memory_mib = 4096, .max_cpus = 4 };
	char *messages[PROFILE_FIELD_COUNT];

	/* A kernel next to machine.ini is found there, whatever the current folder. */
	write_file(kernel, "k");
	g_assert_cmpstr(profile->name, ==, "Rel");
	g_assert_no_error(profile->load_error);
	g_assert_cmpstr(profile->kernel_path, ==, "vmlinuz");
	g_assert_false(profile_validate(profile, &limits, NULL, messages));
	g_assert_null(messages[PROFILE_FIELD_KERNEL]);
	g_assert_nonnull(messages[PROFILE_FIELD_INITRD]);
	assert_contains(messages[PROFILE_FIELD_INITRD], "sub/initrd");
	profile_messages_clear(messages);
	remove_tree(tmp);
}

static void test_password_file(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autoptr(profile_autoptr_type) profile = profile_new("Remote");
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL, *contents = NULL, *ini = NULL;
	mode_t old_umask = umask(0);	/* the mode must not depend on the umask */

	profile->spice = true;
	g_assert_true(profile_save(profile, tmp, "s3cret pass", &error));
	g_assert_no_error(error);
	path = profile_spice_password_path(profile);
	g_assert_true(g_str_has_prefix(path, profile->dir));
	g_assert_cmpuint(file_mode(path), ==, 0600);
	g_assert_cmpuint(file_mode(profile->path), ==, 0600);
	umask(old_umask);
	contents = read_file(path);
	g_assert_cmpstr(contents, ==, "s3cret pass\n");
	ini = read_file(profile->path);
	g_assert_null(strstr(ini, "s3cret"));
	assert_contains(ini, "spice-password=true\n");

	/* NULL keeps it; a new one replaces it; "" removes it. */
	g_assert_true(profile_save(profile, NULL, NULL, &error));
	g_free(contents);
	contents = read_file(path);
	g_assert_cmpstr(contents, ==, "s3cret pass\n");
	g_assert_true(profile_save(profile, NULL, "other", &error));
	g_free(contents);
	contents = read_file(path);
	g_assert_cmpstr(contents, ==, "other\n");
	g_assert_cmpuint(file_mode(path), ==, 0600);
	profile->spice_password_required = false;
	g_assert_true(profile_save(profile, NULL, "", &error));
	g_assert_no_error(error);
	g_assert_false(exists(path));
	remove_tree(tmp);
}

static void test_host_limits(void)
{
	struct profile_host_limits limits;
	uint64_t ram_mib = ((uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGE_SIZE)) >> 20;

	profile_host_limits(&limits);
	g_assert_cmpuint(limits.max_cpus, ==, g_get_num_processors());
	g_assert_cmpuint(limits.max_memory_mib, >=, PROFILE_MIN_MEMORY_MIB);
	if (ram_mib > 1024)
		g_assert_cmpuint(limits.max_memory_mib, ==, ram_mib - 512);
}

static void test_describe_boot(void)
{
	g_autoptr(profile_autoptr_type) profile = profile_new("Debian");
	g_autofree char *none = profile_describe_boot(profile);
	g_autofree char *linux_boot = NULL;

	g_assert_cmpstr(none, ==, "No kernel chosen");
	g_free(profile->kernel_path);
	profile->kernel_path = g_strdup("/boot/vmlinuz-6.1.0-28-amd64");
	linux_boot = profile_describe_boot(profile);
	g_assert_cmpstr(linux_boot, ==, "Linux kernel vmlinuz-6.1.0-28-amd64");
}

static void test_machines_dir(void)
{
	g_autofree char *dir = profile_machines_dir();
	g_autofree char *expected = g_build_filename(g_get_user_data_dir(), "vessel", "machines", NULL);

	g_assert_cmpstr(dir, ==, expected);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/profile/new-defaults", test_new_defaults);
	g_test_add_func("/profile/round-trip", test_round_trip);
	g_test_add_func("/profile/unknown-kept", test_unknown_kept);
	g_test_add_func("/profile/malformed", test_malformed);
	g_test_add_func("/profile/store-list", test_store_list);
	g_test_add_func("/profile/ids", test_ids);
	g_test_add_func("/profile/atomic-write", test_atomic_write);
	g_test_add_func("/profile/concurrent-create", test_concurrent_create);
	g_test_add_func("/profile/concurrent-save", test_concurrent_save);
	g_test_add_func("/profile/delete", test_delete);
	g_test_add_func("/profile/validate", test_validate);
	g_test_add_func("/profile/defaults-when-absent", test_defaults_when_absent);
	g_test_add_func("/profile/relative-paths", test_relative_paths);
	g_test_add_func("/profile/password-file", test_password_file);
	g_test_add_func("/profile/host-limits", test_host_limits);
	g_test_add_func("/profile/describe-boot", test_describe_boot);
	g_test_add_func("/profile/machines-dir", test_machines_dir);
	return g_test_run();
}
