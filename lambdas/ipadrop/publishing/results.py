"""Result records: what a build system polls at ``results/<upload key>.json``.

``status`` is ``published`` (with the build) or ``rejected`` (with a ``reason``
code and a one-sentence ``message``); see docs/ARCHITECTURE.md ("Contracts").
"""

from __future__ import annotations

from datetime import datetime

from ipadrop.devices.diagnosis import diagnose_build
from ipadrop.domain.model import BuildRecord
from ipadrop.domain.ports import JsonDoc
from ipadrop.reading.errors import IpaRejected
from ipadrop.text import iso_utc, version_label

RESULT_SCHEMA = 1


def published_result(
    record: BuildRecord,
    *,
    processed_at: datetime,
    warnings: list[dict[str, str]] | None = None,
    invited: int = 0,
    notify_pending: bool = False,
) -> JsonDoc:
    """``warnings``: ``[{"code", "message"}]`` (metadata dropped, invitations not sent,
    ...); ``invited``: invitations sent for ``notify``; ``notify_pending``: sending
    failed and is retried with the event (docs/ARCHITECTURE.md, "Distribution").
    ``installable`` and the diagnosis' findings (first in ``warnings``) come from
    ``devices.diagnosis`` at ``processed_at``: a build system learns then what a
    tester would learn at the install page."""
    facts = record.facts
    label = version_label(facts.version, facts.build)
    diagnosis = diagnose_build(facts, now=processed_at).result_fields()
    return {
        "schema": RESULT_SCHEMA,
        "status": "published",
        "upload_key": record.upload_key,
        "bundle_id": record.bundle_id,
        "build_id": record.build_id,
        "version": facts.version,
        "build": facts.build,
        "title": facts.title,
        "message": f"Published {facts.title} {label} as build {record.build_id}.",
        "processed_at": iso_utc(processed_at),
        "notes": record.notes,
        "channel": record.channel,
        "notify": list(record.notify),
        "invited": invited,
        "notify_pending": notify_pending,
        "installable": diagnosis["installable"],
        "warnings": diagnosis["warnings"] + list(warnings or []),
    }


def rejected_result(key: str, rejected: IpaRejected, *, processed_at: datetime) -> JsonDoc:
    return {
        "schema": RESULT_SCHEMA,
        "status": "rejected",
        "upload_key": key,
        "bundle_id": None,
        "build_id": None,
        "version": None,
        "build": None,
        "title": None,
        "reason": rejected.code,
        "message": rejected.message,
        "processed_at": iso_utc(processed_at),
    }
