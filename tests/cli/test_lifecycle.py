# SPDX-License-Identifier: GPL-2.0-or-later
"""How a vessel-vmm run ends: exit statuses, resets with and without
--no-reboot, signals, and where serial output goes."""

import signal
import subprocess
import time
import unittest

from vmmtest import (HALT_FOREVER, VMM, VmmTestCase, die_with_parent, multiboot_image, run,
                     serial_print_code)

# Writes "boot\n" and resets through the i8042 (command 0xFE to port 0x64).
RESET_CODE = serial_print_code("boot\n") + b"\xb0\xfe\xe6\x64" + HALT_FOREVER


class Lifecycle(VmmTestCase):
    def test_test_exit_status(self):
        for value in (0, 5, 0x20, 127):
            with self.subTest(value=value):
                kernel = self.write("k", multiboot_image(bytes([0xB0, value, 0xE6, 0xF4])))
                result = run("--accel", "kvm", "--memory", "16M", "--kernel", kernel)
                self.assertEqual(result.returncode, (value << 1) | 1, result.stderr)

    def test_reset_with_no_reboot_exits_zero(self):
        kernel = self.write("k", multiboot_image(RESET_CODE))
        result = run("--accel", "kvm", "--memory", "16M", "--kernel", kernel, "--no-reboot")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "boot\n")
        self.assertIn("reset", result.stderr)

    def test_reset_reboots_the_guest(self):
        kernel = self.write("k", multiboot_image(RESET_CODE))
        proc = subprocess.Popen([VMM, "--accel", "kvm", "--memory", "16M", "--kernel", kernel],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=die_with_parent)
        try:
            # Each boot prints a line: three lines prove two complete reboots.
            for _ in range(3):
                self.assertEqual(proc.stdout.readline(), "boot\n")
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 0, err)

    def test_sigterm_ends_cleanly(self):
        kernel = self.write("k", multiboot_image(serial_print_code("idle\n") + HALT_FOREVER))
        proc = subprocess.Popen([VMM, "--accel", "kvm", "--memory", "16M", "--kernel", kernel],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=die_with_parent)
        self.assertEqual(proc.stdout.readline(), "idle\n")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("terminating on signal 15", err)

    def test_software_cpu_code_is_never_writable_and_executable(self):
        """The JIT writes its code through one mapping and runs it through
        another: no mapping of the process is writable and executable."""
        kernel = self.write("k", multiboot_image(serial_print_code("idle\n") + HALT_FOREVER))
        proc = subprocess.Popen([VMM, "--accel", "tcg", "--memory", "16M", "--kernel", kernel],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=die_with_parent)
        try:
            self.assertEqual(proc.stdout.readline(), "idle\n")
            with open(f"/proc/{proc.pid}/maps") as maps:
                lines = maps.read().splitlines()
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
        writable_executable = [line for line in lines if "w" in line.split()[1] and "x" in line.split()[1]]
        self.assertEqual(writable_executable, [])
        jit = [line.split()[1] for line in lines if "vessel-jit" in line]
        self.assertIn("r-xs", jit, "no executable JIT mapping: is the JIT on?")
        self.assertIn("rw-s", jit)

    def test_serial_backends(self):
        kernel = self.write("k", multiboot_image(serial_print_code("hello\n") + b"\xb0\x05\xe6\xf4"))
        log = self.path("serial.log")
        result = run("--accel", "kvm", "--memory", "16M", "--kernel", kernel, "--serial", "file:" + log)
        self.assertEqual(result.returncode, 11, result.stderr)
        self.assertEqual(result.stdout, "")
        with open(log) as f:
            self.assertEqual(f.read(), "hello\n")
        result = run("--accel", "kvm", "--memory", "16M", "--kernel", kernel, "--serial", "none")
        self.assertEqual(result.returncode, 11, result.stderr)
        self.assertEqual(result.stdout, "")

    def test_smp_guest_with_many_cpus_starts(self):
        kernel = self.write("k", multiboot_image(b"\xb0\x05\xe6\xf4"))
        result = run("--accel", "kvm", "--memory", "16M", "--cpus", "8", "--kernel", kernel)
        self.assertEqual(result.returncode, 11, result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
