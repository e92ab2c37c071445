"""PNG headers and Apple's CgBI variant, with nothing but zlib and struct.

Xcode's ``pngcrush -iphone`` rewrites app icons as "CgBI" PNGs that only iOS
can show: an extra ``CgBI`` chunk before ``IHDR``, IDAT data as a raw deflate
stream (no zlib header or checksum), pixels in BGRA order with premultiplied
alpha. ``to_standard_png`` undoes all of that and writes an ordinary RGBA PNG
with correct CRCs; an ordinary PNG passes through unchanged.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

from ipadrop.reading.pixels import (
    PNG_SIGNATURE,
    Image,
    all_opaque,
    encode_png,
    from_premultiplied_bgra,
    png_chunk,
)

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


chunk = png_chunk  # one home (reading.pixels); the name callers here know


def to_standard_png(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """A PNG any browser shows: CgBI converted, anything else returned as it is."""
    header = read_header(data)
    if not header.cgbi:
        return data
    return cgbi_to_png(data, max_pixels=max_pixels)


def cgbi_to_png(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """Convert an Apple CgBI PNG into a standard 8-bit PNG (RGBA, or RGB when opaque)."""
    if not read_header(data).cgbi:
        raise PngError("not a CgBI PNG")
    return encode_png(decode_png(data, max_pixels=max_pixels))


def decode_png(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image:
    """The pixels of an 8-bit RGB or RGBA PNG, CgBI or standard, not interlaced.

    Row filters None, Sub and Up (the ones Xcode's crusher and most encoders
    write for icons) are undone with C-level bytes operations; Average and Paeth
    rows fall back to a per-byte loop."""
    header = read_header(data)
    if header.bit_depth != 8 or header.color_type not in (2, 6) or header.interlace != 0:
        raise PngError("unsupported PNG layout (only 8-bit RGB/RGBA, not interlaced, is decoded)")
    if header.width * header.height > max_pixels:
        raise PngError(f"the image is {header.width}x{header.height}, too large to convert")
    stream = b"".join(payload for kind, payload in iter_chunks(data) if kind == b"IDAT")
    channels = 4 if header.color_type == 6 else 3
    stride = header.width * channels
    expected = header.height * (stride + 1)
    inflater = zlib.decompressobj(-15 if header.cgbi else 15)  # CgBI IDAT is raw deflate
    try:
        filtered = inflater.decompress(stream, expected)
    except zlib.error as exc:
        raise PngError("the PNG pixel data cannot be decompressed") from exc
    if len(filtered) != expected:
        raise PngError("the PNG pixel data is shorter than the image")
    pixels = _unfilter(filtered, header.height, stride, channels)
    if channels == 3:
        rgba = bytearray(header.width * header.height * 4)
        for channel in range(3):
            rgba[channel::4] = pixels[channel::3]
        rgba[3::4] = b"\xff" * (header.width * header.height)
        if header.cgbi:  # BGR -> RGB
            rgba[0::4], rgba[2::4] = rgba[2::4], rgba[0::4]
        return Image(header.width, header.height, bytes(rgba), True)
    if header.cgbi:
        return from_premultiplied_bgra(pixels, header.width, header.height, stride)
    return Image(header.width, header.height, bytes(pixels), all_opaque(pixels))


def _unfilter(filtered: bytes, height: int, stride: int, bpp: int) -> bytearray:
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    out = bytearray(height * stride)
    previous = bytes(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind = filtered[start]
        line = filtered[start + 1 : start + 1 + stride]
        if kind == 1:
            line = _unfilter_sub(line, bpp)
        elif kind == 2:
            line = _add_bytes(line, previous)
        elif kind in (3, 4):
            line = _unfilter_slow(kind, line, previous, bpp)
        elif kind != 0:
            raise PngError(f"unknown PNG filter type {kind}")
        out[row * stride : (row + 1) * stride] = line
        previous = line
    return out


def _unfilter_sub(line: bytes, bpp: int) -> bytes:
    """Sub: a running sum per channel, modulo 256 (the low byte of 32-bit sums)."""
    out = bytearray(len(line))
    for channel in range(bpp):
        sums = array("I", accumulate(line[channel::bpp]))
        out[channel::bpp] = (
            sums.tobytes()[0::4]
            if sys.byteorder == "little"
            else bytes(value & 0xFF for value in sums)
        )
    return bytes(out)


def _add_bytes(line: bytes, previous: bytes) -> bytes:
    """Up: bytewise sum modulo 256, as one big-integer addition on 16-bit lanes."""
    total = _lanes(line) + _lanes(previous)
    return total.to_bytes(2 * len(line) + 2, "little")[0 : 2 * len(line) : 2]


def _lanes(data: bytes) -> int:
    spread = bytearray(2 * len(data))
    spread[0::2] = data
    return int.from_bytes(spread, "little")


def _unfilter_slow(kind: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    """Average and Paeth: each byte depends on the one just decoded, so a loop.

    Paeth's distances are computed without the estimate itself:
    |p - a| = |b - c|, |p - b| = |a - c|, |p - c| = |a + b - 2c|."""
    current = bytearray(line)
    for i in range(bpp):  # no left neighbour: Average adds up // 2, Paeth adds up
        current[i] = (current[i] + (previous[i] >> 1 if kind == 3 else previous[i])) & 0xFF
    if kind == 3:
        for i in range(bpp, len(current)):
            current[i] = (current[i] + ((current[i - bpp] + previous[i]) >> 1)) & 0xFF
        return bytes(current)
    for i in range(bpp, len(current)):
        a = current[i - bpp]
        b = previous[i]
        c = previous[i - bpp]
        pa = b - c
        pb = a - c
        pc = pa + pb
        if pa < 0:
            pa = -pa
        if pb < 0:
            pb = -pb
        if pc < 0:
            pc = -pc
        if pa <= pb and pa <= pc:
            current[i] = (current[i] + a) & 0xFF
        elif pb <= pc:
            current[i] = (current[i] + b) & 0xFF
        else:
            current[i] = (current[i] + c) & 0xFF
    return bytes(current)
