"""Pixel records of an asset catalog: ``MLEC`` bitmaps, ``KCBC`` chunks and their
codecs (LZFSE, LZVN via a ``bvxn`` block, zlib, RLE, palette-img), every
allocation within a budget. Used by ``ipadrop.reading.assetcatalog``; see
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import struct
import zlib

# Pixels of a decoded rendition (an icon or the atlas it is cut from).
MAX_PIXELS = 2048 * 2048
# Bytes of any one decompressed buffer (pixels plus row padding, palette tables).
MAX_DECODED_BYTES = MAX_PIXELS * 4 + 1024 * 1024
_ENC_NONE, _ENC_RLE, _ENC_ZLIB, _ENC_LZVN, _ENC_LZFSE = 0, 1, 2, 3, 4
_PIXEL_HEADER = struct.Struct("<4sIII")
_CHUNK_HEADER = struct.Struct("<4sIIII")
_ENC_PALETTE = 8
_PALETTE_MAGIC = 0xCAFEF00D
_PIXEL_FLAG_CHUNKS = 0x1
_PIXEL_FLAG_OPAQUE = 0x2


class CatalogError(ValueError):
    """Not a catalog we can read (internal: ``extract_icon`` returns None instead)."""


def decode_bitmap(payload: bytes, width: int, height: int) -> tuple[bytes, int, bool] | None:
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
