# SPDX-License-Identifier: GPL-2.0-or-later
"""Guests that do bad things are handled as hardware would, with a clear log
line, and never crash the VMM: undefined opcodes, a fault while delivering a
fault (#DF), a triple fault, executing from addresses no device claims.

These run on the software CPU: on this machine's nested KVM, exception
delivery at CPL 0 is emulated by the host and fails ("KVM could not
emulate"), which the last test shows is reported cleanly too."""

import struct
import unittest

from vmmtest import (CODE_BASE, VmmTestCase, multiboot_image, run, serial_print_code)

EXIT = lambda v: bytes([0xB0, v, 0xE6, 0xF4])   # mov al, v; out 0xf4, al


def gate32(offset, selector=0x10, present=True):
    """A 32-bit interrupt gate (Intel SDM Vol. 3A §6.11)."""
    access = (0x80 if present else 0) | 0x0E
    return struct.pack("<HHBBH", offset & 0xFFFF, selector, 0, access, offset >> 16)


def idt_setup(gates):
    """Code that copies `gates` to 0x8000 and loads IDTR with them."""
    code = bytearray()
    blob = b"".join(gates)
    for i in range(0, len(blob), 4):
        word = struct.unpack_from("<I", blob.ljust(len(blob) + 3, b"\0"), i)[0]
        code += b"\xc7\x05" + struct.pack("<II", 0x8000 + i, word)   # mov dword [addr], imm
    code += b"\xc7\x05" + struct.pack("<II", 0x7ff0, ((len(blob) - 1) | (0x8000 << 16)) & 0xFFFFFFFF)
    code += b"\xc7\x05" + struct.pack("<II", 0x7ff4, 0)              # IDTR base high half
    code += b"\x0f\x01\x1d" + struct.pack("<I", 0x7ff0)              # lidt [0x7ff0]
    return bytes(code)


class BadGuests(VmmTestCase):
    def boot(self, code, accel="tcg", *extra):
        kernel = self.write("k", multiboot_image(code))
        return run("--accel", accel, "--memory", "16M", "--kernel", kernel, "--no-reboot", *extra)

    def test_undefined_opcode_without_idt_triple_faults(self):
        # UD2 with no IDT: #UD cannot be delivered (#GP), nor can that (#DF),
        # nor that: the CPU shuts down, the machine resets, --no-reboot exits 0.
        result = self.boot(serial_print_code("ud2\n") + b"\x0f\x0b")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "ud2\n")
        self.assertIn("triple-faulted", result.stderr)

    def test_fault_during_fault_delivery_is_a_double_fault(self):
        # #GP (bad selector) with gate 13 not present: #NP while delivering a
        # contributory fault -> #DF, whose gate works (Vol. 3A Table 6-5).
        handler_code = serial_print_code("double fault\n") + EXIT(0x12) + b"\xf4"
        # The IDT setup's length does not depend on the gate contents.
        gates = [gate32(0, present=False)] * 14
        setup = idt_setup(gates)
        fault = b"\x66\xb8\x34\x12" + b"\x8e\xd8"                      # mov ax, 0x1234; mov ds, ax
        handler_at = CODE_BASE + len(setup) + len(fault)
        gates[8] = gate32(handler_at)
        setup = idt_setup(gates)
        self.assertEqual(CODE_BASE + len(setup) + len(fault), handler_at)
        result = self.boot(setup + fault + handler_code)
        self.assertEqual(result.returncode, (0x12 << 1) | 1, result.stderr)
        self.assertEqual(result.stdout, "double fault\n")

    def test_executing_unclaimed_memory(self):
        # Jump into the PCI hole where no device answers: the fetch reads all
        # ones (0xff 0xff: invalid), so #UD, then the triple fault as above.
        result = self.boot(serial_print_code("jump\n") + b"\xb8\x00\x00\x00\xd0\xff\xe0")  # mov eax, 0xd0000000; jmp eax
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "jump\n")
        self.assertIn("executes code from MMIO", result.stderr)
        self.assertIn("triple-faulted", result.stderr)

    def test_kvm_reports_what_it_cannot_emulate(self):
        # On this machine KVM emulates CPL-0 exception delivery in software and
        # gives up on this one: the VMM says so in one line and exits 1.
        result = self.boot(serial_print_code("jump\n") + b"\xb8\x00\x00\x00\xd0\xff\xe0", "kvm")
        self.assertIn(result.returncode, (0, 1), result.stderr)
        if result.returncode == 1:
            self.assert_error(result, "vCPU 0")
        else:
            self.assertIn("triple-faulted", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
