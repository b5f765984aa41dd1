#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Display latency and host CPU cost of vessel-vmm's SDL window against
qemu-system-x86_64 -display sdl, both with a bochs-display and measured in
the same run under a private Xvfb (TESTING.md: every figure is a ratio
against a peer).  The guest is tests/guests/animate.c: 1920x1080x32.

  latency, write -> X screen: the guest writes a marker colour into one
      pixel and at once sends a byte on COM1; from that byte's arrival on
      the VMM's stdout to the colour read back from the X server
      (XGetImage of that pixel, polled every 0.5 ms).  Same method for
      both VMMs.
  latency, write -> texture: vessel-vmm only, from its own trace
      (VESSEL_DISPLAY_TRACE=1): from the byte's arrival to the end of the
      first texture upload that covers the marker.
  idle CPU: utime + stime of the VMM process (all threads, /proc/PID/stat)
      over --seconds, as % of one core, while the guest sleeps in HLT with
      no timer after drawing its screen once; the X server's own CPU in
      the same interval beside it.  With the window (sdl) and without one
      (none).
  animate CPU: the same while the guest moves a 256x256 square 4 pixels
      per frame, paced by the PIT at 60 Hz; with the frame rate the guest
      reached (one '.' on COM1 per frame) and, from the trace, how many
      times a second vessel-vmm's window uploaded something.

Each VMM runs on KVM and on its software CPU (vessel-vmm --accel tcg,
QEMU -accel tcg).  --runs repeats every session: CPU figures are medians
over runs, latency samples are pooled.  --smoke is the quick check of the
meson suite 'display': vessel-vmm alone, short, and a failure when the
trace never shows the marker or an idle guest costs over half a core.

Usage: tests/bench/display.py [--vmm build/app/vessel-vmm] [--guest GUEST]
                              [--runs 1] [--seconds 10] [--samples 50]
"""

import argparse
import ctypes
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True     # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from orphans import die_with_parent  # noqa: E402

QEMU = "qemu-system-x86_64"
PASS_STATUS = 65                   # the guest wrote 0x20 to the test-exit port
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# As tests/guests/animate.c draws them.
WIDTH, HEIGHT = 1920, 1080
BACKGROUND = 0x203040
MARKER_X, MARKER_Y = 16, 16
SQUARE_MIDDLE_Y = HEIGHT // 2
MARKERS = (0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff, 0xff00ff, 0xffffff, 0x800000)

TRACE_RE = re.compile(rb"display-trace: upload (\d+),(\d+) (\d+)x(\d+) t=([\d.]+)")
SMOKE_IDLE_CPU_LIMIT = 50.0        # % of a core: an idle guest must cost far less


class BenchError(Exception):
    """Why a session could not be measured, in words a reader can act on."""


# --- X server -----------------------------------------------------------

def start_xvfb():
    """(process, DISPLAY) of a private Xvfb on a free display number."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                             f"{WIDTH}x1200x24", "-nolisten", "tcp"],
                            pass_fds=[write_fd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        number = f.readline().strip()
    if not number.isdigit():
        proc.kill()
        proc.wait()
        raise BenchError("Xvfb did not start (no display number on -displayfd)")
    return proc, f":{number.decode()}"


class Screen:
    """Pixels of the X screen through libX11 (ctypes: the benchmark needs no
    Python module outside the standard library)."""

    Z_PIXMAP = 2

    class XImageHead(ctypes.Structure):
        """The start of Xlib's XImage (Xlib.h): enough to reach the pixels."""
        _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int),
                    ("xoffset", ctypes.c_int), ("format", ctypes.c_int),
                    ("data", ctypes.c_void_p)]
    ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

    def __init__(self, display_name):
        x = ctypes.CDLL("libX11.so.6")
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XGetImage.restype = ctypes.c_void_p
        x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        x.XGetPixel.restype = ctypes.c_ulong
        x.XGetPixel.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        x.XDestroyImage.argtypes = [ctypes.c_void_p]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.x = x
        # Xlib's default handler exits the process on a BadMatch.
        self.on_error = self.ERROR_HANDLER(lambda display, event: 0)
        x.XSetErrorHandler(self.on_error)
        self.display = x.XOpenDisplay(display_name.encode())
        if not self.display:
            raise BenchError(f"cannot open X display {display_name}")
        self.root = x.XDefaultRootWindow(self.display)

    def row(self, x, y, width):
        """The raw pixels of one line of the screen, or None."""
        image = self.x.XGetImage(self.display, self.root, x, y, width, 1, 0xffffffff,
                                 self.Z_PIXMAP)
        if not image:
            return None
        data = ctypes.string_at(ctypes.cast(image, ctypes.POINTER(self.XImageHead)).contents.data,
                                width * 4)
        self.x.XDestroyImage(image)
        return data

    def pixel(self, x, y):
        """0xRRGGBB at (x, y) of the screen (a 24-bit TrueColor visual), or None."""
        image = self.x.XGetImage(self.display, self.root, x, y, 1, 1, 0xffffffff, self.Z_PIXMAP)
        if not image:
            return None
        value = self.x.XGetPixel(image, 0, 0) & 0xffffff
        self.x.XDestroyImage(image)
        return value

    def close(self):
        self.x.XCloseDisplay(self.display)


