#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boots Debian's kernel with the busybox test initramfs on vessel-vmm's
software CPU (or on QEMU's, with --peer qemu) and checks what a user would
see on the serial console: init started, the workload's answers match the
ones computed on the host, init ended, and the guest left through the
test-exit port (status 65). With --wrong-expected, the initramfs carries
one wrong answer and the guest must report it (status 67).

Prints the time from the VMM's start to VESSEL-INIT-START, to
VESSEL-INIT-END and to its exit. Exits 0 when the run passed, 1 otherwise.
See tests/linux/README.md.
"""

import argparse
import os
import shlex
import shutil
import sys

sys.dont_write_bytecode = True     # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linuxrun  # noqa: E402
import prepare  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--vmm", default=os.environ.get("VESSEL_VMM", "build/app/vessel-vmm"),
                        help="vessel-vmm to run (default: $VESSEL_VMM, else %(default)s)")
    parser.add_argument("--accel", default="tcg", help="vessel-vmm's --accel (default: %(default)s)")
    parser.add_argument("--peer", choices=["qemu"],
                        help=f"run {linuxrun.QEMU} -accel tcg instead of vessel-vmm")
    parser.add_argument("--timeout", type=float, default=240, metavar="SECONDS",
                        help="kill the VMM after this long (default: %(default)s)")
    parser.add_argument("--cpus", type=int, default=1,
                        help="vCPUs; the guest must report that many (default: %(default)s)")
    parser.add_argument("--wrong-expected", action="store_true",
                        help="boot the initramfs with a wrong expected answer: passes when the "
                        "guest reports VESSEL-WORKLOAD-FAIL and exits with status 67")
    parser.add_argument("--cache-dir", help="see prepare.py --help")
    parser.add_argument("--package", help="kernel package, see prepare.py --help")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="copy the serial console to stdout as it arrives")
    args = parser.parse_args()

    try:
        guest = prepare.prepare(args.cache_dir, args.package)
    except prepare.PrepareError as error:
        print(f"run-linux: error: {error}", file=sys.stderr)
        return 1
    initrd = guest["initrd_wrong_expected"] if args.wrong_expected else guest["initrd"]
    if args.peer == "qemu":
        if not shutil.which(linuxrun.QEMU):
            print(f"run-linux: error: {linuxrun.QEMU} not found: "
                  "sudo apt-get install qemu-system-x86", file=sys.stderr)
            return 1
        cmd = linuxrun.qemu_command(guest, initrd, cpus=args.cpus)
    else:
        if not os.access(args.vmm, os.X_OK):
            print(f"run-linux: error: {args.vmm} is not an executable; build vessel-vmm "
                  "(ninja -C build) or pass --vmm", file=sys.stderr)
            return 1
        cmd = linuxrun.vessel_command(args.vmm, guest, initrd, args.accel, args.cpus)

    print(f"run-linux: {guest['kernel_package']} {guest['kernel_version']}, "
          f"{os.path.basename(initrd)}, {guest['memory_mib']} MiB, cmdline '{guest['cmdline']}'")
    print("run-linux: " + shlex.join(cmd), flush=True)
    run = linuxrun.boot(cmd, args.timeout, echo=sys.stdout.buffer if args.verbose else None)

    def seconds(marker):
        return f"{run.marker_s[marker]:.2f} s" if marker in run.marker_s else "never"
    print(f"run-linux: time to {linuxrun.START}: {seconds(linuxrun.START)}, "
          f"to {linuxrun.END}: {seconds(linuxrun.END)}, to exit: {run.exit_s:.2f} s "
          f"(status {run.status if run.status is not None else 'none, killed'})")

    found = linuxrun.problems(run, guest, args.timeout, expect_fail=args.wrong_expected, cpus=args.cpus)
    if found:
        print(linuxrun.describe_failure(run, found), flush=True)
        return 1
    print("run-linux: PASS" + (" (the wrong answer was reported)" if args.wrong_expected else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
