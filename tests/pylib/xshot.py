# SPDX-License-Identifier: GPL-2.0-or-later
"""Screenshots of an X server as PNG files, without PIL: `xwd` dumps a
window (or the root window) and this module turns the dump into RGB rows
and the rows into a PNG.  The same approach as tests/display-guests/
test_window.py (xwd_rows) and tests/spice/test_viewer.py (encode_png),
with a fast path for the usual 32-bit little-endian TrueColor dump."""

import struct
import subprocess
import zlib


class XShotError(Exception):
    pass


def xwd_rows(data):
    """(width, height, rows of bytes R, G, B) of an xwd dump (X Window
    Dump, version 7, ZPixmap, 24 or 32 bits per pixel)."""
    fields = struct.unpack(">25I", data[:100])
    header_size, version, pixmap_format = fields[0], fields[1], fields[2]
    width, height, byte_order = fields[4], fields[5], fields[7]
    bits_per_pixel, bytes_per_line = fields[11], fields[12]
    masks = fields[14:17]
    ncolors = fields[19]
    if version != 7 or pixmap_format != 2 or bits_per_pixel not in (24, 32):
        raise XShotError(f"unexpected xwd dump: version {version}, format {pixmap_format}, "
                         f"{bits_per_pixel} bits per pixel")
    bpp = bits_per_pixel // 8
    start = header_size + 12 * ncolors
    rows = []
    fast = (bpp == 4 and byte_order == 0 and
            tuple(masks) == (0xFF0000, 0x00FF00, 0x0000FF))
    shifts = [(m & -m).bit_length() - 1 for m in masks]
    order = "little" if byte_order == 0 else "big"
    for y in range(height):
        line = data[start + y * bytes_per_line:start + y * bytes_per_line + width * bpp]
        out = bytearray(width * 3)
        if fast:
            # Bytes B, G, R, X in memory.
            out[0::3] = line[2::4]
            out[1::3] = line[1::4]
            out[2::3] = line[0::4]
        else:
            for x in range(width):
                v = int.from_bytes(line[x * bpp:x * bpp + bpp], order)
                for c in range(3):
                    out[3 * x + c] = (v & masks[c]) >> shifts[c]
        rows.append(bytes(out))
    return width, height, rows


def encode_png(width, height, rows):
    """A truecolour 8-bit PNG (IHDR colour type 2), every row with filter
    type 0."""
    def chunk(ctype, body):
        return (struct.pack(">I", len(body)) + ctype + body +
                struct.pack(">I", zlib.crc32(ctype + body)))
    raw = b"".join(b"\0" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def capture(env, window="root"):
    """(width, height, rows) of a window id, or of the whole screen."""
    where = ["-root"] if window == "root" else ["-id", str(window)]
    dump = subprocess.run(["xwd", "-silent", *where], env=env, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          timeout=30).stdout
    return xwd_rows(dump)


def crop(picture, x, y, width, height):
    """The part of a captured picture inside a rectangle (clipped)."""
    full_w, full_h, rows = picture
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(full_w, x + width), min(full_h, y + height)
    if x1 <= x0 or y1 <= y0:
        raise XShotError(f"the rectangle {width}x{height}+{x}+{y} is off the screen")
    return x1 - x0, y1 - y0, [row[3 * x0:3 * x1] for row in rows[y0:y1]]


def save_png(picture, path):
    width, height, rows = picture
    with open(path, "wb") as f:
        f.write(encode_png(width, height, rows))
