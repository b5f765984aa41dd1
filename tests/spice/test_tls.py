#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""SPICE over TLS: tls-port and x509-dir, checked with a real client.

Makes a test CA and a server certificate for 127.0.0.1 (subjectAltName
IP:127.0.0.1) with openssl, and a second, unrelated CA.  Then two runs of
tests/guests/display.elf, each with a password:

1. port=P,tls-port=T,x509-dir=D: the VMM must print
   spice://127.0.0.1:P?tls-port=T.  spice-keys must get in over TLS
   (--tls-port, trusting the test CA), and through the printed URI as it
   stands; trusting the other CA it must fail with a TLS error, and a
   wrong password over TLS must fail the authentication.  The plain port
   still serves spicy-screenshot the guest's picture.
2. tls-port=T,x509-dir=D only: the printed URI must be
   spice://127.0.0.1?tls-port=T and must work when given to a client;
   spice-keys over TLS gets in.

On QEMU (-spice tls-port=T,x509-dir=D) the same runs without the printed
URI.  spicy-screenshot cannot be told which CA to trust, hence spice-keys
for everything TLS.

Exit status: 0 if every expectation held, 1 otherwise (77: skipped).
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spicetest import (run_test, run_parts, TestFailure,  # noqa: E402
                       argument_parser, new_password,
                       picture_difference, screenshot, spice_keys)


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    if r.returncode != 0:
        raise TestFailure(f"openssl {args[0]} failed: {r.stdout.strip()}")


def make_certificates(workdir):
    """(x509 dir for the server, its CA file, an unrelated CA file)."""
    x509 = os.path.join(workdir, "x509")
    other = os.path.join(workdir, "other-ca")
    os.mkdir(x509)
    os.mkdir(other)
    for where, name in ((x509, "Vessel test CA"), (other, "Unrelated CA")):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", "ca-key.pem", "-out", "ca-cert.pem", "-subj", f"/CN={name}",
                cwd=where)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server-key.pem",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=x509)
    with open(os.path.join(x509, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca-cert.pem", "-CAkey", "ca-key.pem",
            "-CAcreateserial", "-days", "2", "-extfile", "server.ext",
            "-out", "server-cert.pem", cwd=x509)
    return x509, os.path.join(x509, "ca-cert.pem"), os.path.join(other, "ca-cert.pem")


def expect_keys(opts, problems, why, want_status, want_words=None, **where):
    result = spice_keys(opts, None, **where)
    ok = result.status == want_status and (want_words is None or want_words in result.stderr)
    if not ok:
        problems.append(f"{why}: spice-keys {result.describe()}; want status {want_status}"
                        + (f" and {want_words!r}" if want_words else ""))
    else:
        print(f"  {why}: " + ("got in" if want_status == 0 else f"refused ({want_words})"))


def both_ports(opts, guest, workdir, certs, problems):
    _, ca, other_ca = certs
    pw = guest.passwords[-1]
    expect_keys(opts, problems, "TLS port, test CA", 0, tls_port=guest.tls_port,
                ca_file=ca, password=pw)
    if not opts.qemu:
        expect_keys(opts, problems, f"the printed URI {guest.printed_uri}", 0,
                    uri=guest.printed_uri, ca_file=ca, password=pw)
    expect_keys(opts, problems, "TLS port, unrelated CA", 2, "TLS error",
                tls_port=guest.tls_port, ca_file=other_ca, password=pw)
    expect_keys(opts, problems, "TLS port, wrong password", 2, "authentication failed",
                tls_port=guest.tls_port, ca_file=ca, password="wrong-" + pw)
    result, picture = screenshot(guest.port, os.path.join(workdir, "plain.ppm"), pw)
    difference = picture_difference(picture, "640x480") if picture else \
        f"spicy-screenshot failed ({result.describe()})"
    if difference:
        problems.append(f"the plain port next to TLS: {difference}")
    else:
        print("  the plain port next to TLS: spicy-screenshot got the picture")


def tls_only(opts, guest, workdir, certs, problems):
    _, ca, _ = certs
    pw = guest.passwords[-1]
    expect_keys(opts, problems, "TLS port only, test CA", 0, tls_port=guest.tls_port,
                ca_file=ca, password=pw)
    if not opts.qemu:
        expect_keys(opts, problems, f"the printed URI {guest.printed_uri}", 0,
                    uri=guest.printed_uri, ca_file=ca, password=pw)


def run(opts, workdir):
    try:
        certs = make_certificates(workdir)
    except (TestFailure, OSError, subprocess.SubprocessError) as e:
        print(f"FAIL {opts.name}\n  - {e}")
        return 1
    parts = [(label, part, dict(password=new_password(), x509_dir=certs[0], plain=plain), (certs,))
             for label, part, plain in (("port and tls-port", both_ports, True),
                                        ("tls-port only", tls_only, False))]
    return run_parts(opts, workdir, parts, r"^READY 640x480$")


def main():
    ap = argument_parser(__doc__, "spice-tls")
    ap.add_argument("--spice-keys", required=True, help="tests/spice/spice-keys from the build")
    opts = ap.parse_args()
    return run_test(opts, ["openssl", "spicy-screenshot", opts.spice_keys], run)


if __name__ == "__main__":
    sys.exit(main())
