#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""remote-viewer (virt-viewer) shows the guest, as a user would see it.

Starts tests/guests/display.elf with a SPICE server (with a password) and
a private Xvfb; once the guest prints "READY 640x480", `remote-viewer`
opens a connection file (.vv: host, port, password) on that X server.
Its window (found with `xdotool search --pid`) is read back with
`xwd -id` until the guest's colour bars show: a row holding the eight
bars one after the other, each an exact run of 80 pixels of its colour
(the window also has a menu bar and a toolbar, so the bars are searched
for anywhere), in 240 rows one under the other at the same place, so the
picture is neither scaled nor torn; there, the whole guest picture must
equal the pattern of tests/display-guests/patterns.py pixel for pixel.
Then 'n': the guest switches to
800x600 RGB565, and the same, already connected viewer must show the new
bars (100 pixels each, 300 rows; the primary surface was re-created for a
connected client).  Then 'q': exit status 65.

Every capture that is checked is kept as a PNG in --artifacts
(NAME-640x480.png, NAME-800x600.png), to look at.

Exit status: 0 if every expectation held, 1 otherwise (77: skipped).
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spicetest import (run_test, PASS_STATUS, READY_TIMEOUT_S, SpiceGuest,  # noqa: E402
                       TestFailure, argument_parser, new_password,
                       patterns, picture_difference, verdict)
from orphans import die_with_parent  # noqa: E402
import test_keyboard  # noqa: E402
from xshot import encode_png, xwd_rows  # noqa: E402

SHOW_TIMEOUT_S = 30     # remote-viewer's start, connection and first frames

# mode: (bar width, bar height, the 8 colours as 0xRRGGBB on the screen)
BARS = {
    "640x480": (80, 240, patterns.BARS_RGB32),
    "800x600": (100, 300, [patterns.expand_rgb565(w) for w in patterns.BARS_RGB565]),
}


def find_bars(rows, mode):
    """(x, y, rows_found): where the bars start and in how many rows, one
    under the other from there; None if no row holds them."""
    width, height, colours = BARS[mode]
    want = b"".join(bytes([c >> 16, (c >> 8) & 0xFF, c & 0xFF]) * width for c in colours)
    for y, row in enumerate(rows):
        x3 = row.find(want)
        while x3 >= 0 and x3 % 3:
            x3 = row.find(want, x3 + 1)
        if x3 < 0:
            continue
        found = 1
        while y + found < len(rows) and rows[y + found][x3:x3 + len(want)] == want:
            found += 1
        return x3 // 3, y, found
    return None


def guest_area_difference(picture, origin, mode):
    """None if the guest's whole picture shows from origin, unscaled."""
    width, height, _ = patterns.MODES[mode]
    x, y = origin
    rows = [row[3 * x:3 * (x + width)] for row in picture[2][y:y + height]]
    if len(rows) < height or any(len(row) < 3 * width for row in rows):
        return f"the window cuts the {mode} picture at ({x},{y})"
    return picture_difference((width, height, rows), mode)


def viewer_windows(env, pid):
    """The viewer's visible windows, largest first."""
    r = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(pid)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=10)
    sized = []
    for window in r.stdout.split():
        geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, timeout=10).stdout
        values = dict(line.split("=", 1) for line in geometry.split() if "=" in line)
        if "WIDTH" in values:
            sized.append((int(values["WIDTH"]) * int(values["HEIGHT"]), window))
    return [w for _, w in sorted(sized, reverse=True)]


def capture(env, window):
    dump = subprocess.run(["xwd", "-silent", "-id", window], env=env, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=20).stdout
    return xwd_rows(dump)


