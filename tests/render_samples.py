"""Hand-built facts and page contexts for render tests (unit and browser)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from ipadrop.domain.model import AppFacts, IconInfo, ProfileInfo
from ipadrop.render.page import InstallPageContext

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MANIFEST_URL = "https://apps.example.com/m/tok&en/manifest.plist"
PAGE_URL = "https://apps.example.com/i/tok&en"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HOSTILE_NAMES = [
    "<script>window.pwned=1</script>",
    '"><img src=x onerror="window.pwned=1">',
    "' onmouseover='window.pwned=1' x='",
    "</script><script>window.pwned=1</script>",
    "{{ 7*7 }} {% raw %}",
    'Tom & Jerry\'s "App"',
]


def profile(**changes: Any) -> ProfileInfo:
    values: dict[str, Any] = {
        "name": "Acme In-House",
        "uuid": "3e5c38a0-3031-4624-9c2d-c508df973b15",
        "team_id": "ABCDE12345",
        "team_name": "Acme Corp",
        "expires_at": "2027-06-01T00:00:00Z",
        "distribution": "enterprise",
        "device_count": 0,
    }
    values.update(changes)
    return ProfileInfo(**values)


def facts(**changes: Any) -> AppFacts:
    values: dict[str, Any] = {
        "bundle_id": "com.acme.field",
        "version": "2.4.1",
        "build": "318",
        "title": "Field Notes",
        "minimum_os_version": "15.0",
        "device_family": ["iphone", "ipad"],
        "size_bytes": 48_213_004,
        "icon": IconInfo(source="Payload/F.app/AppIcon60x60@3x.png", width=1, height=1),
        "profile": profile(),
    }
    values.update(changes)
    return AppFacts(**values)


def context(**changes: Any) -> InstallPageContext:
    values: dict[str, Any] = {
        "facts": facts(),
        "build_id": "20261124T002616Z-1a2b3c4d5e",
        "uploaded_at": "2026-11-24T00:26:16Z",
        "manifest_url": MANIFEST_URL,
        "page_url": PAGE_URL,
        "link_expires_at": "2026-11-25T12:00:00Z",
        "icon_png": PNG_1PX,
        "contact": "qa@acme.example",
        "now": NOW,
    }
    values.update(changes)
    return InstallPageContext(**values)
