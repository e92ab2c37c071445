"""The publish core over an in-memory store: order of writes, outcomes, index rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ipadrop.domain import bucket_keys, indexes
from ipadrop.domain.model import AppFacts, BuildRecord
from ipadrop.publishing.artefacts import BuildUrls
from ipadrop.publishing.publisher import (
    Publisher,
    PublishOptions,
    UploadEvent,
    is_upload_key,
)
from ipadrop.publishing.revoke import revoke_build
from ipadrop.reading.sources import BytesSource
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from tests.memory_store import MemoryStore


def _publisher(store: MemoryStore, **options: Any) -> Publisher:
    return Publisher(
        store=store,
        open_source=lambda key, size, etag=None: BytesSource(store.objects[key]),
        options=PublishOptions(distribution_url="https://apps.example.com", **options),
        clock=lambda: datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
    )


def _event(key: str, body: bytes, *, minutes: int = 0, sequencer: str = "0A1") -> UploadEvent:
    return UploadEvent(
        bucket="bucket",
        key=key,
        size=len(body),
        event_time=datetime(2026, 5, 1, 7, 0, tzinfo=UTC) + timedelta(minutes=minutes),
        etag="etag-" + str(len(body)),
        sequencer=sequencer,
        uploader="AWS:AIDAEXAMPLE",
    )


def test_writes_happen_in_the_documented_order() -> None:
    store = MemoryStore()
    body = build_ipa_bytes()
    store.upload("uploads/a.ipa", body)

    outcome = _publisher(store).publish(_event("uploads/a.ipa", body))

    assert outcome.status == "published"
    assert store.writes == [
        "app.ipa",
        "icon.png",
        "icon-57.png",
        "icon-512.png",
        "manifest.plist",
        "index.html",
        "build.json",
        "app index",
        "apps index",
        "result",
        "delete upload",
    ]


def test_keep_uploads_leaves_the_upload() -> None:
    store = MemoryStore()
    body = build_ipa_bytes(icon=None)
    store.upload("uploads/a.ipa", body)

    outcome = _publisher(store, keep_uploads=True).publish(_event("uploads/a.ipa", body))

    assert outcome.status == "published"
    assert "icon.png" not in store.writes
    assert "delete upload" not in store.writes
    assert "uploads/a.ipa" in store.objects


def test_retention_drops_from_the_index_before_deleting_folders() -> None:
    store = MemoryStore()
    publisher = _publisher(store, retain_builds=1)
    ids = []
    for n in range(2):
        body = build_ipa_bytes(build=str(n))
        store.upload(f"uploads/{n}.ipa", body)
        ids.append(
            publisher.publish(_event(f"uploads/{n}.ipa", body, minutes=n, sequencer=f"0{n}"))
        )
    assert ids[1].pruned_build_ids == (ids[0].build_id,)
    second_run = store.writes[store.writes.index("result") + 2 :]
    assert second_run.index("app index") < second_run.index(f"delete {ids[0].build_id}")
    assert store.get_build("com.example.sample", str(ids[0].build_id)) is None


def test_the_same_event_maps_to_the_same_build_and_a_new_upload_to_a_new_one() -> None:
    body = b"x" * 10
    first = _event("uploads/a.ipa", body, sequencer="0055AED6DCD90281E5")
    assert first.build_id == _event("uploads/a.ipa", body, sequencer="0055AED6DCD90281E5").build_id
    assert first.build_id != _event("uploads/a.ipa", body, sequencer="0055AED6DCD90281E6").build_id
    assert bucket_keys.is_valid_build_id(first.build_id)


@pytest.mark.parametrize(
    ("key", "accepted"),
    [
        ("uploads/a.ipa", True),
        ("uploads/dir/App Name.IPA", True),
        ("uploads/.ipa", False),
        ("uploads/a.ipa.txt", False),
        ("results/uploads/a.ipa", False),
        ("a.ipa", False),
    ],
)
def test_upload_keys(key: str, accepted: bool) -> None:
    assert is_upload_key(key) is accepted


def test_build_urls_point_at_the_build_folder() -> None:
    urls = BuildUrls.for_build(
        "https://apps.example.com/",
        "com.example.app",
        "20260501T070000Z-abcdefghij",
        has_icon=False,
    )
    assert urls.ipa_url == (
        "https://apps.example.com/builds/com.example.app/20260501T070000Z-abcdefghij/app.ipa"
    )
    assert urls.icon_url is None
    with pytest.raises(ValueError, match="invalid bundle id"):
        BuildUrls.for_build(
            "https://a.example", "../x", "20260501T070000Z-abcdefghij", has_icon=True
        )


def _record(build_id: str, *, title: str = "App", revoked_at: str | None = None) -> BuildRecord:
    facts = AppFacts(
        bundle_id="com.example.app",
        version="1.0",
        build=build_id[-1],
        title=title,
        minimum_os_version="15.0",
        device_family=["iphone"],
        size_bytes=100,
        icon=None,
        profile=None,
    )
    return BuildRecord(
        bundle_id="com.example.app",
        build_id=build_id,
        facts=facts,
        upload_key="uploads/a.ipa",
        uploader=None,
        uploaded_at=f"2026-05-0{build_id[7]}T00:00:00Z",
        published_at="2026-05-01T00:00:00Z",
        has_icon=False,
        revoked_at=revoked_at,
    )


B1, B2, B3, B4 = (f"2026050{n}T000000Z-aaaaaaaaa{n}" for n in (1, 2, 3, 4))


def test_app_index_is_newest_first_and_titled_by_the_newest_build() -> None:
    index, _ = indexes.upsert_build(None, _record(B2, title="New name"))
    index, _ = indexes.upsert_build(index, _record(B1, title="Old name"))
    assert [e["build_id"] for e in index["builds"]] == [B2, B1]
    assert index["title"] == "New name"
    again, dropped = indexes.upsert_build(index, _record(B1, title="Old name"))
    assert again == index
    assert dropped == []


def test_retention_and_revocation_rules() -> None:
    index: dict[str, Any] | None = None
    dropped: list[str] = []
    for build_id in (B1, B2, B3):
        index, dropped = indexes.upsert_build(index, _record(build_id), retain=2)
    assert index is not None
    assert dropped == [B1]
    assert [e["build_id"] for e in index["builds"]] == [B3, B2]

    revoked = indexes.mark_revoked(index, "com.example.app", B3, "2026-06-01T00:00:00Z")
    latest = indexes.latest_entry(revoked)
    assert latest is not None
    assert latest["build_id"] == B2
    # A publish re-run for a build revoked in the meantime keeps it revoked.
    rerun, _ = indexes.upsert_build(revoked, _record(B3))
    assert rerun["builds"][0]["revoked_at"] == "2026-06-01T00:00:00Z"

    summary = indexes.app_summary(rerun)
    assert (summary["latest_build_id"], summary["build_count"]) == (B2, 2)
    assert summary["updated_at"] == "2026-05-03T00:00:00Z"
    assert indexes.remove_builds(rerun, "com.example.app", [B2, B3])["builds"] == []


def test_a_late_event_for_an_older_upload_is_not_pruned_by_its_own_publish() -> None:
    index: dict[str, Any] | None = None
    for build_id in (B2, B3):
        index, _ = indexes.upsert_build(index, _record(build_id), retain=2)
    late, dropped = indexes.upsert_build(index, _record(B1), retain=2)
    assert dropped == []
    assert [e["build_id"] for e in late["builds"]] == [B3, B2, B1]
    newer, dropped = indexes.upsert_build(late, _record(B4), retain=2)
    assert dropped == [B2, B1]
    assert [e["build_id"] for e in newer["builds"]] == [B4, B3]


def test_apps_index_sorts_by_last_update() -> None:
    older = indexes.app_summary(indexes.upsert_build(None, _record(B1))[0])
    newer = indexes.app_summary(
        indexes.upsert_build(None, replace(_record(B2), bundle_id="com.example.zz"))[0]
    )
    apps = indexes.upsert_app(indexes.upsert_app(None, newer), older)
    assert [a["bundle_id"] for a in apps["apps"]] == ["com.example.zz", "com.example.app"]
    assert indexes.upsert_app(apps, older) == apps


def test_revoke_marks_first_then_deletes_then_moves_latest_and_is_repeatable() -> None:
    store = MemoryStore()
    publisher = _publisher(store)
    ids = []
    for n in range(2):
        body = build_ipa_bytes(build=str(n))
        store.upload(f"uploads/{n}.ipa", body)
        outcome = publisher.publish(_event(f"uploads/{n}.ipa", body, minutes=n, sequencer=f"0{n}"))
        ids.append(str(outcome.build_id))
    older, newer = ids
    bundle = "com.example.sample"
    assert indexes.latest_build_id(store.get_app_index(bundle)) == newer
    store.writes.clear()

    record = revoke_build(store, bundle, newer, revoked_at="2026-05-02T00:00:00Z")

    assert record is not None
    assert record.revoked_at == "2026-05-02T00:00:00Z"
    # build.json is marked before anything is deleted: links check it first.
    assert store.writes[:2] == ["build.json", "delete files"]
    assert bucket_keys.build_file_key(bundle, newer, "app.ipa") not in store.objects
    assert indexes.latest_build_id(store.get_app_index(bundle)) == older
    (app,) = store.get_apps_index()["apps"]
    assert app["latest_build_id"] == older
    again = revoke_build(store, bundle, newer, revoked_at="2026-06-01T00:00:00Z")
    assert again is not None
    assert again.revoked_at == "2026-05-02T00:00:00Z"  # the first revocation time stays
    assert revoke_build(store, bundle, "20260101T000000Z-0000000000", revoked_at="x") is None
