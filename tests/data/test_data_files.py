# SPDX-License-Identifier: GPL-2.0-or-later
"""The built desktop file, metainfo and icons say what a desktop and a
software centre need: the right program, icon and release, in the user's
language."""

import os
import re
import unittest
import xml.etree.ElementTree as ET

from datatest import (APPLICATION_ID, DESKTOP_FILE, LINGUAS, METAINFO_FILE, SOURCE_ROOT, VERSION,
                      exec_program, read_desktop_entry)

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SVG = "{http://www.w3.org/2000/svg}"
ICONS = os.path.join(SOURCE_ROOT, "data", "icons", "hicolor")


class DesktopFile(unittest.TestCase):
    def setUp(self):
        self.entry = read_desktop_entry(DESKTOP_FILE)

    def test_launches_the_app_with_its_icon(self):
        self.assertEqual(exec_program(self.entry), "vessel")
        self.assertEqual(self.entry["Icon"], APPLICATION_ID)
        self.assertEqual(self.entry["Type"], "Application")
        self.assertEqual(os.path.basename(DESKTOP_FILE), APPLICATION_ID + ".desktop")

    def test_listed_under_system_emulators(self):
        categories = self.entry["Categories"].split(";")
        self.assertIn("System", categories)
        self.assertIn("Emulator", categories)

    def test_translations_are_merged(self):
        # An empty or misplaced po/ merges nothing, and the launcher stays
        # English for everyone.
        self.assertIn("vi", LINGUAS)
        for key in ("Comment", "Keywords"):
            translated = self.entry.get(key + "[vi]")
            self.assertTrue(translated, f"{key}[vi] missing from {DESKTOP_FILE}")
            self.assertNotEqual(translated, self.entry[key])
        self.assertTrue(self.entry["Keywords[vi]"].endswith(";"))


class Metainfo(unittest.TestCase):
    def setUp(self):
        self.component = ET.parse(METAINFO_FILE).getroot()

    def test_names_the_app_and_its_launcher(self):
        self.assertEqual(self.component.get("type"), "desktop-application")
        self.assertEqual(self.component.findtext("id"), APPLICATION_ID)
        launchable = self.component.find("launchable")
        self.assertEqual(launchable.get("type"), "desktop-id")
        self.assertEqual(launchable.text, os.path.basename(DESKTOP_FILE))
        self.assertEqual(self.component.findtext("translation"), "vessel")

    def test_newest_release_is_this_version(self):
        # Software centres show the newest <release> as "what's new"; bumping
        # the version in meson.build without release notes leaves them stale.
        releases = self.component.findall("releases/release")
        self.assertTrue(releases)
        self.assertEqual(releases[0].get("version"), VERSION)
        self.assertRegex(releases[0].get("date"), r"^\d{4}-\d{2}-\d{2}$")
        notes = [li.text for li in releases[0].iter("li") if XML_LANG not in li.attrib]
        self.assertTrue(notes, "release has no notes")

    def test_screenshots_have_captions(self):
        screenshots = self.component.findall("screenshots/screenshot")
        self.assertGreaterEqual(len(screenshots), 2)
        self.assertEqual([s.get("type") for s in screenshots].count("default"), 1)
        for screenshot in screenshots:
            self.assertRegex(screenshot.findtext("image"), r"^https://.*\.png$")
            captions = [c.text for c in screenshot.findall("caption") if XML_LANG not in c.attrib]
            self.assertEqual(len(captions), 1)
            self.assertTrue(captions[0])

    def test_translations_are_merged(self):
        for tag in ("summary", "p", "li", "caption"):
            languages = {e.get(XML_LANG) for e in self.component.iter(tag)}
            self.assertIn("vi", languages, f"no Vietnamese <{tag}> in {METAINFO_FILE}")


class Icons(unittest.TestCase):
    def read(self, *path):
        return ET.parse(os.path.join(ICONS, *path)).getroot()

    def test_app_icon_is_drawn_on_128_pixels(self):
        svg = self.read("scalable", "apps", APPLICATION_ID + ".svg")
        self.assertEqual(svg.tag, SVG + "svg")
        self.assertEqual(svg.get("viewBox"), "0 0 128 128")
        self.assertGreater(len(list(svg.iter(SVG + "path"))), 3)

    def test_symbolic_icon_has_one_colour_on_16_pixels(self):
        # GTK recolours a symbolic icon to the text colour of where it is
        # shown; strokes, gradients and second colours do not survive that.
        svg = self.read("symbolic", "apps", APPLICATION_ID + "-symbolic.svg")
        self.assertEqual(svg.get("viewBox"), "0 0 16 16")
        self.assertEqual(list(svg.iter(SVG + "linearGradient")), [])
        for element in svg.iter():
            self.assertIn(element.get("stroke", "none"), ("none",), element.tag)
            self.assertIn(element.get("fill", "#2e3436"), ("#2e3436",), element.tag)
            self.assertNotIn("stroke", element.get("style", ""))
            self.assertIsNone(re.search(r"fill:(?!#2e3436)", element.get("style", "")))
        self.assertTrue(list(svg.iter(SVG + "path")))


if __name__ == "__main__":
    unittest.main()
