#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What a SPICE client receives is what the guest drew, pixel for pixel.

Starts tests/guests/display.elf with a SPICE server (password from a
password file) and waits for "READY 640x480"; then `spicy-screenshot`
(spice-client-gtk) connects with the password and must write a PPM equal
to the guest's 640x480x32 pattern (tests/display-guests/patterns.py).
Then 'n' on COM1: the guest switches to 800x600 RGB565 and prints
"READY 800x600"; a new client must get the 800x600 pattern (16 bpp
widened by bit replication), so the primary surface followed the mode
change.  Then 'q': exit status 65.

The pictures are kept in --artifacts.  A picture that differs is retried
twice (a client may connect while an update is on its way) and the test
fails if the third one still differs.

--flip X,Y makes the guest change the low blue bit of pixel (X,Y) in both
modes: the comparison must then find exactly that pixel, or this test
fails.  It shows that the comparison of what the client got can fail.

Exit status: 0 if every expectation held, 1 otherwise (77: skipped).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spicetest import (run_test, PASS_STATUS, READY_TIMEOUT_S, SpiceGuest,  # noqa: E402
                       TestFailure, argument_parser, keep_artifact,
                       new_password, picture_difference, screenshot, verdict)

ATTEMPTS = 3


def check_mode(opts, guest, mode, workdir, problems):
    path = os.path.join(workdir, f"{mode}.ppm")
    difference = None
    for attempt in range(1, ATTEMPTS + 1):
        result, picture = screenshot(guest.port, path, guest.passwords[-1])
        if result.status != 0 or picture is None:
            difference = f"spicy-screenshot failed ({result.describe()})"
        else:
            difference = picture_difference(picture, mode)
        if opts.flip and difference:
            x, y = opts.flip
            width, height = (int(n) for n in mode.split("x"))
            if difference.startswith(f"first differing pixel ({x},{y}) ") and \
                    difference.endswith(f"; 1 of {width * height} pixels differ"):
                print(f"  {mode}: the flipped pixel was found: {difference}")
                return
        if difference is None and opts.flip:
            difference = "no pixel differs, but the guest flipped one"
        if difference is None:
            break
        print(f"  {mode}: attempt {attempt}: {difference}")
        time.sleep(1)
    kept = keep_artifact(opts, path, f"{opts.name}-{mode}.ppm")
    if difference:
        problems.append(f"{mode}: {difference}" + (f" (kept as {kept})" if kept else ""))
    else:
        print(f"  {mode}: spicy-screenshot got the guest's picture, pixel for pixel"
              + (f" (attempt {attempt})" if attempt > 1 else ""))


def run(opts, workdir):
    cmdline = f"flip_x={opts.flip[0]} flip_y={opts.flip[1]}" if opts.flip else ""
    guest = SpiceGuest(opts, workdir, opts.guest, cmdline, password=new_password())
    problems = []
    try:
        problems += guest.start()
        start = 0
        for key, mode in ((None, "640x480"), ("n", "800x600")):
            if key:
                guest.machine.type(key)
            start = guest.machine.wait_for(rf"^READY {mode}$", READY_TIMEOUT_S, start).end()
            check_mode(opts, guest, mode, workdir, problems)
        guest.machine.type("q")
        status = guest.machine.wait_exit(20)
        if status != PASS_STATUS:
            problems.append(f"exit status {status}, want {PASS_STATUS}")
        problems += guest.password_leaks()
    except (TestFailure, OSError) as e:
        problems.append(str(e))
    finally:
        guest.stop()
    return verdict(opts.name, problems, guest.machine, opts.verbose)


def main():
    ap = argument_parser(__doc__, "spice-screenshot")
    ap.add_argument("--flip", type=lambda t: tuple(int(n) for n in t.split(",")),
                    metavar="X,Y", help="the guest alters pixel (X,Y); the test "
                    "wants the comparison to find exactly that pixel")
    opts = ap.parse_args()
    return run_test(opts, ["spicy-screenshot"], run)


if __name__ == "__main__":
    sys.exit(main())
