"""The local stack's HTTP server on a real socket, with a fake link handler and bucket.

Each test here reproduces a way the hand-written server could be abused or broken
(docs/LOCAL.md, "Security"): a smuggled Host, DNS rebinding, CORS simple requests,
chunked and malformed bodies, garbage ranges, idle sockets.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ipadrop.adapters.cloudfront_signing import generate_key_pair, sign_url
from ipadrop_tools.local.cloudfront_verify import verify_signed_url
from ipadrop_tools.local.server import ServerContext, attach_context, make_server

KEY_PAIR_ID = "KLOCALTEST0001"
SECRET_KEY = "builds/com.example.secret/20261124T002616Z-0000000000/app.ipa"
PUBLIC_KEY = "builds/com.example.public/20261124T002616Z-1111111111/app.ipa"
OBJECTS = {SECRET_KEY: b"SECRET-BUILD" * 10, PUBLIC_KEY: b"0123456789" * 10}


@dataclass
class FakeBucket:
    objects: dict[str, bytes]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def _find(self, key: str) -> bytes:
        if key not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "no"}}, "GetObject")
        return self.objects[key]

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        return {"ContentLength": len(self._find(kwargs["Key"]))}

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        data = self._find(kwargs["Key"])
        if "Range" not in kwargs:
            return {"ContentLength": len(data), "Body": io.BytesIO(data)}
        first, _, last = kwargs["Range"].removeprefix("bytes=").partition("-")
        if not first.isdigit():  # what moto does with garbage: it is not S3
            raise RuntimeError(f"cannot parse {kwargs['Range']}")
        end = int(last) if last else len(data) - 1
        part = data[int(first) : end + 1]
        return {
            "ContentLength": len(part),
            "ContentRange": f"bytes {first}-{end}/{len(data)}",
            "Body": io.BytesIO(part),
        }


@dataclass
class Local:
    url: str
    port: int
    events: list[dict[str, Any]]
    bucket: FakeBucket
    private_key: bytes
    state_dir: Path

    def signed(self, key: str) -> str:
        return sign_url(
            f"{self.url}/{key}",
            key_pair_id=KEY_PAIR_ID,
            private_key_pem=self.private_key,
            expires_at=int(time.time()) + 600,
        )

    def raw(self, request: bytes, *, read_timeout: float = 5.0) -> bytes:
        """Send bytes as they are; everything the server answers until it closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout) as conn:
            conn.sendall(request)
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def request(
        self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {target} HTTP/1.1"]
        all_headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if body and "Content-Length" not in all_headers:
            all_headers["Content-Length"] = str(len(body))
        lines += [f"{name}: {value}" for name, value in all_headers.items()]
        answer = self.raw(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return parse_response(answer)


def parse_response(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, bytes]:
    return generate_key_pair()


@pytest.fixture
def local(key_pair: tuple[bytes, bytes], tmp_path: Path) -> Iterator[Local]:
    server = make_server("127.0.0.1", 0, socket_timeout=1.0)
    port = server.server_address[1]
    url = f"http://127.0.0.1:{port}"
    events: list[dict[str, Any]] = []
    bucket = FakeBucket(dict(OBJECTS))

    def link_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"path": event["rawPath"], "method": event["routeKey"]}),
        }

    def check(url: str, now: int) -> None:
        verify_signed_url(url, public_keys={KEY_PAIR_ID: key_pair[1]}, now=now)

    attach_context(
        server,
        ServerContext(
            link_handler=link_handler,
            s3=bucket,
            bucket="bucket",
            check_signature=check,
            api_domain="local.execute-api.us-east-1.amazonaws.com",
            config={"distribution_url": url, "bucket": "bucket", "state_dir": str(tmp_path)},
        ),
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Local(url, port, events, bucket, key_pair[0], tmp_path)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def path_and_query(url: str) -> str:
    return url.split("/", 3)[3].join(("/", ""))


# ----------------------------------------------------------------- signed files


def test_a_signed_url_serves_its_own_object(local: Local) -> None:
    status, headers, body = local.request("GET", path_and_query(local.signed(PUBLIC_KEY)))
    assert status == 200
    assert body == OBJECTS[PUBLIC_KEY]
    assert headers["content-length"] == str(len(OBJECTS[PUBLIC_KEY]))
    assert headers["x-frame-options"] == "DENY"


def test_a_host_header_cannot_bend_a_signed_url_to_another_object(local: Local) -> None:
    # The signature covers PUBLIC_KEY; the request asks for SECRET_KEY. Verifying a URL
    # built from the Host header made the two the same: "<signed url>#" + served path.
    signed = local.signed(PUBLIC_KEY)
    host = signed.removeprefix("http://") + "#"
    query = signed.partition("?")[2]
    answer = local.raw(
        f"GET /{SECRET_KEY}?{query} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(),
    )
    status, _, body = parse_response(answer)
    assert status == 403
    assert b"SECRET-BUILD" not in body
    # ...and with an honest Host, the signature is checked against the served path.
    status, _, body = local.request("GET", f"/{SECRET_KEY}?{query}")
    assert status == 403
    assert b"SECRET-BUILD" not in body


def test_a_fragment_in_the_request_target_is_refused(local: Local) -> None:
    signed = path_and_query(local.signed(PUBLIC_KEY))
    status, _, body = local.request("GET", signed + "#/" + SECRET_KEY)
    assert status == 400
    assert b"SECRET-BUILD" not in body


def test_a_garbage_range_is_ignored_like_s3_does(local: Local) -> None:
    target = path_and_query(local.signed(PUBLIC_KEY))
    for garbage in ("garbage", "bytes=x-y", "bytes=5-2", "bytes=0-1,4-5", "bytes=-"):
        status, _, body = local.request("GET", target, {"Range": garbage})
        assert (garbage, status) == (garbage, 200)
        assert body == OBJECTS[PUBLIC_KEY]
    status, headers, body = local.request("GET", target, {"Range": "bytes=2-5"})
    assert status == 206
    assert body == OBJECTS[PUBLIC_KEY][2:6]
    assert headers["content-range"] == f"bytes 2-5/{len(OBJECTS[PUBLIC_KEY])}"


def test_head_of_a_signed_url_has_headers_and_no_body(local: Local) -> None:
    status, headers, body = local.request("HEAD", path_and_query(local.signed(PUBLIC_KEY)))
    assert status == 200
    assert headers["content-length"] == str(len(OBJECTS[PUBLIC_KEY]))
    assert body == b""


# ------------------------------------------------------------ who may ask at all


def test_a_rebinding_host_gets_no_answer(local: Local) -> None:
    body = json.dumps({"bundle_id": "com.example.public", "build": "latest"}).encode()
    for host in ("evil.example:" + str(local.port), "127.0.0.1", "evil.example"):
        status, _, answer = local.request(
            "POST", "/links", {"Host": host, "Content-Type": "application/json"}, body
        )
        assert status == 403
        assert json.loads(answer)["error"] == "forbidden_host"
        assert local.request("GET", "/_local/config", {"Host": host})[0] == 403
        assert local.request("DELETE", "/apps/a.b/builds/c", {"Host": host})[0] == 403
    assert local.events == []


def test_loopback_names_on_the_stacks_port_are_its_own(local: Local) -> None:
    for host in (f"localhost:{local.port}", f"127.0.0.1:{local.port}", f"[::1]:{local.port}"):
        assert local.request("GET", "/apps", {"Host": host})[0] == 200


def test_a_foreign_origin_is_refused(local: Local) -> None:
    body = json.dumps({"bundle_id": "com.example.public"}).encode()
    for origin in ("https://evil.example", "null", f"http://127.0.0.1:{local.port + 1}"):
        status, _, answer = local.request(
            "POST", "/links", {"Origin": origin, "Content-Type": "application/json"}, body
        )
        assert status == 403
        assert json.loads(answer)["error"] == "forbidden_origin"
    assert local.events == []
    own = {"Origin": local.url, "Content-Type": "application/json"}
    assert local.request("POST", "/links", own, body)[0] == 200


def test_a_text_plain_admin_write_is_refused(local: Local) -> None:
    # What a CORS "simple request" from any web page looks like: no preflight.
    body = json.dumps({"bundle_id": "com.example.public"}).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        status, _, answer = local.request("POST", "/links", headers, body)
        assert status == 415
        assert json.loads(answer)["error"] == "unsupported_media_type"
    assert local.events == []


def test_config_does_not_publish_the_s3_endpoint(local: Local) -> None:
    status, _, body = local.request("GET", "/_local/config")
    assert status == 200
    assert "s3_endpoint" not in json.loads(body)


# -------------------------------------------------------------------- HTTP itself


def test_a_chunked_body_reaches_the_handler_whole(local: Local) -> None:
    payload = json.dumps({"bundle_id": "com.example.public", "build": "latest"}).encode()
    chunked = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (payload[:10], payload[10:])
    )
    # What followed the body used to run as a second request on the same connection.
    smuggled = b"DELETE /apps/a.b/builds/c HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answer = local.raw(
        f"POST /links HTTP/1.1\r\nHost: 127.0.0.1:{local.port}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        + chunked
        + b"0\r\n\r\n"
        + smuggled
    )
    assert parse_response(answer)[0] == 200
    assert answer.count(b"HTTP/1.1 ") == 1
    assert len(local.events) == 1
    event = local.events[0]
    assert json.loads(event["body"]) == json.loads(payload)


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "12, 12"])
def test_a_bad_content_length_is_a_400(local: Local, length: str) -> None:
    status, _, body = local.request(
        "POST", "/links", {"Content-Type": "application/json", "Content-Length": length}, b"{}"
    )
    assert status == 400
    assert "Content-Length" in json.loads(body)["message"]
    assert local.events == []


