"""Revoking a build: links to it stop at once, its served files go away.

Order matters (see docs/ARCHITECTURE.md, "Revoking"): ``build.json`` is marked
revoked first (every link checks it), then the served files are deleted, then
both indexes are updated. Every step is safe to repeat.
"""

from __future__ import annotations

from dataclasses import replace

from ipadrop.domain import bucket_keys, indexes
from ipadrop.domain.model import BuildRecord
from ipadrop.domain.ports import IndexStore, JsonDoc

# The artefacts a revocation removes (build.json stays, marked revoked).
SERVED_FILES = (
    bucket_keys.IPA_NAME,
    bucket_keys.ICON_NAME,
    bucket_keys.DISPLAY_IMAGE_NAME,
    bucket_keys.FULL_SIZE_IMAGE_NAME,
    bucket_keys.MANIFEST_NAME,
    bucket_keys.PAGE_NAME,
)


def revoke_build(
    store: IndexStore, bundle_id: str, build_id: str, *, revoked_at: str
) -> BuildRecord | None:
    """Revoke one build; the updated record, or None when the build is unknown."""
    record = store.get_build(bundle_id, build_id)
    if record is None:
        return None
    if record.revoked_at is None:
        record = replace(record, revoked_at=revoked_at)
        store.put_build_record(record)
    store.delete_build_files(bundle_id, build_id, SERVED_FILES)
    stamp = record.revoked_at or revoked_at
    store.update_app_index(
        bundle_id, lambda current: indexes.mark_revoked(current, bundle_id, build_id, stamp)
    )
    refresh_apps_index(store, bundle_id)
    return record


def refresh_apps_index(store: IndexStore, bundle_id: str) -> None:
    """Bring the app's row in ``builds/index.json`` in line with its app index.

    The app index is read inside the loop, after the apps index: a writer that
    read an older app index loses its conditional write and reads again.
    """

    def apply(current: JsonDoc | None) -> JsonDoc | None:
        app_index = store.get_app_index(bundle_id)
        if app_index is None:
            return None
        return indexes.upsert_app(current, indexes.app_summary(app_index))

    store.update_apps_index(apply)
