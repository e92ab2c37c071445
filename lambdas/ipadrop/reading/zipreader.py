"""A ZIP reader that reads only what it is asked for, from any ``RangeSource``.

Opening an archive costs one read for most IPAs: the tail read is large
enough to hold the end records, the ZIP64 records and the central directory
of an app with a thousand files or more; a larger directory costs one more.
Reading one entry costs one more (local header and data together);
``fetch`` reads several entries in one round, coalescing neighbours into one
range and asking the source for the rest concurrently. Every read of entry
data is capped: an entry that claims or inflates to more than the caller
allows is refused, so a zip bomb costs at most the cap.

Failures raise ``ZipFormatError`` (an ``IpaRejected``) with one of the codes
``not_a_zip``, ``truncated``, ``corrupt``, ``unsupported_entry``,
``entry_too_large``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.sources import RangeSource, read_ranges

_EOCD = struct.Struct("<IHHHHIIH")
_EOCD_SIG = 0x06054B50
_EOCD64_LOCATOR = struct.Struct("<IIQI")
_EOCD64_LOCATOR_SIG = 0x07064B50
_EOCD64 = struct.Struct("<IQHHIIQQQQ")
_EOCD64_SIG = 0x06064B50
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_CENTRAL_SIG = 0x02014B50
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIG = 0x04034B50
_MAX_COMMENT = 0xFFFF
_U16_MAX = 0xFFFF
_U32_MAX = 0xFFFFFFFF
# Room read after the name of a local header for its extra field, so that the
# header and the entry's data usually arrive in one read.
_LOCAL_EXTRA_GUESS = 128

# Bytes read from the end of the archive on opening: the end records plus, for
# most apps, the whole central directory (about 100 bytes an entry).
TAIL_BYTES = 256 * 1024
# Entries fetched together whose gap is at most this share one ranged read:
# at 90 MB/s, 256 KiB costs 3 ms, well under a request's first-byte latency.
COALESCE_GAP = 256 * 1024

DEFAULT_MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024
DEFAULT_MAX_ENTRIES = 500_000


class ZipFormatError(IpaRejected):
    """The archive (or one entry of it) cannot be read."""


@dataclass(frozen=True, slots=True)
class ZipEntry:
    name: str
    method: int  # 0 stored, 8 deflated
    flags: int
    crc: int
    compressed_size: int
    uncompressed_size: int
    header_offset: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & 0x1)


class ZipArchive:
    """The central directory of an archive, and capped reads of its entries."""

    def __init__(
        self,
        source: RangeSource,
        *,
        max_central_directory: int = DEFAULT_MAX_CENTRAL_DIRECTORY,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.source = source
        self.size = source.size
        self.entries: list[ZipEntry] = []
        self._by_name: dict[str, ZipEntry] = {}
        self._open(max_central_directory, max_entries)

    # ------------------------------------------------------------------ opening

    def _read_exact(self, offset: int, length: int, what: str) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ZipFormatError(
                "truncated", f"The archive ends before its {what}: it looks truncated."
            )
        data = self.source.read_at(offset, length)
        if len(data) != length:
            raise ZipFormatError(
                "truncated", f"The archive ends before its {what}: it looks truncated."
            )
        return data

    def _open(self, max_central_directory: int, max_entries: int) -> None:
        if self.size < _EOCD.size:
            raise ZipFormatError(
                "not_a_zip", f"The file is not a ZIP archive (only {self.size} bytes)."
            )
        tail_length = min(
            self.size, max(TAIL_BYTES, _EOCD.size + _MAX_COMMENT + _EOCD64_LOCATOR.size)
        )
        tail_offset = self.size - tail_length
        tail = self._read_exact(tail_offset, tail_length, "end records")
        # Kept: entries that lie in the tail are served from it (small IPAs: all of them).
        self._tail, self._tail_offset = tail, tail_offset
        eocd_at = self._find_eocd(tail)
        if eocd_at < 0:
            head = self.source.read_at(0, 4)
            if head == b"PK\x03\x04":
                raise ZipFormatError(
                    "truncated",
                    "The archive has no end of central directory: it looks truncated "
                    "(an incomplete upload or download).",
                )
            raise ZipFormatError("not_a_zip", "The file is not a ZIP archive.")
        (_, disk, cd_disk, _, count, cd_size, cd_offset, _) = _EOCD.unpack_from(tail, eocd_at)
        eocd_position = tail_offset + eocd_at
        if disk != 0 or cd_disk != 0:
            raise ZipFormatError(
                "unsupported_entry", "Multi-part (spanned) ZIP archives are not supported."
            )
        locator_at = eocd_at - _EOCD64_LOCATOR.size
        locator_found = (
            locator_at >= 0 and struct.unpack_from("<I", tail, locator_at)[0] == _EOCD64_LOCATOR_SIG
        )
        if locator_found:
            _, _, eocd64_offset, _ = _EOCD64_LOCATOR.unpack_from(tail, locator_at)
            if tail_offset <= eocd64_offset <= self.size - _EOCD64.size - 1 and (
                eocd64_offset - tail_offset + _EOCD64.size <= len(tail)
            ):
                record = tail[
                    eocd64_offset - tail_offset : eocd64_offset - tail_offset + _EOCD64.size
                ]
            else:
                record = self._read_exact(eocd64_offset, _EOCD64.size, "ZIP64 end record")
            fields = _EOCD64.unpack(record)
            if fields[0] != _EOCD64_SIG:
                raise ZipFormatError("corrupt", "The archive's ZIP64 end record is damaged.")
            count, cd_size, cd_offset = fields[7], fields[8], fields[9]
            directory_end = eocd64_offset
        elif _U32_MAX in (cd_size, cd_offset) or count == _U16_MAX:
            raise ZipFormatError("corrupt", "The archive's ZIP64 end record is missing.")
        else:
            directory_end = eocd_position
        # Data prepended to the archive shifts every offset by the same amount.
        shift = directory_end - (cd_offset + cd_size)
        if shift < 0:
            raise ZipFormatError(
                "truncated",
                "The archive's central directory lies outside the file: it looks truncated.",
            )
        if count > max_entries:
            raise ZipFormatError(
                "entry_too_large", f"The archive lists {count} entries, more than allowed."
            )
        if cd_size > max_central_directory:
            raise ZipFormatError(
                "entry_too_large",
                f"The archive's central directory is {cd_size} bytes, more than allowed.",
            )
        directory_start = cd_offset + shift
        if directory_start >= tail_offset:  # already read with the tail (small archives)
            start = directory_start - tail_offset
            directory = tail[start : start + cd_size]
        else:
            directory = self._read_exact(directory_start, cd_size, "central directory")
        self._parse_directory(directory, count, shift)

    @staticmethod
    def _find_eocd(tail: bytes) -> int:
        """Offset in ``tail`` of the last end record whose comment fits the file."""
        position = len(tail)
        while True:
            position = tail.rfind(b"PK\x05\x06", 0, position)
            if position < 0 or position + _EOCD.size > len(tail):
                if position < 0:
                    return -1
                continue
            comment_length = struct.unpack_from("<H", tail, position + 20)[0]
            if position + _EOCD.size + comment_length <= len(tail):
                return position

    def _parse_directory(self, directory: bytes, count: int, shift: int) -> None:
        position = 0
        for _ in range(count):
            if position + _CENTRAL.size > len(directory):
                raise ZipFormatError("corrupt", "The archive's central directory is damaged.")
            (
                signature,
                _made_by,
                _needed,
                flags,
                method,
                _time,
                _date,
                crc,
                compressed_size,
                uncompressed_size,
                name_length,
                extra_length,
                comment_length,
                _disk,
                _internal,
                _external,
                header_offset,
            ) = _CENTRAL.unpack_from(directory, position)
            if signature != _CENTRAL_SIG:
                raise ZipFormatError("corrupt", "The archive's central directory is damaged.")
            name_start = position + _CENTRAL.size
            extra_start = name_start + name_length
            end = extra_start + extra_length + comment_length
            if end > len(directory):
                raise ZipFormatError("corrupt", "The archive's central directory is damaged.")
            raw_name = directory[name_start:extra_start]
            extra = directory[extra_start : extra_start + extra_length]
            uncompressed_size, compressed_size, header_offset = _apply_zip64_extra(
                extra, uncompressed_size, compressed_size, header_offset
            )
            entry = ZipEntry(
                name=_decode_name(raw_name, flags),
                method=method,
                flags=flags,
                crc=crc,
                compressed_size=compressed_size,
                uncompressed_size=uncompressed_size,
                header_offset=header_offset + shift,
            )
            self.entries.append(entry)
            # First one wins, as with most unzip tools.
            self._by_name.setdefault(entry.name, entry)
            position = end

    # ----------------------------------------------------------------- entries

    def get(self, name: str) -> ZipEntry | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    def read(self, entry: ZipEntry, *, max_size: int) -> bytes:
        """The entry's whole content; refused when it claims or yields more than ``max_size``."""
        self._check_size(entry, max_size)
        self._check_readable(entry)
        return self._finish(entry, self._read_raw(entry, entry.compressed_size), max_size)

    def _check_size(self, entry: ZipEntry, max_size: int) -> None:
        if entry.uncompressed_size > max_size:
            raise ZipFormatError(
                "entry_too_large",
                f"{entry.name} is {entry.uncompressed_size} bytes, more than the "
                f"{max_size} bytes allowed.",
            )
        # Deflate never needs much more room than the data it stores.
        if entry.compressed_size > max_size + 1024 + max_size // 100:
            raise ZipFormatError(
                "entry_too_large", f"{entry.name} is larger than the {max_size} bytes allowed."
            )

    def _finish(self, entry: ZipEntry, raw: bytes, max_size: int) -> bytes:
        data = raw if entry.method == 0 else _inflate(raw, max_size, entry.name)
        if len(data) != entry.uncompressed_size:
            raise ZipFormatError(
                "corrupt", f"{entry.name} does not hold the size the archive records for it."
            )
        if zlib.crc32(data) != entry.crc:
            raise ZipFormatError("corrupt", f"{entry.name} fails its checksum.")
        return data

    def fetch(self, wanted: Sequence[tuple[ZipEntry, int]]) -> dict[str, bytes | ZipFormatError]:
        """Several whole entries (each with its ``max_size``) in one round.

        Entries within ``COALESCE_GAP`` of each other share a ranged read; the
        ranges go to the source together (``read_ranges``). Each result is the
        content, or the error ``read`` would have raised for that entry: the
        caller decides which failures matter. A local header with a longer
        extra field than guessed costs that entry one more read."""
        results: dict[str, bytes | ZipFormatError] = {}
        spans: list[tuple[int, int, ZipEntry, int]] = []
        for entry, max_size in wanted:
            try:
                self._check_size(entry, max_size)
                self._check_readable(entry)
            except ZipFormatError as error:
                results[entry.name] = error
                continue
            start = entry.header_offset
            end = min(self.size, start + self._local_guess(entry) + entry.compressed_size)
            if start >= self._tail_offset:  # already in memory
                chunk = self._tail[start - self._tail_offset : end - self._tail_offset]
                results[entry.name] = self._entry_from_chunk(entry, chunk, max_size)
                continue
            spans.append((start, end, entry, max_size))
        spans.sort(key=lambda span: span[0])
        groups: list[list[tuple[int, int, ZipEntry, int]]] = []
        for span in spans:
            if groups and span[0] - max(s[1] for s in groups[-1]) <= COALESCE_GAP:
                groups[-1].append(span)
            else:
                groups.append([span])
        ranges = [(group[0][0], max(s[1] for s in group) - group[0][0]) for group in groups]
        for group, (offset, _), data in zip(
            groups, ranges, read_ranges(self.source, ranges), strict=True
        ):
            for start, end, entry, max_size in group:
                chunk = data[start - offset : end - offset]
                results[entry.name] = self._entry_from_chunk(entry, chunk, max_size)
        return results

    def _entry_from_chunk(
        self, entry: ZipEntry, chunk: bytes, max_size: int
    ) -> bytes | ZipFormatError:
        try:
            raw = self._raw_from_chunk(entry, chunk, entry.compressed_size)
            return self._finish(entry, raw, max_size)
        except ZipFormatError as error:
            return error

    def read_prefix(self, entry: ZipEntry, length: int) -> bytes:
        """Up to ``length`` leading bytes of the entry's content (no checksum check)."""
        self._check_readable(entry)
        if entry.method == 0:
            return self._read_raw(entry, min(length, entry.compressed_size))
        # Enough compressed input for a short prefix in all but pathological cases.
        wanted = min(entry.compressed_size, max(4096, length * 2))
        raw = self._read_raw(entry, wanted)
        try:
            return zlib.decompressobj(-15).decompress(raw, length)
        except zlib.error as exc:
            raise ZipFormatError("corrupt", f"{entry.name} cannot be decompressed.") from exc

    def _check_readable(self, entry: ZipEntry) -> None:
        if entry.encrypted:
            raise ZipFormatError("unsupported_entry", f"{entry.name} is encrypted.")
        if entry.method not in (0, 8):
            raise ZipFormatError(
                "unsupported_entry",
                f"{entry.name} uses compression method {entry.method}, which is not supported.",
            )
        if entry.method == 0 and entry.compressed_size != entry.uncompressed_size:
            raise ZipFormatError(
                "corrupt", f"{entry.name} is stored but its recorded sizes disagree."
            )

    def _read_raw(self, entry: ZipEntry, length: int) -> bytes:
        """``length`` bytes of the entry's stored data, local header included in the same read."""
        if entry.header_offset + _LOCAL.size > self.size:
            raise ZipFormatError(
                "truncated", f"The archive ends before {entry.name}: it looks truncated."
            )
        chunk = self._read_exact(
            entry.header_offset,
            min(self._local_guess(entry) + length, self.size - entry.header_offset),
            f"entry {entry.name}",
        )
        return self._raw_from_chunk(entry, chunk, length)

    @staticmethod
    def _local_guess(entry: ZipEntry) -> int:
        return _LOCAL.size + len(entry.name.encode("utf-8")) + _LOCAL_EXTRA_GUESS

    def _raw_from_chunk(self, entry: ZipEntry, chunk: bytes, length: int) -> bytes:
        """The stored data after the local header at the start of ``chunk``
        (read further when the chunk stops short)."""
        if len(chunk) < _LOCAL.size:
            raise ZipFormatError("truncated", f"The archive ends inside {entry.name}.")
        fields = _LOCAL.unpack_from(chunk)
        if fields[0] != _LOCAL_SIG:
            raise ZipFormatError("corrupt", f"The local header of {entry.name} is damaged.")
        data_start = _LOCAL.size + fields[9] + fields[10]
        if data_start + length <= len(chunk):
            return chunk[data_start : data_start + length]
        return self._read_exact(entry.header_offset + data_start, length, f"entry {entry.name}")


