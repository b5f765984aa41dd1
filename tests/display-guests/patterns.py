# SPDX-License-Identifier: GPL-2.0-or-later
"""The pictures the display guest draws (tests/guests/display.c defines
them in its header comment), as the rows of bytes R, G, B a screendump
holds.  Integer division throughout, as in the guest."""

BARS_RGB32 = [0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00,
              0x00FFFF, 0xFF00FF, 0xFFFFFF, 0x808080]
BARS_RGB565 = [0xF800, 0x07E0, 0x001F, 0xFFE0,
               0x07FF, 0xF81F, 0xFFFF, 0x8410]


def pixel_rgb32(x, y):
    """Mode 1, 640x480 at 32 bpp: 0x00RRGGBB."""
    if y < 240:
        return BARS_RGB32[x // 80]
    return (x * 255 // 639) << 16 | (y - 240) << 8 | (x & 0xFF)


def pixel_rgb565(x, y):
    """Mode 2, 800x600 at 16 bpp: the RGB565 word the guest stores."""
    if y < 300:
        return BARS_RGB565[x // 100]
    return (x * 31 // 799) << 11 | ((y - 300) * 63 // 299) << 5 | (x & 31)


def expand_rgb565(word):
    """8-bit channels by bit replication, as display_surface_pixel() (and
    pixman, for QEMU's screendump) widen 5 and 6 bits: r8 = r5 << 3 | r5 >> 2,
    g8 = g6 << 2 | g6 >> 4, b8 = b5 << 3 | b5 >> 2."""
    r5, g6, b5 = word >> 11, (word >> 5) & 0x3F, word & 0x1F
    return (r5 << 3 | r5 >> 2) << 16 | (g6 << 2 | g6 >> 4) << 8 | (b5 << 3 | b5 >> 2)


def _row(width, y, pixel):
    out = bytearray(width * 3)
    for x in range(width):
        rgb = pixel(x, y)
        out[3 * x] = rgb >> 16
        out[3 * x + 1] = (rgb >> 8) & 0xFF
        out[3 * x + 2] = rgb & 0xFF
    return bytes(out)


# name: (width, height, row function)
MODES = {
    "640x480": (640, 480, lambda y: _row(640, y, pixel_rgb32)),
    "800x600": (800, 600, lambda y: _row(800, y, lambda x, yy: expand_rgb565(pixel_rgb565(x, yy)))),
}
