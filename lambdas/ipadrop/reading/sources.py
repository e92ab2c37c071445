"""Random-access byte sources the ZIP reader reads from.

A source knows its size and returns the bytes of a range on request; the
reader asks only for the few ranges it needs (end records, central directory,
single entries), so an S3 object is never downloaded whole.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Protocol


class RangeSource(Protocol):
    """``size`` in bytes; ``read_at`` returns ``data[offset:offset + length]``
    (shorter only where the source ends)."""

    size: int

    def read_at(self, offset: int, length: int) -> bytes: ...


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
    """Wraps a source and counts what is read through it (tests, benchmarks)."""

    def __init__(self, inner: RangeSource) -> None:
        self.inner = inner
        self.size = inner.size
        self.bytes_read = 0
        self.reads = 0
        self.ranges: list[tuple[int, int]] = []

    def read_at(self, offset: int, length: int) -> bytes:
        data = self.inner.read_at(offset, length)
        self.bytes_read += len(data)
        self.reads += 1
        self.ranges.append((offset, len(data)))
        return data
