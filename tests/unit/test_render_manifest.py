"""Manifests against Apple's ManifestURL schema, and through plistlib with hostile text."""

from __future__ import annotations

import hashlib
import io
import plistlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ipadrop.domain.model import AppFacts, IconInfo, ProfileInfo
from ipadrop.render.manifest import build_manifest, hash_chunks, xml_safe_text
from ipadrop.text import clean_text

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "manifesturl.yaml"
# ../shared/spec/README.md: the schema's asset kinds omit the one every real
# manifest uses for the .ipa itself.
EXTRA_RANGE = {"assets-item.kind": ["software-package"]}
TYPES: dict[str, tuple[type, ...]] = {
    "<string>": (str,),
    "<integer>": (int,),
    "<boolean>": (bool,),
    "<array>": (list,),
    "<dictionary>": (dict,),
}
HOSTILE = [
    "Tom & Jerry",
    "<script>alert(1)</script>",
    "]]><![CDATA[x",
    "\"double\" and 'single' quotes",
    "emoji 📱🚀 and ZWJ 👩‍💻",
    "\u202eRTL override\u202c and \u200fmark\u200e",
    "עברית العربية",
    "</string></dict><key>evil</key>",
]


def _load_schema() -> list[dict[str, Any]]:
    if not SPEC.is_file():
        pytest.skip(f"schema not found at {SPEC} (../shared is absent)")
    keys: list[dict[str, Any]] = yaml.safe_load(SPEC.read_text())["payloadkeys"]
    return keys


def _removed(spec: dict[str, Any]) -> bool:
    ios = (spec.get("supportedOS") or {}).get("iOS") or {}
    return "removed" in ios


def validate(value: Any, keys: list[dict[str, Any]], path: str = "") -> list[str]:
    """Problems of ``value`` (a dict) against a list of schema keys, as readable strings."""
    problems: list[str] = []
    known = {k["key"]: k for k in keys}
    for name in value:
        if name not in known:
            problems.append(f"{path}{name}: not in the schema")
        elif _removed(known[name]):
            problems.append(f"{path}{name}: removed from iOS")
    for spec in keys:
        name = spec["key"]
        if name not in value:
            if spec.get("presence") == "required":
                problems.append(f"{path}{name}: required")
            continue
        problems += _validate_value(value[name], spec, f"{path}{name}")
    return problems


def _validate_value(item: Any, spec: dict[str, Any], where: str) -> list[str]:
    expected = TYPES[spec["type"]]
    if not isinstance(item, expected) or (expected == (int,) and isinstance(item, bool)):
        return [f"{where}: expected {spec['type']}, got {type(item).__name__}"]
    problems: list[str] = []
    allowed = spec.get("rangelist")
    if allowed is not None:
        allowed = allowed + EXTRA_RANGE.get(f"{spec.get('_parent', '')}.{spec['key']}", [])
        if item not in allowed:
            problems.append(f"{where}: {item!r} not one of {allowed}")
    if spec["key"] == "url" and urlsplit(item).scheme != "https":
        problems.append(f"{where}: not an https URL")
    if spec["key"] in ("title", "bundle-identifier") and not item.strip():
        problems.append(f"{where}: empty")
    subkeys = spec.get("subkeys") or []
    if spec["type"] == "<array>" and subkeys:
        element = subkeys[0]
        for index, entry in enumerate(item):
            problems += _validate_value(entry, element, f"{where}[{index}]")
    elif spec["type"] == "<dictionary>":
        for sub in subkeys:
            sub["_parent"] = spec["key"]
        problems += validate(item, subkeys, f"{where}.")
    return problems


def schema_problems(manifest: bytes) -> list[str]:
    return validate(plistlib.loads(manifest), _load_schema())


def _facts(**changes: Any) -> AppFacts:
    profile = ProfileInfo(
        name="Acme In-House",
        uuid="3e5c38a0-3031-4624-9c2d-c508df973b15",
        team_id="ABCDE12345",
        team_name=changes.pop("team_name", "Acme Corp"),
        expires_at="2030-01-01T00:00:00Z",
        distribution="enterprise",
        device_count=0,
    )
    values: dict[str, Any] = {
        "bundle_id": "com.acme.field",
        "version": "2.4.1",
        "build": "318",
        "title": "Field Notes",
        "minimum_os_version": "15.0",
        "device_family": ["iphone", "ipad"],
        "size_bytes": 48_213_004,
        "icon": IconInfo(source="Payload/F.app/AppIcon60x60@3x.png", width=180, height=180),
        "profile": profile,
    }
    values.update(changes)
    return AppFacts(**values)


