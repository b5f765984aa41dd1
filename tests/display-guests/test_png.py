#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The PNG reader the display tests trust: every filter type (PNG spec
§9.2), RGB and RGBA, against an independent encoder written here from the
spec; damaged files are refused, not misread."""

import os
import struct
import sys
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from displaytest import TestFailure, decode_png  # noqa: E402


def _chunk(ctype, body):
    return struct.pack(">I", len(body)) + ctype + body + \
        struct.pack(">I", zlib.crc32(ctype + body))


def _predict(ftype, left, up, upleft):
    if ftype == 0:
        return 0
    if ftype == 1:
        return left
    if ftype == 2:
        return up
    if ftype == 3:
        return (left + up) // 2
    p = left + up - upleft
    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
    if pa <= pb and pa <= pc:
        return left
    return up if pb <= pc else upleft


def encode_png(width, height, pixels, channels, filters):
    """pixels[y][x] is a tuple of channels; row y uses filters[y % len]."""
    raw = bytearray()
    prev = bytes(width * channels)
    for y in range(height):
        line = bytes(c for x in range(width) for c in pixels[y][x])
        ftype = filters[y % len(filters)]
        raw.append(ftype)
        for i, value in enumerate(line):
            left = line[i - channels] if i >= channels else 0
            upleft = prev[i - channels] if i >= channels else 0
            raw.append((value - _predict(ftype, left, prev[i], upleft)) & 0xFF)
        prev = line
    colour = 2 if channels == 3 else 6
    return (b"\x89PNG\r\n\x1a\n" +
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)) +
            _chunk(b"tEXt", b"Comment\x00ancillary chunks are skipped") +
            _chunk(b"IDAT", zlib.compress(bytes(raw))[:7]) +
            _chunk(b"IDAT", zlib.compress(bytes(raw))[7:]) +
            _chunk(b"IEND", b""))


def picture(width, height, channels):
    """Values that make every predictor matter: steps, wrap-arounds."""
    return [[tuple((x * 37 + y * 91 + c * 53 + (x * y) % 7 * 40) & 0xFF
                   for c in range(channels)) for x in range(width)]
            for y in range(height)]


class PngReader(unittest.TestCase):
    def check(self, channels, filters):
        width, height = 13, 11
        pixels = picture(width, height, channels)
        data = encode_png(width, height, pixels, channels, filters)
        got_w, got_h, rows = decode_png(data)
        self.assertEqual((got_w, got_h), (width, height))
        for y in range(height):
            want = bytes(c for x in range(width) for c in pixels[y][x][:3])
            self.assertEqual(rows[y], want, f"row {y}, filters {filters}")

    def test_each_filter_alone(self):
        for ftype in range(5):
            for channels in (3, 4):
                self.check(channels, [ftype])

    def test_filters_mixed_row_by_row(self):
        self.check(3, [4, 3, 2, 1, 0])
        self.check(4, [1, 4, 0, 3, 2])

    def test_damage_is_refused(self):
        data = bytearray(encode_png(4, 4, picture(4, 4, 3), 3, [4]))
        with self.assertRaises(TestFailure):
            decode_png(bytes(data[:-20]))           # truncated
        damaged = bytearray(data)
        damaged[40] ^= 0x01                         # inside a chunk: CRC error
        with self.assertRaises(TestFailure):
            decode_png(bytes(damaged))
        with self.assertRaises(TestFailure):
            decode_png(b"GIF89a" + bytes(data[6:]))
        bad_filter = encode_png(4, 4, picture(4, 4, 3), 3, [4])
        raw = zlib.compress(b"\x05" + bytes(12) + (b"\x00" + bytes(12)) * 3)
        bad_filter = (bad_filter[:8] + _chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) +
                      _chunk(b"IDAT", raw) + _chunk(b"IEND", b""))
        with self.assertRaises(TestFailure):
            decode_png(bad_filter)

    def test_other_formats_are_refused(self):
        for depth, colour in ((16, 2), (8, 3), (8, 0)):
            data = (b"\x89PNG\r\n\x1a\n" +
                    _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, depth, colour, 0, 0, 0)) +
                    _chunk(b"IDAT", zlib.compress(b"\x00" + bytes(6))) + _chunk(b"IEND", b""))
            with self.assertRaises(TestFailure):
                decode_png(data)


if __name__ == "__main__":
    unittest.main()
