"""The ports: what the core needs from storage, as protocols, and their errors.

The S3 adapter (``ipadrop.adapters.s3store``) implements them; tests use an
in-memory store (``tests/memory_store.py``). See docs/ARCHITECTURE.md.

Index documents (JSON, written with conditional writes; typed below as
``AppIndex``/``BuildRow`` and ``AppsIndex``/``AppRow``, built by
``ipadrop.domain.indexes``):

``builds/<bundle_id>/index.json``::

    {"schema": 1, "bundle_id": "...", "title": "...",
     "builds": [  # newest first (build ids sort by upload time)
        {"build_id", "version", "build", "title", "uploaded_at", "published_at",
         "size_bytes", "distribution", "revoked_at", "channel", "notes"}]}

``builds/index.json``::

    {"schema": 1, "apps": [
        {"bundle_id", "title", "latest_build_id", "latest_version", "latest_build",
         "updated_at", "build_count"}]}   # sorted by updated_at, newest first

``latest`` of an app is its newest build whose ``revoked_at`` is null; ``latest``
of a channel is the newest such build of that channel (a row without ``channel``
is in ``default``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NotRequired, Protocol, TypedDict, TypeVar

from ipadrop.domain.model import BuildRecord, DeviceRecord

JsonDoc = dict[str, Any]


class BuildRow(TypedDict):
    """One build in ``builds/<bundle_id>/index.json``."""

    build_id: str
    version: str | None
    build: str | None
    title: str | None
    uploaded_at: str
    published_at: str
    size_bytes: int
    distribution: str | None
    revoked_at: str | None
    # The upload's own order (``build_ids.upload_order``); absent on builds
    # recorded before it existed (``build_ids.legacy_upload_order`` stands in).
    upload_order: NotRequired[str]
    # Distribution (absent from rows written before it): channel "default" then.
    channel: NotRequired[str]
    notes: NotRequired[str | None]


class AppIndex(TypedDict):
    """``builds/<bundle_id>/index.json``."""

    schema: int
    bundle_id: str
    title: str
    builds: list[BuildRow]  # newest first


class AppRow(TypedDict):
    """One app in ``builds/index.json``."""

    bundle_id: str
    title: str
    latest_build_id: str | None
    latest_version: str | None
    latest_build: str | None
    updated_at: str | None
    build_count: int


class AppsIndex(TypedDict):
    """``builds/index.json``."""

    schema: int
    apps: list[AppRow]  # newest first


IndexDoc = TypeVar("IndexDoc", AppIndex, AppsIndex)
# Called inside the store's conditional-write loop: current document (None if
# absent) -> new document (None or an equal document: nothing to write).
IndexMutation = Callable[[IndexDoc | None], IndexDoc | None]


class UploadChanged(Exception):
    """The upload was replaced or deleted after its event was sent.

    The replacement has an event of its own, so this one has nothing to do.
    """


class UploadMissing(UploadChanged):
    """The upload was deleted after its event was sent (nothing left to publish)."""


class IndexConflict(RuntimeError):
    """A conditional index write kept losing races; retrying the event is safe."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    size: int
    etag: str  # without quotes
    # S3 user metadata (``x-amz-meta-*``, names lower-case): the upload's notes,
    # channel and notify targets (``ipadrop.distribution.metadata``).
    metadata: dict[str, str] = field(default_factory=dict)


class BuildStore(Protocol):
    """The read side: what the link service needs."""

    def get_build(self, bundle_id: str, build_id: str) -> BuildRecord | None: ...

    def get_app_index(self, bundle_id: str) -> AppIndex | None: ...

    def get_apps_index(self) -> AppsIndex: ...

    def read_object(self, key: str) -> bytes | None: ...


class IndexStore(BuildStore, Protocol):
    """Read side plus the conditional index writes (what revoking needs)."""

    def put_build_record(self, record: BuildRecord) -> None: ...

    def delete_build_files(self, bundle_id: str, build_id: str, names: tuple[str, ...]) -> None:
        """Delete these files of one build (missing files are not an error)."""
        ...

    def update_app_index(
        self, bundle_id: str, mutate: IndexMutation[AppIndex]
    ) -> AppIndex | None: ...

    def update_apps_index(self, mutate: IndexMutation[AppsIndex]) -> AppsIndex | None: ...


