"""``ipadrop render``: the four files, URLs joined as given, and one-line refusals."""

from __future__ import annotations

import json
import plistlib
from pathlib import Path
from urllib.parse import unquote

import pytest

from ipadrop.domain.bucket_keys import ICON_PIXELS
from ipadrop.domain.model import BuildRecord
from ipadrop.reading.png import read_header
from ipadrop.render.urls import itms_services_url
from ipadrop_tools.cli.main import main
from ipadrop_tools.devkit.sample_ipa import build_ipa

BASE = "https://apps.example.com/team%20builds/field/"


@pytest.fixture
def sample_ipa(tmp_path: Path) -> Path:
    path = tmp_path / "Field Notes.ipa"
    build_ipa(
        path, bundle_id="com.acme.field", title="Field <Notes> & Co", version="2.4", build="9"
    )
    return path


def test_render_writes_everything_for_a_static_host(
    sample_ipa: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert (
        main(["render", str(sample_ipa), "--base-url", BASE, "--out", str(out), "--copy-ipa"]) == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "app.ipa",
        "build.json",
        "icon-512.png",
        "icon-57.png",
        "icon.png",
        "index.html",
        "manifest.plist",
    ]
    assert (out / "app.ipa").read_bytes() == sample_ipa.read_bytes()
    assert (out / "icon.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    manifest = plistlib.loads((out / "manifest.plist").read_bytes())
    assets = {a["kind"]: a for a in manifest["items"][0]["assets"]}
    assert assets["software-package"]["url"] == BASE + "app.ipa"
    # The sizes the manifest asks for: 57 px to show, 512 px full size (never enlarged).
    assert assets["display-image"]["url"] == BASE + "icon-57.png"
    assert assets["full-size-image"]["url"] == BASE + "icon-512.png"
    sides = {name: read_header((out / name).read_bytes()).width for name in ICON_PIXELS}
    assert sides == {"icon.png": 180, "icon-57.png": 57, "icon-512.png": 180}
    assert assets["software-package"]["sha256-size"] == 10 * 1024 * 1024
    assert len(assets["software-package"]["sha256s"]) == 1
    assert manifest["items"][0]["metadata"]["title"] == "Field <Notes> & Co"

    page = (out / "index.html").read_text()
    itms = itms_services_url(BASE + "manifest.plist")
    assert f'href="{itms.replace("&", "&amp;")}"' in page
    # Encoded once: the base's own %20 survives as %2520, and decodes back to it.
    assert "team%2520builds" in itms
    assert unquote(itms.split("url=", 1)[1]) == BASE + "manifest.plist"
    assert "Field &lt;Notes&gt; &amp; Co" in page

    record = BuildRecord.from_json(json.loads((out / "build.json").read_text()))
    assert record.bundle_id == "com.acme.field"
    assert record.has_icon
    assert record.facts.title == "Field <Notes> & Co"
    assert record.facts.size_bytes == sample_ipa.stat().st_size
    assert str(out / "manifest.plist") in capsys.readouterr().out


def test_build_id_is_stable_for_the_same_file_and_changes_with_it(
    sample_ipa: Path, tmp_path: Path
) -> None:
    def build_id(out: Path) -> str:
        assert main(["render", str(sample_ipa), "--base-url", BASE, "--out", str(out)]) == 0
        return str(json.loads((out / "build.json").read_text())["build_id"])

    first, again = build_id(tmp_path / "a"), build_id(tmp_path / "b")
    assert first == again
    with sample_ipa.open("ab") as stream:
        stream.write(b"\0")  # a different file at the same path
    assert build_id(tmp_path / "c") != first


def test_no_integrity_leaves_hashes_out(sample_ipa: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert (
        main(["render", str(sample_ipa), "--base-url", BASE, "--out", str(out), "--no-integrity"])
        == 0
    )
    package = plistlib.loads((out / "manifest.plist").read_bytes())["items"][0]["assets"][0]
    assert "sha256s" not in package


@pytest.mark.parametrize(
    ("base", "says"),
    [
        ("http://apps.example.com/x/", "must start with https://"),
        ("apps.example.com/x/", "must start with https://"),
        ("https://apps.example.com/x/?a=1", "query"),
        ("https://[::1/x/", "not a valid URL"),
    ],
)
def test_refuses_bad_base_urls_in_one_line(
    sample_ipa: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], base: str, says: str
) -> None:
    out = tmp_path / "site"
    assert main(["render", str(sample_ipa), "--base-url", base, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert says in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_refuses_files_that_are_not_ipas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "notes.ipa"
    bogus.write_text("hello")
    assert main(["render", str(bogus), "--base-url", BASE, "--out", str(tmp_path / "o")]) == 2
    assert (
        main(
            [
                "render",
                str(tmp_path / "missing.ipa"),
                "--base-url",
                BASE,
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("error: ") for line in lines)
    assert "Traceback" not in "".join(lines)


def test_real_fixture_with_expired_profile_warns(
    real_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ipa = real_fixtures / "bitbar__test-samples" / "bitbar-ios-sample.ipa"
    out = tmp_path / "site"
    assert main(["render", str(ipa), "--base-url", BASE, "--out", str(out)]) == 0
    assert "warning: Its provisioning profile expired" in capsys.readouterr().err
    page = (out / "index.html").read_text()
    assert "itms-services://?action" not in page.split("<script>")[0]
    assert "BitbarIOSSample" in page
    assert (out / "icon.png").is_file()


def test_refusal_line_sends_no_terminal_sequences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = tmp_path / "hostile.ipa"
    build_ipa(hostile, app_dir_name="Evil\x1b]0;pwned\x07\x1b[2J.app", info_plist_bytes=b"")
    assert main(["render", str(hostile), "--base-url", BASE, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert "Evil?]0;pwned??[2J.app" in err
    assert "\x1b" not in err
    assert "\x07" not in err


def test_an_unexpected_failure_is_one_line_not_a_traceback(
    sample_ipa: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ipadrop.render.page

    def broken(_: object) -> str:
        raise RuntimeError("template\nexploded")

    monkeypatch.setattr(ipadrop.render.page, "render_install_page", broken)
    out = tmp_path / "o"
    assert main(["render", str(sample_ipa), "--base-url", BASE, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {sample_ipa} could not be rendered (RuntimeError: template exploded).\n"
    assert not out.exists()