IPA = "https://apps.example.com/builds/com.acme.field/20261124T002616Z-1a2b3c4d5e/app.ipa?Expires=1&Signature=x~y&Key-Pair-Id=K2"
ICON = "https://apps.example.com/builds/com.acme.field/20261124T002616Z-1a2b3c4d5e/icon.png?Expires=1&Signature=z&Key-Pair-Id=K2"


def test_full_manifest_matches_the_schema_and_the_facts() -> None:
    manifest = build_manifest(facts=_facts(), ipa_url=IPA, icon_url=ICON)
    assert schema_problems(manifest) == []
    item = plistlib.loads(manifest)["items"][0]
    assert [a["kind"] for a in item["assets"]] == [
        "software-package",
        "display-image",
        "full-size-image",
    ]
    assert item["assets"][0]["url"] == IPA  # exactly as given, & kept
    assert item["assets"][1]["url"] == ICON
    assert item["metadata"] == {
        "bundle-identifier": "com.acme.field",
        "bundle-version": "2.4.1",
        "kind": "software",
        "title": "Field Notes",
        "subtitle": "Acme Corp",
    }
    assert b"&amp;Signature=" in manifest  # XML-escaped on the wire


def test_minimal_manifest_without_icon_profile_or_version() -> None:
    facts = _facts(icon=None, profile=None, version=None, build=None)
    manifest = build_manifest(facts=facts, ipa_url=IPA, icon_url=None)
    assert schema_problems(manifest) == []
    item = plistlib.loads(manifest)["items"][0]
    assert [a["kind"] for a in item["assets"]] == ["software-package"]
    assert set(item["metadata"]) == {"bundle-identifier", "kind", "title"}


def test_bundle_version_falls_back_to_the_build_number() -> None:
    manifest = build_manifest(facts=_facts(version=None), ipa_url=IPA, icon_url=None)
    assert plistlib.loads(manifest)["items"][0]["metadata"]["bundle-version"] == "318"


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"items": [{"assets": [{"kind": "software-package", "url": IPA}]}]}, "metadata: required"),
        (
            {
                "items": [
                    {
                        "assets": [{"kind": "software-package", "url": "http://x/app.ipa"}],
                        "metadata": {"bundle-identifier": "a.b", "kind": "software", "title": "T"},
                    }
                ]
            },
            "not an https URL",
        ),
        (
            {
                "items": [
                    {
                        "assets": [{"kind": "software", "url": IPA}],
                        "metadata": {"bundle-identifier": "a.b", "kind": "software", "title": "T"},
                    }
                ]
            },
            "'software' not one of",
        ),
        (
            {
                "items": [
                    {
                        "assets": [{"kind": "software-package", "url": IPA, "sha256-size": "1"}],
                        "metadata": {"bundle-identifier": "a.b", "kind": "software", "title": "T"},
                    }
                ]
            },
            "expected <integer>",
        ),
        (
            {
                "items": [
                    {
                        "assets": [{"kind": "software-package", "url": IPA}],
                        "metadata": {"bundle-identifier": "a.b", "kind": "app", "title": "T"},
                    }
                ]
            },
            "'app' not one of",
        ),
    ],
)
def test_the_validator_catches_broken_manifests(document: dict[str, Any], problem: str) -> None:
    problems = schema_problems(plistlib.dumps(document))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_round_trip_through_plistlib(text: str) -> None:
    facts = _facts(title=text, team_name=text, version=text)
    manifest = build_manifest(facts=facts, ipa_url=IPA + "&q=" + text, icon_url=ICON)
    assert schema_problems(manifest) == []
    document = plistlib.loads(manifest)
    metadata = document["items"][0]["metadata"]
    # Names are shown by iOS: bidi and invisible characters go (ipadrop.text.clean_text).
    assert metadata["title"] == clean_text(text)
    assert metadata["subtitle"] == clean_text(text)
    assert metadata["bundle-version"] == text
    assert document["items"][0]["assets"][0]["url"] == IPA + "&q=" + text
    # Still one item, one metadata dict: nothing broke out of a <string>.
    assert len(document["items"]) == 1
    assert b"<script>" not in manifest
    assert b"]]>" not in manifest


