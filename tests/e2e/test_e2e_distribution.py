"""The issue's "Done when", from a new user's point of view on the local stack:
a group is set; an IPA is uploaded with notes, a channel and ``notify``; each
member gets one e-mail in the outbox whose button opens a page with the notes;
opening it and fetching its manifest show in ``ipadrop activity`` for that
member; revoking one member's invite makes only their link 410; ``latest`` of a
channel follows that channel."""

from __future__ import annotations

import email
import email.policy
import json
import plistlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ipadrop_tools.devkit.sample_ipa import build_ipa
from tests.e2e.conftest import RunningStack, http_get

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BUNDLE = "com.example.e2e.distribution"
MEMBERS = ("ann@example.com", "bob@example.com")
NOTES = "Fixes the login loop.\nDetails: https://example.com/notes <b>not bold</b>"


def _outbox(stack: RunningStack) -> list[Any]:
    folder = stack.state_dir / "outbox"
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def _button(message: Any) -> str:
    html = message.get_body(("html",)).get_content()
    found = re.search(r'id="install" href="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _upload(stack: RunningStack, tmp_path: Path, name: str, *args: str) -> dict[str, Any]:
    ipa = tmp_path / f"{name}.ipa"
    build_ipa(ipa, bundle_id=BUNDLE, title="Distribution E2E", version=name, build=name)
    done = stack.cli("upload", str(ipa), "--json", *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["status"] == "published", result
    return result


def test_done_when(
    local_stack: RunningStack, tmp_path: Path, iphone: Any, e2e_artifacts: Path
) -> None:
    stack = local_stack
    before = len(_outbox(stack))
    group = stack.cli("group", "set", "e2e-qa", *MEMBERS)
    assert group.returncode == 0, group.stderr
    notes_file = tmp_path / "NOTES.md"
    notes_file.write_text(NOTES, encoding="utf-8")
    first = _upload(
        stack,
        tmp_path,
        "1",
        "--notes-file",
        str(notes_file),
        "--channel",
        "main",
        "--notify",
        "e2e-qa",
    )
    assert (first["channel"], first["invited"], first["warnings"]) == ("main", 2, [])

    messages = _outbox(stack)[before:]
    assert sorted(m["To"] for m in messages) == sorted(MEMBERS)  # one e-mail per member
    by_member = {m["To"]: m for m in messages}
    ann_url, bob_url = _button(by_member[MEMBERS[0]]), _button(by_member[MEMBERS[1]])
    assert ann_url != bob_url

    # The button opens a page that shows the notes (as text: no markup from the uploader).
    iphone.goto(ann_url)
    notes = iphone.locator("#whats-new")
    assert "Fixes the login loop." in notes.inner_text()
    assert "<b>not bold</b>" in notes.inner_text()
    assert notes.locator("b").count() == 0
    assert notes.locator("a").get_attribute("href") == "https://example.com/notes"
    iphone.screenshot(path=str(e2e_artifacts / "distribution-install-page.png"), full_page=True)
    token = urlsplit(ann_url).path.split("/")[2]
    status, _, manifest = http_get(f"{stack.url}/m/{token}/manifest.plist")
    assert status == 200
    # iOS then downloads the IPA; the local "CloudFront log" line becomes download_finished.
    ipa_url = plistlib.loads(manifest)["items"][0]["assets"][0]["url"]
    assert "invite=" in ipa_url
    assert http_get(ipa_url)[0] == 200

    activity = stack.cli("activity", BUNDLE, first["build_id"], "--json")
    assert activity.returncode == 0, activity.stderr
    seen = {(e["type"], e["email"]) for e in json.loads(activity.stdout)["events"]}
    assert ("page_opened", MEMBERS[0]) in seen
    assert ("install_started", MEMBERS[0]) in seen
    assert ("download_finished", MEMBERS[0]) in seen
    assert not any(who == MEMBERS[1] for _, who in seen)
    table = stack.cli("activity", BUNDLE, first["build_id"])
    assert MEMBERS[0] in table.stdout

    # Revoking Ann's invite: only her link answers 410.
    invite_id = _invite_id(stack, ann_url)
    revoked = stack.cli("uninvite", invite_id, "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert http_get(ann_url)[0] == 410
    assert http_get(bob_url)[0] == 200

    # latest of a channel follows that channel.
    second = _upload(stack, tmp_path, "2", "--channel", "beta")
    third = _upload(stack, tmp_path, "3", "--channel", "main")
    main_link = json.loads(stack.cli("link", BUNDLE, "--json").stdout)
    assert main_link["build_id"] == third["build_id"]
    invite = stack.cli("invite", BUNDLE, "--channel", "beta", "--to", "cy@example.com", "--json")
    assert invite.returncode == 0, invite.stderr
    beta_url = json.loads(invite.stdout)["invites"][0]["install_url"]
    assert "Version 2" in http_get(beta_url)[2].decode()
    assert second["build_id"] != third["build_id"]

    # The outbox lists what was sent, rendered.
    status, _, page = http_get(f"{stack.url}/_local/outbox")
    assert status == 200
    assert "cy@example.com" in page.decode()


def _invite_id(stack: RunningStack, install_url: str) -> str:
    """The invite id a link carries (the CLI's --json of invite shows it; the
    e-mail does not, so read it back from the token)."""
    from ipadrop.links import tokens

    ring = tokens.KeyRing.from_secret_json(json.dumps(stack.settings["token_keys"]))
    claims = tokens.read_token(ring, urlsplit(install_url).path.split("/")[2])
    assert claims.invite_id is not None
    return claims.invite_id
