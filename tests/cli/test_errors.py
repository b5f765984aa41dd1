# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad input a user hits first: files that are missing or not kernels, boot
protocols too old, initrds or kernels too big for the memory given."""

import os
import struct
import unittest

from vmmtest import HALT_FOREVER, VmmTestCase, multiboot_image, run


def bzimage(version=0x020F, xloadflags=0x1, init_size=0x100000, payload=4096):
    """Just enough of a Linux bzImage header (boot.rst, "The Real-Mode
    Kernel Header") for the loader's checks; the kernel never runs."""
    setup_sects = 1
    image = bytearray(512 * (setup_sects + 1) + payload)
    image[0x1F1] = setup_sects
    image[0x211] = 0x01                            # loadflags: LOADED_HIGH
    struct.pack_into("<H", image, 0x1FE, 0xAA55)
    image[0x200:0x202] = b"\xeb\x66"              # jump; header ends at 0x268
    image[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", image, 0x206, version)
    struct.pack_into("<I", image, 0x22C, 0x37FFFFFF)  # initrd_addr_max
    image[0x234] = 1                               # relocatable_kernel
    struct.pack_into("<H", image, 0x236, xloadflags)
    struct.pack_into("<I", image, 0x238, 2047)     # cmdline_size
    struct.pack_into("<I", image, 0x260, init_size)
    return bytes(image)


class BadKernels(VmmTestCase):
    def boot(self, kernel, *extra):
        return run("--accel", "kvm", "--memory", "64M", "--kernel", kernel, *extra)

    def test_missing_file(self):
        self.assert_error(self.boot(self.path("nope")), "nope", "No such file")

    def test_directory(self):
        self.assert_error(self.boot(self.tmp.name), self.tmp.name)

    def test_empty_file(self):
        self.assert_error(self.boot(self.write("empty", b"")), "empty")

    def test_not_a_kernel(self):
        line = self.assert_error(self.boot(self.write("notes.txt", b"hello " * 1000)), "notes.txt")
        self.assertIn("bzImage", line)
        self.assertIn("multiboot", line)

    def test_elf_without_multiboot_header(self):
        # An ELF64 header only: what an uncompressed vmlinux starts with.
        elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHI", 2, 62, 1)
        line = self.assert_error(self.boot(self.write("vmlinux", elf + b"\x00" * 8192)), "vmlinux")
        self.assertIn("bzImage", line)

    def test_old_boot_protocol(self):
        line = self.assert_error(self.boot(self.write("old", bzimage(version=0x0209))), "2.09")
        self.assertIn("2.12", line)

    def test_32_bit_only_kernel(self):
        self.assert_error(self.boot(self.write("k32", bzimage(xloadflags=0))), "64-bit")

    def test_kernel_needs_more_memory(self):
        self.assert_error(self.boot(self.write("big", bzimage(init_size=200 << 20))), "--memory")

    def test_initrd_missing(self):
        kernel = self.write("k", multiboot_image(HALT_FOREVER))
        self.assert_error(self.boot(kernel, "--initrd", self.path("initrd.img")), "initrd.img")

    def test_initrd_bigger_than_memory(self):
        kernel = self.write("k", multiboot_image(HALT_FOREVER))
        initrd = self.path("huge.img")
        with open(initrd, "wb") as f:
            f.truncate(100 << 20)                  # sparse: costs no disk
        self.assert_error(self.boot(kernel, "--initrd", initrd), "huge.img", "--memory")

    def test_bzimage_initrd_bigger_than_memory(self):
        initrd = self.path("huge.img")
        with open(initrd, "wb") as f:
            f.truncate(100 << 20)
        self.assert_error(self.boot(self.write("bz", bzimage()), "--initrd", initrd),
                          "huge.img", "--memory")

    def test_serial_file_unwritable(self):
        kernel = self.write("k", multiboot_image(HALT_FOREVER))
        self.assert_error(self.boot(kernel, "--serial", "file:/nonexistent/dir/log"),
                          "/nonexistent/dir/log")

    def test_control_socket_directory_missing(self):
        kernel = self.write("k", multiboot_image(HALT_FOREVER))
        self.assert_error(self.boot(kernel, "--control", "/nonexistent/dir/vm.sock"),
                          "/nonexistent/dir")


class NoGraphicalSession(VmmTestCase):
    def test_window_without_a_session(self):
        """--display sdl with no X or Wayland server: a clear error, not a
        window nobody sees (SDL's offscreen fallback)."""
        kernel = self.write("k", multiboot_image(HALT_FOREVER))
        env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "SDL_VIDEODRIVER": "",
               "XDG_RUNTIME_DIR": self.tmp.name}
        result = run("--accel", "kvm", "--memory", "64M", "--kernel", kernel,
                     "--display", "sdl", env=env)
        self.assert_error(result, "no graphical session", "--display none")


if __name__ == "__main__":
    unittest.main(verbosity=2)
