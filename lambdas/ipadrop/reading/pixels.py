"""RGBA pixel buffers: alpha conversion, area-average downscaling, PNG encoding.

Pure Python and fast enough for app icons (a 1024 px icon to 512 px in tens
of milliseconds): every per-pixel step is a C-level bytes operation. Resizing
packs whole rows into big integers with 16-bit lanes, so one integer
multiply-add weighs a full row (docs/ARCHITECTURE.md, Icons).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_WEIGHT_BITS = 8  # fixed-point weights: 255 * 2**8 still fits a 16-bit lane


@dataclass(frozen=True, slots=True)
class Image:
    """Straight (un-premultiplied) RGBA, rows of ``width * 4`` bytes."""

    width: int
    height: int
    rgba: bytes
    opaque: bool

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or len(self.rgba) != self.width * self.height * 4:
            raise ValueError("pixel buffer does not match the image size")


# ---------------------------------------------------------------------- alpha


def all_opaque(rgba: bytes | bytearray) -> bool:
    return rgba[3::4].count(255) == len(rgba) // 4


def from_premultiplied_bgra(
    bgra: bytes | bytearray, width: int, height: int, stride: int, *, opaque: bool = False
) -> Image:
    """Premultiplied BGRA rows of ``stride`` bytes (the layout CoreGraphics and
    CgBI PNGs use) -> straight RGBA. ``opaque`` trusts the source's flag and
    ignores stored alpha; otherwise opaque images skip un-premultiplying."""
    row = width * 4
    if stride != row:
        bgra = b"".join(bgra[line * stride : line * stride + row] for line in range(height))
    elif len(bgra) != row * height:
        bgra = bgra[: row * height]
    rgba = bytearray(len(bgra))
    rgba[0::4] = bgra[2::4]
    rgba[1::4] = bgra[1::4]
    rgba[2::4] = bgra[0::4]
    if opaque:
        rgba[3::4] = b"\xff" * (width * height)
        return Image(width, height, bytes(rgba), True)
    rgba[3::4] = bgra[3::4]
    if all_opaque(rgba):
        return Image(width, height, bytes(rgba), True)
    return Image(width, height, _scale_by_alpha(rgba, _unpremultiply_table), False)


def _scale_by_alpha(rgba: bytearray, table_for: Callable[[int], bytes]) -> bytes:
    """Map the colour bytes of every pixel through the table of its alpha value.

    Pixels are grouped by alpha: icons have a few distinct translucent values
    on their edges, and fully opaque or fully clear pixels are left alone
    (premultiplied colour under alpha 0 is 0 both ways)."""
    alphas = bytes(rgba[3::4])
    for alpha in set(alphas) - {0, 255}:
        table = table_for(alpha)
        for index in _positions(alphas, alpha):
            base = index * 4
            rgba[base : base + 3] = rgba[base : base + 3].translate(table)
    return bytes(rgba)


def _positions(haystack: bytes, value: int) -> Iterator[int]:
    needle = bytes((value,))
    index = haystack.find(needle)
    while index >= 0:
        yield index
        index = haystack.find(needle, index + 1)


@lru_cache(maxsize=256)
def _unpremultiply_table(alpha: int) -> bytes:
    return bytes(min(255, (value * 255 + alpha // 2) // alpha) for value in range(256))


@lru_cache(maxsize=256)
def _premultiply_table(alpha: int) -> bytes:
    return bytes((value * alpha + 127) // 255 for value in range(256))


# --------------------------------------------------------------------- resize


def resize(image: Image, size: int) -> Image:
    """The image scaled down to fit ``size`` x ``size`` (area average; never enlarged)."""
    if image.width <= size and image.height <= size:
        return image
    scale = size / max(image.width, image.height)
    width = max(1, round(image.width * scale))
    height = max(1, round(image.height * scale))
    pixels = image.rgba
    if not image.opaque:  # average premultiplied colours, or clear pixels bleed black
        pixels = _scale_by_alpha(bytearray(pixels), _premultiply_table)
    columns = _resample_rows(_transpose(pixels, image.width, image.height), image.height, width)
    pixels = _resample_rows(_transpose(columns, image.height, width), width, height)
    if image.opaque:
        return Image(width, height, pixels, True)
    return Image(width, height, _scale_by_alpha(bytearray(pixels), _unpremultiply_table), False)


def _transpose(rgba: bytes, width: int, height: int) -> bytes:
    """Rows become columns (a ``height`` x ``width`` image), one pixel-wide slice per column."""
    out = bytearray(len(rgba))
    source = memoryview(rgba).cast("I")
    target = memoryview(out).cast("I")
    for x in range(width):
        target[x * height : (x + 1) * height] = source[x::width]
    return bytes(out)


def _resample_rows(rgba: bytes, row_pixels: int, target_rows: int) -> bytes:
    """Area-average the rows of ``rgba`` (rows of ``row_pixels``) down to ``target_rows``."""
    row = row_pixels * 4
    source_rows = len(rgba) // row
    lanes = [_to_lanes(rgba[i * row : (i + 1) * row]) for i in range(source_rows)]
    half = _to_lanes(bytes([1 << (_WEIGHT_BITS - 1)]) * row)
    out = bytearray()
    for weights in _weights(source_rows, target_rows):
        total = half
        for source, weight in weights:
            total += lanes[source] * weight
        out += (total >> _WEIGHT_BITS).to_bytes(2 * row + 2, "little")[0 : 2 * row : 2]
    return bytes(out)


def _to_lanes(data: bytes) -> int:
    spread = bytearray(2 * len(data))
    spread[0::2] = data
    return int.from_bytes(spread, "little")


def _weights(source: int, target: int) -> list[list[tuple[int, int]]]:
    """For each target row, (source row, weight) with weights summing to 2**_WEIGHT_BITS."""
    unit = 1 << _WEIGHT_BITS
    result: list[list[tuple[int, int]]] = []
    for j in range(target):
        start, end = j * source / target, (j + 1) * source / target
        covered: list[tuple[int, float]] = []
        i = int(start)
        while i < end and i < source:
            overlap = min(end, i + 1) - max(start, i)
            if overlap > 0:
                covered.append((i, overlap))
            i += 1
        span = sum(overlap for _, overlap in covered)
        weights = [(i, int(overlap / span * unit)) for i, overlap in covered]
        short = unit - sum(weight for _, weight in weights)
        heaviest = max(range(len(weights)), key=lambda k: weights[k][1])
        weights[heaviest] = (weights[heaviest][0], weights[heaviest][1] + short)
        result.append(weights)
    return result


# ------------------------------------------------------------------------ PNG


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def encode_png(image: Image, *, level: int = 9) -> bytes:
    """A standard 8-bit PNG: RGB when opaque, RGBA otherwise; no row filters."""
    if image.opaque:
        rgb = bytearray(image.width * image.height * 3)
        rgb[0::3] = image.rgba[0::4]
        rgb[1::3] = image.rgba[1::4]
        rgb[2::3] = image.rgba[2::4]
        pixels, row, colour_type = bytes(rgb), image.width * 3, 2
    else:
        pixels, row, colour_type = image.rgba, image.width * 4, 6
    scanlines = b"".join(
        b"\x00" + pixels[offset : offset + row] for offset in range(0, len(pixels), row)
    )
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, colour_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(scanlines, level))
        + png_chunk(b"IEND", b"")
    )
