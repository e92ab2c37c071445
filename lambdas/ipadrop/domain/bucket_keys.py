"""Bucket layout (docs/ARCHITECTURE.md, "Bucket layout") and the shapes of ids that become keys.

Every key the system writes is built here, from validated ids only, so no
user-controlled string can steer a write outside ``builds/<bundle_id>/``.
"""

from __future__ import annotations

import hashlib
import re

UPLOADS_PREFIX = "uploads/"
BUILDS_PREFIX = "builds/"
RESULTS_PREFIX = "results/"
APPS_INDEX_KEY = "builds/index.json"

IPA_NAME = "app.ipa"
ICON_NAME = "icon.png"  # the install page's and e-mails' icon
DISPLAY_IMAGE_NAME = "icon-57.png"  # the manifest's display-image
FULL_SIZE_IMAGE_NAME = "icon-512.png"  # the manifest's full-size-image
# Pixels (a side) of each icon file; smaller sources are kept as they are.
# The page draws its icon at 120 CSS px (render/templates/page.css): 360 on a 3x screen.
ICON_PIXELS = {ICON_NAME: 360, DISPLAY_IMAGE_NAME: 57, FULL_SIZE_IMAGE_NAME: 512}
MANIFEST_NAME = "manifest.plist"
PAGE_NAME = "index.html"
BUILD_JSON_NAME = "build.json"

# Apple: letters, digits, hyphen and period. We also refuse empty labels
# ("..", leading/trailing dots) because the id becomes a path segment.
_BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$")
# Build ids we mint: "20261124T002616Z-1a2b3c4d5e" (UTC time, then a hash).
_BUILD_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-z]{10}$")
MAX_BUNDLE_ID_LENGTH = 155


def is_valid_bundle_id(value: str) -> bool:
    return len(value) <= MAX_BUNDLE_ID_LENGTH and bool(_BUNDLE_ID.fullmatch(value))


def is_valid_build_id(value: str) -> bool:
    return bool(_BUILD_ID.fullmatch(value))


def _require_ids(bundle_id: str, build_id: str | None = None) -> None:
    if not is_valid_bundle_id(bundle_id):
        raise ValueError(f"invalid bundle id: {bundle_id!r}")
    if build_id is not None and not is_valid_build_id(build_id):
        raise ValueError(f"invalid build id: {build_id!r}")


def app_prefix(bundle_id: str) -> str:
    _require_ids(bundle_id)
    return f"{BUILDS_PREFIX}{bundle_id}/"


def app_index_key(bundle_id: str) -> str:
    return app_prefix(bundle_id) + "index.json"


def build_prefix(bundle_id: str, build_id: str) -> str:
    _require_ids(bundle_id, build_id)
    return f"{BUILDS_PREFIX}{bundle_id}/{build_id}/"


def build_file_key(bundle_id: str, build_id: str, name: str) -> str:
    if name not in (IPA_NAME, MANIFEST_NAME, PAGE_NAME, BUILD_JSON_NAME, *ICON_PIXELS):
        raise ValueError(f"not a build file: {name!r}")
    return build_prefix(bundle_id, build_id) + name


MAX_S3_KEY_BYTES = 1024


def result_key(upload_key: str) -> str:
    """``results/<upload key>.json`` (the upload key keeps its own ``uploads/`` prefix).

    S3 keys stop at 1024 bytes; an upload key within 13 bytes of that limit
    would give a result key S3 refuses, so such a key is shortened (on a
    character boundary) and made unique again with a hash of the whole key:
    ``results/<start of key>~<16 hex>.json``.
    """
    if not upload_key.startswith(UPLOADS_PREFIX):
        raise ValueError(f"not an upload key: {upload_key!r}")
    key = f"{RESULTS_PREFIX}{upload_key}.json"
    if len(key.encode()) <= MAX_S3_KEY_BYTES:
        return key
    digest = hashlib.sha256(upload_key.encode()).hexdigest()[:16]
    suffix = f"~{digest}.json"
    budget = MAX_S3_KEY_BYTES - len(RESULTS_PREFIX) - len(suffix)
    head = upload_key.encode()[:budget].decode(errors="ignore")
    return f"{RESULTS_PREFIX}{head}{suffix}"
