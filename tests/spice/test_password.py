#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Only a client with the right SPICE password gets in.

Three runs of tests/guests/display.elf, each with a fresh local port:

1. With password-file= (on vessel-vmm the file holds the password and a
   newline, as `echo PW > F` writes it; the docs say its first line
   counts): spicy-screenshot without a password and with a wrong one must
   fail and write no picture, and spice-keys with a wrong one must exit 2
   saying the authentication failed; with the right one spicy-screenshot
   gets the guest's 640x480 pattern pixel for pixel.  Then QMP
   set_password on the control socket: the old password is refused, the
   new one works.  Neither password may show in the VMM's output.  On
   vessel-vmm set_password must also refuse an empty password and a
   protocol other than "spice" (docs/control-protocol.md).
2. Without a password file and without disable-ticketing: every client is
   refused (no password, a guess) until set_password gives one.
3. With disable-ticketing: a client without a password gets in; on
   vessel-vmm stderr must carry a warning that names disable-ticketing.

Exit status: 0 if every expectation held, 1 otherwise (77: skipped).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spicetest import (run_test, run_parts, PASS_STATUS, TestFailure,  # noqa: E402
                       argument_parser, keep_artifact, new_password, picture_difference,
                       screenshot, spice_keys)

MODE = "640x480"


# spicy-screenshot's words for SPICE_CHANNEL_ERROR_AUTH (spice-channel.h):
# a refusal for any other reason (nothing listening, a broken link) is not
# the refused password this test is after.
AUTH_ERROR = "main channel event: 23"


def expect_refused(guest, workdir, password, why, problems):
    path = os.path.join(workdir, "refused.ppm")
    result, picture = screenshot(guest.port, path, password)
    if result.status == 0 or picture is not None:
        problems.append(f"{why}: spicy-screenshot got in (status {result.status}, "
                        f"{'a' if picture else 'no'} picture), want it refused")
    elif AUTH_ERROR not in result.stderr:
        problems.append(f"{why}: spicy-screenshot failed ({result.describe()}), but not "
                        f"with the authentication error ({AUTH_ERROR!r})")
    else:
        print(f"  {why}: refused ({result.describe()})")


def expect_accepted(opts, guest, workdir, password, why, problems):
    path = os.path.join(workdir, "accepted.ppm")
    result, picture = screenshot(guest.port, path, password)
    if result.status != 0 or picture is None:
        problems.append(f"{why}: spicy-screenshot was refused ({result.describe()}), "
                        "want it let in")
        return
    difference = picture_difference(picture, MODE)
    if difference:
        kept = keep_artifact(opts, path, f"{opts.name}-{MODE}.ppm")
        problems.append(f"{why}: let in, but the picture differs: {difference}"
                        + (f" (kept as {kept})" if kept else ""))
    else:
        print(f"  {why}: let in, the picture is the guest's, pixel for pixel")


def expect_qmp_error(guest, arguments, want, problems):
    try:
        guest.qmp.execute("set_password", arguments)
        problems.append(f"set_password {arguments} succeeded, want an error saying {want!r}")
    except TestFailure as e:
        if want not in str(e):
            problems.append(f"set_password {arguments}: {e}; want an error saying {want!r}")
        else:
            print(f"  set_password {arguments} refused: {want}")


def with_password_file(opts, guest, workdir, problems):
    password = guest.passwords[0]
    expect_refused(guest, workdir, None, "no password", problems)
    expect_refused(guest, workdir, "wrong-" + password, "a wrong password", problems)
    result = spice_keys(opts, guest.port, password="wrong-" + password)
    if result.status != 2 or "authentication failed" not in result.stderr:
        problems.append(f"spice-keys with a wrong password: {result.describe()}; want "
                        "status 2 and 'authentication failed'")
    expect_accepted(opts, guest, workdir, password, "the password from the file", problems)
    second = new_password()
    guest.set_password(second)
    expect_refused(guest, workdir, password, "after set_password, the old password",
                   problems)
    expect_accepted(opts, guest, workdir, second, "after set_password, the new password",
                    problems)
    if not opts.qemu:
        expect_qmp_error(guest, {"protocol": "spice", "password": ""},
                         "must not be empty", problems)
        expect_qmp_error(guest, {"protocol": "vnc", "password": "x"},
                         "not supported", problems)
        expect_accepted(opts, guest, workdir, second,
                        "after the refused set_passwords, the password", problems)
    guest.machine.type("q")
    status = guest.machine.wait_exit(20)
    if status != PASS_STATUS:
        problems.append(f"exit status {status}, want {PASS_STATUS}")


def without_password(opts, guest, workdir, problems):
    expect_refused(guest, workdir, None, "no password set, none given", problems)
    expect_refused(guest, workdir, "guess", "no password set, a guess", problems)
    password = new_password()
    guest.set_password(password)
    expect_accepted(opts, guest, workdir, password, "the password set_password gave",
                    problems)


def without_ticketing(opts, guest, workdir, problems):
    expect_accepted(opts, guest, workdir, None, "disable-ticketing, no password", problems)
    if not opts.qemu:
        warnings = [line for line in guest.machine.stderr.text().splitlines()
                    if "disable-ticketing" in line]
        if not warnings:
            problems.append("disable-ticketing: no warning naming it on stderr")
        else:
            print(f"  disable-ticketing warned: {warnings[0]}")


def run(opts, workdir):
    # (label, part, SpiceGuest arguments); on vessel-vmm the password file
    # ends in a newline, as `echo PW > F` writes it (its first line counts).
    parts = [
        ("password-file", with_password_file,
         dict(password=new_password(), password_file_suffix="" if opts.qemu else "\n")),
        ("no password yet", without_password, dict(password=None, ticketing=True)),
        ("disable-ticketing", without_ticketing, dict(password=None, ticketing=False)),
    ]
    return run_parts(opts, workdir, [(label, part, arguments, ()) for label, part, arguments in parts],
                     rf"^READY {MODE}$")


def main():
    ap = argument_parser(__doc__, "spice-password")
    ap.add_argument("--spice-keys", required=True, help="tests/spice/spice-keys from the build")
    opts = ap.parse_args()
    return run_test(opts, ["spicy-screenshot", opts.spice_keys], run)


if __name__ == "__main__":
    sys.exit(main())
