"""Token forgery through the real link handler (API Gateway HTTP API v2 events):
every byte flipped, every character swapped, every truncation, key-id swaps,
spliced tags, foreign keys, replays past expiry, and signed asset URLs bent to
reach another object. The only answers allowed are refusals; none may leak a
build or echo the token back."""

from __future__ import annotations

import base64
import json
import plistlib
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from ipadrop.handlers import wiring
from ipadrop.links import tokens
from ipadrop_tools.local.cloudfront_verify import SignatureRejected, verify_signed_url
from tests.integration.link_support import (
    BUILD_1,
    BUILD_2,
    BUNDLE,
    Stack,
    link_stack,
    make_record,
    seed_build,
)

pytestmark = pytest.mark.integration

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, cloudfront_keys: tuple[bytes, bytes]) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        bucket = f"t-{uuid.uuid4().hex[:20]}"
        for opened in link_stack(moto_endpoint, bucket, cloudfront_keys, monkeypatch):
            seed_build(opened.s3, bucket, make_record(BUNDLE, BUILD_1, version="1.0"))
            seed_build(opened.s3, bucket, make_record(BUNDLE, BUILD_2, version="2.0"))
            yield opened


@pytest.fixture
def ring(stack: Stack) -> dict[str, str]:
    """The live key ring (restored after a test that rotates it)."""
    value = stack.secrets.get_secret_value(SecretId=stack.token_secret_id)["SecretString"]
    original: dict[str, str] = json.loads(value)
    return original


def token_of(minted: dict[str, Any]) -> str:
    return str(minted["install_url"]).rsplit("/", 1)[1]


def decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def open_both(stack: Stack, token: str) -> list[dict[str, Any]]:
    return [
        stack.call("GET", f"/i/{token}"),
        stack.call("GET", f"/m/{token}/manifest.plist"),
    ]


def assert_refused(stack: Stack, token: str, *, status: int = 403) -> None:
    for response in open_both(stack, token):
        assert response["statusCode"] == status, (token, response["statusCode"])
        assert response["headers"]["Content-Type"].startswith("text/html")
        assert "download-manifest" not in response["body"]
        if len(token) >= 8:
            assert token not in response["body"], "a refused token is echoed back"


def test_a_genuine_token_opens_both_routes(stack: Stack) -> None:
    token = token_of(stack.mint(BUILD_1))
    page, manifest = open_both(stack, token)
    assert page["statusCode"] == 200
    assert manifest["statusCode"] == 200
    assert plistlib.loads(manifest["body"].encode())["items"][0]["metadata"]["bundle-version"] == (
        "1.0"
    )


@pytest.mark.parametrize("build", [BUILD_1, "latest"])
def test_every_bit_of_every_byte_flipped_is_refused(stack: Stack, build: str) -> None:
    raw = decode(token_of(stack.mint(build)))
    for position in range(len(raw)):
        for mask in (0x01, 0x02, 0x10, 0x80):
            forged = bytearray(raw)
            forged[position] ^= mask
            assert_refused(stack, encode(bytes(forged)))


def test_every_character_replaced_is_refused(stack: Stack) -> None:
    token = token_of(stack.mint(BUILD_1))
    for position, char in enumerate(token):
        for replacement in {ALPHABET[(ALPHABET.index(char) + 1) % 64], "A", "_"} - {char}:
            forged = token[:position] + replacement + token[position + 1 :]
            assert_refused(stack, forged)


def test_every_truncation_and_extension_is_refused(stack: Stack) -> None:
    token = token_of(stack.mint(BUILD_1))
    for length in range(1, len(token)):
        assert_refused(stack, token[:length])
        assert_refused(stack, token[length:])
    for suffix in ("A", "AA", "AAAA", "-", token):
        assert_refused(stack, token + suffix)
    for response in open_both(stack, ""):
        assert response["statusCode"] == 404
    # Standard base64's alphabet for the URL-safe one (only where it changes something).
    standard = token.replace("-", "+").replace("_", "/")
    odd_tokens = [token + "=", token + "%3D", "%2E%2E", "..", "A" * 400, token.upper()]
    for odd in odd_tokens + ([standard] if standard != token else []):
        for response in open_both(stack, odd):
            assert response["statusCode"] in (403, 404), odd


def test_tags_and_payloads_of_two_genuine_tokens_do_not_splice(stack: Stack) -> None:
    first = decode(token_of(stack.mint(BUILD_1)))
    second = decode(token_of(stack.mint(BUILD_2)))
    tag = tokens.TAG_LENGTH
    assert first[:-tag] != second[:-tag]
    assert_refused(stack, encode(first[:-tag] + second[-tag:]))
    assert_refused(stack, encode(second[:-tag] + first[-tag:]))
    # Same tag, payload of another build: re-pointing a link never works.
    assert_refused(stack, encode(second[:-tag] + first[-tag:]))


