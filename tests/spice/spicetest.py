# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the SPICE tests: a test guest on vessel-vmm (or QEMU) with a
SPICE server on a free local port, and the real clients that connect to
it (spicy-screenshot, remote-viewer, tests/spice/spice-keys).  The guest,
its serial console and the control socket come from
tests/display-guests/displaytest.py.  Python 3 standard library only."""

import argparse
import os
import secrets
import shutil
import tempfile
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "display-guests"))
from displaytest import (PASS_STATUS, Machine, Qmp, TestFailure,  # noqa: E402,F401
                         compare_image, decode_image, decode_ppm, qemu_command,
                         verdict, vessel_command)
import patterns  # noqa: E402,F401

REFRESH_SETTLE_S = 0.2     # several of vessel-vmm's 33 ms SPICE display refreshes
READY_TIMEOUT_S = 30        # QEMU's SeaBIOS alone takes seconds on the nested KVM
SPICE_TIMEOUT_S = 20        # until the server listens
CLIENT_TIMEOUT_S = 30       # one client run, start to exit


def free_port():
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_password():
    return "pw-" + secrets.token_hex(6)


class SpiceGuest:
    """A test guest with a SPICE server on 127.0.0.1:port and a control
    socket.  password: written to a password file (plus
    password_file_suffix); without one, clients need no password unless
    ticketing is asked for (then none gets in until set_password).
    x509_dir: also a TLS port (tls_port) with the certificates there;
    plain=False: the TLS port only (port is None then)."""

    def __init__(self, opts, workdir, guest, cmdline="", password=None,
                 password_file_suffix="", ticketing=False, x509_dir=None, plain=True):
        self.opts = opts
        self.port = free_port() if plain else None
        self.tls_port = free_port() if x509_dir else None
        # docs/vessel-vmm.md: spice://ADDR:PORT; with TLS the URI form
        # clients parse (spice-gtk's spice_uri): ?tls-port=T, after :PORT if any.
        self.uri = "spice://127.0.0.1" + (f":{self.port}" if self.port else "") + \
            (f"?tls-port={self.tls_port}" if self.tls_port else "")
        self.x509_dir = x509_dir
        self.passwords = [password] if password is not None else []
        self.control = os.path.join(workdir, "control.sock")
        password_file = os.path.join(workdir, "spice-password")
        if password is not None:
            with open(password_file, "w") as f:
                f.write(password + password_file_suffix)
        if opts.qemu:
            # QEMU's bochs-display has no VBE ports; the display guest uses
            # MMIO for both modes then (the keyboard guest ignores it).
            cmd = qemu_command(opts.qemu, opts.accel, guest, self.control, "bochs-display",
                               (cmdline + " ports=0").strip())
            spice = ",".join(self._ports() + ["addr=127.0.0.1"])
            if password is None and not ticketing:
                spice += ",disable-ticketing=on"
            elif password is not None:
                cmd += ["-object", f"secret,id=spicepw,file={password_file},format=raw"]
                spice += ",password-secret=spicepw"
            cmd += ["-spice", spice]
        else:
            cmd = vessel_command(opts.vmm, opts.accel, guest, self.control, cmdline)
            spice = ",".join(self._ports() + ["addr=127.0.0.1"])
            if password is None and not ticketing:
                spice += ",disable-ticketing"
            elif password is not None:
                spice += f",password-file={password_file}"
            cmd += ["--spice", spice]
        self.machine = Machine(cmd)
        self.qmp = None
        self.printed_uri = None

    def _ports(self):
        ports = [f"port={self.port}"] if self.port else []
        if self.tls_port:
            ports += [f"tls-port={self.tls_port}", f"x509-dir={self.x509_dir}"]
        return ports

    def start(self):
        """Waits for the control socket and for the SPICE server: on
        vessel-vmm its announcement on stderr (a TestFailure if there is
        none), on QEMU a listening port.  Returns the problems: a URI that
        is not the documented one (printed_uri keeps what was said)."""
        self.qmp = Qmp(self.control, alive=self.machine.alive)
        if self.opts.qemu:
            deadline = time.monotonic() + SPICE_TIMEOUT_S
            while True:
                try:
                    socket.create_connection(("127.0.0.1", self.port or self.tls_port), 1).close()
                    return []
                except OSError:
                    if time.monotonic() > deadline or not self.machine.alive():
                        raise TestFailure("nothing listens on SPICE port "
                                          f"{self.port or self.tls_port}") from None
                    time.sleep(0.1)
        said = self.machine.stderr.wait_for(r"^vessel-vmm: SPICE: connect to (.*)$",
                                            SPICE_TIMEOUT_S)
        if not said:
            raise TestFailure("no line 'vessel-vmm: SPICE: connect to spice://...' on stderr "
                              f"within {SPICE_TIMEOUT_S} s")
        self.printed_uri = said.group(1)
        if self.printed_uri != self.uri:
            return [f"the VMM printed 'connect to {self.printed_uri}', want {self.uri}"]
        return []

    def stop(self):
        if self.qmp:
            try:
                self.qmp.close()
            except OSError:
                pass
        self.machine.kill()

    def password_leaks(self):
        """Problems if a password the VMM was given shows in its output."""
        problems = []
        for text, where in ((self.machine.stderr.text(), "stderr"),
                            (self.machine.serial.text(), "the serial output")):
            for pw in self.passwords:
                if pw in text:
                    problems.append(f"the password {pw!r} appears on {where}")
        return problems

    def set_password(self, password):
        """QMP set_password, as a management tool changes it."""
        self.passwords.append(password)
        self.qmp.execute("set_password", {"protocol": "spice", "password": password})

    def rss_kib(self):
        """The VMM's resident set (VmRSS in /proc/PID/status), in KiB."""
        with open(f"/proc/{self.machine.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise TestFailure("no VmRSS in /proc/PID/status: the VMM has exited")


class ClientResult:
    def __init__(self, status, stdout, stderr):
        self.status, self.stdout, self.stderr = status, stdout, stderr

    def describe(self):
        tail = (self.stderr.strip() or self.stdout.strip()).splitlines()[-3:]
        return f"status {self.status}" + (f": {' / '.join(tail)}" if tail else "")


def run_client(cmd, timeout=CLIENT_TIMEOUT_S):
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure(f"{os.path.basename(cmd[0])} did not finish within {timeout} s") from None
    return ClientResult(r.returncode, r.stdout, r.stderr)


def screenshot(port, path, password=None):
    """spicy-screenshot to path (PPM); (ClientResult, picture or None).
    The picture is (width, height, rows) when the client wrote one."""
    if os.path.exists(path):
        os.unlink(path)
    cmd = ["spicy-screenshot", "-h", "127.0.0.1", "-p", str(port), "-o", path]
    if password is not None:
        cmd += ["-w", password]
    result = run_client(cmd)
    picture = None
    if os.path.exists(path):
        with open(path, "rb") as f:
            picture = decode_ppm(f.read())
    return result, picture


def picture_difference(picture, mode, expected_cache={}):
    """None if the picture is mode's pattern pixel for pixel."""
    width, height, expect_rows = patterns.MODES[mode]
    got_w, got_h, rows = picture
    if (got_w, got_h) != (width, height):
        return f"the picture is {got_w}x{got_h}, want {width}x{height}"
    if mode not in expected_cache:
        expected_cache[mode] = [expect_rows(y) for y in range(height)]
    return compare_image(rows, width, height, expected_cache[mode].__getitem__)


def keep_artifact(opts, src, name):
    """Copies src into --artifacts as NAME; its path, or None."""
    if not opts.artifacts or not os.path.exists(src):
        return None
    os.makedirs(opts.artifacts, exist_ok=True)
    dest = os.path.join(opts.artifacts, name)
    shutil.copyfile(src, dest)
    return dest


def spice_keys(opts, port, password=None, keys=None, motion=None, click=False, locks=None,
               allow_close=False, tls_port=None, uri=None, ca_file=None):
    """Runs spice-keys at 127.0.0.1 (port and/or tls_port) or at uri."""
    cmd = [opts.spice_keys, "--timeout-s", "20"]
    if uri:
        cmd += ["--uri", uri]
    else:
        cmd += ["--host", "127.0.0.1"]
        if port:
            cmd += ["--port", str(port)]
        if tls_port:
            cmd += ["--tls-port", str(tls_port)]
    if ca_file:
        cmd += ["--ca-file", ca_file]
    if password is not None:
        cmd += ["--password", password]
    if keys:
        cmd += ["--keys", keys]
    if motion:
        cmd += ["--motion", f"{motion[0]},{motion[1]}"]
    if click:
        cmd.append("--click")
    if locks:
        cmd += ["--locks", locks]
    if allow_close:
        cmd.append("--allow-close")
    return run_client(cmd)


def argument_parser(doc, name):
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--vmm", help="path of vessel-vmm")
    who.add_argument("--qemu", nargs="?", const="qemu-system-x86_64",
                     help="run on QEMU instead (optionally its path): -spice, "
                          "-device bochs-display, QMP")
    ap.add_argument("--guest", required=True, help="the test guest's ELF")
    ap.add_argument("--accel", default="kvm", choices=["kvm", "tcg"])
    ap.add_argument("--name", default=name)
    ap.add_argument("--artifacts", help="directory for the pictures the clients got")
    ap.add_argument("--verbose", action="store_true",
                    help="print the VMM's output even on success")
    return ap


def check_environment(opts, tools):
    """None to go on, else the exit status: 77 (skip) without /dev/kvm,
    1 when a client is missing (the packages are test dependencies)."""
    if opts.accel == "kvm" and not os.path.exists("/dev/kvm"):
        print(f"SKIP {opts.name}: no /dev/kvm")
        return 77
    for tool in tools:
        if not shutil.which(tool) and not os.access(tool, os.X_OK):
            print(f"FAIL {opts.name}: {tool} is not installed")
            return 1
    return None


def run_parts(opts, workdir, parts, ready):
    """Runs a test's parts one after the other, each on a guest of its own,
    and returns the verdict.  parts: (label, part, SpiceGuest keyword
    arguments, extra arguments); part(opts, guest, part_dir, *extra,
    problems) runs once the guest printed the line `ready` (a regex).  The
    first part with problems ends the run, its label on each problem."""
    problems = []
    guest = None
    for label, part, arguments, extra in parts:
        print(f"{label}:")
        part_dir = os.path.join(workdir, part.__name__)
        os.mkdir(part_dir)
        guest = SpiceGuest(opts, part_dir, opts.guest, **arguments)
        before = len(problems)
        try:
            problems += guest.start()
            guest.machine.wait_for(ready, READY_TIMEOUT_S)
            # What the guest drew before `ready` reaches spice-server with the
            # next display refresh (every 33 ms); a client that connects
            # sooner gets the picture before it (spicy-screenshot keeps the
            # first one). Seen once in CI: an all-black first picture.
            time.sleep(REFRESH_SETTLE_S)
            part(opts, guest, part_dir, *extra, problems)
            problems += guest.password_leaks()
        except (TestFailure, OSError) as e:
            problems.append(str(e))
        finally:
            guest.stop()
        if len(problems) > before:
            problems[before:] = [f"{label}: {p}" for p in problems[before:]]
            break
    return verdict(opts.name, problems, guest.machine, opts.verbose)


def run_test(opts, tools, run):
    """The end of every script's main(): check the clients, then run(opts,
    workdir) in a temporary directory; returns the exit status."""
    skip = check_environment(opts, tools)
    if skip is not None:
        return skip
    with tempfile.TemporaryDirectory(prefix="vessel-spice-") as workdir:
        return run(opts, workdir)
