"""The publish core over the real S3 adapter, against moto's server."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ipadrop.adapters.s3store import S3BuildStore
from ipadrop.domain import bucket_keys, indexes
from ipadrop.publishing.revoke import revoke_build
from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.sources import LocalFileSource
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from tests.conftest import boto_client
from tests.integration.processor_support import (
    DISTRIBUTION_URL,
    EXPECTED_HEADERS,
    WRITE_OPERATIONS,
    assert_build_files,
    assert_complete_build,
    build_folders,
    list_keys,
    make_publisher,
    make_store,
    object_exists,
    read_json,
    snapshot,
    to_upload_event,
)
from tests.s3_events import put_and_describe

pytestmark = pytest.mark.integration

BUNDLE = "com.example.sample"


@pytest.fixture(scope="module")
def s3(moto_endpoint: str) -> Any:
    return boto_client("s3", moto_endpoint)


@pytest.fixture
def bucket(s3: Any, bucket_name: str) -> str:
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


def _sample(**options: Any) -> bytes:
    return build_ipa_bytes(bundle_id=options.pop("bundle_id", BUNDLE), **options)


def _headers(s3: Any, bucket: str, key: str) -> tuple[str, str]:
    head = s3.head_object(Bucket=bucket, Key=key)
    return head["ContentType"], head.get("CacheControl", "")


def _expected_headers(key: str) -> tuple[str, str]:
    name = key.rsplit("/", 1)[-1]
    return EXPECTED_HEADERS[".json" if name.endswith(".json") else name]


def test_publishes_a_complete_build_with_the_right_headers(s3: Any, bucket: str) -> None:
    key = "uploads/ci/My App 1.0.ipa"
    body = _sample(title="My App & Co", version="1.0", build="42")
    record = put_and_describe(s3, bucket, key, body)

    outcome = make_publisher(s3, bucket).publish(to_upload_event(record))

    assert outcome.status == "published", outcome.message
    assert outcome.build_id is not None
    build = assert_complete_build(s3, bucket, BUNDLE, outcome.build_id)
    assert build["upload_key"] == key
    assert build["uploader"] == "AWS:AIDAJDPLRKLG7UEXAMPLE:ci-runner"
    assert build["build"] == "42"
    assert build["title"] == "My App & Co"
    assert build["size_bytes"] == len(body)
    assert build["uploaded_at"] == record["eventTime"][:19] + "Z"
    ipa_key = bucket_keys.build_file_key(BUNDLE, outcome.build_id, bucket_keys.IPA_NAME)
    assert s3.get_object(Bucket=bucket, Key=ipa_key)["Body"].read() == body
    manifest = s3.get_object(
        Bucket=bucket, Key=bucket_keys.build_file_key(BUNDLE, outcome.build_id, "manifest.plist")
    )["Body"].read()
    assert f"{DISTRIBUTION_URL}/{ipa_key}".encode() in manifest
    assert b"My App &amp; Co" in manifest

    result = read_json(s3, bucket, bucket_keys.result_key(key))
    assert result["status"] == "published"
    assert result["build_id"] == outcome.build_id
    assert result["bundle_id"] == BUNDLE
    assert not object_exists(s3, bucket, key), "the upload is removed after publishing"

    written = [k for k in list_keys(s3, bucket) if not k.startswith("uploads/")]
    assert len(written) == 10  # 7 build files (the icon at 3 sizes), 2 indexes, 1 result
    for written_key in written:
        assert _headers(s3, bucket, written_key) == _expected_headers(written_key), written_key


def test_every_real_fixture_is_published_or_rejected_like_the_reader_says(
    s3: Any, bucket: str, real_fixtures: Path
) -> None:
    ipas = sorted(real_fixtures.rglob("*.ipa"))
    assert len(ipas) >= 8
    publisher = make_publisher(s3, bucket)
    for number, path in enumerate(ipas):
        with LocalFileSource(path) as source:
            try:
                expected = inspect_ipa(source)
                expected_reason = None
            except IpaRejected as rejected:
                expected, expected_reason = None, rejected.code
        key = f"uploads/real/{number} {path.name}"
        record = put_and_describe(s3, bucket, key, path.read_bytes())
        outcome = publisher.publish(to_upload_event(record))
        result = read_json(s3, bucket, bucket_keys.result_key(key))
        if expected is None:
            assert outcome.status == "rejected", path.name
            assert result["status"] == "rejected"
            assert result["reason"] == expected_reason
            assert result["message"]
            assert "\n" not in result["message"]
            assert object_exists(s3, bucket, key), "a rejected upload stays where it was"
            continue
        assert outcome.status == "published", (path.name, outcome.message)
        assert outcome.build_id is not None
        facts = expected.facts
        build = assert_complete_build(
            s3, bucket, facts.bundle_id, outcome.build_id, has_icon=expected.icon_png is not None
        )
        assert {k: build[k] for k in facts.to_json() if k != "bundle_id"} == {
            k: v for k, v in facts.to_json().items() if k != "bundle_id"
        }
        assert build["has_icon"] == (expected.icon_png is not None)
        if expected.icon_png is not None:
            icon_key = bucket_keys.build_file_key(facts.bundle_id, outcome.build_id, "icon.png")
            assert s3.get_object(Bucket=bucket, Key=icon_key)["Body"].read() == expected.icon_png
        assert result["status"] == "published"
        assert not object_exists(s3, bucket, key)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"this is not a zip file at all", None),
        (b"", None),
    ],
    ids=["text", "empty"],
)
def test_rejects_keep_the_upload_and_explain(
    s3: Any, bucket: str, body: bytes, reason: str | None
) -> None:
    key = "uploads/broken build.ipa"
    record = put_and_describe(s3, bucket, key, body)

    outcome = make_publisher(s3, bucket).publish(to_upload_event(record))

    assert outcome.status == "rejected"
    result = read_json(s3, bucket, bucket_keys.result_key(key))
    assert result["status"] == "rejected"
    assert result["upload_key"] == key
    assert result["reason"]
    assert result["build_id"] is None
    assert result["message"].endswith(".") or len(result["message"]) > 10
    assert object_exists(s3, bucket, key)
    assert list_keys(s3, bucket, "builds/") == []


def test_a_bundle_id_that_cannot_be_a_key_is_rejected(s3: Any, bucket: str) -> None:
    key = "uploads/evil.ipa"
    body = build_ipa_bytes(info_extra={"CFBundleIdentifier": "../../etc"})
    record = put_and_describe(s3, bucket, key, body)

    outcome = make_publisher(s3, bucket).publish(to_upload_event(record))

    assert outcome.status == "rejected"
    assert read_json(s3, bucket, bucket_keys.result_key(key))["reason"] == outcome.reason
    assert list_keys(s3, bucket, "builds/") == []


@pytest.mark.parametrize("keep_uploads", [False, True])
def test_duplicate_delivery_changes_nothing(s3: Any, bucket: str, keep_uploads: bool) -> None:
    record = put_and_describe(s3, bucket, "uploads/app.ipa", _sample())
    publisher = make_publisher(s3, bucket, keep_uploads=keep_uploads)
    first = publisher.publish(to_upload_event(record))
    before = snapshot(s3, bucket)

    again = publisher.publish(to_upload_event(record))

    assert first.status == "published"
    assert again.status == "duplicate"
    assert again.build_id == first.build_id
    assert snapshot(s3, bucket) == before
    assert build_folders(s3, bucket, BUNDLE) == {first.build_id}


def test_duplicates_delivered_at_the_same_time_give_one_build(s3: Any, bucket: str) -> None:
    record = put_and_describe(s3, bucket, "uploads/app.ipa", _sample())
    barrier = threading.Barrier(4)

    def deliver() -> str:
        publisher = make_publisher(s3, bucket)
        barrier.wait()
        return publisher.publish(to_upload_event(record)).status

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: deliver(), range(4)))

    assert "published" in statuses
    folders = build_folders(s3, bucket, BUNDLE)
    assert len(folders) == 1
    (build_id,) = folders
    assert_complete_build(s3, bucket, BUNDLE, build_id)
    assert len(read_json(s3, bucket, bucket_keys.app_index_key(BUNDLE))["builds"]) == 1


def test_reuploading_the_same_version_gives_a_second_build(s3: Any, bucket: str) -> None:
    body = _sample(version="2.0", build="7")
    publisher = make_publisher(s3, bucket)
    first = publisher.publish(
        to_upload_event(put_and_describe(s3, bucket, "uploads/app.ipa", body))
    )
    second = publisher.publish(
        to_upload_event(put_and_describe(s3, bucket, "uploads/app.ipa", body))
    )

    assert (first.status, second.status) == ("published", "published")
    assert first.build_id != second.build_id
    index = read_json(s3, bucket, bucket_keys.app_index_key(BUNDLE))
    assert [b["build_id"] for b in index["builds"]] == sorted(
        [str(first.build_id), str(second.build_id)], reverse=True
    )
    assert read_json(s3, bucket, bucket_keys.result_key("uploads/app.ipa"))["build_id"] == (
        second.build_id
    )


def test_twenty_concurrent_uploads_of_one_app_all_reach_the_index(s3: Any, bucket: str) -> None:
    count = 20
    records = [
        put_and_describe(s3, bucket, f"uploads/job {n}/app.ipa", _sample(build=str(n)))
        for n in range(count)
    ]
    store = make_store(s3, bucket)
    barrier = threading.Barrier(count)

    def publish(record: dict[str, Any]) -> str:
        publisher = make_publisher(s3, bucket, store=store)
        barrier.wait()
        outcome = publisher.publish(to_upload_event(record))
        assert outcome.status == "published", outcome.message
        return str(outcome.build_id)

    with ThreadPoolExecutor(count) as pool:
        build_ids = set(pool.map(publish, records))

    assert len(build_ids) == count
    index = read_json(s3, bucket, bucket_keys.app_index_key(BUNDLE))
    assert {entry["build_id"] for entry in index["builds"]} == build_ids
    assert [e["build_id"] for e in index["builds"]] == sorted(build_ids, reverse=True)
    (app,) = read_json(s3, bucket, bucket_keys.APPS_INDEX_KEY)["apps"]
    assert app["build_count"] == count
    assert app["latest_build_id"] == max(build_ids)


class SimulatedCrash(Exception):
    pass


def _crash_after(client: Any, writes: int) -> None:
    """Make ``client`` fail right after its ``writes``-th bucket change succeeded."""
    done = 0

    def after_call(model: Any, **_: Any) -> None:
        nonlocal done
        if model.name in WRITE_OPERATIONS:
            done += 1
            if done == writes:
                raise SimulatedCrash(f"crash after write {writes} ({model.name})")

    client.meta.events.register("after-call.s3", after_call)


def _count_writes(client: Any) -> list[str]:
    calls: list[str] = []

    def after_call(model: Any, **_: Any) -> None:
        if model.name in WRITE_OPERATIONS:
            calls.append(model.name)

    client.meta.events.register("after-call.s3", after_call)
    return calls


def _assert_nothing_half_published(s3: Any, bucket: str) -> None:
    """Whatever an index lists has all its files (the apps index may lag the app index)."""
    index_key = bucket_keys.app_index_key(BUNDLE)
    if not object_exists(s3, bucket, index_key):
        return
    for entry in read_json(s3, bucket, index_key)["builds"]:
        assert_build_files(s3, bucket, BUNDLE, entry["build_id"])


def test_a_crash_after_any_write_then_a_retry_ends_in_one_complete_build(
    s3: Any, moto_endpoint: str, bucket_name: str
) -> None:
    body = _sample()
    # How many writes a clean publish takes.
    s3.create_bucket(Bucket=bucket_name)
    counting = boto_client("s3", moto_endpoint)
    writes = _count_writes(counting)
    clean = make_publisher(counting, bucket_name).publish(
        to_upload_event(put_and_describe(s3, bucket_name, "uploads/a.ipa", body))
    )
    assert clean.status == "published"
    assert len(writes) >= 8, writes

    for crash_point in range(1, len(writes)):
        bucket = f"{bucket_name}-{crash_point}"
        s3.create_bucket(Bucket=bucket)
        record = put_and_describe(s3, bucket, "uploads/a.ipa", body)
        crashing = boto_client("s3", moto_endpoint)
        _crash_after(crashing, crash_point)
        with pytest.raises(SimulatedCrash):
            make_publisher(crashing, bucket).publish(to_upload_event(record))
        _assert_nothing_half_published(s3, bucket)

        retry = make_publisher(s3, bucket).publish(to_upload_event(record))

        assert retry.status in ("published", "duplicate"), (crash_point, retry.message)
        assert build_folders(s3, bucket, BUNDLE) == {retry.build_id}, crash_point
        assert retry.build_id is not None
        assert_complete_build(s3, bucket, BUNDLE, retry.build_id)
        assert (
            read_json(s3, bucket, bucket_keys.result_key("uploads/a.ipa"))["status"] == "published"
        )
        assert not object_exists(s3, bucket, "uploads/a.ipa"), crash_point


def test_retention_keeps_the_newest_builds(s3: Any, bucket: str) -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    publisher = make_publisher(s3, bucket, retain_builds=2)
    build_ids = []
    for n in range(4):
        record = put_and_describe(
            s3,
            bucket,
            f"uploads/{n}.ipa",
            _sample(build=str(n)),
            event_time=start + timedelta(minutes=n),
        )
        outcome = publisher.publish(to_upload_event(record))
        build_ids.append(outcome.build_id)

    index = read_json(s3, bucket, bucket_keys.app_index_key(BUNDLE))
    assert [e["build_id"] for e in index["builds"]] == [build_ids[3], build_ids[2]]
    assert build_folders(s3, bucket, BUNDLE) == {build_ids[3], build_ids[2]}
    (app,) = read_json(s3, bucket, bucket_keys.APPS_INDEX_KEY)["apps"]
    assert app["build_count"] == 2
    assert app["latest_build"] == "3"


def test_multipart_copy_above_the_threshold(s3: Any, bucket: str, moto_endpoint: str) -> None:
    body = _sample(padding_bytes=11 * 1024 * 1024)
    record = put_and_describe(s3, bucket, "uploads/big.ipa", body)
    client = boto_client("s3", moto_endpoint)
    calls = _count_writes(client)
    store = make_store(
        client, bucket, multipart_copy_threshold=1024 * 1024, copy_part_size=5 * 1024 * 1024
    )

    outcome = make_publisher(client, bucket, store=store).publish(to_upload_event(record))

    assert outcome.status == "published"
    assert calls.count("UploadPartCopy") == 3
    assert "CopyObject" not in calls
    assert outcome.build_id is not None
    ipa_key = bucket_keys.build_file_key(BUNDLE, outcome.build_id, bucket_keys.IPA_NAME)
    copied = s3.get_object(Bucket=bucket, Key=ipa_key)
    assert hashlib.sha256(copied["Body"].read()).digest() == hashlib.sha256(body).digest()
    assert (copied["ContentType"], copied["CacheControl"]) == EXPECTED_HEADERS[bucket_keys.IPA_NAME]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_an_event_for_a_replaced_upload_publishes_nothing(s3: Any, bucket: str) -> None:
    stale = put_and_describe(s3, bucket, "uploads/app.ipa", _sample(build="1"))
    fresh = put_and_describe(s3, bucket, "uploads/app.ipa", _sample(build="2"))
    publisher = make_publisher(s3, bucket)

    outcome = publisher.publish(to_upload_event(stale))

    assert (outcome.status, outcome.reason) == ("skipped", "superseded")
    assert list_keys(s3, bucket, "builds/") == []
    assert publisher.publish(to_upload_event(fresh)).status == "published"


def test_an_event_for_a_deleted_upload_publishes_nothing(s3: Any, bucket: str) -> None:
    record = put_and_describe(s3, bucket, "uploads/gone.ipa", _sample())
    s3.delete_object(Bucket=bucket, Key="uploads/gone.ipa")

    outcome = make_publisher(s3, bucket).publish(to_upload_event(record))

    assert (outcome.status, outcome.reason) == ("skipped", "upload_missing")
    assert list_keys(s3, bucket) == []


def test_revoking_a_build_removes_its_files_and_moves_latest(s3: Any, bucket: str) -> None:
    publisher = make_publisher(s3, bucket)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    older, newer = (
        publisher.publish(
            to_upload_event(
                put_and_describe(
                    s3,
                    bucket,
                    f"uploads/{n}.ipa",
                    _sample(build=str(n)),
                    event_time=start + timedelta(hours=n),
                )
            )
        ).build_id
        for n in (1, 2)
    )
    assert older is not None
    assert newer is not None
    store = make_store(s3, bucket)
    assert indexes.latest_build_id(store.get_app_index(BUNDLE)) == newer

    revoked = revoke_build(store, BUNDLE, newer, revoked_at="2026-03-02T00:00:00Z")

    assert revoked is not None
    assert revoked.revoked_at == "2026-03-02T00:00:00Z"
    stored = store.get_build(BUNDLE, newer)
    assert stored is not None
    assert stored.revoked
    assert list_keys(s3, bucket, bucket_keys.build_prefix(BUNDLE, newer)) == [
        bucket_keys.build_file_key(BUNDLE, newer, bucket_keys.BUILD_JSON_NAME)
    ]
    assert indexes.latest_build_id(store.get_app_index(BUNDLE)) == older
    (app,) = store.get_apps_index()["apps"]
    assert (app["latest_build_id"], app["build_count"]) == (older, 2)
    index = store.get_app_index(BUNDLE)
    assert index is not None
    assert [e["revoked_at"] for e in index["builds"]] == ["2026-03-02T00:00:00Z", None]
    assert revoke_build(store, BUNDLE, "20260101T000000Z-0000000000", revoked_at="x") is None
    assert store.get_build("../etc", newer) is None


class _RuntimeWithoutConditionalDelete:
    """An S3 client whose botocore predates ``DeleteObject(IfMatch=...)``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def delete_object(self, **kwargs: Any) -> Any:
        if "IfMatch" in kwargs:
            from botocore.exceptions import ParamValidationError

            raise ParamValidationError(report='Unknown parameter in input: "IfMatch"')
        return self._client.delete_object(**kwargs)


def test_an_older_runtime_botocore_still_deletes_only_the_published_upload(
    s3: Any, bucket: str
) -> None:
    store = S3BuildStore(_RuntimeWithoutConditionalDelete(s3), bucket)
    s3.put_object(Bucket=bucket, Key="uploads/a.ipa", Body=b"first")
    published = s3.head_object(Bucket=bucket, Key="uploads/a.ipa")["ETag"].strip('"')
    s3.put_object(Bucket=bucket, Key="uploads/a.ipa", Body=b"second, uploaded since")
    store.delete_upload("uploads/a.ipa", etag=published)
    assert object_exists(s3, bucket, "uploads/a.ipa")  # the newer upload is kept
    current = s3.head_object(Bucket=bucket, Key="uploads/a.ipa")["ETag"]
    store.delete_upload("uploads/a.ipa", etag=current)
    assert not object_exists(s3, bucket, "uploads/a.ipa")
