# SPDX-License-Identifier: GPL-2.0-or-later
"""vessel-vmm's command line: --help, --version and every option's errors."""

import unittest

from vmmtest import VmmTestCase, run


class Options(VmmTestCase):
    def test_help_lists_every_option(self):
        result = run("--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        for option in ("--accel", "--memory", "--cpus", "--kernel", "--initrd", "--cmdline",
                       "--serial", "--display", "--resolution", "--spice", "--control", "--no-reboot", "--fw-cfg",
                       "Exit status"):
            self.assertIn(option, result.stdout)

    def test_version(self):
        result = run("--version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^vessel-vmm \d+\.\d+\.\d+\n$")

    def test_unknown_option(self):
        self.assert_error(run("--frobnicate"), "--frobnicate")

    def test_stray_argument(self):
        self.assert_error(run("--kernel", "x", "extra"), "unexpected argument 'extra'")

    def test_bad_values(self):
        cases = [
            (("--accel", "xen"), ["--accel", "'xen'", "kvm, tcg or auto"]),
            (("--memory", "1.5G"), ["--memory", "1.5G"]),
            (("--memory", "lots"), ["--memory", "lots"]),
            (("--cpus", "0"), ["--cpus", "'0'"]),
            (("--cpus", "65"), ["--cpus", "1 to 64"]),
            (("--cpus", "two"), ["--cpus", "'two'"]),
            (("--serial", "tcp:1234"), ["--serial", "stdio, none or file:PATH"]),
            (("--serial", "file:"), ["--serial"]),
            (("--resolution", "big"), ["--resolution", "WIDTHxHEIGHT"]),
            (("--spice", "port=abc"), ["--spice", "port=abc", "1-65535"]),
            (("--spice", "addr=127.0.0.1"), ["--spice", "give a port"]),
            (("--spice", "port=5930,colour=blue"), ["--spice", "'colour=blue'"]),
            (("--spice", "port=5930,password-file=/nonexistent/pw"), ["--spice", "/nonexistent/pw"]),
            (("--spice", "port=5930,tls-port=5931"), ["tls-port and x509-dir"]),
            (("--resolution", "9000x9000"), ["--resolution", "out of range"]),
            (("--display", "vnc"), ["--display", "'vnc'"]),
            (("--fw-cfg", "opt/x"), ["--fw-cfg", "name=NAME"]),
            (("--fw-cfg", "name=opt/x,blob=1"), ["file=PATH or string=TEXT"]),
            (("--fw-cfg", "name=opt/x,file=/nonexistent/file"), ["/nonexistent/file"]),
        ]
        for args, fragments in cases:
            with self.subTest(args=args):
                self.assert_error(run(*args), *fragments)

    def test_nothing_to_boot(self):
        self.assert_error(run("--accel", "kvm"), "nothing to boot", "--kernel")

    def test_memory_limits(self):
        kernel = self.write("k", b"")
        self.assert_error(run("--memory", "1M", "--kernel", kernel), "too small", "at least 2 MiB")
        self.assert_error(run("--memory", "64T", "--kernel", kernel), "more than this computer has")


if __name__ == "__main__":
    unittest.main(verbosity=2)
