#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the initrd the linux-entry guest checks: SIZE bytes of xorshift64
(shifts 13, 7, 17; seed 0x9e3779b97f4a7c15) output words, little-endian,
the last word cut short when SIZE is not a multiple of 8.

usage: mkinitrd.py SIZE OUTPUT
"""

import struct
import sys

SEED = 0x9e3779b97f4a7c15
MASK64 = (1 << 64) - 1


def pattern(size):
    x = SEED
    out = bytearray()
    while len(out) < size:
        x ^= (x << 13) & MASK64
        x ^= x >> 7
        x ^= (x << 17) & MASK64
        out += struct.pack("<Q", x)
    return bytes(out[:size])


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    with open(sys.argv[2], "wb") as f:
        f.write(pattern(int(sys.argv[1])))


if __name__ == "__main__":
    main()
