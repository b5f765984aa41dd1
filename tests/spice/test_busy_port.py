#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A SPICE port that is already taken is reported so a user can act on it.

Holds a listening socket on a local port, then starts vessel-vmm with
--spice on that port: it must exit with a non-zero status within 20 s,
and its error must name the busy port and say "Address already in use"
(the reason, not whatever errno held last).  The same with a free plain
port and the busy port as tls-port (with certificates in x509-dir): the
error must name the TLS port.

vessel-vmm only: the messages are its own (--qemu prints SKIP).

Exit status: 0 if every expectation held, 1 otherwise (77: skipped).
"""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spicetest import (run_test, Machine, TestFailure, argument_parser,  # noqa: E402
                       free_port, verdict, vessel_command)
import test_tls  # noqa: E402

BUSY = os.strerror(98)      # EADDRINUSE: "Address already in use"


def start_on_busy(opts, workdir, spice, busy_port, problems, label):
    cmd = vessel_command(opts.vmm, opts.accel, opts.guest,
                         os.path.join(workdir, label.replace(" ", "-") + ".sock")) + ["--spice", spice]
    machine = Machine(cmd)
    try:
        status = machine.wait_exit(20)
    except TestFailure as e:
        problems.append(f"{label}: {e} (it should have refused the busy port)")
        machine.kill()
        return machine
    errors = [line for line in machine.stderr.text().splitlines() if "error" in line]
    said = errors[-1] if errors else "(no error line)"
    if status == 0:
        problems.append(f"{label}: exit status 0 on a busy port")
    if str(busy_port) not in said or BUSY not in said:
        problems.append(f"{label}: the error says {said!r}; want the port {busy_port} "
                        f"and {BUSY!r}")
    else:
        print(f"  {label}: {said}")
    return machine


def run(opts, workdir):
    problems = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        machine = start_on_busy(opts, workdir, f"port={busy},disable-ticketing", busy,
                                problems, "plain port")
        x509, _, _ = test_tls.make_certificates(workdir)
        machine = start_on_busy(opts, workdir,
                                f"port={free_port()},tls-port={busy},x509-dir={x509},"
                                "disable-ticketing", busy, problems, "TLS port")
    return verdict(opts.name, problems, machine, opts.verbose)


def main():
    opts = argument_parser(__doc__, "spice-busy-port").parse_args()
    if opts.qemu:
        print(f"SKIP {opts.name}: vessel-vmm's own error messages; nothing to run on QEMU")
        return 77
    return run_test(opts, ["openssl"], run)


if __name__ == "__main__":
    sys.exit(main())
