"""The CloudFront key-pair custom resource against moto's Secrets Manager."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ipadrop.adapters.secrets import RuntimeSecrets, SecretUnusable, SigningKey
from ipadrop.handlers import keypair
from tests.conftest import boto_client

pytestmark = pytest.mark.integration

WAIT = 3960  # RetireAfterSeconds: secret cache + asset URL life + margin
T0 = 1_800_000_000


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [float(T0)]
    monkeypatch.setattr(keypair, "clock", lambda: now[0])
    return now


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


def event(
    request: str,
    secret_arn: str,
    generation: str = "1",
    *,
    previous: str = "",
    old: dict[str, str] | None = None,
    retire_now: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A Custom::CloudFrontKeyPair request as the Provider framework passes it."""
    properties = {
        "ServiceToken": "arn:x",
        "SecretId": secret_arn,
        "Generation": generation,
        "PreviousGeneration": previous,
        "RetireAfterSeconds": str(WAIT),
        "RetireNow": "true" if retire_now else "false",
    }
    built: dict[str, Any] = {
        "RequestType": request,
        "ResourceType": keypair.KEY_PAIR_TYPE,
        "ResourceProperties": properties,
        **extra,
    }
    if old is not None:
        built["OldResourceProperties"] = {**properties, "PreviousGeneration": "", **old}
    return built


def activate(secrets: Any, secret_arn: str, generation: str, key_pair_id: str) -> dict[str, Any]:
    """What CloudFormation sends once the key group trusts the new public key."""
    request = {
        "RequestType": "Update",
        "ResourceType": keypair.ACTIVATION_TYPE,
        "ResourceProperties": {
            "ServiceToken": "arn:x",
            "SecretId": secret_arn,
            "Generation": generation,
            "KeyPairId": key_pair_id,
        },
    }
    return keypair.handle(request, secrets)


def stored(secrets: Any, secret_arn: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
    )
    return value


