"""``ipadrop inspect``: JSON for machines, a summary for people, one error line otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ipadrop_tools.cli.main import main
from ipadrop_tools.devkit.sample_ipa import build_ipa

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.ipa"
    build_ipa(path, bundle_id="com.example.cli", title="CLI App", version="3.1", build="77")
    return path


def test_json(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(sample), "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert captured.err == ""
    assert set(data) >= {
        "bundle_id", "version", "build", "title", "minimum_os_version",
        "device_family", "size_bytes", "icon", "profile",
    }  # fmt: skip
    assert data["bundle_id"] == "com.example.cli"
    assert (data["version"], data["build"], data["title"]) == ("3.1", "77", "CLI App")
    assert data["device_family"] == ["iphone", "ipad"]
    assert data["size_bytes"] == sample.stat().st_size
    assert data["icon"] == {
        "source": "Payload/CLI App.app/AppIcon60x60@3x.png",
        "width": 180,
        "height": 180,
    }
    assert data["profile"]["distribution"] == "enterprise"
    assert data["profile"]["expires_at"].endswith("Z")
    assert set(data["profile"]) >= {
        "name", "uuid", "team_id", "team_name", "expires_at", "distribution", "device_count",
    }  # fmt: skip


def test_summary_for_people(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(sample)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "CLI App 3.1 (77)"
    assert "com.example.cli" in out
    assert "iPhone, iPad" in out
    assert "enterprise" in out
    assert "180x180" in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a ZIP"),
        (b"hello world\n", "not a ZIP"),
        (None, "no such file"),
        ("dir", "directory"),
    ],
)
def test_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | str | None, reason: str
) -> None:
    target = tmp_path / "input.ipa"
    if isinstance(content, bytes):
        target.write_bytes(content)
    elif content == "dir":
        target.mkdir()
    assert main(["inspect", str(target), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert reason in lines[0]


def test_truncated_file_in_a_real_process(sample: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.ipa"
    truncated.write_bytes(sample.read_bytes()[:5000])
    env = {**os.environ, "PYTHONPATH": str(REPO / "lambdas")}
    completed = subprocess.run(
        [sys.executable, "-m", "ipadrop_tools.cli", "inspect", str(truncated)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert completed.stderr.startswith("error: ")
    assert "truncated" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_terminal_sequences_in_entry_names_are_not_sent_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The icon path comes from the archive: ESC ] retitles the window, ESC [ recolours.
    hostile = "Evil\x1b]0;pwned\x07\x1b[2J\u202eRTL.app"
    path = tmp_path / "hostile.ipa"
    build_ipa(path, app_dir_name=hostile)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Payload/Evil?]0;pwned??[2J?RTL.app/AppIcon60x60@3x.png" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e")

    # JSON stays exact: the escapes there are JSON's own.
    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["icon"]["source"] == f"Payload/{hostile}/AppIcon60x60@3x.png"

    no_plist = tmp_path / "no-plist.ipa"
    build_ipa(no_plist, app_dir_name=hostile, info_plist_bytes=b"")
    assert main(["inspect", str(no_plist)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert not any(ch in err for ch in "\x1b\x07\u202e")
