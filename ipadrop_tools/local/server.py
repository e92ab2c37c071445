"""One HTTP port for the whole local stack, standing in for CloudFront + API Gateway.

Served by Werkzeug's threaded WSGI server (installed with moto); this module is the
WSGI application and its routes:

- ``/i/*``, ``/m/*`` and the admin routes (``/links``, ``/apps...``): an API Gateway
  payload-2.0 event to the real link handler (``events.ROUTES``; admin routes need no
  SigV4 locally);
- ``/builds/*``: S3 objects, only with a valid CloudFront canned-policy signature for
  the exact path served, checked the way CloudFront checks it (expiry when the request
  starts); a well-formed single ``Range`` is honoured, anything else ignored as S3 does;
- ``LOCAL_ROUTES``: the stack's own pages (``/``, ``/_local/config``).

Every request passes ``_refusal`` first (docs/LOCAL.md, "Security"): the ``Host`` must
be the stack's own address (no DNS rebinding), an ``Origin`` must be the stack's own,
``Content-Length`` must be a number, and admin writes must be ``application/json`` (a
CORS "simple request" cannot be). Werkzeug reads chunked bodies, closes the connection
after every response (no request smuggling on a kept-alive connection) and the
request handler has a socket timeout.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from ipadrop.domain.bucket_keys import BUILDS_PREFIX
from ipadrop_tools.local.events import (
    HttpResponse,
    LocalLambdaContext,
    http_api_event,
    match_route,
    response_from_lambda,
)

log = logging.getLogger("ipadrop_tools.local")

LambdaHandler = Callable[[dict[str, Any], Any], Any]
SignatureCheck = Callable[[str, int], None]  # (url, now) -> None, raises with a reason

# What the stack's CloudFront response headers policy adds, overriding the origin's
# (infra/storage.py); the stack adds the install page's Content-Security-Policy.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)

CONTENT_TYPES = {
    ".ipa": "application/octet-stream",
    ".plist": "text/xml",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}

SOCKET_TIMEOUT_SECONDS = 30.0
# API Gateway's payload limit: the admin API never needs more.
MAX_BODY_BYTES = 10 * 1024 * 1024
_STREAM_CHUNK = 256 * 1024
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_BODY_METHODS = ("POST", "PUT", "PATCH")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(slots=True)
class ServerContext:
    """Everything the application needs, shared by all request threads."""

    link_handler: LambdaHandler
    s3: Any
    bucket: str
    check_signature: SignatureCheck
    api_domain: str
    config: Mapping[str, Any]  # what /_local/config answers; ``distribution_url`` is ours
    security_headers: tuple[tuple[str, str], ...] = SECURITY_HEADERS
    # One "container": Lambda runs one event at a time per instance, and the
    # handler's resolver keeps the current event on a module-level object.
    link_lock: threading.Lock = field(default_factory=threading.Lock)
    # Distribution hooks (ipadrop_tools/local/outbox.py): extra local pages
    # (path -> response or None; they keep their own policy) and the
    # CloudFront-style access log of /builds/* downloads.
    local_pages: Callable[[str], HttpResponse | None] | None = None
    access_log: Callable[..., None] | None = None

    @property
    def distribution_url(self) -> str:
        return str(self.config["distribution_url"]).rstrip("/")

    def own_hosts(self) -> frozenset[str]:
        """``Host`` values addressed to this stack: its URL's, and loopback names on its port."""
        parts = urlsplit(self.distribution_url)
        port = parts.port
        hosts = {parts.netloc.lower()}
        if port is not None:
            hosts.update(f"{name}:{port}" for name in _LOOPBACK_NAMES)
        return frozenset(hosts)

    def own_origins(self) -> frozenset[str]:
        scheme = urlsplit(self.distribution_url).scheme or "http"
        return frozenset(f"{scheme}://{host}" for host in self.own_hosts())


# ----------------------------------------------------------------------- responses


class _Response(Response):
    default_mimetype = None  # a Lambda response without Content-Type stays without


def _json_response(status: int, payload: Any) -> Response:
    return _Response(json.dumps(payload, indent=2), status, mimetype="application/json")


def _refused(status: int, code: str, message: str) -> Response:
    return _json_response(status, {"error": code, "message": message})


def _xml_error(status: int, code: str, message: str) -> Response:
    from xml.sax.saxutils import escape

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return _Response(body, status, content_type="text/xml")


def _from_lambda(response: HttpResponse) -> Response:
    headers = [(n, v) for n, v in response.headers if n.lower() != "content-length"]
    return _Response(response.body, response.status, headers=headers)


# ------------------------------------------------------------------- the stack's own

_INDEX_TEXT = """ipadrop local is running.

  Publish an app:  ipadrop upload --endpoint {url} MyApp.ipa
  Mint a link:     ipadrop link --endpoint {url} com.example.app
  List apps:       ipadrop apps --endpoint {url}
"""

LocalRoute = Callable[[ServerContext, Request], Response]


