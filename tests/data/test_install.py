# SPDX-License-Identifier: GPL-2.0-or-later
"""`meson install` puts the app where a desktop finds it: the launcher, its
icon, the software-centre page, the settings schema, the translations and
the programs. InstallPlan reads meson's install plan; InstalledTree installs
into a temporary DESTDIR and checks the result with the desktop's own tools.

Run one of them: test_install.py InstallPlan | InstalledTree"""

import gettext
import json
import os
import subprocess
import tempfile
import unittest

from datatest import (APPSTREAMCLI, BINDIR, BUILD_ROOT, DESKTOP_FILE,
                      DESKTOP_FILE_VALIDATE, GETTEXT_PACKAGE, GLIB_COMPILE_SCHEMAS, LINGUAS,
                      LOCALEDIR, MESON, PREFIX, exec_program, installed_paths, read_desktop_entry)


def install_plan():
    """{built or source file: absolute installed path}, without building."""
    result = subprocess.run([MESON, "introspect", "--installed", BUILD_ROOT],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def expected_paths():
    paths = installed_paths()
    paths["the launcher's program"] = os.path.join(BINDIR, exec_program(read_desktop_entry(DESKTOP_FILE)))
    return paths


def run(*command):
    return subprocess.run(command, capture_output=True, text=True)


class InstallPlan(unittest.TestCase):
    def test_every_file_goes_where_the_desktop_looks(self):
        planned = set(install_plan().values())
        missing = {what: path for what, path in expected_paths().items() if path not in planned}
        self.assertEqual(missing, {}, "not installed by meson install")


class InstalledTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.plan = install_plan()
        # meson test builds only a test's depends; meson install --no-rebuild
        # needs everything, so say which step was skipped.
        not_built = sorted(src for src in cls.plan if not os.path.exists(src))
        if not_built:
            raise AssertionError("not built (run ninja -C %s first): %s" % (BUILD_ROOT, " ".join(not_built)))
        cls.tmp = tempfile.TemporaryDirectory(prefix="vessel-install-")
        cls.destdir = cls.tmp.name
        # meson install overwrites the build's install log, which
        # `ninja uninstall` reads to know what a real install put where.
        install_log = os.path.join(BUILD_ROOT, "meson-logs", "install-log.txt")
        real_log = None
        if os.path.exists(install_log):
            with open(install_log, "rb") as log:
                real_log = log.read()
        # --no-rebuild: a test must not start a build in the tree meson test runs from.
        result = run(MESON, "install", "-C", BUILD_ROOT, "--no-rebuild", "--quiet",
                     "--destdir", cls.destdir)
        if real_log is None:
            if os.path.exists(install_log):
                os.remove(install_log)
        else:
            with open(install_log, "wb") as log:
                log.write(real_log)
        if result.returncode != 0:
            cls.tmp.cleanup()
            raise AssertionError("meson install failed:\n" + result.stdout + result.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def staged(self, path):
        return os.path.join(self.destdir, os.path.relpath(path, "/"))

    def assert_tool_passes(self, result):
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_every_planned_file_is_installed(self):
        for path in list(self.plan.values()) + list(expected_paths().values()):
            self.assertTrue(os.path.exists(self.staged(path)), path)

    def test_launcher_starts_an_installed_program_with_an_installed_icon(self):
        desktop = self.staged(installed_paths()["desktop file"])
        self.assert_tool_passes(run(DESKTOP_FILE_VALIDATE, desktop))
        entry = read_desktop_entry(desktop)
        program = self.staged(os.path.join(BINDIR, exec_program(entry)))
        self.assertTrue(os.access(program, os.X_OK), program)
        icon_dir = os.path.dirname(self.staged(installed_paths()["icon"]))
        self.assertTrue(os.path.isfile(os.path.join(icon_dir, entry["Icon"] + ".svg")))

    def test_software_centre_finds_the_launcher(self):
        # validate-tree also checks that the metainfo's <launchable> names an
        # installed desktop file.
        self.assert_tool_passes(run(APPSTREAMCLI, "validate-tree", "--no-net", "--strict",
                                    self.staged(PREFIX)))

    def test_schema_compiles_where_installed(self):
        schemas = os.path.dirname(self.staged(installed_paths()["GSettings schema"]))
        self.assert_tool_passes(run(GLIB_COMPILE_SCHEMAS, "--strict", "--dry-run", schemas))

    def test_translations_load(self):
        localedir = self.staged(LOCALEDIR)
        for lang in LINGUAS:
            catalogue = gettext.translation(GETTEXT_PACKAGE, localedir, languages=[lang])
            self.assertEqual(catalogue.info().get("language"), lang)
        vietnamese = gettext.translation(GETTEXT_PACKAGE, localedir, languages=["vi"])
        summary = "Create the demo machine on first start"
        self.assertNotEqual(vietnamese.gettext(summary), summary)


if __name__ == "__main__":
    unittest.main()
