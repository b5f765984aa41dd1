# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the command-line tests: run vessel-vmm, find guests."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from orphans import die_with_parent  # noqa: E402

VMM = os.environ.get("VESSEL_VMM", "")


def guest(name):
    """Path of a test guest built by tests/guests/meson.build."""
    path = os.environ.get("VESSEL_GUEST_" + name.replace("-", "_").upper(), "")
    if not path or not os.path.exists(path):
        raise unittest.SkipTest(f"test guest '{name}' was not built (-Dguest_tests=false)")
    return path


def run(*args, stdin=subprocess.DEVNULL, env=None, timeout=30, prefix=()):
    """Runs vessel-vmm; returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([*prefix, VMM, *args], stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=full_env, timeout=timeout, text=True,
                          preexec_fn=die_with_parent)


class VmmTestCase(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.exists(VMM), f"VESSEL_VMM={VMM!r} does not exist")
        self.tmp = tempfile.TemporaryDirectory(prefix="vessel-test-")
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def write(self, name, data):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assert_error(self, result, *fragments):
        """Exit status 1; the error is one 'vessel-vmm: error: ...' line, the
        last on stderr, containing every fragment."""
        report = f"status {result.returncode}\nstderr: {result.stderr!r}\nstdout: {result.stdout!r}"
        self.assertEqual(result.returncode, 1, report)
        lines = result.stderr.splitlines()
        self.assertTrue(lines, "nothing on stderr\n" + report)
        for line in lines:
            self.assertTrue(line.startswith("vessel-vmm: "), "unprefixed stderr line\n" + report)
        self.assertTrue(lines[-1].startswith("vessel-vmm: error: "), report)
        for fragment in fragments:
            self.assertIn(fragment, lines[-1], report)
        return lines[-1]

# Where multiboot_image() puts the code: 1 MiB + the 32-byte header.
CODE_BASE = 0x100020


def multiboot_image(code):
    """A multiboot v1 kernel using the a.out kludge (header flag bit 16):
    32-bit protected-mode `code` loaded at 1 MiB, entered right after the
    32-byte header.  Lets tests make tiny guests without a toolchain."""
    import struct
    load = 0x100000
    magic, flags = 0x1BADB002, 0x00010000
    checksum = (-(magic + flags)) & 0xFFFFFFFF
    header = struct.pack("<8I", magic, flags, checksum, load, load, 0, 0, load + 32)
    return header + bytes(code)


def serial_print_code(text):
    """32-bit code writing text to COM1 (port 0x3f8)."""
    code = bytearray(b"\x66\xba\xf8\x03")           # mov dx, 0x3f8
    for ch in text.encode():
        code += bytes([0xB0, ch, 0xEE])            # mov al, ch; out dx, al
    return code


# hlt; jmp back to the hlt: idles with interrupts off until the VMM acts.
HALT_FOREVER = b"\xf4\xeb\xfd"
