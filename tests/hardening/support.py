"""Shared pieces of the attack corpora: hostile strings, IPAs that carry them,
an HTML structure probe, and the bucket invariants every fault test checks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from ipadrop.domain import bucket_keys, indexes
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from ipadrop_tools.devkit.sample_profile import sample_profile
from tests.integration.processor_support import list_keys, read_json

# Each one aims at a different sink: HTML text and attributes, the inline JSON
# data block, XML plists, JSON documents, URLs and template engines.
HOSTILE = (
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "'><svg/onload=window.__pwned=1>",
    "</script><script>window.__pwned=1</script>",
    "<!--<script>",
    "]]></string><key>url</key><string>https://evil.example/x.ipa</string>",
    "</dict></plist><plist><dict>",
    '{"__proto__":{"admin":true}}","x":"',
    "{{7*7}}${7*7}<%= 7*7 %>{% raw %}",
    "javascript:window.__pwned=1//",
    "itms-services://?action=download-manifest&url=https://evil.example/m.plist",
    "&amp;&lt;&#x3C;script&#x3E;&quot;",
    "a&b=c#frag?q=1%2F..%2F%00",
    "../../builds/com.evil/index.json",
    "\u202egnp.exe\u202c Mallory \u200b\ufeff",
    "Ünïcødé 😀 漢字 العربية",
)
# What must never appear in an attribute that navigates or loads (href, src, action).
URL_MARKERS = ("pwned", "evil.example", "javascript:", "onerror", "onload", "..%2F")


def hostile_ipa(
    *,
    title: str,
    version: str,
    build: str,
    minimum_os: str = "15.0",
    profile_name: str = "Sample profile",
    team_name: str = "Example Corp",
    team_id: str = "ABCDE12345",
    bundle_id: str = "com.example.hostile",
    profile_kind: str = "ad-hoc",
) -> bytes:
    """An IPA whose every free-text field is chosen by the attacker."""
    app_dir = "Payload/Hostile.app"
    profile = sample_profile(
        profile_kind,  # type: ignore[arg-type]
        name=profile_name,
        team_name=team_name,
        team_id=team_id,
        bundle_id=bundle_id,
    )
    return build_ipa_bytes(
        bundle_id=bundle_id,
        title=title,
        version=version,
        build=build,
        minimum_os_version=minimum_os,
        app_dir_name="Hostile.app",
        profile=None,
        extra_entries={f"{app_dir}/embedded.mobileprovision": profile},
    )


class PageShape(HTMLParser):
    """Tags, attribute names and script blocks of a page, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.texts: list[str] = []
        self._script: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
        if tag == "script":
            self._script = {name: value or "" for name, value in attrs}

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None
        else:
            self.texts.append(data)

    @classmethod
    def of(cls, page: str) -> PageShape:
        shape = cls()
        shape.feed(page)
        shape.close()
        return shape

    def structure(self) -> list[str]:
        """Tags and attribute names (values vary per build; their number must not)."""
        return self.tags + [f"{tag}@{name}" for tag, name, _ in self.attributes]

    def url_attributes(self) -> list[str]:
        return [value for _, name, value in self.attributes if name in ("href", "src", "action")]


def assert_inert_page(page: str, reference: str, *, must_show: Mapping[str, str]) -> None:
    """``page`` has exactly the markup of ``reference`` (a page for a harmless IPA
    with the same shape), shows each ``must_show`` string as plain text, and keeps
    every attacker string out of URLs and out of script code."""
    shape, expected = PageShape.of(page), PageShape.of(reference)
    assert shape.structure() == expected.structure(), "hostile text changed the page's markup"
    assert [attrs for attrs, _ in shape.scripts] == [attrs for attrs, _ in expected.scripts]
    text = "".join(shape.texts)
    for what, value in must_show.items():
        assert value in text, f"{what} is not shown as text: {value!r}"
    for url in shape.url_attributes():
        for marker in URL_MARKERS:
            assert marker not in url, f"{marker!r} reached a URL attribute: {url[:120]}"
    for attrs, code in shape.scripts:
        if attrs.get("type") == "application/json":
            json.loads(code)  # data only; must still be one JSON document
            assert not re.search(r"</script|<!--", code, re.I)
        else:
            assert "pwned" not in code


def assert_keys_confined(client: Any, bucket: str, allowed_bundles: set[str]) -> list[str]:
    """Every key is an upload, a result record, the apps index, or a file of a
    valid build of an allowed app; no key has an empty or dot segment."""
    keys = list_keys(client, bucket)
    for key in keys:
        if key.startswith(bucket_keys.UPLOADS_PREFIX):
            continue
        if key.startswith(bucket_keys.RESULTS_PREFIX):
            assert key.endswith(".json"), key
            assert key[len(bucket_keys.RESULTS_PREFIX) :].startswith(bucket_keys.UPLOADS_PREFIX), (
                key
            )
            continue
        if key == bucket_keys.APPS_INDEX_KEY:
            continue
        parts = key.split("/")
        assert parts[0] == "builds", f"written outside builds/: {key!r}"
        assert all(part not in ("", ".", "..") for part in parts), key
        bundle_id = parts[1]
        assert bucket_keys.is_valid_bundle_id(bundle_id), key
        assert bundle_id in allowed_bundles, f"unexpected app folder: {key!r}"
        if len(parts) == 3:
            assert parts[2] == "index.json", key
        else:
            assert len(parts) == 4, key
            assert bucket_keys.is_valid_build_id(parts[2]), key
            assert key == bucket_keys.build_file_key(bundle_id, parts[2], parts[3]), key
    return keys


def assert_indexes_consistent(client: Any, bucket: str) -> dict[str, list[str]]:
    """Listed builds are complete; complete builds are listed (build.json absent
    means not in any index); the apps index agrees with every app index.
    Returns build ids per app."""
    keys = set(list_keys(client, bucket, bucket_keys.BUILDS_PREFIX))
    apps = read_json(client, bucket, bucket_keys.APPS_INDEX_KEY)["apps"] if keys else []
    listed: dict[str, list[str]] = {}
    app_indexes = sorted(k for k in keys if k.count("/") == 2 and k.endswith("/index.json"))
    for index_key in app_indexes:
        index = read_json(client, bucket, index_key)
        bundle_id = index["bundle_id"]
        ids = [entry["build_id"] for entry in index["builds"]]
        newest_first = sorted(index["builds"], key=indexes.order_key, reverse=True)
        assert ids == [e["build_id"] for e in newest_first], "app index not newest first"
        assert len(set(ids)) == len(ids), "a build is listed twice"
        for build_id in ids:
            for name in (
                bucket_keys.BUILD_JSON_NAME,
                bucket_keys.IPA_NAME,
                bucket_keys.MANIFEST_NAME,
            ):
                assert bucket_keys.build_file_key(bundle_id, build_id, name) in keys, (
                    f"{bundle_id}/{build_id} is listed but has no {name}"
                )
        listed[bundle_id] = ids
        (row,) = [app for app in apps if app["bundle_id"] == bundle_id]
        assert row["build_count"] == len(ids)
        live = [entry["build_id"] for entry in index["builds"] if entry.get("revoked_at") is None]
        assert row["latest_build_id"] == (live[0] if live else None)
    for key in keys:
        parts = key.split("/")
        if len(parts) == 4 and parts[3] == bucket_keys.BUILD_JSON_NAME:
            assert parts[2] in listed.get(parts[1], []), f"{key} exists but is not listed"
    assert {app["bundle_id"] for app in apps} == set(listed)
    return listed
