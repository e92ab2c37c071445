"""An S3 object as a ``RangeSource``: each read is one ranged GET.

The IPA reader asks for a handful of small ranges (end records, central
directory, Info.plist, icon, profile), so inspecting a 4 GB upload costs a few
requests and well under a megabyte of transfer. ``bytes_read`` and
``requests`` say what it cost.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


# Concurrent ranged GETs of one round (the reader asks for a handful).
MAX_PARALLEL_GETS = 8


def default_s3_client() -> S3Client:
    """A client for the environment's S3 (``AWS_ENDPOINT_URL`` points it at moto or MinIO)."""
    import boto3

    client: S3Client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    return client


class S3RangeSource:
    """Ranged reads of ``s3://bucket/key``.

    ``size`` avoids the HEAD request when the caller knows it (the S3 event
    carries it). When the source makes the HEAD itself it also pins the ETag,
    so a key overwritten between reads fails loudly (HTTP 412) instead of
    mixing two uploads.
    """

    def __init__(
        self,
        client: S3Client | None,
        bucket: str,
        key: str,
        *,
        size: int | None = None,
        etag: str | None = None,
    ) -> None:
        self.client: S3Client = client if client is not None else default_s3_client()
        self.bucket = bucket
        self.key = key
        self.etag = etag
        self.bytes_read = 0
        self.requests = 0
        self._lock = threading.Lock()
        if size is None:
            head = self.client.head_object(Bucket=bucket, Key=key)
            self.requests += 1
            size = int(head["ContentLength"])
            self.etag = etag or head.get("ETag")
        self.size: int = size

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        end = min(offset + length, self.size) - 1
        if end < offset:
            return b""
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "Range": f"bytes={offset}-{end}",
        }
        if self.etag:
            request["IfMatch"] = self.etag
        response = self.client.get_object(**request)
        with response["Body"] as body:
            data: bytes = body.read()
        with self._lock:
            self.requests += 1
            self.bytes_read += len(data)
        return data

    def read_many(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Several ranges at once, one GET each in parallel (boto3 clients are
        thread-safe): one round trip of latency for the lot."""
        if len(ranges) <= 1:
            return [self.read_at(offset, length) for offset, length in ranges]
        workers = min(len(ranges), MAX_PARALLEL_GETS)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda r: self.read_at(r[0], r[1]), ranges))
