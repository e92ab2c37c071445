"""CloudFront's signed-URL check, emulated for the local stack and the tests.

Independent of the signer in ``ipadrop.adapters.cloudfront_signing`` (it rebuilds the
canned policy and verifies the RSA-SHA1 signature itself), so a signer bug
cannot hide behind a matching verifier bug. Tooling only: never bundled.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from ipadrop.adapters.cloudfront_signing import SIGNED_URL_PARAMS

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey


class SignatureRejected(Exception):
    """A signed URL CloudFront would refuse (403). ``reason`` is a short code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


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
