#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The keyboard guest end to end: keys typed on the host arrive in the
guest as the right set 1 scan codes, in order, on IRQ 1.

On vessel-vmm: starts a private Xvfb, runs `vessel-vmm --display sdl ...`
on it with tests/guests/keyboard.elf, waits for "READY" on serial, finds
the SDL window with `xdotool search --pid`, gives it the input focus and
types `a shift+b Return Escape` with xdotool (XTEST, as a user's keyboard).

With --qemu: the same guest on QEMU, by default without a window and the
keys sent by QMP send-key (--input xdotool: QEMU's SDL window and
xdotool).  That proves the guest and this test while vessel-vmm lacks a
keyboard.

Either way, the serial output must hold exactly these scan codes (set 1,
as the i8042 translates them) and key names, and the guest must pass on
the Escape release with exit status 65.

--mouse also sets up the PS/2 mouse in the guest (mouse=1): first a click
grabs the pointer (the window title changes), then the pointer moves 10
right and 5 up and the left button is clicked (QMP input-send-event on
QEMU).  The guest's MOUSE packets must add up to that motion, with the
buttons going 0, 1, 0.

Exit status: 0 if every expectation held, 1 otherwise (77: skipped).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from displaytest import (PASS_STATUS, Machine, Qmp, TestFailure,  # noqa: E402
                         qemu_command, verdict, vessel_command)

READY_TIMEOUT_S = 30
WINDOW_TIMEOUT_S = 15

# What `a shift+b Return Escape` must produce: (scan code, KEY line).
# The two tools release a chord in different orders, each always the same:
# xdotool releases shift+b in the order pressed, QMP send-key in reverse.
SHIFT_B_RELEASE = {
    "xdotool": [("AA", "KEY LeftShift UP"), ("B0", "KEY b UP")],
    "qmp": [("B0", "KEY b UP"), ("AA", "KEY LeftShift UP")],
}


def expected(method):
    return [("1E", "KEY a DOWN"), ("9E", "KEY a UP"),
            ("2A", "KEY LeftShift DOWN"), ("30", "KEY b DOWN"),
            *SHIFT_B_RELEASE[method],
            ("1C", "KEY Enter DOWN"), ("9C", "KEY Enter UP"),
            ("01", "KEY Escape DOWN"), ("81", "KEY Escape UP")]


XDOTOOL_KEYS = ["a", "shift+b", "Return", "Escape"]
QMP_KEY_GROUPS = [["a"], ["shift", "b"], ["ret"], ["esc"]]

# --mouse: the pointer moves right 10 and up 5 (PS/2 dy is positive up),
# then the left button is clicked; then the keys above are typed.
MOUSE_DX, MOUSE_DY = 10, 5


def check_mouse(serial, ready_end):
    """Problems with the MOUSE lines after READY: the motion adds up to
    the move, and the buttons go 0 (moving), 1 (pressed), 0 (released)."""
    packets = [(int(b), int(dx), int(dy)) for b, dx, dy in
               re.findall(r"^MOUSE (\d+) (-?\d+) (-?\d+)$", serial[ready_end:], re.MULTILINE)]
    dx = sum(p[1] for p in packets)
    dy = sum(p[2] for p in packets)
    buttons = []
    for b, _, _ in packets:
        if not buttons or buttons[-1] != b:
            buttons.append(b)
    problems = []
    if (dx, dy) != (MOUSE_DX, MOUSE_DY):
        problems.append(f"mouse motion adds up to ({dx},{dy}), want ({MOUSE_DX},{MOUSE_DY}); "
                        f"packets {packets}")
    if buttons != [0, 1, 0]:
        problems.append(f"mouse button states {buttons}, want [0, 1, 0]; packets {packets}")
    return problems


def check_serial(serial, ready_end, method):
    """Problems with what the guest printed after READY."""
    problems = []
    want = expected(method)
    after = serial[ready_end:]
    codes = re.findall(r"^SC ([0-9A-F]{2})$", after, re.MULTILINE)
    keys = re.findall(r"^KEY .*$", after, re.MULTILINE)
    want_codes = [c for c, _ in want]
    want_keys = [k for _, k in want]
    if codes != want_codes:
        problems.append(f"scan codes {' '.join(codes) or '(none)'}, "
                        f"want {' '.join(want_codes)}")
    if keys != want_keys:
        problems.append(f"key lines {keys}, want {want_keys}")
    return problems


def find_window(env, pid, title, timeout):
    """The VMM's visible window: by its process (SDL sets _NET_WM_PID), or
    by a title regex if one is given."""
    how = ["--name", title] if title else ["--pid", str(pid)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(["xdotool", "search", "--onlyvisible", *how], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ids = r.stdout.split()
        if ids:
            return ids[0]
        time.sleep(0.2)
    raise TestFailure(f"no visible X window of {' '.join(how)} within {timeout} s")


def xdotool(env, *args):
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=10)


def window_name(env, window):
    return subprocess.run(["xdotool", "getwindowname", window], env=env, timeout=10,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def grab_pointer(env, window):
    """Clicks into the window until its title changes (it shows the
    pointer grab), so that the motion that follows is the guest's.  A
    click that SDL takes for the focusing click is dropped (SDL's
    MOUSE_FOCUS_CLICKTHROUGH), as it is for a user, who clicks again."""
    before = window_name(env, window)
    for _ in range(3):
        xdotool(env, "mousemove", "--window", window, "40", "40")
        xdotool(env, "click", "1")
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            if window_name(env, window) != before:
                return
            time.sleep(0.1)
    raise TestFailure(f"the window title stayed {before!r} after three clicks: no pointer grab")


def type_with_xdotool(display, pid, title, mouse):
    env = dict(os.environ, DISPLAY=display)
    window = find_window(env, pid, title, WINDOW_TIMEOUT_S)
    # No window manager under Xvfb: focus the window directly, then type
    # through XTEST (events sent with --window are marked synthetic).
    xdotool(env, "windowfocus", "--sync", window)
    if mouse:

        # The first click grabs the pointer (the guest never sees it);
        # then relative motion and a click for the guest.
        grab_pointer(env, window)
        xdotool(env, "mousemove_relative", "--", str(MOUSE_DX), str(-MOUSE_DY))
        time.sleep(0.3)
        xdotool(env, "click", "1")
        time.sleep(0.3)
    for key in XDOTOOL_KEYS:
        subprocess.run(["xdotool", "key", "--delay", "50", key], env=env,
                       check=True, timeout=10)
        time.sleep(0.1)


def type_with_qmp(qmp, mouse):
    if mouse:
        # QMP's y axis points down, as on the screen.
        qmp.execute("input-send-event", {"events": [
            {"type": "rel", "data": {"axis": "x", "value": MOUSE_DX}},
            {"type": "rel", "data": {"axis": "y", "value": -MOUSE_DY}}]})
        time.sleep(0.2)
        for down in (True, False):
            qmp.execute("input-send-event", {"events": [
                {"type": "btn", "data": {"button": "left", "down": down}}]})
            time.sleep(0.2)
    for group in QMP_KEY_GROUPS:
        qmp.execute("send-key", {"keys": [{"type": "qcode", "data": k} for k in group]})
        time.sleep(0.3)     # send-key releases after its hold time (100 ms)


def start_xvfb():
    """(process, DISPLAY) of a private Xvfb on a free display number (Xvfb
    picks one with -displayfd): the VMM and xdotool must share it, which
    `xvfb-run` alone does not offer to a second client."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                             "1024x768x24", "-nolisten", "tcp"],
                            pass_fds=[write_fd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write_fd)
    number = b""
    with os.fdopen(read_fd, "rb") as f:
        number = f.readline().strip()
    if not number.isdigit():
        proc.kill()
        proc.wait()
        raise TestFailure("Xvfb did not start (no display number on -displayfd)")
    return proc, f":{number.decode()}"


def run(opts, workdir):
    control = os.path.join(workdir, "control.sock")
    xvfb = None
    env = None
    window = "sdl" if opts.input == "xdotool" else "none"
    cmdline = "mouse=1" if opts.mouse else ""
    if window == "sdl":
        xvfb, display = start_xvfb()
        env = {"DISPLAY": display}
    if opts.qemu:
        # An SDL window needs a graphics console to show.
        device = "VGA" if window == "sdl" else None
        cmd = qemu_command(opts.qemu, opts.accel, opts.guest, control, device, cmdline,
                           display=window)
    else:
        cmd = vessel_command(opts.vmm, opts.accel, opts.guest, control, cmdline,
                             display=window)
    machine = Machine(cmd, env=env)
    problems = []
    try:
        qmp = Qmp(control, alive=machine.alive)
        ready = machine.wait_for(r"^READY$", READY_TIMEOUT_S)
        if opts.input == "qmp":
            type_with_qmp(qmp, opts.mouse)
        else:
            type_with_xdotool(display, machine.proc.pid, opts.window_title, opts.mouse)
        status = machine.wait_exit(20)
        serial = machine.serial.text()
        if status != PASS_STATUS:
            problems.append(f"exit status {status}, want {PASS_STATUS}")
        if "PASS: keyboard" not in serial or "FAIL: " in serial:
            problems.append("the guest did not print 'PASS: keyboard' (or printed FAIL:)")
        problems += check_serial(serial, ready.end(), opts.input)
        if opts.mouse:
            problems += check_mouse(serial, ready.end())
        qmp.close()
    except (TestFailure, OSError, subprocess.SubprocessError) as e:
        problems.append(str(e))
        if machine.proc.poll() is None:
            machine.type("q")   # let the guest print what it saw
            time.sleep(1)
        problems += check_serial(machine.serial.text(),
                                 machine.serial.text().find("READY"), opts.input)
    finally:
        machine.kill()
        if xvfb:
            xvfb.kill()
            xvfb.wait()
    return verdict(opts.name, problems, machine, opts.verbose)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--vmm", help="path of vessel-vmm")
    who.add_argument("--qemu", nargs="?", const="qemu-system-x86_64",
                     help="run on QEMU instead (optionally its path); keys by QMP send-key")
    ap.add_argument("--guest", required=True, help="keyboard.elf")
    ap.add_argument("--accel", default="kvm", choices=["kvm", "tcg"])
    ap.add_argument("--name", default="keyboard")
    ap.add_argument("--input", choices=["xdotool", "qmp"],
                    help="how keys are typed: xdotool into an SDL window under "
                         "Xvfb (default on vessel-vmm) or QMP send-key without "
                         "a window (default on QEMU)")
    ap.add_argument("--window-title",
                    help="find the window by this regex (xdotool search "
                         "--name) instead of by the VMM's process ID")
    ap.add_argument("--mouse", action="store_true",
                    help="also set up the PS/2 mouse (guest option mouse=1), "
                         "move it and click, and check the packets")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()
    if opts.accel == "kvm" and not os.path.exists("/dev/kvm"):
        print(f"SKIP {opts.name}: no /dev/kvm")
        return 77
    if opts.input is None:
        opts.input = "qmp" if opts.qemu else "xdotool"
    if opts.input == "xdotool":
        for tool in ("Xvfb", "xdotool"):
            if not shutil.which(tool):
                print(f"FAIL {opts.name}: {tool} is not installed")
                return 1
    with tempfile.TemporaryDirectory(prefix="vessel-keyboard-") as workdir:
        return run(opts, workdir)


if __name__ == "__main__":
    sys.exit(main())
