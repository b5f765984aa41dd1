#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What vessel-vmm's SPICE server costs on the wire and on the CPU, against
qemu-system-x86_64 -spice, both with a bochs-display and measured in the
same run (TESTING.md: every figure is a ratio against a peer).  The guest
is tests/guests/animate.c (1920x1080x32); the client is
tests/bench/spice-watch, a spice-client-glib client that opens the main,
display, inputs and cursor channels and prints timestamped events.  It
connects through a TCP proxy in this script that counts the bytes of every
connection in both directions and, from the SPICE link message (the
channel type at byte 20 of the client's first message: a 16-byte
SpiceLinkHeader, then SpiceLinkMess's connection id and channel type),
knows which channel each connection carries.

  first picture: from the client's start until the surfaces it was sent
      cover the whole 1920x1080 primary surface ("full"); the bytes the
      server sent until then, in all and on the display channel.  The
      client also checks that every pixel of that picture is the guest's
      background colour.
  small change: with the client connected and the guest idle, the guest
      writes a marker colour into one pixel (16,16) and echoes a byte on
      COM1; the server->client bytes from the command to the client's
      redraw of that pixel with the marker colour, and the latency from
      the echo's arrival on the VMM's stdout to that redraw.  Idle
      traffic (the same interval without a marker) is shown beside it.
  animation: the guest moves a 256x256 square 4 px per PIT tick at 60 Hz
      for --seconds: updates/s at the client (redraws closer than 4 ms
      apart count as one update), redrawn pixels/s, bytes/s on the wire,
      CPU (utime + stime, /proc/PID/stat) of the VMM and of the client as
      % of one core.
  disconnect: the client leaves (SIGTERM, a clean disconnect); the VMM
      must keep running and pass when told to quit.

Each VMM runs on KVM and on its software CPU, with no window
(vessel-vmm --display none --spice port=N,addr=127.0.0.1,disable-ticketing;
qemu -display none -spice port=N,addr=127.0.0.1,disable-ticketing=on).
--runs repeats every session: figures are medians over runs, samples
pooled.  --smoke is the quick check of the meson suite 'spice': vessel-vmm
alone, short, and a failure when no correct first picture arrives, a
one-pixel change costs over 1 MB or never arrives, or the VMM does not
survive the client's leaving.

Usage: tests/bench/spice.py [--vmm build/app/vessel-vmm] [--client CLIENT]
                            [--guest GUEST] [--runs 1] [--seconds 10]
                            [--samples 20]
"""

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True     # keep __pycache__ out of the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from display import (BACKGROUND, print_table, HEIGHT, MARKER_X, MARKER_Y, MARKERS,  # noqa: E402
                     WIDTH, BenchError, Session, Stream, frame_rate, make_peers, percentile,
                     process_cpu_seconds)
from orphans import die_with_parent  # noqa: E402

# spice-protocol's enum SpiceChannelType ("spice/enums.h"), as numbered on the wire.
CHANNEL_TYPES = {1: "main", 2: "display", 3: "inputs", 4: "cursor", 5: "playback",
                 6: "record", 7: "tunnel", 8: "smartcard", 9: "usbredir", 10: "port",
                 11: "webdav"}
LINK_MAGIC = b"REDQ"
LINK_CHANNEL_TYPE_OFFSET = 20      # SpiceLinkHeader (16 bytes), connection_id (4)

EVENT_RE = re.compile(rb"^(\w+)(.*) t=([\d.]+)$", re.M)
UPDATE_GAP_S = 0.004               # redraws closer than this belong to one update
SMOKE_SMALL_CHANGE_LIMIT = 1_000_000   # bytes: a pixel must not cost a screen


def free_port():
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- The proxy ----------------------------------------------------------

class Connection:
    """One client connection: its SPICE channel and what crossed it, as
    (arrival time, byte count) per read in each direction."""

    def __init__(self):
        self.channel = "?"
        self.down = []                 # server -> client
        self.up = []                   # client -> server
        self.link = b""                # the start of the client's link message


class Proxy:
    """Listens on a free local port and relays every connection to the
    server's port, counting bytes.  Both legs disable Nagle's algorithm, as
    the SPICE client and server do on theirs: the proxy must not add
    latency of its own."""

    def __init__(self, server_port):
        self.server_port = server_port
        self.connections = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.sockets = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return                 # closed
            try:
                server = socket.create_connection(("127.0.0.1", self.server_port))
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sockets += [client, server]
            connection = Connection()
            self.connections.append(connection)
            threading.Thread(target=self._pump, args=(server, client, connection, False),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(client, server, connection, True),
                             daemon=True).start()

    def _pump(self, source, sink, connection, upstream):
        records = connection.up if upstream else connection.down
        while True:
            try:
                data = source.recv(262144)
            except OSError:
                data = b""
            now = time.monotonic()
            if not data:
                try:
                    sink.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            records.append((now, len(data)))
            if upstream and len(connection.link) <= LINK_CHANNEL_TYPE_OFFSET:
                connection.link += data[:LINK_CHANNEL_TYPE_OFFSET + 1]
                if (len(connection.link) > LINK_CHANNEL_TYPE_OFFSET and
                        connection.link.startswith(LINK_MAGIC)):
                    kind = connection.link[LINK_CHANNEL_TYPE_OFFSET]
                    connection.channel = CHANNEL_TYPES.get(kind, f"type {kind}")
            try:
                sink.sendall(data)
            except OSError:
                return

    def bytes(self, t0, t1, direction="down", channel=None):
        """Bytes read in [t0, t1] in one direction, on one channel or all."""
        total = 0
        for connection in list(self.connections):
            if channel is None or connection.channel == channel:
                records = connection.down if direction == "down" else connection.up
                total += sum(n for t, n in list(records) if t0 <= t <= t1)
        return total

    def channels(self):
        return sorted(c.channel for c in self.connections)

    def close(self):
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


# --- The client ---------------------------------------------------------

class Watch:
    """spice-watch behind the proxy; its events as (name, rest, time)."""

    def __init__(self, client, port):
        self.proc = subprocess.Popen(
            [client, "--host", "127.0.0.1", "--port", str(port),
             "--probe", f"{MARKER_X},{MARKER_Y}", "--expect", f"{BACKGROUND:06x}",
             "--timeout-s", "600"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=die_with_parent)
        self.started = time.monotonic()
        self.out = Stream(self.proc.stdout)
        self.err = Stream(self.proc.stderr)

    def events(self, name=None, after=0.0, accept=lambda rest: True):
        """(name, rest of the line, time) of every event so far."""
        found = []
        for m in EVENT_RE.finditer(self.out.text()):
            event = (m.group(1).decode(), m.group(2).decode().strip(), float(m.group(3)))
            if (name is None or event[0] == name) and event[2] >= after and accept(event[1]):
                found.append(event)
        return found

    def wait_event(self, name, timeout, after=0.0, accept=lambda rest: True):
        """The first event `name` at or after `after` whose rest is accepted."""
        def find(_chunks):
            events = self.events(name, after, accept)
            return events[0] if events else None
        return self.out.wait(find, timeout)

    def cpu_seconds(self):
        return process_cpu_seconds(self.proc.pid)

    def failure(self, what):
        status = self.proc.poll()
        state = "running" if status is None else f"exited with status {status}"
        return BenchError(f"spice-watch: {what} (it is {state}); stderr: "
                          f"{self.err.text().decode(errors='replace')[-800:].strip()}")

    def leave(self):
        """A clean disconnect, as a viewer closed by its user."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise self.failure("it did not exit within 10 s of SIGTERM") from None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# --- The measurements ---------------------------------------------------

def spice_command(peer_command, port, is_qemu):
    argv = peer_command("none")
    if is_qemu:
        return argv + ["-spice", f"port={port},addr=127.0.0.1,disable-ticketing=on"]
    return argv + ["--spice", f"port={port},addr=127.0.0.1,disable-ticketing"]


def measure_first_picture(peer, watch, proxy):
    full = watch.wait_event("full", 30)
    if not full:
        raise watch.failure(f"no complete {WIDTH}x{HEIGHT} picture within 30 s "
                            f"(events: {len(watch.events())})")
    t_full = full[2]
    mismatched = int(full[1].split("=")[1])
    peer.add("first picture ms", 1000 * (t_full - watch.started))
    peer.add("first picture bytes", proxy.bytes(0, t_full))
    peer.add("first picture display bytes", proxy.bytes(0, t_full, channel="display"))
    peer.add("first picture main bytes", proxy.bytes(0, t_full, channel="main"))
    peer.add("first picture up bytes", proxy.bytes(0, t_full, direction="up"))
    peer.add("first picture mismatched", mismatched)
    display_open = watch.events("open", accept=lambda rest: rest.startswith("display"))
    if display_open:
        peer.add("first picture from display ms", 1000 * (t_full - display_open[0][2]))
    primaries = watch.events("primary")
    if primaries and not primaries[0][1].startswith(f"{WIDTH}x{HEIGHT}"):
        raise watch.failure(f"primary surface {primaries[0][1]}, want {WIDTH}x{HEIGHT}")


def measure_small_changes(peer, session, watch, proxy, samples):
    """Per marker: bytes server->client from the command to the redraw of
    the marker pixel in the marker's colour, and the echo -> redraw latency."""
    for i in range(samples):
        index = i % len(MARKERS)
        colour = f"0x{MARKERS[index]:06x}"
        # Any phase against the servers' refresh timers (30 Hz on both).
        time.sleep(random.uniform(0.1, 0.134))
        first_chunk = len(session.serial.chunks)
        t_send = time.monotonic()
        session.send(str(index).encode())
        t_serial = session.byte_time(str(index).encode(), first_chunk, 10)
        probe = watch.wait_event("probe", 3, after=t_send, accept=lambda rest: rest == colour)
        if not probe:
            print(f"{session.name}: marker {index} never reached the client", file=sys.stderr)
            continue
        t_probe = probe[2]
        peer.add("small bytes", proxy.bytes(t_send, t_probe))
        peer.add("small display bytes", proxy.bytes(t_send, t_probe, channel="display"))
        peer.add("small up bytes", proxy.bytes(t_send, t_probe, direction="up"))
        peer.add("small latency", 1000 * (t_probe - t_serial))
        redraws = [e for e in watch.events("invalidate", t_send) if e[2] <= t_probe]
        peer.add("small redraws", len(redraws))
        peer.add("small pixels", redrawn_pixels(redraws))


def redrawn_pixels(invalidates):
    total = 0
    for _, rest, _ in invalidates:
        _, _, w, h = (int(v) for v in rest.split())
        total += w * h
    return total


def updates(invalidates, t0, t1):
    """Client redraws in [t0, t1], grouped: one server refresh sends all its
    rectangles at once, the client redraws them within a few ms."""
    times = sorted(t for _, _, t in invalidates if t0 <= t <= t1)
    return sum(1 for i, t in enumerate(times) if i == 0 or t - times[i - 1] > UPDATE_GAP_S)


def measure_animation(peer, session, watch, proxy, seconds):
    session.send(b"a")
    time.sleep(0.5)
    t0 = time.monotonic()
    vmm0, client0 = session.cpu_seconds(), watch.cpu_seconds()
    time.sleep(seconds)
    t1 = time.monotonic()
    vmm1, client1 = session.cpu_seconds(), watch.cpu_seconds()
    wall = t1 - t0
    invalidates = watch.events("invalidate", t0)
    in_window = [e for e in invalidates if e[2] <= t1]
    pixels = redrawn_pixels(in_window)
    count = updates(in_window, t0, t1)
    down = proxy.bytes(t0, t1)
    peer.add("animate fps", frame_rate(session, (t0, t1)))
    peer.add("animate updates", count / wall)
    peer.add("animate redraws", len(in_window) / wall)
    peer.add("animate mpixels", pixels / wall / 1e6)
    if count:
        peer.add("animate pixels per update", pixels / count)
    peer.add("animate kbytes", down / wall / 1000)
    if count:
        peer.add("animate bytes per update", down / count)
    peer.add("animate up kbytes", proxy.bytes(t0, t1, direction="up") / wall / 1000)
    peer.add("animate vmm cpu", 100 * (vmm1 - vmm0) / wall)
    peer.add("animate client cpu", 100 * (client1 - client0) / wall)
    session.send(b"s")
    session.wait_serial(rb"STOPPED frames=\d+", 10)


def run_session(peer, opts):
    server_port = free_port()
    cmd = spice_command(peer.command, server_port, peer.name == "qemu")
    session = Session(f"{peer.name} ({peer.accel})", cmd, dict(os.environ))
    proxy = watch = None
    try:
        # QEMU on the nested KVM spends seconds in SeaBIOS; both servers
        # listen before the guest runs.
        session.wait_serial(rb"READY 1920x1080", 90)
        # The servers pick up the guest's picture at their next refresh(es);
        # a loaded machine (the smoke test runs beside other tests) needs
        # longer before the first picture is the guest's.
        time.sleep(max(opts.settle, 2.0) if opts.smoke else opts.settle)
        proxy = Proxy(server_port)
        watch = Watch(opts.client, proxy.port)
        measure_first_picture(peer, watch, proxy)
        time.sleep(1.0)                 # the other channels open, the last acks pass
        peer.channels = proxy.channels()

        t0 = time.monotonic()
        time.sleep(opts.idle)
        t1 = time.monotonic()
        peer.add("idle bytes", proxy.bytes(t0, t1) / (t1 - t0))
        if opts.samples:
            measure_small_changes(peer, session, watch, proxy, opts.samples)
        if opts.seconds:
            measure_animation(peer, session, watch, proxy, opts.seconds)

        status = watch.leave()
        if status != 0:
            raise watch.failure(f"exit status {status} after SIGTERM, want 0")
        time.sleep(1.0)
        if session.proc.poll() is not None:
            peer.add("survived disconnect", 0)
            raise session.failure("it died within 1 s of the client's clean disconnect")
        peer.add("survived disconnect", 1)
        session.quit()
    finally:
        if watch:
            watch.kill()
        if proxy:
            proxy.close()
        session.kill()
    print(f"{session.name}: channels {' '.join(getattr(peer, 'channels', []))}; " + ", ".join(
        f"{figure} {values[-1]:.1f}" for figure, values in peer.figures.items()),
        file=sys.stderr, flush=True)


# --- Report -------------------------------------------------------------

def median(values):
    return statistics.median(values)


ROWS = (
    # label, figure, how to summarize, unit, scale
    ("first picture: client start -> full", "first picture ms", median, "ms", 1),
    ("  display channel open -> full", "first picture from display ms", median, "ms", 1),
    ("  server->client bytes until then", "first picture bytes", median, "kB", 1e-3),
    ("  of which main channel", "first picture main bytes", median, "kB", 1e-3),
    ("  of which display channel", "first picture display bytes", median, "kB", 1e-3),
    ("  client->server bytes until then", "first picture up bytes", median, "kB", 1e-3),
    ("  pixels not the guest's colour", "first picture mismatched", max, "", 1),
    ("idle: server->client", "idle bytes", median, "B/s", 1),
    ("1-pixel change: server->client", "small bytes", median, "B", 1),
    ("  the same, max", "small bytes", max, "B", 1),
    ("  of which display channel", "small display bytes", median, "B", 1),
    ("  client redraws per change", "small redraws", median, "", 1),
    ("  pixels redrawn per change", "small pixels", median, "px", 1),
    ("  latency COM1 echo->redraw, median", "small latency", median, "ms", 1),
    ("  latency, p95", "small latency", lambda v: percentile(v, 0.95), "ms", 1),
    ("animation: guest frames/s", "animate fps", median, "/s", 1),
    ("  updates/s at the client", "animate updates", median, "/s", 1),
    ("  redrawn rectangles/s", "animate redraws", median, "/s", 1),
    ("  redrawn pixels/s", "animate mpixels", median, "Mpx", 1),
    ("  server->client", "animate kbytes", median, "kB/s", 1),
    ("  pixels redrawn per update", "animate pixels per update", median, "kpx", 1e-3),
    ("  bytes per update", "animate bytes per update", median, "kB", 1e-3),
    ("  client->server", "animate up kbytes", median, "kB/s", 1),
    ("  VMM CPU", "animate vmm cpu", median, "%", 1),
    ("  client CPU", "animate client cpu", median, "%", 1),
    ("VMM alive after client left", "survived disconnect", min, "", 1),
)


def print_report(peers, opts):
    print(f"SPICE: {WIDTH}x{HEIGHT}x32 guest (tests/guests/animate.c), no window, client "
          f"tests/bench/spice-watch through a counting proxy; {opts.runs} run(s), "
          f"{opts.samples} one-pixel changes per run, animation over {opts.seconds:g} s, "
          f"CPU as % of one core")
    for peer in peers:
        if peer.unavailable:
            print(f"{peer.name} ({peer.accel}): not measured: {peer.unavailable}")
    print_table(peers, ROWS, label_width=38, unit_width=4)


def smoke_check(peers):
    """The figures a working build must produce; returns the problems."""
    problems = []
    for peer in peers:
        label = f"{peer.name} ({peer.accel})"
        f = peer.figures
        if peer.unavailable:
            problems.append(f"{label}: {peer.unavailable}")
            continue
        if not f.get("first picture ms"):
            problems.append(f"{label}: no complete first picture reached the client")
        elif max(f["first picture mismatched"]) != 0:
            problems.append(f"{label}: {max(f['first picture mismatched'])} pixels of the first "
                            f"picture are not the guest's background")
        if not f.get("small bytes"):
            problems.append(f"{label}: no one-pixel change reached the client")
        elif median(f["small bytes"]) > SMOKE_SMALL_CHANGE_LIMIT:
            problems.append(f"{label}: a one-pixel change costs {median(f['small bytes']):.0f} "
                            f"bytes (limit {SMOKE_SMALL_CHANGE_LIMIT})")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--vmm", default="build/app/vessel-vmm")
    parser.add_argument("--client", help="spice-watch (default: tests/bench/spice-watch in "
                        "the build directory of --vmm)")
    parser.add_argument("--guest", help="the animate guest (default: tests/guests/animate.elf "
                        "in the build directory of --vmm)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10, help="animation (default: "
                        "%(default)s)")
    parser.add_argument("--samples", type=int, default=20, help="one-pixel changes per run")
    parser.add_argument("--idle", type=float, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--settle", type=float, default=0.5, help=argparse.SUPPRESS)
    parser.add_argument("--accel", choices=("kvm", "tcg", "both"), default="both")
    parser.add_argument("--no-qemu", action="store_true", help="measure vessel-vmm alone")
    parser.add_argument("--smoke", action="store_true",
                        help="a short vessel-vmm-only run that fails on a missing picture, an "
                             "absurd cost of a small change or a VMM lost on disconnect "
                             "(meson test --suite spice)")
    opts = parser.parse_args()
    if opts.smoke:
        opts.no_qemu = True
        opts.seconds, opts.samples, opts.idle = 2, 8, 1
    build = os.path.dirname(os.path.dirname(os.path.abspath(opts.vmm)))
    opts.guest = opts.guest or os.path.join(build, "tests", "guests", "animate.elf")
    opts.client = opts.client or os.path.join(build, "tests", "bench", "spice-watch")

    for path, what in ((opts.guest, "guest"), (opts.client, "client")):
        if not os.path.exists(path):
            sys.exit(f"spice: no {what} {path} (build it, or pass --{what})")
    peers = make_peers(opts, traced=False)

    load_before = os.getloadavg()[0]
    for _ in range(opts.runs):
        for peer in peers:
            if peer.unavailable:
                continue
            try:
                run_session(peer, opts)
            except BenchError as error:
                # A VMM that cannot do it once will not do better later.
                peer.unavailable = str(error)
                print(error, file=sys.stderr)
    load_after = os.getloadavg()[0]

    print_report(peers, opts)
    print(f"host load average {load_before:.2f} before, {load_after:.2f} after")
    if opts.smoke:
        problems = smoke_check(peers)
        for problem in problems:
            print(f"FAIL: {problem}")
        if problems:
            sys.exit(1)
        print("smoke: first picture complete and right, one-pixel changes below "
              f"{SMOKE_SMALL_CHANGE_LIMIT} bytes, VMM alive after the client left, on " +
              ", ".join(sorted({peer.accel for peer in peers})))


if __name__ == "__main__":
    main()
