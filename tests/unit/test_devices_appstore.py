"""App Store Connect device registration against a local server that follows
Apple's published description of ``/v1/devices`` (never against Apple)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ipadrop.adapters.appstore import AppStoreConnect, RegistrationFailed, es256_jwt
from ipadrop_tools.devkit.fake_appstore import FakeAppStore, fake_app_store

UDID = "00008101-000A1B2C3D4E5F60"


def _key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key, pem


def test_the_jwt_is_es256_with_apples_claims() -> None:
    key, pem = _key()
    fake = FakeAppStore(public_key=key.public_key(), key_id="KEY123", issuer_id="iss-1")
    token = es256_jwt(issuer_id="iss-1", key_id="KEY123", private_key_pem=pem, now=1_800_000_000)
    assert fake.check_token(f"Bearer {token}") is None
    other = FakeAppStore(public_key=_key()[0].public_key(), key_id="KEY123", issuer_id="iss-1")
    assert other.check_token(f"Bearer {token}") == "bad signature"
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(RegistrationFailed, match="P-256"):
        es256_jwt(issuer_id="i", key_id="k", private_key_pem=rsa_pem, now=0)


def test_register_then_register_again_finds_the_same_device() -> None:
    key, pem = _key()
    fake = FakeAppStore(public_key=key.public_key(), key_id="KEY123", issuer_id="iss-1")
    with fake_app_store(fake) as url:
        api = AppStoreConnect(issuer_id="iss-1", key_id="KEY123", private_key_pem=pem, base_url=url)
        first = api.register_device(udid=UDID, name="Ann's iPhone")
        again = api.register_device(udid=UDID, name="Ann's iPhone")
    assert first == again == "DEV000001"
    assert fake.devices[UDID]["attributes"]["name"] == "Ann's iPhone"
    assert [r[0] for r in fake.requests] == ["POST", "POST", "GET"]


def test_a_wrong_key_is_a_clear_failure() -> None:
    key, _ = _key()
    _, wrong_pem = _key()
    fake = FakeAppStore(public_key=key.public_key(), key_id="KEY123", issuer_id="iss-1")
    with fake_app_store(fake) as url:
        api = AppStoreConnect(
            issuer_id="iss-1", key_id="KEY123", private_key_pem=wrong_pem, base_url=url
        )
        with pytest.raises(RegistrationFailed, match="401: bad signature"):
            api.register_device(udid=UDID, name="x")
    assert fake.devices == {}


def test_only_https_or_a_local_server() -> None:
    with pytest.raises(ValueError, match="https"):
        AppStoreConnect(
            issuer_id="i", key_id="k", private_key_pem=b"", base_url="file:///etc/passwd"
        )
