from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ipadrop.adapters.cloudfront_signing import generate_key_pair, load_private_key, sign_url
from ipadrop_tools.local.cloudfront_verify import (
    SignatureRejected,
    canned_policy,
    verify_signed_url,
)

URL = "https://d111111abcdef8.cloudfront.net/builds/com.example.sample/20261124T002616Z-1a2b3c4d5e/app.ipa"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"
EXPIRES = 1_800_003_600
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, bytes]:
    return generate_key_pair()


@pytest.fixture(scope="module")
def signed(key_pair: tuple[bytes, bytes]) -> str:
    return sign_url(URL, key_pair_id=KEY_PAIR_ID, private_key_pem=key_pair[0], expires_at=EXPIRES)


def keys(key_pair: tuple[bytes, bytes]) -> dict[str, bytes]:
    return {KEY_PAIR_ID: key_pair[1]}


def test_generated_key_is_rsa_2048_pem(key_pair: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = key_pair
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048


def test_signed_url_has_the_three_canned_parameters(signed: str) -> None:
    assert signed.startswith(URL + "?Expires=")
    query = parse_qs(urlsplit(signed).query)
    assert query["Expires"] == [str(EXPIRES)]
    assert query["Key-Pair-Id"] == [KEY_PAIR_ID]
    assert not set(query["Signature"][0]) & set("+=/")


def test_signature_checks_out_independently(key_pair: tuple[bytes, bytes], signed: str) -> None:
    # Rebuild what CloudFront rebuilds, by hand, and verify with the public key.
    signature_text = signed.split("Signature=")[1].split("&", maxsplit=1)[0]
    signature = base64.b64decode(
        signature_text.replace("-", "+").replace("_", "=").replace("~", "/")
    )
    policy = (
        '{"Statement":[{"Resource":"' + URL + '","Condition":'
        '{"DateLessThan":{"AWS:EpochTime":' + str(EXPIRES) + "}}}]}"
    ).encode()
    assert canned_policy(URL, EXPIRES) == policy
    assert json.loads(policy)["Statement"][0]["Resource"] == URL
    public_key = serialization.load_pem_public_key(key_pair[1])
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


def test_verify_accepts_until_expiry(key_pair: tuple[bytes, bytes], signed: str) -> None:
    verify_signed_url(signed, public_keys=keys(key_pair), now=NOW)
    verify_signed_url(signed, public_keys=keys(key_pair), now=EXPIRES - 1)
    with pytest.raises(SignatureRejected) as rejected:
        verify_signed_url(signed, public_keys=keys(key_pair), now=EXPIRES)
    assert rejected.value.reason == "expired"


def test_existing_query_is_part_of_the_resource(key_pair: tuple[bytes, bytes]) -> None:
    url = URL + "?response-content-type=application%2Foctet-stream"
    signed = sign_url(url, key_pair_id=KEY_PAIR_ID, private_key_pem=key_pair[0], expires_at=EXPIRES)
    assert "&Expires=" in signed
    verify_signed_url(signed, public_keys=keys(key_pair), now=NOW)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_signed_url(
            signed.replace("octet-stream", "x-other"), public_keys=keys(key_pair), now=NOW
        )


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda u: u.replace("app.ipa", "icon.png"), "bad_signature"),
        (lambda u: u.replace("com.example.sample", "com.example.other"), "bad_signature"),
        (lambda u: u.replace("https://", "http://"), "bad_signature"),
        (lambda u: u.replace(f"Expires={EXPIRES}", f"Expires={EXPIRES + 1}"), "bad_signature"),
        (lambda u: u.replace(f"Expires={EXPIRES}", f"Expires=0{EXPIRES}"), "malformed"),
        (lambda u: u.replace(f"Expires={EXPIRES}", "Expires=soon"), "malformed"),
        (lambda u: u.replace(f"Key-Pair-Id={KEY_PAIR_ID}", "Key-Pair-Id=KOTHER"), "unknown_key"),
        (lambda u: u.split("&Key-Pair-Id")[0], "missing"),
        (lambda u: u.replace("Signature=", "Signature=AAAA"), "bad_signature"),
        (lambda u: u.replace("Signature=", "Signature=%%"), "malformed"),
        (lambda u: u + "&Expires=1", "malformed"),
    ],
)
def test_tampered_urls_are_rejected(
    key_pair: tuple[bytes, bytes], signed: str, tamper: object, reason: str
) -> None:
    assert callable(tamper)
    with pytest.raises(SignatureRejected) as rejected:
        verify_signed_url(tamper(signed), public_keys=keys(key_pair), now=NOW)
    assert rejected.value.reason == reason


def test_every_flipped_signature_character_is_rejected(
    key_pair: tuple[bytes, bytes], signed: str
) -> None:
    head, rest = signed.split("Signature=")
    signature, tail = rest.split("&", 1)
    for index in range(0, len(signature), 7):
        flipped = (
            signature[:index] + ("A" if signature[index] != "A" else "B") + signature[index + 1 :]
        )
        with pytest.raises(SignatureRejected):
            verify_signed_url(
                f"{head}Signature={flipped}&{tail}", public_keys=keys(key_pair), now=NOW
            )


def test_signature_from_another_key_is_rejected(key_pair: tuple[bytes, bytes]) -> None:
    other_private, _ = generate_key_pair()
    forged = sign_url(
        URL, key_pair_id=KEY_PAIR_ID, private_key_pem=other_private, expires_at=EXPIRES
    )
    with pytest.raises(SignatureRejected) as rejected:
        verify_signed_url(forged, public_keys=keys(key_pair), now=NOW)
    assert rejected.value.reason == "bad_signature"


def test_private_key_is_parsed_once(key_pair: tuple[bytes, bytes]) -> None:
    assert load_private_key(key_pair[0]) is load_private_key(key_pair[0])


def test_small_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point of the test
    pem = small.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="2048"):
        sign_url(URL, key_pair_id=KEY_PAIR_ID, private_key_pem=pem, expires_at=EXPIRES)
