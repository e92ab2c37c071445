"""S3 key injection through bundle ids, build ids and upload names.

Whatever the IPA, the upload's name or an admin request says, every write
lands on a key ``layout`` builds from validated ids: ``builds/<bundle_id>/...``
for a valid bundle id, the result record next to its upload, the apps index.
Each test lists every key of the bucket afterwards and checks them all.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event

from ipadrop.domain import bucket_keys
from ipadrop.handlers import processor
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from tests.hardening.support import assert_indexes_consistent, assert_keys_confined
from tests.integration.link_support import Stack, link_stack
from tests.integration.processor_support import (
    list_keys,
    make_publisher,
    processor_runtime,
    read_json,
    snapshot,
    to_upload_event,
)
from tests.s3_events import put_and_describe, s3_event

pytestmark = pytest.mark.integration

SAMPLE = "com.example.sample"

# Refused: not a bundle id Apple allows, or one that could not be a path segment.
REFUSED_BUNDLE_IDS = [
    "..",
    ".",
    "com..example",
    ".com.example",
    "com.example.",
    "com/example",
    "com.example/../../builds",
    "com%2Fexample",
    "com\\example",
    "com.еxample",  # Cyrillic e
    "com.example\u2215evil",  # division slash
    "ｃｏｍ.example",  # fullwidth
    "com.example\u200b",  # zero-width space
    "com.example ",
    "com example",
    "",
    "a" * 156,  # longer than a key segment we allow
    "a" * 300,
]
# Odd but legal: published, each under its own folder.
ACCEPTED_BUNDLE_IDS = ["-", "a", "A-1.b-2.C-3", "x" * 155, "com.example.Sample"]


def test_bundle_ids_from_info_plists_never_steer_a_write(s3: Any, bucket: str) -> None:
    publisher = make_publisher(s3, bucket)
    for number, bundle_id in enumerate(REFUSED_BUNDLE_IDS + ACCEPTED_BUNDLE_IDS):
        body = build_ipa_bytes(info_extra={"CFBundleIdentifier": bundle_id}, profile=None)
        key = f"uploads/case-{number}.ipa"
        outcome = publisher.publish(to_upload_event(put_and_describe(s3, bucket, key, body)))
        result = read_json(s3, bucket, bucket_keys.result_key(key))
        if bundle_id in ACCEPTED_BUNDLE_IDS:
            assert outcome.status == "published", (bundle_id, outcome.message)
            assert result["bundle_id"] == bundle_id
        else:
            assert (outcome.status, outcome.reason) == ("rejected", "bad_bundle_id"), bundle_id
            assert result["reason"] == "bad_bundle_id"

    assert_keys_confined(s3, bucket, set(ACCEPTED_BUNDLE_IDS))
    assert set(assert_indexes_consistent(s3, bucket)) == set(ACCEPTED_BUNDLE_IDS)


UPLOAD_NAMES = [
    "uploads/../../builds/com.example.sample/index.json.ipa",
    "uploads/../builds/index.json.ipa",
    "uploads/%2F..%2Fbuilds%2Fx.ipa",
    "uploads/%252F..%252Fx.ipa",
    "uploads/∕..∕builds∕lookalike.ipa",  # division slashes
    "uploads/ｂｕｉｌｄｓ/fullwidth.ipa",
    "uploads/./dot.ipa",
    "uploads//double.ipa",
    "uploads/a+b c%20d&e=f?g#h.ipa",
    "uploads/\u202egpj.evil.ipa",
    "uploads/ünï cødé/😀.IPA",
    "uploads/" + "n" * 900 + ".ipa",
]


@pytest.mark.parametrize("encode_slash", [False, True], ids=["s3-encoding", "moto-encoding"])
def test_upload_names_only_reach_their_own_result_record(
    s3: Any, bucket: str, encode_slash: bool
) -> None:
    """Through the real handler: S3 event keys are URL-encoded (moto also encodes '/')."""
    runtime = processor_runtime(s3, bucket)
    body = build_ipa_bytes(bundle_id=SAMPLE)
    records = [
        put_and_describe(s3, bucket, name, body, encode_slash=encode_slash) for name in UPLOAD_NAMES
    ]
    result = processor.process_event(runtime, S3Event(s3_event(*records)))

    statuses = {o["upload_key"]: o["status"] for o in result["outcomes"]}
    assert statuses == dict.fromkeys(UPLOAD_NAMES, "published")
    keys = assert_keys_confined(s3, bucket, {SAMPLE})
    expected_results = {bucket_keys.result_key(name) for name in UPLOAD_NAMES}
    assert {k for k in keys if k.startswith(bucket_keys.RESULTS_PREFIX)} == expected_results
    assert [k for k in keys if k.startswith(bucket_keys.UPLOADS_PREFIX)] == []
    listed = assert_indexes_consistent(s3, bucket)
    assert len(listed[SAMPLE]) == len(UPLOAD_NAMES)
    for name in UPLOAD_NAMES:
        record = read_json(s3, bucket, bucket_keys.result_key(name))
        assert record["upload_key"] == name
        build = read_json(
            s3, bucket, bucket_keys.build_file_key(SAMPLE, record["build_id"], "build.json")
        )
        assert build["upload_key"] == name


def test_keys_outside_uploads_or_not_ipa_are_ignored(s3: Any, bucket: str) -> None:
    runtime = processor_runtime(s3, bucket)
    body = build_ipa_bytes(bundle_id=SAMPLE)
    names = [
        "builds/com.example.sample/x.ipa",
        "results/uploads/x.ipa",
        "uploads.ipa",
        "uploads/.ipa",
        "Uploads/x.ipa",
        "uploads/x.ipa.zip",
        "x/uploads/y.ipa",
    ]
    records = [put_and_describe(s3, bucket, name, body) for name in names]
    before = snapshot(s3, bucket)
    result = processor.process_event(runtime, S3Event(s3_event(*records)))
    assert result["outcomes"] == []
    assert snapshot(s3, bucket) == before


@pytest.fixture
def link_world(
    moto_endpoint: str,
    bucket_name: str,
    cloudfront_keys: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    yield from link_stack(moto_endpoint, bucket_name, cloudfront_keys, monkeypatch)


HOSTILE_IDS = [
    "..",
    "%2E%2E",
    "..%2F..%2Fbuilds",
    "com.example.sample%2F..",
    "com.example.sample/..",
    "com.еxample.sample",
    "com.example.sample\u2215x",
    "*",
    "a" * 2000,
]


def test_ids_in_admin_requests_never_reach_a_key(link_world: Stack) -> None:
    stack = link_world
    s3, bucket = stack.s3, stack.bucket
    publisher = make_publisher(s3, bucket)
    body = build_ipa_bytes(bundle_id=SAMPLE)
    outcome = publisher.publish(
        to_upload_event(put_and_describe(s3, bucket, "uploads/app.ipa", body))
    )
    assert outcome.build_id is not None
    build_id = outcome.build_id
    before = snapshot(s3, bucket)

    for hostile in HOSTILE_IDS:
        for method, path, body_json in (
            ("GET", f"/apps/{hostile}/builds", None),
            ("DELETE", f"/apps/{hostile}/builds/{build_id}", None),
            ("DELETE", f"/apps/{SAMPLE}/builds/{hostile}", None),
            ("DELETE", f"/apps/{SAMPLE}/builds/{build_id}{hostile}", None),
            ("POST", "/links", {"bundle_id": hostile, "build": build_id}),
            ("POST", "/links", {"bundle_id": SAMPLE, "build": hostile}),
            ("POST", "/links", {"bundle_id": SAMPLE, "build": f"{build_id}/../{hostile}"}),
        ):
            response = stack.call(method, path, body=body_json)
            assert response["statusCode"] in (400, 404), (method, path, response["body"][:200])
            error = json.loads(response["body"])
            assert set(error) == {"error", "message"}
            assert "\n" not in error["message"]

    assert snapshot(s3, bucket) == before
    assert_keys_confined(s3, bucket, {SAMPLE})
    assert list_keys(s3, bucket, bucket_keys.app_prefix(SAMPLE))
