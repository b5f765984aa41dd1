#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run one Vessel test guest in vessel-vmm (or QEMU) and check the result.

The guest's serial console is the VMM's stdout.  The runner feeds optional
input to it, waits for the VMM to exit (with a timeout), and checks the exit
status and regular expressions on the serial output.  On failure it prints
the command line, the status, the serial output and stderr.

Input is sent line by line on cue: the k-th --stdin text is written when the
guest's output contains the --prompt marker for the k-th time, so nothing is
typed before the guest is listening.

For guests that must see exactly the command line they were given
(linux-entry), --cmdline-length pads it to a given length and
--cmdline-check appends a word with its hash.

Exit status of this script: 0 if every expectation held, 1 otherwise.
"""

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from orphans import die_with_parent  # noqa: E402

PASS_STATUS = 65   # guest wrote 0x20 to the test-exit port
FW_CFG_TEST_FILE = "name=opt/vessel/test,string=hello-fw-cfg"
DEFAULT_PROMPT = "input> "
# --cmdline-check: FNV-1a, 64-bit, over the UTF-8 bytes of the line.
FNV64_OFFSET = 0xcbf29ce484222325
FNV64_PRIME = 0x100000001b3
CMDLINE_CHECK_WORD = " cmdline_fnv="
CMDLINE_CHECK_LEN = len(CMDLINE_CHECK_WORD) + 16
# --cmdline-length pads with one word of these (no spaces, some punctuation).
PAD_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.,:/+%@"


def unescape(text):
    """Turn the backslash escapes \\n \\r \\t \\\\ typed on a command line
    into characters (meson passes real newlines, which stay as they are)."""
    out = []
    i = 0
    table = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in table:
            out.append(table[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def fnv1a64(data):
    h = FNV64_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV64_PRIME) & 0xffffffffffffffff
    return h


def build_cmdline(opts):
    """The guest's command line: --cmdline with {epoch} and {initrd_size}
    filled in, padded to --cmdline-length, then the --cmdline-check word."""
    cmdline = opts.cmdline.replace("{epoch}", str(int(time.time())))
    if "{initrd_size}" in cmdline:
        if not opts.initrd:
            raise ValueError("{initrd_size} needs --initrd")
        cmdline = cmdline.replace("{initrd_size}",
                                  str(os.path.getsize(opts.initrd)))
    if opts.cmdline_length is not None:
        check = CMDLINE_CHECK_LEN if opts.cmdline_check else 0
        missing = opts.cmdline_length - len(cmdline.encode()) - check
        prefix = " pad=" if cmdline else "pad="
        if missing < len(prefix):
            raise ValueError(f"--cmdline-length {opts.cmdline_length} is "
                             f"too short for the command line")
        pad = (PAD_CHARS * (missing // len(PAD_CHARS) + 1))
        cmdline += prefix + pad[:missing - len(prefix)]
    if opts.cmdline_check:
        digest = fnv1a64(cmdline.encode())
        cmdline += f"{CMDLINE_CHECK_WORD}{digest:016x}"
    return cmdline


def vessel_command(opts, cmdline):
    cmd = [opts.vmm, "--accel", opts.accel, "--memory", opts.memory,
           "--cpus", str(opts.cpus), "--kernel", opts.guest,
           "--cmdline", cmdline, "--serial", "stdio", "--display", "none"]
    if opts.initrd:
        cmd += ["--initrd", opts.initrd]
    if not opts.reboot:
        cmd.append("--no-reboot")
    cmd += ["--fw-cfg", FW_CFG_TEST_FILE]
    return cmd


def qemu_command(opts, cmdline):
    # One socket per CPU: SeaBIOS's MP table lists only the first CPU of
    # each package, and QEMU 7.2 makes "-smp N" one package of N cores.
    # vessel-vmm lists every vCPU, as MP spec 1.4 §4.3.1 expects.
    smp = f"{opts.cpus},sockets={opts.cpus},cores=1,threads=1"
    cmd = [opts.qemu, "-accel", opts.accel, "-m", opts.memory,
           "-smp", smp, "-kernel", opts.guest,
           "-append", cmdline, "-serial", "stdio", "-display", "none",
           "-monitor", "none", "-nodefaults"]
    if opts.initrd:
        cmd += ["-initrd", opts.initrd]
    if not opts.reboot:
        cmd.append("-no-reboot")
    cmd += ["-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-fw_cfg", FW_CFG_TEST_FILE]
    return cmd


class Stream:
    """Collects everything one pipe delivers, from a thread."""

    def __init__(self, pipe, start):
        self.data = bytearray()
        self.start = start
        self.first_byte_secs = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._pump, args=(pipe,),
                                       daemon=True)
        self.thread.start()

    def _pump(self, pipe):
        while True:
            chunk = os.read(pipe.fileno(), 4096)
            if not chunk:
                break
            with self.lock:
                if self.first_byte_secs is None:
                    self.first_byte_secs = time.monotonic() - self.start
                self.data += chunk

    def text(self):
        with self.lock:
            raw = bytes(self.data)
        return raw.decode("utf-8", errors="replace").replace("\r", "")


def run(opts, cmd):
    """Runs cmd, typing opts.stdin on cue.  Returns (exit status, or None
    after a timeout; serial text; stderr text; seconds; inputs sent;
    seconds until the first serial byte, or None)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=die_with_parent)
    out = Stream(proc.stdout, start)
    err = Stream(proc.stderr, start)
    pending = [unescape(t) for t in opts.stdin]
    sent = 0
    status = None
    while True:
        status = proc.poll()
        if status is not None:
            break
        if time.monotonic() - start > opts.timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            status = None
            break
        if sent < len(pending) and \
                out.text().count(opts.prompt) > sent:
            try:
                proc.stdin.write(pending[sent].encode())
                proc.stdin.flush()
            except BrokenPipeError:
                pass
            sent += 1
        time.sleep(0.01)
    elapsed = time.monotonic() - start
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    out.thread.join(2)
    err.thread.join(2)
    return status, out.text(), err.text(), elapsed, sent, out.first_byte_secs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--vmm", help="path of vessel-vmm")
    who.add_argument("--peer", choices=["qemu"],
                     help="run on a peer VMM instead (QEMU)")
    ap.add_argument("--qemu", default="qemu-system-x86_64",
                    help="QEMU binary for --peer qemu")
    ap.add_argument("--guest", required=True,
                    help="guest kernel (multiboot ELF, or a bzImage)")
    ap.add_argument("--name", help="name in the report (default: file name)")
    ap.add_argument("--accel", default="kvm", help="accelerator (kvm, tcg)")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--memory", default="64M")
    ap.add_argument("--cmdline", default="",
                    help="guest command line; {epoch} becomes the current "
                         "Unix time, {initrd_size} the size of --initrd")
    ap.add_argument("--cmdline-length", type=int, metavar="N",
                    help="pad the command line with a pad=... word to "
                         "exactly N bytes (counting the --cmdline-check "
                         "word)")
    ap.add_argument("--cmdline-check", action="store_true",
                    help="append ' cmdline_fnv=' and the FNV-1a 64-bit "
                         "hash (16 hex digits) of the line before it")
    ap.add_argument("--initrd", help="initrd (Linux) or module (multiboot)")
    ap.add_argument("--stdin", action="append", default=[],
                    help="text to type (backslash escapes allowed), one "
                         "per prompt; repeatable")
    ap.add_argument("--prompt", default=DEFAULT_PROMPT,
                    help="marker the guest prints when it waits for input "
                         "(default %(default)r)")
    ap.add_argument("--reboot", action="store_true",
                    help="let a guest reset reboot it (omit --no-reboot)")
    ap.add_argument("--expect-status", type=int, default=PASS_STATUS,
                    help="VMM exit status (default 65: the guest passed, "
                         "which also requires a 'PASS: ' line)")
    ap.add_argument("--expect", action="append", default=[],
                    help="regex the serial output must match; repeatable")
    ap.add_argument("--reject", action="append", default=[],
                    help="regex the serial output must not match")
    ap.add_argument("--expect-stderr", action="append", default=[],
                    help="regex the VMM's stderr must match; repeatable")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds before the VMM is killed")
    ap.add_argument("--vmm-arg", action="append", default=[],
                    help="extra argument for the VMM, e.g. to check that "
                         "a guest fails on a different machine; repeatable")
    ap.add_argument("--quiet", action="store_true",
                    help="print the serial output only on failure")
    opts = ap.parse_args()

    name = opts.name or os.path.splitext(os.path.basename(opts.guest))[0]
    try:
        cmdline = build_cmdline(opts)
    except (ValueError, OSError) as e:
        print(f"FAIL guest {name}: {e}")
        return 1
    expects = list(opts.expect)
    rejects = list(opts.reject)
    if opts.expect_status == PASS_STATUS:
        expects.append(r"^PASS: \S+")
        rejects.append(r"^FAIL: ")
    if opts.peer == "qemu":
        cmd = qemu_command(opts, cmdline)
    else:
        cmd = vessel_command(opts, cmdline)
    cmd += opts.vmm_arg

    try:
        status, serial, stderr, elapsed, sent, first = run(opts, cmd)
    except OSError as e:
        print(f"FAIL guest {name}: cannot run {cmd[0]}: {e}")
        return 1

    problems = []
    if status is None:
        problems.append(f"timed out after {opts.timeout:g} s")
    elif status != opts.expect_status:
        problems.append(f"exit status {status}, want {opts.expect_status}")
    if sent < len(opts.stdin):
        problems.append(f"only {sent} of {len(opts.stdin)} input lines "
                        f"sent: the guest printed {opts.prompt!r} "
                        f"{sent} times")
    for rx in expects:
        if not re.search(rx, serial, re.MULTILINE):
            problems.append(f"serial output lacks /{rx}/")
    for rx in rejects:
        m = re.search(rx, serial, re.MULTILINE)
        if m:
            line = serial[m.start():serial.find("\n", m.start())]
            problems.append(f"serial output has /{rx}/: {line.strip()}")
    for rx in opts.expect_stderr:
        if not re.search(rx, stderr, re.MULTILINE):
            problems.append(f"stderr lacks /{rx}/")

    verdict = "FAIL" if problems else "ok"
    # Time to the first serial byte is mostly the VMM and its firmware.
    first_text = "no output" if first is None else \
        f"first serial output after {first:.2f} s"
    print(f"{verdict} guest {name}: status {status} in {elapsed:.2f} s "
          f"({first_text})")
    if problems or not opts.quiet:
        for p in problems:
            print(f"  - {p}")
        print(f"  command: {shlex.join(cmd)}")
        print(f"--- serial ({len(serial.splitlines())} lines) ---")
        print(serial, end="" if serial.endswith("\n") or not serial else "\n")
        if stderr.strip() or problems:
            print("--- stderr ---")
            print(stderr, end="" if stderr.endswith("\n") or not stderr
                  else "\n")
        print("---")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
