#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A stand-in for vessel-vmm that misbehaves on its control socket.

test-vm-process runs it (through a shell wrapper that execs it, so the
supervisor sees its own child's pid on the socket) with the arguments the
supervisor gives vessel-vmm plus --mode:

  garbage    a correct handshake, but query-status is preceded by lines that
             are not replies (not JSON, not objects, an unknown id, bad
             UTF-8); the status is "paused".  Command "reset-me" sends a
             RESET event then {"done": true}; "hang-up" closes the
             connection without a reply and the process keeps running.
  greeting   greets with a line that is not QMP, then waits.
"""
import argparse
import json
import os
import socket
import sys
import time


def send(conn, data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data).encode() + b"\n"
    conn.sendall(data)


def serve_garbage(conn):
    send(conn, {"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 0},
                                    "package": "fake-vmm"}, "capabilities": []}})
    reader = conn.makefile("rb")
    for raw in reader:
        request = json.loads(raw)
        name, rid = request["execute"], request.get("id")
        if name == "qmp_capabilities":
            send(conn, {"return": {}, "id": rid})
        elif name == "query-status":
            send(conn, b"this is not json\n")
            send(conn, b"[1, 2, 3]\n")
            send(conn, b'{"weird": true}\n')
            send(conn, b'{"return": {}, "id": 999999}\n')
            send(conn, b'{"return": {}, "id": "a string id"}\n')
            send(conn, b'{"event": 5}\n')
            send(conn, b'{"event": "STOP", "data": "not an object"}\n')
            send(conn, b'\xff\xfe{"return": {}}\n')
            send(conn, b"\n\r\n")
            send(conn, {"return": {"status": "paused", "running": False}, "id": rid})
        elif name == "reset-me":
            send(conn, {"event": "RESET", "data": {"guest": False, "reason": "fake"},
                        "timestamp": {"seconds": 0, "microseconds": 0}})
            send(conn, {"return": {"done": True}, "id": rid})
        elif name == "hang-up":
            print("fake-vmm: hanging up", flush=True)
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            return
        else:
            send(conn, {"error": {"class": "CommandNotFound",
                                  "desc": f"The command {name} has not been found"},
                        "id": rid})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--control", required=True)
    parser.add_argument("--serial")
    parser.add_argument("--mode", required=True)
    args = parser.parse_args()

    if os.path.exists(args.control):
        os.unlink(args.control)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(args.control)
    listener.listen(1)
    print(f"fake-vmm: listening, mode {args.mode}", flush=True)
    conn, _ = listener.accept()
    if args.mode == "garbage":
        serve_garbage(conn)
    elif args.mode == "greeting":
        send(conn, b"hello, I am not a VMM\n")
    else:
        sys.exit(f"fake-vmm: unknown mode {args.mode}")
    # Stay alive: only the supervisor ends this process.
    time.sleep(60)


if __name__ == "__main__":
    main()