def _apply_zip64_extra(
    extra: bytes, uncompressed: int, compressed: int, offset: int
) -> tuple[int, int, int]:
    """Replace 0xFFFFFFFF placeholders by the ZIP64 extra field's 8-byte values."""
    position = 0
    while position + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4 : position + 4 + size]
        if tag == 0x0001:
            values = [
                struct.unpack_from("<Q", body, index)[0] for index in range(0, len(body) - 7, 8)
            ]
            if uncompressed == _U32_MAX and values:
                uncompressed = values.pop(0)
            if compressed == _U32_MAX and values:
                compressed = values.pop(0)
            if offset == _U32_MAX and values:
                offset = values.pop(0)
            break
        position += 4 + size
    return uncompressed, compressed, offset


def _decode_name(raw: bytes, flags: int) -> str:
    # Apple's tools write UTF-8 without always setting the UTF-8 flag (bit 11).
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if flags & 0x800:
            return raw.decode("utf-8", errors="replace")
        return raw.decode("cp437")


def _inflate(raw: bytes, max_size: int, name: str) -> bytes:
    inflater = zlib.decompressobj(-15)
    try:
        data = inflater.decompress(raw, max_size + 1)
    except zlib.error as exc:
        raise ZipFormatError("corrupt", f"{name} cannot be decompressed.") from exc
    if len(data) > max_size or inflater.unconsumed_tail:
        raise ZipFormatError(
            "entry_too_large",
            f"{name} inflates to more than the {max_size} bytes allowed.",
        )
    return data
