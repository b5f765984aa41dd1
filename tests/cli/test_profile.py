# SPDX-License-Identifier: GPL-2.0-or-later
"""vessel-vmm --profile FILE: a machine profile (docs/profiles.md) runs the
machine it describes, options on the command line override it wherever
they stand, and a broken profile is one error line naming the file."""

import os
import socket
import subprocess
import unittest

from vmmtest import VMM, VmmTestCase, die_with_parent, multiboot_image, run, serial_print_code


def exit_guest(text, value):
    """A multiboot guest printing text on COM1, then writing value to the
    test-exit port 0xf4 (vessel-vmm exits with (value << 1) | 1)."""
    return multiboot_image(serial_print_code(text) + bytes([0xB0, value, 0xE6, 0xF4]))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Profile(VmmTestCase):
    def profile(self, machine="", boot="", display="window=false\n", name="machine.ini"):
        """Writes a profile next to its guest; returns its path."""
        text = ("[machine]\nversion=1\nname=Profile test\nmemory-mib=16\naccel=kvm\n" + machine +
                "\n[boot]\ntype=linux\n" + boot + "\n[display]\n" + display)
        return self.write(name, text.encode())

    def run_in(self, cwd, *args, env=None):
        """vessel-vmm started from another folder than the profile's."""
        return subprocess.run([VMM, *args], cwd=cwd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=30, env=env, preexec_fn=die_with_parent)

    def test_runs_the_profile_machine(self):
        self.write("guest.elf", exit_guest("from the profile\n", 5))
        # kernel=guest.elf: relative to the profile's folder, not to the current one.
        path = self.profile(boot="kernel=guest.elf\n")
        for accel in ("kvm", "tcg"):
            with self.subTest(accel=accel):
                result = self.run_in("/", "--profile", path, "--accel", accel)
                self.assertEqual(result.returncode, (5 << 1) | 1, result.stderr)
                self.assertEqual(result.stdout, "from the profile\n")

    def test_command_line_overrides_wherever_it_stands(self):
        self.write("guest.elf", exit_guest("profile guest\n", 5))
        other = self.write("other.elf", exit_guest("command-line guest\n", 7))
        # 64 TiB: the profile alone cannot run here.
        path = self.profile(machine="memory-mib=67108864\n", boot="kernel=guest.elf\n")
        self.assert_error(run("--profile", path), "more than this computer has")

        result = run("--memory", "16M", "--profile", path)
        self.assertEqual(result.returncode, (5 << 1) | 1, result.stderr)
        self.assertEqual(result.stdout, "profile guest\n")

        for args in (("--kernel", other, "--profile", path, "--memory", "16M"),
                     ("--profile", path, "--memory", "16M", "--kernel", other)):
            with self.subTest(args=args):
                result = run(*args)
                self.assertEqual(result.returncode, (7 << 1) | 1, result.stderr)
                self.assertEqual(result.stdout, "command-line guest\n")

    def test_display_override(self):
        """A profile asking for a window, where there is no graphical session:
        an error, unless --display none overrides it."""
        self.write("guest.elf", exit_guest("headless\n", 3))
        path = self.profile(boot="kernel=guest.elf\n", display="window=true\n")
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        result = self.run_in(self.tmp.name, "--profile", path, env=env)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("no graphical session", result.stderr)
        result = self.run_in(self.tmp.name, "--profile", path, "--display", "none", env=env)
        self.assertEqual(result.returncode, (3 << 1) | 1, result.stderr)
        self.assertEqual(result.stdout, "headless\n")

    def test_spice_from_the_profile(self):
        self.write("guest.elf", exit_guest("", 0))
        port = free_port()
        path = self.profile(boot="kernel=guest.elf\n",
                            display=f"window=false\nspice=true\nspice-port={port}\nspice-password=true\n")
        # Password wanted, none stored: said before anything starts.
        self.assert_error(run("--profile", path), os.path.join(self.tmp.name, "spice-password"))

        password = self.write("spice-password", b"secret\n")
        os.chmod(password, 0o600)
        result = run("--profile", path)
        self.assertEqual(result.returncode, 1, result.stderr)   # exit value 0: (0 << 1) | 1
        self.assertIn(f"SPICE: connect to spice://127.0.0.1:{port}", result.stderr)

    def test_broken_profiles(self):
        cases = [
            (b"garbage\n", "not a key file"),
            (b"[machine]\nversion=2\n", "newer Vessel"),
            (b"[machine]\nversion=1\nmemory-mib=abc\n", "memory-mib"),
            (b"[machine]\nversion=1\ncpus=0\n", "cpus=0"),
        ]
        for contents, problem in cases:
            with self.subTest(problem=problem):
                path = self.write("broken.ini", contents)
                self.assert_error(run("--profile", path), "--profile", path, problem)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), contents)   # never rewritten
        missing = self.path("missing.ini")
        self.assert_error(run("--profile", missing), missing, "does not exist")

    def test_help(self):
        result = run("--help")
        self.assertEqual(result.returncode, 0)
        self.assertIn("--profile=FILE", result.stdout)
        self.assertIn("docs/profiles.md", result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
