"""Link tokens: short, URL-safe, authenticated claims about one build (or ``latest``).

Pure: no I/O, no clock (callers pass ``now``), stdlib only.

Wire format (version 1), base64url without padding over ``payload || tag``::

    payload = version:u8  flags:u8  kid_len:u8 kid  not_before:u32  expires_at:u32
              [bundle]  [build]  [channel]  [invite]
    bundle  absent when flag NO_BUNDLE (an enrollment link that names no app)
    bundle  = len:u8 + the bundle id packed 6 bits a character      (flag BUNDLE_DIGEST clear)
            | 8 bytes of SHA-256 over the bundle id                  (flag BUNDLE_DIGEST set)
    build   = upload time:u32 + the id's 10 base-36 characters:u56  (absent when flag LATEST)
    channel = len:u8 + the channel packed 6 bits a character         (flag CHANNEL: "latest" of it)
    invite  = the invite id's 8 bytes (16 hex characters)            (flag INVITE)
    scope   = flag ENROLL set: an enrollment link, else an install link
    tag     = HMAC-SHA256(key[kid], DOMAIN || payload)[:16]

Apple bundle ids use exactly 64 characters (letters, digits, ``.``, ``-``), so
packing costs 6 bits a character, the same as base64: a 155-character id would
alone make a 155-character token. Ids longer than ``FULL_BUNDLE_ID_MAX`` are
therefore carried as a digest and resolved against the apps index; every token
stays under ``MAX_TOKEN_LENGTH`` (asserted by the tests for the longest legal id).

Keys carry an id (``kid``): tokens are minted with the ring's current key and
verified with whichever key they name, so during a rotation both stay valid
until the old key is removed from the ring.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ipadrop.domain.bucket_keys import is_valid_build_id, is_valid_bundle_id

TOKEN_VERSION = 1
TAG_LENGTH = 16  # 128 bits of HMAC-SHA256
BUNDLE_DIGEST_LENGTH = 8
FULL_BUNDLE_ID_MAX = 64  # longer ids travel as a digest
# Longest token this version can mint is ~176 characters (16-character key id,
# 64-character bundle id, 40-character channel, invite id); anything longer
# than this bound is refused before any decoding work is done.
MAX_TOKEN_LENGTH = 192
MIN_SECRET_LENGTH = 32
MAX_KID_LENGTH = 16
LATEST = "latest"

_DOMAIN = b"ipadrop-link-token\x00"
_FLAG_LATEST = 0x01
_FLAG_BUNDLE_DIGEST = 0x02
_FLAG_INVITE = 0x04
_FLAG_ENROLL = 0x08
_FLAG_CHANNEL = 0x10
_FLAG_NO_BUNDLE = 0x20
_KNOWN_FLAGS = (
    _FLAG_LATEST
    | _FLAG_BUNDLE_DIGEST
    | _FLAG_INVITE
    | _FLAG_ENROLL
    | _FLAG_CHANNEL
    | _FLAG_NO_BUNDLE
)
SCOPE_INSTALL = "install"
SCOPE_ENROLL = "enroll"
INVITE_ID_LENGTH = 16  # hex characters (8 bytes in a token)
_INVITE_ID = re.compile(r"^[0-9a-f]{16}$")
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
_CHANNEL_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789._-"
_CHANNEL_INDEX = {ch: i for i, ch in enumerate(_CHANNEL_ALPHABET)}
_KID = re.compile(r"^[A-Za-z0-9._-]{1,16}$")
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
_BUNDLE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-"
_BUNDLE_INDEX = {ch: i for i, ch in enumerate(_BUNDLE_ALPHABET)}
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TIMES = struct.Struct(">II")
_U32_MAX = 2**32 - 1


class TokenError(Exception):
    """A token was refused; ``message`` is one sentence for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenMalformed(TokenError):
    """Not a token of ours: wrong length, alphabet, version or structure."""


class TokenForged(TokenError):
    """The authentication tag does not match, or the key id is unknown."""


class TokenExpired(TokenError):
    """Authentic, but past its expiry. ``claims`` is what it said (trusted)."""

    def __init__(self, message: str, claims: LinkClaims) -> None:
        super().__init__(message)
        self.claims = claims


