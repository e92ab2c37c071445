"""The ranged ZIP reader against archives we write ourselves (and zipfile as a referee)."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

import pytest

from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.sources import BytesSource, CountingSource
from ipadrop.reading.zipreader import TAIL_BYTES, ZipArchive
from ipadrop_tools.devkit.sample_ipa import ZipWriter, build_ipa_bytes


def _zip(entries: list[tuple[str, bytes]], *, zip64: bool = False) -> bytes:
    buffer = io.BytesIO()
    writer = ZipWriter(buffer, force_zip64=zip64)
    for name, data in entries:
        writer.add(name, data)
    writer.close()
    return buffer.getvalue()


def _reject_code(data: bytes) -> str:
    with pytest.raises(IpaRejected) as caught:
        ZipArchive(BytesSource(data))
    return caught.value.code


ENTRIES = [
    ("a.txt", b"hello " * 100),
    ("dir/b.bin", bytes(range(256)) * 7),
    ("naïve/ünïcode 名前.txt", b"text"),
    ("empty", b""),
]


@pytest.mark.parametrize("zip64", [False, True])
def test_entries_match_what_zipfile_reads(zip64: bool) -> None:
    data = _zip(ENTRIES, zip64=zip64)
    archive = ZipArchive(BytesSource(data))
    reference = zipfile.ZipFile(io.BytesIO(data))
    assert archive.names() == reference.namelist() == [name for name, _ in ENTRIES]
    for name, content in ENTRIES:
        entry = archive.get(name)
        assert entry is not None
        assert archive.read(entry, max_size=1 << 20) == content == reference.read(name)


def test_forced_zip64_really_writes_zip64_records() -> None:
    data = _zip(ENTRIES, zip64=True)
    assert struct.pack("<I", 0x06064B50) in data  # ZIP64 end record
    assert struct.pack("<I", 0x07064B50) in data  # its locator
    eocd = data[-22:]
    assert struct.unpack("<I", eocd[16:20])[0] == 0xFFFFFFFF  # offset lives in ZIP64 record


def test_zip_written_by_zipfile_with_comment_and_prefix() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x/y.txt", b"payload" * 50)
        zf.comment = b"PK\x05\x06 a comment that looks like a signature"
    # Data prepended to an archive (self-extractors do this) shifts every offset.
    data = b"#!/bin/sh\nexit 0\n" + buffer.getvalue()
    archive = ZipArchive(BytesSource(data))
    entry = archive.get("x/y.txt")
    assert entry is not None
    assert archive.read(entry, max_size=1000) == b"payload" * 50


def test_reading_one_entry_reads_little() -> None:
    big = bytes(zlib.crc32(i.to_bytes(4, "little")) & 0xFF for i in range(300_000))
    data = _zip([("big.bin", big), ("small.txt", b"small")])
    source = CountingSource(BytesSource(data))
    archive = ZipArchive(source)
    opened = source.bytes_read
    entry = archive.get("small.txt")
    assert entry is not None
    assert archive.read(entry, max_size=100) == b"small"
    assert source.bytes_read - opened < 400
    assert source.reads == 2  # the tail (holding the directory), then one entry read


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "not_a_zip"),
        (b"hello, this is a text file that is long enough\n" * 3, "not_a_zip"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not_a_zip"),
    ],
)
def test_not_a_zip(data: bytes, code: str) -> None:
    assert _reject_code(data) == code


def test_truncated_downloads_are_rejected_as_truncated() -> None:
    data = build_ipa_bytes(icon=None, profile=None)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 30):
        assert _reject_code(data[:cut]) == "truncated"


def test_directory_pointing_outside_the_file() -> None:
    data = bytearray(_zip(ENTRIES))
    struct.pack_into("<I", data, len(data) - 6, len(data) * 3)  # central directory offset
    assert _reject_code(bytes(data)) == "truncated"


def test_damaged_central_directory() -> None:
    data = bytearray(_zip(ENTRIES))
    cd_offset = struct.unpack_from("<I", data, len(data) - 6)[0]
    data[cd_offset : cd_offset + 4] = b"XXXX"
    assert _reject_code(bytes(data)) == "corrupt"


def test_checksum_mismatch_is_corrupt() -> None:
    payload = b"A" * 1000
    data = bytearray(_zip([("a", payload)]))
    local_data_start = 30 + 1
    stored = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = stored.compress(payload) + stored.flush()
    assert data[local_data_start : local_data_start + len(compressed)] == compressed
    # Flip the CRC in the central directory.
    cd_offset = struct.unpack_from("<I", data, len(data) - 6)[0]
    struct.pack_into("<I", data, cd_offset + 16, 0xDEADBEEF)
    archive = ZipArchive(BytesSource(bytes(data)))
    entry = archive.get("a")
    assert entry is not None
    with pytest.raises(IpaRejected) as caught:
        archive.read(entry, max_size=10_000)
    assert caught.value.code == "corrupt"


def test_entry_claiming_more_than_the_cap_is_not_inflated() -> None:
    data = _zip([("bomb", b"\x00" * 5_000_000)])
    source = CountingSource(BytesSource(data))
    archive = ZipArchive(source)
    entry = archive.get("bomb")
    assert entry is not None
    before = source.bytes_read
    with pytest.raises(IpaRejected) as caught:
        archive.read(entry, max_size=1_000_000)
    assert caught.value.code == "entry_too_large"
    assert source.bytes_read == before  # refused before reading


def test_entry_lying_about_its_size_stops_at_the_cap() -> None:
    buffer = io.BytesIO()
    writer = ZipWriter(buffer)
    writer.add("bomb", b"\x00" * 50_000_000, declared_size=100)
    writer.close()
    archive = ZipArchive(BytesSource(buffer.getvalue()))
    entry = archive.get("bomb")
    assert entry is not None
    assert entry.uncompressed_size == 100
    with pytest.raises(IpaRejected) as caught:
        archive.read(entry, max_size=1_000_000)
    assert caught.value.code == "entry_too_large"


def test_unsupported_method_and_encryption() -> None:
    data = bytearray(_zip([("a", b"abc" * 10)]))
    cd_offset = struct.unpack_from("<I", data, len(data) - 6)[0]
    struct.pack_into("<H", data, cd_offset + 10, 14)  # LZMA
    archive = ZipArchive(BytesSource(bytes(data)))
    entry = archive.get("a")
    assert entry is not None
    with pytest.raises(IpaRejected) as caught:
        archive.read(entry, max_size=1000)
    assert caught.value.code == "unsupported_entry"
    struct.pack_into("<H", data, cd_offset + 10, 8)
    struct.pack_into("<H", data, cd_offset + 8, 0x801)  # encrypted
    archive = ZipArchive(BytesSource(bytes(data)))
    entry = archive.get("a")
    assert entry is not None
    with pytest.raises(IpaRejected) as caught:
        archive.read(entry, max_size=1000)
    assert caught.value.code == "unsupported_entry"


def test_read_prefix_returns_leading_bytes_only() -> None:
    content = bytes(range(256)) * 400
    data = _zip([("x", content)])
    archive = ZipArchive(BytesSource(data))
    entry = archive.get("x")
    assert entry is not None
    assert archive.read_prefix(entry, 49) == content[:49]


def test_entry_offset_beyond_the_file_is_truncated() -> None:
    data = bytearray(_zip(ENTRIES))
    cd_offset = struct.unpack_from("<I", data, len(data) - 6)[0]
    struct.pack_into("<I", data, cd_offset + 42, len(data) + 1000)  # first entry's offset
    archive = ZipArchive(BytesSource(bytes(data)))
    entry = archive.get("a.txt")
    assert entry is not None
    for read in (
        lambda: archive.read(entry, max_size=10_000),
        lambda: archive.read_prefix(entry, 8),
    ):
        with pytest.raises(IpaRejected) as caught:
            read()
        assert caught.value.code == "truncated"


def _noise(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)  # noqa: S311 (test data, incompressible)


def test_fetch_coalesces_neighbours_and_batches_the_rest_in_one_round() -> None:
    far = 600 * 1024  # farther apart than COALESCE_GAP, and out of the tail
    data = _zip(
        [
            ("a.txt", b"alpha" * 10),
            ("b.txt", b"beta" * 10),
            ("gap.bin", _noise(far, 1)),
            ("c.txt", b"gamma" * 10),
            ("tail.bin", _noise(TAIL_BYTES + 1024, 2)),
        ]
    )
    source = CountingSource(BytesSource(data))
    archive = ZipArchive(source)
    assert (source.rounds, source.reads) == (1, 1)  # the tail, with the directory
    entries = {name: archive.get(name) for name in ("a.txt", "b.txt", "c.txt")}
    assert all(entries.values())
    fetched = archive.fetch([(entry, 1000) for entry in entries.values() if entry])
    assert fetched == {"a.txt": b"alpha" * 10, "b.txt": b"beta" * 10, "c.txt": b"gamma" * 10}
    # a and b share one ranged read, c gets its own; both in the same round.
    assert (source.rounds, source.reads) == (2, 3)


def test_fetch_reports_each_entry_failure_without_reading_it() -> None:
    data = _zip([("big.txt", b"x" * 5000), ("ok.txt", b"fine")])
    source = CountingSource(BytesSource(data))
    archive = ZipArchive(source)
    big, ok = archive.get("big.txt"), archive.get("ok.txt")
    assert big is not None
    assert ok is not None
    fetched = archive.fetch([(big, 100), (ok, 100)])
    assert fetched["ok.txt"] == b"fine"
    error = fetched["big.txt"]
    assert isinstance(error, IpaRejected)
    assert error.code == "entry_too_large"
    assert source.reads == 1  # both lie in the tail: served from it


def test_fetch_of_entries_in_the_tail_costs_nothing_more() -> None:
    data = _zip([("one.txt", b"1" * 100), ("two.txt", b"2" * 100)])
    source = CountingSource(BytesSource(data))
    archive = ZipArchive(source)
    wanted = [(entry, 1000) for entry in archive.entries]
    assert archive.fetch(wanted) == {"one.txt": b"1" * 100, "two.txt": b"2" * 100}
    assert (source.rounds, source.reads) == (1, 1)
