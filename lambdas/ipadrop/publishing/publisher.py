"""Publishing one upload: the processor's core, over an injected store and source.

No boto3 here: the store (``adapters/s3store.py`` in Lambda, anything with the
same methods in tests) does the I/O, ``open_source`` gives ranged reads of the
upload, and the renderers turn facts into the canonical artefacts.

Order of writes (docs/ARCHITECTURE.md, "Bucket layout"): ``app.ipa`` (server-side copy),
``icon.png``, ``manifest.plist``, ``index.html``, then ``build.json``, then the
app index and the apps index, then the result record, then the upload is
deleted. Nothing is visible before ``build.json`` and the indexes exist, and
every step is safe to repeat, so a crash anywhere followed by a retry of the
same event ends in one complete build.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from ipadrop.distribution import events as bus_events
from ipadrop.distribution.metadata import UploadMetadata, parse_upload_metadata
from ipadrop.domain import bucket_keys, indexes
from ipadrop.domain.build_ids import make_build_id, upload_order
from ipadrop.domain.model import BuildRecord, Inspection
from ipadrop.domain.ports import (
    AppIndex,
    EventPublisher,
    JsonDoc,
    ObjectInfo,
    PublishStore,
    UploadChanged,
    UploadMissing,
)
from ipadrop.publishing.artefacts import BuildUrls, Renderers, default_renderers
from ipadrop.publishing.results import published_result, rejected_result
from ipadrop.publishing.revoke import refresh_apps_index
from ipadrop.reading.errors import IpaRejected
from ipadrop.text import iso_utc, version_label

if TYPE_CHECKING:
    from ipadrop.reading.sources import RangeSource

logger = logging.getLogger("ipadrop.publisher")


class Notifier(Protocol):
    """Invites a published build's ``notify`` targets; returns how many were sent.

    Must be idempotent (the processor re-runs it when the event is retried):
    ``ipadrop.distribution.invites.InviteService.notify_build`` derives each
    invite id from the build and the address and sends only unsent invites.
    """

    def __call__(self, record: BuildRecord) -> int: ...


@dataclass(frozen=True, slots=True)
class UploadEvent:
    """One ``ObjectCreated`` record, key already URL-decoded."""

    bucket: str
    key: str
    size: int
    event_time: datetime
    etag: str | None = None
    sequencer: str | None = None
    version_id: str | None = None
    uploader: str | None = None

    @property
    def upload_marker(self) -> str:
        """What tells this upload of the key apart from another upload of it.

        S3 always sends a sequencer; emulators may not, and then the same bytes
        uploaded twice differ only by the event time (kept on re-delivery).
        """
        if self.sequencer or self.version_id:
            return self.sequencer or self.version_id or ""
        return f"{self.etag or ''}@{self.event_time.isoformat()}"

    @property
    def build_id(self) -> str:
        return make_build_id(
            uploaded_at=self.event_time,
            bucket=self.bucket,
            key=self.key,
            upload_marker=self.upload_marker,
        )


def is_upload_key(key: str) -> bool:
    """Keys the processor acts on: under ``uploads/`` and ending ``.ipa`` (any case)."""
    return (
        key.startswith(bucket_keys.UPLOADS_PREFIX)
        and key.lower().endswith(bucket_keys.UPLOAD_SUFFIX)
        and len(key) > len(bucket_keys.UPLOADS_PREFIX) + len(bucket_keys.UPLOAD_SUFFIX)
    )


def _inspect_with_reader(source: RangeSource) -> Inspection:
    from ipadrop.reading.inspector import inspect_ipa

    return inspect_ipa(source)


Status = Literal["published", "duplicate", "rejected", "skipped"]


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """What happened to one event (for logs and metrics; the result record is the contract)."""

    status: Status
    upload_key: str
    message: str
    build_id: str | None = None
    bundle_id: str | None = None
    reason: str | None = None
    pruned_build_ids: tuple[str, ...] = ()
    invited: int = 0
    # Sending the invitations failed; the build is published and the result
    # says so. The processor raises so the event is retried (docs/ARCHITECTURE.md).
    notify_failed: bool = False


@dataclass(frozen=True, slots=True)
class PublishOptions:
    distribution_url: str
    keep_uploads: bool = False
    retain_builds: int = 0  # newest N per app; 0 keeps all


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Publisher:
    store: PublishStore
    # (upload key, size, ETag) -> ranged reads pinned to that ETag
    open_source: Callable[[str, int, str | None], RangeSource]
    options: PublishOptions
    renderers: Renderers = field(default_factory=default_renderers)
    inspect: Callable[[RangeSource], Inspection] = _inspect_with_reader
    clock: Callable[[], datetime] = _utcnow
    notifier: Notifier | None = None
    events: EventPublisher | None = None

    def publish(self, event: UploadEvent) -> PublishOutcome:
        key = event.key
        if not is_upload_key(key):
            return PublishOutcome("skipped", key, f"not an upload key: {key!r}", reason="not_ipa")
        build_id = event.build_id

        prior = self.store.get_result(key)
        if prior and prior.get("status") == "published" and prior.get("build_id") == build_id:
            # Re-delivered after a complete publish (maybe only the delete was
            # left, or the invitations, when sending them failed).
            invited, failed = 0, False
            if prior.get("notify_pending"):
                invited, failed = self._retry_notify(key, prior)
            self._finish_upload(key, event.etag)
            return PublishOutcome(
                "duplicate",
                key,
                f"already published as build {build_id}",
                build_id=build_id,
                bundle_id=prior.get("bundle_id"),
                invited=invited,
                notify_failed=failed,
            )

        info = self.store.head_object(key)
        if info is None:
            return PublishOutcome(
                "skipped", key, "the upload no longer exists", reason="upload_missing"
            )
        if event.etag and _unquote(event.etag) != info.etag:
            return PublishOutcome(
                "skipped", key, "the upload was replaced after this event", reason="superseded"
            )

        try:
            inspection = self.inspect(self.open_source(key, info.size, info.etag))
            if not bucket_keys.is_valid_bundle_id(inspection.facts.bundle_id):
                raise IpaRejected(
                    "bad_bundle_id",
                    f"the bundle identifier {inspection.facts.bundle_id!r} is not valid",
                )
        except UploadMissing:
            # Deleted while being read: an outcome, not an error to retry.
            return PublishOutcome(
                "skipped", key, "the upload no longer exists", reason="upload_missing"
            )
        except UploadChanged:
            # Replaced while being read: the new object has an event of its own.
            return PublishOutcome(
                "skipped", key, "the upload was replaced after this event", reason="superseded"
            )
        except IpaRejected as rejected:
            self.store.put_result(key, rejected_result(key, rejected, processed_at=self.clock()))
            self._emit(bus_events.upload_rejected(key, rejected.code, rejected.message))
            return PublishOutcome(
                "rejected", key, rejected.message, reason=rejected.code, build_id=None
            )

        meta = parse_upload_metadata(info.metadata)
        try:
            record, created = self._publish_build(event, build_id, info, inspection, meta)
        except UploadChanged:
            return PublishOutcome(
                "skipped", key, "the upload was replaced after this event", reason="superseded"
            )
        pruned = self._update_indexes(record)
        for old_build_id in pruned:
            self.store.delete_build(record.bundle_id, old_build_id)
        invited, notify_warning = self._notify(record)
        warnings = [*meta.warnings, *([notify_warning] if notify_warning else [])]
        self.store.put_result(
            key,
            published_result(
                record,
                processed_at=self.clock(),
                warnings=warnings,
                invited=invited,
                notify_pending=notify_warning is not None,
            ),
        )
        if created:
            self._emit(bus_events.build_published(record, invited=invited, warnings=warnings))
        self._finish_upload(key, info.etag)
        verb = "published" if created else "completed"
        label = version_label(record.facts.version, record.facts.build)
        return PublishOutcome(
            "published" if created else "duplicate",
            key,
            f"{verb} {record.bundle_id} {label} as build {build_id}",
            build_id=build_id,
            bundle_id=record.bundle_id,
            pruned_build_ids=tuple(pruned),
            invited=invited,
            notify_failed=notify_warning is not None,
        )

    def _notify(self, record: BuildRecord) -> tuple[int, dict[str, str] | None]:
        """Invite ``notify``; a failure is a warning, never an unpublished build."""
        if not record.notify or self.notifier is None:
            return 0, None
        try:
            return self.notifier(record), None
        except Exception as error:  # any failure: the build stays published
            logger.warning("sending invitations failed", exc_info=error)
            return 0, {
                "code": "notify_failed",
                "message": "The build is published, but sending its invitations failed; "
                "they are retried with the upload event.",
            }

    def _retry_notify(self, key: str, prior: JsonDoc) -> tuple[int, bool]:
        record = self.store.get_build(str(prior.get("bundle_id")), str(prior.get("build_id")))
        if record is None:
            return 0, False
        invited, warning = self._notify(record)
        if warning is not None:
            return 0, True
        updated = dict(prior)
        updated["invited"] = invited
        updated["notify_pending"] = False
        updated["warnings"] = [
            w for w in prior.get("warnings") or [] if w.get("code") != "notify_failed"
        ]
        self.store.put_result(key, updated)
        return invited, False

    def _emit(self, event: bus_events.Event) -> None:
        bus_events.emit(self.events, event)

    def _publish_build(
        self,
        event: UploadEvent,
        build_id: str,
        info: ObjectInfo,
        inspection: Inspection,
        meta: UploadMetadata,
    ) -> tuple[BuildRecord, bool]:
        """Artefacts, then ``build.json``. Returns the stored record and whether it is new."""
        facts = inspection.facts
        bundle_id = facts.bundle_id
        existing = self.store.get_build(bundle_id, build_id)
        if existing is not None:
            return existing, False

        has_icon = inspection.icon_png is not None
        sized_icons = tuple(
            name
            for name in (bucket_keys.DISPLAY_IMAGE_NAME, bucket_keys.FULL_SIZE_IMAGE_NAME)
            if has_icon and name in inspection.icon_files
        )
        urls = BuildUrls.for_build(
            self.options.distribution_url,
            bundle_id,
            build_id,
            has_icon=has_icon,
            icon_files=sized_icons,
        )
        now = self.clock()
        record = BuildRecord(
            bundle_id=bundle_id,
            build_id=build_id,
            facts=replace(facts, size_bytes=info.size) if facts.size_bytes != info.size else facts,
            upload_key=event.key,
            uploader=event.uploader,
            uploaded_at=iso_utc(event.event_time),
            published_at=iso_utc(now),
            has_icon=has_icon,
            notes=meta.notes,
            channel=meta.channel,
            notify=meta.notify,
            icon_files=sized_icons,
            upload_order=upload_order(uploaded_at=event.event_time, sequencer=event.sequencer),
        )
        self.store.copy_upload(
            event.key, bundle_id=bundle_id, build_id=build_id, size=info.size, etag=info.etag
        )
        if inspection.icon_png is not None:
            self.store.put_build_file(
                bundle_id, build_id, bucket_keys.ICON_NAME, inspection.icon_png
            )
        for name in sized_icons:
            self.store.put_build_file(bundle_id, build_id, name, inspection.icon_files[name])
        manifest = self.renderers.manifest(
            facts=record.facts,
            ipa_url=urls.ipa_url,
            icon_url=urls.icon_url,
            display_image_url=urls.display_image_url,
            full_size_image_url=urls.full_size_image_url,
        )
        self.store.put_build_file(bundle_id, build_id, bucket_keys.MANIFEST_NAME, manifest)
        page = self.renderers.page(record=record, urls=urls, icon_png=inspection.icon_png, now=now)
        self.store.put_build_file(bundle_id, build_id, bucket_keys.PAGE_NAME, page.encode("utf-8"))
        stored = self.store.create_build_record(record)
        # A concurrent duplicate may have won the race to write build.json.
        return stored, stored == record

    def _update_indexes(self, record: BuildRecord) -> list[str]:
        pruned: list[str] = []

        def add_build(current: AppIndex | None) -> AppIndex:
            updated, dropped = indexes.upsert_build(
                current, record, retain=self.options.retain_builds
            )
            pruned[:] = dropped  # only the attempt that is written counts
            return updated

        self.store.update_app_index(record.bundle_id, add_build)
        refresh_apps_index(self.store, record.bundle_id)
        return pruned

    def _finish_upload(self, key: str, etag: str | None) -> None:
        if not self.options.keep_uploads:
            self.store.delete_upload(key, etag=_unquote(etag) if etag else None)


def _unquote(etag: str) -> str:
    return etag.strip('"')