class TokenNotYetValid(TokenError):
    """Authentic, but its not-before time is still ahead."""

    def __init__(self, message: str, claims: LinkClaims) -> None:
        super().__init__(message)
        self.claims = claims


class KeyRingError(ValueError):
    """The key ring secret is unusable; the message says why (never the secret)."""


@dataclass(frozen=True, slots=True)
class KeyRing:
    """HMAC keys by id, and the id new tokens are minted with."""

    keys: Mapping[str, bytes] = field(repr=False)
    current: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyRingError("the key ring holds no keys")
        for kid, secret in self.keys.items():
            if not _KID.fullmatch(kid):
                raise KeyRingError(
                    f"key id {kid!r} must be 1 to {MAX_KID_LENGTH} letters, digits, '.', '_' or '-'"
                )
            if len(secret) < MIN_SECRET_LENGTH:
                raise KeyRingError(
                    f"key {kid!r} is shorter than {MIN_SECRET_LENGTH} bytes; use a longer secret"
                )
        if self.current not in self.keys:
            raise KeyRingError(f"the current key id {self.current!r} is not in the key ring")

    @classmethod
    def from_secret_json(cls, text: str | bytes) -> KeyRing:
        """``{"current": "<kid>", "<kid>": "<secret>", ...}`` (the Secrets Manager value).

        Two or more key entries is a rotation in progress: the new one is
        ``current``, the old one still verifies links minted before.
        """
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise KeyRingError("the token key secret is not valid JSON") from None
        if not isinstance(data, dict):
            raise KeyRingError('the token key secret must be a JSON object {"current": ...}')
        current = data.get("current")
        if not isinstance(current, str):
            raise KeyRingError('the token key secret has no "current" key id')
        keys: dict[str, bytes] = {}
        for kid, secret in data.items():
            if kid == "current":
                continue
            if not isinstance(secret, str):
                raise KeyRingError(f"key {kid!r} in the token key secret must be a string")
            keys[kid] = secret.encode("utf-8")
        return cls(keys=keys, current=current)


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What an authentic token says.

    ``bundle_id`` is None when the token carries only ``bundle_digest`` (very
    long ids); resolve it with :func:`bundle_digest` against the apps index.
    ``build_id`` is None for ``latest`` (of ``channel`` when set).
    ``invite_id`` names the invite the token was minted for (revoking the
    invite refuses this token only); ``scope`` is ``install`` or ``enroll``.
    An enrollment token may name no app: ``bundle_id`` None and an empty digest.
    """

    kid: str
    bundle_id: str | None
    bundle_digest: bytes
    build_id: str | None
    not_before: int
    expires_at: int
    channel: str | None = None
    invite_id: str | None = None
    scope: str = SCOPE_INSTALL

    @property
    def names_no_bundle(self) -> bool:
        return self.bundle_id is None and not self.bundle_digest

    @property
    def is_latest(self) -> bool:
        return self.build_id is None

    def names_bundle(self, bundle_id: str) -> bool:
        if self.names_no_bundle:
            return False
        if self.bundle_id is not None:
            return self.bundle_id == bundle_id
        return hmac.compare_digest(self.bundle_digest, bundle_digest(bundle_id))


def bundle_digest(bundle_id: str) -> bytes:
    return hashlib.sha256(b"ipadrop-bundle\x00" + bundle_id.encode("ascii")).digest()[
        :BUNDLE_DIGEST_LENGTH
    ]


def mint_token(
    ring: KeyRing,
    *,
    bundle_id: str | None,
    build_id: str | None,
    not_before: int,
    expires_at: int,
    channel: str | None = None,
    invite_id: str | None = None,
    scope: str = SCOPE_INSTALL,
) -> str:
    """A token for ``build_id`` of ``bundle_id`` (``None`` or ``"latest"``: the newest build
    -- of ``channel`` when given -- when the link is used). ``invite_id`` ties it to one
    invite; ``scope`` ``enroll`` makes an enrollment link (which may name no app).
    Raises ``ValueError`` for ids or times it cannot carry."""
    if bundle_id is None:
        if scope != SCOPE_ENROLL:
            raise ValueError("only an enrollment token may name no app")
    elif not is_valid_bundle_id(bundle_id):
        raise ValueError(f"invalid bundle id: {bundle_id!r}")
    if build_id == LATEST:
        build_id = None
    if build_id is not None and not is_valid_build_id(build_id):
        raise ValueError(f"invalid build id: {build_id!r}")
    if not 0 <= not_before < expires_at <= _U32_MAX:
        raise ValueError("token times must satisfy 0 <= not_before < expires_at < 2**32")
    if scope not in (SCOPE_INSTALL, SCOPE_ENROLL):
        raise ValueError(f"invalid scope: {scope!r}")
    if channel is not None and (build_id is not None or not _CHANNEL.fullmatch(channel)):
        raise ValueError(f"invalid channel (or a channel with a build id): {channel!r}")
    if invite_id is not None and not _INVITE_ID.fullmatch(invite_id):
        raise ValueError(f"invalid invite id: {invite_id!r}")

    flags = 0
    if build_id is None:
        flags |= _FLAG_LATEST
    if scope == SCOPE_ENROLL:
        flags |= _FLAG_ENROLL
    if bundle_id is None:
        flags |= _FLAG_NO_BUNDLE
        bundle_part = b""
    elif len(bundle_id) > FULL_BUNDLE_ID_MAX:
        flags |= _FLAG_BUNDLE_DIGEST
        bundle_part = bundle_digest(bundle_id)
    else:
        bundle_part = bytes([len(bundle_id)]) + _pack_bundle_id(bundle_id)
    extra = b""
    if channel is not None:
        flags |= _FLAG_CHANNEL
        extra += bytes([len(channel)]) + _pack(channel, _CHANNEL_INDEX)
    if invite_id is not None:
        flags |= _FLAG_INVITE
        extra += bytes.fromhex(invite_id)
    kid = ring.current.encode("ascii")
    payload = b"".join(
        (
            bytes([TOKEN_VERSION, flags, len(kid)]),
            kid,
            _TIMES.pack(not_before, expires_at),
            bundle_part,
            b"" if build_id is None else _pack_build_id(build_id),
            extra,
        )
    )
    tag = _tag(ring.keys[ring.current], payload)
    return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode("ascii")


def verify_token(ring: KeyRing, token: str, *, now: int) -> LinkClaims:
    """The claims of an authentic, currently valid token, or one of the ``Token*`` errors."""
    claims = read_token(ring, token)
    if now < claims.not_before:
        raise TokenNotYetValid("This link is not valid yet.", claims)
    if now >= claims.expires_at:
        raise TokenExpired("This link has expired.", claims)
    return claims


def read_token(ring: KeyRing, token: str) -> LinkClaims:
    """Authenticate and decode, without looking at the clock."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise TokenMalformed("This link is too long to be one of ours.")
    if not _TOKEN_CHARS.fullmatch(token):
        raise TokenMalformed("This link is not one of ours.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise TokenMalformed("This link is not one of ours.") from None
    # Non-canonical encodings (stray low bits in the last character) would let
    # two strings name one token; refuse them so a changed character never passes.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        raise TokenMalformed("This link is not one of ours.")

    header_length = 3
    if len(raw) < header_length + TAG_LENGTH or raw[0] != TOKEN_VERSION:
        raise TokenMalformed("This link is not one of ours.")
    payload, tag = raw[:-TAG_LENGTH], raw[-TAG_LENGTH:]
    kid_length = payload[2]
    kid_bytes = payload[header_length : header_length + kid_length]
    if len(kid_bytes) != kid_length:
        raise TokenMalformed("This link is not one of ours.")
    kid = kid_bytes.decode("ascii", errors="replace")
    secret = ring.keys.get(kid)
    if secret is None:
        raise TokenForged("This link was not issued by this service (unknown key).")
    if not hmac.compare_digest(_tag(secret, payload), tag):
        raise TokenForged("This link has been altered.")
    try:
        return _parse_body(kid, payload[header_length + kid_length :], flags=payload[1])
    except (ValueError, IndexError, struct.error):
        # Authentic but unreadable: only a bug in a minting version could do this.
        raise TokenMalformed("This link is not one of ours.") from None


def _tag(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + payload, hashlib.sha256).digest()[:TAG_LENGTH]


def _parse_body(kid: str, body: bytes, *, flags: int) -> LinkClaims:
    if flags & ~_KNOWN_FLAGS:
        raise ValueError("unknown flags")
    not_before, expires_at = _TIMES.unpack_from(body, 0)
    rest = body[_TIMES.size :]
    bundle_id: str | None
    if flags & _FLAG_NO_BUNDLE:
        if flags & (_FLAG_BUNDLE_DIGEST) or not flags & _FLAG_ENROLL:
            raise ValueError("no bundle outside an enrollment token")
        bundle_id, digest = None, b""
    elif flags & _FLAG_BUNDLE_DIGEST:
        bundle_id = None
        digest, rest = rest[:BUNDLE_DIGEST_LENGTH], rest[BUNDLE_DIGEST_LENGTH:]
        if len(digest) != BUNDLE_DIGEST_LENGTH:
            raise ValueError("short digest")
    else:
        length = rest[0]
        packed_length = _packed_length(length)
        bundle_id = _unpack_bundle_id(rest[1 : 1 + packed_length], length)
        rest = rest[1 + packed_length :]
        digest = bundle_digest(bundle_id)
    build_id: str | None = None
    if not flags & _FLAG_LATEST:
        build_id = _unpack_build_id(rest[:11])
        rest = rest[11:]
    channel: str | None = None
    if flags & _FLAG_CHANNEL:
        length = rest[0]
        packed_length = _packed_length(length)
        channel = _unpack(rest[1 : 1 + packed_length], length, _CHANNEL_ALPHABET)
        if not _CHANNEL.fullmatch(channel) or build_id is not None:
            raise ValueError("not a channel")
        rest = rest[1 + packed_length :]
    invite_id: str | None = None
    if flags & _FLAG_INVITE:
        if len(rest) < 8:
            raise ValueError("short invite id")
        invite_id, rest = rest[:8].hex(), rest[8:]
    if rest:
        raise ValueError("trailing bytes")
    return LinkClaims(
        kid=kid,
        bundle_id=bundle_id,
        bundle_digest=digest,
        build_id=build_id,
        not_before=not_before,
        expires_at=expires_at,
        channel=channel,
        invite_id=invite_id,
        scope=SCOPE_ENROLL if flags & _FLAG_ENROLL else SCOPE_INSTALL,
    )


def _packed_length(chars: int) -> int:
    return (chars * 6 + 7) // 8


def _pack(text: str, index: Mapping[str, int]) -> bytes:
    value = 0
    for ch in text:
        value = (value << 6) | index[ch]
    length = _packed_length(len(text))
    return (value << (length * 8 - len(text) * 6)).to_bytes(length, "big")


def _unpack(data: bytes, chars: int, alphabet: str) -> str:
    if len(data) != _packed_length(chars):
        raise ValueError("short packed text")
    value = int.from_bytes(data, "big") >> (len(data) * 8 - chars * 6)
    out = []
    for _ in range(chars):
        value, index = divmod(value, 64)
        out.append(alphabet[index])  # IndexError (refused) past the alphabet
    return "".join(reversed(out))


def _pack_bundle_id(bundle_id: str) -> bytes:
    return _pack(bundle_id, _BUNDLE_INDEX)


def _unpack_bundle_id(data: bytes, chars: int) -> str:
    bundle_id = _unpack(data, chars, _BUNDLE_ALPHABET)
    if not is_valid_bundle_id(bundle_id):
        raise ValueError("not a bundle id")
    return bundle_id


def _pack_build_id(build_id: str) -> bytes:
    stamp, suffix = build_id.split("-")
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"build id {build_id!r} does not start with a real UTC time") from None
    seconds = int(when.timestamp())
    if not 0 <= seconds <= _U32_MAX:
        raise ValueError(f"build id {build_id!r} is outside the times a token can carry")
    return seconds.to_bytes(4, "big") + int(suffix, 36).to_bytes(7, "big")


def _unpack_build_id(data: bytes) -> str:
    if len(data) != 11:
        raise ValueError("short build id")
    when = datetime.fromtimestamp(int.from_bytes(data[:4], "big"), tz=UTC)
    number = int.from_bytes(data[4:], "big")
    chars = []
    for _ in range(10):
        number, rem = divmod(number, 36)
        chars.append(_BASE36[rem])
    if number:
        raise ValueError("build id suffix out of range")
    build_id = f"{when.strftime('%Y%m%dT%H%M%SZ')}-{''.join(reversed(chars))}"
    if not is_valid_build_id(build_id):
        raise ValueError("not a build id")
    return build_id
