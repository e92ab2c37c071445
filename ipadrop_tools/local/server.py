"""One HTTP port for the whole local stack, standing in for CloudFront + API Gateway.

- ``/i/*``, ``/m/*`` and the admin routes (``/links``, ``/apps...``): an API Gateway
  payload-2.0 event to the real link handler (admin routes need no SigV4 locally);
- ``/builds/*``: S3 objects, only with a valid CloudFront canned-policy signature,
  checked the way CloudFront checks it (expiry when the request starts), Range supported;
- ``/_local/config``: where the CLI learns the S3 endpoint and bucket.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

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

_STREAM_CHUNK = 256 * 1024


@dataclass(slots=True)
class ServerContext:
    """Everything the request handler needs, shared by all request threads."""

    link_handler: LambdaHandler
    s3: Any
    bucket: str
    check_signature: SignatureCheck
    api_domain: str
    config: Mapping[str, Any]
    security_headers: tuple[tuple[str, str], ...] = SECURITY_HEADERS
    # One "container": Lambda runs one event at a time per instance, and the
    # handler's resolver keeps the current event on a module-level object.
    link_lock: threading.Lock = field(default_factory=threading.Lock)
    # Distribution hooks (ipadrop_tools/local/outbox.py): extra local pages
    # (path -> response or None) and the CloudFront-style access log.
    local_pages: Callable[[str], HttpResponse | None] | None = None
    access_log: Callable[..., None] | None = None


def _xml_error(status: int, code: str, message: str) -> HttpResponse:
    from xml.sax.saxutils import escape

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return HttpResponse(status, [("Content-Type", "text/xml")], body.encode())


def _json_response(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, indent=2).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


_INDEX_TEXT = """ipadrop local is running.

  Publish an app:  ipadrop upload --endpoint {url} MyApp.ipa
  Mint a link:     ipadrop link --endpoint {url} com.example.app
  List apps:       ipadrop apps --endpoint {url}
