"""The CloudFront key-pair custom resource against moto's Secrets Manager."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ipadrop.handlers import keypair
from tests.conftest import boto_client

pytestmark = pytest.mark.integration


@pytest.fixture
def secrets(moto_endpoint: str) -> Any:
    return boto_client("secretsmanager", moto_endpoint)


@pytest.fixture
def secret_arn(secrets: Any) -> str:
    # What CDK creates: a secret with a generated placeholder value.
    created = secrets.create_secret(
        Name=f"cf-key-{uuid.uuid4().hex[:12]}", SecretString="placeholder-from-cloudformation"
    )
    return str(created["ARN"])


def event(request: str, secret_arn: str, generation: str = "1", **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request,
        "ResourceProperties": {
            "ServiceToken": "arn:x",
            "SecretId": secret_arn,
            "Generation": generation,
        },
        **extra,
    }


def stored_private_key(secrets: Any, secret_arn: str) -> rsa.RSAPrivateKey:
    value = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
    key = serialization.load_pem_private_key(value["private_key_pem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_key_of(response: dict[str, Any]) -> rsa.RSAPublicKey:
    pem = response["Data"]["PublicKeyPem"]
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def test_create_stores_private_key_and_returns_matching_public_key(
    secrets: Any, secret_arn: str
) -> None:
    response = keypair.handle(event("Create", secret_arn), secrets)
    private_key = stored_private_key(secrets, secret_arn)
    public_key = public_key_of(response)
    assert private_key.key_size == 2048
    # The pair works the way CloudFront checks signed URLs: RSA-SHA1, PKCS#1 v1.5.
    message = b'{"Statement":[{"Resource":"https://d.example/builds/x"}]}'
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    assert response["PhysicalResourceId"] == f"{secret_arn}#generation-1"


def test_update_keeps_the_key(secrets: Any, secret_arn: str) -> None:
    created = keypair.handle(event("Create", secret_arn), secrets)
    updated = keypair.handle(
        event(
            "Update",
            secret_arn,
            PhysicalResourceId=created["PhysicalResourceId"],
            OldResourceProperties={"SecretId": secret_arn, "Generation": "1"},
        ),
        secrets,
    )
    assert updated == created


def test_new_generation_rotates_the_key(secrets: Any, secret_arn: str) -> None:
    created = keypair.handle(event("Create", secret_arn), secrets)
    rotated = keypair.handle(
        event(
            "Update",
            secret_arn,
            generation="2",
            PhysicalResourceId=created["PhysicalResourceId"],
            OldResourceProperties={"SecretId": secret_arn, "Generation": "1"},
        ),
        secrets,
    )
    assert rotated["PhysicalResourceId"] == f"{secret_arn}#generation-2"
    assert rotated["Data"]["PublicKeyPem"] != created["Data"]["PublicKeyPem"]
    assert public_key_of(rotated).public_numbers() == (
        stored_private_key(secrets, secret_arn).public_key().public_numbers()
    )


def test_update_repairs_a_secret_without_a_usable_key(secrets: Any, secret_arn: str) -> None:
    secrets.put_secret_value(SecretId=secret_arn, SecretString='{"private_key_pem": "nope"}')
    response = keypair.handle(
        event(
            "Update",
            secret_arn,
            PhysicalResourceId=f"{secret_arn}#generation-1",
            OldResourceProperties={"SecretId": secret_arn, "Generation": "1"},
        ),
        secrets,
    )
    assert public_key_of(response).public_numbers() == (
        stored_private_key(secrets, secret_arn).public_key().public_numbers()
    )


def test_delete_leaves_the_secret_alone(secrets: Any, secret_arn: str) -> None:
    keypair.handle(event("Create", secret_arn), secrets)
    before = secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
    response = keypair.handle(
        event("Delete", secret_arn, PhysicalResourceId=f"{secret_arn}#generation-1"), secrets
    )
    assert response == {"PhysicalResourceId": f"{secret_arn}#generation-1"}
    assert secrets.get_secret_value(SecretId=secret_arn)["SecretString"] == before


def test_rolling_back_a_rotation_brings_the_previous_key_back(
    secrets: Any, secret_arn: str
) -> None:
    created = keypair.handle(event("Create", secret_arn), secrets)
    rotate = {"OldResourceProperties": {"SecretId": secret_arn, "Generation": "1"}}
    keypair.handle(event("Update", secret_arn, generation="2", **rotate), secrets)
    # The deploy failed later on: CloudFormation asks for generation 1 again, whose
    # PublicKey resource still holds the first public key.
    rollback = {"OldResourceProperties": {"SecretId": secret_arn, "Generation": "2"}}
    rolled_back = keypair.handle(event("Update", secret_arn, generation="1", **rollback), secrets)
    assert rolled_back == created
    assert public_key_of(created).public_numbers() == (
        stored_private_key(secrets, secret_arn).public_key().public_numbers()
    )


def test_the_private_key_never_leaves_the_secret(secrets: Any, secret_arn: str) -> None:
    # What the handler returns is logged by the Provider framework and kept by CloudFormation.
    response = keypair.handle(event("Create", secret_arn), secrets)
    stored = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
    text = json.dumps(response)
    assert "PRIVATE KEY" not in text
    assert stored["private_key_pem"] not in text
    assert set(response["Data"]) == {"PublicKeyPem"}
