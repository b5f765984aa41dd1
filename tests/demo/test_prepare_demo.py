#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Unit tests of vessel-prepare-demo without the network: its cpio writer
(parsed back by an independent reader), the initramfs it builds, the
progress protocol, the cache (rebuilds only on change, leftovers, offline
fallback, the lock) and the errors a user sees, with fake apt tools.

    tests/demo/test_prepare_demo.py data/demo/vessel-prepare-demo
"""

import fcntl
import glob
import gzip
import importlib.machinery
import importlib.util
import io
import os
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
SCRIPT = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else
                         os.path.join(os.path.dirname(__file__), "..", "..", "data", "demo",
                                      "vessel-prepare-demo"))


def load_script():
    loader = importlib.machinery.SourceFileLoader("vessel_prepare_demo", SCRIPT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


demo = load_script()


def read_newc(data):
    """An independent newc reader: [(name, mode, rdev, data)], checking
    the layout rules the kernel relies on (buffer-format.rst)."""
    entries = []
    pos = 0
    while True:
        if pos % 4:
            raise AssertionError(f"header at {pos} is not 4-byte aligned")
        if data[pos:pos + 6] != b"070701":
            raise AssertionError(f"bad magic at {pos}: {data[pos:pos + 6]!r}")
        fields = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        ino, mode, uid, gid, nlink, mtime, size, _, _, rmajor, rminor, namesize, check = fields
        name_end = pos + 110 + namesize
        if data[name_end - 1] != 0:
            raise AssertionError(f"name at {pos} is not NUL-terminated")
        name = data[pos + 110:name_end - 1].decode()
        data_start = (name_end + 3) & ~3
        if any(data[name_end:data_start]):
            raise AssertionError(f"non-zero name padding after {name}")
        body = data[data_start:data_start + size]
        pos = (data_start + size + 3) & ~3
        if (uid, gid, mtime, check) != (0, 0, 0, 0):
            raise AssertionError(f"{name}: uid {uid} gid {gid} mtime {mtime} check {check}")
        if name == "TRAILER!!!":
            if pos != len(data):
                raise AssertionError(f"{len(data) - pos} bytes after the trailer")
            return entries
        if ino == 0 or nlink == 0:
            raise AssertionError(f"{name}: inode {ino}, nlink {nlink}")
        entries.append((name, mode, (rmajor, rminor), body))


class CpioTest(unittest.TestCase):
    def test_round_trip(self):
        cpio = demo.CpioWriter()
        cpio.directory("bin")
        cpio.file("bin/busybox", b"\x7fELF" + bytes(range(256)) * 3, 0o755)
        cpio.symlink("bin/sh", "busybox")
        cpio.char_device("dev/console", 5, 1)
        for length in range(1, 9):       # every padding of name and data
            cpio.file("f" * length, b"x" * length)
        cpio.file("empty", b"")
        entries = read_newc(cpio.finish())
        names = [e[0] for e in entries]
        self.assertEqual(names[:4], ["bin", "bin/busybox", "bin/sh", "dev/console"])
        by_name = {e[0]: e for e in entries}
        self.assertEqual(by_name["bin"][1], stat.S_IFDIR | 0o755)
        self.assertEqual(by_name["bin/busybox"][1], stat.S_IFREG | 0o755)
        self.assertEqual(by_name["bin/busybox"][3], b"\x7fELF" + bytes(range(256)) * 3)
        self.assertEqual(by_name["bin/sh"][1], stat.S_IFLNK | 0o777)
        self.assertEqual(by_name["bin/sh"][3], b"busybox")
        self.assertEqual(by_name["dev/console"][1], stat.S_IFCHR | 0o600)
        self.assertEqual(by_name["dev/console"][2], (5, 1))
        for length in range(1, 9):
            self.assertEqual(by_name["f" * length][3], b"x" * length)
        self.assertEqual(by_name["empty"][3], b"")

    def test_same_input_same_bytes(self):
        def build():
            cpio = demo.CpioWriter()
            cpio.file("a", b"1")
            return cpio.finish()
        self.assertEqual(build(), build())


class InitramfsTest(unittest.TestCase):
    def setUp(self):
        self.modules = {"evdev": b"EVDEV", "button": b"BUTTON"}
        archive = demo.initramfs(b"BUSYBOX", self.modules, ["evdev", "button"],
                                 "6.1.0-99-amd64", "1.35.0")
        self.entries = read_newc(archive)
        self.files = {name: (mode, body) for name, mode, _, body in self.entries}

    def test_parents_come_first(self):
        seen = set()
        for name, *_ in self.entries:
            parent = os.path.dirname(name)
            self.assertTrue(not parent or parent in seen, f"{name} before {parent}")
            seen.add(name)

    def test_boot_essentials(self):
        mode, body = self.files["init"]
        self.assertEqual(mode, stat.S_IFREG | 0o755)
        self.assertTrue(body.startswith(b"#!/bin/sh\n"))
        self.assertIn(b"busybox --install -s /bin", body)
        self.assertEqual(self.files["bin/sh"], (stat.S_IFLNK | 0o777, b"busybox"))
        self.assertEqual(self.files["bin/busybox"], (stat.S_IFREG | 0o755, b"BUSYBOX"))
        self.assertIn("dev/console", self.files)
        for script in ("etc/demo/shell", "etc/demo/shutdown", "etc/acpi/PWRF/00000080"):
            self.assertEqual(self.files[script][0], stat.S_IFREG | 0o755, script)
            self.assertTrue(self.files[script][1].startswith(b"#!/bin/sh\n"), script)

    def test_modules_in_order(self):
        self.assertEqual(self.files["lib/modules/order"][1], b"evdev\nbutton\n")
        for name, data in self.modules.items():
            self.assertEqual(self.files[f"lib/modules/{name}.ko"][1], data)

    def test_shells_and_power_button(self):
        inittab = self.files["etc/inittab"][1].decode()
        self.assertIn("tty1::respawn:/etc/demo/shell", inittab)
        self.assertIn("ttyS0::respawn:/etc/demo/shell", inittab)
        self.assertIn("setsid -c sh -l", self.files["etc/demo/shell"][1].decode())
        self.assertEqual(self.files["etc/acpid.conf"][1], b"PWRF PWRF/00000080\n")
        self.assertIn(b"poweroff", self.files["etc/acpi/PWRF/00000080"][1])

    def test_greeting_fits_the_console(self):
        motd = self.files["etc/motd"][1].decode()
        self.assertIn(demo.BANNER_TITLE, motd)
        self.assertIn("6.1.0-99-amd64", motd)
        self.assertIn("poweroff", motd)
        for line in motd.splitlines():
            visible = line.replace("\033[1;36m", "").replace("\033[0m", "")
            self.assertLess(len(visible), demo.CONSOLE_COLUMNS, repr(line))


class ProtocolTest(unittest.TestCase):
    def test_machine_lines_parse_back(self):
        out = io.StringIO()
        report = demo.MachineReport(out)
        report.progress(0.0, "Checking which Linux kernel Debian provides")
        report.progress(0.354, "Downloading Debian's Linux kernel (linux-image-x, 70 MB)")
        report.progress(0.354, "Downloading Debian's Linux kernel (linux-image-x, 70 MB)")
        report.warning("offline\nusing the old one")
        report.result("kernel", "/home/a b/vmlinuz")
        report.result("cmdline", "console=tty0 quiet")
        report.done()
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 6, "a repeated progress line is sent once")
        parsed = [demo.parse_line(line) for line in lines]
        self.assertEqual(parsed[1], ("progress", (0.35, "Downloading Debian's Linux kernel "
                                                        "(linux-image-x, 70 MB)")))
        self.assertEqual(parsed[2], ("warning", "offline using the old one"))
        self.assertEqual(parsed[3], ("kernel", "/home/a b/vmlinuz"))
        self.assertEqual(parsed[4], ("cmdline", "console=tty0 quiet"))
        self.assertEqual(parsed[5], ("done", None))

    def test_parse_rejects_broken_lines(self):
        for line in ("", "progress", "progress x text", "progress 1.5 text", "progress 0.5",
                     "progress -0.1 text", "done now", "kernel", "error"):
            with self.assertRaises(ValueError, msg=repr(line)):
                demo.parse_line(line)
        self.assertEqual(demo.parse_line("memory 256M\n"), ("memory", "256M"),
                         "unknown keywords are returned for the reader to ignore")

    def test_plan_fractions_grow(self):
        out = io.StringIO()
        plan = demo.Plan(demo.MachineReport(out), [("a", 1), ("b", 70), ("c", 0), ("d", 29)])
        for step, fraction in (("a", 1), ("b", 0), ("b", 0.5), ("b", 1), ("c", 1), ("d", 1)):
            plan.progress(step, fraction, step)
        fractions = [demo.parse_line(line)[1][0] for line in out.getvalue().splitlines()]
        self.assertEqual(fractions, [0.01, 0.01, 0.36, 0.71, 0.71, 1.0])

    def test_human_report_keeps_stdout_for_results(self):
        err, out = io.StringIO(), io.StringIO()
        report = demo.HumanReport(err, out)
        report.progress(0.5, "Downloading BusyBox")
        report.progress(1.0, "The demo machine is ready")
        report.result("kernel", "/k")
        self.assertEqual(out.getvalue(), "", "results come after the progress")
        report.done()
        self.assertEqual(out.getvalue(), "kernel /k\n")
        self.assertEqual(err.getvalue(), "Downloading BusyBox… 50%\nThe demo machine is ready.\n")


# --- the program, with fake apt tools ------------------------------------------

FAKE_APT_CACHE_OK = """\
#!/bin/sh
# apt-cache show --no-all-versions PACKAGE...
shift 2
for p in "$@"; do
  case $p in
  linux-image-amd64) printf 'Package: linux-image-amd64\\nVersion: 6.1.99-1\\nDepends: linux-image-6.1.0-99-amd64 (= 6.1.99-1)\\nSize: 1480\\n\\n' ;;
  linux-image-6.1.0-99-amd64) printf 'Package: %s\\nVersion: 6.1.99-1\\nSize: 70000000\\n\\n' "$p" ;;
  busybox-static) printf 'Package: busybox-static\\nVersion: 1:1.35.0-4\\nSize: 928188\\n\\n' ;;
  esac
