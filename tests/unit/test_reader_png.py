"""CgBI -> PNG conversion, checked with an independent decode of our output."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from ipadrop.reading.png import PngError, cgbi_to_png, read_header, to_standard_png
from ipadrop_tools.devkit.sample_ipa import sample_icon_rgba, write_cgbi_png, write_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_standard_png(data: bytes) -> tuple[int, int, bytes]:
    """A strict reader for what our converter writes: every CRC checked, zlib
    (not raw deflate) IDAT, 8-bit RGBA (RGB when opaque), filter 0 rows. Returns
    width, height, RGBA."""
    assert data.startswith(PNG_SIGNATURE)
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack_from(">I", data, position + 8 + length)
        assert crc == zlib.crc32(kind + body), f"bad CRC on {kind!r}"
        chunks.append((kind, body))
        position += 12 + length
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    assert b"CgBI" not in kinds
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, interlace) == (8, 0)
    assert color in (2, 6)
    channels = 4 if color == 6 else 3
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    row_bytes = 1 + width * channels
    assert len(raw) == height * row_bytes
    rows = [raw[r * row_bytes : (r + 1) * row_bytes] for r in range(height)]
    assert all(row[0] == 0 for row in rows)
    pixels = b"".join(row[1:] for row in rows)
    if channels == 4:
        return width, height, pixels
    rgba = bytearray(width * height * 4)
    for channel in range(3):
        rgba[channel::4] = pixels[channel::3]
    rgba[3::4] = b"\xff" * (width * height)
    return width, height, bytes(rgba)


def assert_close(actual: bytes, expected: bytes) -> None:
    """Premultiplying loses precision where alpha is small; compare like iOS would show it."""
    assert len(actual) == len(expected)
    for index in range(0, len(expected), 4):
        alpha = expected[index + 3]
        assert actual[index + 3] == alpha
        if alpha == 0:
            continue
        tolerance = 255 // alpha + 1
        for channel in range(3):
            assert abs(actual[index + channel] - expected[index + channel]) <= tolerance


@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4])
def test_cgbi_round_trip_every_filter(filter_type: int) -> None:
    rgba = sample_icon_rgba(48, 48)
    assert len({rgba[i] for i in range(3, len(rgba), 4)}) > 2  # real alpha gradient
    crushed = write_cgbi_png(48, 48, rgba=rgba, filter_type=filter_type, idat_chunks=3)
    assert crushed[12:16] == b"CgBI"
    width, height, pixels = decode_standard_png(to_standard_png(crushed))
    assert (width, height) == (48, 48)
    assert_close(pixels, rgba)


def test_opaque_pixels_survive_exactly_and_channels_are_swapped() -> None:
    rgba = bytes([200, 10, 30, 255]) * 16
    _, _, pixels = decode_standard_png(cgbi_to_png(write_cgbi_png(4, 4, rgba=rgba)))
    assert pixels == rgba


def test_plain_png_passes_through_unchanged() -> None:
    plain = write_png(32, 32)
    assert to_standard_png(plain) is plain
    assert read_header(plain).cgbi is False


def test_header() -> None:
    header = read_header(write_cgbi_png(120, 120)[:49])
    assert (header.width, header.height, header.cgbi) == (120, 120, True)


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a", PNG_SIGNATURE, PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDX" + b"\x00" * 30],
)
def test_not_png(data: bytes) -> None:
    with pytest.raises(PngError):
        read_header(data)


def test_cgbi_damaged_or_oversized() -> None:
    good = write_cgbi_png(64, 64)
    with pytest.raises(PngError):
        cgbi_to_png(good[:-40])  # IDAT cut short
    with pytest.raises(PngError, match="too large"):
        cgbi_to_png(good, max_pixels=1000)


def test_real_crushed_and_plain_icons(real_fixtures: Path) -> None:
    folder = real_fixtures / "codemagic-ci-cd__cli-tools" / "Capybara App.app"
    crushed = (folder / "AppIcon60x60@3x.png").read_bytes()
    assert read_header(crushed).cgbi
    width, height, pixels = decode_standard_png(to_standard_png(crushed))
    assert (width, height) == (180, 180)
    assert len(set(pixels)) > 10  # an image, not a blank
    plain = (folder / "AppIcon29x29@2x.png").read_bytes()
    assert not read_header(plain).cgbi
    assert to_standard_png(plain) == plain


@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4])
def test_standard_png_decodes_every_filter(filter_type: int) -> None:
    from ipadrop.reading.png import decode_png
    from ipadrop_tools.devkit.sample_ipa import _scanlines

    rgba = sample_icon_rgba(33, 21)
    ihdr = struct.pack(">IIBBBBB", 33, 21, 8, 6, 0, 0, 0)
    idat = zlib.compress(_scanlines(33, 21, rgba, filter_type))
    chunk = _chunk_for_test
    png = PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    image = decode_png(png)
    assert (image.width, image.height, image.rgba) == (33, 21, rgba)


def _chunk_for_test(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_large_cgbi_converts_in_proportion() -> None:
    """A 1024 px CgBI icon (filter None, as Xcode writes them) converts in a
    fraction of a second (bench/reading.py measures it against the old code)."""
    import time

    crushed = write_cgbi_png(1024, 1024, rgba=sample_icon_rgba(64, 64) * 256)
    started = time.perf_counter()
    converted = cgbi_to_png(crushed)
    assert time.perf_counter() - started < 1.5  # ~0.1 s idle; CI machines are shared
    assert read_header(converted).width == 1024