def find_guest_window(env):
    """(window id, x, y) of the first top-level window exactly the guest's
    size (no window manager under Xvfb: no frame, no scaling), or None."""
    result = subprocess.run(["xwininfo", "-root", "-children"], env=env,
                            capture_output=True, text=True)
    for line in result.stdout.splitlines():
        m = re.search(r"^\s*(0x[0-9a-f]+)\s.*\s(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)\s*$",
                      line)
        if m and (int(m.group(2)), int(m.group(3))) == (WIDTH, HEIGHT):
            return m.group(1), int(m.group(4)), int(m.group(5))
    return None


def move_to_origin(window, env):
    """Both VMMs centre their first, smaller window and keep its corner when
    they grow it, so 1920x1080 would hang off the screen (and the X server
    would copy less of it): every window goes to (0, 0)."""
    subprocess.run(["xdotool", "windowmove", window, "0", "0"], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- A running VMM ------------------------------------------------------

class Stream:
    """A pipe read on its own thread; every chunk kept with its arrival time
    (time.monotonic(), the CLOCK_MONOTONIC of vessel-vmm's trace)."""

    def __init__(self, pipe):
        self.chunks = []               # (time, bytes)
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(pipe.fileno(),), daemon=True)
        self.thread.start()

    def _read(self, fd):
        while True:
            data = os.read(fd, 65536)
            now = time.monotonic()
            with self.cond:
                if data:
                    self.chunks.append((now, data))
                self.cond.notify_all()
            if not data:
                return

    def text(self):
        with self.cond:
            return b"".join(data for _, data in self.chunks)

    def wait(self, predicate, timeout):
        """Waits until predicate(chunks) is true; returns its value or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(self.chunks)
                if value or not self.thread.is_alive():
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


class Session:
    def __init__(self, name, cmd, env):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env,
                                     preexec_fn=die_with_parent)
        self.serial = Stream(self.proc.stdout)
        self.stderr = Stream(self.proc.stderr)

    def send(self, byte):
        try:
            self.proc.stdin.write(byte)
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise self.failure("its stdin is closed") from None

    def failure(self, what):
        status = self.proc.poll()
        state = "running" if status is None else f"exited with status {status}"
        tail = self.stderr.text().decode(errors="replace")
        tail = "\n".join(line for line in tail.splitlines()
                         if not line.startswith("display-trace:"))[-1500:]
        return BenchError(f"{self.name}: {what} (the VMM is {state}); stderr: {tail.strip()}")

    def wait_serial(self, regex, timeout):
        pattern = re.compile(regex)
        if not self.serial.wait(lambda chunks: pattern.search(b"".join(d for _, d in chunks)),
                                timeout):
            raise self.failure(f"no /{regex.decode()}/ on COM1 within {timeout:g} s")

    def byte_time(self, byte, first_chunk, timeout):
        """Arrival time of byte in a chunk at or after index first_chunk."""
        def find(chunks):
            for t, data in chunks[first_chunk:]:
                if byte in data:
                    return t
            return None
        t = self.serial.wait(find, timeout)
        if t is None:
            raise self.failure(f"the guest did not answer {byte!r} within {timeout:g} s")
        return t

    def cpu_seconds(self):
        return process_cpu_seconds(self.proc.pid)

    def uploads(self):
        """vessel-vmm's trace: (t, x, y, width, height) per texture upload."""
        return [(float(m.group(5)), int(m.group(1)), int(m.group(2)), int(m.group(3)),
                 int(m.group(4))) for m in TRACE_RE.finditer(self.stderr.text())]

    def quit(self):
        """Tells the guest to pass; the VMM must then exit with PASS_STATUS."""
        self.send(b"q")
        try:
            status = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            raise self.failure("it did not exit within 15 s of 'q'") from None
        if status != PASS_STATUS:
            raise self.failure(f"exit status {status}, want {PASS_STATUS}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def make_peers(opts, traced):
    """vessel-vmm and (unless --no-qemu) QEMU on each accelerator asked for;
    a peer that cannot run here says why in .unavailable.  traced: whether
    vessel-vmm prints display-trace lines (this benchmark reads them)."""
    accels = ("kvm", "tcg") if opts.accel == "both" else (opts.accel,)
    peers = []
    for accel in accels:
        vessel = Peer("vessel-vmm", accel, vessel_command(opts.vmm, opts.guest, accel), traced)
        if not os.access(opts.vmm, os.X_OK):
            vessel.unavailable = f"{opts.vmm} is not an executable (build it, or pass --vmm)"
        peers.append(vessel)
        if not opts.no_qemu:
            qemu = Peer("qemu", accel, qemu_command(opts.guest, accel), False)
            if not shutil.which(QEMU):
                qemu.unavailable = f"{QEMU} is not installed (sudo apt-get install qemu-system-x86)"
            peers.append(qemu)
    if "kvm" in accels and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        for peer in peers:
            if peer.accel == "kvm":
                peer.unavailable = "/dev/kvm is not usable"
    return peers


def process_cpu_seconds(pid):
    """utime + stime of every thread of pid (proc(5): fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_percent(session, xvfb, seconds):
    """(VMM, X server) CPU over the next `seconds`, in % of one core."""
    wall0, vmm0, x0 = time.monotonic(), session.cpu_seconds(), process_cpu_seconds(xvfb.pid)
    time.sleep(seconds)
    wall1, vmm1, x1 = time.monotonic(), session.cpu_seconds(), process_cpu_seconds(xvfb.pid)
    wall = wall1 - wall0
    return 100 * (vmm1 - vmm0) / wall, 100 * (x1 - x0) / wall, (wall0, wall1)


# --- The measurements ---------------------------------------------------

class Peer:
    """One VMM on one accelerator: how to start it, and what it measured."""

    def __init__(self, name, accel, command, traced):
        self.name = name
        self.accel = accel
        self.command = command          # display ("sdl" or "none") -> argv
        self.traced = traced            # it prints display-trace lines
        self.unavailable = None
        self.figures = {}               # figure -> list of values

    def add(self, figure, value):
        if value is not None:
            self.figures.setdefault(figure, []).append(value)


def vessel_command(vmm, guest, accel):
    return lambda display: [vmm, "--accel", accel, "--memory", "64M", "--kernel", guest,
                            "--display", display, "--serial", "stdio"]


def qemu_command(guest, accel):
    return lambda display: [QEMU, "-accel", accel, "-m", "64", "-kernel", guest, "-nodefaults",
                            "-device", "bochs-display", "-display", display,
                            "-serial", "stdio", "-monitor", "none",
                            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def wait_for_picture(session, env, screen, timeout):
    """The window's screen origin once it shows the guest's whole first frame."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if session.proc.poll() is not None:
            break
        found = find_guest_window(env)
        if found:
            window, ox, oy = found
            if (ox, oy) != (0, 0):
                move_to_origin(window, env)
            elif (screen.pixel(MARKER_X, MARKER_Y) == BACKGROUND and
                    screen.pixel(WIDTH - 1, HEIGHT - 1) == BACKGROUND):
                return ox, oy
        time.sleep(0.1)
    raise session.failure(f"no {WIDTH}x{HEIGHT} window showing the guest's screen "
                          f"within {timeout:g} s")


def measure_latency(session, screen, origin, samples, traced):
    """(write -> X screen, write -> texture) in ms, one list each."""
    ox, oy = origin
    records = []                        # (t_send, t_serial, t_screen)
    for i in range(samples):
        index = i % len(MARKERS)
        # Any phase against the window's refresh (60 Hz here, 30 ms in QEMU).
        time.sleep(random.uniform(0.0, 0.034))
        first_chunk = len(session.serial.chunks)
        t_send = time.monotonic()
        session.send(str(index).encode())
        t_serial = session.byte_time(str(index).encode(), first_chunk, 10)
        t_screen = None
        while time.monotonic() < t_send + 2.0:
            colour = screen.pixel(ox + MARKER_X, oy + MARKER_Y)
            now = time.monotonic()
            if colour == MARKERS[index]:
                t_screen = now
                break
            time.sleep(0.0005)
        records.append((t_send, t_serial, t_screen))
    time.sleep(0.1)                     # the last uploads reach the trace

    screen_ms = [1000 * (t_screen - t_serial) for _, t_serial, t_screen in records
                 if t_screen is not None]
    texture_ms = []
    if traced:
        uploads = session.uploads()
        for t_send, t_serial, _ in records:
            for t, x, y, w, h in uploads:
                if t >= t_send and x <= MARKER_X < x + w and y <= MARKER_Y < y + h:
                    texture_ms.append(1000 * (t - t_serial))
                    break
    return screen_ms, texture_ms


def window_update_rate(uploads, window):
    """Refreshes with an upload per second: uploads closer than 4 ms apart
    come from the same refresh (one tick uploads all its rectangles)."""
    t0, t1 = window
    times = sorted(t for t, *_ in uploads if t0 <= t <= t1)
    refreshes = sum(1 for i, t in enumerate(times) if i == 0 or t - times[i - 1] > 0.004)
    return refreshes / (t1 - t0)


def screen_update_rate(screen, origin, seconds):
    """How many times a second the line through the middle of the moving
    square changes on the X screen (polled every 2 ms): the picture rate
    the user sees, the same way for both VMMs."""
    ox, oy = origin
    y = oy + SQUARE_MIDDLE_Y
    previous, changes = screen.row(ox, y, WIDTH), 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        time.sleep(0.002)
        line = screen.row(ox, y, WIDTH)
        if line != previous:
            changes += 1
            previous = line
    return changes / (time.monotonic() - start)


def frame_rate(session, window):
    t0, t1 = window
    dots = sum(data.count(b".") for t, data in list(session.serial.chunks) if t0 <= t <= t1)
    return dots / (t1 - t0)


def run_session(peer, display, env, xvfb, screen, opts):
    session_env = dict(env)
    if peer.traced and display == "sdl":
        session_env["VESSEL_DISPLAY_TRACE"] = "1"
    session = Session(f"{peer.name} ({peer.accel}, {display})", peer.command(display), session_env)
    suffix = f" {display}"
    try:
        # QEMU on the nested KVM spends seconds in SeaBIOS; the guest's
        # first full-screen fill takes a second or two there too.
        session.wait_serial(rb"READY 1920x1080", 90)
        origin = wait_for_picture(session, env, screen, 30) if display == "sdl" else None
        time.sleep(opts.settle)
        vmm_cpu, x_cpu, _ = cpu_percent(session, xvfb, opts.idle_seconds(display))
        peer.add("idle cpu" + suffix, vmm_cpu)
        peer.add("idle xvfb" + suffix, x_cpu)

        if display == "sdl" and opts.samples:
            screen_ms, texture_ms = measure_latency(session, screen, origin, opts.samples,
                                                    peer.traced)
            if len(screen_ms) < opts.samples:
                print(f"{session.name}: {opts.samples - len(screen_ms)} of {opts.samples} "
                      f"markers never reached the X screen", file=sys.stderr)
            peer.figures.setdefault("latency screen", []).extend(screen_ms)
            if peer.traced:
                peer.figures.setdefault("latency texture", []).extend(texture_ms)

        session.send(b"a")
        time.sleep(opts.settle)
        vmm_cpu, x_cpu, window = cpu_percent(session, xvfb, opts.animate_seconds(display))
        peer.add("animate cpu" + suffix, vmm_cpu)
        peer.add("animate xvfb" + suffix, x_cpu)
        peer.add("animate fps" + suffix, frame_rate(session, window))
        if peer.traced and display == "sdl":
            peer.add("animate updates" + suffix, window_update_rate(session.uploads(), window))
        if display == "sdl":
            # After the CPU figures: polling the X server costs CPU too.
            peer.add("animate screen" + suffix, screen_update_rate(screen, origin, 2.0))
        session.send(b"s")
        session.wait_serial(rb"STOPPED frames=\d+", 10)
        session.quit()
    finally:
        session.kill()
    print(f"{session.name}: " + ", ".join(
        f"{figure} {values[-1]:.1f}" for figure, values in peer.figures.items()
        if figure.endswith(suffix)), file=sys.stderr, flush=True)


# --- Report -------------------------------------------------------------

def percentile(values, fraction):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered) + 0.4999)))
    return ordered[min(rank, len(ordered)) - 1]


