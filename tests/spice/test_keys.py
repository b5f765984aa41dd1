#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Keys (and the mouse) sent by a SPICE client reach the guest's i8042.

Starts tests/guests/keyboard.elf with a SPICE server (with a password) and
waits for "READY"; then tests/spice/spice-keys connects with the password,
waits for the inputs channel and sends the set 1 codes of
`a shift+b Return Escape`: 1E 9E 2A 30 B0 AA 1C 9C 01 81 (b released
before shift, as a hand does).  The guest must print exactly these
`SC xx` lines and the matching `KEY` lines (the expectations of
tests/display-guests/test_keyboard.py) and pass on the Escape release with
exit status 65.

Every SPICE client reports its lock keys when the inputs channel opens,
and the server presses Scroll, Num or Caps Lock (in that order) for the
guest wherever the guest's keyboard LEDs differ.  The guest turns all
three LEDs on (ED 07); by default spice-keys reports all three on, so
nothing may come before the keys: the VMM must tell the server the LEDs
the guest set.  --locks none reports all three off, as a client on a host
with no lock on: the guest must first get exactly 46 C6 45 C5 3A BA.

--extended also sends Up and right Ctrl before the Escape (E0 48, E0 C8,
E0 1D, E0 9D): the guest must get the E0 prefix before each.

--mouse also sets up the guest's PS/2 mouse (mouse=1): the client first
moves the pointer 10 right and 5 up (SPICE's y grows downwards: motion
10,-5) and clicks the left button; the guest's MOUSE packets must add up
to dx 10, dy 5 with the buttons going 0, 1, 0.

Exit status: 0 if every expectation held, 1 otherwise (77: skipped).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spicetest import (run_test, PASS_STATUS, READY_TIMEOUT_S, SpiceGuest,  # noqa: E402
                       TestFailure, argument_parser, new_password,
                       spice_keys, verdict)
import test_keyboard  # noqa: E402  (tests/display-guests, on the path via spicetest)

# Press and release codes in the order sent; the release of shift+b in
# reverse order, which is test_keyboard's "qmp" expectation.  Each entry:
# (what spice-keys sends, the SC lines, the KEY line).
KEY_ORDER = "qmp"
KEYS = [(code.lower(), [code], key) for code, key in test_keyboard.expected(KEY_ORDER)]

# --extended, before the Escape: Up and right Ctrl, keys with the E0 prefix.
EXTENDED = [("e048", ["E0", "48"], "KEY Up DOWN"), ("e0c8", ["E0", "C8"], "KEY Up UP"),
            ("e01d", ["E0", "1D"], "KEY RightCtrl DOWN"),
            ("e09d", ["E0", "9D"], "KEY RightCtrl UP")]

# spice-server's order for syncing the lock keys, with the keyboard
# guest's names for keys it does not know.
LOCK_SYNC = [(None, ["46"], "KEY unknown 46 DOWN"), (None, ["C6"], "KEY unknown 46 UP"),
             (None, ["45"], "KEY unknown 45 DOWN"), (None, ["C5"], "KEY unknown 45 UP"),
             (None, ["3A"], "KEY unknown 3A DOWN"), (None, ["BA"], "KEY unknown 3A UP")]
GUEST_LEDS = "scroll,num,caps"      # the keyboard guest sends ED 07


def key_sequence(opts):
    """What spice-keys sends, Escape last (the guest passes on it)."""
    return KEYS[:-2] + (EXTENDED if opts.extended else []) + KEYS[-2:]


def expected(opts):
    """The guest's (SC lines, KEY line) for each key event, in order."""
    sync = LOCK_SYNC if opts.locks != GUEST_LEDS else []
    return [(codes, key) for _, codes, key in sync + key_sequence(opts)]


def check_serial(serial, ready_end, want):
    """Problems with the SC and KEY lines after READY."""
    problems = []
    after = serial[ready_end:]
    codes = re.findall(r"^SC ([0-9A-F]{2})$", after, re.MULTILINE)
    keys = re.findall(r"^KEY .*$", after, re.MULTILINE)
    want_codes = [c for codes, _ in want for c in codes]
    want_keys = [k for _, k in want]
    if codes != want_codes:
        problems.append(f"scan codes {' '.join(codes) or '(none)'}, "
                        f"want {' '.join(want_codes)}")
    if keys != want_keys:
        problems.append(f"key lines {keys}, want {want_keys}")
    return problems


def run(opts, workdir):
    guest = SpiceGuest(opts, workdir, opts.guest, "mouse=1" if opts.mouse else "",
                       password=new_password())
    problems = []
    ready_end = 0
    try:
        problems += guest.start()
        ready_end = guest.machine.wait_for(r"^READY$", READY_TIMEOUT_S).end()
        motion = (test_keyboard.MOUSE_DX, -test_keyboard.MOUSE_DY) if opts.mouse else None
        keys = ",".join(sent for sent, _, _ in key_sequence(opts))
        result = spice_keys(opts, guest.port, guest.passwords[-1], keys,
                            motion=motion, click=opts.mouse, locks=opts.locks,
                            allow_close=True)     # the guest exits on the Escape release
        if result.status != 0:
            problems.append(f"spice-keys failed ({result.describe()})")
        else:
            print(f"  {result.stdout.strip().splitlines()[-1]}")
        status = guest.machine.wait_exit(20)
        serial = guest.machine.serial.text()
        if status != PASS_STATUS:
            problems.append(f"exit status {status}, want {PASS_STATUS}")
        if "PASS: keyboard" not in serial or "FAIL: " in serial:
            problems.append("the guest did not print 'PASS: keyboard' (or printed FAIL:)")
        problems += check_serial(serial, ready_end, expected(opts))
        if opts.mouse:
            problems += test_keyboard.check_mouse(serial, ready_end)
        problems += guest.password_leaks()
    except (TestFailure, OSError) as e:
        problems.append(str(e))
        if guest.machine.alive():
            guest.machine.type("q")     # let the guest print what it saw
            time.sleep(1)
        if ready_end:
            problems += check_serial(guest.machine.serial.text(), ready_end,
                                     expected(opts))
    finally:
        guest.stop()
    return verdict(opts.name, problems, guest.machine, opts.verbose)


def main():
    ap = argument_parser(__doc__, "spice-keys")
    ap.add_argument("--spice-keys", required=True, help="tests/spice/spice-keys from the build")
    ap.add_argument("--mouse", action="store_true",
                    help="also move and click the PS/2 mouse (guest option mouse=1)")
    ap.add_argument("--locks", default=GUEST_LEDS, choices=[GUEST_LEDS, "none"],
                    help="the lock keys spice-keys reports (default: the "
                         "guest's LEDs, so no lock key may be synced)")
    ap.add_argument("--extended", action="store_true",
                    help="also Up and right Ctrl (E0-prefixed codes) before Escape")
    opts = ap.parse_args()
    return run_test(opts, [opts.spice_keys], run)


if __name__ == "__main__":
    sys.exit(main())
