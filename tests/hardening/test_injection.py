"""Injection from every string an IPA controls, through the whole chain.

Each case builds an IPA whose title, version, build, minimum OS, profile name,
team name and team id are hostile (every string of the corpus lands in every
field across the cases), publishes it with the real processor against moto,
then reads everything a person or a device would: the static page and
manifest, build.json, both indexes, the result record, the admin API's JSON,
a minted link's install page and its per-request manifest.
"""

from __future__ import annotations

import json
import plistlib
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ipadrop.domain import bucket_keys
from ipadrop.render.urls import ITMS_SERVICES_PREFIX
from ipadrop.text import clean_text
from tests.hardening.support import (
    HOSTILE,
    URL_MARKERS,
    assert_inert_page,
    assert_keys_confined,
    cloudfront_keys,
    hostile_ipa,
    link_stack,
)
from tests.integration.link_support import Stack
from tests.integration.processor_support import make_publisher, read_json, to_upload_event
from tests.s3_events import put_and_describe

__all__ = ["cloudfront_keys"]  # the fixture, re-exported for pytest

pytestmark = pytest.mark.integration

FIELDS = ("title", "version", "build", "minimum_os", "profile_name", "team_name", "team_id")
BENIGN = {
    "title": "Benign App",
    "version": "1.2",
    "build": "34",
    "minimum_os": "15.0",
    "profile_name": "Benign profile",
    "team_name": "Benign Team",
    "team_id": "ABCDE12345",
}


CASES = len(HOSTILE) // 2


KNOWN_APPS = {"com.example.benign", "com.example.controls"} | {
    f"com.example.hostile{case}" for case in range(len(HOSTILE))
}


