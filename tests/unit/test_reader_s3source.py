"""S3RangeSource against the moto server: ranged GETs, counted, never the whole object."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ipadrop.adapters.s3source import S3RangeSource
from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.sources import read_ranges
from ipadrop_tools.devkit.sample_ipa import build_ipa
from tests.conftest import boto_client

pytestmark = pytest.mark.integration


def test_inspect_over_s3_reads_a_fraction(
    moto_endpoint: str, bucket_name: str, tmp_path: Path
) -> None:
    path = tmp_path / "app.ipa"
    build_ipa(path, bundle_id="com.example.s3", padding_bytes=3 * 1024 * 1024)
    client = boto_client("s3", moto_endpoint)
    client.create_bucket(Bucket=bucket_name)
    client.upload_file(str(path), bucket_name, "uploads/app.ipa")

    source = S3RangeSource(client, bucket_name, "uploads/app.ipa")
    assert source.size == path.stat().st_size
    assert source.etag
    result = inspect_ipa(source)
    assert result.facts.bundle_id == "com.example.s3"
    assert result.icon_png is not None
    assert 0 < source.bytes_read < 400_000  # the 256 KiB tail, then the entries
    assert source.requests <= 4  # HEAD, the tail, the entries (coalesced)

    sized = S3RangeSource(client, bucket_name, "uploads/app.ipa", size=source.size)
    assert sized.read_at(0, 4) == b"PK\x03\x04"
    assert sized.read_at(source.size - 2, 10) == path.read_bytes()[-2:]
    assert sized.read_at(source.size, 10) == b""
    assert sized.bytes_read == 6
    assert sized.requests == 2  # the read past the end cost nothing


def test_overwritten_object_is_not_mixed(moto_endpoint: str, bucket_name: str) -> None:
    client = boto_client("s3", moto_endpoint)
    client.create_bucket(Bucket=bucket_name)
    client.put_object(Bucket=bucket_name, Key="k", Body=b"first version")
    source = S3RangeSource(client, bucket_name, "k")
    client.put_object(Bucket=bucket_name, Key="k", Body=b"second version")
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        source.read_at(0, 5)


def test_builds_its_own_client_from_aws_endpoint_url(
    moto_endpoint: str, bucket_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto_client("s3", moto_endpoint)
    client.create_bucket(Bucket=bucket_name)
    client.put_object(Bucket=bucket_name, Key="k", Body=b"0123456789")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    source = S3RangeSource(None, bucket_name, "k")
    assert source.read_at(3, 4) == b"3456"
    assert source.bytes_read == 4


def test_read_many_fetches_ranges_concurrently_in_order(
    moto_endpoint: str, bucket_name: str
) -> None:
    client = boto_client("s3", moto_endpoint)
    client.create_bucket(Bucket=bucket_name)
    body = bytes(range(256)) * 64
    client.put_object(Bucket=bucket_name, Key="blob", Body=body)
    source = S3RangeSource(client, bucket_name, "blob", size=len(body))
    ranges = [(0, 10), (5000, 100), (len(body) - 3, 50), (777, 1)]
    assert read_ranges(source, ranges) == [body[o : o + n] for o, n in ranges]
    assert source.requests == 4
    assert source.bytes_read == 10 + 100 + 3 + 1
