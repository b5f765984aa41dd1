#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Guest instructions per second of the software CPU on a compute loop,
against qemu-system-x86_64 -accel tcg in the same run.

The guest is a multiboot kernel made of a few bytes of 32-bit code:

    mov edx, N
  loop:
    add eax, ebx
    xor ecx, eax
    add ebx, 3
    dec edx
    jnz loop          ; 5 instructions per iteration
    out 0xf4, al      ; ends the VMM

Each VMM runs the loop with two iteration counts; the difference cancels
start-up and teardown: MIPS = 5 * (N2 - N1) / (T2 - T1) / 1e6.

Usage: tests/bench/mips.py [--vmm build/app/vessel-vmm] [--runs 3]
"""

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from vmmtest import multiboot_image  # noqa: E402

INSNS_PER_ITERATION = 5


def loop_image(iterations):
    code = (b"\xba" + struct.pack("<I", iterations) +   # mov edx, N
            b"\x01\xd8"                                  # add eax, ebx
            b"\x31\xc1"                                  # xor ecx, eax
            b"\x83\xc3\x03"                              # add ebx, 3
            b"\x4a"                                      # dec edx
            b"\x75\xf6"                                  # jnz loop (-10)
            b"\xe6\xf4")                                 # out 0xf4, al
    return multiboot_image(code)


def timed(cmd):
    start = time.perf_counter()
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode & 1 == 0:
        sys.exit(f"{cmd[0]} did not end through the exit port ({result.returncode}): {result.stderr}")
    return elapsed


def mips(make_cmd, path_small, path_big, n_small, n_big, runs):
    t_small = statistics.median(timed(make_cmd(path_small)) for _ in range(runs))
    t_big = statistics.median(timed(make_cmd(path_big)) for _ in range(runs))
    return INSNS_PER_ITERATION * (n_big - n_small) / (t_big - t_small) / 1e6, t_big


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vmm", default="build/app/vessel-vmm")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=200_000_000)
    args = parser.parse_args()
    n_small, n_big = args.iterations // 10, args.iterations

    with tempfile.TemporaryDirectory() as tmp:
        small, big = os.path.join(tmp, "small.bin"), os.path.join(tmp, "big.bin")
        with open(small, "wb") as f:
            f.write(loop_image(n_small))
        with open(big, "wb") as f:
            f.write(loop_image(n_big))

        vessel, t = mips(lambda k: [args.vmm, "--accel", "tcg", "--memory", "16M", "--kernel", k,
                                    "--serial", "none"], small, big, n_small, n_big, args.runs)
        print(f"vessel-vmm --accel tcg: {vessel:8.1f} MIPS  ({INSNS_PER_ITERATION * n_big / 1e9:.1f} G instructions in {t:.2f} s)")
        if shutil.which("qemu-system-x86_64"):
            qemu, t = mips(lambda k: ["qemu-system-x86_64", "-accel", "tcg", "-m", "16", "-kernel", k,
                                      "-nodefaults", "-display", "none", "-monitor", "none",
                                      "-serial", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=1"],
                           small, big, n_small, n_big, args.runs)
            print(f"qemu-system-x86_64 -accel tcg: {qemu:8.1f} MIPS  ({t:.2f} s)")
            print(f"ratio vessel/qemu: {vessel / qemu:.3f}")
        else:
            print("qemu-system-x86_64 not installed: no peer figure")


if __name__ == "__main__":
    main()