ROWS = (
    # label, figure, how to summarize, unit
    ("latency write->X screen, median", "latency screen", statistics.median, "ms"),
    ("latency write->X screen, p95", "latency screen", lambda v: percentile(v, 0.95), "ms"),
    ("latency write->texture, median", "latency texture", statistics.median, "ms"),
    ("latency write->texture, p95", "latency texture", lambda v: percentile(v, 0.95), "ms"),
    ("idle CPU, window", "idle cpu sdl", statistics.median, "%"),
    ("  X server meanwhile", "idle xvfb sdl", statistics.median, "%"),
    ("idle CPU, no display", "idle cpu none", statistics.median, "%"),
    ("animate CPU, window", "animate cpu sdl", statistics.median, "%"),
    ("  X server meanwhile", "animate xvfb sdl", statistics.median, "%"),
    ("  guest frames/s", "animate fps sdl", statistics.median, "/s"),
    ("  window uploads/s (trace)", "animate updates sdl", statistics.median, "/s"),
    ("  X screen changes/s", "animate screen sdl", statistics.median, "/s"),
    ("  window's CPU per picture shown", "cpu per picture", statistics.median, "ms"),
    ("animate CPU, no display", "animate cpu none", statistics.median, "%"),
    ("  guest frames/s", "animate fps none", statistics.median, "/s"),
)


