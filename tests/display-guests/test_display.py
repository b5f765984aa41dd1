#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The display guest end to end: what the guest draws is what a screendump
shows, pixel for pixel.

Starts tests/guests/display.elf with a control socket and no window, waits
for "READY 640x480", takes a screendump through the control socket, decodes
the PNG and compares every pixel with the pattern (patterns.py); then sends
'n' on COM1, waits for "READY 800x600" (16 bpp, widened to 8 bits per
channel by bit replication) and compares again; then sends 'q' and wants
exit status 65 with "PASS: display".  A screendump that differs is kept in
--artifacts.

--flip X,Y makes the guest change the low blue bit of pixel (X,Y) in both
modes after drawing: the comparison must then find exactly that pixel, in
both modes, or this test fails.  It shows that the comparison can fail.

With --qemu the same runs on QEMU (-device bochs-display; its screendump
is asked for a PNG), to tell a guest bug from a VMM bug.

Exit status: 0 if every expectation held, 1 otherwise.
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from displaytest import (PASS_STATUS, Machine, Qmp, TestFailure,  # noqa: E402
                         compare_image, decode_image, qemu_command, verdict,
                         vessel_command)
import patterns  # noqa: E402

MODE_ORDER = ["640x480", "800x600"]
READY_TIMEOUT_S = 30    # QEMU's SeaBIOS alone takes seconds on the nested KVM


def check_mode(opts, machine, qmp, mode, workdir, problems):
    width, height, expect_rows = patterns.MODES[mode]
    path = os.path.join(workdir, f"{mode}.png")
    arguments = {"filename": path}
    if opts.qemu:
        arguments["format"] = "png"     # QEMU 7.2 writes PPM otherwise
    qmp.execute("screendump", arguments)
    got_w, got_h, rows = decode_image(path)
    if (got_w, got_h) != (width, height):
        difference = f"screendump is {got_w}x{got_h}, want {width}x{height}"
    else:
        difference = compare_image(rows, width, height, expect_rows)
    if opts.flip:
        x, y = opts.flip
        want = f"first differing pixel ({x},{y}) "
        if difference is None or not difference.startswith(want) or \
                not difference.endswith(f"; 1 of {width * height} pixels differ"):
            problems.append(f"{mode}: with pixel ({x},{y}) flipped the comparison "
                            f"says {difference!r}, want exactly that pixel")
        else:
            print(f"  {mode}: the flipped pixel was found: {difference}")
        return
    if difference:
        problems.append(f"{mode}: {difference}")
        if opts.artifacts:
            os.makedirs(opts.artifacts, exist_ok=True)
            kept = os.path.join(opts.artifacts, f"{opts.name}-{mode}.png")
            shutil.copyfile(path, kept)
            problems.append(f"{mode}: screendump kept as {kept}")
    else:
        print(f"  {mode}: all {width * height} pixels match")


def run(opts, workdir):
    control = os.path.join(workdir, "control.sock")
    cmdline = opts.cmdline
    if opts.flip:
        cmdline += f" flip_x={opts.flip[0]} flip_y={opts.flip[1]}"
    if opts.qemu:
        device = opts.qemu_device
        if device == "bochs-display":
            cmdline += " ports=0"       # QEMU's bochs-display has no VBE ports
        cmd = qemu_command(opts.qemu, opts.accel, opts.guest, control, device, cmdline.strip())
    else:
        cmd = vessel_command(opts.vmm, opts.accel, opts.guest, control, cmdline.strip())
    machine = Machine(cmd)
    problems = []
    try:
        qmp = Qmp(control, alive=machine.alive)
        offset = 0
        for i, mode in enumerate(MODE_ORDER):
            m = machine.wait_for(rf"^READY {mode}$", READY_TIMEOUT_S, offset)
            offset = m.end()
            check_mode(opts, machine, qmp, mode, workdir, problems)
            machine.type("n" if i + 1 < len(MODE_ORDER) else "q")
        status = machine.wait_exit(20)
        serial = machine.serial.text()
        if status != PASS_STATUS:
            problems.append(f"exit status {status}, want {PASS_STATUS}")
        if "PASS: display" not in serial or "FAIL: " in serial:
            problems.append("the guest did not print 'PASS: display' (or printed FAIL:)")
        qmp.close()
    except (TestFailure, OSError, ValueError) as e:
        problems.append(str(e))
    finally:
        machine.kill()
    return verdict(opts.name, problems, machine, opts.verbose)


def parse_point(text):
    x, y = text.split(",")
    return int(x), int(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--vmm", help="path of vessel-vmm")
    who.add_argument("--qemu", nargs="?", const="qemu-system-x86_64",
                     help="run on QEMU instead (optionally its path)")
    ap.add_argument("--qemu-device", default="bochs-display",
                    choices=["bochs-display", "VGA"],
                    help="QEMU's device: bochs-display (no VBE ports: the "
                         "guest gets ports=0) or VGA (class 0300, with ports)")
    ap.add_argument("--guest", required=True, help="display.elf")
    ap.add_argument("--accel", default="kvm", choices=["kvm", "tcg"])
    ap.add_argument("--name", default="display")
    ap.add_argument("--artifacts", help="directory for screendumps that differ")
    ap.add_argument("--flip", type=parse_point, metavar="X,Y",
                    help="the guest alters pixel (X,Y); the test wants the "
                         "comparison to find exactly that pixel")
    ap.add_argument("--cmdline", default="",
                    help="more guest options, e.g. ports=0 to leave out the "
                         "VBE ports 0x1ce/0x1cf")
    ap.add_argument("--verbose", action="store_true",
                    help="print the serial output even on success")
    opts = ap.parse_args()
    if opts.accel == "kvm" and not os.path.exists("/dev/kvm"):
        print(f"SKIP {opts.name}: no /dev/kvm")
        return 77
    with tempfile.TemporaryDirectory(prefix="vessel-display-") as workdir:
        return run(opts, workdir)


if __name__ == "__main__":
    sys.exit(main())
