#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The display guest in the SDL window: what the guest draws is what the
window shows on the X server, pixel for pixel, and a mode change resizes
the window.

Starts tests/guests/display.elf with --display sdl under a private Xvfb.
The guest sets its mode first and draws afterwards (seconds on the nested
KVM), so most of the picture reaches the window through the dirty log of
video memory (KVM) or the software CPU's write tracking, not through the
full upload after a mode change.  At each "READY WxH" the window must have
the guest's size and, read back from the X server with xwd, show the
pattern of tests/display-guests/patterns.py exactly.  Then 'n' (800x600
RGB565: the window must grow).  Last, the window is closed as a window
manager closes it (WM_DELETE_WINDOW, sent by --close-helper): with no ACPI
to ask the guest, the VMM must say so and switch the machine off, status 0.

Exit status: 0 if every expectation held, 1 otherwise.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from xshot import xwd_rows  # noqa: E402
from displaytest import (Machine, TestFailure, compare_image,  # noqa: E402
                         verdict, vessel_command)
import patterns  # noqa: E402
import test_keyboard  # noqa: E402

SETTLE_TIMEOUT_S = 10


def capture(env, window):
    dump = subprocess.run(["xwd", "-silent", "-id", window], env=env, check=True,
                          stdout=subprocess.PIPE, timeout=20).stdout
    return xwd_rows(dump)


def check_window(env, window, mode):
    """None once the window shows mode's picture (it may take a few
    refreshes), else the last difference seen."""
    width, height, expect_rows = patterns.MODES[mode]
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    difference = None
    while time.monotonic() < deadline:
        got_w, got_h, rows = capture(env, window)
        if (got_w, got_h) != (width, height):
            difference = f"the window is {got_w}x{got_h}, want {width}x{height}"
        else:
            difference = compare_image(rows, width, height, expect_rows)
            if difference is None:
                return None
        time.sleep(0.3)
    return difference


def run(opts, workdir):
    control = os.path.join(workdir, "control.sock")
    xvfb, display = test_keyboard.start_xvfb()
    env = dict(os.environ, DISPLAY=display)
    # The guest draws 300 ms after each mode change: the window's refresh of
    # the new, blank mode comes first, the picture through dirty tracking.
    machine = Machine(vessel_command(opts.vmm, opts.accel, opts.guest, control,
                                     cmdline="draw_delay_ms=300", display="sdl"),
                      env={"DISPLAY": display})
    problems = []
    try:
        window = None
        start = 0
        for key, mode in ((None, "640x480"), ("n", "800x600")):
            if key:
                machine.type(key)
            start = machine.wait_for(rf"^READY {mode}$", 60, start).end()
            if window is None:
                window = test_keyboard.find_window(env, machine.proc.pid, None, 30)
            difference = check_window(env, window, mode)
            if difference:
                problems.append(f"{mode}: {difference}")
            else:
                print(f"  {mode}: the window shows the guest's picture pixel for pixel")
        subprocess.run([opts.close_helper, window], env=env, check=True, timeout=10)
        machine.expect_exit(0, 20, " after the window was closed")
        if "window closed: switching the machine off" not in machine.stderr.text():
            problems.append("closing the window did not say that it switches the machine off")
    except TestFailure as failure:
        problems.append(str(failure))
    finally:
        machine.kill()
        xvfb.kill()
        xvfb.wait()
    return verdict(opts.name, problems, machine)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vmm", required=True)
    parser.add_argument("--accel", default="kvm")
    parser.add_argument("--guest", required=True, help="tests/guests/display.elf")
    parser.add_argument("--name", default="window")
    parser.add_argument("--close-helper", required=True,
                        help="tests/display/x-close-window from the build")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vessel-window-") as workdir:
        return run(opts, workdir)


if __name__ == "__main__":
    sys.exit(main())
