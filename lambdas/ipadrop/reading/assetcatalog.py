"""The app icon out of a compiled asset catalog (``Assets.car``), in pure Python.

An ``Assets.car`` is a BOM store (big-endian: a block table and named
variables) whose named B-trees index CoreUI renditions (little-endian).
``KEYFORMAT`` lists the attributes that make up every rendition key,
``FACETKEYS`` maps an asset name (``AppIcon``) to its identifying attributes
and ``RENDITIONS`` maps each full key to a CSI record: a header, a TLV list
and the pixel data (``MLEC``, optionally in ``KCBC`` chunks, compressed with
LZFSE, LZVN, zlib, RLE or a palette) or a reference into a packed atlas.
docs/ARCHITECTURE.md (Reading the asset catalog) describes the layout and the
choices made here.

``extract_icon(data, name)`` returns the largest ARGB rendition of the
default appearance as un-premultiplied RGBA, or ``None`` for anything it
cannot or will not decode (deepmap2, ASTC, JPEG, PDF, a damaged or hostile
catalog). It never raises for bad input and every loop and allocation is
bounded: the caller falls back to the loose PNGs.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from ipadrop.reading.pixels import Image, all_opaque, from_premultiplied_bgra

# Pixels of a decoded rendition (an icon or the atlas it is cut from).
MAX_PIXELS = 2048 * 2048
# Bytes of any one decompressed buffer (pixels plus row padding, palette tables).
MAX_DECODED_BYTES = MAX_PIXELS * 4 + 1024 * 1024
# B-tree nodes visited and entries read per tree: ample for real catalogs
# (a large game has tens of thousands of renditions), finite for hostile ones.
MAX_TREE_NODES = 100_000
MAX_TREE_ENTRIES = 500_000
MAX_TREE_DEPTH = 32
# Atlas references followed from one rendition.
MAX_REFERENCE_DEPTH = 4
# Renditions whose pixels are decoded while looking for the icon.
MAX_DECODE_ATTEMPTS = 8

_BOM_HEADER = struct.Struct(">8sIIIIII")
_BOM_POINTER = struct.Struct(">II")
_TREE_HEADER = struct.Struct(">4sIIIIB")
_TREE_NODE = struct.Struct(">HHII")
_CSI_HEADER = struct.Struct("<4sIIIII4sI")
_CSI_METADATA = struct.Struct("<IHH128s")
_CSI_BITMAPLIST = struct.Struct("<IIII")
_CSI_SIZE = _CSI_HEADER.size + _CSI_METADATA.size + _CSI_BITMAPLIST.size
_PIXEL_HEADER = struct.Struct("<4sIII")
_CHUNK_HEADER = struct.Struct("<4sIIII")
_LINK_HEADER = struct.Struct("<4sIIIIIHI")

# Rendition key attributes (CoreUI's numbering).
ATTR_ELEMENT = 1
ATTR_PART = 2
ATTR_APPEARANCE = 7
ATTR_DIMENSION1 = 8
ATTR_SCALE = 12
ATTR_IDENTIFIER = 17

# CSI pixel formats and the bitmap encodings this reader decodes.
_FORMAT_ARGB = b"BGRA"  # 'ARGB' stored little-endian
_ENC_NONE, _ENC_RLE, _ENC_ZLIB, _ENC_LZVN, _ENC_LZFSE = 0, 1, 2, 3, 4
_ENC_PALETTE = 8
_TLV_LINK = 0x3F2
_PALETTE_MAGIC = 0xCAFEF00D
_RENDITION_FLAG_OPAQUE = 0x8  # isOpaque, bit 3 of the CSI rendition flags
_PIXEL_FLAG_CHUNKS = 0x1
_PIXEL_FLAG_OPAQUE = 0x2


class CatalogError(ValueError):
    """Not a catalog we can read (internal: ``extract_icon`` returns None instead)."""


@dataclass(frozen=True, slots=True)
class Rendition:
    """One entry of the RENDITIONS tree, its CSI header parsed, pixels not decoded."""

    key: dict[int, int]
    width: int
    height: int
    scale: int
    pixel_format: bytes
    flags: int
    layout: int
    name: str
    record: bytes  # the whole CSI record

    @property
    def pixels(self) -> int:
        return self.width * self.height


def extract_icon(data: bytes, name: str = "AppIcon") -> Image | None:
    """The largest decodable rendition of the facet ``name``, or None."""
    try:
        catalog = Catalog(data)
        return catalog.icon(name)
    except (CatalogError, struct.error, ValueError, IndexError, KeyError, OverflowError):
        return None
    except MemoryError:  # a lie that got past the caps; the caller falls back
        return None


# ------------------------------------------------------------------- BOM store


class BomStore:
    """The block table and named variables of a BOM file."""

    def __init__(self, data: bytes) -> None:
        if len(data) < _BOM_HEADER.size:
            raise CatalogError("too short for a BOM store")
        magic, version, _, index_offset, index_length, vars_offset, vars_length = (
            _BOM_HEADER.unpack_from(data, 0)
        )
        if magic != b"BOMStore" or version != 1:
            raise CatalogError("not a BOM store")
        self.data = data
        index = _slice(data, index_offset, index_length)
        (count,) = struct.unpack_from(">I", index, 0)
        if 4 + count * _BOM_POINTER.size > len(index):
            raise CatalogError("BOM block table runs past its block")
        self._blocks = index[4 : 4 + count * _BOM_POINTER.size]
        self.block_count = count
        self.variables: dict[str, int] = {}
        table = _slice(data, vars_offset, vars_length)
        (var_count,) = struct.unpack_from(">I", table, 0)
        position = 4
        for _ in range(min(var_count, 1024)):
            block, length = struct.unpack_from(">IB", table, position)
            position += 5
            var_name = table[position : position + length].decode("ascii", "replace")
            position += length
            self.variables[var_name] = block

    def block(self, number: int) -> bytes:
        if not 0 < number < self.block_count:
            raise CatalogError(f"BOM block {number} does not exist")
        address, length = _BOM_POINTER.unpack_from(self._blocks, number * _BOM_POINTER.size)
        return _slice(self.data, address, length)

    def variable(self, var_name: str) -> bytes:
        if var_name not in self.variables:
            raise CatalogError(f"the catalog has no {var_name}")
        return self.block(self.variables[var_name])

    def tree(self, var_name: str) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) of every entry of the B-tree ``var_name``, in key order."""
        magic, version, root, _, _, _ = _TREE_HEADER.unpack_from(self.variable(var_name), 0)
        if magic != b"tree" or version != 1:
            raise CatalogError(f"{var_name} is not a BOM tree")
        visited: set[int] = set()
        node_number = root
        # Descend along the first child to the leftmost leaf...
        for _ in range(MAX_TREE_DEPTH):
            node = self._node(node_number, visited)
            is_leaf, count, _, _ = _TREE_NODE.unpack_from(node, 0)
            if is_leaf:
                break
            if count == 0:
                raise CatalogError(f"{var_name} has an empty inner node")
            (node_number,) = struct.unpack_from(">I", node, _TREE_NODE.size)
        else:
            raise CatalogError(f"{var_name} is deeper than {MAX_TREE_DEPTH}")
        # ...then walk the leaves along their forward links.
        entries = 0
        while True:
            is_leaf, count, forward, _ = _TREE_NODE.unpack_from(node, 0)
            if not is_leaf:
                raise CatalogError(f"{var_name} links a leaf to an inner node")
            entries += count
            if entries > MAX_TREE_ENTRIES:
                raise CatalogError(f"{var_name} has too many entries")
            for index in range(count):
                value, key = struct.unpack_from(">II", node, _TREE_NODE.size + 8 * index)
                yield self.block(key), self.block(value)
            if forward == 0:
                return
            node = self._node(forward, visited)

    def _node(self, number: int, visited: set[int]) -> bytes:
        if number in visited:
            raise CatalogError("the B-tree has a loop")
        if len(visited) >= MAX_TREE_NODES:
            raise CatalogError("the B-tree has too many nodes")
        visited.add(number)
        node = self.block(number)
        if len(node) < _TREE_NODE.size:
            raise CatalogError("B-tree node too short")
        return node


