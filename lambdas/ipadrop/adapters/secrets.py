"""Keys and configuration the link function reads from Secrets Manager and SSM,
through Powertools parameters (cached per container).

Secret formats (settings.py names the environment variables):

- token keys, ``IPADROP_TOKEN_SECRET_ID``: ``{"current": "<kid>", "<kid>": "<secret>", ...}``;
  two or more keys during a rotation (see ``tokens.KeyRing``).
- CloudFront key, ``IPADROP_CLOUDFRONT_KEY_SECRET_ID``:
  ``{"key_pair_id": "K…", "private_key_pem": "-----BEGIN ...", ...}``; the id
  travels with its key so a rotation never pairs a new key with an old id
  (docs/DEPLOY.md, Key rotation). A secret without ``key_pair_id`` (the local
  runner's) falls back to ``IPADROP_CLOUDFRONT_KEY_PAIR_ID``.

Values are re-read after ``max_age`` seconds, so a rotated token key ring is
picked up by warm containers without a redeploy. The distribution URL
parameter never changes for a stack, so it is read once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ipadrop.links.tokens import KeyRing, KeyRingError
from ipadrop.settings import SECRET_MAX_AGE_SECONDS

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

DEFAULT_MAX_AGE_SECONDS = SECRET_MAX_AGE_SECONDS
_FOREVER_SECONDS = 10 * 365 * 86400


class SecretUnusable(RuntimeError):
    """A secret or parameter exists but cannot be used; the message names it (never its value)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A CloudFront private key and the id of the public key that verifies it."""

    key_pair_id: str
    private_key_pem: bytes


class RuntimeSecrets:
    """Reads and parses the link function's secrets, caching the parsed results.

    ``secrets_client`` / ``ssm_client``: injectable boto3 clients (tests point
    them at moto); by default Powertools creates its own on first use.
    """

    def __init__(
        self,
        *,
        secrets_client: Any = None,
        ssm_client: Any = None,
        max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
    ) -> None:
        self._secrets_client = secrets_client
        self._ssm_client = ssm_client
        self._max_age = max_age_seconds
        self._secrets_provider: SecretsProvider | None = None
        self._ssm_provider: SSMProvider | None = None
        self._rings: dict[str, tuple[str, KeyRing]] = {}

    def _secret_text(self, secret_id: str) -> str:
        if self._secrets_provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._secrets_provider = SecretsProvider(boto3_client=self._secrets_client)
        value = self._secrets_provider.get(secret_id, max_age=self._max_age)
        if isinstance(value, bytes):
            return value.decode("utf-8")
        if not isinstance(value, str):
            raise SecretUnusable(f"secret {secret_id} is not text")
        return value

    def token_key_ring(self, secret_id: str) -> KeyRing:
        text = self._secret_text(secret_id)
        cached = self._rings.get(secret_id)
        if cached is not None and cached[0] == text:
            return cached[1]
        try:
            ring = KeyRing.from_secret_json(text)
        except KeyRingError as exc:
            raise SecretUnusable(f"secret {secret_id}: {exc}") from None
        self._rings[secret_id] = (text, ring)
        return ring

    def cloudfront_private_key(self, secret_id: str) -> bytes:
        return self._cloudfront_key_data(secret_id)[1]

    def cloudfront_signing_key(
        self, secret_id: str, *, default_key_pair_id: str | None = None
    ) -> SigningKey:
        """The key and its id from ONE read of the secret (never mixed across versions)."""
        data, pem = self._cloudfront_key_data(secret_id)
        key_pair_id = data.get("key_pair_id") or default_key_pair_id
        if not isinstance(key_pair_id, str) or not key_pair_id.strip():
            raise SecretUnusable(f'secret {secret_id} has no "key_pair_id" (not activated yet?)')
        return SigningKey(key_pair_id=key_pair_id.strip(), private_key_pem=pem)

    def _cloudfront_key_data(self, secret_id: str) -> tuple[dict[str, Any], bytes]:
        text = self._secret_text(secret_id)
        try:
            data = json.loads(text)
        except ValueError:
            raise SecretUnusable(f"secret {secret_id} is not valid JSON") from None
        pem = data.get("private_key_pem") if isinstance(data, dict) else None
        if not isinstance(pem, str) or "PRIVATE KEY" not in pem:
            raise SecretUnusable(f'secret {secret_id} has no "private_key_pem" PEM text')
        return data, pem.encode("ascii")

    def enrollment_signing(self, secret_id: str) -> tuple[bytes, bytes]:
        """``{"certificate_pem", "private_key_pem"}``: the operator's certificate
        (signer first, then its chain) and key for signing enrollment profiles."""
        text = self._secret_text(secret_id)
        try:
            data = json.loads(text)
        except ValueError:
            raise SecretUnusable(f"secret {secret_id} is not valid JSON") from None
        certificate = data.get("certificate_pem") if isinstance(data, dict) else None
        key = data.get("private_key_pem") if isinstance(data, dict) else None
        if not isinstance(certificate, str) or "CERTIFICATE" not in certificate:
            raise SecretUnusable(f'secret {secret_id} has no "certificate_pem" PEM text')
        if not isinstance(key, str) or "PRIVATE KEY" not in key:
            raise SecretUnusable(f'secret {secret_id} has no "private_key_pem" PEM text')
        return certificate.encode("ascii"), key.encode("ascii")

    def app_store_connect_key(self, secret_id: str) -> tuple[str, str, bytes]:
        """``{"issuer_id", "key_id", "private_key_pem"}`` -> (issuer id, key id, .p8 PEM)."""
        text = self._secret_text(secret_id)
        try:
            data = json.loads(text)
        except ValueError:
            raise SecretUnusable(f"secret {secret_id} is not valid JSON") from None
        fields = [
            data.get(k) if isinstance(data, dict) else None
            for k in ("issuer_id", "key_id", "private_key_pem")
        ]
        if not all(isinstance(f, str) and f for f in fields):
            raise SecretUnusable(
                f'secret {secret_id} needs "issuer_id", "key_id" and "private_key_pem"'
            )
        issuer, key_id, pem = (str(f) for f in fields)
        return issuer, key_id, pem.encode("ascii")

    def device_ca_certificates(self, secret_id: str) -> list[bytes]:
        """A PEM bundle of the CA certificates device answers must chain to, as DER."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        text = self._secret_text(secret_id)
        try:
            certificates = x509.load_pem_x509_certificates(text.encode("ascii"))
        except ValueError:
            raise SecretUnusable(f"secret {secret_id} is not a PEM certificate bundle") from None
        return [c.public_bytes(Encoding.DER) for c in certificates]

    def parameter(self, name: str) -> str:
        """An SSM parameter that is fixed for the life of the stack (read once)."""
        if self._ssm_provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            self._ssm_provider = SSMProvider(boto3_client=self._ssm_client)
        value = self._ssm_provider.get(name, max_age=_FOREVER_SECONDS)
        if not isinstance(value, str) or not value.strip():
            raise SecretUnusable(f"SSM parameter {name} is empty")
        return value.strip()
