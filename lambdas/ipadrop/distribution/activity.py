"""Activity events (pure): who opened a page, started an install, finished a download.

Stored in the people table (``ipadrop.adapters.table``) under the build, newest
first when listed; see docs/ARCHITECTURE.md, "Distribution".
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Literal

from ipadrop.text import iso_utc

ActivityType = Literal[
    "page_opened",
    "install_started",
    "download_finished",
    "device_enrolled",
    "device_not_in_profile",
]
PAGE_OPENED: ActivityType = "page_opened"
INSTALL_STARTED: ActivityType = "install_started"
DOWNLOAD_FINISHED: ActivityType = "download_finished"
_STAGE = {
    "page_opened": 1,
    "device_enrolled": 2,
    "device_not_in_profile": 2,
    "install_started": 3,
    "download_finished": 4,
}
# Activity is kept this long (the table's TTL attribute removes it after).
ACTIVITY_RETENTION_SECONDS = 180 * 86400


def new_event(
    kind: ActivityType,
    *,
    at: int,
    invite_id: str | None = None,
    email: str | None = None,
    detail: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """One activity item. ``event_id`` defaults to a random one; pass a derived id
    (:func:`derived_event_id`) where the same fact may be reported twice."""
    return {
        "event_id": event_id or secrets.token_hex(6),
        "type": kind,
        "at": iso_utc(at),
        "invite_id": invite_id,
        "email": email,
        "detail": dict(detail or {}),
        "ttl": at + ACTIVITY_RETENTION_SECONDS,
    }


def derived_event_id(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:12]


def activity_view(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API's view: newest first, internal attributes dropped."""
    rows = [
        {
            "type": item.get("type"),
            "at": item.get("at"),
            "invite_id": item.get("invite_id"),
            "email": item.get("email"),
            "detail": item.get("detail") or {},
        }
        for item in items
    ]
    # Times are to the second; within one second a later stage is the newer event.
    rows.sort(key=lambda row: (str(row["at"] or ""), _STAGE.get(str(row["type"]), 0)), reverse=True)
    return rows


def summary(items: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Who opened, who started, who finished (addresses, or invite ids when unknown)."""
    seen: dict[str, list[str]] = {PAGE_OPENED: [], INSTALL_STARTED: [], DOWNLOAD_FINISHED: []}
    for item in items:
        bucket = seen.get(str(item.get("type")))
        who = item.get("email") or item.get("invite_id")
        if bucket is not None and who and who not in bucket:
            bucket.append(str(who))
    return seen
