"""The build store on S3: what the link service reads and what the processor writes.

Headers are decided here, per object, so every writer gets them right:

=================  ============================  =======================================
object             Content-Type                  Cache-Control
=================  ============================  =======================================
app.ipa            application/octet-stream      public, max-age=31536000, immutable
icon.png           image/png                     public, max-age=31536000, immutable
manifest.plist     text/xml                      public, max-age=300
index.html         text/html; charset=utf-8      public, max-age=300
*.json             application/json              no-cache
=================  ============================  =======================================

``app.ipa`` and ``icon.png`` never change under a build id (ids are unique per
upload), so caches may keep them. The static page and manifest are short-lived
so a revocation takes effect within minutes even where they are public. Every
JSON document (indexes, ``build.json``, results) must be revalidated: a stale
index would hide a fresh build.

Index documents are updated read-modify-write with ``If-Match`` (or
``If-None-Match: *`` when creating), retried with jittered exponential backoff
when another writer got there first.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ParamValidationError

from ipadrop.domain import bucket_keys, indexes
from ipadrop.domain.model import BuildRecord
from ipadrop.domain.ports import IndexConflict, IndexMutation, ObjectInfo, UploadChanged

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        CompletedPartTypeDef,
        ObjectIdentifierTypeDef,
        PutObjectRequestTypeDef,
    )

GiB = 1024**3
MiB = 1024**2
# CopyObject takes sources up to 5 GB; above that only UploadPartCopy works.
MAX_SINGLE_COPY_BYTES = 5 * GiB
MIN_PART_BYTES = 5 * MiB  # S3's minimum part size (except the last part)
MAX_PARTS = 10_000

JSON_TYPE = "application/json"
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_SHORT = "public, max-age=300"
CACHE_REVALIDATE = "no-cache"

_BUILD_FILE_HEADERS: dict[str, tuple[str, str]] = {
    bucket_keys.IPA_NAME: ("application/octet-stream", CACHE_IMMUTABLE),
    **dict.fromkeys(bucket_keys.ICON_PIXELS, ("image/png", CACHE_IMMUTABLE)),
    bucket_keys.MANIFEST_NAME: ("text/xml", CACHE_SHORT),
    bucket_keys.PAGE_NAME: ("text/html; charset=utf-8", CACHE_SHORT),
    bucket_keys.BUILD_JSON_NAME: (JSON_TYPE, CACHE_REVALIDATE),
}

_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


def headers_for(name: str) -> tuple[str, str]:
    """(Content-Type, Cache-Control) of a build file by its name."""
    return _BUILD_FILE_HEADERS[name]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _is_missing(error: ClientError) -> bool:
    # By code, not status: NoSuchBucket is a 404 too, and it is an outage, not a miss.
    return _error_code(error) in _MISSING_CODES


def _is_conflict(error: ClientError) -> bool:
    return _error_code(error) in _CONFLICT_CODES or _status(error) in (409, 412)


def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class S3BuildStore:
    """``ports.PublishStore``: the read side plus everything the publisher writes.

    ``multipart_copy_threshold`` and ``copy_part_size`` exist so tests can
    exercise the multipart copy with small objects; production keeps the
    defaults (S3 refuses parts under 5 MiB except the last one).
    """

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        multipart_copy_threshold: int = MAX_SINGLE_COPY_BYTES,
        copy_part_size: int = 512 * MiB,
        copy_concurrency: int = 8,
        max_update_attempts: int = 30,
        backoff_base_seconds: float = 0.02,
        backoff_cap_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if copy_part_size <= 0 or multipart_copy_threshold <= 0:
            raise ValueError("copy sizes must be positive")
        self.client = client
        self.bucket = bucket
        self.multipart_copy_threshold = multipart_copy_threshold
        self.copy_part_size = copy_part_size
        self.copy_concurrency = max(1, copy_concurrency)
        self.max_update_attempts = max(1, max_update_attempts)
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_cap_seconds = backoff_cap_seconds
        self._sleep = sleep
        self._random = random.SystemRandom()
        self.conflicts = 0  # conditional writes lost to another writer (for metrics)

    # -- read side (ports.BuildStore) -------------------------------------------

    def read_object(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return response["Body"].read()

    def get_build(self, bundle_id: str, build_id: str) -> BuildRecord | None:
        if not (
            bucket_keys.is_valid_bundle_id(bundle_id) and bucket_keys.is_valid_build_id(build_id)
        ):
            return None  # cannot exist; never turn it into a key
        document = self._get_json(
            bucket_keys.build_file_key(bundle_id, build_id, bucket_keys.BUILD_JSON_NAME)
        )[0]
        return BuildRecord.from_json(document) if document is not None else None

    def get_app_index(self, bundle_id: str) -> dict[str, Any] | None:
        if not bucket_keys.is_valid_bundle_id(bundle_id):
            return None
        return self._get_json(bucket_keys.app_index_key(bundle_id))[0]

    def get_apps_index(self) -> dict[str, Any]:
        document = self._get_json(bucket_keys.APPS_INDEX_KEY)[0]
        return document if document is not None else indexes.empty_apps_index()

    def delete_build_files(self, bundle_id: str, build_id: str, names: tuple[str, ...]) -> None:
        self._delete_keys(bucket_keys.build_file_key(bundle_id, build_id, n) for n in names)

    # -- write side (ports.PublishStore) ----------------------------------------

    def head_object(self, key: str) -> ObjectInfo | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return ObjectInfo(
            size=int(response["ContentLength"]),
            etag=response["ETag"].strip('"'),
            metadata={str(k).lower(): str(v) for k, v in (response.get("Metadata") or {}).items()},
        )

    def put_build_file(self, bundle_id: str, build_id: str, name: str, body: bytes) -> None:
        content_type, cache_control = headers_for(name)
        self.client.put_object(
            Bucket=self.bucket,
            Key=bucket_keys.build_file_key(bundle_id, build_id, name),
            Body=body,
            ContentType=content_type,
            CacheControl=cache_control,
        )

    def copy_upload(
        self, upload_key: str, *, bundle_id: str, build_id: str, size: int, etag: str
    ) -> None:
        """Server-side copy of the upload to ``app.ipa`` (bytes never pass through here).

        ``etag`` pins the source: if the upload was replaced since it was
        inspected, S3 answers 412 and this raises ``UploadChanged``.
        """
        dest = bucket_keys.build_file_key(bundle_id, build_id, bucket_keys.IPA_NAME)
        content_type, cache_control = headers_for(bucket_keys.IPA_NAME)
        try:
            if size <= self.multipart_copy_threshold:
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=dest,
                    CopySource={"Bucket": self.bucket, "Key": upload_key},
                    MetadataDirective="REPLACE",
                    ContentType=content_type,
                    CacheControl=cache_control,
                    CopySourceIfMatch=etag,
                )
            else:
                self._multipart_copy(
                    upload_key,
                    dest,
                    size=size,
                    etag=etag,
                    content_type=content_type,
                    cache_control=cache_control,
                )
        except ClientError as error:
            if _error_code(error) == "PreconditionFailed" or _is_missing(error):
                raise UploadChanged(upload_key) from error
            raise

    def _part_ranges(self, size: int) -> Iterator[tuple[int, int, int]]:
        part_size = max(self.copy_part_size, math.ceil(size / MAX_PARTS))
        for number, start in enumerate(range(0, size, part_size), start=1):
            yield number, start, min(start + part_size, size) - 1

    def _multipart_copy(
        self,
        source_key: str,
        dest: str,
        *,
        size: int,
        etag: str,
        content_type: str,
        cache_control: str,
    ) -> None:
        upload_id = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=dest, ContentType=content_type, CacheControl=cache_control
        )["UploadId"]

        def copy_part(part: tuple[int, int, int]) -> CompletedPartTypeDef:
            number, first, last = part
            response = self.client.upload_part_copy(
                Bucket=self.bucket,
                Key=dest,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": self.bucket, "Key": source_key},
                CopySourceRange=f"bytes={first}-{last}",
                CopySourceIfMatch=etag,
            )
            return {"ETag": response["CopyPartResult"]["ETag"], "PartNumber": number}

        try:
            with ThreadPoolExecutor(max_workers=self.copy_concurrency) as pool:
                parts = list(pool.map(copy_part, self._part_ranges(size)))
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=dest, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            # Parts of an unfinished upload are billed until aborted.
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=dest, UploadId=upload_id)
            raise

    def create_build_record(self, record: BuildRecord) -> BuildRecord:
        key = bucket_keys.build_file_key(
            record.bundle_id, record.build_id, bucket_keys.BUILD_JSON_NAME
        )
        try:
            self._put_json(key, record.to_json(), if_none_match=True)
        except ClientError as error:
            if not _is_conflict(error):
                raise
            stored = self.get_build(record.bundle_id, record.build_id)
            if stored is None:
                raise
            return stored
        return record

    def put_build_record(self, record: BuildRecord) -> None:
        key = bucket_keys.build_file_key(
            record.bundle_id, record.build_id, bucket_keys.BUILD_JSON_NAME
        )
        self._put_json(key, record.to_json())

    def update_app_index(self, bundle_id: str, mutate: IndexMutation) -> dict[str, Any] | None:
        return self._update_json(bucket_keys.app_index_key(bundle_id), mutate)

    def update_apps_index(self, mutate: IndexMutation) -> dict[str, Any] | None:
        return self._update_json(bucket_keys.APPS_INDEX_KEY, mutate)

    def get_result(self, upload_key: str) -> dict[str, Any] | None:
        return self._get_json(bucket_keys.result_key(upload_key))[0]

    def put_result(self, upload_key: str, result: dict[str, Any]) -> None:
        self._put_json(bucket_keys.result_key(upload_key), result)

    def delete_upload(self, upload_key: str, *, etag: str | None) -> None:
        """Delete the upload, but only the version we published when ``etag`` is given
        (a newer upload of the same key keeps its own event and file)."""
        if not upload_key.startswith(bucket_keys.UPLOADS_PREFIX):
            raise ValueError(f"not an upload key: {upload_key!r}")
        try:
            if etag:
                self._delete_if_match(upload_key, etag)
            else:
                self.client.delete_object(Bucket=self.bucket, Key=upload_key)
        except ClientError as error:
            if not (_is_missing(error) or _is_conflict(error)):
                raise

    def _delete_if_match(self, key: str, etag: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except ParamValidationError:
            # boto3 comes from the Lambda runtime; one whose botocore predates
            # conditional deletes refuses the parameter. Check, then delete:
            # the window between the two calls is the price of that runtime.
            current = self.head_object(key)
            if current is not None and current.etag == etag.strip('"'):
                self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_build(self, bundle_id: str, build_id: str) -> None:
        """Remove a build folder (retention). ``build.json`` goes first so the
        build reads as unknown before its files disappear."""
        prefix = bucket_keys.build_prefix(bundle_id, build_id)
        record_key = prefix + bucket_keys.BUILD_JSON_NAME
        self.client.delete_object(Bucket=self.bucket, Key=record_key)
        paginator = self.client.get_paginator("list_objects_v2")
        keys = [
            item["Key"]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        self._delete_keys(keys)

    # -- helpers -------------------------------------------------------------

    def _delete_keys(self, keys: Iterator[str] | list[str]) -> None:
        batch: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys]
        for start in range(0, len(batch), 1000):
            self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch[start : start + 1000], "Quiet": True}
            )

    def _get_json(self, key: str) -> tuple[dict[str, Any] | None, str | None]:
        """(document, ETag) or (None, None) when the object does not exist."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None, None
            raise
        document = json.loads(response["Body"].read())
        if not isinstance(document, dict):
            raise ValueError(f"s3://{self.bucket}/{key} is not a JSON object")
        return document, response["ETag"]

    def _put_json(
        self,
        key: str,
        document: dict[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> None:
        request: PutObjectRequestTypeDef = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": _dump(document),
            "ContentType": JSON_TYPE,
            "CacheControl": CACHE_REVALIDATE,
        }
        if if_match is not None:
            request["IfMatch"] = if_match
        elif if_none_match:
            request["IfNoneMatch"] = "*"
        self.client.put_object(**request)

    def _update_json(self, key: str, mutate: IndexMutation) -> dict[str, Any] | None:
        for attempt in range(self.max_update_attempts):
            current, etag = self._get_json(key)
            updated = mutate(current)
            if updated is None or updated == current:
                return current
            try:
                self._put_json(key, updated, if_match=etag, if_none_match=etag is None)
            except ClientError as error:
                if not _is_conflict(error):
                    raise
                self.conflicts += 1
                # Full jitter: racing writers spread out instead of colliding again.
                ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2**attempt)
                self._sleep(self._random.uniform(0, ceiling))
                continue
            return updated
        raise IndexConflict(
            f"s3://{self.bucket}/{key} kept changing; gave up after "
            f"{self.max_update_attempts} attempts"
        )
