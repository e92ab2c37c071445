"""CloudFront log lines -> finished downloads (pure), the local outbox, and the
CLI's upload metadata options."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ipadrop.distribution.access_logs import (
    LOG_HEADER,
    format_log_line,
    is_finished,
    parse_log,
    record_downloads,
)
from ipadrop.domain.model import BuildRecord
from ipadrop_tools.cli.remote.distribution_cmds import upload_metadata
from ipadrop_tools.cli.remote.target import CliError
from tests.integration.link_support import make_record

BUILD = "20260101T100000Z-aaaaaaaaaa"
IPA = f"/builds/com.example.a/{BUILD}/app.ipa"


def _line(**overrides: Any) -> str:
    values: dict[str, Any] = {
        "when": datetime(2026, 1, 1, 10, 5, tzinfo=UTC),
        "path": IPA,
        "query": "invite=0123456789abcdef&Expires=1&Signature=x&Key-Pair-Id=K",
        "status": 200,
        "sc_bytes": 5000,
        "request_id": "req-1",
    }
    values.update(overrides)
    return format_log_line(**values)


def test_a_log_line_round_trips() -> None:
    [download] = parse_log([LOG_HEADER, _line()])
    assert (download.bundle_id, download.build_id, download.invite_id) == (
        "com.example.a",
        BUILD,
        "0123456789abcdef",
    )
    assert (download.status, download.sc_bytes, download.request_id) == (200, 5000, "req-1")


def test_lines_without_a_fields_header_use_cloudfronts_default_order() -> None:
    assert len(parse_log([_line()])) == 1


@pytest.mark.parametrize(
    "line",
    [
        _line(path=f"/builds/com.example.a/{BUILD}/icon.png"),
        _line(path="/i/token"),
        _line(path=f"/builds/../{BUILD}/app.ipa"),
        "#Version: 1.0",
        "garbage without tabs",
    ],
)
def test_other_lines_are_skipped(line: str) -> None:
    assert parse_log([line]) == []


def test_a_forged_invite_parameter_is_ignored() -> None:
    [download] = parse_log([_line(query="invite=<script>&Expires=1")])
    assert download.invite_id is None


def test_finished_means_status_200_and_every_byte() -> None:
    [whole] = parse_log([_line(sc_bytes=5300)])
    [part] = parse_log([_line(sc_bytes=1000)])
    [failed] = parse_log([_line(status=403, sc_bytes=6000)])
    assert is_finished(whole, 5000)
    assert not is_finished(part, 5000)
    assert not is_finished(failed, 5000)


class _Builds:
    def __init__(self, record: BuildRecord) -> None:
        self.record = record

    def get_build(self, bundle_id: str, build_id: str) -> BuildRecord | None:
        return self.record if build_id == self.record.build_id else None


class _People:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get_invite(self, invite_id: str) -> dict[str, Any] | None:
        return {"invite_id": invite_id, "email": "ann@example.com"}

    def put_activity(self, bundle_id: str, build_id: str, event: dict[str, Any]) -> None:
        self.items[event["event_id"]] = event  # same id = same item (a put overwrites)


def test_recording_is_idempotent_and_attributed() -> None:
    record = make_record("com.example.a", BUILD)
    size = record.facts.size_bytes
    people = _People()
    lines = [LOG_HEADER, _line(sc_bytes=size + 300), _line(sc_bytes=10, request_id="req-2")]
    for _ in range(2):  # the same file read twice
        record_downloads(parse_log(lines), builds=_Builds(record), people=people)  # type: ignore[arg-type]
    [event] = people.items.values()
    assert (event["type"], event["email"], event["invite_id"]) == (
        "download_finished",
        "ann@example.com",
        "0123456789abcdef",
    )


def _args(**values: Any) -> argparse.Namespace:
    return argparse.Namespace(
        notes=values.get("notes"),
        notes_file=values.get("notes_file"),
        channel=values.get("channel"),
        notify=values.get("notify"),
    )


def test_upload_metadata_from_options(tmp_path: Path) -> None:
    notes = tmp_path / "NOTES.md"
    notes.write_text("Fixes login\n", encoding="utf-8")
    metadata = upload_metadata(
        _args(notes_file=str(notes), channel="main", notify="qa, a@b.example")
    )
    assert metadata == {"notes": "Fixes%20login%0A", "channel": "main", "notify": "qa,a@b.example"}
    assert upload_metadata(_args()) == {}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"notes": "x" * 2100}, "2048 bytes"),
        ({"channel": "Main"}, "channel"),
        ({"notify": "qa,not an address"}, "neither"),
        ({"notes_file": "/nonexistent/NOTES.md"}, "cannot read"),
    ],
)
def test_bad_upload_metadata_is_one_clear_error(values: dict[str, str], message: str) -> None:
    with pytest.raises(CliError, match=message) as caught:
        upload_metadata(_args(**values))
    assert caught.value.status == 2


def test_outbox_writes_lists_and_renders(tmp_path: Path) -> None:
    from ipadrop.render.email import InviteMail, compose_invite
    from ipadrop_tools.local.outbox import list_messages, local_page, outbox_dir, write_eml
    from tests.integration.link_support import tiny_png

    outbox_dir(tmp_path).mkdir()
    _, raw = compose_invite(
        InviteMail(
            to="ann@example.com",
            sender_email="ipadrop@example.com",
            sender_name="<b>Team</b>",
            title="App",
            version="1",
            build="1",
            install_url="http://127.0.0.1:8080/i/T",
            expires_at="2026-12-09T10:00:00Z",
            icon_png=tiny_png(),
        )
    )
    path = write_eml(outbox_dir(tmp_path), raw)
    [(name, message)] = list_messages(tmp_path)
    assert name == path.name
    assert message["To"] == "ann@example.com"
    index = local_page(tmp_path, "/_local/outbox")
    assert index is not None
    assert index.status == 200
    assert b"ann@example.com" in index.body
    page = local_page(tmp_path, f"/_local/outbox/{name}")
    assert page is not None
    assert b"data:image/png;base64," in page.body  # cid: made visible in a browser
    assert b"&lt;b&gt;Team&lt;/b&gt;" in page.body
    missing = local_page(tmp_path, "/_local/outbox/../settings.json")
    assert missing is not None
    assert missing.status == 404
    assert local_page(tmp_path, "/i/x") is None
