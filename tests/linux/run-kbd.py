#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boots Debian's kernel on vessel-vmm's software CPU with --display sdl
under a private Xvfb and vessel.kbdtest on its command line: a line typed
with xdotool into the SDL window must reach Linux through the PS/2 keyboard
(atkbd behind the i8042) and be read on its first virtual console, shifted
letters, digits and punctuation included. Exits 0 when init read exactly
the typed line. Keeps a screendump of the console under --artifacts.
"""

import argparse
import os
import re
import shutil
import subprocess
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
import test_keyboard  # noqa: E402

# What is typed, and what the console must read: a US layout, as Linux's default keymap.
TYPED = "Hello, Vessel 42!"


def run(opts, workdir):
    guest = prepare.prepare(opts.cache_dir)
    control = os.path.join(workdir, "control.sock")
    xvfb, display = test_keyboard.start_xvfb()
    machine = displaytest.Machine(linuxrun.vessel_test_command(
        opts.vmm, guest, "vessel.kbdtest", "--control", control, "--display", "sdl"),
        env={"DISPLAY": display})
    try:
        qmp = displaytest.Qmp(control, alive=machine.alive)
        machine.wait_for(r"^VESSEL-KBD-READY", opts.timeout)
        env = dict(os.environ, DISPLAY=display)
        window = test_keyboard.find_window(env, machine.proc.pid, None, 30)
        test_keyboard.xdotool(env, "windowfocus", "--sync", window)
        # init is already waiting in read(); the line discipline echoes and collects.
        time.sleep(0.5)
        subprocess.run(["xdotool", "type", "--delay", "60", TYPED], env=env, check=True,
                       timeout=60)
        subprocess.run(["xdotool", "key", "Return"], env=env, check=True, timeout=10)
        line = machine.wait_for(r"^VESSEL-KBD-(LINE|FAIL).*$", 60).group(0)
        if opts.artifacts:
            os.makedirs(opts.artifacts, exist_ok=True)
            qmp.execute("screendump", {"filename": os.path.join(workdir, "kbd.png")})
            shutil.copy(os.path.join(workdir, "kbd.png"),
                        os.path.join(opts.artifacts, "linux-keyboard.png"))
        got = re.match(r"VESSEL-KBD-LINE \[(.*)\]$", line)
        if not got:
            raise displaytest.TestFailure(line)
        if got.group(1) != TYPED:
            raise displaytest.TestFailure(f"tty1 read {got.group(1)!r}, typed {TYPED!r}")
        machine.expect_exit(65, opts.timeout, " (init runs the workload after the test)")
        print(f"PASS: Linux read {TYPED!r} on tty1, typed into the SDL window")
        return 0
    except displaytest.TestFailure as failure:
        print(f"FAIL: {failure}\n{machine.report()}")
        return 1
    finally:
        machine.kill()
        xvfb.kill()
        xvfb.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vmm", default=os.environ.get("VESSEL_VMM", "build/app/vessel-vmm"))
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--artifacts", help="keep a screendump of the console in this directory")
    parser.add_argument("--cache-dir", help="see prepare.py --help")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vessel-kbd-") as workdir:
        return run(opts, workdir)


if __name__ == "__main__":
    sys.exit(main())
