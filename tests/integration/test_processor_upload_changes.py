"""An upload deleted or replaced while the processor reads it is an outcome
(`upload_missing` / `superseded`), not an error to retry; reads are pinned to
the ETag the publisher checked, so two files are never mixed."""

from __future__ import annotations

from typing import Any

import pytest

from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.sources import RangeSource
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from tests.conftest import boto_client
from tests.integration.processor_support import (
    list_keys,
    make_publisher,
    object_exists,
    to_upload_event,
)
from tests.s3_events import put_and_describe

pytestmark = pytest.mark.integration

BUNDLE = "com.example.sample"
KEY = "uploads/app.ipa"


@pytest.fixture(scope="module")
def s3(moto_endpoint: str) -> Any:
    return boto_client("s3", moto_endpoint)


@pytest.fixture
def bucket(s3: Any, bucket_name: str) -> str:
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


def _meddling_inspect(action: Any) -> Any:
    """The real inspector, with ``action`` run after the publisher's check (HEAD,
    ETag) and before the inspector's first read, the window pinning closes."""

    def inspect(source: RangeSource) -> Any:
        action()
        return inspect_ipa(source)

    return inspect


def test_an_upload_replaced_mid_inspection_is_superseded(s3: Any, bucket: str) -> None:
    record = put_and_describe(s3, bucket, KEY, build_ipa_bytes(bundle_id=BUNDLE))
    other = build_ipa_bytes(bundle_id="com.example.other", version="9.9")
    publisher = make_publisher(s3, bucket)
    publisher.inspect = _meddling_inspect(lambda: s3.put_object(Bucket=bucket, Key=KEY, Body=other))

    outcome = publisher.publish(to_upload_event(record))

    assert (outcome.status, outcome.reason) == ("skipped", "superseded")
    assert list_keys(s3, bucket, "builds/") == []  # nothing of either file was published
    assert not object_exists(s3, bucket, f"results/{KEY}.json")


def test_an_upload_deleted_mid_inspection_is_missing(s3: Any, bucket: str) -> None:
    record = put_and_describe(s3, bucket, KEY, build_ipa_bytes(bundle_id=BUNDLE))
    publisher = make_publisher(s3, bucket)
    publisher.inspect = _meddling_inspect(lambda: s3.delete_object(Bucket=bucket, Key=KEY))

    outcome = publisher.publish(to_upload_event(record))

    assert (outcome.status, outcome.reason) == ("skipped", "upload_missing")
    assert list_keys(s3, bucket, "builds/") == []
