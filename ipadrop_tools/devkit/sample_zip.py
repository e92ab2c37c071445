"""A ZIP writer of our own (not ``zipfile``) for the sample IPAs.

ZIP64 records can be forced on small archives, entries can be streamed (so
gigabytes of padding never sit in memory), and tests can craft entries that
lie about their sizes. Timestamps are fixed so archives are reproducible.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

_U32_MAX = 0xFFFFFFFF
_U16_MAX = 0xFFFF
# DOS date/time for 2024-01-01 00:00:00: fixed so archives are reproducible.
_DOS_TIME = 0
_DOS_DATE = ((2024 - 1980) << 9) | (1 << 5) | 1


@dataclass
class _CentralRecord:
    name: bytes
    method: int
    crc: int
    compressed_size: int
    uncompressed_size: int
    offset: int
    flags: int


class ZipWriter:
    """A minimal, streaming ZIP writer (store and deflate, optional forced ZIP64).

    ``declared_size`` lets a test write an entry whose headers understate what it
    inflates to (a zip bomb that lies).
    """

    def __init__(self, fp: BinaryIO, *, force_zip64: bool = False) -> None:
        self._fp = fp
        self._force_zip64 = force_zip64
        self._position = 0
        self._records: list[_CentralRecord] = []

    def _write(self, data: bytes) -> None:
        self._fp.write(data)
        self._position += len(data)

    def add(
        self,
        name: str,
        data: bytes,
        *,
        compress: bool = True,
        declared_size: int | None = None,
    ) -> None:
        """Add one entry held in memory."""
        if compress:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = compressor.compress(data) + compressor.flush()
            method = 8
        else:
            payload, method = data, 0
        size = len(data) if declared_size is None else declared_size
        self._add_raw(
            name,
            method=method,
            crc=zlib.crc32(data),
            compressed_size=len(payload),
            uncompressed_size=size,
            chunks=[payload],
        )

    def add_stream(self, name: str, size: int, chunks: Iterable[bytes], crc: int) -> None:
        """Add a stored entry whose bytes arrive as ``chunks`` (``size`` and ``crc`` known)."""
        self._add_raw(
            name,
            method=0,
            crc=crc,
            compressed_size=size,
            uncompressed_size=size,
            chunks=chunks,
        )

    def _add_raw(
        self,
        name: str,
        *,
        method: int,
        crc: int,
        compressed_size: int,
        uncompressed_size: int,
        chunks: Iterable[bytes],
    ) -> None:
        encoded = name.encode("utf-8")
        flags = 0x800  # names are UTF-8
        offset = self._position
        zip64 = (
            self._force_zip64
            or compressed_size >= _U32_MAX
            or uncompressed_size >= _U32_MAX
            or offset >= _U32_MAX
        )
        if zip64:
            extra = struct.pack("<HHQQ", 0x0001, 16, uncompressed_size, compressed_size)
            sizes = (_U32_MAX, _U32_MAX)
            version = 45
        else:
            extra = b""
            sizes = (compressed_size, uncompressed_size)
            version = 20
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            version,
            flags,
            method,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            sizes[0],
            sizes[1],
            len(encoded),
            len(extra),
        )
        self._write(header + encoded + extra)
        written = 0
        for chunk in chunks:
            self._write(chunk)
            written += len(chunk)
        if written != compressed_size:
            raise ValueError(f"{name}: wrote {written} bytes, declared {compressed_size}")
        self._records.append(
            _CentralRecord(encoded, method, crc, compressed_size, uncompressed_size, offset, flags)
        )

    def close(self) -> None:
        """Write the central directory and the end records (ZIP64 ones when needed)."""
        cd_offset = self._position
        for record in self._records:
            self._write(self._central_header(record))
        cd_size = self._position - cd_offset
        count = len(self._records)
        needs_zip64 = (
            self._force_zip64 or count >= _U16_MAX or cd_offset >= _U32_MAX or cd_size >= _U32_MAX
        )
        if needs_zip64:
            eocd64_offset = self._position
            self._write(
                struct.pack(
                    "<IQHHIIQQQQ",
                    0x06064B50,
                    44,
                    45,
                    45,
                    0,
                    0,
                    count,
                    count,
                    cd_size,
                    cd_offset,
                )
            )
            self._write(struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1))
        self._write(
            struct.pack(
                "<IHHHHIIH",
                0x06054B50,
                0,
                0,
                _U16_MAX if needs_zip64 else count,
                _U16_MAX if needs_zip64 else count,
                _U32_MAX if needs_zip64 else cd_size,
                _U32_MAX if needs_zip64 else cd_offset,
                0,
            )
        )
        self._fp.flush()

    def _central_header(self, record: _CentralRecord) -> bytes:
        values = {
            "uncompressed": record.uncompressed_size,
            "compressed": record.compressed_size,
            "offset": record.offset,
        }
        in_extra = [key for key, value in values.items() if self._force_zip64 or value >= _U32_MAX]
        extra = b""
        if in_extra:
            body = b"".join(struct.pack("<Q", values[key]) for key in in_extra)
            extra = struct.pack("<HH", 0x0001, len(body)) + body

        def field(key: str) -> int:
            return _U32_MAX if key in in_extra else values[key]

        return (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (3 << 8) | 45,  # made by Unix, spec 4.5
                45 if in_extra else 20,
                record.flags,
                record.method,
                _DOS_TIME,
                _DOS_DATE,
                record.crc,
                field("compressed"),
                field("uncompressed"),
                len(record.name),
                len(extra),
                0,
                0,
                0,
                0o100644 << 16,
                field("offset"),
            )
            + record.name
            + extra
        )
