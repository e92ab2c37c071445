"""CloudFront signed URLs (canned policy, RSA-SHA1: the only hash botocore's
``CloudFrontSigner`` writes and the one CloudFront checks for key groups without
``Hash-Algorithm``), and an independent verifier that checks them the way
CloudFront does (used by the local runner and the tests).

``cryptography`` and botocore's signer are imported inside the functions, so
importing this module costs nothing on routes that never sign.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

SIGNED_URL_PARAMS = ("Expires", "Signature", "Key-Pair-Id")


class SignatureRejected(Exception):
    """A signed URL CloudFront would refuse (403). ``reason`` is a short code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def sign_url(url: str, *, key_pair_id: str, private_key_pem: bytes, expires_at: int) -> str:
    """``url`` with ``Expires``, ``Signature`` and ``Key-Pair-Id`` appended (canned policy)."""
    from datetime import UTC, datetime

    from botocore.signers import CloudFrontSigner

    key = load_private_key(private_key_pem)

    def rsa_signer(message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's algorithm

    signer = CloudFrontSigner(key_pair_id, rsa_signer)
    # botocore turns the datetime back into epoch seconds; an aware UTC datetime
    # keeps that exact regardless of the machine's time zone.
    result: str = signer.generate_presigned_url(
        url, date_less_than=datetime.fromtimestamp(expires_at, tz=UTC)
    )
    return result


@functools.lru_cache(maxsize=4)
def load_private_key(private_key_pem: bytes) -> RSAPrivateKey:
    """Parse once per container (≈45 ms a time); refuses anything but RSA-2048 or larger."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise ValueError("the CloudFront signing key must be an RSA key of at least 2048 bits")
    return key


@functools.lru_cache(maxsize=16)
def _load_public_key(public_key_pem: bytes) -> RSAPublicKey:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(public_key_pem)
    if not isinstance(key, RSAPublicKey):
        raise ValueError("a CloudFront public key must be RSA")
    return key


def canned_policy(resource: str, expires_at: int) -> bytes:
    """The exact bytes CloudFront signs for a canned policy (compact JSON)."""
    policy = {
        "Statement": [
            {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires_at}}}
        ]
    }
    return json.dumps(policy, separators=(",", ":")).encode("utf-8")


def verify_signed_url(url: str, *, public_keys: Mapping[str, bytes], now: int) -> None:
    """Check ``url`` as CloudFront would for a trusted key group; raise ``SignatureRejected``.

    ``public_keys`` maps key-pair id -> public key PEM. Returns None when the
    URL would be served.
    """
    parts = urlsplit(url)
    kept: list[str] = []
    found: dict[str, str] = {}
    for pair in parts.query.split("&") if parts.query else []:
        name, _, value = pair.partition("=")
        if name in SIGNED_URL_PARAMS:
            if name in found:
                raise SignatureRejected("malformed", f"the URL repeats {name}")
            found[name] = value
        else:
            kept.append(pair)
    missing = [name for name in SIGNED_URL_PARAMS if name not in found]
    if missing:
        raise SignatureRejected("missing", f"the URL has no {', '.join(missing)}")
    try:
        expires_at = int(found["Expires"])
    except ValueError:
        raise SignatureRejected("malformed", "Expires is not a whole number") from None
    if found["Expires"] != str(expires_at) or expires_at < 0:
        raise SignatureRejected("malformed", "Expires is not canonical epoch seconds")

    key_pem = public_keys.get(found["Key-Pair-Id"])
    if key_pem is None:
        raise SignatureRejected("unknown_key", "the Key-Pair-Id is not in the trusted key group")
    try:
        signature = base64.b64decode(
            found["Signature"].translate(_FROM_CLOUDFRONT_ALPHABET), validate=True
        )
    except (binascii.Error, ValueError):
        raise SignatureRejected("malformed", "the Signature is not CloudFront base64") from None

    resource = urlunsplit(parts._replace(query="&".join(kept), fragment=""))
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        _load_public_key(key_pem).verify(
            signature,
            canned_policy(resource, expires_at),
            padding.PKCS1v15(),
            hashes.SHA1(),  # noqa: S303 - CloudFront's algorithm
        )
    except InvalidSignature:
        raise SignatureRejected("bad_signature", "the signature does not match the URL") from None
    if now >= expires_at:
        raise SignatureRejected("expired", "the signed URL has expired")


_FROM_CLOUDFRONT_ALPHABET = str.maketrans({"-": "+", "_": "=", "~": "/"})


def generate_key_pair() -> tuple[bytes, bytes]:
    """A fresh RSA-2048 key pair as ``(private PEM (PKCS#8), public PEM (SubjectPublicKeyInfo))``,
    the formats CloudFront's public keys and the key secret use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem
