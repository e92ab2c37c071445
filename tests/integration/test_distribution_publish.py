"""Publishing with upload metadata against moto: notes/channel/notify land in
build.json, the indexes and the result; ``notify`` invites the group as soon as
the build is published; a failure to send never un-publishes and is retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event

from ipadrop.adapters.cloudfront_signing import generate_key_pair
from ipadrop.adapters.mailer import SesMailer
from ipadrop.distribution.metadata import encode_upload_metadata
from ipadrop.domain import bucket_keys
from ipadrop.handlers import processor
from ipadrop.settings import DistributionSettings, ProcessorSettings
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from tests.integration.distribution_support import Sent, open_distribution_stack
from tests.integration.link_support import Stack
from tests.integration.processor_support import read_json
from tests.s3_events import s3_event, s3_event_record

pytestmark = pytest.mark.integration
BUNDLE = "com.example.notify"


@pytest.fixture(scope="module")
def cloudfront_keys() -> tuple[bytes, bytes]:
    return generate_key_pair()


@pytest.fixture
def world(
    moto_endpoint: str,
    bucket_name: str,
    cloudfront_keys: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Stack, Sent, processor.Runtime]]:
    with open_distribution_stack(moto_endpoint, bucket_name, cloudfront_keys, monkeypatch) as (
        stack,
        sent,
        _,
    ):
        import os

        runtime = processor.Runtime(
            settings=ProcessorSettings.from_env(),
            client=stack.s3,
            distribution=DistributionSettings.from_env(os.environ),
        )
        yield stack, sent, runtime


def upload(stack: Stack, key: str, metadata: dict[str, str], **ipa: Any) -> dict[str, Any]:
    body = build_ipa_bytes(bundle_id=BUNDLE, **ipa)
    response = stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=body, Metadata=metadata)
    return s3_event_record(bucket=stack.bucket, key=key, size=len(body), etag=response["ETag"])


def publish(runtime: processor.Runtime, record: dict[str, Any]) -> dict[str, Any]:
    return processor.process_event(runtime, S3Event(s3_event(record)))


def test_metadata_lands_everywhere_and_notify_invites_the_group(
    world: tuple[Stack, Sent, processor.Runtime],
) -> None:
    stack, sent, runtime = world
    stack.call("PUT", "/groups/qa", body={"emails": ["ann@example.com", "bob@example.com"]})
    notes = "Fixes login\nhttps://example.com/notes"
    metadata = encode_upload_metadata(notes=notes, channel="main", notify=["qa", "cy@example.com"])
    record = upload(stack, "uploads/app/42.ipa", metadata)
    summary = publish(runtime, record)
    outcome = summary["outcomes"][0]
    assert outcome["status"] == "published"
    assert outcome["invited"] == 3
    build_id = outcome["build_id"]

    build = read_json(
        stack.s3, stack.bucket, bucket_keys.build_file_key(BUNDLE, build_id, "build.json")
    )
    assert (build["notes"], build["channel"], build["notify"]) == (
        notes,
        "main",
        ["qa", "cy@example.com"],
    )
    index = read_json(stack.s3, stack.bucket, bucket_keys.app_index_key(BUNDLE))
    assert (index["builds"][0]["notes"], index["builds"][0]["channel"]) == (notes, "main")
    result = read_json(stack.s3, stack.bucket, bucket_keys.result_key("uploads/app/42.ipa"))
    assert (result["notes"], result["channel"], result["invited"], result["warnings"]) == (
        notes,
        "main",
        3,
        [],
    )
    assert sorted(m["To"] for m in sent.messages) == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
    ]
    assert [t for t, _ in sent.events] == ["Build Published"]
    assert sent.events[0][1]["invited"] == 3
    # The static page of the build carries the notes too.
    page = stack.s3.get_object(
        Bucket=stack.bucket, Key=bucket_keys.build_file_key(BUNDLE, build_id, "index.html")
    )
    assert "Fixes login" in page["Body"].read().decode()


def test_bad_metadata_publishes_with_warnings(world: tuple[Stack, Sent, processor.Runtime]) -> None:
    stack, sent, runtime = world
    record = upload(
        stack, "uploads/bad.ipa", {"notes": "%ff", "channel": "Not Valid", "notify": "nobody-group"}
    )
    assert publish(runtime, record)["outcomes"][0]["status"] == "published"
    result = read_json(stack.s3, stack.bucket, bucket_keys.result_key("uploads/bad.ipa"))
    assert result["status"] == "published"
    assert result["channel"] == "default"
    assert {w["code"] for w in result["warnings"]} == {"notes_invalid", "channel_invalid"}
    assert result["invited"] == 0  # an unknown group invites nobody
    assert sent.messages == []


def test_a_failed_send_never_unpublishes_and_is_retried(
    world: tuple[Stack, Sent, processor.Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, sent, runtime = world
    stack.call("PUT", "/groups/qa", body={"emails": ["ann@example.com", "bob@example.com"]})
    record = upload(stack, "uploads/retry.ipa", encode_upload_metadata(notify=["qa"]))
    original = SesMailer.send
    calls = {"n": 0}
    failed: list[str] = []

    def flaky(self: SesMailer, mail: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 2:  # one invitation goes out, then SES fails
            failed.append(mail.to)
            raise RuntimeError("SES is down")
        return original(self, mail)

    monkeypatch.setattr(SesMailer, "send", flaky)
    with pytest.raises(RuntimeError, match="records failed"):
        publish(runtime, record)  # the event fails so Lambda retries it
    result = read_json(stack.s3, stack.bucket, bucket_keys.result_key("uploads/retry.ipa"))
    assert result["status"] == "published"
    assert result["notify_pending"] is True
    assert [w["code"] for w in result["warnings"]] == ["notify_failed"]
    build_id = result["build_id"]
    assert (
        stack.call("POST", "/links", body={"bundle_id": BUNDLE, "build": build_id})["statusCode"]
        == 201
    )

    # The retry finds both invites (derived ids) and sends only the unsent one.
    monkeypatch.setattr(SesMailer, "send", original)
    summary = publish(runtime, record)
    assert summary["outcomes"][0]["status"] == "duplicate"
    result = read_json(stack.s3, stack.bucket, bucket_keys.result_key("uploads/retry.ipa"))
    assert (result["notify_pending"], result["invited"], result["warnings"]) == (False, 2, [])
    assert calls["n"] == 2
    assert json.dumps(result)  # still a JSON document
    # One e-mail each in the end: the retry sent only the one that failed.
    assert sorted(m["To"] for m in sent.messages) == ["ann@example.com", "bob@example.com"]
    assert sent.messages[-1]["To"] == failed[0]
