"""PNG headers and Apple's CgBI variant, with nothing but zlib and struct.

Xcode's ``pngcrush -iphone`` rewrites app icons as "CgBI" PNGs that only iOS
can show: an extra ``CgBI`` chunk before ``IHDR``, IDAT data as a raw deflate
stream (no zlib header or checksum), pixels in BGRA order with premultiplied
alpha. ``to_standard_png`` undoes all of that and writes an ordinary RGBA PNG
with correct CRCs; an ordinary PNG passes through unchanged.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Signature, CgBI chunk (12 + 4 bytes) and IHDR chunk (12 + 13 bytes).
HEADER_BYTES = 8 + 16 + 25
# Pixels we agree to convert: ample for app icons (1024 x 1024 is the largest
# Apple asks for), small enough that a hostile file costs little memory.
DEFAULT_MAX_PIXELS = 1024 * 1024

_IHDR = struct.Struct(">IIBBBBB")


class PngError(ValueError):
    """Not a PNG we can read or convert."""


@dataclass(frozen=True, slots=True)
class PngHeader:
    width: int
    height: int
    bit_depth: int
    color_type: int
    interlace: int
    cgbi: bool


def read_header(data: bytes) -> PngHeader:
    """The IHDR facts from the first ``HEADER_BYTES`` of a PNG (CgBI or not)."""
    if not data.startswith(PNG_SIGNATURE):
        raise PngError("not a PNG file")
    position = len(PNG_SIGNATURE)
    cgbi = False
    if data[position + 4 : position + 8] == b"CgBI":
        (length,) = struct.unpack_from(">I", data, position)
        position += 12 + length
        cgbi = True
    if len(data) < position + 8 + _IHDR.size or data[position + 4 : position + 8] != b"IHDR":
        raise PngError("PNG without an IHDR chunk")
    width, height, bit_depth, color_type, _, _, interlace = _IHDR.unpack_from(data, position + 8)
    if width == 0 or height == 0:
        raise PngError("PNG with zero width or height")
    return PngHeader(width, height, bit_depth, color_type, interlace, cgbi)


def iter_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, data) of every chunk; stops after IEND."""
    if not data.startswith(PNG_SIGNATURE):
        raise PngError("not a PNG file")
    position = len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise PngError("PNG chunk runs past the end of the file")
        yield kind, data[position + 8 : position + 8 + length]
        if kind == b"IEND":
            return
        position = end
    raise PngError("PNG without an IEND chunk")


def chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def to_standard_png(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """A PNG any browser shows: CgBI converted, anything else returned as it is."""
    header = read_header(data)
    if not header.cgbi:
        return data
    return cgbi_to_png(data, max_pixels=max_pixels)


def cgbi_to_png(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """Convert an Apple CgBI PNG into a standard 8-bit RGBA PNG."""
    header = read_header(data)
    if header.bit_depth != 8 or header.color_type not in (2, 6) or header.interlace != 0:
        raise PngError("unsupported CgBI layout (only 8-bit RGB/RGBA, not interlaced, is handled)")
    if header.width * header.height > max_pixels:
        raise PngError(f"the image is {header.width}x{header.height}, too large to convert")
    stream = b"".join(payload for kind, payload in iter_chunks(data) if kind == b"IDAT")
    channels = 4 if header.color_type == 6 else 3
    stride = header.width * channels
    expected = header.height * (stride + 1)
    inflater = zlib.decompressobj(-15)  # CgBI IDAT is raw deflate
    try:
        filtered = inflater.decompress(stream, expected)
    except zlib.error as exc:
        raise PngError("the CgBI pixel data cannot be decompressed") from exc
    if len(filtered) != expected:
        raise PngError("the CgBI pixel data is shorter than the image")
    pixels = _unfilter(filtered, header.height, stride, channels)
    rgba = _bgra_premultiplied_to_rgba(pixels, channels)
    ihdr = _IHDR.pack(header.width, header.height, 8, 6, 0, 0, 0)
    row = header.width * 4
    scanlines = b"".join(
        b"\x00" + rgba[offset : offset + row] for offset in range(0, len(rgba), row)
    )
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(scanlines, 9))
        + chunk(b"IEND", b"")
    )


def _unfilter(filtered: bytes, height: int, stride: int, bpp: int) -> bytearray:
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    out = bytearray(height * stride)
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind = filtered[start]
        line = bytearray(filtered[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + predictor) & 0xFF
        elif kind != 0:
            raise PngError(f"unknown PNG filter type {kind}")
        out[row * stride : (row + 1) * stride] = line
        previous = line
    return out


@lru_cache(maxsize=1)
def _unpremultiply_table() -> bytes:
    """table[alpha * 256 + value] = value / alpha * 255, rounded and clamped."""
    table = bytearray(256 * 256)
    for alpha in range(1, 256):
        for value in range(256):
            table[alpha * 256 + value] = min(255, (value * 255 + alpha // 2) // alpha)
    return bytes(table)


def _bgra_premultiplied_to_rgba(pixels: bytearray, channels: int) -> bytes:
    if channels == 3:
        rgba = bytearray(len(pixels) // 3 * 4)
        rgba[0::4] = pixels[2::3]
        rgba[1::4] = pixels[1::3]
        rgba[2::4] = pixels[0::3]
        rgba[3::4] = b"\xff" * (len(pixels) // 3)
        return bytes(rgba)
    rgba = bytearray(len(pixels))
    rgba[0::4] = pixels[2::4]
    rgba[1::4] = pixels[1::4]
    rgba[2::4] = pixels[0::4]
    rgba[3::4] = pixels[3::4]
    table = _unpremultiply_table()
    alphas = rgba[3::4]
    for index, alpha in enumerate(alphas):
        if alpha == 255:
            continue
        base = index * 4
        if alpha == 0:
            rgba[base : base + 3] = b"\x00\x00\x00"
            continue
        row = alpha * 256
        rgba[base] = table[row + rgba[base]]
        rgba[base + 1] = table[row + rgba[base + 1]]
        rgba[base + 2] = table[row + rgba[base + 2]]
    return bytes(rgba)
