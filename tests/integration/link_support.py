"""Helpers for the link service's integration tests and bench: API Gateway HTTP
API (payload 2.0) events as AWS sends them, and builds seeded into a bucket in
the published layout (``build.json`` = ``BuildRecord.to_json()``, indexes as
``store.py`` describes them)."""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ipadrop.domain import bucket_keys, indexes
from ipadrop.domain.model import AppFacts, BuildRecord, IconInfo, ProfileInfo

ACCOUNT_ID = "123456789012"
DISTRIBUTION_URL = "https://d111111abcdef8.cloudfront.net"


def http_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    body: str | bytes | None = None,
    admin: bool = False,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    """An HTTP API payload v2.0 event, shaped like API Gateway's (admin routes
    carry the IAM authorizer block API Gateway adds after SigV4 checks)."""
    now = time.time()
    all_headers = {
        "accept": "*/*",
        "content-length": str(len(body or b"")),
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)",
        "x-amzn-trace-id": f"Root=1-{int(now):08x}-{secrets.token_hex(12)}",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **(headers or {}),
    }
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": "abc123",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abc123",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": all_headers["user-agent"],
        },
        "requestId": base64.b64encode(secrets.token_bytes(11)).decode(),
        "routeKey": route_key or "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if admin:
        context["authorizer"] = {
            "iam": {
                "accessKey": "ASIAEXAMPLEEXAMPLE00",
                "accountId": ACCOUNT_ID,
                "callerId": "AIDAEXAMPLEEXAMPLE00",
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci",
                "userId": "AIDAEXAMPLEEXAMPLE00",
            }
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    elif body is not None:
        event["body"] = body
    return event


@dataclass(frozen=True, slots=True)
class LambdaContext:
    function_name: str = "ipadrop-link"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:ipadrop-link"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x10\x80\xf0\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def ipa_bytes(bundle_id: str, build_id: str) -> bytes:
    return f"PK-not-really-an-ipa {bundle_id} {build_id}".encode()


def make_record(
    bundle_id: str, build_id: str, *, title: str = "Sample", version: str = "1.0"
) -> BuildRecord:
    facts = AppFacts(
        bundle_id=bundle_id,
        version=version,
        build="1",
        title=title,
        minimum_os_version="15.0",
        device_family=["iphone", "ipad"],
        size_bytes=len(ipa_bytes(bundle_id, build_id)),
        icon=IconInfo(source="Payload/Sample.app/AppIcon60x60@2x.png", width=1, height=1),
        profile=ProfileInfo(
            name="Sample In-House",
            uuid="11111111-2222-3333-4444-555555555555",
            team_id="ABCDE12345",
            team_name="Example Corp",
            expires_at="2099-01-01T00:00:00Z",
            distribution="enterprise",
            device_count=0,
        ),
    )
    stamp = build_id[:16]
    uploaded_at = (
        f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"
    )
    return BuildRecord(
        bundle_id=bundle_id,
        build_id=build_id,
        facts=facts,
        upload_key=f"uploads/{bundle_id}-{build_id}.ipa",
        uploader=None,
        uploaded_at=uploaded_at,
        published_at=uploaded_at,
        has_icon=True,
    )


def seed_build(s3: Any, bucket: str, record: BuildRecord) -> None:
    """Write a build the way the processor leaves it: files, build.json, then indexes."""
    bundle_id, build_id = record.bundle_id, record.build_id

    def put(key: str, body: bytes, content_type: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    put(
        bucket_keys.build_file_key(bundle_id, build_id, bucket_keys.IPA_NAME),
        ipa_bytes(bundle_id, build_id),
        "application/octet-stream",
    )
    put(
        bucket_keys.build_file_key(bundle_id, build_id, bucket_keys.ICON_NAME),
        tiny_png(),
        "image/png",
    )
    put(
        bucket_keys.build_file_key(bundle_id, build_id, bucket_keys.BUILD_JSON_NAME),
        json.dumps(record.to_json()).encode(),
        "application/json",
    )

    # The indexes as the processor writes them (same pure functions).
    app_key = bucket_keys.app_index_key(bundle_id)
    app_index, _ = indexes.upsert_build(_get_json(s3, bucket, app_key), record)
    put(app_key, json.dumps(app_index).encode(), "application/json")
    apps_index = indexes.upsert_app(
        _get_json(s3, bucket, bucket_keys.APPS_INDEX_KEY), indexes.app_summary(app_index)
    )
    put(bucket_keys.APPS_INDEX_KEY, json.dumps(apps_index).encode(), "application/json")


def _get_json(s3: Any, bucket: str, key: str) -> Any:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


KEY_PAIR_ID = "K2JCJMDEHXQW5F"
BUNDLE = "com.example.sample"
BUILD_1 = "20260101T100000Z-aaaaaaaaaa"
BUILD_2 = "20260102T100000Z-bbbbbbbbbb"


@dataclass
class Stack:
    """A link function's world in moto, called through the real ``handler``."""

    s3: Any
    secrets: Any
    bucket: str
    token_secret_id: str
    public_keys: dict[str, bytes]
    endpoint: str

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        admin: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        from ipadrop.handlers import link

        is_admin = not path.startswith(("/i/", "/m/")) if admin is None else admin
        text = body if body is None or isinstance(body, str | bytes) else json.dumps(body)
        event = http_event(method, path, body=text, admin=is_admin, headers=headers)
        response: dict[str, Any] = link.handler(event, LambdaContext())
        assert "Traceback" not in (response.get("body") or "")
        return response

    def mint(self, build: str = BUILD_1, ttl: int = 3600, bundle_id: str = BUNDLE) -> Any:
        response = self.call(
            "POST", "/links", body={"bundle_id": bundle_id, "build": build, "ttl_seconds": ttl}
        )
        assert response["statusCode"] == 201, response["body"]
        return json.loads(response["body"])

    def put_token_keys(self, ring: dict[str, str]) -> None:
        from ipadrop.handlers import link

        self.secrets.put_secret_value(SecretId=self.token_secret_id, SecretString=json.dumps(ring))
        link.service.cache_clear()  # a fresh container (warm ones re-read after max_age)


@contextlib.contextmanager
def open_stack(
    endpoint: str,
    bucket: str,
    cloudfront_keys: tuple[bytes, bytes],
    setenv: Callable[[str, str], None],
    delenv: Callable[[str], None],
    **overrides: str,
) -> Iterator[Stack]:
    """Bucket, both secrets and the link function's environment (``overrides`` win;
    an empty value removes the variable). The handler's service is rebuilt on entry
    and exit, as in a fresh container."""
    from ipadrop.handlers import link
    from tests.conftest import boto_client

    s3 = boto_client("s3", endpoint)
    sm = boto_client("secretsmanager", endpoint)
    s3.create_bucket(Bucket=bucket)
    prefix = f"ipadrop/{uuid.uuid4().hex[:8]}"
    token_secret_id = f"{prefix}/token-keys"
    sm.create_secret(
        Name=token_secret_id,
        SecretString=json.dumps({"current": "k1", "k1": secrets.token_urlsafe(32)}),
    )
    sm.create_secret(
        Name=f"{prefix}/cloudfront-key",
        SecretString=json.dumps({"private_key_pem": cloudfront_keys[0].decode()}),
    )
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "IPADROP_BUCKET": bucket,
        "IPADROP_DISTRIBUTION_URL": DISTRIBUTION_URL,
        "IPADROP_TOKEN_SECRET_ID": token_secret_id,
        "IPADROP_CLOUDFRONT_KEY_SECRET_ID": f"{prefix}/cloudfront-key",
        "IPADROP_CLOUDFRONT_KEY_PAIR_ID": KEY_PAIR_ID,
        "IPADROP_CONTACT": "mobile-team@example.com",
        "IPADROP_PUBLIC_MODE": "",
        "IPADROP_DISTRIBUTION_URL_PARAMETER": "",
        **overrides,
    }
    for name, value in env.items():
        if value:
            setenv(name, value)
        else:
            delenv(name)
    link.service.cache_clear()
    try:
        yield Stack(s3, sm, bucket, token_secret_id, {KEY_PAIR_ID: cloudfront_keys[1]}, endpoint)
    finally:
        link.service.cache_clear()


def link_stack(
    endpoint: str,
    bucket: str,
    keys: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
    **overrides: str,
) -> Iterator[Stack]:
    """``open_stack`` with a pytest ``MonkeyPatch`` for the environment (a fixture body)."""
    with open_stack(
        endpoint,
        bucket,
        keys,
        monkeypatch.setenv,
        lambda name: monkeypatch.delenv(name, raising=False),
        **overrides,
    ) as stack:
        yield stack
