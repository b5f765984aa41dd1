# SPDX-License-Identifier: GPL-2.0-or-later
"""What the tests in tests/data share: where meson put things (from the
environment tests/data/meson.build sets) and a reader for desktop files."""

import os

APPLICATION_ID = os.environ["VESSEL_APPLICATION_ID"]
VERSION = os.environ["VESSEL_VERSION"]
BUILD_ROOT = os.environ["VESSEL_BUILD_ROOT"]
SOURCE_ROOT = os.environ["VESSEL_SOURCE_ROOT"]
DESKTOP_FILE = os.environ["VESSEL_DESKTOP_FILE"]
METAINFO_FILE = os.environ["VESSEL_METAINFO_FILE"]
LINGUAS = os.environ["VESSEL_LINGUAS"].split()
GETTEXT_PACKAGE = "vessel"

PREFIX = os.environ["VESSEL_PREFIX"]
# os.path.join keeps an absolute datadir/bindir/localedir as it is, as meson does.
BINDIR = os.path.join(PREFIX, os.environ["VESSEL_BINDIR"])
DATADIR = os.path.join(PREFIX, os.environ["VESSEL_DATADIR"])
LOCALEDIR = os.path.join(PREFIX, os.environ["VESSEL_LOCALEDIR"])

MESON = os.environ["MESON"]
DESKTOP_FILE_VALIDATE = os.environ["DESKTOP_FILE_VALIDATE"]
APPSTREAMCLI = os.environ["APPSTREAMCLI"]
GLIB_COMPILE_SCHEMAS = os.environ["GLIB_COMPILE_SCHEMAS"]


def installed_paths():
    """Where each file of the app goes, below the prefix, as a user's
    desktop looks for it."""
    paths = {
        "desktop file": os.path.join(DATADIR, "applications", APPLICATION_ID + ".desktop"),
        "metainfo": os.path.join(DATADIR, "metainfo", APPLICATION_ID + ".metainfo.xml"),
        "icon": os.path.join(DATADIR, "icons", "hicolor", "scalable", "apps", APPLICATION_ID + ".svg"),
        "symbolic icon": os.path.join(DATADIR, "icons", "hicolor", "symbolic", "apps",
                                      APPLICATION_ID + "-symbolic.svg"),
        "GSettings schema": os.path.join(DATADIR, "glib-2.0", "schemas", APPLICATION_ID + ".gschema.xml"),
        "vessel-vmm": os.path.join(BINDIR, "vessel-vmm"),
    }
    for lang in LINGUAS:
        paths[lang + " translation"] = os.path.join(LOCALEDIR, lang, "LC_MESSAGES", GETTEXT_PACKAGE + ".mo")
    return paths


def read_desktop_entry(path):
    """The [Desktop Entry] group of a desktop file as a dict ("Comment[vi]"
    is a key of its own). Desktop Entry Specification 1.5, "Basic format of
    the file": '#' comment lines, [group] headers, Key=Value lines."""
    entry = {}
    group = None
    with open(path, encoding="utf-8") as desktop:
        for line in desktop:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("["):
                group = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            if group == "Desktop Entry":
                entry[key.strip()] = value.strip()
    return entry


def exec_program(entry):
    """The program a launcher's Exec= starts (field codes such as %U dropped)."""
    return entry["Exec"].split()[0]