def _index(ctx: ServerContext, request: Request) -> Response:
    text = _INDEX_TEXT.format(url=ctx.distribution_url)
    return _Response(text, 200, content_type="text/plain; charset=utf-8")


def _config(ctx: ServerContext, request: Request) -> Response:
    return _json_response(200, dict(ctx.config))


# (method, exact path) -> handler; checked before the link handler's routes.
LOCAL_ROUTES: dict[tuple[str, str], LocalRoute] = {
    ("GET", "/"): _index,
    ("HEAD", "/"): _index,
    ("GET", "/_local/config"): _config,
}


# -------------------------------------------------------------------- the checks


def _refusal(environ: Mapping[str, Any], ctx: ServerContext) -> Response | None:
    """Why this request gets no answer, or None (see the module docstring)."""
    host = str(environ.get("HTTP_HOST") or "").strip().lower()
    if host not in ctx.own_hosts():
        return _refused(
            403,
            "forbidden_host",
            f"This stack answers only requests addressed to {ctx.distribution_url}.",
        )
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and str(origin).strip().lower() not in ctx.own_origins():
        return _refused(403, "forbidden_origin", "Requests from other sites are refused.")
    length = environ.get("CONTENT_LENGTH")
    if length not in (None, "") and not re.fullmatch(r"[0-9]+", str(length)):
        return _refused(400, "bad_request", "Content-Length must be a whole number.")
    encoding = environ.get("HTTP_TRANSFER_ENCODING")
    if encoding is not None:
        if str(encoding).strip().lower() != "chunked":
            return _refused(501, "not_implemented", "Only chunked Transfer-Encoding is supported.")
        if length not in (None, ""):
            return _refused(400, "bad_request", "Content-Length and chunked together.")
    target = str(environ.get("RAW_URI") or "")
    if not target.startswith("/") or "#" in target:
        return _refused(400, "bad_request", "The request target must be a path.")
    return None


def _usable_range(header: str | None) -> str | None:
    """A single well-formed byte range, or None: S3 and CloudFront ignore any other."""
    if not header:
        return None
    found = _RANGE.fullmatch(header.strip())
    if found is None or not (found.group(1) or found.group(2)):
        return None
    first, last = found.group(1), found.group(2)
    if first and last and int(last) < int(first):
        return None
    return header.strip()


# --------------------------------------------------------------- the application


class LocalRequest(Request):
    max_content_length = MAX_BODY_BYTES


class LocalApp:
    """The WSGI application; answers 503 until ``attach_context`` gives it the stack."""

    def __init__(self) -> None:
        self.context: ServerContext | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.monotonic()
        method = str(environ.get("REQUEST_METHOD", ""))
        path = str(environ.get("RAW_URI") or "").partition("?")[0]
        response = self._respond(environ, method, path)
        # Path only: query strings of /builds/* carry signatures.
        log.info(
            "%s %s %s %d %sB %.0fms",
            environ.get("REMOTE_ADDR", "-"),
            method,
            path,
            response.status_code,
            response.content_length if response.content_length is not None else "-",
            (time.monotonic() - started) * 1000,
        )
        return response(environ, start_response)

    def _respond(self, environ: dict[str, Any], method: str, path: str) -> Response:
        ctx = self.context
        if ctx is None:
            return _refused(503, "starting", "The local stack is still starting.")
        try:
            response = _refusal(environ, ctx) or self._route(ctx, LocalRequest(environ), method)
        except HTTPException as exc:
            status = exc.code or 400
            response = _refused(status, "bad_request", exc.description or "Bad request.")
        except Exception:
            log.exception("local server: %s %s failed", method, path)
            response = _refused(500, "internal", "see the local stack's log")
        _add_security_headers(response, ctx.security_headers)
        return response

    def _route(self, ctx: ServerContext, request: Request, method: str) -> Response:
        raw_path, _, query = str(request.environ.get("RAW_URI") or "").partition("?")
        if raw_path.startswith("/" + BUILDS_PREFIX) and method in ("GET", "HEAD"):
            served = _serve_build_file(ctx, request, raw_path, query)
            if ctx.access_log is not None and method == "GET":
                _log_when_sent(ctx.access_log, served, request, raw_path, query)
            return served
        local = LOCAL_ROUTES.get((method, raw_path))
        if local is not None:
            return local(ctx, request)
        page = ctx.local_pages(raw_path) if ctx.local_pages and method == "GET" else None
        if page is not None:
            own = _from_lambda(page)
            own.keeps_policy = True  # type: ignore[attr-defined]
            return own
        matched = match_route(method, raw_path)
        if matched is None:
            # API Gateway's own answer for a path no route matches.
            return _json_response(404, {"message": "Not Found"})
        route, params = matched
        if route.admin and method in _BODY_METHODS and request.mimetype != "application/json":
            return _refused(
                415, "unsupported_media_type", "Admin requests must send application/json."
            )
        event = http_api_event(
            method=method,
            raw_path=raw_path,
            raw_query=query,
            headers=request.headers.items(),
            body=request.get_data(cache=True),
            source_ip=str(request.remote_addr or ""),
            route=route,
            path_parameters={name: unquote(value) for name, value in params.items()},
            domain_name=ctx.api_domain,
        )
        with ctx.link_lock:
            result = ctx.link_handler(event, LocalLambdaContext(function_name="ipadrop-local-link"))
        return _from_lambda(response_from_lambda(result))