def add_cpu_per_picture(peer):
    """What the window adds (CPU with it minus CPU without one) per change
    of the picture on the X screen, in ms of one core: a window that shows
    fewer pictures costs less, and this puts the two VMMs level."""
    f = peer.figures
    if f.get("animate cpu sdl") and f.get("animate cpu none") and f.get("animate screen sdl"):
        extra = statistics.median(f["animate cpu sdl"]) - statistics.median(f["animate cpu none"])
        pictures = statistics.median(f["animate screen sdl"])
        if pictures > 0:
            peer.add("cpu per picture", 10 * extra / pictures)


def print_report(peers, opts):
    print(f"Display: {WIDTH}x{HEIGHT}x32 guest (tests/guests/animate.c), Xvfb {WIDTH}x1200x24, "
          f"{opts.runs} run(s), CPU over {opts.seconds:g} s ({opts.none_seconds:g} s without "
          f"a display) as % of one core, {opts.samples} latency samples per run")
    for peer in peers:
        if peer.unavailable:
            print(f"{peer.name} ({peer.accel}): not measured: {peer.unavailable}")
    for peer in peers:
        add_cpu_per_picture(peer)
    print_table(peers, ROWS)


def print_table(peers, rows, label_width=34, unit_width=2):
    """One table per accelerator: a column per VMM and vessel/qemu.  A row
    is (label, figure, summary, unit[, scale])."""
    column = 12 + unit_width
    for accel in ("kvm", "tcg"):
        group = [p for p in peers if p.accel == accel and p.figures]
        if not group:
            continue
        ratio = len(group) == 2
        print(f"\n{accel:{label_width}s}" + "".join(f"{p.name:>{column}s}" for p in group) +
              (f"{'vessel/qemu':>14s}" if ratio else ""))
        for label, figure, summary, unit, *scale in rows:
            factor = scale[0] if scale else 1
            values = [summary(p.figures[figure]) * factor if p.figures.get(figure) else None
                      for p in group]
            if all(v is None for v in values):
                continue
            row = f"{label:{label_width}s}" + "".join(
                f"{v:11.1f} {unit:{unit_width}s}" if v is not None else f"{'-':>{column}s}"
                for v in values)
            if ratio and None not in values and values[1]:
                row += f"{values[0] / values[1]:14.2f}"
            print(row)


