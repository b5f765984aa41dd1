#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Start-up cost and memory footprint of vessel-vmm on KVM, against
qemu-system-x86_64 measured in the same run (TESTING.md: every figure is a
ratio against a peer).

  start-to-exit: wall time of a whole run whose guest writes the test-exit
                 port as its first instruction (start, guest entry, teardown)
  start-to-entry: vessel-vmm's own --verbose report of when vCPU 0 enters
  RSS:           resident memory of the VMM process with a 64 MiB guest idling
                 in HLT, read from /proc/PID/status after it settled

Usage: tests/bench/startup.py [--vmm build/app/vessel-vmm] [--runs 20]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from vmmtest import HALT_FOREVER, multiboot_image, serial_print_code  # noqa: E402

EXIT_NOW = b"\xb0\x05\xe6\xf4"                 # mov al, 5; out 0xf4, al


def vessel_cmd(vmm, kernel, extra=()):
    return [vmm, "--accel", "kvm", "--memory", "64M", "--kernel", kernel, "--serial", "none", *extra]


def qemu_cmd(kernel, serial="none"):
    return ["qemu-system-x86_64", "-accel", "kvm", "-m", "64", "-kernel", kernel, "-nodefaults",
            "-display", "none", "-monitor", "none", "-serial", serial,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]


def wall_time(cmd, expected_status=11):
    start = time.perf_counter()
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != expected_status:
        sys.exit(f"{cmd[0]} exited {result.returncode}: {result.stderr}")
    return elapsed, result.stderr


def rss_kib(cmd, settle_s=1.0):
    """RSS once the guest printed its first line (it then idles in HLT)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        if not proc.stdout.readline():
            sys.exit(f"{cmd[0]} did not start the guest")
        time.sleep(settle_s)
        with open(f"/proc/{proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
    finally:
        proc.kill()
        proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vmm", default="build/app/vessel-vmm")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    have_qemu = shutil.which("qemu-system-x86_64") is not None

    with tempfile.TemporaryDirectory() as tmp:
        exit_kernel = os.path.join(tmp, "exit.bin")
        idle_kernel = os.path.join(tmp, "idle.bin")
        with open(exit_kernel, "wb") as f:
            f.write(multiboot_image(EXIT_NOW))
        with open(idle_kernel, "wb") as f:
            f.write(multiboot_image(serial_print_code("up\n") + HALT_FOREVER))

        vessel_times, entry_ms, qemu_times = [], [], []
        for _ in range(args.runs):
            elapsed, stderr = wall_time(vessel_cmd(args.vmm, exit_kernel, ["--verbose"]))
            vessel_times.append(elapsed)
            m = re.search(r"entering the guest ([\d.]+) ms after start", stderr)
            if m:
                entry_ms.append(float(m.group(1)))
            if have_qemu:
                qemu_times.append(wall_time(qemu_cmd(exit_kernel))[0])

        vessel_rss = statistics.median(
            rss_kib([args.vmm, "--accel", "kvm", "--memory", "64M", "--kernel", idle_kernel])
            for _ in range(3))
        print(f"runs: {args.runs} (medians)")
        print(f"vessel-vmm start-to-exit:  {statistics.median(vessel_times) * 1000:7.1f} ms")
        if entry_ms:
            print(f"vessel-vmm start-to-entry: {statistics.median(entry_ms):7.1f} ms")
        print(f"vessel-vmm RSS, 64 MiB guest idle: {vessel_rss / 1024:6.1f} MiB")
        if have_qemu:
            qemu_rss = statistics.median(rss_kib(qemu_cmd(idle_kernel, "stdio"))
                                         for _ in range(3))
            q = statistics.median(qemu_times)
            v = statistics.median(vessel_times)
            print(f"qemu       start-to-exit:  {q * 1000:7.1f} ms   ratio vessel/qemu {v / q:.3f}")
            print(f"qemu       RSS, 64 MiB guest idle: {qemu_rss / 1024:6.1f} MiB   ratio vessel/qemu {vessel_rss / qemu_rss:.3f}")
        else:
            print("qemu-system-x86_64 not installed: no peer figures (apt install qemu-system-x86)")


if __name__ == "__main__":
    main()
