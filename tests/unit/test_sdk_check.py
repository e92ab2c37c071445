"""A runtime botocore without S3 conditional writes fails at init, in one sentence."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from ipadrop.adapters.s3store import S3BuildStore
from ipadrop.adapters.sdk_check import (
    SdkTooOld,
    missing_conditional_members,
    require_conditional_writes,
)


def s3_client() -> Any:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def client_without(operation: str, member: str) -> Any:
    """A client whose S3 model lacks one member, as an older botocore's would."""
    real = s3_client().meta.service_model

    class Model:
        def operation_model(self, name: str) -> Any:
            model = real.operation_model(name)
            if name != operation:
                return model
            members = {k: v for k, v in model.input_shape.members.items() if k != member}
            return SimpleNamespace(input_shape=SimpleNamespace(members=members))

    return SimpleNamespace(meta=SimpleNamespace(service_model=Model()))


def test_the_locked_botocore_has_every_conditional_member() -> None:
    assert missing_conditional_members(s3_client()) == []
    require_conditional_writes(s3_client())


@pytest.mark.parametrize(
    ("operation", "member"),
    [("PutObject", "IfMatch"), ("PutObject", "IfNoneMatch"), ("DeleteObject", "IfMatch")],
)
def test_an_older_botocore_is_refused_by_name(operation: str, member: str) -> None:
    client = client_without(operation, member)
    with pytest.raises(SdkTooOld, match=rf"lacks {operation}\.{member} \(S3 conditional"):
        require_conditional_writes(client)
    # The store refuses at construction: before it could write anything.
    with pytest.raises(SdkTooOld):
        S3BuildStore(client, "bucket")