class PublishStore(IndexStore, Protocol):
    """Everything the publisher writes."""

    def head_object(self, key: str) -> ObjectInfo | None: ...

    def copy_upload(
        self, upload_key: str, *, bundle_id: str, build_id: str, size: int, etag: str
    ) -> None:
        """Server-side copy to ``app.ipa``; ``UploadChanged`` if the ETag no longer matches."""
        ...

    def put_build_file(self, bundle_id: str, build_id: str, name: str, body: bytes) -> None: ...

    def create_build_record(self, record: BuildRecord) -> BuildRecord:
        """Write ``build.json`` unless it exists; return what is stored."""
        ...

    def get_result(self, upload_key: str) -> JsonDoc | None: ...

    def put_result(self, upload_key: str, result: JsonDoc) -> None: ...

    def delete_upload(self, upload_key: str, *, etag: str | None) -> None: ...

    def delete_build(self, bundle_id: str, build_id: str) -> None: ...


# --------------------------------------------------------------- distribution
# People and activity live in one DynamoDB table (``ipadrop.adapters.table``);
# mail goes through SES v2 (``ipadrop.adapters.mailer``), events to EventBridge
# (``ipadrop.adapters.eventbus``). See docs/ARCHITECTURE.md, "Distribution".


class InviteExists(Exception):
    """``PeopleStore.create_invite`` found an invite with that id already."""


class PeopleStore(Protocol):
    """Groups, invites and activity (item shapes in ``ipadrop.adapters.table``)."""

    def put_group(self, name: str, emails: list[str], *, updated_at: str) -> JsonDoc: ...

    def get_group(self, name: str) -> JsonDoc | None: ...

    def list_groups(self) -> list[JsonDoc]: ...

    def delete_group(self, name: str) -> bool:
        """True when the group existed."""
        ...

    def create_invite(self, invite: JsonDoc) -> JsonDoc:
        """Store a new invite; return the stored one (the existing one when its id
        is taken: invite ids are derived, so a retry finds its own invite)."""
        ...

    def get_invite(self, invite_id: str) -> JsonDoc | None: ...

    def update_invite(self, invite_id: str, changes: JsonDoc) -> JsonDoc | None:
        """Set these attributes of an existing invite; None when it does not exist."""
        ...

    def put_activity(self, bundle_id: str, build_id: str, event: JsonDoc) -> None: ...

    def list_activity(self, bundle_id: str, build_id: str, *, limit: int = 500) -> list[JsonDoc]:
        """Newest first."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One message, already rendered: ``raw`` is the whole MIME message (RFC 5322)."""

    to: str
    subject: str
    raw: bytes


class MailRejected(Exception):
    """The mail service refused this one message (bad address, suppressed): not retryable."""


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Send one message; return the service's message id."""
        ...


class EventPublisher(Protocol):
    def put(self, detail_type: str, detail: JsonDoc) -> None: ...


# -------------------------------------------------------------------- devices
# Enrolled devices share the people table (``ipadrop.adapters.devices_table``).
# See docs/ARCHITECTURE.md, "Devices and pre-install diagnosis".


class DeviceStore(Protocol):
    def put_device(self, device: DeviceRecord) -> None:
        """Store (or replace) the device with this UDID."""
        ...

    def get_device(self, udid: str) -> DeviceRecord | None: ...

    def list_devices(self) -> list[DeviceRecord]:
        """Every enrolled device, newest enrollment first."""
        ...

    def claim_answer(self, digest: str, *, expires_at: int) -> bool:
        """Record that a device answer with this SHA-256 was used; False when it
        already was (a replay): the caller then changes nothing."""
        ...


class DeviceRegistrar(Protocol):
    """Registers a device with Apple (App Store Connect), so the next profile lists it."""

    def register_device(self, *, udid: str, name: str) -> str:
        """Apple's id of the device; raises when Apple refuses or cannot be reached."""
        ...
