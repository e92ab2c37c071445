"""The manifest ``itms-services`` points at (Apple's ManifestURL property list).

Built as a Python structure and serialised by ``plistlib``, never by string
templates, so any title (``&``, ``<``, ``]]>``, emoji, bidi marks) stays text.
"""

from __future__ import annotations

import hashlib
import plistlib
import re
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from ipadrop.domain.model import AppFacts
from ipadrop.text import clean_text

# Apple's own examples hash the package in 10 MiB chunks.
DEFAULT_CHUNK_SIZE = 10 * 1024 * 1024

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# XML 1.0 cannot carry these; plistlib refuses them, so a stray one in an
# Info.plist title must not stop a build from publishing.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe_text(value: str) -> str:
    """``value`` without characters XML cannot hold (controls, lone surrogates)."""
    cleaned = _XML_UNSAFE.sub("", value)
    return cleaned.encode("utf-8", "replace").decode("utf-8")


def _require_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{what} must be an absolute https URL, not {url!r}")
    return url


def _require_sha256(value: str) -> str:
    if not _SHA256_HEX.fullmatch(value):
        raise ValueError(f"not a lowercase hex SHA-256: {value!r}")
    return value


def build_manifest(
    *,
    facts: AppFacts,
    ipa_url: str,
    icon_url: str | None,
    display_image_url: str | None = None,
    full_size_image_url: str | None = None,
    sha256: str | None = None,
    sha256_chunk_size: int | None = None,
    chunk_hashes: list[str] | None = None,
) -> bytes:
    """The manifest as XML plist bytes.

    Integrity is optional: ``chunk_hashes`` (one SHA-256 per ``sha256_chunk_size``
    bytes of the package) wins; else ``sha256`` of the whole package is written
    as a single chunk as large as the package. URLs are used exactly as given.
    """
    package: dict[str, Any] = {
        "kind": "software-package",
        "url": _require_url(ipa_url, "the package URL"),
    }
    if chunk_hashes is not None:
        if not chunk_hashes or not sha256_chunk_size or sha256_chunk_size <= 0:
            raise ValueError("chunk_hashes needs a positive sha256_chunk_size and one hash")
        package["sha256-size"] = sha256_chunk_size
        package["sha256s"] = [_require_sha256(h) for h in chunk_hashes]
    elif sha256 is not None:
        package["sha256-size"] = sha256_chunk_size or max(facts.size_bytes, 1)
        package["sha256s"] = [_require_sha256(sha256)]

    assets: list[dict[str, Any]] = [package]
    if icon_url is not None:
        # The sized icons when the build has them (57 and 512 px), else icon.png for both.
        display = _require_url(display_image_url or icon_url, "the icon URL")
        full_size = _require_url(full_size_image_url or icon_url, "the icon URL")
        assets.append({"kind": "display-image", "url": display})
        assets.append({"kind": "full-size-image", "url": full_size})

    metadata: dict[str, Any] = {
        "bundle-identifier": xml_safe_text(facts.bundle_id),
        "kind": "software",
        "title": xml_safe_text(clean_text(facts.title) or "") or facts.bundle_id,
    }
    version = facts.version or facts.build
    if version:
        metadata["bundle-version"] = xml_safe_text(version)
    team = clean_text(facts.profile.team_name) if facts.profile is not None else None
    if team:
        metadata["subtitle"] = xml_safe_text(team)

    document = {"items": [{"assets": assets, "metadata": metadata}]}
    return plistlib.dumps(document, fmt=plistlib.FMT_XML, sort_keys=False)


def hash_chunks(stream: BinaryIO, chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[str, list[str]]:
    """(whole SHA-256, one SHA-256 per ``chunk_size`` bytes) of a binary stream, read once."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    whole = hashlib.sha256()
    hashes: list[str] = []
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            break
        whole.update(chunk)
        hashes.append(hashlib.sha256(chunk).hexdigest())
    if not hashes:
        hashes.append(hashlib.sha256(b"").hexdigest())
    return whole.hexdigest(), hashes
