#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo machine a new user starts first (docs/demo.md), on the software
CPU, against qemu-system-x86_64 -accel tcg with the same kernel, initrd,
command line and memory, measured in the same run (TESTING.md).

  to shell:     wall time from starting the VMM until the guest's init says
                "a shell started on /dev/ttyS0" on the serial console
                (kernel boot, initramfs, modules, acpid, shells)
  to power-off: wall time from then until the process has exited after
                system_powerdown (vessel-vmm's control socket, QEMU's QMP):
                the ACPI power button, acpid, poweroff, S5

Usage: tests/bench/demo.py [--vmm build/app/vessel-vmm] [--script build/data/demo/vessel-prepare-demo] [--runs 3]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

READY = b"a shell started on /dev/ttyS0"
MEMORY_MIB = 256


def prepare(script):
    out = subprocess.run([sys.executable, script, "--machine"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, check=True).stdout
    fields = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    return fields["kernel"], fields["initrd"], fields["cmdline"]


def powerdown(path, qmp):
    for _ in range(100):
        try:
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(path)
            break
        except OSError:
            time.sleep(0.05)
    f = sock.makefile("rwb", buffering=0)
    f.readline()
    for command in ("qmp_capabilities", "system_powerdown"):
        f.write(json.dumps({"execute": command}).encode() + b"\n")
        while "return" not in json.loads(f.readline()):
            pass
    return sock


def run(cmd, control, qmp):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    seen = b""
    while READY not in seen:
        chunk = proc.stdout.read1(4096)
        if not chunk:
            sys.exit(f"{cmd[0]} ended before the demo's shell: {seen[-400:]!r}")
        seen = (seen + chunk)[-4096:]
    ready = time.perf_counter()
    # acpid starts just before the shells; give it a moment to open the button.
    time.sleep(1.0)
    pressed = time.perf_counter()
    sock = powerdown(control, qmp)
    while proc.stdout.read1(4096):
        pass
    proc.wait(timeout=60)
    done = time.perf_counter()
    sock.close()
    return ready - start, done - pressed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vmm", default="build/app/vessel-vmm")
    parser.add_argument("--script", default="build/data/demo/vessel-prepare-demo")
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    kernel, initrd, cmdline = prepare(opts.script)
    # Serial first: /dev/console stays the screen, as in the app.
    cmdline = "console=ttyS0 " + cmdline
    tmp = tempfile.mkdtemp(prefix="vessel-bench-demo-")
    sock = os.path.join(tmp, "control.sock")
    vessel = [opts.vmm, "--accel", "tcg", "--memory", f"{MEMORY_MIB}M", "--kernel", kernel,
              "--initrd", initrd, "--cmdline", cmdline, "--serial", "stdio", "--control", sock]
    qemu = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(MEMORY_MIB), "-kernel", kernel,
            "-initrd", initrd, "-append", cmdline, "-nodefaults", "-vga", "std",
            "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-qmp", f"unix:{sock},server=on,wait=off"]
    results = {"vessel-vmm": [], "qemu": []}
    for _ in range(opts.runs):           # interleaved: the host's load hits both alike
        for name, cmd in (("vessel-vmm", vessel), ("qemu", qemu)):
            if os.path.exists(sock):
                os.unlink(sock)
            results[name].append(run(cmd, sock, name == "qemu"))
    print(f"demo machine on tcg, {opts.runs} runs each, medians (s):")
    print(f"{'':14}{'vessel-vmm':>12}{'qemu':>10}{'ratio':>8}")
    for i, label in enumerate(("to shell", "to power-off")):
        ours = statistics.median(r[i] for r in results["vessel-vmm"])
        theirs = statistics.median(r[i] for r in results["qemu"])
        print(f"{label:14}{ours:12.2f}{theirs:10.2f}{ours / theirs:8.2f}")


if __name__ == "__main__":
    main()
