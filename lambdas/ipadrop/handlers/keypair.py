"""Custom resources (CDK Provider framework): the CloudFront signing key pair and its activation.

The link function signs with whatever the secret's top level holds, and the
key-pair id travels with the key (docs/DEPLOY.md, Key rotation)::

    {"generation": "2", "key_pair_id": "K2…", "private_key_pem": …, "public_key_pem": …,
     "activated_at": 1767225600,
     "pending":  {"generation": "3", "private_key_pem": …, "public_key_pem": …},
     "previous": {"generation": "1", "key_pair_id": "K1…", "private_key_pem": …, …}}

Two resource types share this handler:

``Custom::CloudFrontKeyPair`` (properties SecretId, Generation, PreviousGeneration,
RetireAfterSeconds, RetireNow) makes or finds the key of ``Generation`` and
returns its public key (``PublicKeyPem``) plus the public key of
``PreviousGeneration`` (``PreviousPublicKeyPem``, "" when none), which stays
in the key group. A new generation is made as ``pending``: nothing signs with
it yet. A same-generation update that finds no usable key fails (CloudFront
cannot change a public key's encoded key, so a fresh key would never verify).
Dropping ``PreviousGeneration`` (retiring the old key) fails until
``RetireAfterSeconds`` have passed since the activation, unless ``RetireNow``.

``Custom::CloudFrontKeyActivation`` (SecretId, Generation, KeyPairId) runs after
the key group trusts the new public key: it makes the key of ``Generation`` the
signing key together with its id, in one secret write; the old one becomes
``previous``. Rolling back (an older generation) swaps the two back.

Delete: nothing; the secret belongs to the stack and goes with it.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

PRIVATE_KEY_FIELD = "private_key_pem"
PUBLIC_KEY_FIELD = "public_key_pem"
GENERATION_FIELD = "generation"
KEY_PAIR_ID_FIELD = "key_pair_id"
ACTIVATED_AT_FIELD = "activated_at"
PENDING = "pending"
PREVIOUS = "previous"
PUBLIC_KEY_ATTRIBUTE = "PublicKeyPem"
PREVIOUS_PUBLIC_KEY_ATTRIBUTE = "PreviousPublicKeyPem"
KEY_PAIR_ID_ATTRIBUTE = "KeyPairId"
KEY_PAIR_TYPE = "Custom::CloudFrontKeyPair"
ACTIVATION_TYPE = "Custom::CloudFrontKeyActivation"
KEY_SIZE = 2048

# The request clock; tests move it.
clock: Callable[[], float] = time.time


class KeyPairError(RuntimeError):
    """The request cannot be done safely; CloudFormation shows the message and rolls back."""


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
    activation = event.get("ResourceType") == ACTIVATION_TYPE
    physical_id = f"{secret_id}#{'active' if activation else 'generation'}-{generation}"
    if request == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", physical_id)}
    state = _read_state(secrets, secret_id)
    if activation:
        key_pair_id = str(properties["KeyPairId"])
        _activate(secrets, secret_id, state, generation, key_pair_id)
        return {"PhysicalResourceId": physical_id, "Data": {KEY_PAIR_ID_ATTRIBUTE: key_pair_id}}
    return {
        "PhysicalResourceId": physical_id,
        "Data": _key_pair(event, secrets, secret_id, state, generation),
    }


def _key_pair(
    event: dict[str, Any], secrets: Any, secret_id: str, state: dict[str, Any], generation: str
) -> dict[str, str]:
    properties = event.get("ResourceProperties", {})
    previous_generation = str(properties.get("PreviousGeneration") or "")
    key = _find(state, generation)
    if event["RequestType"] == "Update":
        old = event.get("OldResourceProperties", {})
        same_generation = str(old.get("Generation", "1")) == generation
        if same_generation and key is None:
            raise KeyPairError(
                f"the signing-key secret holds no usable key of generation {generation}; a "
                "CloudFront public key cannot be given a new key in place: raise "
                "cloudfront_key_generation to make a new key pair (docs/DEPLOY.md, Key rotation)"
            )
        retiring = (
            same_generation and bool(old.get("PreviousGeneration")) and not previous_generation
        )
        if retiring and str(properties.get("RetireNow", "false")) != "true":
            _check_retirement(state, int(properties.get("RetireAfterSeconds", 0)))
    if key is None:
        private_pem = generate_private_key_pem()
        key = {
            GENERATION_FIELD: generation,
            PRIVATE_KEY_FIELD: private_pem.decode("ascii"),
            PUBLIC_KEY_FIELD: public_key_pem(private_pem).decode("ascii"),
        }
        state[PENDING] = key
        _write_state(secrets, secret_id, state)
    previous_public = ""
    if previous_generation:
        previous = _find(state, previous_generation)
        if previous is None:
            raise KeyPairError(
                f"cloudfront_key_previous_generation is {previous_generation}, but the secret "
                "holds no key of that generation: remove the setting (its key is gone)"
            )
        previous_public = str(previous[PUBLIC_KEY_FIELD])
    return {
        PUBLIC_KEY_ATTRIBUTE: str(key[PUBLIC_KEY_FIELD]),
        PREVIOUS_PUBLIC_KEY_ATTRIBUTE: previous_public,
    }


def _check_retirement(state: dict[str, Any], wait_seconds: int) -> None:
    activated_at = state.get(ACTIVATED_AT_FIELD)
    if not isinstance(activated_at, int | float):
        return
    ready_at = int(activated_at) + wait_seconds
    now = int(clock())
    if now < ready_at:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ready_at))
        raise KeyPairError(
            f"the previous CloudFront key still verifies downloads signed before the switch: "
            f"remove cloudfront_key_previous_generation after {when}, or set "
            "cloudfront_key_retire_now=true to cut them off now (after a leak)"
        )


def _activate(
    secrets: Any, secret_id: str, state: dict[str, Any], generation: str, key_pair_id: str
) -> None:
    signing = _signing(state)
    if signing is not None and signing[GENERATION_FIELD] == generation:
        if state.get(KEY_PAIR_ID_FIELD) == key_pair_id:
            return
        state[KEY_PAIR_ID_FIELD] = key_pair_id
        _write_state(secrets, secret_id, state)
        return
    pending = _usable(state.get(PENDING))
    previous = _usable(state.get(PREVIOUS))
    if pending is not None and pending[GENERATION_FIELD] == generation:
        new, demoted_to = pending, PREVIOUS
    elif previous is not None and previous[GENERATION_FIELD] == generation:
        # A rollback: the key it goes back to was trusted all along; the newer
        # one is untrusted again once the key group rolls back.
        new, demoted_to = previous, PENDING
    else:
        raise KeyPairError(f"the signing-key secret holds no key of generation {generation}")
    new_state: dict[str, Any] = {
        GENERATION_FIELD: generation,
        KEY_PAIR_ID_FIELD: key_pair_id,
        PRIVATE_KEY_FIELD: new[PRIVATE_KEY_FIELD],
        PUBLIC_KEY_FIELD: new[PUBLIC_KEY_FIELD],
        ACTIVATED_AT_FIELD: int(clock()),
    }
    if signing is not None:
        new_state[demoted_to] = signing
    _write_state(secrets, secret_id, new_state)


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


def _read_state(secrets: Any, secret_id: str) -> dict[str, Any]:
    """The secret's JSON; {} for CloudFormation's placeholder or anything unreadable."""
    value = secrets.get_secret_value(SecretId=secret_id)
    try:
        data = json.loads(value.get("SecretString", ""))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(secrets: Any, secret_id: str, state: dict[str, Any]) -> None:
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(state))


def _signing(state: dict[str, Any]) -> dict[str, Any] | None:
    """The top-level (signing) key as a record, with its id when it has one."""
    record = _usable(state)
    if record is None:
        return None
    if state.get(KEY_PAIR_ID_FIELD):
        record[KEY_PAIR_ID_FIELD] = state[KEY_PAIR_ID_FIELD]
    return record


def _find(state: dict[str, Any], generation: str) -> dict[str, Any] | None:
    """The usable key of ``generation`` wherever the secret holds it."""
    for record in (_signing(state), _usable(state.get(PENDING)), _usable(state.get(PREVIOUS))):
        if record is not None and record[GENERATION_FIELD] == generation:
            return record
    return None


def _usable(data: Any) -> dict[str, Any] | None:
    """``{generation, private_key_pem, public_key_pem}`` when ``data`` holds an RSA-2048
    key whose public half matches, else None."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not isinstance(data, dict) or GENERATION_FIELD not in data:
        return None
    try:
        pem = str(data[PRIVATE_KEY_FIELD]).encode("ascii")
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, KeyError, TypeError, UnicodeEncodeError):
        return None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != KEY_SIZE:
        return None
    public = public_key_pem(pem).decode("ascii")
    record: dict[str, Any] = {
        GENERATION_FIELD: str(data[GENERATION_FIELD]),
        PRIVATE_KEY_FIELD: pem.decode("ascii"),
        PUBLIC_KEY_FIELD: public,
    }
    if data.get(KEY_PAIR_ID_FIELD):
        record[KEY_PAIR_ID_FIELD] = data[KEY_PAIR_ID_FIELD]
    return record
