# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the display and keyboard guest tests: start a test guest on
vessel-vmm (or QEMU) with a control socket, read its serial console, talk
QMP, decode the PNG a screendump writes.  Python 3 standard library only."""

import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from orphans import die_with_parent  # noqa: E402

PASS_STATUS = 65   # the guest wrote 0x20 to the test-exit port


class TestFailure(Exception):
    """What went wrong, in words a reader of the test log can act on."""


# --- PNG (ISO/IEC 15948, "PNG Specification (Second Edition)") ---

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# §11.2.2 IHDR colour types we read: truecolour and truecolour with alpha.
PNG_COLOUR_CHANNELS = {2: 3, 6: 4}


def _paeth(a, b, c):
    """§9.4, the Paeth predictor."""
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw, width, height, bpp):
    """§9.2 filter types 0-4, per scanline; returns the rows as bytes."""
    stride = width * bpp
    rows = []
    prev = bytearray(stride)
    pos = 0
    for y in range(height):
        if pos + 1 + stride > len(raw):
            raise TestFailure(f"PNG: image data ends in row {y}")
        ftype = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if ftype == 0:
            pass
        elif ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upleft = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], upleft)) & 0xFF
        else:
            raise TestFailure(f"PNG: row {y} has filter type {ftype}")
        rows.append(bytes(line))
        prev = line
    if pos != len(raw):
        raise TestFailure(f"PNG: {len(raw) - pos} bytes after the last row")
    return rows


def decode_png(data):
    """(width, height, rows): each row is bytes R, G, B per pixel (alpha
    dropped).  Only 8-bit RGB/RGBA without interlacing, as screendumps are;
    anything else, and every CRC error, is a TestFailure."""
    if not data.startswith(PNG_SIGNATURE):
        raise TestFailure("not a PNG file (bad signature)")
    pos = len(PNG_SIGNATURE)
    header = None
    idat = bytearray()
    seen_end = False
    while pos < len(data):
        if pos + 12 > len(data):
            raise TestFailure("PNG: truncated chunk")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            raise TestFailure(f"PNG: truncated {ctype!r} chunk")
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + body) != crc:
            raise TestFailure(f"PNG: CRC error in the {ctype!r} chunk")
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        elif ctype == b"IEND":
            seen_end = True
            break
        elif not ctype[0] & 0x20:
            raise TestFailure(f"PNG: unknown critical chunk {ctype!r}")
    if header is None or not seen_end:
        raise TestFailure("PNG: no IHDR or no IEND")
    width, height, depth, colour, compression, filtering, interlace = header
    if depth != 8 or colour not in PNG_COLOUR_CHANNELS or compression or \
            filtering or interlace:
        raise TestFailure(f"PNG: unsupported format (depth {depth}, colour "
                          f"type {colour}, interlace {interlace})")
    bpp = PNG_COLOUR_CHANNELS[colour]
    try:
        raw = zlib.decompress(bytes(idat))
    except zlib.error as e:
        raise TestFailure(f"PNG: image data does not inflate: {e}") from None
    rows = _unfilter(raw, width, height, bpp)
    if bpp == 4:
        rows = [bytes(b for i, b in enumerate(row) if i % 4 != 3) for row in rows]
    return width, height, rows


def decode_ppm(data):
    """QEMU's default screendump format: binary P6, maxval 255."""
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    if not m:
        raise TestFailure("not a P6 PPM with maxval 255")
    width, height = int(m.group(1)), int(m.group(2))
    pixels = data[m.end():]
    if len(pixels) != width * height * 3:
        raise TestFailure(f"PPM: {len(pixels)} bytes of pixels for {width}x{height}")
    return width, height, [pixels[y * width * 3:(y + 1) * width * 3] for y in range(height)]


def decode_image(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"P6"):
        return decode_ppm(data)
    return decode_png(data)


def compare_image(rows, width, height, expect_rows):
    """None if every pixel matches, else a description of the first
    difference and how many pixels differ.  expect_rows(y) gives the
    wanted row as bytes R, G, B per pixel."""
    first = None
    differing = 0
    for y in range(height):
        want = expect_rows(y)
        got = rows[y]
        if got == want:
            continue
        for x in range(width):
            if got[3 * x:3 * x + 3] != want[3 * x:3 * x + 3]:
                differing += 1
                if first is None:
                    first = (x, y, got[3 * x:3 * x + 3].hex(), want[3 * x:3 * x + 3].hex())
    if first is None:
        return None
    x, y, got, want = first
    return (f"first differing pixel ({x},{y}) is #{got}, want #{want}; "
            f"{differing} of {width * height} pixels differ")


# --- the VMM, its serial console and its control socket ---

