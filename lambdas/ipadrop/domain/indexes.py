"""Pure functions over the two index documents (types in ``ipadrop.domain.ports``).

Every function takes the current document (``None`` when the object does not
exist yet) and returns a new one; none mutates its input. The store applies
them inside a conditional read-modify-write loop, so each call must be a pure
function of its inputs: it may run several times when writers race.
"""

from __future__ import annotations

from collections.abc import Iterable

from ipadrop.domain.build_ids import legacy_upload_order
from ipadrop.domain.model import DEFAULT_CHANNEL, BuildRecord
from ipadrop.domain.ports import AppIndex, AppRow, AppsIndex, BuildRow

SCHEMA = 1


def build_entry(record: BuildRecord) -> BuildRow:
    """The row of ``builds/<bundle_id>/index.json`` describing one build."""
    profile = record.facts.profile
    row: BuildRow = {
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
    if record.upload_order is not None:
        row["upload_order"] = record.upload_order
    return row


def order_key(entry: BuildRow) -> tuple[str, str]:
    """Newest-last sort key of an index row: the upload's own order (S3 event time
    to the sub-second, then its sequencer), the build id only as a last tie-break.
    The one ordering every ``latest`` and every listing uses."""
    build_id = str(entry["build_id"])
    order = entry.get("upload_order") or legacy_upload_order(build_id)
    return str(order), build_id


def _builds(app_index: AppIndex | None) -> list[BuildRow]:
    return [BuildRow(**entry) for entry in app_index.get("builds", [])] if app_index else []


def _stored_title(app_index: AppIndex | None) -> str | None:
    return app_index.get("title") if app_index else None


def _app_index(bundle_id: str, builds: list[BuildRow], title: str) -> AppIndex:
    ordered = sorted(builds, key=order_key, reverse=True)
    return {"schema": SCHEMA, "bundle_id": bundle_id, "title": title, "builds": ordered}


def _title(bundle_id: str, builds: list[BuildRow], fallback: str | None) -> str:
    newest = max(builds, key=order_key, default=None)
    if newest is not None and newest.get("title"):
        return str(newest["title"])
    return fallback or bundle_id


def upsert_build(
    app_index: AppIndex | None, record: BuildRecord, *, retain: int = 0
) -> tuple[AppIndex, list[str]]:
    """Add (or refresh) ``record`` in its app index, then apply retention.

    ``retain``: keep the newest N builds (0 keeps all). Returns the new index
    and the ids of the builds it dropped (their folders are then deleted).
    """
    previous = {e["build_id"]: e for e in _builds(app_index)}
    entry = build_entry(record)
    # A revocation that landed first wins over a re-run publish of the same build.
    replaced = previous.pop(record.build_id, None)
    revoked_before = replaced.get("revoked_at") if replaced is not None else None
    if entry["revoked_at"] is None and revoked_before is not None:
        entry["revoked_at"] = revoked_before
    builds = [*previous.values(), entry]
    builds.sort(key=order_key, reverse=True)
    dropped: list[str] = []
    if retain > 0 and len(builds) > retain:
        # Never prune the build this publish is writing: a late event for an
        # older upload would otherwise report "published" for a build it just
        # deleted. It goes with the next publish, like any other old build.
        dropped = [str(e["build_id"]) for e in builds[retain:] if e["build_id"] != record.build_id]
        builds = [e for e in builds if e["build_id"] not in dropped]
    title = _title(record.bundle_id, builds, _stored_title(app_index))
    return _app_index(record.bundle_id, builds, title), dropped


def remove_builds(app_index: AppIndex | None, bundle_id: str, build_ids: Iterable[str]) -> AppIndex:
    gone = set(build_ids)
    builds = [e for e in _builds(app_index) if e["build_id"] not in gone]
    title = _title(bundle_id, builds, _stored_title(app_index))
    return _app_index(bundle_id, builds, title)


def mark_revoked(
    app_index: AppIndex | None, bundle_id: str, build_id: str, revoked_at: str
) -> AppIndex:
    builds = _builds(app_index)
    for entry in builds:
        if entry["build_id"] == build_id and entry.get("revoked_at") is None:
            entry["revoked_at"] = revoked_at
    title = _title(bundle_id, builds, _stored_title(app_index))
    return _app_index(bundle_id, builds, title)


def entry_channel(entry: BuildRow) -> str:
    """A row's channel (rows written before channels existed are in ``default``)."""
    return str(entry.get("channel") or DEFAULT_CHANNEL)


def latest_entry(app_index: AppIndex | None, channel: str | None = None) -> BuildRow | None:
    """The newest build that is not revoked (what ``latest`` links resolve to);
    with ``channel``, the newest such build of that channel."""
    for entry in sorted(_builds(app_index), key=order_key, reverse=True):
        if entry.get("revoked_at") is None and (channel is None or entry_channel(entry) == channel):
            return entry
    return None


def latest_build_id(app_index: AppIndex | None, channel: str | None = None) -> str | None:
    """The id ``latest`` (of ``channel``, when given) resolves to, or None when
    every such build is revoked."""
    entry = latest_entry(app_index, channel)
    return str(entry["build_id"]) if entry is not None else None


def set_notes(
    app_index: AppIndex | None, bundle_id: str, build_id: str, notes: str | None
) -> AppIndex:
    """The index with one build's notes replaced (notes edited after publish)."""
    builds = _builds(app_index)
    for entry in builds:
        if entry["build_id"] == build_id:
            entry["notes"] = notes
    title = _title(bundle_id, builds, _stored_title(app_index))
    return _app_index(bundle_id, builds, title)


def app_summary(app_index: AppIndex) -> AppRow:
    """The row of ``builds/index.json`` for one app, derived from its index."""
    builds = _builds(app_index)
    latest = latest_entry(app_index)
    newest = max(builds, key=order_key, default=None)
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


def upsert_app(apps_index: AppsIndex | None, summary: AppRow) -> AppsIndex:
    apps = [
        AppRow(**app)
        for app in (apps_index.get("apps", []) if apps_index else [])
        if app["bundle_id"] != summary["bundle_id"]
    ]
    apps.append(AppRow(**summary))
    apps.sort(key=lambda app: (str(app.get("updated_at") or ""), str(app["bundle_id"])))
    apps.reverse()
    return {"schema": SCHEMA, "apps": apps}


def empty_apps_index() -> AppsIndex:
    return {"schema": SCHEMA, "apps": []}
