"""A local stand-in for App Store Connect's ``/v1/devices`` (tests only).

It follows Apple's published description of the endpoint: a bearer ES256 JWT
(``kid`` header, ``iss``/``iat``/``exp``/``aud: appstoreconnect-v1`` claims, at
most 20 minutes of life) checked against the team key's public half;
``POST /v1/devices`` with ``{"data": {"type": "devices", "attributes": {"name",
"platform", "udid"}}}`` answers 201 with the device resource, 409 with an
``errors`` document for a UDID already registered; ``GET
/v1/devices?filter[udid]=`` lists matches. Anything else is 401/400/404.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FakeAppStore:
    public_key: Any  # ec.EllipticCurvePublicKey of the team's API key
    key_id: str
    issuer_id: str
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def check_token(self, header: str | None) -> str | None:
        """None when the bearer token is good, else why not."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

        if not header or not header.startswith("Bearer "):
            return "no bearer token"
        try:
            head, body, signature = header[7:].split(".")
            meta = json.loads(_unb64(head))
            claims = json.loads(_unb64(body))
            raw = _unb64(signature)
        except ValueError:
            return "malformed token"
        if meta != {"alg": "ES256", "kid": self.key_id, "typ": "JWT"}:
            return "bad header"
        if claims.get("aud") != "appstoreconnect-v1" or claims.get("iss") != self.issuer_id:
            return "bad claims"
        if not 0 < claims.get("exp", 0) - claims.get("iat", 0) <= 1200:
            return "bad lifetime"
        if len(raw) != 64:
            return "signature is not r||s"
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            self.public_key.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "bad signature"
        return None


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str, detail: str) -> None:
        self._send(
            status,
            {"errors": [{"status": str(status), "code": code, "title": code, "detail": detail}]},
        )

    def _authorized(self) -> bool:
        fake: FakeAppStore = self.server.fake
        fake.requests.append((self.command, self.path))
        problem = fake.check_token(self.headers.get("Authorization"))
        if problem:
            self._error(401, "NOT_AUTHORIZED", problem)
            return False
        return True

    def do_POST(self) -> None:
        if not self._authorized():
            return
        if urlsplit(self.path).path != "/v1/devices":
            self._error(404, "NOT_FOUND", "no such resource")
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length))["data"]
            attributes = data["attributes"]
            if data["type"] != "devices" or attributes["platform"] not in ("IOS", "MAC_OS"):
                raise ValueError("not a device")
            udid, name = str(attributes["udid"]), str(attributes["name"])
        except (ValueError, KeyError, TypeError):
            self._error(400, "PARAMETER_ERROR.INVALID", "the request body is not a device")
            return
        fake: FakeAppStore = self.server.fake
        if udid in fake.devices:
            self._error(
                409,
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                "A device with this number already exists on this team.",
            )
            return
        resource = {
            "type": "devices",
            "id": f"DEV{len(fake.devices) + 1:06d}",
            "attributes": {"name": name, "platform": "IOS", "udid": udid, "status": "ENABLED"},
        }
        fake.devices[udid] = resource
        self._send(201, {"data": resource})

    def do_GET(self) -> None:
        if not self._authorized():
            return
        parts = urlsplit(self.path)
        if parts.path != "/v1/devices":
            self._error(404, "NOT_FOUND", "no such resource")
            return
        wanted = parse_qs(parts.query).get("filter[udid]", [])
        fake: FakeAppStore = self.server.fake
        self._send(200, {"data": [d for u, d in fake.devices.items() if not wanted or u in wanted]})


@contextmanager
def fake_app_store(fake: FakeAppStore) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
