"""Shared test fixtures: where the real IPAs live (skipping when they are absent),
the moto server with its S3 client and a fresh bucket per test, a CloudFront key
pair, and the shared Chromium."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from ipadrop_tools.devkit.chromium import CHROMIUM_ARGS, CHROMIUM_PATH

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
REAL_FIXTURES = SHARED_DIR / "fixtures" / "real"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    if not REAL_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not found at {REAL_FIXTURES} (../shared is absent)")
    return REAL_FIXTURES


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server (S3, SQS, Secrets Manager wire protocol) on a free port.

    Session-wide and per xdist worker. Tests isolate themselves by using their
    own bucket names (see ``bucket_name``).
    """
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
    )
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def bucket_name(request: pytest.FixtureRequest) -> str:
    """A bucket name unique to the test (S3 naming rules: lowercase, digits, hyphens)."""
    return f"t-{uuid.uuid4().hex[:20]}"


@pytest.fixture(scope="session")
def s3(moto_endpoint: str) -> Any:
    """An S3 client for the moto server."""
    return boto_client("s3", moto_endpoint)


@pytest.fixture
def bucket(s3: Any, bucket_name: str) -> str:
    """A fresh, empty bucket in moto, unique to the test."""
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


@pytest.fixture(scope="session")
def cloudfront_keys() -> tuple[bytes, bytes]:
    """A CloudFront signing key pair (private PEM, public PEM), made once per process."""
    from ipadrop.adapters.cloudfront_signing import generate_key_pair

    return generate_key_pair()


def boto_client(service: str, endpoint: str) -> Any:
    """A boto3 client for the moto server (SigV4 for S3 so presigned URLs match AWS)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        cast(Any, service),
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", retries={"max_attempts": 2}),
    )


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """One headless Chromium per test process.

    Playwright's sync API allows one running instance per thread, so every
    browser test (browser/, e2e/, hardening/) shares this fixture.
    """
    if not CHROMIUM_PATH.exists():
        pytest.fail(f"Debian's chromium is required at {CHROMIUM_PATH} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM_PATH), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
