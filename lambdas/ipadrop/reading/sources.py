"""Random-access byte sources the ZIP reader reads from.

A source knows its size and returns the bytes of a range on request; the
reader asks only for the few ranges it needs (end records, central directory,
single entries), so an S3 object is never downloaded whole. Ranges needed
together go through ``read_ranges`` as one *round*: a source that can fetch
them concurrently (``read_many``, the S3 adapter) pays one first-byte latency
for all of them (docs/ARCHITECTURE.md, Reading an IPA).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol


class RangeSource(Protocol):
    """``size`` in bytes; ``read_at`` returns ``data[offset:offset + length]``
    (shorter only where the source ends)."""

    size: int

    def read_at(self, offset: int, length: int) -> bytes: ...


def read_ranges(source: RangeSource, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """The bytes of every ``(offset, length)`` range, in order, as one round:
    concurrently when the source offers ``read_many``, else one after another."""
    many = getattr(source, "read_many", None)
    if many is not None and len(ranges) > 1:
        results: list[bytes] = many(ranges)
        return results
    return [source.read_at(offset, length) for offset, length in ranges]


class BytesSource:
    """A source over bytes already in memory (tests, small uploads)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        return self._data[offset : offset + length]


class LocalFileSource:
    """A local file, read with positioned reads. Use as a context manager or ``close()``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file = open(self.path, "rb")  # noqa: SIM115 (closed by close()/__exit__)
        self._lock = threading.Lock()
        try:
            self.size = os.fstat(self._file.fileno()).st_size
        except BaseException:
            self._file.close()
            raise

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        if offset >= self.size or length == 0:
            return b""
        if hasattr(os, "pread"):
            return os.pread(self._file.fileno(), length, offset)
        with self._lock:  # seek + read are not atomic together
            self._file.seek(offset)
            return self._file.read(length)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> LocalFileSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class CountingSource:
    """Wraps a source and counts what is read through it (tests, benchmarks):
    ``reads`` requests in ``rounds`` sequential rounds (a ``read_many`` batch is
    one round, as a concurrent fetch would be)."""

    def __init__(self, inner: RangeSource) -> None:
        self.inner = inner
        self.size = inner.size
        self.bytes_read = 0
        self.reads = 0
        self.rounds = 0
        self.ranges: list[tuple[int, int]] = []

    def read_at(self, offset: int, length: int) -> bytes:
        self.rounds += 1
        return self._read(offset, length)

    def read_many(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        self.rounds += 1
        return [self._read(offset, length) for offset, length in ranges]

    def _read(self, offset: int, length: int) -> bytes:
        data = self.inner.read_at(offset, length)
        self.bytes_read += len(data)
        self.reads += 1
        self.ranges.append((offset, len(data)))
        return data
