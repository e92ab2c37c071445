from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipadrop.domain import bucket_keys
from ipadrop.links import tokens
from ipadrop.links.tokens import (
    KeyRing,
    KeyRingError,
    TokenError,
    TokenExpired,
    TokenForged,
    TokenMalformed,
    TokenNotYetValid,
    mint_token,
    read_token,
    verify_token,
)

SECRET_A = b"a" * 32
SECRET_B = b"b" * 40
BUILD_ID = "20261124T002616Z-1a2b3c4d5e"
NOW = 1_800_000_000


def ring(current: str = "k1", **keys: bytes) -> KeyRing:
    return KeyRing(keys=keys or {"k1": SECRET_A}, current=current)


def mint(
    key_ring: KeyRing | None = None,
    *,
    bundle_id: str = "com.example.sample",
    build_id: str | None = BUILD_ID,
    not_before: int = NOW,
    expires_at: int = NOW + 3600,
) -> str:
    return mint_token(
        key_ring or ring(),
        bundle_id=bundle_id,
        build_id=build_id,
        not_before=not_before,
        expires_at=expires_at,
    )


def raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip_carries_every_claim() -> None:
    token = mint()
    claims = verify_token(ring(), token, now=NOW + 10)
    assert claims.bundle_id == "com.example.sample"
    assert claims.build_id == BUILD_ID
    assert (claims.not_before, claims.expires_at) == (NOW, NOW + 3600)
    assert claims.kid == "k1"
    assert not claims.is_latest
    assert claims.names_bundle("com.example.sample")
    assert not claims.names_bundle("com.example.other")


@pytest.mark.parametrize("build_ref", [None, "latest"])
def test_latest_is_carried_as_latest(build_ref: str | None) -> None:
    claims = verify_token(ring(), mint(build_id=build_ref), now=NOW)
    assert claims.is_latest
    assert claims.build_id is None


def test_token_is_url_safe_and_short_for_typical_ids() -> None:
    token = mint()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) < 80


@pytest.mark.parametrize(
    "bundle_id",
    [
        "Z" * bucket_keys.MAX_BUNDLE_ID_LENGTH,
        ".".join(["a"] * 78),  # 155 characters, the most labels
        "a" * tokens.FULL_BUNDLE_ID_MAX,  # longest id carried in full
        "a" * (tokens.FULL_BUNDLE_ID_MAX + 1),  # shortest carried as a digest
    ],
)
def test_longest_legal_ids_stay_well_under_200_characters(bundle_id: str) -> None:
    assert bucket_keys.is_valid_bundle_id(bundle_id)
    long_kid = "k" * tokens.MAX_KID_LENGTH
    key_ring = KeyRing(keys={long_kid: SECRET_A}, current=long_kid)
    token = mint(key_ring, bundle_id=bundle_id, expires_at=2**32 - 1)
    assert len(token) <= tokens.MAX_TOKEN_LENGTH < 200
    assert len(token) <= 140
    claims = verify_token(key_ring, token, now=NOW)
    assert claims.names_bundle(bundle_id)
    assert claims.build_id == BUILD_ID


def test_long_bundle_ids_travel_as_a_digest() -> None:
    bundle_id = "com.example." + "x" * 100
    claims = verify_token(ring(), mint(bundle_id=bundle_id), now=NOW)
    assert claims.bundle_id is None
    assert claims.names_bundle(bundle_id)
    assert not claims.names_bundle(bundle_id + "y")


def test_every_changed_byte_is_refused() -> None:
    token = mint()
    data = raw(token)
    for index in range(len(data)):
        for bit in (0x01, 0x80):
            changed = bytearray(data)
            changed[index] ^= bit
            with pytest.raises(TokenError):
                verify_token(ring(), encode(bytes(changed)), now=NOW)


def test_every_changed_character_is_refused() -> None:
    token = mint()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index, ch in enumerate(token):
        other = alphabet[(alphabet.index(ch) + 1) % len(alphabet)]
        with pytest.raises(TokenError):
            verify_token(ring(), token[:index] + other + token[index + 1 :], now=NOW)


