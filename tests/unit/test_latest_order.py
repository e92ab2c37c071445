"""`latest` follows the order S3 received the uploads, not the build ids' order:
build ids sort by the second and then by a hash, so two builds uploaded in the
same second could otherwise come out either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ipadrop.domain import indexes
from ipadrop.domain.build_ids import legacy_upload_order, upload_order
from ipadrop.publishing.publisher import Publisher, PublishOptions, UploadEvent
from ipadrop.reading.sources import BytesSource
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from tests.memory_store import MemoryStore

SECOND = datetime(2026, 5, 1, 7, 0, 0, tzinfo=UTC)
BUNDLE = "com.example.sample"


def _publisher(store: MemoryStore) -> Publisher:
    return Publisher(
        store=store,
        open_source=lambda key, size, etag=None: BytesSource(store.objects[key]),
        options=PublishOptions(distribution_url="https://apps.example.com"),
        clock=lambda: SECOND + timedelta(minutes=5),
    )


def _event(key: str, body: bytes, *, millis: int, sequencer: str) -> UploadEvent:
    return UploadEvent(
        bucket="bucket",
        key=key,
        size=len(body),
        event_time=SECOND + timedelta(milliseconds=millis),
        etag="etag-" + str(len(body)),
        sequencer=sequencer,
    )


def _same_second_pair(body: bytes) -> tuple[UploadEvent, UploadEvent]:
    """An earlier and a later upload of one second whose build ids sort the wrong way."""
    for n in range(200):
        earlier = _event(f"uploads/a{n}.ipa", body, millis=100, sequencer="0062A1")
        later = _event(f"uploads/b{n}.ipa", body, millis=900, sequencer="0062A2")
        if later.build_id < earlier.build_id:
            return earlier, later
    raise AssertionError("no pair found")


def _publish(store: MemoryStore, *events: UploadEvent) -> None:
    for event in events:
        outcome = _publisher(store).publish(event)
        assert outcome.status == "published", outcome.message


def _apps_row(store: MemoryStore) -> dict[str, Any]:
    (row,) = store.get_apps_index()["apps"]
    return dict(row)


def test_latest_is_the_later_upload_of_the_same_second() -> None:
    body = build_ipa_bytes(bundle_id=BUNDLE)
    earlier, later = _same_second_pair(body)
    store = MemoryStore()
    store.upload(earlier.key, body)
    store.upload(later.key, body)
    _publish(store, earlier, later)
    app_index = store.get_app_index(BUNDLE)
    assert indexes.latest_build_id(app_index) == later.build_id
    assert [e["build_id"] for e in app_index["builds"]] == [later.build_id, earlier.build_id]
    assert _apps_row(store)["latest_build_id"] == later.build_id


def test_events_delivered_out_of_order_still_pick_the_later_upload() -> None:
    body = build_ipa_bytes(bundle_id=BUNDLE)
    earlier, later = _same_second_pair(body)
    store = MemoryStore()
    store.upload(earlier.key, body)
    store.upload(later.key, body)
    _publish(store, later, earlier)  # the earlier upload's event arrives last
    assert indexes.latest_build_id(store.get_app_index(BUNDLE)) == later.build_id
    assert _apps_row(store)["latest_build_id"] == later.build_id


def test_same_millisecond_falls_back_to_the_sequencer_left_padded() -> None:
    at = SECOND + timedelta(milliseconds=5)
    # "FF" < "100" as hex numbers; S3 says to left-pad before comparing.
    assert upload_order(uploaded_at=at, sequencer="FF") < upload_order(
        uploaded_at=at, sequencer="100"
    )
    assert upload_order(uploaded_at=at, sequencer="FF") < upload_order(
        uploaded_at=at + timedelta(milliseconds=1), sequencer="0"
    )


def test_builds_recorded_before_the_upload_order_sort_by_their_second() -> None:
    old = {"build_id": "20260501T070000Z-zzzzzzzzzz", "revoked_at": None}
    new = {
        "build_id": "20260501T070000Z-0000000000",
        "revoked_at": None,
        "upload_order": upload_order(
            uploaded_at=SECOND + timedelta(milliseconds=1), sequencer="01"
        ),
    }
    assert legacy_upload_order(old["build_id"]) < str(new["upload_order"])
    assert indexes.latest_build_id({"builds": [old, new]}) == new["build_id"]
