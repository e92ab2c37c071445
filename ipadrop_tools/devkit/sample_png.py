"""Sample app icons: plain PNGs with alpha and Xcode-style CgBI-crushed ones."""

from __future__ import annotations

import functools
import struct
import zlib

from ipadrop.reading.pixels import PNG_SIGNATURE

# The 4 data bytes Xcode's pngcrush writes in the CgBI chunk.
_CGBI_DATA = b"\x50\x00\x20\x06"


@functools.lru_cache(maxsize=16)
def sample_icon_rgba(width: int = 180, height: int = 180) -> bytes:
    """Straight (non-premultiplied) RGBA pixels of a plausible app icon.

    A diagonal gradient on a rounded square, a white disc in the middle, fully
    transparent corners and a soft anti-aliased edge, so alpha really matters.
    """
    radius = min(width, height) * 0.22
    pixels = bytearray()
    for y in range(height):
        for x in range(width):
            # distance outside the rounded rectangle (negative inside)
            dx = max(radius - x - 0.5, x + 0.5 - (width - radius), 0.0)
            dy = max(radius - y - 0.5, y + 0.5 - (height - radius), 0.0)
            outside = (dx * dx + dy * dy) ** 0.5 - radius
            alpha = 255 if outside <= -1 else 0 if outside >= 0 else round(-outside * 255)
            red = 30 + (x * 180) // max(width - 1, 1)
            green = 90 + (y * 120) // max(height - 1, 1)
            blue = 220 - ((x + y) * 100) // max(width + height - 2, 1)
            cx, cy = x - width / 2, y - height / 2
            if cx * cx + cy * cy < (min(width, height) * 0.2) ** 2:
                red = green = blue = 255
            pixels += bytes((red, green, blue, alpha))
    return bytes(pixels)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _scanlines(width: int, height: int, pixels: bytes, filter_type: int = 0) -> bytes:
    """Rows of 4-byte pixels, each encoded with PNG filter ``filter_type`` (0-4)."""
    stride = width * 4
    previous = bytes(stride)
    out = bytearray()
    for row in range(height):
        line = pixels[row * stride : (row + 1) * stride]
        out.append(filter_type)
        out += _filter_row(filter_type, line, previous, 4)
        previous = line
    return bytes(out)


def _filter_row(filter_type: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    if filter_type == 0:
        return line
    encoded = bytearray(len(line))
    for i, value in enumerate(line):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        upper_left = previous[i - bpp] if i >= bpp else 0
        if filter_type == 1:
            predictor = left
        elif filter_type == 2:
            predictor = up
        elif filter_type == 3:
            predictor = (left + up) >> 1
        else:
            estimate = left + up - upper_left
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
        encoded[i] = (value - predictor) & 0xFF
    return bytes(encoded)


def write_png(width: int = 180, height: int = 180, *, rgba: bytes | None = None) -> bytes:
    """An ordinary 8-bit RGBA PNG."""
    pixels = sample_icon_rgba(width, height) if rgba is None else rgba
    if len(pixels) != width * height * 4:
        raise ValueError("rgba must hold width * height * 4 bytes")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(_scanlines(width, height, pixels), 9)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def premultiply_bgra(rgba: bytes) -> bytes:
    """Straight RGBA -> premultiplied BGRA, the way Xcode's pngcrush stores pixels."""
    out = bytearray(len(rgba))
    for i in range(0, len(rgba), 4):
        red, green, blue, alpha = rgba[i : i + 4]
        out[i] = (blue * alpha + 127) // 255
        out[i + 1] = (green * alpha + 127) // 255
        out[i + 2] = (red * alpha + 127) // 255
        out[i + 3] = alpha
    return bytes(out)


def write_cgbi_png(
    width: int = 180,
    height: int = 180,
    *,
    rgba: bytes | None = None,
    idat_chunks: int = 1,
    filter_type: int = 0,
) -> bytes:
    """An Apple CgBI PNG: CgBI chunk first, raw deflate, premultiplied BGRA.

    ``rgba`` is the straight RGBA image it represents. ``idat_chunks`` splits
    the compressed stream over several IDAT chunks, as real files sometimes do;
    ``filter_type`` (0-4) is the PNG row filter used on every row.
    """
    pixels = sample_icon_rgba(width, height) if rgba is None else rgba
    if len(pixels) != width * height * 4:
        raise ValueError("rgba must hold width * height * 4 bytes")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(_scanlines(width, height, premultiply_bgra(pixels), filter_type))
    stream += compressor.flush()
    step = max(1, -(-len(stream) // max(1, idat_chunks)))
    idats = b"".join(
        _chunk(b"IDAT", stream[start : start + step]) for start in range(0, len(stream), step)
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"CgBI", _CGBI_DATA)
        + _chunk(b"IHDR", ihdr)
        + idats
        + _chunk(b"IEND", b"")
    )
