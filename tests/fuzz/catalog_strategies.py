"""Hypothesis strategies for damaged asset catalogs (Assets.car), and the property.

Real and built catalogs, damaged by the generic mutations (flips, truncations,
splices) and by lies told in the fields the catalog reader trusts most: BOM
block pointers, B-tree node counts and links, CSI sizes, pixel record and
chunk lengths, LZFSE block sizes. ``check_catalog`` is the property: the
reader returns an icon or None, never raises, and stays under the memory cap.
"""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from collections.abc import Sequence
from pathlib import Path

from hypothesis import strategies as st

from ipadrop.reading.assetcatalog import extract_icon
from ipadrop.reading.pixels import Image
from tests.car_builder import (
    CarRendition,
    bgra_pixels,
    build_car,
    icon_key,
    kcbc,
    link_tlv,
    mlec,
    zlib_mlec,
)
from tests.fuzz.strategies import MEMORY_CAP_BYTES, _find_all, mutations

# Where lies do the most damage: the tags of the records the reader parses.
_TAGS = (b"BOMStore", b"tree", b"ISTC", b"MLEC", b"KCBC", b"KLNI", b"bvx2", b"bvxn", b"tmfk")
_U32 = (0, 1, 2, 0x7F, 0xFF, 0x400, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def seed_catalogs(real_dir: Path | None) -> list[bytes]:
    """The real catalogs (when present) and built ones covering every encoding."""
    seeds = sorted(real_dir.rglob("Assets.car")) if real_dir else []
    found = [path.read_bytes() for path in seeds]
    atlas_key = {12: 1, 17: 0, 1: 9, 2: 181}
    found += [
        build_car([CarRendition(8, 8, zlib_mlec(bgra_pixels(8, 8)), key=icon_key())]),
        build_car(
            [
                CarRendition(
                    16,
                    16,
                    mlec(2, kcbc(16, zlib.compress(bgra_pixels(16, 16))), flags=1),
                    key=icon_key(),
                )
            ]
        ),
        build_car(
            [
                CarRendition(4, 4, zlib_mlec(bgra_pixels(4, 4, b"\1\2\3\x80")), key=atlas_key),
                CarRendition(2, 2, b"", key=icon_key(), tlv=link_tlv((1, 1, 2, 2), atlas_key)),
            ]
        ),
    ]
    return found


@st.composite
def _lie(draw: st.DrawFn, data: bytes) -> bytes:
    spots = [i for tag in _TAGS for i in _find_all(data, tag)]
    if not spots:
        return data
    spot = draw(st.sampled_from(spots)) + draw(st.integers(0, 48))
    value = draw(st.sampled_from(_U32))
    big_endian = data[spot - 8 : spot] == b"BOMStore" or draw(st.booleans())
    packed = struct.pack(">I" if big_endian else "<I", value)
    return data[:spot] + packed + data[spot + 4 :]


@st.composite
def mutated_catalogs(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(_lie(data)) if draw(st.booleans()) else draw(mutations).apply(data, seeds)
    return data


def check_catalog(data: bytes) -> str:
    """ "icon" or "none"; AssertionError when the property breaks."""
    tracing = tracemalloc.is_tracing()
    held_before = 0
    if tracing:
        tracemalloc.reset_peak()
        held_before = tracemalloc.get_traced_memory()[0]
    icon = extract_icon(data)
    if tracing:
        grown = tracemalloc.get_traced_memory()[1] - held_before
        assert grown < MEMORY_CAP_BYTES, f"reading the catalog took {grown / 2**20:.1f} MiB"
    if icon is None:
        return "none"
    assert isinstance(icon, Image)
    assert icon.width > 0
    assert icon.height > 0
    assert len(icon.rgba) == icon.width * icon.height * 4
    return "icon"
