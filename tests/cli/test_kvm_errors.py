# SPDX-License-Identifier: GPL-2.0-or-later
"""The accelerator errors users meet first: no /dev/kvm, no permission, KVM
refusing to create a VM, and what --accel auto says in each case.

VESSEL_KVM_DEVICE points vessel-vmm at another device node (documented in
docs/vessel-vmm.md for exactly this); the kvm-fault LD_PRELOAD shim makes
KVM_CREATE_VM fail with a chosen errno."""

import os
import shutil
import unittest

from vmmtest import HALT_FOREVER, VmmTestCase, multiboot_image, run


class KvmErrors(VmmTestCase):
    def setUp(self):
        super().setUp()
        self.kernel = self.write("k", multiboot_image(b"\xb0\x05\xe6\xf4"))  # out 0xf4, 5

    def test_no_kvm_device(self):
        env = {"VESSEL_KVM_DEVICE": self.path("kvm")}
        line = self.assert_error(run("--accel", "kvm", "--kernel", self.kernel, env=env),
                                 "does not exist", "no KVM")
        self.assertNotIn("tcg", line)
        # auto: the same guest runs on the software CPU, and says why, once.
        result = run("--accel", "auto", "--kernel", self.kernel, env=env)
        self.assertEqual(result.returncode, 11, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("vessel-vmm: accelerator: tcg, the software CPU", lines[0])
        self.assertIn("does not exist", lines[0])

    def test_permission_denied(self):
        device = self.write("kvm", b"")
        os.chmod(device, 0)
        prefix = ()
        if os.geteuid() == 0:
            # root opens anything; drop to an unprivileged user as a user would be.
            setpriv = shutil.which("setpriv")
            self.assertIsNotNone(setpriv, "setpriv (util-linux) is needed to test as non-root")
            prefix = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
            os.chmod(self.tmp.name, 0o755)
            os.chmod(self.kernel, 0o644)
        line = self.assert_error(run("--accel", "kvm", "--kernel", self.kernel,
                                     env={"VESSEL_KVM_DEVICE": device}, prefix=prefix),
                                 "permission denied", "'kvm' group")
        self.assertIn("usermod -aG kvm", line)

    def test_not_a_kvm_device(self):
        self.assert_error(run("--accel", "kvm", "--kernel", self.kernel,
                              env={"VESSEL_KVM_DEVICE": "/dev/null"}),
                          "/dev/null is not a KVM device")

    def test_vm_creation_fails(self):
        shim = os.environ["VESSEL_KVM_FAULT"]
        cases = [(16, "Device or resource busy", "another hypervisor"),
                 (12, "Cannot allocate memory", "")]
        for errno_value, text, hint in cases:
            with self.subTest(errno=errno_value):
                result = run("--accel", "kvm", "--kernel", self.kernel,
                             env={"LD_PRELOAD": shim, "VESSEL_FAULT_CREATE_VM_ERRNO": str(errno_value),
                                  # In sanitizer builds the shim loads before ASan's runtime.
                                  "ASAN_OPTIONS": "verify_asan_link_order=0"})
                self.assert_error(result, "could not create a virtual machine", text, hint)

    def test_tcg_on_request(self):
        # Explicitly asked for: no message, the guest just runs.
        result = run("--accel", "tcg", "--kernel", self.kernel)
        self.assertEqual(result.returncode, 11, result.stderr)
        self.assertEqual(result.stderr, "")

    def test_auto_says_which_accelerator(self):
        result = run("--accel", "auto", "--kernel", self.kernel, "--no-reboot")
        self.assertEqual(result.returncode, 11, result.stderr)  # the guest wrote 5 to 0xf4
        self.assertIn("vessel-vmm: accelerator: kvm", result.stderr)
        result = run("--accel", "kvm", "--kernel", self.kernel)
        self.assertNotIn("accelerator:", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
