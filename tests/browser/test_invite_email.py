"""The invitation e-mail in Chromium: narrow and wide windows, light and dark,
screenshots in test-artifacts/; hostile values run nothing."""

from __future__ import annotations

import base64
import email
import email.policy
from pathlib import Path
from typing import Any

import pytest

from ipadrop.render.email import InviteMail, compose_invite
from ipadrop_tools.devkit.sample_ipa import write_png
from ipadrop_tools.local.outbox import html_with_inline_images
from tests.hardening.support import HOSTILE

pytestmark = pytest.mark.browser


def _mail(**overrides: Any) -> InviteMail:
    icon = write_png(180, 180)
    values: dict[str, Any] = {
        "to": "tester@example.com",
        "sender_email": "ipadrop@example.com",
        "sender_name": "Mobile team",
        "title": "Field Service",
        "version": "4.2",
        "build": "318",
        "install_url": "https://apps.example.com/i/AQACazFrFRfxaxZpcRpyib57",
        "expires_at": "2026-12-09T10:00:00Z",
        "notes": "Fixes the login loop on iOS 18.\nOffline sync for work orders.\n"
        "Details: https://example.com/releases/4.2",
        "message": "Please try the new sync before Friday.",
        "icon_png": icon,
        "channel": "main",
    }
    values.update(overrides)
    return InviteMail(**values)


def _html(mail: InviteMail) -> str:
    _, raw = compose_invite(mail, sent_at=1_765_000_000)
    return html_with_inline_images(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "width", "scheme"),
    [
        ("narrow", 375, "light"),
        ("wide", 1200, "light"),
        ("narrow-dark", 375, "dark"),
        ("wide-dark", 1200, "dark"),
    ],
)
def test_email_looks_right(
    chromium_browser: Any, artifacts_dir: Path, name: str, width: int, scheme: str
) -> None:
    context = chromium_browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme
    )
    try:
        page = context.new_page()
        page.set_content(_html(_mail()))
        button = page.locator("#install")
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= 44  # a comfortable tap target
        assert box["width"] <= min(width, 520)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
        assert button.get_attribute("href", timeout=1000).startswith("https://")
        icon = page.locator("img.icon")
        assert icon.evaluate("img => img.naturalWidth") > 0  # the inline icon decodes
        card = page.locator(".card").evaluate("e => getComputedStyle(e).backgroundColor")
        assert (card == "rgb(28, 28, 30)") == (scheme == "dark")
        assert "Offline sync for work orders." in page.locator("#notes").inner_text()
        page.screenshot(path=str(artifacts_dir / f"invite-email-{name}.png"), full_page=True)
    finally:
        context.close()


def test_hostile_email_runs_nothing(chromium_browser: Any) -> None:
    context = chromium_browser.new_context(viewport={"width": 375, "height": 900})
    try:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for value in HOSTILE:
            page.set_content(
                _html(_mail(title=value, notes=value, message=value, sender_name=value))
            )
            assert page.evaluate("window.__pwned === undefined")
            assert page.locator("script").count() == 0
        assert dialogs == []
    finally:
        context.close()


def test_icon_is_an_inline_cid_part() -> None:
    _, raw = compose_invite(_mail(), sent_at=1_765_000_000)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    images = [p for p in message.walk() if p.get_content_maintype() == "image"]
    assert len(images) == 1
    assert images[0]["Content-Disposition"].startswith("inline")
    cid = images[0]["Content-ID"].strip("<>")
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f'src="cid:{cid}"' in html
    assert base64.b64encode(images[0].get_payload(decode=True)[:8]) == base64.b64encode(
        b"\x89PNG\r\n\x1a\n"
    )
