#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Linux boot time on vessel-vmm's software CPU against qemu-system-x86_64
-accel tcg measured in the same run (TESTING.md: every figure is a ratio
against a peer): the same Debian kernel, busybox initramfs, memory and
command line (tests/linux/README.md).

  to init start: process start to VESSEL-INIT-START on the serial console
                 (firmware, kernel decompression and boot, initramfs unpack)
  to workload end: to VESSEL-INIT-END (the same, plus the guest's workload)
  workload:      the difference, i.e. the guest's user-space work alone
  to exit:       to the process's exit through the test-exit port

Runs alternate between the two VMMs so that load from other programs on the
host spreads over both. Every run must pass (status 65, the right answers);
after a failed run (shown on stderr) that VMM is not run again and its
earlier runs are not reported. When vessel-vmm cannot boot the guest yet,
QEMU's figures are printed alone, with the reason.

Usage: tests/bench/linux-boot.py [--vmm build/app/vessel-vmm] [--runs 5]
"""

import argparse
import os
import shutil
import statistics
import sys

sys.dont_write_bytecode = True     # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "linux"))
import linuxrun  # noqa: E402
import prepare  # noqa: E402

FIGURES = (
    ("to init start", lambda run: run.marker_s[linuxrun.START]),
    ("to workload end", lambda run: run.marker_s[linuxrun.END]),
    ("workload", lambda run: run.marker_s[linuxrun.END] - run.marker_s[linuxrun.START]),
    ("to exit", lambda run: run.exit_s),
)


class Peer:
    def __init__(self, name, cmd):
        self.name = name
        self.cmd = cmd
        self.runs = []
        self.unavailable = None       # why this VMM is not measured

    def measure(self, guest, timeout_s):
        run = linuxrun.boot(self.cmd, timeout_s)
        found = linuxrun.problems(run, guest, timeout_s)
        if found:
            # Not counted, and no further runs: a VMM that cannot boot the
            # guest (no --accel tcg yet, an unimplemented instruction) will
            # not do better the next time.
            self.unavailable = f"run {len(self.runs) + 1} failed: {found[0]}"
            if run.status != 1:
                print(f"{self.name}: run {len(self.runs) + 1} failed:", file=sys.stderr)
                print(linuxrun.describe_failure(run, found, tail_lines=15), file=sys.stderr)
            return
        self.runs.append(run)
        print(f"{self.name}: " + ", ".join(f"{label} {figure(run):.2f} s" for label, figure in FIGURES),
              file=sys.stderr, flush=True)

    def median(self, figure):
        return statistics.median(figure(run) for run in self.runs)

    def spread(self, figure):
        values = [figure(run) for run in self.runs]
        return f"{self.median(figure):6.2f} ({min(values):.2f}-{max(values):.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--vmm", default="build/app/vessel-vmm")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=240, metavar="SECONDS",
                        help="per run (default: %(default)s)")
    args = parser.parse_args()

    try:
        guest = prepare.prepare()
    except prepare.PrepareError as error:
        sys.exit(f"linux-boot: error: {error}")
    vessel = Peer("vessel-vmm", linuxrun.vessel_command(args.vmm, guest, guest["initrd"]))
    qemu = Peer("qemu", linuxrun.qemu_command(guest, guest["initrd"]))
    if not os.access(args.vmm, os.X_OK):
        vessel.unavailable = f"{args.vmm} is not an executable (build it, or pass --vmm)"
    if not shutil.which(linuxrun.QEMU):
        qemu.unavailable = f"{linuxrun.QEMU} is not installed (sudo apt-get install qemu-system-x86)"
    load_before = os.getloadavg()[0]
    for _ in range(args.runs):
        for peer in (vessel, qemu):
            if not peer.unavailable:
                peer.measure(guest, args.timeout)
    load_after = os.getloadavg()[0]

    print(f"Linux boot: {guest['kernel_package']} {guest['kernel_version']}, "
          f"{guest['memory_mib']} MiB, initramfs {os.path.getsize(guest['initrd']) // 1024} KiB "
          f"uncompressed, cmdline '{guest['cmdline']}'")
    print(f"host load average {load_before:.2f} before, {load_after:.2f} after")
    for peer in (vessel, qemu):
        if peer.unavailable:
            print(f"{peer.name}: not measured: {peer.unavailable}")
    measured = [peer for peer in (vessel, qemu) if peer.runs and not peer.unavailable]
    if not measured:
        sys.exit("linux-boot: no VMM completed a run")
    print("seconds from process start, median (min-max) of "
          + ", ".join(f"{len(peer.runs)} {peer.name} runs" for peer in measured))
    header = f"{'':18s}" + "".join(f"{peer.name:>22s}" for peer in measured)
    ratio = vessel in measured and qemu in measured
    print(header + (f"{'vessel/qemu':>14s}" if ratio else ""))
    for label, figure in FIGURES:
        row = f"{label:18s}" + "".join(f"{peer.spread(figure):>22s}" for peer in measured)
        if ratio:
            row += f"{vessel.median(figure) / qemu.median(figure):14.2f}"
        print(row)


if __name__ == "__main__":
    main()