def wait_for_bars(opts, env, viewer, mode, workdir):
    """Problems (none when the bars showed); keeps the last capture."""
    _, bar_height, _ = BARS[mode]
    deadline = time.monotonic() + SHOW_TIMEOUT_S
    last = "no visible window of remote-viewer"
    picture = None
    while time.monotonic() < deadline:
        if viewer.poll() is not None:
            return [f"{mode}: remote-viewer exited with status {viewer.returncode}"]
        windows = viewer_windows(env, viewer.pid)
        if windows:
            try:
                picture = capture(env, windows[0])
            except subprocess.SubprocessError:
                picture = None      # the window went away under xwd; look again
            if picture:
                found = find_bars(picture[2], mode)
                if found and found[2] == bar_height:
                    difference = guest_area_difference(picture, found[:2], mode)
                    if difference is None:
                        break
                    last = f"the bars show at ({found[0]},{found[1]}), but {difference}"
                elif found:
                    last = (f"the bars show in {found[2]} rows from ({found[0]},{found[1]}), "
                            f"want {bar_height}")
                else:
                    last = f"no row of the {picture[0]}x{picture[1]} window holds the 8 bars"
        time.sleep(0.5)
    else:
        found = None
    kept = None
    if picture and opts.artifacts:
        os.makedirs(opts.artifacts, exist_ok=True)
        kept = os.path.join(opts.artifacts, f"{opts.name}-{mode}.png")
        with open(kept, "wb") as f:
            f.write(encode_png(*picture))
    if found is None:
        return [f"{mode}: after {SHOW_TIMEOUT_S} s {last}" +
                (f" (capture kept as {kept})" if kept else "")]
    print(f"  {mode}: the {picture[0]}x{picture[1]} window shows the bars at "
          f"({found[0]},{found[1]}), {found[2]} rows, and the whole picture pixel for pixel"
          + (f"; kept as {kept}" if kept else ""))
    return []


def run(opts, workdir):
    guest = SpiceGuest(opts, workdir, opts.guest, password=new_password())
    xvfb, display = test_keyboard.start_xvfb()
    env = dict(os.environ, DISPLAY=display)
    viewer = None
    viewer_log = os.path.join(workdir, "remote-viewer.log")
    problems = []
    try:
        problems += guest.start()
        start = guest.machine.wait_for(r"^READY 640x480$", READY_TIMEOUT_S).end()
        # A connection file carries the password, as a management tool
        # hands one to the viewer (remote-viewer has no password option).
        vv = os.path.join(workdir, "guest.vv")
        with open(vv, "w") as f:
            f.write("[virt-viewer]\ntype=spice\nhost=127.0.0.1\n"
                    f"port={guest.port}\npassword={guest.passwords[-1]}\n"
                    f"title=vessel spice test\n")
        with open(viewer_log, "w") as log:
            viewer = subprocess.Popen(["remote-viewer", vv], env=env, stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=subprocess.STDOUT,
                                      preexec_fn=die_with_parent)
        problems += wait_for_bars(opts, env, viewer, "640x480", workdir)
        guest.machine.type("n")
        guest.machine.wait_for(r"^READY 800x600$", READY_TIMEOUT_S, start)
        problems += wait_for_bars(opts, env, viewer, "800x600", workdir)
        guest.machine.type("q")
        status = guest.machine.wait_exit(20)
        if status != PASS_STATUS:
            problems.append(f"exit status {status}, want {PASS_STATUS}")
        problems += guest.password_leaks()
    except (TestFailure, OSError, subprocess.SubprocessError) as e:
        problems.append(str(e))
    finally:
        if viewer and viewer.poll() is None:
            viewer.kill()
        if viewer:
            viewer.wait()
        guest.stop()
        xvfb.kill()
        xvfb.wait()
    if problems and os.path.exists(viewer_log):
        with open(viewer_log) as f:
            tail = f.read().strip().splitlines()[-10:]
        if tail:
            problems.append("remote-viewer said: " + " / ".join(tail))
    return verdict(opts.name, problems, guest.machine, opts.verbose)


def main():
    opts = argument_parser(__doc__, "spice-viewer").parse_args()
    return run_test(opts, ["remote-viewer", "Xvfb", "xdotool", "xwd"], run)


if __name__ == "__main__":
    sys.exit(main())
