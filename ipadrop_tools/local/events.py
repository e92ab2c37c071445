"""Lambda events and responses the way AWS shapes them, for calling the real handlers locally.

``http_api_event`` builds an API Gateway HTTP API payload v2.0 event (what the link
function receives behind the stack's HTTP API); ``response_from_lambda`` turns what
the function returns back into status, headers and body the way API Gateway does.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from ipadrop.settings import DISTRIBUTION_ADMIN_ROUTES

LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_API_ID = "local"
LOCAL_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: str  # API Gateway route syntax: "/apps/{bundle_id}/builds"
    admin: bool  # IAM-authenticated admin route (not behind CloudFront)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.pattern}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = _compiled(self.pattern).fullmatch(path)
        return None if found is None else dict(found.groupdict())


_COMPILED: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _COMPILED:
        parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", pattern)
        regex = "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in parts
        )
        # API Gateway routes "/a/b/" like "/a/b" (the event keeps the slash).
        _COMPILED[pattern] = re.compile(regex + "/?")
    return _COMPILED[pattern]


# The routes the stack's HTTP API defines (docs/ARCHITECTURE.md, "Contracts").
ROUTES: tuple[Route, ...] = (
    Route("GET", "/i/{token}", admin=False),
    Route("HEAD", "/i/{token}", admin=False),
    Route("GET", "/m/{token}/manifest.plist", admin=False),
    Route("POST", "/links", admin=True),
    Route("GET", "/apps", admin=True),
    Route("GET", "/apps/{bundle_id}/builds", admin=True),
    Route("DELETE", "/apps/{bundle_id}/builds/{build_id}", admin=True),
    # Devices (docs/ARCHITECTURE.md, "Devices and pre-install diagnosis").
    Route("GET", "/d/{token}", admin=False),
    Route("GET", "/d/{token}/enroll.mobileconfig", admin=False),
    Route("POST", "/d/{token}/enroll", admin=False),
    Route("GET", "/d/{token}/done", admin=False),
    Route("GET", "/devices", admin=True),
    Route("POST", "/enrollments", admin=True),
    *(Route(method, path, admin=True) for method, path in DISTRIBUTION_ADMIN_ROUTES),
)


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith(_TEXT_TYPES) or media.endswith(("+json", "+xml"))


def _request_id() -> str:
    # API Gateway's look: 16 base64 characters, e.g. "JKJaXmPLvHcESHA=".
    return base64.b64encode(secrets.token_bytes(11)).decode()


def http_api_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    route: Route,
    path_parameters: dict[str, str],
    domain_name: str,
    now: float | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as API Gateway builds it.

    Repeated headers and query parameters are joined with commas, header names are
    lower-cased, cookies move from the ``cookie`` header to ``cookies``, and a body
    that is not text travels base64-encoded.
    """
    now = time.time() if now is None else now
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    merged["host"] = domain_name
    merged.setdefault("x-forwarded-for", source_ip)
    merged.setdefault("x-forwarded-proto", "http")
    merged.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{secrets.token_hex(12)}")

    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value

    request_context: dict[str, Any] = {
        "accountId": LOCAL_ACCOUNT_ID,
        "apiId": LOCAL_API_ID,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": _request_id(),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if route.admin:
        # What IAM authorization adds; locally every admin caller is this one user.
        request_context["authorizer"] = {
            "iam": {
                "accessKey": "ASIALOCALLOCALLOCAL0",
                "accountId": LOCAL_ACCOUNT_ID,
                "callerId": "AIDALOCALLOCALLOCAL0",
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/ipadrop-local",
                "userId": "AIDALOCALLOCALLOCAL0",
            }
        }

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        if _is_text(merged.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def response_from_lambda(result: Any) -> HttpResponse:
    """What API Gateway sends back for a function's payload-2.0 response."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # API Gateway's inference: anything else is a 200 JSON body.
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("Content-Type", "application/json")], body.encode())
    raw_body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body_bytes = base64.b64decode(raw_body)
    else:
        body_bytes = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
    headers: list[tuple[str, str]] = [
        (str(name), str(value)) for name, value in (result.get("headers") or {}).items()
    ]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    return HttpResponse(int(result["statusCode"]), headers, body_bytes)


@dataclass(slots=True)
class LocalLambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]") + "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
