from __future__ import annotations

import pytest

from tests.conftest import boto_client

pytestmark = pytest.mark.integration


def test_moto_server_speaks_s3(moto_endpoint: str, bucket_name: str) -> None:
    s3 = boto_client("s3", moto_endpoint)
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="uploads/a b.ipa", Body=b"x")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name)["Contents"]]
    assert keys == ["uploads/a b.ipa"]