def test_changed_tag_or_payload_is_forged() -> None:
    data = bytearray(raw(mint()))
    data[-1] ^= 1
    with pytest.raises(TokenForged):
        verify_token(ring(), encode(bytes(data)), now=NOW)
    data = bytearray(raw(mint()))
    data[8] ^= 1  # inside the times
    with pytest.raises(TokenForged):
        verify_token(ring(), encode(bytes(data)), now=NOW)


def test_every_truncation_is_refused() -> None:
    token = mint()
    for length in range(len(token)):
        with pytest.raises(TokenError):
            verify_token(ring(), token[:length], now=NOW)
    with pytest.raises(TokenError):
        verify_token(ring(), token + "A", now=NOW)


def test_unknown_key_id_is_forged() -> None:
    token = mint(ring("k2", k2=SECRET_B))
    with pytest.raises(TokenForged, match="unknown key"):
        verify_token(ring(), token, now=NOW)


def test_key_id_swap_is_forged() -> None:
    # Same secret layout, the kid byte rewritten to name another live key.
    both = KeyRing(keys={"k1": SECRET_A, "k2": SECRET_B}, current="k1")
    data = bytearray(raw(mint(both)))
    assert data[3:5] == b"k1"
    data[3:5] = b"k2"
    with pytest.raises(TokenForged):
        verify_token(both, encode(bytes(data)), now=NOW)


def test_same_claims_under_another_key_do_not_verify() -> None:
    token = mint(KeyRing(keys={"k1": SECRET_B}, current="k1"))
    with pytest.raises(TokenForged):
        verify_token(ring(), token, now=NOW)


def test_expiry_boundaries() -> None:
    token = mint(not_before=NOW, expires_at=NOW + 60)
    assert verify_token(ring(), token, now=NOW + 59).expires_at == NOW + 60
    with pytest.raises(TokenExpired) as expired:
        verify_token(ring(), token, now=NOW + 60)
    assert expired.value.claims.bundle_id == "com.example.sample"


def test_not_yet_valid() -> None:
    token = mint(not_before=NOW + 100, expires_at=NOW + 200)
    with pytest.raises(TokenNotYetValid):
        verify_token(ring(), token, now=NOW + 99)
    assert verify_token(ring(), token, now=NOW + 100).not_before == NOW + 100


def test_read_token_ignores_the_clock() -> None:
    token = mint(not_before=NOW, expires_at=NOW + 1)
    assert read_token(ring(), token).expires_at == NOW + 1


@pytest.mark.parametrize(
    "token",
    [
        "",
        "A" * (tokens.MAX_TOKEN_LENGTH + 1),
        "A" * 100_000,
        "not a token",
        "abc$def",
        "AQ==",
        "ñandú",
    ],
)
def test_malformed_and_oversized(token: str) -> None:
    with pytest.raises(TokenMalformed):
        verify_token(ring(), token, now=NOW)


def test_oversized_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: object) -> bytes:
        raise AssertionError("decoded an oversized token")

    monkeypatch.setattr(base64, "urlsafe_b64decode", explode)
    with pytest.raises(TokenMalformed, match="too long"):
        verify_token(ring(), "A" * 10_000, now=NOW)


def test_non_canonical_encoding_is_refused() -> None:
    token = mint()
    # The final character carries spare low bits when the length is not a multiple of 3.
    assert len(raw(token)) % 3 != 0
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    twin = token[:-1] + alphabet[last | 1 if last % 2 == 0 else last & ~1]
    assert raw(twin) == raw(token)
    with pytest.raises(TokenMalformed):
        verify_token(ring(), twin, now=NOW)


def test_version_byte_other_than_one_is_malformed() -> None:
    data = bytearray(raw(mint()))
    data[0] = 2
    with pytest.raises(TokenMalformed):
        verify_token(ring(), encode(bytes(data)), now=NOW)


