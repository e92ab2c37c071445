"""`ipadrop local`: API Gateway v2 events, responses, the state folder, startup errors."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
from pathlib import Path

import pytest

from ipadrop_tools.cli.main import main
from ipadrop_tools.local.events import (
    LocalLambdaContext,
    Route,
    http_api_event,
    match_route,
    response_from_lambda,
)
from ipadrop_tools.local.poller import s3_event_from_message
from ipadrop_tools.local.state import StateError, load_or_create_state

ADMIN = Route("GET", "/apps/{bundle_id}/builds", admin=True)
PUBLIC = Route("GET", "/i/{token}", admin=False)


def _event(route: Route = PUBLIC, **overrides: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "method": "GET",
        "raw_path": "/i/tok",
        "raw_query": "",
        "headers": [("User-Agent", "UA/1"), ("Accept", "text/html")],
        "body": b"",
        "source_ip": "127.0.0.1",
        "route": route,
        "path_parameters": {"token": "tok"},
        "domain_name": "local.execute-api.us-east-1.amazonaws.com",
        "now": 1_795_480_000.5,
    }
    arguments.update(overrides)
    return http_api_event(**arguments)  # type: ignore[arg-type]


def test_event_has_the_payload_2_shape() -> None:
    event = _event()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /i/{token}"
    assert event["rawPath"] == "/i/tok"
    assert event["rawQueryString"] == ""
    assert event["pathParameters"] == {"token": "tok"}
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert "queryStringParameters" not in event
    assert "cookies" not in event
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["stage"] == "$default"
    assert context["routeKey"] == "GET /i/{token}"
    assert context["domainPrefix"] == "local"
    assert context["http"] == {
        "method": "GET",
        "path": "/i/tok",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "UA/1",
    }
    assert context["timeEpoch"] == 1_795_480_000_500
    assert context["time"] == "24/Nov/2026:00:26:40 +0000"
    assert len(str(context["requestId"])) == 16
    assert "authorizer" not in context  # public routes are not IAM-authenticated


def test_headers_are_lower_cased_repeats_joined_and_cookies_moved() -> None:
    event = _event(
        headers=[
            ("X-Thing", "a"),
            ("x-thing", "b"),
            ("Cookie", "a=1; b=2"),
            ("Host", "127.0.0.1:8080"),
        ]
    )
    headers = event["headers"]
    assert isinstance(headers, dict)
    assert headers["x-thing"] == "a,b"
    assert "cookie" not in headers
    assert event["cookies"] == ["a=1", "b=2"]
    assert headers["host"] == "local.execute-api.us-east-1.amazonaws.com"
    assert all(name == name.lower() for name in headers)


def test_query_parameters_are_decoded_and_repeats_joined() -> None:
    event = _event(raw_query="a=1&a=2&q=hello%20world&empty=")
    assert event["rawQueryString"] == "a=1&a=2&q=hello%20world&empty="
    assert event["queryStringParameters"] == {"a": "1,2", "q": "hello world", "empty": ""}


def test_admin_routes_carry_the_iam_authorizer() -> None:
    event = _event(ADMIN, raw_path="/apps/com.x/builds", path_parameters={"bundle_id": "com.x"})
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["authorizer"]["iam"]["userArn"].startswith("arn:aws:iam::")


def test_text_bodies_stay_text_and_binary_bodies_are_base64() -> None:
    json_event = _event(
        method="POST", headers=[("Content-Type", "application/json")], body=b'{"a": 1}'
    )
    assert json_event["body"] == '{"a": 1}'
    assert json_event["isBase64Encoded"] is False
    binary_event = _event(
        method="POST", headers=[("Content-Type", "application/octet-stream")], body=b"\xff\x00"
    )
    assert binary_event["isBase64Encoded"] is True
    assert base64.b64decode(str(binary_event["body"])) == b"\xff\x00"


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        ("GET", "/i/abc-_9", "GET /i/{token}", {"token": "abc-_9"}),
        ("GET", "/m/abc/manifest.plist", "GET /m/{token}/manifest.plist", {"token": "abc"}),
        ("POST", "/links", "POST /links", {}),
        ("GET", "/apps", "GET /apps", {}),
        ("GET", "/apps/com.x/builds", "GET /apps/{bundle_id}/builds", {"bundle_id": "com.x"}),
        (
            "DELETE",
            "/apps/com.x/builds/b1",
            "DELETE /apps/{bundle_id}/builds/{build_id}",
            {"bundle_id": "com.x", "build_id": "b1"},
        ),
    ],
)
def test_routes_match_like_api_gateway(
    method: str, path: str, route_key: str, params: dict[str, str]
) -> None:
    matched = match_route(method, path)
    assert matched is not None
    assert matched[0].route_key == route_key
    assert matched[1] == params


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/links"), ("GET", "/i/a/b"), ("POST", "/apps"), ("GET", "/m/a/other.plist")],
)
def test_paths_without_a_route_do_not_match(method: str, path: str) -> None:
    assert match_route(method, path) is None


def test_lambda_responses_become_http_responses() -> None:
    response = response_from_lambda(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "cookies": ["a=1; Secure"],
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status == 201
    assert ("Set-Cookie", "a=1; Secure") in response.headers
    assert response.body == b"\x00\x01"
    inferred = response_from_lambda({"hello": "world"})
    assert inferred.status == 200
    assert json.loads(inferred.body) == {"hello": "world"}


def test_lambda_context_has_what_powertools_reads() -> None:
    context = LocalLambdaContext(function_name="fn", timeout_seconds=30)
    assert context.invoked_function_arn.endswith(":function:fn")
    assert context.log_group_name == "/aws/lambda/fn"
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id != LocalLambdaContext(function_name="fn").aws_request_id


def test_s3_test_events_are_skipped_and_real_events_kept() -> None:
    assert s3_event_from_message(json.dumps({"Event": "s3:TestEvent", "Service": "S3"})) is None
    assert s3_event_from_message("not json") is None
    event = {"Records": [{"s3": {"object": {"key": "uploads%2Fa.ipa"}}}]}
    assert s3_event_from_message(json.dumps(event)) == event


def test_state_is_created_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create_state(tmp_path / "state")
    again = load_or_create_state(tmp_path / "state")
    assert again == first
    assert first.cloudfront_key_pair_id.startswith("KLOCAL")
    assert len(first.cloudfront_key_pair_id) == 14
    assert first.token_keys["current"] == "k1"
    assert len(first.token_keys["k1"]) >= 32
    assert b"PUBLIC KEY" in first.public_key_pem
    for name in ("cloudfront_private_key.pem", "settings.json"):
        mode = stat.S_IMODE(os.stat(tmp_path / "state" / name).st_mode)
        assert mode == 0o600, name
    settings = json.loads((tmp_path / "state" / "settings.json").read_text())
    assert settings["bucket"] == first.bucket
    assert settings["token_keys"] == first.token_keys


def test_a_broken_settings_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"bucket": "x"}')
    with pytest.raises(StateError, match="is incomplete"):
        load_or_create_state(tmp_path)


def test_port_in_use_is_one_sentence_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status = main(["local", "--port", str(port), "--state-dir", str(tmp_path / "s")])
    out, err = capsys.readouterr()
    assert status == 2
    lines = err.strip().splitlines()
    assert lines == [
        f"error: port {port} on 127.0.0.1 is already in use; "
        "stop what is using it or pick another with --port."
    ]
    assert out == ""


def test_unreachable_aws_endpoint_is_one_sentence_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stack sets credentials it needs; make monkeypatch restore whatever it touches.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, os.environ.get(name, "unset"))
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(name, os.environ.get(name, "us-east-1"))
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        status = main(["local", "--port", "0", "--state-dir", str(tmp_path / "s")])
    _, err = capsys.readouterr()
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: cannot reach the AWS endpoint http://127.0.0.1:{port}")
    assert "AWS_ENDPOINT_URL" in lines[0]


def test_the_log_has_one_readable_line_per_upload_with_its_outcome() -> None:
    from ipadrop_tools.local.poller import describe_outcomes

    result = {
        "outcomes": [
            {
                "status": "published",
                "upload_key": "uploads/a.ipa",
                "bundle_id": "com.example.a",
                "build_id": "20261124T002616Z-1a2b3c4d5e",
            },
            {
                "status": "rejected",
                "upload_key": "uploads/b.ipa",
                "reason": "not_a_zip",
                "message": "The file is not a ZIP archive.\u202e",
            },
        ]
    }
    lines = describe_outcomes(result, ["uploads/a.ipa", "uploads/b.ipa", "notes.txt"])
    assert lines == [
        "uploads/a.ipa: published com.example.a as build 20261124T002616Z-1a2b3c4d5e",
        "uploads/b.ipa: rejected (not_a_zip): The file is not a ZIP archive.",
        "notes.txt: ignored",
    ]
    assert not any(line.lstrip().startswith("{") for line in lines)


@pytest.mark.parametrize(
    ("host", "loud"),
    [
        ("127.0.0.1", False),
        ("localhost", False),
        ("::1", False),
        ("0.0.0.0", True),  # noqa: S104
        ("::", True),
        ("192.168.1.20", True),
    ],
)
def test_listening_beyond_loopback_warns_loudly(host: str, loud: bool) -> None:
    from ipadrop_tools.cli.local_cmd import exposure_warning

    warning = exposure_warning(host)
    assert (warning is not None) is loud
    if warning:
        assert "WARNING" in warning
        assert "no\nauthentication" in warning or "no authentication" in warning
        assert warning.startswith("!" * 20)
