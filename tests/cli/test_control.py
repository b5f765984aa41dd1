# SPDX-License-Identifier: GPL-2.0-or-later
"""The control socket end to end, as a script or the Vessel app uses it:
a running VMM, real Unix-socket clients, QMP-shaped JSON lines."""

import json
import os
import socket
import stat
import subprocess
import time
import unittest

from vmmtest import HALT_FOREVER, VMM, VmmTestCase, die_with_parent, multiboot_image, serial_print_code


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb", buffering=0)
        self.events = []
        self.greeting = self.read()

    def read(self):
        line = self.file.readline()
        if not line:
            raise EOFError("the VMM closed the connection")
        return json.loads(line)

    def send_raw(self, text):
        self.file.write(text.encode() + b"\n")

    def reply(self):
        """Next reply; events read on the way are kept in self.events."""
        while True:
            message = self.read()
            if "event" in message:
                self.events.append(message)
            else:
                return message

    def execute(self, name, arguments=None, **extra):
        request = {"execute": name, **extra}
        if arguments is not None:
            request["arguments"] = arguments
        self.send_raw(json.dumps(request))
        return self.reply()

    def wait_event(self, name):
        while True:
            for i, event in enumerate(self.events):
                if event["event"] == name:
                    return self.events.pop(i)
            message = self.read()
            if "event" not in message:
                raise AssertionError(f"unexpected reply while waiting for {name}: {message}")
            self.events.append(message)

    def close(self):
        self.file.close()
        self.sock.close()


class Control(VmmTestCase):
    def setUp(self):
        super().setUp()
        kernel = self.write("k", multiboot_image(serial_print_code("ready\n") + HALT_FOREVER))
        self.socket_path = self.path("vm.sock")
        self.proc = subprocess.Popen(
            [VMM, "--accel", "kvm", "--memory", "32M", "--kernel", kernel,
             "--control", self.socket_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=die_with_parent)
        self.addCleanup(self.stop_vmm)
        self.assertEqual(self.proc.stdout.readline(), "ready\n")

    def stop_vmm(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)

    def connect(self, negotiate=True):
        client = Client(self.socket_path)
        self.addCleanup(client.close)
        if negotiate:
            self.assertEqual(client.execute("qmp_capabilities"), {"return": {}})
        return client

    def test_socket_is_private(self):
        mode = os.stat(self.socket_path).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)

    def test_greeting_and_negotiation(self):
        client = self.connect(negotiate=False)
        self.assertIn("QMP", client.greeting)
        self.assertIn("version", client.greeting["QMP"])
        self.assertEqual(client.greeting["QMP"]["capabilities"], [])
        refused = client.execute("query-status")
        self.assertEqual(refused["error"]["class"], "CommandNotFound")
        self.assertIn("qmp_capabilities", refused["error"]["desc"])
        self.assertEqual(client.execute("qmp_capabilities"), {"return": {}})
        self.assertEqual(client.execute("qmp_capabilities")["error"]["class"], "CommandNotFound")

    def test_pause_resume(self):
        client = self.connect()
        self.assertEqual(client.execute("query-status", id=7),
                         {"return": {"status": "running", "running": True}, "id": 7})
        self.assertEqual(client.execute("stop"), {"return": {}})
        client.wait_event("STOP")
        self.assertEqual(client.execute("query-status")["return"],
                         {"status": "paused", "running": False})
        self.assertEqual(client.execute("cont"), {"return": {}})
        client.wait_event("RESUME")
        self.assertEqual(client.execute("query-status")["return"]["status"], "running")

    def test_reset(self):
        client = self.connect()
        self.assertEqual(client.execute("system_reset"), {"return": {}})
        event = client.wait_event("RESET")
        self.assertEqual(event["data"], {"guest": False, "reason": "host-qmp-system-reset"})
        self.assertIn("seconds", event["timestamp"])
        # The guest booted again.
        self.assertEqual(self.proc.stdout.readline(), "ready\n")

    def test_bad_requests_keep_the_vmm_running(self):
        client = self.connect()
        client.send_raw("{oops")
        self.assertEqual(client.reply()["error"]["class"], "GenericError")
        client.send_raw("[1, 2]")
        self.assertEqual(client.reply()["error"]["class"], "GenericError")
        self.assertEqual(client.execute("no-such-command")["error"]["class"], "CommandNotFound")
        self.assertIn("unexpected", client.execute("query-status", {"verbose": True})["error"]["desc"])
        missing = client.execute("pmemsave", {"val": 0, "size": 16})
        self.assertIn("filename", missing["error"]["desc"])
        wrong_type = client.execute("pmemsave", {"val": "zero", "size": 16, "filename": "x"})
        self.assertIn("val", wrong_type["error"]["desc"])
        # The ACPI power button: the test guest does not listen for it and keeps running.
        self.assertEqual(client.execute("system_powerdown"), {"return": {}})
        self.assertEqual(client.wait_event("POWERDOWN")["data"], {})
        self.assertEqual(client.execute("query-status")["return"]["status"], "running")
        self.assertIsNone(self.proc.poll())

    def test_pmemsave(self):
        client = self.connect()
        dump = self.path("mp.bin")
        self.assertEqual(client.execute("pmemsave", {"val": 0xF0000, "size": 16, "filename": dump}),
                         {"return": {}})
        with open(dump, "rb") as f:
            self.assertEqual(f.read(4), b"_MP_")     # the MP floating pointer
        outside = client.execute("pmemsave", {"val": 0xFEC00000, "size": 16, "filename": dump})
        self.assertIn("not guest RAM", outside["error"]["desc"])

    def test_quit_with_two_clients(self):
        first, second = self.connect(), self.connect()
        self.assertEqual(first.execute("quit"), {"return": {}})
        for client in (first, second):
            event = client.wait_event("SHUTDOWN")
            self.assertEqual(event["data"], {"guest": False, "reason": "host-qmp-quit"})
        self.proc.wait(timeout=10)
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr.read())
        self.assertFalse(os.path.exists(self.socket_path), "the socket file was left behind")


if __name__ == "__main__":
    unittest.main(verbosity=2)
