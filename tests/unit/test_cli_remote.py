"""The remote commands' pure parts: TTLs, object names, argument errors, output formats."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ipadrop_tools.cli.main import main
from ipadrop_tools.cli.remote import commands as remote_cmd
from ipadrop_tools.cli.remote.durations import parse_ttl
from ipadrop_tools.cli.remote.output import apps_table, builds_table, qr_text, rejection_message
from ipadrop_tools.cli.remote.target import CliError
from ipadrop_tools.cli.remote.upload import UploadOutcome, upload_key_for
from ipadrop_tools.devkit.sample_ipa import build_ipa


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600", 3600),
        ("60", 60),
        ("45s", 45),
        ("90m", 5400),
        ("2h", 7200),
        ("2H", 7200),
        ("3d", 259200),
        ("1w", 604800),
        (" 15m ", 900),
        ("1h30m", 5400),
        ("2d12h", 216000),
        ("1h1m1s", 3661),
    ],
)
def test_parse_ttl_accepts_seconds_and_durations(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "0", "0h", "-5", "5x", "2.5h", "h", "2 hours", "30m1h", "1h1h", "1h 30m"]
)
def test_parse_ttl_refuses_anything_else_with_a_sentence(text: str) -> None:
    with pytest.raises(ValueError, match=r"^--ttl must be seconds or a duration") as caught:
        parse_ttl(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30s"), (90, "2m"), (3600, "1h"), (7199, "2h"), (5400, "1h 30m"), (90000, "1d 1h")],
)
def test_rough_duration_reads_like_a_person_would_say_it(seconds: int, text: str) -> None:
    assert remote_cmd._rough_duration(seconds) == text


def test_upload_keys_are_unique_per_upload_and_keep_the_file_name() -> None:
    moment = datetime(2026, 11, 24, 0, 37, 41, tzinfo=UTC)
    key = upload_key_for(Path("/x/My App.ipa"), "uploads/", None, now=moment)
    assert re.fullmatch(r"uploads/20261124T003741Z-[0-9a-f]{6}/My App\.ipa", key)
    assert key != upload_key_for(Path("/x/My App.ipa"), "uploads/", None, now=moment)
    # The bucket's event filter is case-sensitive: the key must end in ".ipa".
    assert upload_key_for(Path("/x/APP.IPA"), "uploads/", None).endswith("/APP.ipa")
    assert upload_key_for(Path("build.zip"), "uploads", None).endswith("/build.zip.ipa")


def test_key_name_is_a_fixed_name_under_the_drop_prefix() -> None:
    assert upload_key_for(Path("a.ipa"), "uploads/", "ci/1234/app") == "uploads/ci/1234/app.ipa"
    assert upload_key_for(Path("a.ipa"), "uploads", "/App.IPA") == "uploads/App.ipa"


@pytest.mark.parametrize("name", ["", "  ", "../escape.ipa", "a/../../b.ipa", "bad\nname.ipa"])
def test_upload_key_refuses_unusable_names(name: str) -> None:
    with pytest.raises(CliError) as caught:
        upload_key_for(Path("a.ipa"), "uploads/", name)
    assert caught.value.status == 2


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


def test_bad_ttl_is_one_line_and_exit_2_before_any_network(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Port 9 (discard) on loopback: nothing answers, so reaching it would fail differently.
    status, out, err = _run(
        ["link", "com.example.app", "--ttl", "5x", "--endpoint", "http://127.0.0.1:9"], capsys
    )
    assert status == 2
    assert out == ""
    assert "--ttl" in _one_error_line(err)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["link", "not a bundle id", "--endpoint", "http://127.0.0.1:9"], "bundle id"),
        (["link", "com.example.app", "--build", "v1", "--endpoint", "http://x:9"], "--build"),
        (["revoke", "com.example.app", "nope", "--endpoint", "http://127.0.0.1:9"], "build id"),
        (["builds", "com/../etc", "--endpoint", "http://127.0.0.1:9"], "bundle id"),
        (["apps", "--endpoint", "http://a:9", "--stack", "s"], "either --endpoint or --stack"),
        (["apps", "--endpoint", "ftp://127.0.0.1:9"], "http(s) URL"),
    ],
)
def test_argument_errors_are_one_line_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _run(argv, capsys)
    assert status == 2
    assert needle in _one_error_line(err)


def test_upload_of_a_missing_file_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _run(["upload", str(tmp_path / "missing.ipa")], capsys)
    assert status == 2
    assert "is not a file" in _one_error_line(err)


def test_no_target_says_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .ipadrop-local/runtime.json here
    monkeypatch.delenv("IPADROP_ENDPOINT", raising=False)
    monkeypatch.delenv("IPADROP_STACK", raising=False)
    status, _, err = _run(["apps"], capsys)
    assert status == 2
    line = _one_error_line(err)
    assert "--endpoint" in line
    assert "--stack" in line


def test_unreachable_local_endpoint_is_one_line_exit_5(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket

    with socket.socket() as sock:  # a port that is certainly closed: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        status, _, err = _run(["apps", "--endpoint", f"http://127.0.0.1:{port}"], capsys)
    assert status == 5
    assert f"no ipadrop local stack answers at http://127.0.0.1:{port}" in _one_error_line(err)


def _render(renderable: Any) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(renderable)
    return buffer.getvalue()


def test_apps_table_lists_each_app_and_escapes_markup() -> None:
    text = _render(
        apps_table(
            [
                {
                    "bundle_id": "com.example.one",
                    "title": "[bold]One[/bold]",
                    "latest_version": "2.0",
                    "latest_build": "41",
                    "build_count": 3,
                    "updated_at": "2026-11-24T00:37:41Z",
                },
                {"bundle_id": "com.example.two", "title": "Two", "latest_version": None},
            ]
        )
    )
    assert "com.example.one" in text
    assert "com.example.two" in text
    assert "[bold]One[/bold]" in text  # shown literally, not interpreted
    assert re.search(r"com\.example\.one .* 2\.0 .*\n\s+\(41\)", text)  # version, build below
    assert "2026-11-24" in text


def test_builds_table_shows_full_build_ids_and_revocation() -> None:
    build_id = "20261124T003741Z-i34z762jos"
    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None).print(
        builds_table(
            "com.example.one",
            [
                {
                    "build_id": build_id,
                    "version": "1.2.3",
                    "build": "5",
                    "size_bytes": 42_699,
                    "distribution": "development",
                    "revoked_at": "2026-11-24T01:00:00Z",
                },
                {"build_id": "20261123T000000Z-aaaaaaaaaa", "version": "1.2.2", "build": "1.2.2"},
            ],
        )
    )
    text = buffer.getvalue()
    assert build_id in text  # never truncated, even at 80 columns: people copy it
    assert "revoked" in text
    assert "live" in text
    assert "42.7 KB" in text  # decimal units, as iOS and the install page show sizes
    assert "1.2.2 (1.2.2)" not in text  # version equal to build is shown once


def test_qr_text_is_a_terminal_block_code() -> None:
    text = qr_text("http://127.0.0.1:8080/i/AQACazFrBNwDawYtgxpyib57FqamV76Klp2uin6xqamV4GsE")
    lines = text.splitlines()
    assert len(lines) > 10
    assert any(ch in text for ch in "█▀▄")
    assert len({len(line) for line in lines if line.strip()}) <= 2  # a square of rows


def test_rejection_message_names_the_reason() -> None:
    result = {"status": "rejected", "reason": "not_a_zip", "message": "The file is not a ZIP."}
    assert rejection_message(result) == "rejected (not_a_zip): The file is not a ZIP."


def test_upload_json_prints_the_result_record_and_exits_3_when_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ipa = tmp_path / "broken.ipa"
    build_ipa(ipa)  # passes the check here; the stack's answer is what counts
    record = {
        "schema": 1,
        "status": "rejected",
        "upload_key": "uploads/broken.ipa",
        "reason": "not_a_zip",
        "message": "The file is not a ZIP archive.",
    }
    target = remote_cmd.Target("t", "bucket", "uploads/", "http://api", "http://dist", s3=None)
    monkeypatch.setattr(remote_cmd, "resolve_target", lambda args: target)
    monkeypatch.setattr(
        remote_cmd,
        "upload_and_wait",
        lambda *a, **k: UploadOutcome("uploads/broken.ipa", record),
    )
    status, out, err = _run(["upload", str(ipa), "--json"], capsys)
    assert status == 3
    assert json.loads(out) == record
    assert err == ""

    status, out, err = _run(["upload", str(ipa)], capsys)
    assert status == 3
    assert "rejected (not_a_zip)" in _one_error_line(err)


def _offline_s3(port: int) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )


def test_upload_refused_by_s3_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.stub import ANY, Stubber

    ipa = tmp_path / "app.ipa"
    build_ipa(ipa)
    s3 = _offline_s3(9)  # never reached: the stubber answers
    target = remote_cmd.Target("t", "drop-bucket", "uploads/", "http://api", "http://dist", s3=s3)
    monkeypatch.setattr(remote_cmd, "resolve_target", lambda args: target)
    with Stubber(s3) as stub:
        stub.add_client_error(
            "put_object",
            service_error_code="AccessDenied",
            service_message="Access Denied",
            http_status_code=403,
            expected_params={
                "Bucket": "drop-bucket",
                "Key": ANY,
                "Body": ANY,
                "ContentType": "application/octet-stream",
                "ChecksumAlgorithm": ANY,
            },
        )
        status, out, err = _run(["upload", str(ipa), "--no-wait", "--json"], capsys)
    assert status == 1
    assert out == ""
    line = _one_error_line(err)
    assert line.startswith("error: upload to s3://drop-bucket/uploads/")
    assert line.endswith("failed: AccessDenied: Access Denied.")


def test_s3_going_away_while_waiting_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    ipa = tmp_path / "app.ipa"
    build_ipa(ipa)
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        s3 = _offline_s3(sock.getsockname()[1])
        target = remote_cmd.Target("t", "drop-bucket", "uploads/", "http://api", "http://d", s3=s3)
        monkeypatch.setattr(remote_cmd, "resolve_target", lambda args: target)
        status, out, err = _run(["upload", str(ipa), "--json"], capsys)
    assert status == 5  # unreachable: not the same as a rejected build
    assert out == ""
    assert _one_error_line(err).startswith("error: cannot reach s3://drop-bucket: ")
