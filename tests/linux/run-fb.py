#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boots Debian's kernel on vessel-vmm's software CPU with vessel.fbtest:
the framebuffer the VMM hands over in boot_params.screen_info must become
Linux's /dev/fb0 (fb0 with the requested size, 32 bpp), and the picture
init writes there (tests/linux/fbtest.sh) must appear pixel for pixel in a
screendump. Also checks the kernel's own log shows the framebuffer. Exits 0
when everything matched. Keeps the screendump under --artifacts.
"""

import argparse
import os
import shutil
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

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "white": (255, 255, 255),
           "yellow": (255, 255, 0), "black": (0, 0, 0), "cyan": (0, 255, 255),
           "magenta": (255, 0, 255)}
BANDS = [("red", "green"), ("blue", "white"), ("yellow", "black"), ("cyan", "magenta")]


def expected_row(width, height, y):
    """The row fbtest.sh draws at y, or None above its picture."""
    band_rows = height // 8
    band = (y - height // 2) // band_rows
    if y < height // 2 or band >= len(BANDS):
        return None
    left, right = BANDS[band]
    half = width // 2
    return bytes(COLOURS[left]) * half + bytes(COLOURS[right]) * (width - half)


# --bochs: what the console draws (fbtest.sh): 40 full blocks in VGA red.
CONSOLE_BLOCKS = 40
CONSOLE_CELL = (8, 16)
CONSOLE_RED = (0xaa, 0, 0)


def expected_console_row(width, y):
    """Rows 0..2*cell height of the screen after fbtest.sh's console drawing."""
    if y < CONSOLE_CELL[1]:
        red = CONSOLE_BLOCKS * CONSOLE_CELL[0]
        return bytes(CONSOLE_RED) * red + bytes(3) * (width - red)
    return bytes(3 * width)


def run(opts, workdir):
    guest = prepare.prepare(opts.cache_dir, bochs_modules=opts.bochs is not None)
    width, height = opts.bochs or opts.resolution
    control = os.path.join(workdir, "control.sock")
    extra_cmdline = "vessel.fbtest"
    if opts.bochs:
        # The DRM driver's fbdev takes the mode of video=, not firmware's.
        extra_cmdline += f" vessel.bochs" + (f" video={width}x{height}" if (width, height) != opts.resolution else "")
        initrd = os.path.join(workdir, "initramfs-bochs.cpio")
        with open(initrd, "wb") as out:
            for part in (guest["initrd"], guest["bochs_modules"]):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out)
        guest = dict(guest, initrd=initrd)
    machine = displaytest.Machine(linuxrun.vessel_test_command(
        opts.vmm, guest, extra_cmdline, "--control", control,
        "--resolution", "x".join(map(str, opts.resolution))))
    try:
        qmp = displaytest.Qmp(control, alive=machine.alive)
        ready = machine.wait_for(r"^VESSEL-FB-(READY|FAIL).*$", opts.timeout)
        if "FAIL" in ready.group(0):
            raise displaytest.TestFailure(ready.group(0))
        text = machine.serial.text()
        want_info = f"{width}x{height} 32 bpp, stride {width * 4}"
        if want_info not in text:
            raise displaytest.TestFailure(f"init did not report fb0 as '{want_info}'")
        if opts.bochs and ("Found bochs VGA, ID 0xb0c5" not in text or "fb0 'bochs" not in text):
            raise displaytest.TestFailure("Linux's bochs DRM driver did not take the device and fb0")
        if opts.bochs:
            first, last = 0, 2 * CONSOLE_CELL[1]
            expect = lambda y: expected_console_row(width, y)  # noqa: E731
        else:
            first, last = height // 2, height // 2 + 4 * (height // 8)
            expect = lambda y: expected_row(width, height, y)  # noqa: E731
        shot = os.path.join(workdir, "linux-bochs-drm.png" if opts.bochs else "linux-fb0.png")
        # The DRM driver's fbdev copies its shadow buffer to video memory a
        # little later (deferred I/O): allow it a few seconds.
        deadline = time.monotonic() + 10
        while True:
            qmp.execute("screendump", {"filename": shot})
            got_w, got_h, rows = displaytest.decode_png(open(shot, "rb").read())
            if (got_w, got_h) != (width, height):
                difference = f"screendump is {got_w}x{got_h}, want {width}x{height}"
            else:
                difference = displaytest.compare_image(
                    rows[first:last], width, last - first, lambda y: expect(first + y))
            if not difference or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if opts.artifacts:
            os.makedirs(opts.artifacts, exist_ok=True)
            shutil.copy(shot, os.path.join(opts.artifacts, os.path.basename(shot)))
        if difference:
            raise displaytest.TestFailure(f"rows {first}-{last - 1}: {difference}")
        machine.type("\n")
        machine.expect_exit(65, opts.timeout, " (init runs the workload after the test)")
        what = "the bochs DRM driver's console" if opts.bochs else "fb0"
        print(f"PASS: Linux {what} at {width}x{height}: rows {first}-{last - 1} match the screendump")
        return 0
    except displaytest.TestFailure as failure:
        print(f"FAIL: {failure}\n{machine.report()}")
        return 1
    finally:
        machine.kill()


def resolution(text):
    w, h = text.split("x")
    return int(w), int(h)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vmm", default=os.environ.get("VESSEL_VMM", "build/app/vessel-vmm"))
    parser.add_argument("--resolution", type=resolution, default=(1024, 768),
                        help="vessel-vmm --resolution (default: 1024x768)")
    parser.add_argument("--bochs", type=resolution, metavar="WxH",
                        help="load Linux's bochs DRM driver and have it set this mode "
                        "(video=WxH) before drawing")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--artifacts", help="keep the screendump in this directory")
    parser.add_argument("--cache-dir", help="see prepare.py --help")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vessel-fb-") as workdir:
        return run(opts, workdir)


if __name__ == "__main__":
    sys.exit(main())
