"""Server-side copy of large objects on S3 (bytes never pass through the function).

``CopyObject`` takes sources up to 5 GB; above that only ``UploadPartCopy``
works, so ``multipart_copy`` copies byte ranges in parallel, every part pinned
to the source's ETag, and aborts the upload if anything fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

GiB = 1024**3
MiB = 1024**2
# CopyObject takes sources up to 5 GB; above that only UploadPartCopy works.
MAX_SINGLE_COPY_BYTES = 5 * GiB
MIN_PART_BYTES = 5 * MiB  # S3's minimum part size (except the last part)
MAX_PARTS = 10_000


def part_ranges(size: int, part_size: int) -> Iterator[tuple[int, int, int]]:
    """(part number, first byte, last byte) for each part; never more than ``MAX_PARTS``."""
    part_size = max(part_size, math.ceil(size / MAX_PARTS))
    for number, start in enumerate(range(0, size, part_size), start=1):
        yield number, start, min(start + part_size, size) - 1


def multipart_copy(
    client: S3Client,
    bucket: str,
    source_key: str,
    dest: str,
    *,
    size: int,
    etag: str,
    content_type: str,
    cache_control: str,
    part_size: int,
    concurrency: int,
) -> None:
    """Copy ``source_key`` to ``dest`` in ``bucket`` part by part (S3 errors propagate)."""
    upload_id = client.create_multipart_upload(
        Bucket=bucket, Key=dest, ContentType=content_type, CacheControl=cache_control
    )["UploadId"]

    def copy_part(part: tuple[int, int, int]) -> CompletedPartTypeDef:
        number, first, last = part
        response = client.upload_part_copy(
            Bucket=bucket,
            Key=dest,
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": bucket, "Key": source_key},
            CopySourceRange=f"bytes={first}-{last}",
            CopySourceIfMatch=etag,
        )
        return {"ETag": response["CopyPartResult"]["ETag"], "PartNumber": number}

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            parts = list(pool.map(copy_part, part_ranges(size, part_size)))
        client.complete_multipart_upload(
            Bucket=bucket, Key=dest, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        # Parts of an unfinished upload are billed until aborted.
        client.abort_multipart_upload(Bucket=bucket, Key=dest, UploadId=upload_id)
        raise
