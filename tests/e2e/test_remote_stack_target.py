"""`--stack NAME`: outputs read from CloudFormation (moto), admin calls SigV4-signed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ipadrop_tools.cli.main import main
from ipadrop_tools.devkit.sample_ipa import build_ipa
from tests.conftest import boto_client

pytestmark = pytest.mark.integration


class _RecordingApi(BaseHTTPRequestHandler):
    """Stands in for the HTTP API: records each request, answers like the link function."""

    requests: list[tuple[str, str, dict[str, str], bytes]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.requests.append((self.command, self.path, dict(self.headers.items()), body))
        payload = json.dumps({"apps": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recording_api() -> Iterator[tuple[str, list[tuple[str, str, dict[str, str], bytes]]]]:
    handler = type("Recorder", (_RecordingApi,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler.requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stack_name(
    moto_endpoint: str,
    bucket_name: str,
    recording_api: tuple[str, list[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    name = f"ipadrop-{bucket_name}"
    template = {
        "Resources": {
            "Drop": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket_name}}
        },
        "Outputs": {
            "BucketName": {"Value": {"Ref": "Drop"}},
            "DropPrefix": {"Value": "uploads/"},
            "DistributionUrl": {"Value": "https://d111111abcdef8.cloudfront.net"},
            "ApiUrl": {"Value": recording_api[0]},
        },
    }
    boto_client("cloudformation", moto_endpoint).create_stack(
        StackName=name, TemplateBody=json.dumps(template)
    )
    return name


def test_admin_calls_are_sigv4_signed_for_execute_api(
    stack_name: str,
    recording_api: tuple[str, list[tuple[str, str, dict[str, str], bytes]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["apps", "--stack", stack_name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"apps": []}
    assert main(["link", "com.example.app", "--stack", stack_name, "--ttl", "90m", "--json"]) == 0
    (_, path, headers, _), (method, link_path, link_headers, body) = recording_api[1]
    assert path == "/apps"
    authorization = headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/us-east-1/execute-api/aws4_request" in authorization
    assert headers["X-Amz-Security-Token"] == "testing"
    assert (method, link_path) == ("POST", "/links")
    assert "execute-api" in link_headers["Authorization"]
    assert json.loads(body) == {
        "bundle_id": "com.example.app",
        "build": "latest",
        "ttl_seconds": 5400,
    }


def test_upload_goes_to_the_stacks_bucket_under_its_drop_prefix(
    stack_name: str,
    bucket_name: str,
    moto_endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ipa = tmp_path / "App.ipa"
    build_ipa(ipa)
    assert main(["upload", str(ipa), "--stack", stack_name, "--no-wait", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "uploaded"
    assert printed["bucket"] == bucket_name
    assert printed["upload_key"].startswith("uploads/")
    assert printed["upload_key"].endswith("/App.ipa")
    stored = boto_client("s3", moto_endpoint).get_object(
        Bucket=bucket_name, Key=printed["upload_key"]
    )
    assert stored["Body"].read() == ipa.read_bytes()


def test_a_missing_stack_is_one_line(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    assert main(["apps", "--stack", "no-such-stack"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot read stack no-such-stack")
