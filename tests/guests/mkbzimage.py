#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Finish the linux-entry fake bzImage: check the layout `objcopy -O binary`
produced from linux-entry.ld and fill in the trailer's checksum.

The protected-mode part ends in a 16-byte trailer: the magic "VSLTRAIL"
and the FNV-1a hash (64-bit) of the part before the trailer, taken over
little-endian 64-bit words (h ^= word; h *= prime).  The guest computes
the same hash over what the loader copied to 1 MiB.

usage: mkbzimage.py RAW OUTPUT
"""

import struct
import sys

SECTOR = 512
TRAILER_MAGIC = b"VSLTRAIL"
TRAILER_SIZE = 16
FNV64_OFFSET = 0xcbf29ce484222325
FNV64_PRIME = 0x100000001b3
MASK64 = (1 << 64) - 1


def fnv1a64_words(data):
    h = FNV64_OFFSET
    for (word,) in struct.iter_unpack("<Q", data):
        h = ((h ^ word) * FNV64_PRIME) & MASK64
    return h


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        image = bytearray(f.read())

    # boot.rst, "The Real-Mode Kernel Header".
    if image[0x1fe:0x200] != b"\x55\xaa" or image[0x202:0x206] != b"HdrS":
        sys.exit(f"{sys.argv[1]}: no setup header at 0x1f1")
    setup_sects = image[0x1f1] or 4
    (syssize,) = struct.unpack_from("<I", image, 0x1f4)
    setup_size = (setup_sects + 1) * SECTOR
    pm_size = len(image) - setup_size
    if pm_size != syssize * 16:
        sys.exit(f"{sys.argv[1]}: {pm_size} bytes after the setup, "
                 f"but syssize says {syssize * 16}")
    trailer = len(image) - TRAILER_SIZE
    if image[trailer:trailer + 8] != TRAILER_MAGIC:
        sys.exit(f"{sys.argv[1]}: no trailer at the end of the file")

    checksum = fnv1a64_words(bytes(image[setup_size:trailer]))
    struct.pack_into("<Q", image, trailer + 8, checksum)
    with open(sys.argv[2], "wb") as f:
        f.write(image)


if __name__ == "__main__":
    main()