def test_rotation_old_key_verifies_until_removed() -> None:
    old = KeyRing(keys={"k1": SECRET_A}, current="k1")
    rotating = KeyRing(keys={"k1": SECRET_A, "k2": SECRET_B}, current="k2")
    rotated = KeyRing(keys={"k2": SECRET_B}, current="k2")
    old_token = mint(old)
    new_token = mint(rotating)
    assert verify_token(rotating, old_token, now=NOW).kid == "k1"
    assert verify_token(rotating, new_token, now=NOW).kid == "k2"
    assert verify_token(rotated, new_token, now=NOW).kid == "k2"
    with pytest.raises(TokenForged):
        verify_token(rotated, old_token, now=NOW)


def test_key_ring_from_secret_json() -> None:
    text = json.dumps({"current": "k2", "k1": "x" * 32, "k2": "y" * 43})
    key_ring = KeyRing.from_secret_json(text)
    assert key_ring.current == "k2"
    assert key_ring.keys == {"k1": b"x" * 32, "k2": b"y" * 43}
    assert "x" * 32 not in repr(key_ring)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"k1": "' + "x" * 32 + '"}', 'no "current"'),
        ('{"current": "k2", "k1": "' + "x" * 32 + '"}', "not in the key ring"),
        ('{"current": "k1", "k1": "short"}', "shorter than 32"),
        ('{"current": "k1", "k1": 5}', "must be a string"),
        ('{"current": "k 1", "k 1": "' + "x" * 32 + '"}', "key id"),
        ('{"current": "k1"}', "no keys"),
    ],
)
def test_key_ring_refuses_bad_secrets(text: str, message: str) -> None:
    with pytest.raises(KeyRingError, match=message):
        KeyRing.from_secret_json(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bundle_id": "com/evil"}, "bundle id"),
        ({"build_id": "../../x"}, "build id"),
        ({"build_id": "20261399T002616Z-1a2b3c4d5e"}, "real UTC time"),
        ({"not_before": NOW, "expires_at": NOW}, "times"),
        ({"expires_at": 2**32}, "times"),
    ],
)
def test_mint_refuses_what_it_cannot_carry(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mint(**kwargs)  # type: ignore[arg-type]


_BUNDLE_LABEL = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
    min_size=1,
    max_size=20,
)
_BUNDLE_IDS = st.lists(_BUNDLE_LABEL, min_size=1, max_size=7).map(".".join)


def _build_id(seconds: int, suffix: str) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + suffix


_BUILD_IDS = st.one_of(
    st.none(),
    st.builds(
        _build_id,
        st.integers(min_value=0, max_value=2**32 - 1),
        st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=10, max_size=10),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    bundle_id=_BUNDLE_IDS,
    build_id=_BUILD_IDS,
    not_before=st.integers(min_value=0, max_value=2**32 - 2),
    lifetime=st.integers(min_value=1, max_value=10**8),
    kid=st.from_regex(r"[A-Za-z0-9._-]{1,16}", fullmatch=True),
)
def test_property_mint_then_verify(
    bundle_id: str, build_id: str | None, not_before: int, lifetime: int, kid: str
) -> None:
    expires_at = min(not_before + lifetime, 2**32 - 1)
    key_ring = KeyRing(keys={kid: SECRET_A}, current=kid)
    token = mint_token(
        key_ring,
        bundle_id=bundle_id,
        build_id=build_id,
        not_before=not_before,
        expires_at=expires_at,
    )
    assert len(token) <= tokens.MAX_TOKEN_LENGTH
    claims = verify_token(key_ring, token, now=not_before)
    assert claims.names_bundle(bundle_id)
    if len(bundle_id) <= tokens.FULL_BUNDLE_ID_MAX:
        assert claims.bundle_id == bundle_id
    assert claims.build_id == build_id
    assert (claims.not_before, claims.expires_at, claims.kid) == (not_before, expires_at, kid)
