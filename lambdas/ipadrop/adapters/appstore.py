"""App Store Connect API: register a device (``POST /v1/devices``), authenticated
with an ES256 JWT made from the team's API key (issuer id, key id, .p8).

Follows Apple's published description of the API; tested against a local fake
server only (docs/DEPLOY.md says what was not tried against Apple). The HTTP
opener is injectable; the default is urllib with a timeout.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

API_BASE = "https://api.appstoreconnect.apple.com"
AUDIENCE = "appstoreconnect-v1"
TOKEN_LIFETIME_SECONDS = 15 * 60  # Apple refuses tokens that live longer than 20 minutes


class RegistrationFailed(RuntimeError):
    """Apple refused or could not be reached; the message says which (never the key)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def es256_jwt(*, issuer_id: str, key_id: str, private_key_pem: bytes, now: int) -> str:
    """The bearer token: header ``{alg: ES256, kid, typ: JWT}``, claims ``iss``,
    ``iat``, ``exp``, ``aud``; the signature is raw ``r || s`` (RFC 7518, 3.4)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise RegistrationFailed("the App Store Connect key must be an EC P-256 (.p8) key")
    header = {"alg": "ES256", "kid": key_id, "typ": "JWT"}
    claims = {"iss": issuer_id, "iat": now, "exp": now + TOKEN_LIFETIME_SECONDS, "aud": AUDIENCE}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


Opener = Callable[[urllib.request.Request], Any]


def _open(request: urllib.request.Request) -> Any:
    return urllib.request.urlopen(request, timeout=10)  # noqa: S310 (https API base or a test server)


class AppStoreConnect:
    """``DeviceRegistrar`` over App Store Connect."""

    def __init__(
        self,
        *,
        issuer_id: str,
        key_id: str,
        private_key_pem: bytes,
        base_url: str = API_BASE,
        opener: Opener = _open,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer_id = issuer_id
        self.key_id = key_id
        self._key = private_key_pem
        if not base_url.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
            raise ValueError(
                "the App Store Connect base URL must be https (or a local test server)"
            )
        self.base_url = base_url.rstrip("/")
        self._open = opener
        self._clock = clock

    def register_device(self, *, udid: str, name: str) -> str:
        """The device's App Store Connect id; an already registered UDID (409) is
        looked up instead, so registering twice is harmless."""
        token = es256_jwt(
            issuer_id=self.issuer_id,
            key_id=self.key_id,
            private_key_pem=self._key,
            now=int(self._clock()),
        )
        body = {
            "data": {
                "type": "devices",
                "attributes": {"name": name[:50] or udid[-8:], "platform": "IOS", "udid": udid},
            }
        }
        status, data = self._call("POST", "/v1/devices", token, body)
        if status == 201:
            return str(data["data"]["id"])
        if status == 409:
            status, data = self._call("GET", f"/v1/devices?filter[udid]={udid}", token, None)
            found = data.get("data") if status == 200 and isinstance(data, dict) else None
            if found:
                return str(found[0]["id"])
        raise RegistrationFailed(f"App Store Connect answered {status}: {_first_error(data)}")

    def _call(self, method: str, path: str, token: str, body: Any) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.base_url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with self._open(request) as response:
                return int(response.status), json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                return int(error.code), json.loads(error.read() or b"{}")
            except ValueError:
                return int(error.code), {}
        except (OSError, ValueError) as error:
            raise RegistrationFailed(f"App Store Connect could not be reached ({error})") from None


def _first_error(data: Any) -> str:
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("detail") or errors[0].get("title") or errors[0].get("code"))[:200]
    return "no details"