class Serial:
    """Collects the VMM's stdout (the guest's COM1) from a thread."""

    def __init__(self, pipe):
        self.data = bytearray()
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self.thread.start()

    def _pump(self, pipe):
        while True:
            chunk = os.read(pipe.fileno(), 4096)
            with self.cond:
                if not chunk:
                    self.closed = True
                else:
                    self.data += chunk
                self.cond.notify_all()
            if not chunk:
                break

    def text(self):
        with self.cond:
            raw = bytes(self.data)
        return raw.decode("utf-8", errors="replace").replace("\r", "")

    def wait_for(self, regex, timeout, start=0):
        """The first match of regex (multi-line) at or after text offset
        start, waiting up to timeout seconds; None if none came."""
        deadline = time.monotonic() + timeout
        rx = re.compile(regex, re.MULTILINE)
        with self.cond:
            while True:
                text = bytes(self.data).decode("utf-8", errors="replace").replace("\r", "")
                m = rx.search(text, start)
                if m or self.closed:
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


class Qmp:
    """A QMP client on a Unix socket: vessel-vmm's control socket and
    QEMU's -qmp speak the same greeting, negotiation and replies."""

    def __init__(self, path, timeout=20, alive=None):
        """Connects, retrying until the socket appears; alive() (if given)
        returning False ends the wait early: the VMM has exited."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if alive is not None and not alive():
                    raise TestFailure(f"the VMM exited before its control socket {path} appeared")
                if time.monotonic() > deadline:
                    raise TestFailure(f"no control socket at {path} after {timeout} s")
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rwb", buffering=0)
        self.events = []                # events read on the way, in order
        greeting = self._read()
        if "QMP" not in greeting:
            raise TestFailure(f"control socket greeting lacks 'QMP': {greeting}")
        self.execute("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise TestFailure("the VMM closed the control socket")
        return json.loads(line)

    def execute(self, name, arguments=None):
        """The "return" value; an "error" reply is a TestFailure."""
        request = {"execute": name}
        if arguments is not None:
            request["arguments"] = arguments
        self.file.write(json.dumps(request).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise TestFailure(f"{name} failed: {reply['error']}")
            return reply.get("return")

    def close(self):
        self.file.close()
        self.sock.close()


def vessel_command(vmm, accel, guest, control, cmdline="", display="none"):
    return [vmm, "--accel", accel, "--memory", "64M", "--kernel", guest,
            "--cmdline", cmdline, "--serial", "stdio", "--display", display,
            "--no-reboot", "--control", control]


def qemu_command(qemu, accel, guest, control, device, cmdline="", display="none"):
    cmd = [qemu, "-accel", accel, "-m", "64", "-kernel", guest,
           "-append", cmdline, "-serial", "stdio", "-display", display,
           "-monitor", "none", "-nodefaults", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-qmp", f"unix:{control},server=on,wait=off"]
    if device:
        cmd += ["-device", device]
    return cmd


class Machine:
    """A running VMM: stdin is the guest's COM1 input, stdout its output."""

    def __init__(self, cmd, env=None):
        self.cmd = cmd
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env,
                                     start_new_session=True, preexec_fn=die_with_parent)
        self.serial = Serial(self.proc.stdout)
        self.stderr = Serial(self.proc.stderr)

    def alive(self):
        return self.proc.poll() is None

    def type(self, text):
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise TestFailure("the VMM's stdin is closed: it has exited") from None

    def wait_for(self, regex, timeout, start=0):
        m = self.serial.wait_for(regex, timeout, start)
        if not m:
            status = self.proc.poll()
            state = "running" if status is None else f"exited with status {status}"
            raise TestFailure(f"no /{regex}/ on serial within {timeout:g} s (the VMM is {state})")
        return m

    def wait_exit(self, timeout):
        """The exit status, once the output the VMM wrote before exiting
        has been read to the end."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"the VMM did not exit within {timeout:g} s") from None
        self.serial.thread.join(5)
        self.stderr.thread.join(5)
        return status

    def expect_exit(self, want, timeout, why=""):
        """Waits for the VMM to exit; a status other than want is a TestFailure."""
        status = self.wait_exit(timeout)
        if status != want:
            raise TestFailure(f"the VMM exited with status {status}, want {want}{why}")

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.serial.thread.join(2)
        self.stderr.thread.join(2)

    def report(self):
        """The command line, serial output and stderr, for a failure."""
        serial = self.serial.text()
        stderr = self.stderr.text()
        return (f"  command: {shlex.join(self.cmd)}\n"
                f"  status: {self.proc.poll()}\n"
                f"--- serial ---\n{serial}{'' if serial.endswith(chr(10)) or not serial else chr(10)}"
                f"--- stderr ---\n{stderr}{'' if stderr.endswith(chr(10)) or not stderr else chr(10)}---")


def verdict(name, problems, machine, verbose=False):
    """Prints "ok NAME" or "FAIL NAME" with the problems (and the VMM's
    report on failure or when verbose); returns the exit status."""
    print(f"{'FAIL' if problems else 'ok'} {name}")
    for p in problems:
        print(f"  - {p}")
    if problems or verbose:
        print(machine.report())
    return 1 if problems else 0
