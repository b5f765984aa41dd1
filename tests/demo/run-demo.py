#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo machine as the user gets it: vessel-prepare-demo fetches and
builds it (its line protocol checked strictly; a second run must not
download or build anything), vessel-vmm boots it on the software CPU with
the command line the script gives, and then

* both shells start, each with job control (the guest says so on ttyS0);
* the screen shows the greeting: its bright cyan title in the top text
  row, the rest of the text below it (the screendump is kept under
  --artifacts as demo-greeting.png);
* a command typed on the serial console runs in the shell;
* the machine switches off and the VMM exits: with --switch-off button
  through the ACPI power button (system_powerdown; while the VMM has no
  ACPI, by typing `poweroff`), with --switch-off command by typing
  `poweroff` (without ACPI Linux can only halt: then the kernel's "System
  halted" or "Power down" is enough).

Exits 0 when all of that held; otherwise says what did not, with the end
of the serial console and of the VMM's stderr.
"""

import argparse
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from orphans import die_with_parent  # noqa: E402

TITLE = "Welcome to the Vessel demo machine"
# fbcon's bright cyan (VGA palette, colour 14) and the title's cells: the
# motd indents it by two columns of the 16x32 font.
BRIGHT_CYAN = (0x55, 0xff, 0xff)
CELL_WIDTH, CELL_HEIGHT = 16, 32
TITLE_COLUMNS = (2, 2 + len(TITLE))


class Failure(Exception):
    pass


# --- the preparation script ---------------------------------------------------

def run_prepare(script, cache):
    """Runs the script in protocol mode; checks every line; returns
    (results dict, progress texts, seconds)."""
    start = time.monotonic()
    result = subprocess.run([sys.executable, script, "--machine", "--cache", cache],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=480)
    seconds = time.monotonic() - start
    lines = result.stdout.splitlines()
    where = f"\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    if result.returncode != 0 or not lines or lines[-1] != "done":
        raise Failure(f"vessel-prepare-demo failed (status {result.returncode}){where}")
    if result.stderr.strip():
        raise Failure(f"vessel-prepare-demo wrote to stderr in protocol mode{where}")
    fraction = 0.0
    texts = []
    results = {}
    for line in lines[:-1]:
        keyword, _, rest = line.partition(" ")
        if keyword == "progress":
            number, _, text = rest.partition(" ")
            if not re.fullmatch(r"[01]\.\d\d", number) or not text:
                raise Failure(f"malformed progress line {line!r}{where}")
            if float(number) < fraction or float(number) > 1.0:
                raise Failure(f"progress went from {fraction} to {number}{where}")
            fraction = float(number)
            texts.append(text)
        elif keyword in ("kernel", "initrd", "cmdline"):
            results[keyword] = rest
        elif keyword != "warning":
            raise Failure(f"unexpected line {line!r}{where}")
    if fraction != 1.0 or set(results) != {"kernel", "initrd", "cmdline"}:
        raise Failure(f"incomplete output{where}")
    for key in ("kernel", "initrd"):
        if not os.path.isfile(results[key]):
            raise Failure(f"{key} {results[key]} does not exist{where}")
    return results, texts, seconds


# --- the VMM -------------------------------------------------------------------

class Serial:
    """Collects the VMM's stdout (COM1) in a thread."""

    def __init__(self, stream):
        self.stream = stream
        self.data = ""
        self.lock = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            chunk = self.stream.read1(4096) if hasattr(self.stream, "read1") else self.stream.read(1)
            if not chunk:
                break
            with self.lock:
                self.data += chunk.decode(errors="replace")
                self.lock.notify_all()

    def wait_for(self, pattern, timeout, alive, start=0):
        """The first match of pattern after offset start, within timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                match = re.compile(pattern, re.M).search(self.data, start)
                if match:
                    return match
                if not alive():
                    raise Failure(f"the VMM exited while waiting for {pattern!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"no {pattern!r} on the serial console after {timeout} s")
                self.lock.wait(min(left, 0.5))


class Control:
    """A small client for the QMP-shaped control socket
    (docs/control-protocol.md): JSON lines, events skipped."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise Failure(f"no control socket at {path} after {timeout} s")
                time.sleep(0.1)
        self.file = self.sock.makefile("rw", encoding="utf-8")
        greeting = json.loads(self.file.readline())
        if "QMP" not in greeting:
            raise Failure(f"control socket greeting {greeting!r}")
        self.execute("qmp_capabilities")

    def execute(self, command, **arguments):
        """The reply: {"return": ...} or {"error": ...}."""
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self.file.write(json.dumps(request) + "\n")
        self.file.flush()
        while True:
            line = self.file.readline()
            if not line:
                raise Failure(f"the control socket closed before answering {command}")
            reply = json.loads(line)
            if "return" in reply or "error" in reply:
                return reply

    def close(self):
        self.file.close()
        self.sock.close()


# --- PNG -----------------------------------------------------------------------

def decode_png(data):
    """(width, height, rows of RGB bytes) of an 8-bit RGB or RGBA PNG
    (PNG spec §11.2.2 IHDR, §9 filtering)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure("the screendump is not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if header is None:
        raise Failure("the screendump has no IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise Failure(f"unexpected PNG format: depth {depth}, colour type {colour}, "
                      f"interlace {interlace}")
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            up_left = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xff
            elif kind == 2:
                line[x] = (line[x] + up) & 0xff
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xff
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[x] = (line[x] + predictor) & 0xff
            elif kind != 0:
                raise Failure(f"PNG filter type {kind} in row {y}")
        previous = line
        rows.append(bytes(line) if channels == 3 else
                    b"".join(bytes(line[i:i + 3]) for i in range(0, stride, 4)))
    return width, height, rows


def greeting_on_screen(width, height, rows):
    """None when the screen shows the greeting, else what is missing:
    bright cyan pixels in the title's cells and nowhere else in the top
    row; grey text (the paragraph) in the next text rows; black around."""
    def pixels(y0, y1, x0, x1):
        for y in range(y0, min(y1, height)):
            row = rows[y]
            for x in range(x0, min(x1, width)):
                yield tuple(row[3 * x:3 * x + 3])

    title = list(pixels(0, CELL_HEIGHT, TITLE_COLUMNS[0] * CELL_WIDTH, TITLE_COLUMNS[1] * CELL_WIDTH))
    cyan = sum(1 for p in title if p == BRIGHT_CYAN)
    other = sum(1 for p in title if p not in (BRIGHT_CYAN, (0, 0, 0)))
    if cyan < len(title) // 20 or other > len(title) // 100:
        return (f"the title's cells hold {cyan} bright cyan and {other} other non-black "
                f"pixels of {len(title)}")
    outside = sum(1 for p in pixels(0, CELL_HEIGHT, TITLE_COLUMNS[1] * CELL_WIDTH, width)
                  if p != (0, 0, 0))
    if outside:
        return f"{outside} non-black pixels right of the title"
    text = sum(1 for p in pixels(2 * CELL_HEIGHT, 7 * CELL_HEIGHT, 0, width) if p != (0, 0, 0))
    if text < 2000:
        return f"only {text} non-black pixels where the greeting's paragraph should be"
    return None


# --- the test ----------------------------------------------------------------------

def boot(opts, guest, workdir):
    control_path = os.path.join(workdir, "control.sock")
    # console=ttyS0 first: the kernel's (few, quiet) messages reach the
    # serial log too, while /dev/console stays tty0, the last console=,
    # as for the user.
    cmdline = "console=ttyS0 " + guest["cmdline"]
    cmd = [opts.vmm, "--accel", "tcg", "--memory", "256M", "--kernel", guest["kernel"],
           "--initrd", guest["initrd"], "--cmdline", cmdline, "--serial", "stdio",
           "--display", "none", "--control", control_path]
    print("running:", " ".join(cmd), flush=True)
    stderr = open(os.path.join(workdir, "vmm-stderr.txt"), "w+")
    vmm = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                           preexec_fn=die_with_parent)
    serial = Serial(vmm.stdout)
    alive = lambda: vmm.poll() is None  # noqa: E731
    control = None
    start = time.monotonic()

    def type_line(text):
        vmm.stdin.write(text.encode() + b"\n")
        vmm.stdin.flush()

    try:
        control = Control(control_path, 30)
        serial.wait_for(re.escape(TITLE), opts.timeout, alive)
        for tty in ("ttyS0", "tty1"):
            serial.wait_for(rf"a shell started on /dev/{tty} \(job control on\)", 60, alive)
        print(f"both shells started, with job control, {time.monotonic() - start:.1f} s "
              "after the VMM started", flush=True)

        # The tty1 shell clears the screen and prints the greeting about
        # when it reports itself; poll until the picture is complete.
        shot = os.path.join(opts.artifacts, "demo-greeting.png")
        deadline = time.monotonic() + 60
        while True:
            reply = control.execute("screendump", filename=shot)
            if "error" in reply:
                raise Failure(f"screendump: {reply['error']}")
            with open(shot, "rb") as f:
                problem = greeting_on_screen(*decode_png(f.read()))
            if problem is None:
                break
            if time.monotonic() > deadline:
                raise Failure(f"the screen does not show the greeting: {problem} (see {shot})")
            time.sleep(1)
        print(f"the screen shows the greeting: {shot}", flush=True)

        # $(( )) and $- are expanded by the shell, so the echoed input
        # cannot match; the m in $- is job control.
        mark = len(serial.data)
        type_line("echo VESSEL-DEMO-SHELL-$((40+2))-$-")
        match = serial.wait_for(r"^VESSEL-DEMO-SHELL-42-(\w*)\r?\n", 60, alive, mark)
        if "m" not in match.group(1):
            raise Failure(f"the serial shell has no job control: $- is {match.group(1)!r}")
        print("a command typed on the serial console ran", flush=True)

        mark = len(serial.data)
        acpi = False
        if opts.switch_off == "button":
            reply = control.execute("system_powerdown")
            acpi = "return" in reply
            if not acpi:
                print(f"system_powerdown: {reply['error']['desc']}; typing poweroff instead",
                      flush=True)
        if acpi:
            serial.wait_for(r"vessel-demo: the power button was pressed", 60, alive, mark)
            how = "the ACPI power button"
        else:
            type_line("poweroff")
            how = "typing poweroff"
        serial.wait_for(r"vessel-demo: switching off", 60, alive, mark)
        try:
            vmm.wait(60)
            if vmm.returncode != 0:
                raise Failure(f"the VMM exited with status {vmm.returncode} after {how}")
            print(f"the machine switched off after {how}; the VMM exited", flush=True)
        except subprocess.TimeoutExpired:
            if acpi:
                raise Failure("the VMM did not exit after the guest powered off (ACPI S5)")
            # Without ACPI, Linux can only halt; the kernel says so.
            serial.wait_for(r"reboot: (Power down|System halted)", 30, alive, mark)
            print(f"the guest switched off after {how} (halted: the VMM has no ACPI yet)",
                  flush=True)
            control.execute("quit")
            vmm.wait(30)
        print("the guest's own messages:\n  " + "\n  ".join(
            re.findall(r"vessel-demo: [^\r\n]*", serial.data)), flush=True)
    except Failure as failure:
        tail = "\n".join(serial.data.splitlines()[-40:])
        stderr.seek(0)
        raise Failure(f"{failure}\n--- serial console (last 40 lines) ---\n{tail}\n"
                      f"--- vessel-vmm stderr ---\n{stderr.read()[-4000:]}")
    finally:
        if control:
            control.close()
        if vmm.poll() is None:
            vmm.kill()
            vmm.wait()
        stderr.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", required=True, help="vessel-prepare-demo")
    parser.add_argument("--vmm", required=True, help="vessel-vmm")
    # The user's own demo cache by default, as the Linux tests share theirs:
    # CI downloads the kernel once, not once per build directory, and the
    # README's run command then finds the demo ready.
    xdg_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    parser.add_argument("--cache", default=os.path.join(xdg_cache, "vessel", "demo"),
                        help="the demo cache (kept between runs; default: the user's, "
                             "${XDG_CACHE_HOME:-~/.cache}/vessel/demo)")
    parser.add_argument("--artifacts", required=True, help="where the screendump goes")
    parser.add_argument("--switch-off", choices=("button", "command"), default="button",
                        help="how the machine is switched off: the ACPI power button "
                             "(system_powerdown; typing poweroff while the VMM has no ACPI) "
                             "or typing poweroff")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds to wait for the greeting")
    opts = parser.parse_args()
    os.makedirs(opts.artifacts, exist_ok=True)
    try:
        guest, texts, seconds = run_prepare(opts.script, opts.cache)
        print(f"prepared in {seconds:.1f} s: " + "; ".join(dict.fromkeys(texts)), flush=True)
        again, texts, seconds = run_prepare(opts.script, opts.cache)
        if again != guest:
            raise Failure(f"a second run gave other files: {again} instead of {guest}")
        busy = [t for t in texts if t.startswith(("Downloading", "Unpacking", "Building"))]
        if busy:
            raise Failure(f"a second run did work again: {busy}")
        print(f"a second run took {seconds:.1f} s and did nothing but check", flush=True)
        with tempfile.TemporaryDirectory(prefix="vessel-demo-") as workdir:
            boot(opts, guest, workdir)
    except Failure as failure:
        print(f"FAIL: {failure}", flush=True)
        return 1
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
