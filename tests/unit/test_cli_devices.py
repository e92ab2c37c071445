"""`ipadrop upload` on a build no device can install, `ipadrop devices`, `ipadrop enroll`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ipadrop_tools.cli.main import main
from ipadrop_tools.cli.remote import commands as remote_cmd
from ipadrop_tools.cli.remote import devices_cmd
from ipadrop_tools.cli.remote.target import ApiResponse, Target
from ipadrop_tools.cli.remote.upload import UploadOutcome

EXPIRED = {
    "schema": 1,
    "status": "published",
    "upload_key": "uploads/a.ipa",
    "bundle_id": "com.example.app",
    "build_id": "20261124T002616Z-1a2b3c4d5e",
    "version": "1.0",
    "build": "1",
    "title": "App",
    "message": "Published App 1.0 (1) as build 20261124T002616Z-1a2b3c4d5e.",
    "processed_at": "2026-11-24T00:26:17Z",
    "installable": False,
    "warnings": [
        {"code": "profile_expired", "message": "Its provisioning profile expired on 1 Nov 2026."}
    ],
}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def target(monkeypatch: pytest.MonkeyPatch) -> Target:
    target = Target("t", "bucket", "uploads/", "http://api", "http://dist", s3=None)
    monkeypatch.setattr(remote_cmd, "resolve_target", lambda args: target)
    monkeypatch.setattr(
        "ipadrop_tools.cli.remote.target.resolve_target", lambda args: target, raising=True
    )
    return target


def test_upload_of_an_uninstallable_build_exits_6_unless_allowed(
    tmp_path: Path,
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ipa = tmp_path / "a.ipa"
    ipa.write_bytes(b"PK")
    monkeypatch.setattr(
        remote_cmd, "upload_and_wait", lambda *a, **k: UploadOutcome("uploads/a.ipa", EXPIRED)
    )
    status, out, err = _run(["upload", str(ipa), "--skip-check", "--endpoint", "http://x"], capsys)
    assert status == devices_cmd.EXIT_UNINSTALLABLE == 6
    assert "warning: Its provisioning profile expired on 1 Nov 2026. [profile_expired]" in err
    assert "error: published, but no device can install this build" in err
    assert "Traceback" not in err

    status, out, _ = _run(
        ["upload", str(ipa), "--json", "--skip-check", "--endpoint", "http://x"], capsys
    )
    assert status == 6
    assert json.loads(out)["installable"] is False

    status, _, err = _run(
        ["upload", str(ipa), "--allow-uninstallable", "--skip-check", "--endpoint", "http://x"],
        capsys,
    )
    assert status == 0
    assert "accepted: --allow-uninstallable" in err

    fine = {**EXPIRED, "installable": True, "warnings": []}
    monkeypatch.setattr(
        remote_cmd, "upload_and_wait", lambda *a, **k: UploadOutcome("uploads/a.ipa", fine)
    )
    status, _, err = _run(["upload", str(ipa), "--skip-check", "--endpoint", "http://x"], capsys)
    assert status == 0
    assert "warning" not in err


DEVICES = {
    "devices": [
        {
            "udid": "00008101-000A1B2C3D4E5F60",
            "name": "Ann's iPhone",
            "product": "iPhone15,2",
            "email": "ann@example.com",
            "enrolled_at": "2026-11-24T00:00:00Z",
            "verified": True,
        }
    ]
}


def test_devices_export_in_apple_format(
    tmp_path: Path,
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls: list[tuple[str, str]] = []

    def api(self: Target, method: str, path: str, body: Any = None) -> ApiResponse:
        calls.append((method, path))
        return ApiResponse(200, DEVICES)

    monkeypatch.setattr(Target, "api", api)
    status, out, _ = _run(["devices", "--format", "apple", "--endpoint", "http://x"], capsys)
    assert status == 0
    assert out == (
        "Device ID\tDevice Name\tDevice Platform\n00008101-000A1B2C3D4E5F60\tAnn's iPhone\tios\n"
    )
    assert calls == [("GET", "/devices")]
    written = tmp_path / "devices.txt"
    status, _, err = _run(
        ["devices", "--format", "apple", "-o", str(written), "--endpoint", "http://x"], capsys
    )
    assert status == 0
    assert "Wrote 1 device(s)" in err
    assert written.read_text().startswith("Device ID\t")
    status, out, _ = _run(["devices", "--endpoint", "http://x"], capsys)
    assert status == 0
    assert "00008101" in out
    status, out, _ = _run(["devices", "--json", "--endpoint", "http://x"], capsys)
    assert json.loads(out) == DEVICES
