"""The Lambda handler end to end: S3 event JSON in, published builds out (moto server)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event
from botocore.config import Config

from ipadrop.domain import bucket_keys
from ipadrop.handlers import processor
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes
from tests.conftest import _free_port, boto_client
from tests.integration.processor_support import (
    list_keys,
    object_exists,
    processor_runtime,
    read_json,
)
from tests.s3_events import put_and_describe, s3_event

pytestmark = pytest.mark.integration


@dataclass
class FakeLambdaContext:
    function_name: str = "ipadrop-processor"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ipadrop-processor"
    aws_request_id: str = "5f0c7d2e-0000-4000-8000-000000000001"


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, bucket: str) -> Iterator[str]:
    """The processor's environment as the stack sets it, pointing boto3 at moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("IPADROP_BUCKET", bucket)
    monkeypatch.setenv("IPADROP_DISTRIBUTION_URL", "https://d111111abcdef8.cloudfront.net/")
    monkeypatch.delenv("IPADROP_DISTRIBUTION_URL_PARAMETER", raising=False)
    monkeypatch.delenv("IPADROP_KEEP_UPLOADS", raising=False)
    monkeypatch.delenv("IPADROP_RETAIN_BUILDS", raising=False)
    processor.runtime.cache_clear()
    # Metrics is a module-level singleton: other tests in this process may have
    # called the core without the handler's flush, so start from zero.
    processor.metrics.clear_metrics()
    yield bucket
    processor.runtime.cache_clear()


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


def _total(value: float | list[float]) -> float:
    """EMF holds one value or a list of the values added in one invocation."""
    return sum(value) if isinstance(value, list) else value


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """What the Powertools logger writes (its handler keeps the stdout of import time)."""
    handler = processor.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    if previous is not None:
        handler.setStream(previous)


def test_every_record_is_decoded_and_handled(
    s3: Any, lambda_env: str, capsys: pytest.CaptureFixture[str], log_stream: io.StringIO
) -> None:
    bucket = lambda_env
    good = build_ipa_bytes(bundle_id="com.example.keys", title="Keys")
    keys = {
        "space_plus": "uploads/ci builds/My App+1 (beta).ipa",
        "unicode": "uploads/ünïcødé/Äpp ✓ 🚀.IPA",
        "percent": "uploads/100% done/a%20b.ipa",
    }
    records = [
        put_and_describe(s3, bucket, keys["space_plus"], good),
        put_and_describe(
            s3, bucket, keys["unicode"], good, event_name="ObjectCreated:CompleteMultipartUpload"
        ),
        # moto escapes "/" as %2F where AWS does not; unquote_plus takes both.
        put_and_describe(s3, bucket, keys["percent"], good, encode_slash=True),
        put_and_describe(s3, bucket, "uploads/not an ipa.ipa", b"plain text, not a zip"),
        put_and_describe(s3, bucket, "uploads/notes.txt", b"ignored"),
        put_and_describe(s3, bucket, "elsewhere/app.ipa", good),
    ]
    assert records[0]["s3"]["object"]["key"] == "uploads/ci+builds/My+App%2B1+%28beta%29.ipa"

    summary = processor.handler(s3_event(*records), FakeLambdaContext())

    statuses = {o["upload_key"]: o["status"] for o in summary["outcomes"]}
    assert statuses == {
        keys["space_plus"]: "published",
        keys["unicode"]: "published",
        keys["percent"]: "published",
        "uploads/not an ipa.ipa": "rejected",
    }
    for key in keys.values():
        result = read_json(s3, bucket, bucket_keys.result_key(key))
        assert (result["status"], result["upload_key"]) == ("published", key)
        assert not object_exists(s3, bucket, key)
        build = read_json(
            s3,
            bucket,
            bucket_keys.build_file_key("com.example.keys", result["build_id"], "build.json"),
        )
        assert build["upload_key"] == key
    rejected = read_json(s3, bucket, bucket_keys.result_key("uploads/not an ipa.ipa"))
    assert rejected["status"] == "rejected"
    assert rejected["reason"]
    assert object_exists(s3, bucket, "uploads/not an ipa.ipa")
    assert object_exists(s3, bucket, "uploads/notes.txt")
    assert object_exists(s3, bucket, "elsewhere/app.ipa")
    assert not any(k.startswith("results/elsewhere") for k in list_keys(s3, bucket))
    index = read_json(s3, bucket, bucket_keys.app_index_key("com.example.keys"))
    assert len(index["builds"]) == 3

    manifest_key = bucket_keys.build_file_key(
        "com.example.keys", index["builds"][0]["build_id"], "manifest.plist"
    )
    manifest = s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read()
    assert b"https://d111111abcdef8.cloudfront.net/builds/com.example.keys/" in manifest

    output = _json_lines(capsys.readouterr().out)
    emf = [line for line in output if "_aws" in line]
    assert emf, "Powertools Metrics printed no EMF document"
    metrics = emf[-1]
    assert metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ipadrop"
    assert _total(metrics["BuildsPublished"]) == 3
    assert _total(metrics["UploadsRejected"]) == 1
    assert _total(metrics["RecordsIgnored"]) == 2
    logs = _json_lines(log_stream.getvalue())
    ignored = [line for line in logs if "Ignoring" in str(line.get("message"))]
    assert len(ignored) == 2
    request_ids = {r["responseElements"]["x-amz-request-id"] for r in records}
    assert {line.get("correlation_id") for line in logs} <= request_ids | {None}
    assert any(line.get("correlation_id") in request_ids for line in logs)