def stored_private_key(secrets: Any, secret_arn: str) -> rsa.RSAPrivateKey:
    """The key the link function signs with (the secret's top level)."""
    value = stored(secrets, secret_arn)
    key = serialization.load_pem_private_key(value["private_key_pem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def signing_key(secrets: Any, secret_arn: str) -> SigningKey:
    """What the link function reads: key and key-pair id from one read."""
    return RuntimeSecrets(secrets_client=secrets, max_age_seconds=0).cloudfront_signing_key(
        secret_arn
    )


def public_key_of(response: dict[str, Any]) -> rsa.RSAPublicKey:
    pem = response["Data"]["PublicKeyPem"]
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def same_numbers(public: rsa.RSAPublicKey, private: rsa.RSAPrivateKey) -> bool:
    return public.public_numbers() == private.public_key().public_numbers()


def deploy_first(secrets: Any, secret_arn: str) -> dict[str, Any]:
    created = keypair.handle(event("Create", secret_arn), secrets)
    activate(secrets, secret_arn, "1", "K1")
    return created


def test_create_makes_a_pair_that_signs_as_cloudfront_checks(secrets: Any, secret_arn: str) -> None:
    response = keypair.handle(event("Create", secret_arn), secrets)
    assert response["PhysicalResourceId"] == f"{secret_arn}#generation-1"
    assert response["Data"]["PreviousPublicKeyPem"] == ""
    # Not trusted yet: nothing may sign with it before the key group holds it.
    with pytest.raises(SecretUnusable):
        signing_key(secrets, secret_arn)
    activated = activate(secrets, secret_arn, "1", "K1")
    assert activated["Data"] == {"KeyPairId": "K1"}
    key = signing_key(secrets, secret_arn)
    assert key.key_pair_id == "K1"
    private_key = stored_private_key(secrets, secret_arn)
    assert private_key.key_size == 2048
    public_key = public_key_of(response)
    # The pair works the way CloudFront checks signed URLs: RSA-SHA1, PKCS#1 v1.5.
    message = b'{"Statement":[{"Resource":"https://d.example/builds/x"}]}'
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


def test_same_generation_update_keeps_key_and_id(secrets: Any, secret_arn: str) -> None:
    created = deploy_first(secrets, secret_arn)
    before = stored(secrets, secret_arn)
    updated = keypair.handle(event("Update", secret_arn, old={"Generation": "1"}), secrets)
    assert updated == created
    activate(secrets, secret_arn, "1", "K1")
    assert stored(secrets, secret_arn) == before


def test_same_generation_update_without_a_usable_key_fails(secrets: Any, secret_arn: str) -> None:
    # A fresh key here would never verify: CloudFront cannot change the public
    # key's encoded key in place. The update must fail, and leave the secret as is.
    secrets.put_secret_value(SecretId=secret_arn, SecretString='{"private_key_pem": "nope"}')
    with pytest.raises(keypair.KeyPairError, match="raise cloudfront_key_generation"):
        keypair.handle(event("Update", secret_arn, old={"Generation": "1"}), secrets)
    assert stored(secrets, secret_arn) == {"private_key_pem": "nope"}


def test_rotation_is_two_phase_and_the_id_moves_with_the_key(
    secrets: Any, secret_arn: str, frozen_clock: list[float]
) -> None:
    first = deploy_first(secrets, secret_arn)
    old_public = first["Data"]["PublicKeyPem"]

    # Phase 1, step 1: the new key is made, the old one stays the signer.
    rotated = keypair.handle(
        event("Update", secret_arn, "2", previous="1", old={"Generation": "1"}), secrets
    )
    assert rotated["PhysicalResourceId"] == f"{secret_arn}#generation-2"
    assert rotated["Data"]["PublicKeyPem"] != old_public
    assert rotated["Data"]["PreviousPublicKeyPem"] == old_public  # stays in the key group
    key = signing_key(secrets, secret_arn)
    assert key.key_pair_id == "K1"
    assert same_numbers(public_key_of(first), stored_private_key(secrets, secret_arn))

    # Phase 1, step 2 (after the key group trusts both): key and id switch together.
    activate(secrets, secret_arn, "2", "K2")
    assert signing_key(secrets, secret_arn).key_pair_id == "K2"
    assert same_numbers(public_key_of(rotated), stored_private_key(secrets, secret_arn))
    assert stored(secrets, secret_arn)["previous"]["key_pair_id"] == "K1"

    # Phase 2: retiring the old key too early fails (URLs it signed are still live)...
    retire = event("Update", secret_arn, "2", old={"Generation": "2", "PreviousGeneration": "1"})
    with pytest.raises(keypair.KeyPairError, match="cloudfront_key_retire_now"):
        keypair.handle(retire, secrets)
    # ...and succeeds once the asset URL life has passed.
    frozen_clock[0] += WAIT
    retired = keypair.handle(retire, secrets)
    assert retired["Data"]["PreviousPublicKeyPem"] == ""
    assert retired["Data"]["PublicKeyPem"] == rotated["Data"]["PublicKeyPem"]


def test_retire_now_cuts_the_old_key_off_at_once(secrets: Any, secret_arn: str) -> None:
    deploy_first(secrets, secret_arn)
    keypair.handle(event("Update", secret_arn, "2", previous="1", old={"Generation": "1"}), secrets)
    activate(secrets, secret_arn, "2", "K2")
    retire = event(
        "Update",
        secret_arn,
        "2",
        retire_now=True,
        old={"Generation": "2", "PreviousGeneration": "1"},
    )
    assert keypair.handle(retire, secrets)["Data"]["PreviousPublicKeyPem"] == ""


def test_rollback_before_activation_keeps_the_old_signer(secrets: Any, secret_arn: str) -> None:
    created = deploy_first(secrets, secret_arn)
    keypair.handle(event("Update", secret_arn, "2", previous="1", old={"Generation": "1"}), secrets)
    # The new PublicKey failed: CloudFormation asks for generation 1 again.
    rollback = event("Update", secret_arn, "1", old={"Generation": "2", "PreviousGeneration": "1"})
    assert keypair.handle(rollback, secrets) == created
    activate(secrets, secret_arn, "1", "K1")
    assert signing_key(secrets, secret_arn).key_pair_id == "K1"
    assert same_numbers(public_key_of(created), stored_private_key(secrets, secret_arn))


def test_rollback_after_activation_swaps_back(secrets: Any, secret_arn: str) -> None:
    created = deploy_first(secrets, secret_arn)
    keypair.handle(event("Update", secret_arn, "2", previous="1", old={"Generation": "1"}), secrets)
    activate(secrets, secret_arn, "2", "K2")
    # A later resource failed: the key pair goes back first, then the activation.
    rollback = event("Update", secret_arn, "1", old={"Generation": "2", "PreviousGeneration": "1"})
    assert keypair.handle(rollback, secrets) == created
    activate(secrets, secret_arn, "1", "K1")
    assert signing_key(secrets, secret_arn).key_pair_id == "K1"
    assert same_numbers(public_key_of(created), stored_private_key(secrets, secret_arn))


def test_previous_generation_that_the_secret_lacks_fails(secrets: Any, secret_arn: str) -> None:
    deploy_first(secrets, secret_arn)
    with pytest.raises(keypair.KeyPairError, match="no key of that generation"):
        keypair.handle(
            event("Update", secret_arn, "3", previous="2", old={"Generation": "1"}), secrets
        )


def test_delete_leaves_the_secret_alone(secrets: Any, secret_arn: str) -> None:
    deploy_first(secrets, secret_arn)
    before = secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
    response = keypair.handle(
        event("Delete", secret_arn, PhysicalResourceId=f"{secret_arn}#generation-1"), secrets
    )
    assert response == {"PhysicalResourceId": f"{secret_arn}#generation-1"}
    assert secrets.get_secret_value(SecretId=secret_arn)["SecretString"] == before


def test_the_private_key_never_leaves_the_secret(secrets: Any, secret_arn: str) -> None:
    # What the handler returns is logged by the Provider framework and kept by CloudFormation.
    response = keypair.handle(event("Create", secret_arn), secrets)
    activate(secrets, secret_arn, "1", "K1")
    rotated = keypair.handle(
        event("Update", secret_arn, "2", previous="1", old={"Generation": "1"}), secrets
    )
    state = stored(secrets, secret_arn)
    for answer in (response, rotated):
        text = json.dumps(answer)
        assert "PRIVATE KEY" not in text
        assert state["private_key_pem"] not in text
        assert set(answer["Data"]) == {"PublicKeyPem", "PreviousPublicKeyPem"}