"""


class LocalRequestHandler(BaseHTTPRequestHandler):
    server_version = "ipadrop-local"
    protocol_version = "HTTP/1.1"
    context: ServerContext  # set on the subclass made by make_server

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request comes from _dispatch instead

    def _dispatch(self) -> None:
        started = time.monotonic()
        parts = urlsplit(self.path)
        path = parts.path
        status = 500
        sent = 0
        try:
            body = self._read_body()
            if path.startswith("/" + BUILDS_PREFIX) and self.command in ("GET", "HEAD"):
                status, sent = self._serve_build_file(path, parts.query)
                if self.context.access_log is not None and self.command == "GET":
                    self.context.access_log(
                        path=path, query=parts.query, status=status, sent=sent, headers=self.headers
                    )
            else:
                response = self._route(path, parts.query, body)
                status = response.status
                sent = self._send(response)
        except (BrokenPipeError, ConnectionResetError):
            status = 499  # the client went away (e.g. a cancelled download)
        except Exception:
            log.exception("local server: %s %s failed", self.command, path)
            status = 500
            with contextlib.suppress(OSError):
                sent = self._send(_json_response(500, {"error": "internal", "message": "see log"}))
        elapsed_ms = (time.monotonic() - started) * 1000
        # Path only: query strings of /builds/* carry signatures.
        log.info(
            "%s %s %s %d %dB %.0fms",
            self.client_address[0],
            self.command,
            path,
            status,
            sent,
            elapsed_ms,
        )

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _route(self, path: str, query: str, body: bytes) -> HttpResponse:
        ctx = self.context
        if path == "/_local/config" and self.command == "GET":
            return _json_response(200, dict(ctx.config))
        if ctx.local_pages is not None and self.command == "GET":
            page = ctx.local_pages(path)
            if page is not None:
                return page
        if path == "/" and self.command in ("GET", "HEAD"):
            text = _INDEX_TEXT.format(url=ctx.config.get("distribution_url", ""))
            return HttpResponse(200, [("Content-Type", "text/plain; charset=utf-8")], text.encode())
        matched = match_route(self.command, path)
        if matched is None:
            # API Gateway's own answer for a path no route matches.
            return _json_response(404, {"message": "Not Found"})
        route, params = matched
        event = http_api_event(
            method=self.command,
            raw_path=path,
            raw_query=query,
            headers=self.headers.items(),
            body=body,
            source_ip=self.client_address[0],
            route=route,
            path_parameters={name: unquote(value) for name, value in params.items()},
            domain_name=ctx.api_domain,
        )
        with ctx.link_lock:
            result = ctx.link_handler(event, LocalLambdaContext(function_name="ipadrop-local-link"))
        return response_from_lambda(result)

    def _send(self, response: HttpResponse, *, body: bytes | None = None) -> int:
        payload = response.body if body is None else body
        self.send_response(response.status)
        own = {name.lower() for name, _ in response.headers}
        # A local page may bring its own policy (the outbox shows e-mail styles).
        security_headers = tuple(
            (name, value)
            for name, value in self.context.security_headers
            if not (name.lower() == "content-security-policy" and name.lower() in own)
        )
        names = {name.lower() for name, _ in security_headers}
        for name, value in response.headers:
            if name.lower() not in names and name.lower() != "content-length":
                self.send_header(name, value)
        for name, value in security_headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
            return len(payload)
        return 0

    def _serve_build_file(self, path: str, query: str) -> tuple[int, int]:
        ctx = self.context
        host = self.headers.get("Host") or urlsplit(str(ctx.config["distribution_url"])).netloc
        url = f"http://{host}{path}" + (f"?{query}" if query else "")
        from ipadrop_tools.local.cloudfront_verify import SignatureRejected

        try:
            ctx.check_signature(url, int(time.time()))
        except SignatureRejected as exc:
            log.info("signature rejected for %s: %s", path, exc)
            if "Key-Pair-Id" not in query:
                response = _xml_error(
                    403, "MissingKey", "Missing Key-Pair-Id query parameter or cookie value"
                )
            else:
                response = _xml_error(403, "AccessDenied", f"Access denied ({exc})")
            return 403, self._send(response)

        key = unquote(path[1:])
        suffix = key[key.rfind(".") :] if "." in key.rsplit("/", 1)[-1] else ""
        content_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
        return self._stream_object(key, content_type)

    def _stream_object(self, key: str, content_type: str) -> tuple[int, int]:
        from botocore.exceptions import ClientError

        ctx = self.context
        request: dict[str, Any] = {"Bucket": ctx.bucket, "Key": key}
        range_header = self.headers.get("Range")
        if range_header:
            request["Range"] = range_header
        try:
            if self.command == "HEAD":
                obj = ctx.s3.head_object(**request)
            else:
                obj = ctx.s3.get_object(**request)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                return 404, self._send(
                    _xml_error(404, "NoSuchKey", "The specified key does not exist.")
                )
            if code in ("InvalidRange", "416"):
                return 416, self._send(
                    _xml_error(416, "InvalidRange", "The requested range is not satisfiable")
                )
            raise
        status = 206 if "ContentRange" in obj and range_header else 200
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(obj["ContentLength"]))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", str(obj["ContentRange"]))
        if obj.get("ETag"):
            self.send_header("ETag", str(obj["ETag"]))
        if obj.get("LastModified") is not None:
            self.send_header(
                "Last-Modified", obj["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
            )
        for name, value in ctx.security_headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return status, 0
        sent = 0
        stream = obj["Body"]
        try:
            while chunk := stream.read(_STREAM_CHUNK):
                self.wfile.write(chunk)
                sent += len(chunk)
        finally:
            stream.close()
        return status, sent


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True


def make_server(host: str, port: int) -> LocalHttpServer:
    """Bind now (so a taken port fails before anything else starts); serve later."""
    handler_class = type("BoundLocalRequestHandler", (LocalRequestHandler,), {})
    return LocalHttpServer((host, port), handler_class)


def attach_context(server: LocalHttpServer, context: ServerContext) -> None:
    server.RequestHandlerClass.context = context  # type: ignore[attr-defined]
