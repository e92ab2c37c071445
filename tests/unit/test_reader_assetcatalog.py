"""The icon out of Assets.car: real catalogs from ../shared/fixtures/real, and
built ones that exercise every encoding and every way a catalog can lie."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import lzfse
import pytest

from ipadrop.reading.assetcatalog import (
    MAX_DECODED_BYTES,
    Catalog,
    extract_icon,
    lzfse_declared_size,
)
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

# (folder, facet) -> (size, opaque, pixels sampled at (x, y) as straight RGBA)
REAL: dict[tuple[str, str], tuple[int, bool, dict[tuple[int, int], tuple[int, int, int, int]]]] = {
    # Xcode 10.2: LZVN in KCBC chunks; the 1024 px marketing icon.
    ("Mosquito1123__WTResign", "AppIcon"): (
        1024,
        True,
        {(0, 0): (255, 255, 255, 255), (256, 256): (93, 221, 211, 255)},
    ),
    # Xcode 12.5: LZFSE icons (the other images are deepmap2).
    ("iineva__bom", "AppIcon"): (180, True, {(0, 0): (84, 216, 254, 255)}),
    # Thinned: the icons are references into a packed atlas (bottom-left origin).
    ("marcinkapturski__wdio-ios-app", "AppIcon"): (
        120,
        True,
        {(0, 0): (255, 255, 255, 255), (60, 60): (255, 255, 255, 255)},
    ),
    ("renezit0__seellappios", "AppIcon"): (180, True, {(90, 90): (0, 0, 0, 255)}),
    # Xcode 26 Icon Composer: the flattened Any appearance, not Dark or Tinted.
    ("tristankoo-1__buildtrackapp", "AppIcon"): (
        1024,
        True,
        {(0, 0): (255, 255, 255, 255), (512, 512): (52, 57, 57, 255)},
    ),
    # palette-img, with real transparency at the rounded corner.
    ("vaguilar__carutil", "MyPNG"): (
        84,
        False,
        {(0, 0): (113, 132, 255, 172), (40, 40): (172, 136, 255, 255)},
    ),
}


def pixel(icon: Image, x: int, y: int) -> tuple[int, int, int, int]:
    offset = (y * icon.width + x) * 4
    r, g, b, a = icon.rgba[offset : offset + 4]
    return (r, g, b, a)


@pytest.mark.parametrize(("folder", "facet"), sorted(REAL))
def test_real_catalogs(real_fixtures: Path, folder: str, facet: str) -> None:
    size, opaque, samples = REAL[folder, facet]
    icon = extract_icon((real_fixtures / folder / "Assets.car").read_bytes(), facet)
    assert icon is not None
    assert (icon.width, icon.height, icon.opaque) == (size, size, opaque)
    assert len(icon.rgba) == size * size * 4
    for (x, y), expected in samples.items():
        assert pixel(icon, x, y) == expected
    # An icon, not a flat fill or noise: a handful to a few thousand colours.
    colours = {icon.rgba[i : i + 4] for i in range(0, len(icon.rgba), 4)}
    assert 20 < len(colours) < 200_000


def test_real_catalog_without_the_facet_is_no_icon(real_fixtures: Path) -> None:
    data = (real_fixtures / "vaguilar__carutil" / "Assets.car").read_bytes()
    assert extract_icon(data, "AppIcon") is None
    # JPEG and PDF renditions are not decoded (the caller keeps the loose PNGs).
    assert extract_icon(data, "MyJPG") is None
    assert extract_icon(data, "MyPDF") is None


def test_deepmap2_is_skipped_without_error(real_fixtures: Path) -> None:
    catalog = Catalog((real_fixtures / "iineva__bom" / "Assets.car").read_bytes())
    deepmap = [r for r in catalog.renditions() if r.name == "test.png"]
    assert deepmap
    assert catalog.decode(deepmap[0], depth=0) is None


def test_icon_composer_appearances_are_told_apart(real_fixtures: Path) -> None:
    catalog = Catalog((real_fixtures / "tristankoo-1__buildtrackapp" / "Assets.car").read_bytes())
    chosen = catalog.icon_renditions("AppIcon")
    assert chosen
    assert all(r.key[7] == 0 for r in chosen)
    assert all("UIAppearanceAny" in r.name for r in chosen)


def test_real_extraction_is_quick(real_fixtures: Path) -> None:
    data = (real_fixtures / "Mosquito1123__WTResign" / "Assets.car").read_bytes()
    started = time.perf_counter()
    assert extract_icon(data) is not None
    assert time.perf_counter() - started < 2.0  # ~50 ms here; a per-pixel loop is ~seconds


# -------------------------------------------------------------------- encodings


def _icon(payload: bytes, size: int = 8, **key: int) -> CarRendition:
    return CarRendition(size, size, payload, key=icon_key(**key))


def test_uncompressed_zlib_and_padded_rows() -> None:
    pixels = bgra_pixels(8, 8, b"\x10\x20\x30\xff")
    for payload in (mlec(0, pixels), zlib_mlec(pixels)):
        icon = extract_icon(build_car([_icon(payload)]))
        assert icon is not None
        assert (icon.width, icon.opaque) == (8, True)
        assert pixel(icon, 3, 3) == (0x30, 0x20, 0x10, 0xFF)  # BGRA -> RGBA
    # Rows padded to 48 bytes (8 px * 4 = 32 + 16 of padding) are trimmed.
    padded = b"".join(bgra_pixels(8, 1) + b"\xee" * 16 for _ in range(8))
    icon = extract_icon(build_car([_icon(zlib_mlec(padded))]))
    assert icon is not None
    assert icon.rgba == bgra_pixels(8, 8, b"\x30\x20\x10\xff")


def test_lzfse_and_lzvn_chunks() -> None:
    top = bgra_pixels(16, 8, b"\x00\x00\xff\xff")
    bottom = bgra_pixels(16, 8, b"\xff\x00\x00\xff")
    chunked = kcbc(8, lzfse.compress(top)) + kcbc(8, lzfse.compress(bottom))
    icon = extract_icon(build_car([_icon(mlec(4, chunked, flags=1, length=2), 16)]))
    assert icon is not None
    assert pixel(icon, 0, 0) == (255, 0, 0, 255)
    assert pixel(icon, 0, 15) == (0, 0, 255, 255)
    # LZVN: the raw block body of an LZFSE 'bvxn' block, with no header of its own.
    varied = bytes((x * 7 + y) & 0xFF for y in range(16) for x in range(64))
    stream = lzfse.compress(varied)
    assert stream[:4] == b"bvxn"
    (payload_size,) = struct.unpack_from("<I", stream, 8)
    raw_lzvn = stream[12 : 12 + payload_size]
    icon = extract_icon(build_car([_icon(mlec(3, kcbc(16, raw_lzvn), flags=3, length=1), 16)]))
    assert icon is not None
    assert icon.opaque
    assert icon.rgba[:3] == bytes((varied[2], varied[1], varied[0]))


def test_rle_rows() -> None:
    red, blue = b"\x00\x00\xff\xff", b"\xff\x00\x00\xff"
    rows = []
    for _ in range(4):
        rows.append(struct.pack("<I", 0x80000002) + red + struct.pack("<I", 2) + blue + blue)
    table = 12 + 4 * 4
    offsets, position = [], table
    for row in rows:
        offsets.append(position)
        position += len(row)
    body = struct.pack("<III", 4, 4, 4) + struct.pack("<4I", *offsets) + b"".join(rows)
    icon = extract_icon(build_car([_icon(mlec(1, body), 4)]))
    assert icon is not None
    assert [pixel(icon, x, 2) for x in range(4)] == [(255, 0, 0, 255)] * 2 + [(0, 0, 255, 255)] * 2


def test_palette_image() -> None:
    # Three colours -> 2-bit indices, rows padded to 16 bits, first pixel in the high bits.
    colours = [b"\xff\xff\x00\x00", b"\xff\x00\xff\x00", b"\x80\x00\x00\x80"]  # A,R,G,B
    header = struct.pack("<IIH", 0xCAFEF00D, 1, 3) + b"".join(colours)
    word = (0 << 14) | (1 << 12) | (2 << 10) | (1 << 8)
    body = header + struct.pack("<H", word) * 4
    icon = extract_icon(build_car([_icon(mlec(8, zlib.compress(body)), 4)]))
    assert icon is not None
    assert not icon.opaque
    assert [pixel(icon, x, 0) for x in range(4)] == [
        (255, 0, 0, 255),
        (0, 255, 0, 255),
        (0, 0, 255, 128),  # premultiplied 0x80 blue under alpha 0x80 -> straight 255
        (0, 255, 0, 255),
    ]


def test_unpremultiplies_translucent_pixels_only() -> None:
    pixels = b"\x40\x40\x40\x80" + b"\x00\x00\x00\x00" + bgra_pixels(2, 1, b"\x01\x02\x03\xff")
    icon = extract_icon(build_car([_icon(mlec(0, pixels), 2)]))
    assert icon is not None
    assert not icon.opaque
    assert pixel(icon, 0, 0) == (128, 128, 128, 128)
    assert pixel(icon, 1, 0) == (0, 0, 0, 0)
    assert pixel(icon, 0, 1) == (3, 2, 1, 255)


def test_atlas_reference_crops_from_the_bottom_left() -> None:
    # A 4x4 atlas: top half white, bottom-left 2x2 green, bottom-right 2x2 red.
    white, green, red = b"\xff\xff\xff\xff", b"\x00\xff\x00\xff", b"\x00\x00\xff\xff"
    atlas_pixels = (white * 4) * 2 + (green * 2 + red * 2) * 2
    atlas_key = {12: 1, 17: 0, 1: 9, 2: 181}
    atlas = CarRendition(4, 4, zlib_mlec(atlas_pixels), key=atlas_key, name="ZZZZPackedAsset")
    reference = CarRendition(
        2, 2, b"", key=icon_key(), tlv=link_tlv((2, 0, 2, 2), atlas_key), name="icon"
    )
    icon = extract_icon(build_car([atlas, reference]))
    assert icon is not None
    assert icon.width == 2
    assert {pixel(icon, x, y) for x in range(2) for y in range(2)} == {(255, 0, 0, 255)}


def test_largest_default_appearance_wins() -> None:
    small = _icon(zlib_mlec(bgra_pixels(8, 8, b"\x00\x00\x01\xff")), 8)
    large = _icon(zlib_mlec(bgra_pixels(16, 16, b"\x00\x00\x02\xff")), 16, idiom=2)
    dark = _icon(zlib_mlec(bgra_pixels(32, 32, b"\x00\x00\x03\xff")), 32, appearance=1)
    icon = extract_icon(build_car([small, large, dark]))
    assert icon is not None
    assert (icon.width, pixel(icon, 0, 0)[0]) == (16, 2)
    # A broken largest rendition falls back to the next one.
    broken = _icon(mlec(2, b"not zlib at all"), 64)
    icon = extract_icon(build_car([small, broken]))
    assert icon is not None
    assert icon.width == 8


def test_named_facet() -> None:
    other = CarRendition(8, 8, zlib_mlec(bgra_pixels(8, 8)), key=icon_key(identifier=77))
    car = build_car([other], facets={"Beta": {1: 85, 2: 220, 17: 77}})
    assert extract_icon(car, "AppIcon") is None
    beta = extract_icon(car, "Beta")
    assert beta is not None
    assert beta.width == 8


# -------------------------------------------------------------------- hostile


def _good() -> CarRendition:
    return _icon(zlib_mlec(bgra_pixels(8, 8)))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"BOMStore",
        b"BOMStore" + b"\xff" * 100,
        b"\0" * 4096,
        build_car([_good()])[:600],
    ],
)
def test_garbage_is_no_icon(data: bytes) -> None:
    assert extract_icon(data) is None


def test_tree_loops_end() -> None:
    started = time.perf_counter()
    assert extract_icon(build_car([_good()], rendition_leaf_forward=-1)) is None
    assert time.perf_counter() - started < 1


def test_lying_sizes() -> None:
    # A CSI header claiming a giant image: skipped before anything is allocated.
    huge = CarRendition(100_000, 100_000, zlib_mlec(bgra_pixels(8, 8)), key=icon_key())
    assert extract_icon(build_car([huge])) is None
    # Fewer pixels than the header says.
    short = CarRendition(64, 64, zlib_mlec(bgra_pixels(8, 8)), key=icon_key())
    assert extract_icon(build_car([short])) is None
    # A chunk that says it is longer than the record.
    lying = _icon(mlec(4, kcbc(8, b"bvx2", length=1_000_000), flags=1))
    assert extract_icon(build_car([lying])) is None
    # A link to itself, and one to a missing atlas.
    key = icon_key()
    loop = CarRendition(8, 8, b"", key=key, tlv=link_tlv((0, 0, 8, 8), key))
    missing = CarRendition(8, 8, b"", key=key, tlv=link_tlv((0, 0, 8, 8), {1: 9}))
    assert extract_icon(build_car([loop])) is None
    assert extract_icon(build_car([missing])) is None


def test_decompression_bombs_are_refused_unexpanded() -> None:
    side = 1024
    zeros = bytes(MAX_DECODED_BYTES + 4096)
    zlib_bomb = _icon(mlec(2, zlib.compress(zeros, 9)), side)
    lzfse_bomb = _icon(mlec(4, lzfse.compress(zeros)), side)
    for rendition in (zlib_bomb, lzfse_bomb):
        started = time.perf_counter()
        assert extract_icon(build_car([rendition])) is None
        assert time.perf_counter() - started < 2
    # The LZFSE size check reads only block headers.
    assert lzfse_declared_size(lzfse.compress(zeros)) == len(zeros)


# ------------------------------------------------------------- in the inspector


def _ipa_with_catalog(catalog: bytes, **options: object) -> bytes:
    from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes

    return build_ipa_bytes(extra_entries=[("Payload/Sample.app/Assets.car", catalog)], **options)


def test_inspector_prefers_the_larger_catalog_icon(real_fixtures: Path) -> None:
    from ipadrop.domain import bucket_keys
    from ipadrop.reading.inspector import inspect_ipa
    from ipadrop.reading.png import read_header
    from ipadrop.reading.sources import BytesSource, CountingSource

    catalog = (real_fixtures / "Mosquito1123__WTResign" / "Assets.car").read_bytes()
    source = CountingSource(BytesSource(_ipa_with_catalog(catalog)))  # with a 180 px CgBI too
    inspection = inspect_ipa(source)
    icon = inspection.facts.icon
    assert icon is not None
    assert (icon.source, icon.width, icon.height) == (
        "Payload/Sample.app/Assets.car#AppIcon",
        1024,
        1024,
    )
    sides = {name: read_header(data).width for name, data in inspection.icon_files.items()}
    assert sides == bucket_keys.ICON_PIXELS
    assert source.rounds <= 2


def test_inspector_uses_the_named_icon_set_and_respects_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ipadrop.reading import inspector
    from ipadrop.reading.sources import BytesSource, CountingSource

    beta = CarRendition(600, 600, zlib_mlec(bgra_pixels(600, 600)), key=icon_key(identifier=77))
    car = build_car([beta], facets={"Beta": {1: 85, 2: 220, 17: 77}})
    info = {"CFBundleIcons": {"CFBundlePrimaryIcon": {"CFBundleIconName": "Beta"}}}
    ipa = _ipa_with_catalog(car, info_extra=info)
    icon = inspector.inspect_ipa(BytesSource(ipa)).facts.icon
    assert icon is not None
    assert (icon.source, icon.width) == ("Payload/Sample.app/Assets.car#Beta", 600)
    # Above the cap the catalog is not even fetched: the loose 180 px icon wins.
    monkeypatch.setattr(inspector, "MAX_CATALOG_BYTES", 1024)
    source = CountingSource(BytesSource(ipa))
    icon = inspector.inspect_ipa(source).facts.icon
    assert icon is not None
    assert icon.source.endswith(".png")
    assert icon.width == 180


def test_garbage_lzvn_is_a_decoding_failure_not_a_memory_error() -> None:
    """The lzfse binding answers some damaged LZVN blocks with MemoryError (a
    failed, untouched allocation); the reader turns it into "no icon"."""
    import random

    from ipadrop.reading.assetcatalog import CatalogError, _lzfse_decompress

    payload = random.Random(0).randbytes(200)  # noqa: S311 (test data)
    stream = b"bvxn" + struct.pack("<II", 1000, len(payload)) + payload + b"bvx$"
    with pytest.raises(MemoryError):
        lzfse.decompress(stream)
    with pytest.raises(CatalogError):
        _lzfse_decompress(stream, 1 << 20)
    icon = _icon(mlec(3, kcbc(8, payload), flags=1), 8)
    assert extract_icon(build_car([icon])) is None