def hostile_values(case: int) -> dict[str, str]:
    """Two corpus strings per field; over the cases every string reaches every field."""

    def pick(position: int) -> str:
        return HOSTILE[position % len(HOSTILE)]

    return {name: pick(2 * (case + i)) + pick(2 * (case + i) + 1) for i, name in enumerate(FIELDS)}


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, cloudfront_keys: tuple[bytes, bytes]) -> Iterator[Stack]:
    """One bucket and link function for the module (publishing is the slow part)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        bucket = f"t-{uuid.uuid4().hex[:20]}"
        yield from link_stack(moto_endpoint, bucket, cloudfront_keys, monkeypatch)


@pytest.fixture(scope="module")
def reference_id(stack: Stack) -> str:
    """A harmless build of the same shape: its pages are the reference markup."""
    return _publish(stack, "com.example.benign", BENIGN)


def _publish(stack: Stack, bundle_id: str, values: dict[str, str]) -> str:
    body = hostile_ipa(bundle_id=bundle_id, **values)
    record = put_and_describe(stack.s3, stack.bucket, f"uploads/{bundle_id}.ipa", body)
    outcome = make_publisher(stack.s3, stack.bucket).publish(to_upload_event(record))
    assert outcome.status == "published", outcome.message
    assert outcome.build_id is not None
    return outcome.build_id


def _object(stack: Stack, bundle_id: str, build_id: str, name: str) -> bytes:
    key = bucket_keys.build_file_key(bundle_id, build_id, name)
    body: bytes = stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    return body


def _assert_manifest(manifest: bytes, values: dict[str, str], bundle_id: str) -> None:
    document = plistlib.loads(manifest)
    (item,) = document["items"]
    metadata = item["metadata"]
    assert metadata["title"] == values["title"]
    assert metadata["bundle-version"] == values["version"]
    assert metadata["subtitle"] == values["team_name"]
    assert metadata["bundle-identifier"] == bundle_id
    assert sorted(asset["kind"] for asset in item["assets"]) == [
        "display-image",
        "full-size-image",
        "software-package",
    ]
    for asset in item["assets"]:
        parts = urlsplit(asset["url"])
        assert parts.scheme == "https"
        assert f"/builds/{bundle_id}/" in parts.path
        for marker in URL_MARKERS:
            assert marker not in asset["url"]


def _assert_json_facts(document: dict[str, Any], values: dict[str, str]) -> None:
    assert document["title"] == values["title"]
    assert document["version"] == values["version"]
    assert document["build"] == values["build"]


def _json_response(response: dict[str, Any]) -> Any:
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    return json.loads(response["body"])


def test_every_string_reaches_every_field() -> None:
    for name in FIELDS:
        landed = {h for case in range(CASES) for h in HOSTILE if h in hostile_values(case)[name]}
        assert landed == set(HOSTILE), name


@pytest.mark.parametrize("case", range(CASES))
def test_hostile_strings_stay_text_everywhere(stack: Stack, reference_id: str, case: int) -> None:
    raw = hostile_values(case)
    bundle_id = f"com.example.hostile{case}"
    build_id = _publish(stack, bundle_id, raw)
    # Stored and shown as the one cleaner leaves them: markup kept as text, bidi and
    # invisible characters gone (ipadrop.text.clean_text).
    values = {name: clean_text(value) or "" for name, value in raw.items()}

    # What the processor wrote.
    record = read_json(
        stack.s3, stack.bucket, bucket_keys.build_file_key(bundle_id, build_id, "build.json")
    )
    _assert_json_facts(record, values)
    assert record["minimum_os_version"] == values["minimum_os"]
    assert record["profile"]["name"] == values["profile_name"]
    assert record["profile"]["team_name"] == values["team_name"]
    assert record["profile"]["team_id"] == values["team_id"]
    (entry,) = read_json(stack.s3, stack.bucket, bucket_keys.app_index_key(bundle_id))["builds"]
    _assert_json_facts(entry, values)
    result = read_json(stack.s3, stack.bucket, bucket_keys.result_key(f"uploads/{bundle_id}.ipa"))
    _assert_json_facts(result, values)
    _assert_manifest(_object(stack, bundle_id, build_id, "manifest.plist"), values, bundle_id)
    shown = {
        "title": values["title"],
        "version": values["version"],
        "build": values["build"],
        "team name": values["team_name"],
        "team id": values["team_id"],
        "minimum OS": values["minimum_os"],
    }
    assert_inert_page(
        _object(stack, bundle_id, build_id, "index.html").decode(),
        _object(stack, "com.example.benign", reference_id, "index.html").decode(),
        must_show=shown,
    )

    # What the admin API answers.
    apps = _json_response(stack.call("GET", "/apps"))["apps"]
    (app,) = [a for a in apps if a["bundle_id"] == bundle_id]
    assert app["title"] == values["title"]
    builds = _json_response(stack.call("GET", f"/apps/{bundle_id}/builds"))
    assert builds["title"] == values["title"]
    _assert_json_facts(builds["builds"][0], values)
    link = stack.mint(build=build_id, bundle_id=bundle_id)
    reference_link = stack.mint(build=reference_id, bundle_id="com.example.benign")
    for url in (link["install_url"], link["manifest_url"], link["itms_services_url"]):
        for marker in URL_MARKERS:
            assert marker not in url
    assert link["itms_services_url"].startswith(ITMS_SERVICES_PREFIX)
    query = parse_qs(urlsplit(link["itms_services_url"]).query)
    assert query["url"] == [link["manifest_url"]]

    # What a tester's browser and the device's installer receive.
    page = stack.call("GET", urlsplit(link["install_url"]).path)
    reference_page = stack.call("GET", urlsplit(reference_link["install_url"]).path)
    assert page["statusCode"] == 200
    assert "script-src 'sha256-" in page["headers"]["Content-Security-Policy"]
    assert_inert_page(page["body"], reference_page["body"], must_show=shown)
    manifest = stack.call("GET", urlsplit(link["manifest_url"]).path)
    assert manifest["statusCode"] == 200
    assert manifest["headers"]["Content-Type"] == "text/xml"
    _assert_manifest(manifest["body"].encode(), values, bundle_id)


def test_control_and_separator_characters_are_dropped_the_same_way_everywhere(
    stack: Stack,
) -> None:
    # In the (binary) Info.plist only: the profile is an XML plist, which cannot hold them.
    raw = "Line\u2028Break\x00Nul\x1b[31mRed\u0085Next\tTab"
    expected = "LineBreakNul[31mRedNextTab"
    values = {**BENIGN, "title": raw, "version": raw}
    build_id = _publish(stack, "com.example.controls", values)
    result = read_json(
        stack.s3, stack.bucket, bucket_keys.result_key("uploads/com.example.controls.ipa")
    )
    assert result["title"] == expected
    record = read_json(
        stack.s3,
        stack.bucket,
        bucket_keys.build_file_key("com.example.controls", build_id, "build.json"),
    )
    assert record["title"] == expected
    assert record["version"] == expected
    manifest = plistlib.loads(_object(stack, "com.example.controls", build_id, "manifest.plist"))
    assert manifest["items"][0]["metadata"]["title"] == expected
    page = _object(stack, "com.example.controls", build_id, "index.html").decode()
    assert expected in page
    assert "\u2028" not in page
    assert "\x1b" not in page


@pytest.mark.parametrize(
    "bundle_id",
    [
        "com.evil<script>",
        'com.evil"onload="x',
        "com.evil/../../x",
        "com.evil%2F..%2Fx",
        "com.еxample",  # Cyrillic e
        "ｃｏｍ.example",  # fullwidth
    ],
)
def test_a_hostile_bundle_id_is_refused_and_the_refusal_is_plain_json(
    stack: Stack, bundle_id: str
) -> None:
    values = {**BENIGN}
    body = hostile_ipa(bundle_id=bundle_id, **values)
    key = f"uploads/hostile-bundle-{uuid.uuid4().hex}.ipa"
    record = put_and_describe(stack.s3, stack.bucket, key, body)
    outcome = make_publisher(stack.s3, stack.bucket).publish(to_upload_event(record))

    assert outcome.status == "rejected"
    assert outcome.reason == "bad_bundle_id"
    raw = stack.s3.get_object(Bucket=stack.bucket, Key=bucket_keys.result_key(key))["Body"].read()
    result = json.loads(raw)
    assert result["status"] == "rejected"
    assert result["bundle_id"] is None
    assert "\n" not in result["message"]
    assert_keys_confined(stack.s3, stack.bucket, KNOWN_APPS)


def test_the_page_probe_catches_markup_that_got_through(stack: Stack, reference_id: str) -> None:
    """The checks above could fail: an unescaped title is caught."""
    page = _object(stack, "com.example.benign", reference_id, "index.html").decode()
    for raw in ('<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=1</script>"):
        broken = page.replace("Benign App", raw, 1)
        with pytest.raises(AssertionError):
            assert_inert_page(broken, page, must_show={"title": raw})
    with pytest.raises(AssertionError):
        assert_inert_page(page, page, must_show={"title": "Not On The Page"})
