"""What the handlers need from the build store, as a protocol (the S3 adapter
in ``adapters/s3store.py`` implements it; tests may use an in-memory fake).

Index documents (JSON, written with conditional writes):

``builds/<bundle_id>/index.json``::

    {"schema": 1, "bundle_id": "...", "title": "...",
     "builds": [  # newest first (build ids sort by upload time)
        {"build_id", "version", "build", "title", "uploaded_at", "published_at",
         "size_bytes", "distribution", "revoked_at"}]}

``builds/index.json``::

    {"schema": 1, "apps": [
        {"bundle_id", "title", "latest_build_id", "latest_version", "latest_build",
         "updated_at", "build_count"}]}   # sorted by updated_at, newest first

``latest`` of an app is its newest build whose ``revoked_at`` is null.
"""

from __future__ import annotations

from typing import Any, Protocol

from ipadrop.domain.model import BuildRecord


class BuildStore(Protocol):
    def get_build(self, bundle_id: str, build_id: str) -> BuildRecord | None: ...

    def get_app_index(self, bundle_id: str) -> dict[str, Any] | None: ...

    def get_apps_index(self) -> dict[str, Any]: ...

    def latest_build_id(self, bundle_id: str) -> str | None: ...

    def read_object(self, key: str) -> bytes | None: ...

    def revoke_build(self, bundle_id: str, build_id: str, *, revoked_at: str) -> BuildRecord | None:
        """Mark build.json revoked, delete app.ipa/icon.png/manifest.plist/index.html,
        update both indexes. Returns the updated record, None if unknown."""
        ...