def test_an_idle_connection_is_closed_after_the_socket_timeout(local: Local) -> None:
    started = time.monotonic()
    answer = local.raw(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", read_timeout=10)
    assert time.monotonic() - started < 5  # the fixture's timeout is 1 s
    assert b"SECRET" not in answer


def test_head_and_a_trailing_slash_reach_the_install_page_route(local: Local) -> None:
    assert local.request("GET", "/i/tok/")[0] == 200
    status, _, body = local.request("HEAD", "/i/tok")
    assert status == 200
    assert body == b""
    assert [e["routeKey"] for e in local.events] == ["GET /i/{token}", "HEAD /i/{token}"]
    assert local.events[0]["rawPath"] == "/i/tok/"


# -------------------------------------------------------- the CLI finds S3 safely


def test_the_cli_reads_the_s3_endpoint_from_the_state_folder(local: Local) -> None:
    from ipadrop_tools.cli.remote.target import CliError, local_target
    from ipadrop_tools.local.state import write_runtime

    with pytest.raises(CliError, match=r"runtime\.json"):
        local_target(local.url)
    write_runtime(
        local.state_dir, {"distribution_url": local.url, "s3_endpoint": "http://127.0.0.1:1"}
    )
    assert oct((local.state_dir / "runtime.json").stat().st_mode & 0o777) == "0o600"
    target = local_target(local.url)
    assert target.s3.meta.endpoint_url == "http://127.0.0.1:1"
    assert target.bucket == "bucket"
