"""Faults: fifty concurrent uploads, re-delivered and out-of-order events, and the
processor failing around each of its writes then retried, all through the real
handler (``process_event``) against moto. After every fault: no build is half
visible; after the retries: no build is lost and the indexes agree."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event

from ipadrop.domain import bucket_keys
from ipadrop.handlers import processor
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from tests.conftest import boto_client
from tests.hardening.support import assert_indexes_consistent, assert_keys_confined
from tests.integration.processor_support import (
    WRITE_OPERATIONS,
    list_keys,
    processor_runtime,
    read_json,
)
from tests.s3_events import put_and_describe, s3_event

pytestmark = pytest.mark.integration

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def bodies() -> dict[str, bytes]:
    """One IPA per app (built once: profiles are signed, icons drawn)."""
    return {
        bundle_id: build_ipa_bytes(bundle_id=bundle_id, title=bundle_id.rsplit(".", 1)[1])
        for bundle_id in (f"com.example.app{n}" for n in range(5))
    }


def deliver(client: Any, bucket: str, *records: dict[str, Any]) -> dict[str, Any]:
    return processor.process_event(processor_runtime(client, bucket), S3Event(s3_event(*records)))


def assert_no_half_build(client: Any, bucket: str) -> None:
    """Whatever an index shows (an app index row, an apps index 'latest') is complete."""
    keys = set(list_keys(client, bucket, bucket_keys.BUILDS_PREFIX))
    shown: set[tuple[str, str]] = set()
    for key in keys:
        if key.count("/") == 2 and key.endswith("/index.json"):
            index = read_json(client, bucket, key)
            shown |= {(index["bundle_id"], e["build_id"]) for e in index["builds"]}
    if bucket_keys.APPS_INDEX_KEY in keys:
        for app in read_json(client, bucket, bucket_keys.APPS_INDEX_KEY)["apps"]:
            if app["latest_build_id"]:
                shown.add((app["bundle_id"], app["latest_build_id"]))
    for bundle_id, build_id in shown:
        for name in (bucket_keys.BUILD_JSON_NAME, bucket_keys.IPA_NAME, bucket_keys.MANIFEST_NAME):
            assert bucket_keys.build_file_key(bundle_id, build_id, name) in keys, (
                f"{bundle_id}/{build_id} is visible without {name}"
            )


def test_fifty_concurrent_uploads_of_five_apps(
    s3: Any, bucket_name: str, bodies: dict[str, bytes]
) -> None:
    s3.create_bucket(Bucket=bucket_name)
    records = [
        put_and_describe(
            s3,
            bucket_name,
            f"uploads/{bundle_id}/{n}.ipa",
            body,
            event_time=START + timedelta(seconds=n),
        )
        for n in range(10)
        for bundle_id, body in bodies.items()
    ]
    assert len(records) == 50
    barrier = threading.Barrier(len(records))

    def one(record: dict[str, Any]) -> str:
        barrier.wait()
        (outcome,) = deliver(s3, bucket_name, record)["outcomes"]
        return str(outcome["status"])

    with ThreadPoolExecutor(len(records)) as pool:
        statuses = list(pool.map(one, records))

    assert statuses == ["published"] * 50
    listed = assert_indexes_consistent(s3, bucket_name)
    assert {bundle: len(ids) for bundle, ids in listed.items()} == dict.fromkeys(bodies, 10)
    assert_keys_confined(s3, bucket_name, set(bodies))
    assert list_keys(s3, bucket_name, bucket_keys.UPLOADS_PREFIX) == []
    results = list_keys(s3, bucket_name, bucket_keys.RESULTS_PREFIX)
    assert len(results) == 50
    assert {read_json(s3, bucket_name, key)["status"] for key in results} == {"published"}


def test_redelivered_and_out_of_order_events_give_each_build_once(
    s3: Any, bucket_name: str, bodies: dict[str, bytes]
) -> None:
    s3.create_bucket(Bucket=bucket_name)
    bundle_id, body = next(iter(bodies.items()))
    records = [
        put_and_describe(
            s3,
            bucket_name,
            f"uploads/ci/{n}.ipa",
            body,
            event_time=START + timedelta(minutes=n),
        )
        for n in range(8)
    ]
    # Newest first, then everything again shuffled, some twice in one batch, some at once.
    shuffled = random.Random(8).sample(records, len(records))  # noqa: S311 (a fixed order)
    deliver(s3, bucket_name, *reversed(records))
    assert_no_half_build(s3, bucket_name)
    deliver(s3, bucket_name, *shuffled, shuffled[0], shuffled[3])
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda r: deliver(s3, bucket_name, r), shuffled[:4] * 2))

    listed = assert_indexes_consistent(s3, bucket_name)
    ids = listed[bundle_id]
    assert len(ids) == 8
    index = read_json(s3, bucket_name, bucket_keys.app_index_key(bundle_id))
    uploaded = [entry["uploaded_at"] for entry in index["builds"]]
    assert uploaded == sorted(uploaded, reverse=True), "newest upload first, whatever the order"
    (app,) = read_json(s3, bucket_name, bucket_keys.APPS_INDEX_KEY)["apps"]
    assert app["latest_build_id"] == ids[0]
    assert app["updated_at"] == (START + timedelta(minutes=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert list_keys(s3, bucket_name, bucket_keys.UPLOADS_PREFIX) == []


class SimulatedFault(Exception):
    pass


def fail_around_write(client: Any, number: int, *, after: bool) -> None:
    """Make ``client`` fail on its ``number``-th bucket write: right after S3 did it
    (a crash), or instead of sending it (an outage)."""
    done = 0

    def hook(model: Any, **_: Any) -> None:
        nonlocal done
        if model.name in WRITE_OPERATIONS:
            done += 1
            if done == number:
                when = "after" if after else "instead of"
                raise SimulatedFault(f"fault {when} write {number} ({model.name})")

    client.meta.events.register("after-call.s3" if after else "before-call.s3", hook)


def count_writes(client: Any) -> list[str]:
    names: list[str] = []

    def hook(model: Any, **_: Any) -> None:
        if model.name in WRITE_OPERATIONS:
            names.append(model.name)

    client.meta.events.register("after-call.s3", hook)
    return names


def seeded_bucket(
    s3: Any, bucket: str, bodies: dict[str, bytes]
) -> Callable[[int], dict[str, Any]]:
    """A bucket that already holds a published build of app0, and a maker of new
    uploads of it (so faults hit indexes that exist, not only fresh ones)."""
    s3.create_bucket(Bucket=bucket)
    body = bodies["com.example.app0"]
    deliver(s3, bucket, put_and_describe(s3, bucket, "uploads/first.ipa", body, event_time=START))

    def upload(n: int) -> dict[str, Any]:
        return put_and_describe(
            s3, bucket, f"uploads/next-{n}.ipa", body, event_time=START + timedelta(hours=n)
        )

    return upload


@pytest.mark.parametrize("after", [True, False], ids=["crash-after-write", "outage-on-write"])
def test_a_fault_at_every_write_then_a_retry_loses_nothing(
    s3: Any, moto_endpoint: str, bucket_name: str, bodies: dict[str, bytes], after: bool
) -> None:
    clean_bucket = f"{bucket_name}-clean"
    upload = seeded_bucket(s3, clean_bucket, bodies)
    counting = boto_client("s3", moto_endpoint)
    writes = count_writes(counting)
    assert deliver(counting, clean_bucket, upload(1))["outcomes"][0]["status"] == "published"
    assert len(writes) >= 8, writes

    for number in range(1, len(writes) + 1):
        bucket = f"{bucket_name}-{number}"
        upload = seeded_bucket(s3, bucket, bodies)
        record = upload(1)
        faulty = boto_client("s3", moto_endpoint)
        fail_around_write(faulty, number, after=after)
        with pytest.raises(RuntimeError, match="records failed"):
            deliver(faulty, bucket, record)
        assert_no_half_build(s3, bucket)
        # Another upload of the same app lands before the retry.
        assert deliver(s3, bucket, upload(2))["outcomes"][0]["status"] == "published"
        assert_no_half_build(s3, bucket)

        (retried,) = deliver(s3, bucket, record)["outcomes"]

        assert retried["status"] in ("published", "duplicate"), (number, retried)
        listed = assert_indexes_consistent(s3, bucket)
        assert len(listed["com.example.app0"]) == 3, (number, writes[number - 1])
        assert retried["build_id"] in listed["com.example.app0"]
        assert_keys_confined(s3, bucket, {"com.example.app0"})
        assert list_keys(s3, bucket, bucket_keys.UPLOADS_PREFIX) == [], number
        result = read_json(s3, bucket, bucket_keys.result_key(record["s3"]["object"]["key"]))
        assert (result["status"], result["build_id"]) == ("published", retried["build_id"])
