"""Hostile notes, app names, sender names and messages are inert in the install
page's "What's new" and in the invitation e-mail (HTML, text and headers)."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime

import pytest

from ipadrop.distribution.metadata import parse_upload_metadata
from ipadrop.render.email import InviteMail, compose_invite
from ipadrop.render.page import InstallPageContext, render_install_page
from tests.hardening.support import HOSTILE
from tests.integration.link_support import make_record, tiny_png

# What must never reach an href or src (URLs written in notes may point anywhere https).
SCRIPT_MARKERS = ("javascript:", "pwned", "onerror", "onload", "itms-services", '"', "<", ">")

HEADER_ATTACKS = (
    "Mallory\r\nBcc: victim@evil.example",
    "x\nSubject: pwned",
    "=?utf-8?q?=0D=0ABcc=3A_victim=40evil.example?=",
    "\u2028Bcc: victim@evil.example",
)


def _mail(value: str) -> InviteMail:
    return InviteMail(
        to="tester@example.com",
        sender_email="ipadrop@example.com",
        sender_name=value,
        title=value,
        version=value,
        build=value,
        install_url="https://apps.example.com/i/TOKEN",
        expires_at="2026-12-09T10:00:00Z",
        notes=value + "\nsee https://example.com/ok",
        message=value,
        icon_png=tiny_png(),
    )


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]*)"', html)


@pytest.mark.parametrize("value", HOSTILE + HEADER_ATTACKS)
def test_hostile_strings_are_inert_in_the_email(value: str) -> None:
    subject, raw = compose_invite(_mail(value), sent_at=1_765_000_000)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    # Headers: one of each, the recipient only, nothing smuggled in.
    assert message.get_all("To") == ["tester@example.com"]
    assert message.get_all("Bcc") is None
    assert message.get_all("Cc") is None
    assert len(message.get_all("Subject") or []) == 1
    assert "\n" not in str(message["Subject"])
    assert "\r" not in str(message["Subject"])
    assert "\n" not in subject
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    # No markup from the value: no script, no handler attributes, no foreign URL.
    assert "<script" not in html.lower()
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html, re.IGNORECASE)
    links = _links(html)
    assert links.count("https://apps.example.com/i/TOKEN") == 1
    assert "https://example.com/ok" in links
    for url in links:
        # Only the icon and https URLs (notes may link where their author wants).
        assert url.startswith(("cid:", "https://")), url
        assert not any(marker in url for marker in SCRIPT_MARKERS), url
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://apps.example.com/i/TOKEN" in text


def test_the_button_never_links_to_itms_services() -> None:
    mail = _mail("App")
    with pytest.raises(ValueError, match="http"):
        compose_invite(
            InviteMail(
                **{
                    **{f: getattr(mail, f) for f in mail.__slots__},
                    "install_url": "itms-services://?x",
                }
            )  # type: ignore[attr-defined]
        )


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_notes_are_inert_on_the_page(value: str) -> None:
    from dataclasses import replace

    meta = parse_upload_metadata({"notes": value + "%0Ahttps://example.com/ok"})
    record = replace(make_record("com.example.a", "20260101T000000Z-aaaaaaaaaa"), notes=meta.notes)
    page = render_install_page(
        InstallPageContext(
            facts=record.facts,
            build_id=record.build_id,
            uploaded_at=record.uploaded_at,
            manifest_url="https://apps.example.com/m/T/manifest.plist",
            page_url="https://apps.example.com/i/T",
            notes=record.notes,
            now=datetime(2026, 1, 2, tzinfo=UTC),
        )
    )
    section = page.split('id="whats-new"', 1)[1].split("</section>", 1)[0]
    assert "<script" not in section.lower()
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", section, re.IGNORECASE)
    links = _links(section)
    assert links[-1] == "https://example.com/ok"
    for url in links:
        assert url.startswith("https://"), url
        assert not any(marker in url for marker in SCRIPT_MARKERS), url