done
"""

FAKE_APT_CACHE_NO_LISTS = """\
#!/bin/sh
echo "E: No packages found" >&2
exit 100
"""

FAKE_APT_GET_OFFLINE = """\
#!/bin/sh
echo "W: Some index files failed to download" >&2
echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/l/linux-signed-amd64/x.deb  Temporary failure resolving 'deb.debian.org'" >&2
exit 100
"""


class ProgramTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="vessel-demo-test-")
        self.addCleanup(self.tmp.cleanup)
        self.bin = os.path.join(self.tmp.name, "bin")
        os.mkdir(self.bin)
        self.cache = os.path.join(self.tmp.name, "cache")

    def fake(self, name, text):
        path = os.path.join(self.bin, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)

    def run_script(self, *args, **kwargs):
        env = dict(os.environ, PATH=self.bin + os.pathsep + os.environ["PATH"])
        return subprocess.run([sys.executable, SCRIPT, "--machine", "--cache", self.cache, *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, timeout=60, **kwargs)

    def populate_cache(self):
        """What an earlier run leaves: an unpacked kernel and busybox."""
        kernel = os.path.join(self.cache, "kernel", "linux-image-6.1.0-99-amd64")
        os.makedirs(os.path.join(kernel, "modules"))
        for name, data in (("vmlinuz", b"KERNEL"), ("config", b""), ("package", b"x 1\n"),
                           ("modules/order", b"evdev\n"), ("modules/evdev.ko", b"EVDEV")):
            with open(os.path.join(kernel, name), "wb") as f:
                f.write(data)
        busybox = os.path.join(self.cache, "busybox", "1%3a1.35.0-4", "bin")
        os.makedirs(busybox)
        with open(os.path.join(busybox, "busybox"), "wb") as f:
            f.write(b"BUSYBOX")
        with open(os.path.join(busybox, "..", "package"), "w") as f:
            f.write("busybox-static 1:1.35.0-4\n")
        return kernel

    def assert_error(self, result, *fragments):
        report = f"status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        self.assertEqual(result.returncode, 1, report)
        self.assertNotIn("Traceback", result.stderr, report)
        last = result.stdout.splitlines()[-1]
        keyword, message = demo.parse_line(last)
        self.assertEqual(keyword, "error", report)
        self.assertTrue(message[0].isupper() and message.endswith("."), report)
        for fragment in fragments:
            self.assertIn(fragment, message, report)

    def test_cache_not_writable(self):
        self.fake("apt-cache", FAKE_APT_CACHE_OK)
        with open(self.cache, "w"):
            pass                          # a file where the directory should be
        self.assert_error(self.run_script(), "Check that you may write to " + self.cache)

    def test_help(self):
        result = subprocess.run([sys.executable, SCRIPT, "--help"], stdout=subprocess.PIPE,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 0)
        for word in ("--cache", "--human", "progress FRACTION TEXT", "docs/demo.md"):
            self.assertIn(word, result.stdout)

    def test_no_package_lists(self):
        self.fake("apt-cache", FAKE_APT_CACHE_NO_LISTS)
        self.assert_error(self.run_script(), "sudo apt-get update")
        self.assertEqual(sorted(os.listdir(self.cache)), [".lock"], "nothing half-made is left")

    def test_offline(self):
        self.fake("apt-cache", FAKE_APT_CACHE_OK)
        self.fake("apt-get", FAKE_APT_GET_OFFLINE)
        result = self.run_script()
        self.assert_error(result, "online", "linux-image-6.1.0-99-amd64")
        self.assertIn("progress 0.00 Checking which Linux kernel Debian provides",
                      result.stdout.splitlines())
        self.assertTrue(any(line.startswith("progress ") and "Downloading Debian's Linux "
                            "kernel (linux-image-6.1.0-99-amd64, 70 MB)" in line
                            for line in result.stdout.splitlines()), result.stdout)
        self.assertEqual(os.listdir(os.path.join(self.cache, "kernel")), [],
                         "the temporary download directory is removed")

    def test_cached_run_builds_once_and_rebuilds_on_change(self):
        self.fake("apt-cache", FAKE_APT_CACHE_OK)
        self.fake("apt-get", "#!/bin/sh\necho 'apt-get must not run' >&2\nexit 1\n")
        kernel = self.populate_cache()
        # Leftovers of a killed run are removed.
        os.makedirs(os.path.join(self.cache, "kernel", ".tmp-killed", "unpacked"))
        first = self.run_script()
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        lines = dict(demo.parse_line(line) for line in first.stdout.splitlines()
                     if not line.startswith("progress"))
        self.assertEqual(lines["kernel"], os.path.join(kernel, "vmlinuz"))
        self.assertEqual(lines["cmdline"], demo.CMDLINE)
        self.assertFalse(os.path.exists(os.path.join(self.cache, "kernel", ".tmp-killed")))
        self.assertIn("Building", first.stdout)
        with open(lines["initrd"], "rb") as f:
            entries = {e[0]: e for e in read_newc(gzip.decompress(f.read()))}
        self.assertEqual(entries["bin/busybox"][3], b"BUSYBOX")
        self.assertEqual(entries["lib/modules/evdev.ko"][3], b"EVDEV")

        second = self.run_script()
        self.assertEqual(second.returncode, 0)
        self.assertNotIn("Building", second.stdout)
        self.assertEqual(second.stdout.splitlines()[-4:], first.stdout.splitlines()[-4:])

        with open(os.path.join(self.cache, "busybox", "1%3a1.35.0-4", "bin", "busybox"), "wb") as f:
            f.write(b"NEWER BUSYBOX")
        third = self.run_script()
        self.assertIn("Building", third.stdout)
        with open(lines["initrd"], "rb") as f:
            entries = {e[0]: e for e in read_newc(gzip.decompress(f.read()))}
        self.assertEqual(entries["bin/busybox"][3], b"NEWER BUSYBOX")

    def test_no_lists_uses_the_cache(self):
        self.fake("apt-cache", FAKE_APT_CACHE_NO_LISTS)
        self.populate_cache()
        result = self.run_script()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        warnings = [demo.parse_line(line)[1] for line in result.stdout.splitlines()
                    if line.startswith("warning ")]
        self.assertEqual(len(warnings), 1, result.stdout)
        self.assertIn("downloaded earlier", warnings[0])
        self.assertEqual(demo.sentence(warnings[0]), warnings[0], "a sentence")

    def test_waits_for_the_lock(self):
        self.fake("apt-cache", FAKE_APT_CACHE_OK)
        self.populate_cache()
        with open(os.path.join(self.cache, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            env = dict(os.environ, PATH=self.bin + os.pathsep + os.environ["PATH"])
            proc = subprocess.Popen([sys.executable, SCRIPT, "--machine", "--cache", self.cache],
                                    stdout=subprocess.PIPE, text=True, env=env)
            self.addCleanup(proc.stdout.close)
            first = proc.stdout.readline()
            self.assertEqual(demo.parse_line(first)[0], "progress")
            self.assertIn("Waiting for another preparation", first)
            self.assertIsNone(proc.poll())
        rest = proc.stdout.read()
        proc.wait(60)
        self.assertEqual(proc.returncode, 0)
        self.assertTrue(rest.endswith("done\n"), rest)

    def test_sigterm_cancels_cleanly(self):
        """The app's Cancel during a download: apt-get is ended, its
        temporary directory removed, and the last line says so."""
        self.fake("apt-cache", FAKE_APT_CACHE_OK)
        started = os.path.join(self.tmp.name, "apt-get.pid")
        self.fake("apt-get", f"#!/bin/sh\necho $$ > {started}.tmp; mv {started}.tmp {started}\n"
                             "exec sleep 60\n")
        env = dict(os.environ, PATH=self.bin + os.pathsep + os.environ["PATH"])
        proc = subprocess.Popen([sys.executable, SCRIPT, "--machine", "--cache", self.cache],
                                stdout=subprocess.PIPE, text=True, env=env)
        self.addCleanup(proc.stdout.close)
        deadline = time.monotonic() + 30
        while not os.path.exists(started):
            self.assertLess(time.monotonic(), deadline, "apt-get was not started")
            time.sleep(0.05)
        with open(started) as f:
            apt_pid = int(f.read())
        self.assertTrue(glob.glob(os.path.join(self.cache, "kernel", ".tmp-*")))
        proc.terminate()
        output = proc.stdout.read()
        proc.wait(30)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(demo.parse_line(output.splitlines()[-1]),
                         ("error", "The preparation was cancelled."))
        with self.assertRaises(ProcessLookupError, msg="apt-get still runs"):
            os.kill(apt_pid, 0)
        self.assertEqual(glob.glob(os.path.join(self.cache, "*", ".tmp-*")), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