def test_events_without_uploads_are_ignored(lambda_env: str) -> None:
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-01-01T00:00:00.000Z",
        "Bucket": lambda_env,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
    assert processor.handler(test_event, FakeLambdaContext()) == {"outcomes": []}


def test_an_event_from_another_bucket_raises(s3: Any, lambda_env: str) -> None:
    record = put_and_describe(s3, lambda_env, "uploads/a.ipa", build_ipa_bytes())
    record["s3"]["bucket"]["name"] = f"{lambda_env}-other"

    with pytest.raises(RuntimeError, match="1 of 1 records failed: event for bucket"):
        processor.handler(s3_event(record), FakeLambdaContext())
    assert object_exists(s3, lambda_env, "uploads/a.ipa")


def test_a_missing_bucket_is_an_outage_not_a_missing_upload(
    s3: Any, lambda_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = put_and_describe(s3, lambda_env, "uploads/a.ipa", build_ipa_bytes())
    record["s3"]["bucket"]["name"] = f"{lambda_env}-missing"
    monkeypatch.setenv("IPADROP_BUCKET", f"{lambda_env}-missing")
    processor.runtime.cache_clear()

    with pytest.raises(RuntimeError, match="NoSuchBucket"):
        processor.handler(s3_event(record), FakeLambdaContext())


def test_s3_unavailable_raises_after_trying_every_record(s3: Any, bucket: str) -> None:
    record = put_and_describe(s3, bucket, "uploads/a.ipa", build_ipa_bytes())
    # Nothing listens on this port: every call fails to connect.
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{_free_port()}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    runtime = processor_runtime(client, bucket)
    event = S3Event(s3_event(record, record))

    with pytest.raises(RuntimeError, match="2 of 2 records failed"):
        processor.process_event(runtime, event)
    assert object_exists(s3, bucket, "uploads/a.ipa")


def test_events_from_motos_own_bucket_notifications(
    s3: Any, moto_endpoint: str, lambda_env: str
) -> None:
    """The local stack feeds the handler what the bucket sends to a queue (no
    sequencer, no userIdentity, "/" escaped as %2F): it must publish all the same."""
    bucket = lambda_env
    sqs = boto_client("sqs", moto_endpoint)
    queue_url = sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "uploads/"},
                                {"Name": "suffix", "Value": ".ipa"},
                            ]
                        }
                    },
                }
            ]
        },
    )
    key = "uploads/nightly builds/Ünïcode App+.ipa"
    s3.put_object(Bucket=bucket, Key=key, Body=build_ipa_bytes())

    outcomes = []
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]:
        summary = processor.handler(json.loads(message["Body"]), FakeLambdaContext())
        outcomes.extend(summary["outcomes"])

    assert [(o["upload_key"], o["status"]) for o in outcomes] == [(key, "published")]
    assert read_json(s3, bucket, bucket_keys.result_key(key))["status"] == "published"
