"""S3 event notifications exactly as S3 sends them to Lambda (event version 2.1).

Reference: "Event message structure" in the Amazon S3 user guide. The object
key is URL-encoded the way S3 does it: ``+`` for a space, percent-escapes for
everything else outside ``[A-Za-z0-9_.~-/]``; ``encode_slash=True`` reproduces
moto, which also escapes ``/`` as ``%2F``.
"""

from __future__ import annotations

import itertools
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

_SEQUENCE = itertools.count()


def encode_key(key: str, *, encode_slash: bool = False) -> str:
    return quote_plus(key, safe="" if encode_slash else "/")


def next_sequencer() -> str:
    """Hex, increasing like S3's per-key sequencer (unique per call in this process)."""
    return f"{time.time_ns() // 1000:014X}{next(_SEQUENCE) % 0xFFFF:04X}"


def s3_event_record(
    *,
    bucket: str,
    key: str,
    size: int,
    etag: str,
    sequencer: str | None = None,
    event_name: str = "ObjectCreated:Put",
    event_time: datetime | None = None,
    principal_id: str = "AWS:AIDAJDPLRKLG7UEXAMPLE:ci-runner",
    region: str = "us-east-1",
    version_id: str | None = None,
    encode_slash: bool = False,
) -> dict[str, Any]:
    when = (event_time or datetime.now(UTC)).astimezone(UTC)
    s3_object: dict[str, Any] = {
        "key": encode_key(key, encode_slash=encode_slash),
        "size": size,
        "eTag": etag.strip('"'),
        "sequencer": sequencer or next_sequencer(),
    }
    if version_id is not None:
        s3_object["versionId"] = version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "eventName": event_name,
        "userIdentity": {"principalId": principal_id},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "responseElements": {
            "x-amz-request-id": secrets.token_hex(8).upper(),
            "x-amz-id-2": secrets.token_urlsafe(48),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "ipadrop-uploads",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKEXAMPLE"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": s3_object,
        },
    }


def s3_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def put_and_describe(
    client: Any,
    bucket: str,
    key: str,
    body: bytes,
    **record_options: Any,
) -> dict[str, Any]:
    """Upload ``body`` and return the event record S3 would send for it."""
    response = client.put_object(Bucket=bucket, Key=key, Body=body)
    return s3_event_record(
        bucket=bucket, key=key, size=len(body), etag=response["ETag"], **record_options
    )
