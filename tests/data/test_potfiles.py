# SPDX-License-Identifier: GPL-2.0-or-later
"""po/POTFILES.in lists exactly the files with translatable strings: a file
missing from it stays English in every language (vessel-pot never sees its
strings), and a listed file that does not exist makes vessel-pot fail."""

import os
import re
import unittest

from datatest import SOURCE_ROOT

# gettext calls of the glib preset (po/meson.build) in C, and GtkBuilder's
# translatable properties in .ui files.
C_GETTEXT = re.compile(r"\b(?:_|N_|C_|NC_|g_dngettext|g_dpgettext2|ngettext)\s*\(")
UI_TRANSLATABLE = re.compile(r"translatable=\"(?:yes|true)\"")
SCANNED_FOLDERS = ("app", "ui", "data")
SKIPPED_FOLDERS = (os.path.join("data", "demo"),)


def listed_files():
    with open(os.path.join(SOURCE_ROOT, "po", "POTFILES.in"), encoding="utf-8") as potfiles:
        return [line.strip() for line in potfiles if line.strip() and not line.startswith("#")]


def files_with_strings():
    found = set()
    for folder in SCANNED_FOLDERS:
        for directory, subdirs, names in os.walk(os.path.join(SOURCE_ROOT, folder)):
            relative_dir = os.path.relpath(directory, SOURCE_ROOT)
            if relative_dir.startswith(SKIPPED_FOLDERS):
                continue
            for name in names:
                relative = os.path.join(relative_dir, name)
                if name.endswith((".desktop.in", ".metainfo.xml.in", ".gschema.xml")):
                    found.add(relative)
                    continue
                if name.endswith(".c"):
                    pattern = C_GETTEXT
                elif name.endswith(".ui"):
                    pattern = UI_TRANSLATABLE
                else:
                    continue
                with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as source:
                    if pattern.search(source.read()):
                        found.add(relative)
    return found


class Potfiles(unittest.TestCase):
    def test_every_listed_file_exists(self):
        missing = [f for f in listed_files() if not os.path.isfile(os.path.join(SOURCE_ROOT, f))]
        self.assertEqual(missing, [], "listed in po/POTFILES.in but not in the source tree")

    def test_every_file_with_strings_is_listed(self):
        unlisted = sorted(files_with_strings() - set(listed_files()))
        self.assertEqual(unlisted, [], "has translatable strings but is not in po/POTFILES.in")


if __name__ == "__main__":
    unittest.main()
