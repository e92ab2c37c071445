"""Pure functions over the two index documents (shapes in ``ipadrop.domain.ports``).

Every function takes the current document (``None`` when the object does not
exist yet) and returns a new one; none mutates its input. The store applies
them inside a conditional read-modify-write loop, so each call must be a pure
function of its inputs: it may run several times when writers race.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ipadrop.domain.model import DEFAULT_CHANNEL, BuildRecord

SCHEMA = 1


def build_entry(record: BuildRecord) -> dict[str, Any]:
    """The row of ``builds/<bundle_id>/index.json`` describing one build."""
    profile = record.facts.profile
    return {
        "build_id": record.build_id,
        "version": record.facts.version,
        "build": record.facts.build,
        "title": record.facts.title,
        "uploaded_at": record.uploaded_at,
        "published_at": record.published_at,
        "size_bytes": record.facts.size_bytes,
        "distribution": profile.distribution if profile is not None else None,
        "revoked_at": record.revoked_at,
        "channel": record.channel,
        "notes": record.notes,
    }


def _builds(app_index: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [dict(entry) for entry in (app_index or {}).get("builds", [])]


def _app_index(bundle_id: str, builds: list[dict[str, Any]], title: str) -> dict[str, Any]:
    # Build ids start with the upload time, so sorting them sorts by upload time.
    ordered = sorted(builds, key=lambda entry: str(entry["build_id"]), reverse=True)
    return {"schema": SCHEMA, "bundle_id": bundle_id, "title": title, "builds": ordered}


def _title(bundle_id: str, builds: list[dict[str, Any]], fallback: str | None) -> str:
    newest = max(builds, key=lambda entry: str(entry["build_id"]), default=None)
    if newest is not None and newest.get("title"):
        return str(newest["title"])
    return fallback or bundle_id


def upsert_build(
    app_index: dict[str, Any] | None, record: BuildRecord, *, retain: int = 0
) -> tuple[dict[str, Any], list[str]]:
    """Add (or refresh) ``record`` in its app index, then apply retention.

    ``retain``: keep the newest N builds (0 keeps all). Returns the new index
    and the ids of the builds it dropped (their folders are then deleted).
    """
    previous = {e["build_id"]: e for e in _builds(app_index)}
    entry = build_entry(record)
    # A revocation that landed first wins over a re-run publish of the same build.
    revoked_before = previous.pop(record.build_id, {}).get("revoked_at")
    if entry["revoked_at"] is None and revoked_before is not None:
        entry["revoked_at"] = revoked_before
    builds = [*previous.values(), entry]
    builds.sort(key=lambda entry: str(entry["build_id"]), reverse=True)
    dropped: list[str] = []
    if retain > 0 and len(builds) > retain:
        # Never prune the build this publish is writing: a late event for an
        # older upload would otherwise report "published" for a build it just
        # deleted. It goes with the next publish, like any other old build.
        dropped = [str(e["build_id"]) for e in builds[retain:] if e["build_id"] != record.build_id]
        builds = [e for e in builds if e["build_id"] not in dropped]
    fallback = (app_index or {}).get("title")
    title = _title(record.bundle_id, builds, fallback)
    return _app_index(record.bundle_id, builds, title), dropped


def remove_builds(
    app_index: dict[str, Any] | None, bundle_id: str, build_ids: Iterable[str]
) -> dict[str, Any]:
    gone = set(build_ids)
    builds = [e for e in _builds(app_index) if e["build_id"] not in gone]
    title = _title(bundle_id, builds, (app_index or {}).get("title"))
    return _app_index(bundle_id, builds, title)


def mark_revoked(
    app_index: dict[str, Any] | None, bundle_id: str, build_id: str, revoked_at: str
) -> dict[str, Any]:
    builds = _builds(app_index)
    for entry in builds:
        if entry["build_id"] == build_id and entry.get("revoked_at") is None:
            entry["revoked_at"] = revoked_at
    title = _title(bundle_id, builds, (app_index or {}).get("title"))
    return _app_index(bundle_id, builds, title)


def entry_channel(entry: dict[str, Any]) -> str:
    """A row's channel (rows written before channels existed are in ``default``)."""
    return str(entry.get("channel") or DEFAULT_CHANNEL)


def latest_entry(
    app_index: dict[str, Any] | None, channel: str | None = None
) -> dict[str, Any] | None:
    """The newest build that is not revoked (what ``latest`` links resolve to);
    with ``channel``, the newest such build of that channel."""
    for entry in sorted(_builds(app_index), key=lambda e: str(e["build_id"]), reverse=True):
        if entry.get("revoked_at") is None and (channel is None or entry_channel(entry) == channel):
            return entry
    return None


def latest_build_id(app_index: dict[str, Any] | None, channel: str | None = None) -> str | None:
    """The id ``latest`` (of ``channel``, when given) resolves to, or None when
    every such build is revoked."""
    entry = latest_entry(app_index, channel)
    return str(entry["build_id"]) if entry is not None else None


def set_notes(
    app_index: dict[str, Any] | None, bundle_id: str, build_id: str, notes: str | None
) -> dict[str, Any]:
    """The index with one build's notes replaced (notes edited after publish)."""
    builds = _builds(app_index)
    for entry in builds:
        if entry["build_id"] == build_id:
            entry["notes"] = notes
    title = _title(bundle_id, builds, (app_index or {}).get("title"))
    return _app_index(bundle_id, builds, title)


def app_summary(app_index: dict[str, Any]) -> dict[str, Any]:
    """The row of ``builds/index.json`` for one app, derived from its index."""
    builds = _builds(app_index)
    latest = latest_entry(app_index)
    newest = max(builds, key=lambda entry: str(entry["build_id"]), default=None)
    return {
        "bundle_id": app_index["bundle_id"],
        "title": app_index.get("title") or app_index["bundle_id"],
        "latest_build_id": latest["build_id"] if latest else None,
        "latest_version": latest["version"] if latest else None,
        "latest_build": latest["build"] if latest else None,
        # The newest upload's time, not the processing time: re-running a
        # publish must not change the document.
        "updated_at": newest["uploaded_at"] if newest else None,
        "build_count": len(builds),
    }


def upsert_app(apps_index: dict[str, Any] | None, summary: dict[str, Any]) -> dict[str, Any]:
    apps = [
        dict(app)
        for app in (apps_index or {}).get("apps", [])
        if app["bundle_id"] != summary["bundle_id"]
    ]
    apps.append(dict(summary))
    apps.sort(key=lambda app: (str(app.get("updated_at") or ""), str(app["bundle_id"])))
    apps.reverse()
    return {"schema": SCHEMA, "apps": apps}


def empty_apps_index() -> dict[str, Any]:
    return {"schema": SCHEMA, "apps": []}