def _add_security_headers(response: Response, security_headers: Iterable[tuple[str, str]]) -> None:
    keeps_policy = getattr(response, "keeps_policy", False)  # the outbox's e-mail styles
    for name, value in security_headers:
        if keeps_policy and name.lower() == "content-security-policy":
            continue
        response.headers[name] = value  # replaces the origin's, as the CloudFront policy does


def _log_when_sent(
    access_log: Callable[..., None], response: Response, request: Request, path: str, query: str
) -> None:
    """Count the bytes actually sent; write the log line when the body is done."""
    body = response.response

    def counted() -> Iterator[bytes]:
        sent = 0
        try:
            for chunk in body:
                data = chunk if isinstance(chunk, bytes) else str(chunk).encode()
                sent += len(data)
                yield data
        finally:
            access_log(
                path=path,
                query=query,
                status=response.status_code,
                sent=sent,
                headers=request.headers,
            )

    response.response = counted()


def _serve_build_file(ctx: ServerContext, request: Request, raw_path: str, query: str) -> Response:
    from ipadrop_tools.local.cloudfront_verify import SignatureRejected

    # The URL CloudFront verifies is its own name plus the path it serves: never the
    # client's Host header (which could smuggle in another path).
    url = ctx.distribution_url + raw_path + (f"?{query}" if query else "")
    try:
        if urlsplit(url).path != raw_path:
            raise SignatureRejected("malformed", "the path is not a plain path")
        ctx.check_signature(url, int(time.time()))
    except SignatureRejected as exc:
        log.info("signature rejected for %s: %s", raw_path, exc)
        if "Key-Pair-Id" not in query:
            return _xml_error(
                403, "MissingKey", "Missing Key-Pair-Id query parameter or cookie value"
            )
        return _xml_error(403, "AccessDenied", f"Access denied ({exc})")

    key = unquote(raw_path[1:])
    suffix = key[key.rfind(".") :] if "." in key.rsplit("/", 1)[-1] else ""
    content_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
    return _stream_object(ctx, request, key, content_type)


def _stream_object(ctx: ServerContext, request: Request, key: str, content_type: str) -> Response:
    from botocore.exceptions import ClientError

    wanted: dict[str, Any] = {"Bucket": ctx.bucket, "Key": key}
    byte_range = _usable_range(request.headers.get("Range"))
    if byte_range:
        wanted["Range"] = byte_range
    try:
        if request.method == "HEAD":
            obj = ctx.s3.head_object(**wanted)
        else:
            obj = ctx.s3.get_object(**wanted)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        if code in ("InvalidRange", "416"):
            return _xml_error(416, "InvalidRange", "The requested range is not satisfiable")
        raise
    status = 206 if "ContentRange" in obj and byte_range else 200
    headers: list[tuple[str, str]] = [
        ("Content-Type", content_type),
        ("Content-Length", str(obj["ContentLength"])),
        ("Accept-Ranges", "bytes"),
    ]
    if status == 206:
        headers.append(("Content-Range", str(obj["ContentRange"])))
    if obj.get("ETag"):
        headers.append(("ETag", str(obj["ETag"])))
    if obj.get("LastModified") is not None:
        modified = obj["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
        headers.append(("Last-Modified", modified))
    body: Iterable[bytes] = () if request.method == "HEAD" else _chunks(obj["Body"])
    return _Response(body, status, headers=headers, direct_passthrough=True)


def _chunks(stream: Any) -> Iterator[bytes]:
    try:
        while chunk := stream.read(_STREAM_CHUNK):
            yield chunk
    finally:
        stream.close()


# -------------------------------------------------------------------- the server


class LocalRequestHandler(WSGIRequestHandler):
    timeout = SOCKET_TIMEOUT_SECONDS  # socket timeout for every read and write

    def version_string(self) -> str:
        return "ipadrop-local"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # LocalApp logs one line per request


LocalHttpServer = ThreadedWSGIServer


def make_server(
    host: str, port: int, *, socket_timeout: float = SOCKET_TIMEOUT_SECONDS
) -> LocalHttpServer:
    """Bind now (so a taken port fails before anything else starts); serve later.

    Binds the socket itself: Werkzeug's own bind failure exits the process.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        handler = type(
            "BoundLocalRequestHandler", (LocalRequestHandler,), {"timeout": socket_timeout}
        )
        server = ThreadedWSGIServer(host, port, LocalApp(), handler, fd=listener.fileno())
    finally:
        listener.close()  # the server holds its own duplicate
    server.daemon_threads = True
    return server


def attach_context(server: LocalHttpServer, context: ServerContext) -> None:
    app = server.app
    if not isinstance(app, LocalApp):
        raise TypeError("not a local stack server")
    app.context = context
