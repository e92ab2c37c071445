"""CloudFront signed URLs with botocore's ``CloudFrontSigner`` (canned policy,
RSA-SHA1: the only hash it writes and the one CloudFront checks for key groups
without ``Hash-Algorithm``) and the RSA key pairs they are signed with. The verifier
that checks them the way CloudFront does is tooling
(``ipadrop_tools.local.cloudfront_verify``): it never ships to Lambda.

``cryptography`` and botocore's signer are imported inside the functions, so
importing this module costs nothing on routes that never sign.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

SIGNED_URL_PARAMS = ("Expires", "Signature", "Key-Pair-Id")


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
