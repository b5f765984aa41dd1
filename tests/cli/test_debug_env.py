# SPDX-License-Identifier: GPL-2.0-or-later
"""The software CPU's debugging switches (docs/vessel-vmm.md, Environment):
VESSEL_TCG_PROFILE, VESSEL_TCG_TRACE and VESSEL_TCG_JIT=0 do what they say."""

import os
import re
import unittest

from vmmtest import CODE_BASE, VmmTestCase, multiboot_image, run

# mov ecx, 0x1000000; loop: dec ecx; jnz loop; mov al, 0x21; out 0xf4, al
# (about 0.2 s on the software CPU here, then exit status 67).
SPIN = b"\xb9\x00\x00\x00\x01" + b"\x49\x75\xfd" + b"\xb0\x21\xe6\xf4"
SPIN_LOOP = CODE_BASE + 5


class DebugEnvironment(VmmTestCase):
    def boot(self, code, env):
        kernel = self.write("k", multiboot_image(code))
        return run("--accel", "tcg", "--memory", "16M", "--kernel", kernel, env=env, timeout=120)

    def test_profile_samples_the_guest(self):
        prefix = self.path("prof")
        result = self.boot(SPIN, {"VESSEL_TCG_PROFILE": prefix})
        self.assertEqual(result.returncode, 67, result.stderr)
        with open(prefix + ".0") as f:
            lines = f.read().splitlines()
        self.assertTrue(lines, "no samples")
        counts = []
        for line in lines:
            match = re.fullmatch(r"(\d+) ([0-9a-f]{16}|halted)", line)
            self.assertIsNotNone(match, f"bad line {line!r}")
            counts.append(int(match.group(1)))
        self.assertEqual(counts, sorted(counts, reverse=True), "not most frequent first")
        # The loop is where the guest spends its time.
        top = int(lines[0].split()[1], 16)
        self.assertIn(top, range(CODE_BASE, CODE_BASE + len(SPIN)), lines[:3])

    def test_trace_prints_every_instruction(self):
        code = b"\x90\x90\xb0\x21\xe6\xf4"     # nop; nop; mov al, 0x21; out 0xf4, al
        result = self.boot(code, {"VESSEL_TCG_TRACE": "1"})
        self.assertEqual(result.returncode, 67, result.stderr)
        rips = re.findall(r"^tcg 0: rip=([0-9a-f]{16}) ", result.stderr, re.M)
        self.assertEqual([int(r, 16) for r in rips][:4],
                         [CODE_BASE, CODE_BASE + 1, CODE_BASE + 2, CODE_BASE + 4], result.stderr)

    def test_interpreter_alone_runs_the_guest(self):
        result = self.boot(SPIN, {"VESSEL_TCG_JIT": "0"})
        self.assertEqual(result.returncode, 67, result.stderr)


if __name__ == "__main__":
    unittest.main()
