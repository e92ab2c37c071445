"""Small compiled asset catalogs (Assets.car) built byte by byte for tests.

Only what the reader looks at: a BOM store with KEYFORMAT, FACETKEYS and
RENDITIONS, CSI records with an MLEC pixel record (optionally in KCBC chunks)
or an internal link into an atlas. Knobs let tests make them lie.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

KEY_FORMAT = (7, 12, 15, 17, 1, 2)  # appearance, scale, idiom, identifier, element, part
ICON_ID = 6849


@dataclass
class CarRendition:
    width: int
    height: int
    payload: bytes  # what follows the CSI header and TLVs (an MLEC record, or empty)
    key: dict[int, int] = field(default_factory=dict)
    tlv: bytes = b""
    pixel_format: bytes = b"BGRA"
    flags: int = 0
    name: str = "icon.png"


def icon_key(**overrides: int) -> dict[int, int]:
    key = {7: 0, 12: 1, 15: 1, 17: ICON_ID, 1: 85, 2: 220}
    names = {"appearance": 7, "scale": 12, "idiom": 15, "identifier": 17, "part": 2}
    for name, value in overrides.items():
        key[names[name]] = value
    return key


def bgra_pixels(width: int, height: int, bgra: bytes = b"\x10\x20\x30\xff") -> bytes:
    return bgra * (width * height)


def mlec(encoding: int, body: bytes, *, flags: int = 0, length: int | None = None) -> bytes:
    return (
        struct.pack("<4sIII", b"MLEC", flags, encoding, len(body) if length is None else length)
        + body
    )


def kcbc(rows: int, data: bytes, *, length: int | None = None) -> bytes:
    return (
        struct.pack("<4sIIII", b"KCBC", 0, 0, rows, len(data) if length is None else length) + data
    )


def zlib_mlec(pixels: bytes, *, flags: int = 0) -> bytes:
    return mlec(2, zlib.compress(pixels), flags=flags)


def link_tlv(frame: tuple[int, int, int, int], target: dict[int, int]) -> bytes:
    tokens = b"".join(struct.pack("<HH", k, v) for k, v in target.items()) + b"\0\0\0\0"
    body = struct.pack("<4sIIIIIHI", b"KLNI", 0, *frame, 12, len(tokens)) + tokens
    return struct.pack("<II", 0x3F2, len(body)) + body


def csi(rendition: CarRendition) -> bytes:
    header = struct.pack(
        "<4sIIIII4sI",
        b"ISTC",
        1,
        rendition.flags,
        rendition.width,
        rendition.height,
        100,
        rendition.pixel_format,
        0,
    )
    metadata = struct.pack("<IHH128s", 0, 12, 0, rendition.name.encode())
    bitmaps = struct.pack("<IIII", len(rendition.tlv), 1, 0, len(rendition.payload))
    return header + metadata + bitmaps + rendition.tlv + rendition.payload


class BomWriter:
    """Blocks appended one by one; block 0 is the null block."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = [b""]

    def add(self, data: bytes) -> int:
        self.blocks.append(data)
        return len(self.blocks) - 1

    def tree(
        self, entries: Sequence[tuple[bytes, bytes]], *, leaf_forward: int | None = None
    ) -> int:
        """A one-leaf tree; ``leaf_forward`` makes the leaf link elsewhere (loops)."""
        pairs = [(self.add(value), self.add(key)) for key, value in entries]
        node_number = len(self.blocks)
        forward = 0 if leaf_forward is None else leaf_forward
        if leaf_forward == -1:
            forward = node_number  # the leaf links to itself
        node = struct.pack(">HHII", 1, len(pairs), forward, 0) + b"".join(
            struct.pack(">II", value, key) for value, key in pairs
        )
        self.add(node)
        return self.add(struct.pack(">4sIIIIB", b"tree", 1, node_number, 4096, len(pairs), 0))

    def build(self, variables: dict[str, int]) -> bytes:
        body = bytearray(b"\0" * 512)
        pointers: list[tuple[int, int]] = []
        for block in self.blocks:
            pointers.append((len(body) if block else 0, len(block)))
            body += block
        index_offset = len(body)
        index = struct.pack(">I", len(pointers)) + b"".join(
            struct.pack(">II", *pointer) for pointer in pointers
        )
        body += index
        vars_offset = len(body)
        table = struct.pack(">I", len(variables)) + b"".join(
            struct.pack(">IB", number, len(name)) + name.encode()
            for name, number in variables.items()
        )
        body += table
        body[:32] = struct.pack(
            ">8sIIIIII",
            b"BOMStore",
            1,
            len(pointers),
            index_offset,
            len(index),
            vars_offset,
            len(table),
        )
        return bytes(body)


def build_car(
    renditions: Sequence[CarRendition],
    *,
    facets: dict[str, dict[int, int]] | None = None,
    key_format: Sequence[int] = KEY_FORMAT,
    rendition_leaf_forward: int | None = None,
) -> bytes:
    writer = BomWriter()
    facets = {"AppIcon": {1: 85, 2: 220, 17: ICON_ID}} if facets is None else facets
    facet_entries = [
        (
            name.encode(),
            struct.pack("<HHH", 0, 0, len(attributes))
            + b"".join(struct.pack("<HH", k, v) for k, v in attributes.items()),
        )
        for name, attributes in facets.items()
    ]
    rendition_entries = [
        (
            b"".join(struct.pack("<H", r.key.get(attribute, 0)) for attribute in key_format),
            csi(r),
        )
        for r in renditions
    ]
    keyformat = writer.add(
        struct.pack("<4sII", b"tmfk", 0, len(key_format))
        + b"".join(struct.pack("<I", a) for a in key_format)
    )
    variables = {
        "KEYFORMAT": keyformat,
        "FACETKEYS": writer.tree(facet_entries),
        "RENDITIONS": writer.tree(rendition_entries, leaf_forward=rendition_leaf_forward),
    }
    return writer.build(variables)
