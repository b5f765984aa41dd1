#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boots Debian's kernel on vessel-vmm's software CPU with vessel.acpitest:
Linux must find the VMM's ACPI tables (FACP, DSDT, APIC in
/sys/firmware/acpi/tables), bring up every CPU from the MADT, and bind its
ACPI power button driver; then `system_powerdown` on the control socket
presses that button, busybox acpid in the guest runs `poweroff -f`, and the
VMM must exit with status 0 after the events POWERDOWN and SHUTDOWN
{"guest": true, "reason": "guest-shutdown"}. Exits 0 when all of that
happened.
"""

import argparse
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "display-guests"))
import displaytest  # noqa: E402
import linuxrun  # noqa: E402
import prepare  # noqa: E402

TestFailure = displaytest.TestFailure


class Control(displaytest.Qmp):
    """The VMM's control socket, kept open until the VMM closes it."""

    def read_until_closed(self, timeout):
        """Reads (keeping events) until the VMM closes the socket."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                line = self.file.readline()
            except socket.timeout:
                break
            if not line:
                return
            message = json.loads(line)
            if "event" in message:
                self.events.append(message)
        raise TestFailure(f"the control socket stayed open {timeout:g} s after system_powerdown")

    def event(self, name):
        return next((e for e in self.events if e["event"] == name), None)


def check_boot(text, cpus):
    """What the guest said about ACPI before the button was pressed."""
    tables = re.search(r"^vessel: ACPI tables: (.*)$", text, re.M)
    if not tables:
        raise TestFailure("init did not list /sys/firmware/acpi/tables")
    missing = {"FACP", "DSDT", "APIC"} - set(tables.group(1).split())
    if missing:
        raise TestFailure(f"Linux lacks the ACPI tables {' '.join(sorted(missing))}: {tables.group(1)}")
    online = re.search(r"^vessel: Linux \S+, (\d+) CPU\(s\)", text, re.M)
    if not online or int(online.group(1)) != cpus:
        raise TestFailure(f"init reports {online.group(1) if online else 'no'} CPU(s) online, want {cpus}")
    for want, why in (("Using ACPI (MADT) for SMP configuration", "Linux did not take its CPUs from the MADT"),
                      ("ACPI: PM: (supports S0 S5)", "Linux found no S5 (\\_S5 in the DSDT)"),
                      ("input: Power Button", "the ACPI button driver did not bind the fixed power button")):
        if want not in text:
            raise TestFailure(f"{why}: no '{want}' in the log")
    crash = next((line for line in text.splitlines() if linuxrun.CRASH.search(line)), None)
    if crash:
        raise TestFailure(f"the guest kernel crashed: {crash.strip()}")


def run(opts, workdir):
    guest = prepare.prepare(opts.cache_dir, acpi_modules=True)
    initrd = os.path.join(workdir, "initramfs-acpi.cpio")
    with open(initrd, "wb") as out:
        for part in (guest["initrd"], guest["acpi_modules"]):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    guest = dict(guest, initrd=initrd)
    control_path = os.path.join(workdir, "control.sock")
    machine = displaytest.Machine(linuxrun.vessel_test_command(
        opts.vmm, guest, "vessel.acpitest", "--control", control_path, cpus=opts.cpus))
    try:
        control = Control(control_path, timeout=30, alive=machine.alive)
        ready = machine.wait_for(r"^VESSEL-ACPI-(READY|FAIL).*$", opts.timeout)
        if "FAIL" in ready.group(0):
            raise TestFailure(ready.group(0))
        check_boot(machine.serial.text(), opts.cpus)
        pressed = time.monotonic()
        if control.execute("system_powerdown") != {}:
            raise TestFailure("system_powerdown did not reply {}")
        control.read_until_closed(60)
        status = machine.wait_exit(10)
        took = time.monotonic() - pressed
        text = machine.serial.text()
        if "VESSEL-ACPI-POWEROFF" not in text:
            raise TestFailure("acpid did not run the power button's handler")
        if not control.event("POWERDOWN"):
            raise TestFailure("no POWERDOWN event after system_powerdown")
        shutdown = control.event("SHUTDOWN")
        want = {"guest": True, "reason": "guest-shutdown"}
        if not shutdown or shutdown.get("data") != want:
            raise TestFailure(f"SHUTDOWN event {shutdown and shutdown.get('data')}, want {want}")
        if status != 0:
            raise TestFailure(f"the VMM exited with status {status}, want 0 (guest power-off)")
        if opts.verbose:
            print(text)
        print(f"PASS: Linux with {opts.cpus} CPU(s) found the ACPI tables and powered off "
              f"{took:.1f} s after system_powerdown (events POWERDOWN, SHUTDOWN guest-shutdown)")
        return 0
    except TestFailure as failure:
        print(f"FAIL: {failure}\n{machine.report()}")
        return 1
    finally:
        machine.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vmm", default=os.environ.get("VESSEL_VMM", "build/app/vessel-vmm"))
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--cache-dir", help="see prepare.py --help")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the serial console")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vessel-acpi-") as workdir:
        return run(opts, workdir)


if __name__ == "__main__":
    sys.exit(main())