def test_characters_xml_cannot_hold_are_dropped_not_fatal() -> None:
    title = "Bad\x00Title\x1b\ud800!"
    manifest = build_manifest(facts=_facts(title=title), ipa_url=IPA, icon_url=None)
    assert plistlib.loads(manifest)["items"][0]["metadata"]["title"] == "BadTitle?!"
    assert xml_safe_text("tab\tand\nnewline") == "tab\tand\nnewline"


def test_single_sha256_covers_the_whole_package() -> None:
    digest = hashlib.sha256(b"ipa").hexdigest()
    manifest = build_manifest(facts=_facts(), ipa_url=IPA, icon_url=None, sha256=digest)
    assert schema_problems(manifest) == []
    package = plistlib.loads(manifest)["items"][0]["assets"][0]
    assert package["sha256s"] == [digest]
    assert package["sha256-size"] == 48_213_004


def test_chunk_hashes_win_over_the_single_hash() -> None:
    chunks = [hashlib.sha256(bytes([i])).hexdigest() for i in range(3)]
    manifest = build_manifest(
        facts=_facts(),
        ipa_url=IPA,
        icon_url=ICON,
        sha256="0" * 64,
        sha256_chunk_size=1024,
        chunk_hashes=chunks,
    )
    assert schema_problems(manifest) == []
    package = plistlib.loads(manifest)["items"][0]["assets"][0]
    assert package["sha256-size"] == 1024
    assert package["sha256s"] == chunks


@pytest.mark.parametrize(
    "options",
    [
        {"sha256": "ABC"},
        {"sha256": "g" * 64},
        {"chunk_hashes": ["0" * 64]},  # no chunk size
        {"chunk_hashes": [], "sha256_chunk_size": 10},
        {"chunk_hashes": ["0" * 63], "sha256_chunk_size": 10},
    ],
)
def test_bad_integrity_values_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"SHA-256|sha256|hash"):
        build_manifest(facts=_facts(), ipa_url=IPA, icon_url=None, **options)


@pytest.mark.parametrize("url", ["app.ipa", "/builds/x/app.ipa", "javascript:alert(1)", ""])
def test_relative_or_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="absolute"):
        build_manifest(facts=_facts(), ipa_url=url, icon_url=None)
    with pytest.raises(ValueError, match="absolute"):
        build_manifest(facts=_facts(), ipa_url=IPA, icon_url=url)


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 250])
def test_hash_chunks_matches_hashlib(size: int) -> None:
    data = bytes(range(256))[:size] if size <= 256 else b""
    whole, chunks = hash_chunks(io.BytesIO(data), chunk_size=100)
    assert whole == hashlib.sha256(data).hexdigest()
    expected = [hashlib.sha256(data[i : i + 100]).hexdigest() for i in range(0, size, 100)]
    assert chunks == (expected or [hashlib.sha256(b"").hexdigest()])


def test_real_fixture_manifests_match_the_schema(real_fixtures: Path) -> None:
    from ipadrop.reading.errors import IpaRejected
    from ipadrop.reading.inspector import inspect_ipa
    from ipadrop.reading.sources import LocalFileSource

    rendered = 0
    for path in sorted(real_fixtures.glob("*/*.ipa")):
        try:
            with LocalFileSource(path) as source:
                inspection = inspect_ipa(source)
        except IpaRejected:
            continue
        icon = ICON if inspection.icon_png else None
        manifest = build_manifest(facts=inspection.facts, ipa_url=IPA, icon_url=icon)
        assert schema_problems(manifest) == [], path.name
        metadata = plistlib.loads(manifest)["items"][0]["metadata"]
        assert metadata["bundle-identifier"] == inspection.facts.bundle_id
        assert metadata["title"] == inspection.facts.title
        rendered += 1
    assert rendered >= 6
