#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Clients coming and going leave the VMM healthy.

Starts tests/guests/display.elf with a SPICE server (with a password).
After "READY 640x480" and two warm-up connections (the first client makes
spice-server set up its encoders and caches), the VMM's resident set
(VmRSS) is read; then 20 cycles of:

* spicy-screenshot connecting, getting the 640x480 pattern pixel for
  pixel and leaving;
* spicy-screenshot killed 0.3 s after its start (a client that vanishes
  in the link handshake or in the middle of the picture);
* two spicy-screenshots at once (spice-server serves one client at a
  time, a new one taking over: at least one must get a picture);
* spice-keys opening the inputs channel and leaving at once;
* a TCP connection closed without a byte, and one that sends the SPICE
  magic and garbage, then closes.

Afterwards the VMM must still be running, its VmRSS may have grown by at
most --rss-limit-mib (default 4 MiB), the guest must still answer on COM1
('n' gives "READY 800x600"), a screendump through the control socket and
a new spicy-screenshot must both show the 800x600 pattern, and 'q' must
end it with status 65.  The guest waits at most 60 s for 'n', so the
cycles must be done by then.

Exit status: 0 if every expectation held, 1 otherwise (77: skipped).
"""

import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spicetest import (run_test, PASS_STATUS, READY_TIMEOUT_S, SpiceGuest,  # noqa: E402
                       TestFailure, argument_parser, decode_image,
                       keep_artifact, new_password, picture_difference, screenshot,
                       spice_keys, verdict)

CYCLES = 20
WARM_UP = 2
GUEST_WAIT_S = 60       # display.c: WAIT_SECONDS for the next byte on COM1


def expect_picture(opts, guest, workdir, mode, why):
    """Problems with a spicy-screenshot of mode (none if it is exact)."""
    path = os.path.join(workdir, "cycle.ppm")
    result, picture = screenshot(guest.port, path, guest.passwords[-1])
    if result.status != 0 or picture is None:
        return [f"{why}: spicy-screenshot failed ({result.describe()})"]
    difference = picture_difference(picture, mode)
    if difference:
        kept = keep_artifact(opts, path, f"{opts.name}-{mode}.ppm")
        return [f"{why}: {difference}" + (f" (kept as {kept})" if kept else "")]
    return []


def vanishing_client(guest, workdir):
    """A spicy-screenshot killed 0.3 s in (it gives no verdict)."""
    proc = subprocess.Popen(["spicy-screenshot", "-h", "127.0.0.1", "-p", str(guest.port),
                             "-w", guest.passwords[-1],
                             "-o", os.path.join(workdir, "vanished.ppm")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def two_clients(guest, workdir):
    """Two spicy-screenshots at once.  spice-server serves one client at a
    time (a new one takes over), so at least one must get a picture; the
    VMM must take it in its stride.  Returns the problems."""
    procs = [subprocess.Popen(["spicy-screenshot", "-h", "127.0.0.1", "-p", str(guest.port),
                               "-w", guest.passwords[-1],
                               "-o", os.path.join(workdir, f"pair{i}.ppm")],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i in range(2)]
    statuses = []
    for proc in procs:
        try:
            statuses.append(proc.wait(30))
        except subprocess.TimeoutExpired:
            proc.kill()
            statuses.append(proc.wait())
    if 0 not in statuses:
        return [f"two clients at once: neither got a picture (statuses {statuses})"]
    return []


def raw_connections(port):
    """One connection closed at once, one with the link magic ("REDQ",
    SPICE protocol §4.1 link header) and then garbage."""
    socket.create_connection(("127.0.0.1", port), 5).close()
    with socket.create_connection(("127.0.0.1", port), 5) as s:
        s.sendall(b"REDQ" + bytes(range(256)) * 4)
        time.sleep(0.05)


def run(opts, workdir):
    guest = SpiceGuest(opts, workdir, opts.guest, password=new_password())
    problems = []
    try:
        problems += guest.start()
        ready = guest.machine.wait_for(r"^READY 640x480$", READY_TIMEOUT_S)
        began = time.monotonic()
        for i in range(WARM_UP):
            problems += expect_picture(opts, guest, workdir, "640x480", f"warm-up {i + 1}")
        rss_before = guest.rss_kib()
        for cycle in range(1, CYCLES + 1):
            if problems:
                break
            problems += expect_picture(opts, guest, workdir, "640x480", f"cycle {cycle}")
            vanishing_client(guest, workdir)
            problems += two_clients(guest, workdir)
            result = spice_keys(opts, guest.port, guest.passwords[-1])
            if result.status != 0:
                problems.append(f"cycle {cycle}: spice-keys could not open the inputs "
                                f"channel ({result.describe()})")
            try:
                raw_connections(guest.port)
            except OSError as e:
                problems.append(f"cycle {cycle}: a raw TCP connection failed: {e}")
            if not guest.machine.alive():
                problems.append(f"cycle {cycle}: the VMM exited")
                break
        if problems:
            return verdict(opts.name, problems, guest.machine, opts.verbose)
        rss_after = guest.rss_kib()
        elapsed = time.monotonic() - began
        growth_kib = rss_after - rss_before
        print(f"  {CYCLES} cycles in {elapsed:.1f} s; VmRSS {rss_before} KiB before, "
              f"{rss_after} KiB after ({growth_kib:+d} KiB)")
        # Under AddressSanitizer freed memory waits in its quarantine (up to
        # 256 MiB), so RSS says nothing there; LeakSanitizer checks for leaks
        # at exit instead, and the plain build checks RSS.
        if "ASAN_OPTIONS" in os.environ:
            print("  (AddressSanitizer build: VmRSS not compared, LeakSanitizer checks at exit)")
        elif growth_kib > opts.rss_limit_mib * 1024:
            problems.append(f"VmRSS grew by {growth_kib} KiB in {CYCLES} cycles, "
                            f"more than {opts.rss_limit_mib} MiB")
        if elapsed > GUEST_WAIT_S - 5:
            problems.append(f"the cycles took {elapsed:.0f} s: the guest may have given up "
                            f"waiting for 'n' ({GUEST_WAIT_S} s)")
        guest.machine.type("n")
        guest.machine.wait_for(r"^READY 800x600$", READY_TIMEOUT_S, ready.end())
        print("  the guest still answers on COM1: READY 800x600")
        path = os.path.join(workdir, "screendump.png")
        arguments = {"filename": path}
        if opts.qemu:
            arguments["format"] = "png"     # QEMU 7.2 writes PPM otherwise
        guest.qmp.execute("screendump", arguments)
        difference = picture_difference(decode_image(path), "800x600")
        if difference:
            kept = keep_artifact(opts, path, f"{opts.name}-screendump-800x600.png")
            problems.append(f"screendump after the cycles: {difference}"
                            + (f" (kept as {kept})" if kept else ""))
        else:
            print("  the screendump after the cycles is the 800x600 pattern")
        more = expect_picture(opts, guest, workdir, "800x600", "a client after the cycles")
        if not more:
            print("  a new client after the cycles gets the 800x600 pattern")
        problems += more
        guest.machine.type("q")
        status = guest.machine.wait_exit(20)
        if status != PASS_STATUS:
            problems.append(f"exit status {status}, want {PASS_STATUS}")
    except (TestFailure, OSError) as e:
        problems.append(str(e))
    finally:
        guest.stop()
    return verdict(opts.name, problems, guest.machine, opts.verbose)


def main():
    ap = argument_parser(__doc__, "spice-cycles")
    ap.add_argument("--spice-keys", required=True, help="tests/spice/spice-keys from the build")
    ap.add_argument("--rss-limit-mib", type=float, default=4,
                    help="how much VmRSS may grow over the cycles (default 4)")
    opts = ap.parse_args()
    return run_test(opts, ["spicy-screenshot", opts.spice_keys], run)


if __name__ == "__main__":
    sys.exit(main())