def _slice(data: bytes, offset: int, length: int) -> bytes:
    if offset < 0 or length < 0 or offset + length > len(data):
        raise CatalogError("a BOM block runs past the end of the file")
    return data[offset : offset + length]


# --------------------------------------------------------------------- catalog


class Catalog:
    """The key format, facets and renditions of a CAR file."""

    def __init__(self, data: bytes) -> None:
        self.bom = BomStore(data)
        self.key_format = _key_format(self.bom.variable("KEYFORMAT"))
        self._renditions: list[Rendition] | None = None

    def facets(self) -> dict[str, dict[int, int]]:
        """Asset name -> its identifying attributes."""
        facets: dict[str, dict[int, int]] = {}
        for key, value in self.bom.tree("FACETKEYS"):
            _, _, count = struct.unpack_from("<HHH", value, 0)
            if 6 + 4 * count > len(value):
                raise CatalogError("a facet's attribute list runs past its block")
            attributes = dict(struct.iter_unpack("<HH", value[6 : 6 + 4 * count]))
            facets[key.rstrip(b"\0").decode("utf-8", "replace")] = attributes
        return facets

    def renditions(self) -> list[Rendition]:
        if self._renditions is None:
            self._renditions = [
                rendition
                for key, value in self.bom.tree("RENDITIONS")
                if (rendition := self._rendition(key, value)) is not None
            ]
        return self._renditions

    def _rendition(self, key: bytes, record: bytes) -> Rendition | None:
        if len(record) < _CSI_SIZE or len(key) < 2 * len(self.key_format):
            return None
        tag, _, flags, width, height, scale, pixel_format, _ = _CSI_HEADER.unpack_from(record, 0)
        if tag != b"ISTC":
            return None
        _, layout, _, raw_name = _CSI_METADATA.unpack_from(record, _CSI_HEADER.size)
        values = struct.unpack_from(f"<{len(self.key_format)}H", key, 0)
        return Rendition(
            key=dict(zip(self.key_format, values, strict=True)),
            width=width,
            height=height,
            scale=scale,
            pixel_format=pixel_format,
            flags=flags,
            layout=layout,
            name=raw_name.split(b"\0", 1)[0].decode("utf-8", "replace"),
            record=record,
        )

    def icon_renditions(self, name: str) -> list[Rendition]:
        """Renditions of the facet ``name`` in the default appearance, largest first."""
        attributes = self.facets().get(name)
        if attributes is None:
            return []
        identifier = attributes.get(ATTR_IDENTIFIER)
        wanted = {
            attribute: value
            for attribute, value in attributes.items()
            # Not the part: an icon stack's facet names the stack, its flattened
            # renditions carry the image part.
            if attribute in (ATTR_ELEMENT, ATTR_IDENTIFIER) and attribute in self.key_format
        }
        if identifier is None or not wanted:
            return []
        found = [
            rendition
            for rendition in self.renditions()
            if all(rendition.key.get(a) == v for a, v in wanted.items())
            and rendition.key.get(ATTR_APPEARANCE, 0) == 0
            and rendition.pixel_format == _FORMAT_ARGB
            and 0 < rendition.width == rendition.height
            and rendition.pixels <= MAX_PIXELS
        ]
        # Largest first; among equals the lower scale (more pixels per point are the same).
        found.sort(key=lambda r: (-r.pixels, r.scale, sorted(r.key.items())))
        return found

    def icon(self, name: str) -> Image | None:
        for attempt, rendition in enumerate(self.icon_renditions(name)):
            if attempt >= MAX_DECODE_ATTEMPTS:
                break
            try:
                pixels = self.decode(rendition, depth=0)
            except (CatalogError, struct.error, zlib.error, ValueError, IndexError):
                continue
            if pixels is not None:
                return pixels
        return None

    # ----------------------------------------------------------------- pixels

    def decode(self, rendition: Rendition, *, depth: int) -> Image | None:
        """The pixels of ``rendition``; None if its format is not decoded here."""
        record = rendition.record
        tlv_length, _, _, data_length = _CSI_BITMAPLIST.unpack_from(
            record, _CSI_HEADER.size + _CSI_METADATA.size
        )
        tlv = record[_CSI_SIZE : _CSI_SIZE + tlv_length]
        if len(tlv) != tlv_length:
            raise CatalogError("CSI properties run past the record")
        link = _find_tlv(tlv, _TLV_LINK)
        if link is not None:
            return self._decode_link(rendition, link, depth)
        payload = record[_CSI_SIZE + tlv_length : _CSI_SIZE + tlv_length + data_length]
        opaque_hint = bool(rendition.flags & _RENDITION_FLAG_OPAQUE)
        bgra = _decode_bitmap(payload, rendition.width, rendition.height)
        if bgra is None:
            return None
        pixels, stride, opaque = bgra
        return from_premultiplied_bgra(
            pixels, rendition.width, rendition.height, stride, opaque=opaque or opaque_hint
        )

    def _decode_link(self, rendition: Rendition, link: bytes, depth: int) -> Image | None:
        """Crop a rendition that points into a packed atlas."""
        if depth >= MAX_REFERENCE_DEPTH:
            raise CatalogError("atlas references nest too deep")
        tag, _, x, y, width, height, _, length = _LINK_HEADER.unpack_from(link, 0)
        if tag != b"KLNI":
            raise CatalogError("not an internal link")
        tokens = link[_LINK_HEADER.size : _LINK_HEADER.size + length]
        target_key: dict[int, int] = dict.fromkeys(self.key_format, 0)
        for attribute, value in struct.iter_unpack("<HH", tokens[: len(tokens) // 4 * 4]):
            if attribute == 0 and value == 0:
                break
            if attribute in target_key:
                target_key[attribute] = value
        atlas = next((r for r in self.renditions() if r.key == target_key), None)
        if atlas is None or atlas is rendition:
            raise CatalogError("the atlas a rendition refers to is missing")
        if atlas.pixel_format != _FORMAT_ARGB or atlas.pixels > MAX_PIXELS:
            return None
        if width == 0 or height == 0 or x + width > atlas.width or y + height > atlas.height:
            raise CatalogError("the reference frame lies outside its atlas")
        decoded = self.decode(atlas, depth=depth + 1)
        if decoded is None:
            return None
        # Frames count rows from the bottom of the atlas (CoreGraphics' origin).
        top = atlas.height - y - height
        row = atlas.width * 4
        cropped = b"".join(
            decoded.rgba[(top + line) * row + x * 4 : (top + line) * row + (x + width) * 4]
            for line in range(height)
        )
        return Image(width, height, cropped, decoded.opaque or all_opaque(cropped))


def _key_format(block: bytes) -> list[int]:
    tag, _, count = struct.unpack_from("<4sII", block, 0)
    if tag != b"tmfk" or 12 + 4 * count > len(block) or count > 64:
        raise CatalogError("unreadable KEYFORMAT")
    return list(struct.unpack_from(f"<{count}I", block, 12))


def _find_tlv(tlv: bytes, wanted: int) -> bytes | None:
    position = 0
    while position + 8 <= len(tlv):
        kind, length = struct.unpack_from("<II", tlv, position)
        position += 8
        if position + length > len(tlv):
            raise CatalogError("a CSI property runs past its list")
        if kind == wanted:
            return tlv[position : position + length]
        position += length
    return None


# ------------------------------------------------------------------ bitmaps


def _decode_bitmap(payload: bytes, width: int, height: int) -> tuple[bytes, int, bool] | None:
    """Premultiplied BGRA rows of an ``MLEC`` pixel record, their stride, opacity."""
    if len(payload) < _PIXEL_HEADER.size:
        raise CatalogError("pixel record too short")
    tag, flags, encoding, length = _PIXEL_HEADER.unpack_from(payload, 0)
    if tag != b"MLEC":
        return None  # raw data, a colour, a multisize set...
    if encoding not in (_ENC_NONE, _ENC_RLE, _ENC_ZLIB, _ENC_LZVN, _ENC_LZFSE, _ENC_PALETTE):
        return None  # JPEG, ASTC, HEVC, deepmap and deepmap2: not decoded here
    body = payload[_PIXEL_HEADER.size :]
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise CatalogError("rendition size out of range")
    opaque = bool(flags & _PIXEL_FLAG_OPAQUE)
    if encoding == _ENC_PALETTE:
        pieces = [_inflate_any(body, MAX_DECODED_BYTES)]
        return _expand_palette(b"".join(pieces), width, height), width * 4, opaque
    chunks: list[tuple[int, bytes]] = []
    if flags & _PIXEL_FLAG_CHUNKS:
        position = 0
        while position + _CHUNK_HEADER.size <= len(body):
            chunk_tag, _, _, rows, chunk_length = _CHUNK_HEADER.unpack_from(body, position)
            if chunk_tag != b"KCBC":
                break
            position += _CHUNK_HEADER.size
            if position + chunk_length > len(body):
                raise CatalogError("a pixel chunk runs past the record")
            chunks.append((rows, body[position : position + chunk_length]))
            position += chunk_length
        if not chunks:
            raise CatalogError("a chunked pixel record without chunks")
    else:
        chunks.append((height, body[:length]))
    total_rows = sum(rows for rows, _ in chunks)
    if total_rows != height and len(chunks) > 1:
        raise CatalogError("pixel chunks do not add up to the image height")
    budget = MAX_DECODED_BYTES
    parts: list[bytes] = []
    for rows, data in chunks:
        if encoding == _ENC_RLE:
            part = _expand_rle(data, width, rows)
        elif encoding == _ENC_ZLIB:
            part = _inflate_zlib(data, budget)
        elif encoding == _ENC_LZVN:
            part = _decode_lzvn(data, rows, width, budget)
        elif encoding == _ENC_LZFSE:
            part = _decode_lzfse(data, budget)
        else:
            part = data
        budget -= len(part)
        if budget < 0:
            raise CatalogError("the pixels inflate past the cap")
        parts.append(part)
    pixels = b"".join(parts)
    if len(pixels) < width * height * 4 or len(pixels) % height:
        raise CatalogError("the pixel data does not fit the image")
    stride = len(pixels) // height
    return pixels, stride, opaque


def _inflate_zlib(data: bytes, budget: int) -> bytes:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header
    out = inflater.decompress(data, budget + 1)
    if len(out) > budget:
        raise CatalogError("zlib pixels inflate past the cap")
    return out


# LZFSE block magics: a stream is a sequence of blocks ending with 'bvx$'.
_LZFSE_V2, _LZFSE_LZVN, _LZFSE_RAW, _LZFSE_END = b"bvx2", b"bvxn", b"bvx-", b"bvx$"


def lzfse_declared_size(data: bytes) -> int:
    """The decoded size an LZFSE stream declares, summed over its block headers.

    Checked against the cap before anything is decoded, so a stream that would
    inflate past it is refused without allocating the output."""
    position = 0
    total = 0
    for _ in range(100_000):
        magic = data[position : position + 4]
        if magic == _LZFSE_END:
            return total
        if len(data) < position + 8:
            break
        (raw,) = struct.unpack_from("<I", data, position + 4)
        if magic == _LZFSE_V2:
            if len(data) < position + 32:
                break
            v0, v1, v2 = struct.unpack_from("<QQQ", data, position + 8)
            literal_bytes = (v0 >> 20) & 0xFFFFF
            lmd_bytes = (v1 >> 40) & 0xFFFFF
            header_size = v2 & 0xFFFFFFFF
            if header_size < 32:
                break
            position += header_size + literal_bytes + lmd_bytes
        elif magic == _LZFSE_LZVN:
            if len(data) < position + 12:
                break
            (payload,) = struct.unpack_from("<I", data, position + 8)
            position += 12 + payload
        elif magic == _LZFSE_RAW:
            position += 8 + raw
        else:
            break
        total += raw
    raise CatalogError("not an LZFSE stream we can size")


def _lzfse_decompress(stream: bytes, budget: int) -> bytes:
    import lzfse  # the one native dependency; imported when a catalog needs it

    declared = lzfse_declared_size(stream)
    if declared > budget:
        raise CatalogError("LZFSE pixels inflate past the cap")
    try:
        out: bytes = lzfse.decompress(stream)
    except lzfse.error as exc:
        raise CatalogError("LZFSE data cannot be decoded") from exc
    except MemoryError as exc:
        # The binding grows its buffer while the decoder fails; on a damaged
        # stream it gives up with a failed (untouched) allocation, not an error.
        raise CatalogError("LZFSE data cannot be decoded") from exc
    if len(out) != declared:
        raise CatalogError("LZFSE data decodes to another size than it declares")
    return out


def _decode_lzfse(data: bytes, budget: int) -> bytes:
    return _lzfse_decompress(data, budget)


def _decode_lzvn(data: bytes, rows: int, width: int, budget: int) -> bytes:
    """Raw LZVN, decoded by wrapping it as the one block of an LZFSE stream.

    The block header must state the exact decoded size, which the record does
    not: try the tight row size, then rows padded to 16 and 64 bytes."""
    last: CatalogError | None = None
    for align in (1, 16, 64):
        stride = -(-width * 4 // align) * align
        size = stride * rows
        stream = _LZFSE_LZVN + struct.pack("<II", size, len(data)) + data + _LZFSE_END
        try:
            return _lzfse_decompress(stream, budget)
        except CatalogError as exc:
            last = exc
    raise last or CatalogError("LZVN data cannot be decoded")


def _inflate_any(data: bytes, budget: int) -> bytes:
    """A palette stream: plain, LZFSE, or zlib."""
    if data[:3] == b"bvx":
        return _lzfse_decompress(data, budget)
    if len(data) >= 4 and struct.unpack_from("<I", data, 0)[0] == _PALETTE_MAGIC:
        return data
    return _inflate_zlib(data, budget)


def _expand_palette(data: bytes, width: int, height: int) -> bytes:
    """Quantised pixels: a palette of premultiplied ARGB colours, then index rows
    of 1, 2, 4, 8 or 16 bits per pixel, each row padded to 16 bits, the first
    pixel in the high bits of a little-endian 16-bit word."""
    if len(data) < 10:
        raise CatalogError("palette image too short")
    magic, version, count = struct.unpack_from("<IIH", data, 0)
    if magic != _PALETTE_MAGIC or version > 1 or not 0 < count <= 4096:
        raise CatalogError("not a palette image")
    colors = data[10 : 10 + 4 * count]
    if len(colors) != 4 * count:
        raise CatalogError("the palette runs past the data")
    bits = 1
    while count > 1 << bits:
        bits *= 2
    row_bytes = (width * bits + 15) // 16 * 2
    indices = data[10 + 4 * count :]
    if len(indices) < row_bytes * height:
        raise CatalogError("palette indices run short")
    # Palette entries are A,R,G,B; output is premultiplied B,G,R,A like any bitmap.
    entries = [
        bytes((colors[i * 4 + 3], colors[i * 4 + 2], colors[i * 4 + 1], colors[i * 4]))
        for i in range(count)
    ]
    entries += [b"\0\0\0\0"] * ((1 << bits) - count)
    out = bytearray()
    mask = (1 << bits) - 1
    per_word = 16 // bits if bits <= 16 else 1
    for row in range(height):
        line = indices[row * row_bytes : (row + 1) * row_bytes]
        if bits == 16:
            words = struct.unpack(f"<{row_bytes // 2}H", line)
            out += b"".join(entries[w] for w in words[:width])
            continue
        pixels: list[bytes] = []
        for (word,) in struct.iter_unpack("<H", line):
            for slot in range(per_word):
                pixels.append(entries[(word >> (16 - bits * (slot + 1))) & mask])
        out += b"".join(pixels[:width])
    return bytes(out)


def _expand_rle(data: bytes, width: int, rows: int) -> bytes:
    """CoreUI's run-length rows: a header (encoding, width, height), a row
    offset table, then per row packets of a 24-bit count whose high byte is
    0 (literal pixels follow) or 0x80 (one pixel repeated)."""
    if len(data) < 12 + 4 * rows:
        raise CatalogError("RLE table too short")
    encoding, rle_width, rle_height = struct.unpack_from("<III", data, 0)
    if encoding != 4 or rle_width != width or rle_height != rows:
        raise CatalogError("RLE header does not match the image")
    offsets = struct.unpack_from(f"<{rows}I", data, 12)
    out = bytearray()
    for start in offsets:
        if not 12 + 4 * rows <= start < len(data):
            raise CatalogError("RLE row offset out of range")
        position, x = start, 0
        while x < width:
            if position + 4 > len(data):
                raise CatalogError("RLE row runs past the data")
            (control,) = struct.unpack_from("<I", data, position)
            position += 4
            count, kind = control & 0xFFFFFF, control >> 24
            if count == 0 or count > width - x:
                raise CatalogError("RLE packet count out of range")
            if kind == 0:
                literal = data[position : position + 4 * count]
                if len(literal) != 4 * count:
                    raise CatalogError("RLE literal runs past the data")
                out += literal
                position += 4 * count
            elif kind == 0x80:
                pixel = data[position : position + 4]
                if len(pixel) != 4:
                    raise CatalogError("RLE repeat runs past the data")
                out += pixel * count
                position += 4
            else:
                raise CatalogError("unknown RLE packet")
            x += count
    return bytes(out)
