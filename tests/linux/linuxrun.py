# SPDX-License-Identifier: GPL-2.0-or-later
"""Boots the Linux test guest on a VMM and judges the run: shared by
run-linux.py and tests/bench/linux-boot.py (tests/linux/README.md).

Times are taken on the host, from just before the VMM process starts to
the moment a marker's last byte arrives on its stdout (the serial console).
"""

import os
import re
import selectors
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from orphans import die_with_parent  # noqa: E402

START = "VESSEL-INIT-START"
END = "VESSEL-INIT-END"
MARKERS = (START, END)
STATUS_OK = (0x20 << 1) | 1          # the guest wrote 0x20 to port 0xf4
STATUS_FAIL = (0x21 << 1) | 1        # ... 0x21: the workload's answers were wrong

QEMU = "qemu-system-x86_64"

# The first line of a kernel crash report (oops=panic turns each into a
# panic, and panic=-1 into a reset).
CRASH = re.compile(r"Kernel panic - not syncing|BUG: |Oops: |general protection fault|"
                   r"invalid opcode: |double fault: ")


def vessel_command(vmm, guest, initrd, accel="tcg", cpus=1):
    return [vmm, "--accel", accel, "--cpus", str(cpus), "--memory", f"{guest['memory_mib']}M",
            "--kernel", guest["kernel"], "--initrd", initrd, "--cmdline", guest["cmdline"],
            "--no-reboot", "--serial", "stdio"]


def vessel_test_command(vmm, guest, extra_cmdline, *extra_args, cpus=1):
    """vessel_command() on the software CPU with words added to the kernel
    command line (vessel.fbtest, vessel.kbdtest) and more VMM options."""
    cmd = vessel_command(vmm, guest, guest["initrd"], accel="tcg", cpus=cpus)
    cmd[cmd.index("--cmdline") + 1] = f"{guest['cmdline']} {extra_cmdline}"
    return cmd + list(extra_args)


def qemu_command(guest, initrd, qemu=QEMU, cpus=1):
    """QEMU with the same kernel, initrd, memory and command line, its TCG,
    and the test-exit device vessel-vmm has built in."""
    return [qemu, "-accel", "tcg", "-smp", str(cpus), "-m", str(guest["memory_mib"]),
            "-kernel", guest["kernel"], "-initrd", initrd, "-append", guest["cmdline"],
            "-nodefaults", "-serial", "stdio", "-display", "none",
            "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=1"]


class Boot:
    """One run: status (None after a timeout), serial output, stderr, and
    seconds from start to each marker seen and to the process's exit."""

    def __init__(self):
        self.status = None
        self.output = ""
        self.stderr = ""
        self.marker_s = {}
        self.exit_s = None


def boot(cmd, timeout_s, echo=None):
    """Runs cmd until it exits or timeout_s passes (then kills it). echo, a
    binary file, gets the serial output as it arrives."""
    result = Boot()
    output = bytearray()
    stderr = bytearray()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=die_with_parent)
    timed_out = False
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, output)
        selector.register(proc.stderr, selectors.EVENT_READ, stderr)
        open_streams = 2
        while open_streams:
            remaining = start + timeout_s - time.perf_counter()
            if remaining <= 0:
                proc.kill()
                timed_out = True
                break
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, 65536)
                now = time.perf_counter()
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                buffer = key.data
                searched_from = max(0, len(buffer) - 64)
                buffer += chunk
                if buffer is not output:
                    continue
                if echo:
                    echo.write(chunk)
                    echo.flush()
                for marker in MARKERS:
                    if marker not in result.marker_s and \
                            output.find(marker.encode(), searched_from) >= 0:
                        result.marker_s[marker] = now - start
    status = proc.wait()
    result.exit_s = time.perf_counter() - start
    result.status = None if timed_out else status
    result.output = output.decode(errors="replace").replace("\r\n", "\n")
    result.stderr = stderr.decode(errors="replace")
    return result


def problems(run, guest, timeout_s, expect_fail=False, cpus=1):
    """What is wrong with a run, as sentences; empty when it passed.
    expect_fail: the initramfs carries a wrong answer (the negative test);
    cpus: how many CPUs the guest's init must report online."""
    found = []
    if run.status is None:
        found.append(f"the VMM did not exit within {timeout_s:g} s; killed")
    elif run.status == 1:
        # vessel-vmm's last stderr line says what went wrong, e.g. that
        # --accel tcg is not available yet.
        last = (run.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        return [f"the VMM exited with status 1: {last}"]
    crash = next((line for line in run.output.splitlines() if CRASH.search(line)), None)
    if crash:
        found.append(f"the guest kernel crashed: {crash.strip()}")
    for marker in MARKERS:
        if marker not in run.marker_s:
            found.append(f"no {marker} on the serial console")
    ok = re.findall(r"VESSEL-WORKLOAD-OK ([0-9a-f]{64})", run.output)
    fail = re.findall(r"VESSEL-WORKLOAD-FAIL((?: [a-z]+)+)", run.output)
    if expect_fail:
        if ok:
            found.append("the guest reported VESSEL-WORKLOAD-OK although one expected "
                         "answer is wrong: its comparison does not work")
        if not any("data" in steps.split() for steps in fail):
            found.append("no 'VESSEL-WORKLOAD-FAIL data' on the serial console")
    else:
        for steps in fail:
            found.append(f"the guest computed wrong answers in the steps:{steps}")
        if ok and ok[0] != guest["checksum"]:
            found.append(f"VESSEL-WORKLOAD-OK {ok[0]}, but the answers computed on the host "
                         f"hash to {guest['checksum']}")
        elif not ok and not fail:
            found.append("no VESSEL-WORKLOAD-OK on the serial console")
    online = re.search(r"^vessel: Linux \S+, (\d+) CPU\(s\)", run.output, re.M)
    if online and int(online.group(1)) != cpus:
        found.append(f"the guest reports {online.group(1)} CPU(s) online, expected {cpus}")
    elif not online and START in run.marker_s:
        found.append("the guest's init did not report its CPUs")
    expected_status = STATUS_FAIL if expect_fail else STATUS_OK
    if run.status is not None and run.status != expected_status:
        meaning = {0: "the guest reset: a panic, or init ended without writing the test-exit port",
                   STATUS_OK: "workload passed",
                   STATUS_FAIL: "workload failed"}.get(run.status, "")
        found.append(f"exit status {run.status} ({meaning or 'unexpected'}), expected {expected_status}")
    return found


def describe_failure(run, found, tail_lines=40):
    """A report for a failed run: the problems, then the end of the serial
    output and the VMM's stderr."""
    text = ["FAIL: " + sentence for sentence in found]
    tail = run.output.splitlines()[-tail_lines:]
    if tail:
        text.append(f"--- last {len(tail)} lines of the serial console ---")
        text += tail
    else:
        text.append("--- nothing on the serial console ---")
    if run.stderr.strip():
        text.append("--- VMM stderr ---")
        text += run.stderr.strip().splitlines()[-tail_lines:]
    return "\n".join(text)

