"""The command line for people and for CI: names the processor would ignore, local
checks, progress in logs, exit statuses, hints, 80-column tables, a QR code that
scans on any terminal, TTLs in the command's words, help, --version, revoke."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ipadrop_tools.cli import exit_status
from ipadrop_tools.cli.main import build_parser, main
from ipadrop_tools.cli.remote import commands as remote_cmd
from ipadrop_tools.cli.remote.output import QR_BORDER, apps_table, qr_text
from ipadrop_tools.cli.remote.target import ApiResponse, CliError, Target
from ipadrop_tools.cli.remote.upload import (
    ProgressLines,
    UploadOutcome,
    upload_key_for,
    wait_for_result,
)
from ipadrop_tools.devkit.sample_ipa import build_ipa

BUILD_ID = "20261124T003741Z-i34z762jos"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@dataclass
class FakeTarget(Target):
    answers: dict[tuple[str, str], Any] = field(default_factory=dict)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)

    def api(self, method: str, path: str, payload: Any | None = None) -> ApiResponse:
        self.calls.append((method, path, payload))
        answer = self.answers.get((method, path), {})
        if isinstance(answer, Exception):
            raise answer
        return ApiResponse(200, answer)


def fake_target(**answers: Any) -> FakeTarget:
    return FakeTarget("fake", "bucket", "uploads/", "http://api", "http://dist", s3=None)


@pytest.fixture
def target(monkeypatch: pytest.MonkeyPatch) -> FakeTarget:
    made = fake_target()
    monkeypatch.setattr(remote_cmd, "resolve_target", lambda args: made)
    return made


# --------------------------------------------------------------------- uploading


@pytest.mark.parametrize("name", [".ipa", "ci/.ipa", "..ipa", "a/./b.ipa", "x\u202e.ipa", "ci//b"])
def test_key_names_the_processor_would_ignore_are_refused(name: str) -> None:
    with pytest.raises(CliError) as caught:
        upload_key_for(Path("App.ipa"), "uploads/", name)
    assert caught.value.status == exit_status.USAGE


def test_a_file_that_is_not_an_ipa_is_refused_before_any_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "Notes.ipa"
    notes.write_text("these are meeting notes, not an app")

    def no_network(args: Any) -> Target:
        raise AssertionError("the file was checked after reaching for the stack")

    monkeypatch.setattr(remote_cmd, "resolve_target", no_network)
    status, out, err = _run(["upload", str(notes)], capsys)
    assert status == exit_status.REJECTED == 3
    assert out == ""
    assert err.startswith("error: rejected (not_a_zip): ")
    assert err.rstrip().endswith("; nothing was uploaded.")
    assert len(err.strip().splitlines()) == 1
    status, out, err = _run(["upload", str(notes), "--json"], capsys)
    assert status == exit_status.REJECTED
    assert json.loads(out) == {
        "status": "rejected",
        "reason": "not_a_zip",
        "message": json.loads(out)["message"],
        "uploaded": False,
    }


def test_progress_lines_for_logs_come_at_an_interval(tmp_path: Path) -> None:
    now = [0.0]
    lines: list[str] = []
    progress = ProgressLines("App.ipa", 10_000_000, clock=lambda: now[0], write=lines.append)
    for _ in range(10):
        now[0] += 4.0  # a chunk every 4 s
        progress.advance(1_000_000)
    assert lines == [
        "Uploading App.ipa: 40% (4.0 MB of 10.0 MB)",
        "Uploading App.ipa: 80% (8.0 MB of 10.0 MB)",
    ]
    now[0] += 20.0
    progress.waiting("uploads/App.ipa", 300)
    progress.waiting("uploads/App.ipa", 300)  # too soon: nothing
    assert lines[2:] == [
        "Waiting for the stack to publish uploads/App.ipa: 60 s (gives up after 300 s)"
    ]
    quick = ProgressLines("App.ipa", 100, clock=lambda: 0.0, write=lines.append)
    quick.advance(100)
    assert len(lines) == 3  # a quick upload prints nothing


def test_no_result_in_time_is_its_own_exit_status() -> None:
    from botocore.exceptions import ClientError

    class NoResult:
        def get_object(self, **kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")

    waited: list[int] = []
    slow = Target("t", "bucket", "uploads/", "http://api", "http://dist", s3=NoResult())
    with pytest.raises(CliError) as caught:
        wait_for_result(slow, "results/x.json", None, timeout=0.3, on_wait=lambda: waited.append(1))
    assert caught.value.status == exit_status.TIMED_OUT == 4
    assert waited  # the progress hook ran while waiting


def test_the_exit_statuses_are_distinct_and_documented() -> None:
    statuses = {name: value for name, value in vars(exit_status).items() if name.isupper()}
    assert len(set(statuses.values())) == len(statuses)
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for name in ("REJECTED", "TIMED_OUT", "UNREACHABLE", "USAGE"):
        assert re.search(rf"\|\s*`?{statuses[name]}`?\s*\|", readme), name


def test_no_wait_json_says_where_the_result_will_be(
    tmp_path: Path,
    target: FakeTarget,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ipadrop.domain.bucket_keys import result_key

    ipa = tmp_path / "App.ipa"
    build_ipa(ipa)
    monkeypatch.setattr(
        remote_cmd, "upload_and_wait", lambda *a, **k: UploadOutcome("uploads/x/App.ipa", None)
    )
    status, out, _ = _run(
        ["upload", str(ipa), "--no-wait", "--json", "--key-name", "x/App"], capsys
    )
    assert status == 0
    data = json.loads(out)
    assert data["upload_key"] == "uploads/x/App.ipa"
    assert data["result_key"] == result_key("uploads/x/App.ipa")
    assert data["result_key"].startswith("results/")


def test_the_hint_after_an_upload_keeps_the_target(
    tmp_path: Path,
    target: FakeTarget,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ipa = tmp_path / "App.ipa"
    build_ipa(ipa)
    record = {"status": "published", "bundle_id": "com.example.app", "build_id": BUILD_ID}
    monkeypatch.setattr(remote_cmd, "upload_and_wait", lambda *a, **k: UploadOutcome("k", record))
    _, out, _ = _run(
        ["upload", str(ipa), "--stack", "ipadrop-prod", "--region", "eu-west-1"], capsys
    )
    assert (
        f"ipadrop link com.example.app --build {BUILD_ID} --stack ipadrop-prod --region eu-west-1"
        in out
    )
    _, out, _ = _run(["upload", str(ipa), "--endpoint", "http://127.0.0.1:8081"], capsys)
    assert f"--build {BUILD_ID} --endpoint http://127.0.0.1:8081" in out


# ------------------------------------------------------------------- for people

APPS = [
    {
        "bundle_id": "com.example.enterprise.fieldservice",
        "title": "Field Service Companion for Technicians",
        "latest_version": "12.4.1",
        "latest_build": "20261124.3",
        "build_count": 12,
        "updated_at": "2026-11-24T00:37:41Z",
    },
    {
        "bundle_id": "com.acme.notes",
        "title": "Notes",
        "latest_version": "1.0",
        "latest_build": "1",
        "build_count": 1,
        "updated_at": "2026-11-23T10:00:00Z",
    },
]


@pytest.mark.parametrize("width", [80, 100])
def test_apps_fits_the_terminal_without_losing_columns(width: int) -> None:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(apps_table(APPS))
    text = buffer.getvalue()
    lines = text.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= width
    assert "…" not in text
    header = next(line for line in lines if "Bundle ID" in line)
    assert re.search(r"Bundle ID\s+Title\s+Latest\s+Builds\s+Updated", header)  # none folded
    for app in APPS:
        assert app["bundle_id"] in text  # whole: people copy it
        assert app["latest_version"] in text
        assert f"({app['latest_build']})" in text
        assert app["updated_at"][:10] in text
    assert re.search(r"\b12\b", text)


def _pixels(terminal_text: str, *, default_fg: str, default_bg: str) -> list[list[str]]:
    """What a terminal with these default colours shows: one colour per module."""
    named = {"97": ("fg", "white"), "40": ("bg", "black")}
    rows: list[list[str]] = []
    for line in terminal_text.splitlines():
        fg, bg = default_fg, default_bg
        top: list[str] = []
        bottom: list[str] = []
        for token in re.findall(r"\x1b\[([0-9;]*)m|(.)", line):
            codes, char = token
            if not char:
                for code in codes.split(";"):
                    if code in ("", "0"):
                        fg, bg = default_fg, default_bg
                    elif code in named:
                        kind, colour = named[code]
                        fg, bg = (colour, bg) if kind == "fg" else (fg, colour)
                    else:
                        raise AssertionError(f"unexpected SGR code {code}")
                continue
            top.append(fg if char in "█▀" else bg)
            bottom.append(fg if char in "█▄" else bg)
        rows += [top, bottom]
    return rows


@pytest.mark.parametrize(
    ("default_fg", "default_bg"), [("white", "black"), ("black", "white")], ids=["dark", "light"]
)
def test_the_qr_code_scans_on_dark_and_light_terminals(default_fg: str, default_bg: str) -> None:
    import segno

    url = "http://127.0.0.1:8080/i/AQACazFrBNwDawYtgxpyib57FqamV76Klp2uin6xqamV4GsE"
    expected = [
        ["black" if dark else "white" for dark in row]
        for row in segno.make(url, error="m").matrix_iter(scale=1, border=QR_BORDER)
    ]
    shown = _pixels(qr_text(url), default_fg=default_fg, default_bg=default_bg)
    # Module by module, the terminal shows the code (dark modules black), quiet zone
    # included; a padding row below the quiet zone, if any, is light.
    assert shown[: len(expected)] == expected
    assert all(colour == "white" for row in shown[len(expected) :] for colour in row)
    # And a real reader (zxing-cpp, not told to try inverted codes) reads the URL off
    # the screen, terminal background around it.
    assert _decode(shown, background=default_bg) == url


def _decode(modules: list[list[str]], *, background: str, scale: int = 4) -> str | None:
    import zxingcpp

    margin = 3
    width = len(modules[0]) + 2 * margin
    level = {"black": 0, "white": 255}
    canvas = [[level[background]] * width for _ in range(margin)]
    for row in modules:
        line = [level[background]] * margin + [level[c] for c in row]
        canvas.append(line + [level[background]] * margin)
    canvas += [[level[background]] * width for _ in range(margin)]
    pixels = bytes(
        value for row in canvas for _ in range(scale) for value in row for _ in range(scale)
    )
    image = memoryview(pixels).cast("B", (len(canvas) * scale, width * scale))
    found = zxingcpp.read_barcode(image, try_invert=False)
    return None if found is None else str(found.text)


def test_segnos_own_terminal_code_is_a_negative_on_light_terminals() -> None:
    # Why qr_text sets both colours: the reader above cannot read segno's compact
    # output on a light terminal (it shows light modules in the dark foreground).
    import segno

    url = "http://127.0.0.1:8080/i/AQACazFrBNwDawYtgxpyib57FqamV76Klp2uin6xqamV4GsE"
    buffer = io.StringIO()
    segno.make(url, error="m").terminal(out=buffer, compact=True)
    on_dark = _pixels(buffer.getvalue(), default_fg="white", default_bg="black")
    on_light = _pixels(buffer.getvalue(), default_fg="black", default_bg="white")
    assert _decode(on_dark, background="black") == url
    assert _decode(on_light, background="white") is None


# -------------------------------------------------------------------- link --ttl


def test_ttl_out_of_bounds_is_said_in_the_commands_words(
    target: FakeTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    target.answers[("POST", "/links")] = CliError(
        "ttl_seconds must be between 60 and 604800 (1 minute to 7 days), not 30.",
        code="invalid_ttl",
    )
    status, _, err = _run(["link", "com.example.app", "--ttl", "30s"], capsys)
    assert status == exit_status.USAGE
    assert err.strip() == (
        "error: --ttl 30s (30s) is out of bounds: this stack allows 1 minute to 7 days."
    )
    assert "ttl_seconds" not in err


def test_ttl_with_hours_and_minutes_reaches_the_api(
    target: FakeTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    target.answers[("POST", "/links")] = {"install_url": "http://dist/i/x", "expires_at": 1}
    status, _, _ = _run(["link", "com.example.app", "--ttl", "1h30m"], capsys)
    assert status == 0
    assert target.calls[-1][2]["ttl_seconds"] == 5400


def test_link_help_states_the_default_and_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["link", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default 1 day" in text
    assert "1 minute to 7 days" in text
    assert "1h30m" in text


def test_every_subcommand_has_a_description() -> None:
    import argparse

    parser = build_parser(None)
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert {"upload", "link", "apps", "builds", "revoke", "inspect", "local"} <= set(
        subparsers.choices
    )
    for name, sub in subparsers.choices.items():
        assert len(sub.description or "") > 20, name
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    assert all(helps.values()), helps


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert re.fullmatch(r"ipadrop \S+\n", capsys.readouterr().out)


@pytest.mark.parametrize(
    "argv",
    [
        ["link", "--", "-leading.dash"],
        ["link", "--bundle-id=-leading.dash"],
    ],
)
def test_a_bundle_id_starting_with_a_dash_can_be_passed(
    argv: list[str], target: FakeTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    target.answers[("POST", "/links")] = {"install_url": "http://dist/i/x"}
    status, _, err = _run(argv, capsys)
    assert status == 0, err
    assert target.calls[-1][2]["bundle_id"] == "-leading.dash"


# ------------------------------------------------------------------------ revoke


def _builds_path(bundle_id: str = "com.example.app") -> str:
    return f"/apps/{bundle_id}/builds"


def test_revoke_outside_a_terminal_needs_yes(
    target: FakeTarget, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    status, _, err = _run(["revoke", "com.example.app", BUILD_ID], capsys)
    assert status == exit_status.USAGE
    assert "--yes" in err
    assert target.calls == []


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "revoked"), [("n\n", False), ("", False), ("yes\n", True)])
def test_revoke_asks_first_in_a_terminal(
    answer: str,
    revoked: bool,
    target: FakeTarget,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", _Tty(answer))
    target.answers[("GET", _builds_path())] = {
        "builds": [{"build_id": BUILD_ID, "version": "1.2", "build": "7"}]
    }
    status, out, err = _run(["revoke", "com.example.app", BUILD_ID], capsys)
    assert "Revoke com.example.app 1.2 (7), build" in err
    deleted = [c for c in target.calls if c[0] == "DELETE"]
    assert bool(deleted) is revoked
    assert (status == 0) is revoked
    assert ("Revoked" in out) is revoked


def test_revoking_twice_says_already_revoked(
    target: FakeTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    target.answers[("GET", _builds_path())] = {
        "builds": [{"build_id": BUILD_ID, "revoked_at": "2026-11-24T01:00:00Z"}]
    }
    status, out, _ = _run(["revoke", "com.example.app", BUILD_ID, "--yes"], capsys)
    assert status == 0
    assert "already revoked at 2026-11-24T01:00:00Z" in out
    assert "stop working now" not in out
    assert not [c for c in target.calls if c[0] == "DELETE"]
