"""Invisible and bidirectional characters never reach a person (docs/ARCHITECTURE.md,
"One home for each helper": ``ipadrop.text.clean_text``).

An uploader can name an app "Payroll\u202egnp.exe" (right-to-left override) or hide
zero-width characters in a title to pass for another app; wherever IPA text is shown
(the inspector's facts, the profile's team, the page, the manifest, the CLI) they go.
"""

from __future__ import annotations

import io
import plistlib

import pytest

from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.profiles import parse_profile
from ipadrop.reading.sources import BytesSource
from ipadrop.render.manifest import build_manifest
from ipadrop.render.page import render_expired_page, render_install_page
from ipadrop.text import clean_text
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes, sample_profile
from tests.render_samples import context, facts, profile

INVISIBLE = [
    "\u202e",
    "\u202d",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u061c",
    "\u00ad",
]
SPOOF = "Pay\u200broll\u202egnp.exe\ufeff"


def _has_invisible(text: str) -> list[str]:
    return [c for c in INVISIBLE if c in text]


def test_clean_text_drops_every_kind_and_can_mark_them() -> None:
    assert clean_text("".join(INVISIBLE) + "App" + "".join(INVISIBLE)) == "App"
    assert clean_text("a\u202eb", replacement="?") == "a?b"
    assert clean_text("\u200b\ufeff") is None
    # Joiners stay where they join something: emoji sequences, Persian and Indic words.
    assert clean_text("\U0001f469\u200d\U0001f4bb Dev") == "\U0001f469\u200d\U0001f4bb Dev"
    assert clean_text("\u0645\u200c\u0627") == "\u0645\u200c\u0627"
    assert clean_text("Pay\u200dPal") == "PayPal"


def test_the_inspector_strips_them_from_title_and_version() -> None:
    data = build_ipa_bytes(
        title=SPOOF,
        info_extra={"CFBundleDisplayName": SPOOF, "CFBundleShortVersionString": "1.0\u2066"},
    )
    found = inspect_ipa(BytesSource(data)).facts
    assert found.title == "Payrollgnp.exe"
    assert found.version == "1.0"


def test_a_bundle_id_with_them_is_rejected_with_them_marked() -> None:
    from ipadrop.reading.errors import IpaRejected

    data = build_ipa_bytes(info_extra={"CFBundleIdentifier": "com.exa\u202emple"})
    with pytest.raises(IpaRejected) as caught:
        inspect_ipa(BytesSource(data))
    assert "com.exa?mple" in str(caught.value)
    assert not _has_invisible(str(caught.value))


def test_the_profile_reader_strips_them_from_the_team_and_name() -> None:
    raw = sample_profile("enterprise", envelope="xml", team_name="Ac\u202eme", name="In\u200bHouse")
    info = parse_profile(raw)
    assert info.team_name == "Acme"
    assert info.name == "InHouse"


def test_the_page_and_the_manifest_show_a_clean_title() -> None:
    ctx = context(facts=facts(title=SPOOF, profile=profile(team_name="Ac\u202eme")))
    page = render_install_page(ctx)
    assert not _has_invisible(page)
    assert "Payrollgnp.exe" in page
    assert not _has_invisible(render_expired_page(title=SPOOF))
    manifest = build_manifest(
        facts=facts(title=SPOOF, profile=profile(team_name="Ac\u202eme")),
        ipa_url="https://apps.example.com/builds/a/b/app.ipa",
        icon_url=None,
    )
    metadata = plistlib.loads(manifest)["items"][0]["metadata"]
    assert metadata["title"] == "Payrollgnp.exe"
    assert metadata["subtitle"] == "Acme"


def test_cli_tables_and_results_show_a_clean_title(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from ipadrop_tools.cli.remote.output import apps_table, print_result, rejection_message

    console = Console(file=io.StringIO(), width=120)
    console.print(apps_table([{"bundle_id": "com.example.a", "title": SPOOF}]))
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Payrollgnp.exe" in shown
    assert not _has_invisible(shown)
    print_result({"status": "published", "title": SPOOF, "bundle_id": "a.b", "build_id": "x"})
    assert not _has_invisible(capsys.readouterr().out)
    assert not _has_invisible(rejection_message({"reason": "x", "message": SPOOF}))
