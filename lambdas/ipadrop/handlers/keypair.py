"""Custom resource (CDK Provider framework): the CloudFront signing key pair.

Create: make an RSA-2048 key (botocore's CloudFrontSigner writes RSA-SHA1
signatures, which CloudFront accepts from RSA-2048 keys only), store the
private key PEM as ``{"private_key_pem": ...}`` in the secret the stack made,
return the public key PEM as the ``PublicKeyPem`` attribute.

Update: keep the key, unless the ``Generation`` property changed (rotation) or
the secret holds no usable key; either way return the current public key. The
secret records the generation of its key, so when CloudFormation rolls a
rotation back (generation N+1 -> N) the key of generation N, still in the
secret's ``AWSPREVIOUS`` version and still in the old ``PublicKey``, comes back
instead of a third key that no public key matches.

Delete: nothing; the secret belongs to the stack and goes with it.
"""

from __future__ import annotations

import functools
import json
from typing import Any

PRIVATE_KEY_FIELD = "private_key_pem"
GENERATION_FIELD = "generation"
PUBLIC_KEY_ATTRIBUTE = "PublicKeyPem"
KEY_SIZE = 2048


@functools.cache
def _secrets_client() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return handle(event, _secrets_client())


def handle(event: dict[str, Any], secrets: Any) -> dict[str, Any]:
    """The custom-resource logic over an injected Secrets Manager client."""
    request = event["RequestType"]
    properties = event.get("ResourceProperties", {})
    secret_id = str(properties["SecretId"])
    generation = str(properties.get("Generation", "1"))
    physical_id = f"{secret_id}#generation-{generation}"

    if request == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}

    private_pem: bytes | None = None
    if request == "Update":
        old_generation = str(event.get("OldResourceProperties", {}).get("Generation", "1"))
        if old_generation == generation:
            private_pem = _stored_private_key(secrets, secret_id)
        else:
            # A rollback of a rotation asks for the generation the secret held before.
            private_pem = _stored_private_key(
                secrets, secret_id, stage="AWSPREVIOUS", generation=generation
            )
            if private_pem is not None:
                _store(secrets, secret_id, private_pem, generation)
    if private_pem is None:
        private_pem = generate_private_key_pem()
        _store(secrets, secret_id, private_pem, generation)
    return {
        "PhysicalResourceId": physical_id,
        "Data": {PUBLIC_KEY_ATTRIBUTE: public_key_pem(private_pem).decode("ascii")},
    }


def generate_private_key_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def public_key_pem(private_pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo PEM CloudFront's ``PublicKey`` expects."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def _store(secrets: Any, secret_id: str, private_pem: bytes, generation: str) -> None:
    secrets.put_secret_value(
        SecretId=secret_id,
        SecretString=json.dumps(
            {PRIVATE_KEY_FIELD: private_pem.decode("ascii"), GENERATION_FIELD: generation}
        ),
    )


def _stored_private_key(
    secrets: Any, secret_id: str, *, stage: str = "AWSCURRENT", generation: str | None = None
) -> bytes | None:
    """The private key in the secret's ``stage`` version (of ``generation`` when given),
    or None when that version holds none."""
    from botocore.exceptions import ClientError
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        value = secrets.get_secret_value(SecretId=secret_id, VersionStage=stage)
    except ClientError:
        if stage == "AWSCURRENT":
            raise
        return None  # no previous version
    try:
        data = json.loads(value.get("SecretString", ""))
        if generation is not None and str(data.get(GENERATION_FIELD)) != generation:
            return None
        pem = data[PRIVATE_KEY_FIELD].encode("ascii")
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != KEY_SIZE:
        return None
    return bytes(pem)
