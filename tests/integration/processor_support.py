"""Helpers shared by the processor's integration tests (moto server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord

from ipadrop.adapters.s3source import S3RangeSource
from ipadrop.adapters.s3store import S3BuildStore
from ipadrop.domain import bucket_keys
from ipadrop.handlers.processor import upload_event
from ipadrop.publishing.publisher import Publisher, PublishOptions, UploadEvent

DISTRIBUTION_URL = "https://apps.example.com"

EXPECTED_HEADERS = {
    bucket_keys.IPA_NAME: ("application/octet-stream", "public, max-age=31536000, immutable"),
    bucket_keys.ICON_NAME: ("image/png", "public, max-age=31536000, immutable"),
    bucket_keys.DISPLAY_IMAGE_NAME: ("image/png", "public, max-age=31536000, immutable"),
    bucket_keys.FULL_SIZE_IMAGE_NAME: ("image/png", "public, max-age=31536000, immutable"),
    bucket_keys.MANIFEST_NAME: ("text/xml", "public, max-age=300"),
    bucket_keys.PAGE_NAME: ("text/html; charset=utf-8", "public, max-age=300"),
    ".json": ("application/json", "no-cache"),
}

# Calls that change the bucket: a crash "between two writes" happens after one of them.
WRITE_OPERATIONS = (
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "DeleteObjects",
    "CreateMultipartUpload",
    "UploadPartCopy",
    "CompleteMultipartUpload",
)


def make_store(client: Any, bucket: str, **options: Any) -> S3BuildStore:
    return S3BuildStore(client, bucket, **options)


def make_publisher(
    client: Any,
    bucket: str,
    *,
    store: S3BuildStore | None = None,
    keep_uploads: bool = False,
    retain_builds: int = 0,
    clock: Callable[[], datetime] | None = None,
) -> Publisher:
    def open_source(key: str, size: int) -> S3RangeSource:
        return S3RangeSource(client, bucket, key, size=size)

    publisher = Publisher(
        store=store or make_store(client, bucket),
        open_source=open_source,
        options=PublishOptions(
            distribution_url=DISTRIBUTION_URL,
            keep_uploads=keep_uploads,
            retain_builds=retain_builds,
        ),
    )
    if clock is not None:
        publisher.clock = clock
    return publisher


def to_upload_event(record: dict[str, Any]) -> UploadEvent:
    """The same conversion the handler applies (key decoded with unquote_plus)."""
    return upload_event(S3EventRecord(record))


def list_keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    paginator = client.get_paginator("list_objects_v2")
    return sorted(
        item["Key"]
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    )


def snapshot(client: Any, bucket: str) -> dict[str, tuple[str, datetime]]:
    """Every object's ETag and Last-Modified: a rewrite changes the latter."""
    paginator = client.get_paginator("list_objects_v2")
    return {
        item["Key"]: (item["ETag"], item["LastModified"])
        for page in paginator.paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    }


def read_json(client: Any, bucket: str, key: str) -> Any:
    return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def object_exists(client: Any, bucket: str, key: str) -> bool:
    return key in list_keys(client, bucket, key)


def build_folders(client: Any, bucket: str, bundle_id: str) -> set[str]:
    prefix = bucket_keys.app_prefix(bundle_id)
    return {
        key[len(prefix) :].split("/", 1)[0]
        for key in list_keys(client, bucket, prefix)
        if key.count("/") == 3
    }


def assert_build_files(
    client: Any, bucket: str, bundle_id: str, build_id: str, *, has_icon: bool = True
) -> None:
    names = [
        bucket_keys.IPA_NAME,
        bucket_keys.MANIFEST_NAME,
        bucket_keys.PAGE_NAME,
        bucket_keys.BUILD_JSON_NAME,
    ]
    if has_icon:
        names += list(bucket_keys.ICON_PIXELS)
    present = set(list_keys(client, bucket, bucket_keys.build_prefix(bundle_id, build_id)))
    for name in names:
        assert bucket_keys.build_file_key(bundle_id, build_id, name) in present, name


def assert_complete_build(
    client: Any, bucket: str, bundle_id: str, build_id: str, *, has_icon: bool = True
) -> dict[str, Any]:
    """Every artefact, build.json and both index rows exist; returns build.json."""
    assert_build_files(client, bucket, bundle_id, build_id, has_icon=has_icon)
    record = read_json(
        client, bucket, bucket_keys.build_file_key(bundle_id, build_id, bucket_keys.BUILD_JSON_NAME)
    )
    app_index = read_json(client, bucket, bucket_keys.app_index_key(bundle_id))
    assert build_id in [entry["build_id"] for entry in app_index["builds"]]
    apps = read_json(client, bucket, bucket_keys.APPS_INDEX_KEY)["apps"]
    assert bundle_id in [app["bundle_id"] for app in apps]
    return dict(record)


def fixed_clock(moment: datetime | None = None) -> Callable[[], datetime]:
    value = moment or datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return lambda: value