def test_tokens_made_with_any_key_but_ours_are_refused(stack: Stack) -> None:
    now = int(time.time())
    attacker = secrets.token_bytes(32)
    for kid in ("k1", "k2", "current", "x" * 16):
        forged = tokens.mint_token(
            tokens.KeyRing(keys={kid: attacker}, current=kid),
            bundle_id=BUNDLE,
            build_id=BUILD_1,
            not_before=now - 10,
            expires_at=now + 3600,
        )
        assert_refused(stack, forged)


def test_swapping_the_key_id_during_a_rotation_is_refused(
    stack: Stack, ring: dict[str, str]
) -> None:
    old_secret = ring["k1"]
    new_secret = secrets.token_urlsafe(32)
    try:
        stack.put_token_keys({"current": "k2", "k1": old_secret, "k2": new_secret})
        new_token = token_of(stack.mint(BUILD_1))
        stack.put_token_keys({"current": "k1", "k1": old_secret, "k2": new_secret})
        old_token = token_of(stack.mint(BUILD_1))
        stack.put_token_keys({"current": "k2", "k1": old_secret, "k2": new_secret})
        for genuine in (old_token, new_token):
            assert [r["statusCode"] for r in open_both(stack, genuine)] == [200, 200]
        # Rewrite the key id inside each token (same length) and keep its tag.
        swaps = ((old_token, b"k1", b"k2"), (new_token, b"k2", b"k1"))
        for genuine, old_kid, new_kid in swaps:
            raw = decode(genuine)
            assert raw[3:5] == old_kid
            assert_refused(stack, encode(raw[:3] + new_kid + raw[5:]))
        # The old key leaves the ring: its links stop, the new ones keep working.
        stack.put_token_keys({"current": "k2", "k2": new_secret})
        assert_refused(stack, old_token)
        assert [r["statusCode"] for r in open_both(stack, new_token)] == [200, 200]
    finally:
        stack.put_token_keys(ring)


def test_replays_past_expiry_are_gone_and_early_ones_forbidden(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = int(time.time())
    monkeypatch.setattr(wiring, "clock", lambda: start)
    token = token_of(stack.mint(BUILD_1, ttl=60))
    claims = tokens.read_token(
        tokens.KeyRing.from_secret_json(
            stack.secrets.get_secret_value(SecretId=stack.token_secret_id)["SecretString"]
        ),
        token,
    )
    assert claims.expires_at == start + 60
    for moment, statuses in (
        (start, [200, 200]),
        (start + 59, [200, 200]),
        (start + 60, [410, 410]),  # expiry is exclusive
        (start + 61, [410, 410]),
        (start + 10 * 365 * 86400, [410, 410]),
        (start - 1, [403, 403]),  # before it was minted
    ):
        monkeypatch.setattr(wiring, "clock", lambda moment=moment: moment)
        responses = open_both(stack, token)
        assert [r["statusCode"] for r in responses] == statuses, moment - start
        if statuses[0] == 410:
            assert "expired" in responses[0]["body"].lower()
            assert "download-manifest" not in responses[0]["body"]


def test_admin_routes_refuse_events_without_iam(stack: Stack) -> None:
    for method, path, body in (
        ("POST", "/links", {"bundle_id": BUNDLE, "build": BUILD_1}),
        ("GET", "/apps", None),
        ("GET", f"/apps/{BUNDLE}/builds", None),
        ("DELETE", f"/apps/{BUNDLE}/builds/{BUILD_1}", None),
    ):
        response = stack.call(method, path, body=body, admin=False)
        assert response["statusCode"] == 403, (method, path)
        assert json.loads(response["body"])["error"] == "forbidden"
    assert stack.call("GET", f"/apps/{BUNDLE}/builds")["statusCode"] == 200


def test_signed_asset_urls_cannot_be_bent_to_another_object(stack: Stack) -> None:
    manifest = stack.call("GET", f"/m/{token_of(stack.mint(BUILD_1))}/manifest.plist")
    assets = plistlib.loads(manifest["body"].encode())["items"][0]["assets"]
    ipa_url = next(a["url"] for a in assets if a["kind"] == "software-package")
    now = int(time.time())
    verify_signed_url(ipa_url, public_keys=stack.public_keys, now=now)
    parts = urlsplit(ipa_url)
    bent = [
        ipa_url.replace(BUILD_1, BUILD_2),
        ipa_url.replace("/app.ipa", "/build.json"),
        ipa_url.replace(f"/builds/{BUNDLE}/", "/builds/com.example.other/"),
        ipa_url.replace(parts.path, parts.path + "/../../index.json"),
        ipa_url.replace("Expires=", "Expires=9"),
        ipa_url.replace("Key-Pair-Id=", "Key-Pair-Id=X"),
        ipa_url.split("&Signature=")[0],
        f"{parts.scheme}://{parts.netloc}{parts.path}",
    ]
    for url in bent:
        with pytest.raises(SignatureRejected):
            verify_signed_url(url, public_keys=stack.public_keys, now=now)
    with pytest.raises(SignatureRejected):
        verify_signed_url(ipa_url, public_keys=stack.public_keys, now=now + 2 * 86400)