def smoke_check(peers):
    """The figures a working build must produce; returns the problems."""
    problems = []
    for peer in peers:
        label = f"{peer.name} ({peer.accel})"
        if peer.unavailable:
            problems.append(f"{label}: {peer.unavailable}")
            continue
        if not peer.figures.get("latency texture"):
            problems.append(f"{label}: no display-trace upload ever covered the marker pixel")
        if not peer.figures.get("latency screen"):
            problems.append(f"{label}: the marker never reached the X screen")
        idle = peer.figures.get("idle cpu sdl", [])
        if not idle or max(idle) > SMOKE_IDLE_CPU_LIMIT:
            problems.append(f"{label}: idle guest with a window costs {max(idle, default=0):.1f}% "
                            f"of a core (limit {SMOKE_IDLE_CPU_LIMIT:g}%)")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--vmm", default="build/app/vessel-vmm")
    parser.add_argument("--guest", help="the animate guest (default: tests/guests/animate.elf "
                        "in the build directory of --vmm)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10,
                        help="CPU measurement with a window (default: %(default)s)")
    parser.add_argument("--none-seconds", type=float, default=4,
                        help="CPU measurement without a display (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=50, help="latency samples per run")
    parser.add_argument("--settle", type=float, default=0.5, help=argparse.SUPPRESS)
    parser.add_argument("--accel", choices=("kvm", "tcg", "both"), default="both")
    parser.add_argument("--no-qemu", action="store_true", help="measure vessel-vmm alone")
    parser.add_argument("--smoke", action="store_true",
                        help="a short vessel-vmm-only run that fails on a missing trace or an "
                             "absurd idle cost (meson test --suite display)")
    opts = parser.parse_args()
    if opts.smoke:
        opts.no_qemu = True
        opts.seconds, opts.none_seconds, opts.samples, opts.settle = 2, 0, 8, 0.5
    opts.idle_seconds = lambda display: opts.seconds if display == "sdl" else opts.none_seconds
    opts.animate_seconds = opts.idle_seconds
    if not opts.guest:
        opts.guest = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(opts.vmm))),
                                  "tests", "guests", "animate.elf")

    for tool in ("Xvfb", "xwininfo", "xdotool"):
        if not shutil.which(tool):
            sys.exit(f"display: {tool} is not installed (sudo apt-get install xvfb x11-utils xdotool)")
    if not os.path.exists(opts.guest):
        sys.exit(f"display: no guest {opts.guest} (build it, or pass --guest)")
    peers = make_peers(opts, traced=True)

    displays = ("sdl", "none") if opts.none_seconds > 0 else ("sdl",)
    xvfb, display_name = start_xvfb()
    try:
        env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        env["DISPLAY"] = display_name
        screen = Screen(display_name)
        load_before = os.getloadavg()[0]
        for _ in range(opts.runs):
            for peer in peers:
                for display in displays:
                    if peer.unavailable:
                        continue
                    try:
                        run_session(peer, display, env, xvfb, screen, opts)
                    except BenchError as error:
                        # A VMM that cannot do it once will not do better later.
                        peer.unavailable = str(error)
                        print(error, file=sys.stderr)
        load_after = os.getloadavg()[0]
        screen.close()
    finally:
        xvfb.kill()
        xvfb.wait()

    print_report(peers, opts)
    print(f"host load average {load_before:.2f} before, {load_after:.2f} after")
    if opts.smoke:
        problems = smoke_check(peers)
        for problem in problems:
            print(f"FAIL: {problem}")
        if problems:
            sys.exit(1)
        accels = sorted({peer.accel for peer in peers})
        print("smoke: trace seen, idle cost below "
              f"{SMOKE_IDLE_CPU_LIMIT:g}% of a core on " + ", ".join(accels))


if __name__ == "__main__":
    main()
