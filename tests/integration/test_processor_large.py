"""A 1 GiB upload: the processor reads only what it needs from S3 (ranged reads).

The archive is generated streamed (stored entries, incompressible padding
before Info.plist, so the reader must seek past it), once per session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event

from ipadrop.domain import bucket_keys
from ipadrop.handlers import processor
from ipadrop_tools.devkit.sample_ipa import build_ipa
from tests.conftest import boto_client
from tests.integration.processor_support import (
    assert_complete_build,
    processor_runtime,
    read_json,
)
from tests.s3_events import s3_event, s3_event_record

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GIB = 1024**3
BUNDLE = "com.example.huge"
MAX_FETCHED_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="session")
def one_gib_ipa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "huge.ipa"
    build_ipa(path, bundle_id=BUNDLE, title="Huge", padding_bytes=GIB)
    return path


@pytest.fixture
def large_bucket(
    moto_endpoint: str, bucket_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    # moto spools objects over 5 MiB to disk; keep them in memory for speed,
    # and empty the bucket afterwards so the session's server lets them go.
    monkeypatch.setenv("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(3 * GIB))
    s3 = boto_client("s3", moto_endpoint)
    s3.create_bucket(Bucket=bucket_name)
    yield bucket_name
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name).get("Contents", [])]
    if keys:
        s3.delete_objects(Bucket=bucket_name, Delete={"Objects": [{"Key": k} for k in keys]})


def test_a_1_gib_upload_is_published_from_under_2_mb_of_reads(
    one_gib_ipa: Path, large_bucket: str, moto_endpoint: str
) -> None:
    s3 = boto_client("s3", moto_endpoint)
    size = one_gib_ipa.stat().st_size
    assert size > GIB
    key = "uploads/huge build.ipa"
    with one_gib_ipa.open("rb") as body:
        etag = s3.put_object(Bucket=large_bucket, Key=key, Body=body)["ETag"]
    record = s3_event_record(
        bucket=large_bucket,
        key=key,
        size=size,
        etag=etag,
        event_name="ObjectCreated:CompleteMultipartUpload",
    )

    # The processor's own client, counting every byte S3 sends it.
    client = boto_client("s3", moto_endpoint)
    fetched: list[int] = []

    def count_body(parsed: dict[str, Any], **_: Any) -> None:
        fetched.append(int(parsed.get("ContentLength", 0)))

    client.meta.events.register("after-call.s3.GetObject", count_body)
    runtime = processor_runtime(client, large_bucket)

    started = time.perf_counter()
    summary = processor.process_event(runtime, S3Event(s3_event(record)))
    elapsed = time.perf_counter() - started

    (outcome,) = summary["outcomes"]
    assert outcome["status"] == "published", outcome["message"]
    print(f"1 GiB upload: {sum(fetched)} bytes in {len(fetched)} GETs, {elapsed:.1f} s")
    assert sum(fetched) < MAX_FETCHED_BYTES
    build = assert_complete_build(s3, large_bucket, BUNDLE, outcome["build_id"])
    assert build["size_bytes"] == size
    copied = s3.head_object(
        Bucket=large_bucket, Key=bucket_keys.build_file_key(BUNDLE, outcome["build_id"], "app.ipa")
    )
    assert copied["ContentLength"] == size
    assert copied["ETag"] == etag
    assert read_json(s3, large_bucket, bucket_keys.result_key(key))["status"] == "published"
