"""Event shapes for the default EventBridge bus (pure), source ``ipadrop``.

detail-types: ``Build Published``, ``Upload Rejected``, ``Build Revoked``,
``Invite Revoked`` (and ``Device Enrolled`` from the devices room). The adapter
is ``ipadrop.adapters.eventbus``; see docs/ARCHITECTURE.md, "Distribution".
Details carry ids and short texts only: never a token or a secret.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ipadrop.domain.model import BuildRecord
from ipadrop.domain.ports import EventPublisher

logger = logging.getLogger("ipadrop.events")

BUILD_PUBLISHED = "Build Published"
UPLOAD_REJECTED = "Upload Rejected"
BUILD_REVOKED = "Build Revoked"
INVITE_REVOKED = "Invite Revoked"
DETAIL_TYPES = (BUILD_PUBLISHED, UPLOAD_REJECTED, BUILD_REVOKED, INVITE_REVOKED)


@dataclass(frozen=True, slots=True)
class Event:
    detail_type: str
    detail: dict[str, Any]


def build_published(
    record: BuildRecord, *, invited: int = 0, warnings: list[dict[str, str]] | None = None
) -> Event:
    facts = record.facts
    return Event(
        BUILD_PUBLISHED,
        {
            "bundle_id": record.bundle_id,
            "build_id": record.build_id,
            "title": facts.title,
            "version": facts.version,
            "build": facts.build,
            "channel": record.channel,
            "notes": record.notes,
            "notify": list(record.notify),
            "invited": invited,
            "upload_key": record.upload_key,
            "published_at": record.published_at,
            "warnings": list(warnings or []),
        },
    )


def upload_rejected(upload_key: str, reason: str, message: str) -> Event:
    return Event(UPLOAD_REJECTED, {"upload_key": upload_key, "reason": reason, "message": message})


def build_revoked(bundle_id: str, build_id: str, revoked_at: str | None) -> Event:
    return Event(
        BUILD_REVOKED, {"bundle_id": bundle_id, "build_id": build_id, "revoked_at": revoked_at}
    )


def invite_revoked(invite: dict[str, Any]) -> Event:
    return Event(
        INVITE_REVOKED,
        {
            "invite_id": invite.get("invite_id"),
            "email": invite.get("email"),
            "bundle_id": invite.get("bundle_id"),
            "build": invite.get("build"),
            "revoked_at": invite.get("revoked_at"),
        },
    )


def emit(publisher: EventPublisher | None, event: Event) -> None:
    """Put ``event`` on the bus, best effort: an outage of the bus must never
    fail a publish or a request (it is logged for operators)."""
    if publisher is None:
        return
    try:
        publisher.put(event.detail_type, event.detail)
    except Exception as error:
        logger.warning("putting an event failed", exc_info=error)
