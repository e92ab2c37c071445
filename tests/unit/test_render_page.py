"""Install page and its siblings as HTML: escaping, states, and the fixed CSP."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from ipadrop.render.page import (
    CONTENT_SECURITY_POLICY,
    META_CONTENT_SECURITY_POLICY,
    InstallPageContext,
    content_security_policy,
    format_utc,
    human_size,
    install_blocker,
    render_expired_page,
    render_forbidden_page,
    render_install_page,
    render_not_found_page,
)
from ipadrop.render.urls import itms_services_url
from ipadrop.text import version_label
from tests.render_samples import (
    HOSTILE_NAMES,
    MANIFEST_URL,
    PAGE_URL,
    PNG_1PX,
    context,
    facts,
    profile,
)

_VOID = {"meta", "link", "img", "input", "br", "hr"}


class Parsed(HTMLParser):
    """Every element with its attributes, the text per element id, and raw blocks."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text_by_id: dict[str, str] = {}
        self.blocks: list[tuple[str, dict[str, str | None], str]] = []
        self._open: list[tuple[str, str | None]] = []
        self._raw: tuple[str, dict[str, str | None]] | None = None
        self._raw_text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag in ("script", "style"):
            self._raw, self._raw_text = (tag, attributes), []
        if tag not in _VOID:
            self._open.append((tag, attributes.get("id")))
            if attributes.get("id"):
                self.text_by_id[str(attributes["id"])] = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))  # <path/> and friends: nothing to close

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._raw and tag == self._raw[0]:
            self.blocks.append((tag, self._raw[1], "".join(self._raw_text)))
            self._raw = None
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._raw:
            self._raw_text.append(data)
        for _, element_id in self._open:
            if element_id:
                self.text_by_id[element_id] += data

    def ids(self) -> set[str]:
        return {str(a["id"]) for _, a in self.elements if a.get("id")}

    def by_id(self, element_id: str) -> dict[str, str | None]:
        return next(a for _, a in self.elements if a.get("id") == element_id)


def text_of(parsed: Parsed, element_id: str) -> str:
    return " ".join(parsed.text_by_id[element_id].split())


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


ALL_PAGES = {
    "install": lambda: render_install_page(context()),
    "install-static": lambda: render_install_page(context(link_expires_at=None, contact=None)),
    "install-adhoc": lambda: render_install_page(
        context(facts=facts(profile=profile(distribution="ad-hoc", device_count=7)))
    ),
    "install-revoked": lambda: render_install_page(context(revoked=True)),
    "install-no-icon": lambda: render_install_page(context(icon_png=None)),
    "expired": lambda: render_expired_page(contact="QA", title="Field Notes"),
    "revoked": lambda: render_expired_page(reason="revoked"),
    "not-found": render_not_found_page,
    "forbidden": lambda: render_forbidden_page(contact="qa@acme.example"),
}


@pytest.mark.parametrize("name", sorted(ALL_PAGES))
def test_every_inline_block_is_allowed_by_the_fixed_policy(name: str) -> None:
    parsed = Parsed(ALL_PAGES[name]())
    executable = [(t, a, body) for t, a, body in parsed.blocks if a.get("type") is None]
    assert [t for t, _, _ in executable] == ["style", "script"]
    for tag, _, body in executable:
        directive = "style-src" if tag == "style" else "script-src"
        assert f"{directive} {csp_hash(body)};" in CONTENT_SECURITY_POLICY
    data_blocks = [a for t, a, _ in parsed.blocks if a.get("type") is not None]
    assert all(a["type"] == "application/json" for a in data_blocks)
    meta = [a for t, a in parsed.elements if t == "meta" and a.get("http-equiv")]
    assert meta == [
        {"http-equiv": "Content-Security-Policy", "content": META_CONTENT_SECURITY_POLICY}
    ]


@pytest.mark.parametrize("name", sorted(ALL_PAGES))
def test_no_inline_handlers_styles_or_outside_requests(name: str) -> None:
    parsed = Parsed(ALL_PAGES[name]())
    for tag, attributes in parsed.elements:
        for attribute, value in attributes.items():
            assert not attribute.startswith("on"), (tag, attribute)
            assert attribute != "style", tag
            if attribute in ("src", "href", "action", "srcset", "poster", "data"):
                assert str(value).startswith(("data:", "itms-services:", "mailto:", "#")), (
                    tag,
                    attribute,
                    value,
                )


def test_policy_shape() -> None:
    policy = content_security_policy()
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "data:"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'none'"
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", directives["script-src"])
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", directives["style-src"])
    assert "unsafe" not in policy
    assert "frame-ancestors" not in META_CONTENT_SECURITY_POLICY


def test_install_page_shows_the_facts() -> None:
    page = render_install_page(context())
    parsed = Parsed(page)
    assert text_of(parsed, "app-title") == "Field Notes"
    assert parsed.by_id("install-button")["href"] == itms_services_url(MANIFEST_URL)
    assert parsed.by_id("page-link")["value"] == PAGE_URL
    for expected in ("2.4.1 (318)", "48.2 MB", "Acme Corp", "ABCDE12345", "In-house (Enterprise)"):
        assert expected in page
    assert "VPN &amp; Device Management" in page
    assert "Developer Mode" not in page
    times = {a["datetime"] for t, a in parsed.elements if t == "time"}
    assert times == {"2026-11-24T00:26:16Z", "2027-06-01T00:00:00Z", "2026-11-25T12:00:00Z"}
    icon = next(a for t, a in parsed.elements if t == "img")
    assert icon["src"] == "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()
    assert 'href="mailto:qa@acme.example"' in page
    data = json.loads(next(b for _, a, b in parsed.blocks if a.get("id") == "ipadrop-data"))
    assert data == {
        "deviceFamily": ["iphone", "ipad"],
        "installable": True,
        "linkExpiresAt": "2026-11-25T12:00:00Z",
        "minimumOsVersion": "15.0",
    }
    assert "<svg" in page
    assert 'class="qr-code"' in page


@pytest.mark.parametrize("kind", ["ad-hoc", "development"])
def test_registered_devices_only(kind: str) -> None:
    page = render_install_page(
        context(facts=facts(profile=profile(distribution=kind, device_count=12)))
    )
    parsed = Parsed(page)
    assert "Only the 12 devices registered" in text_of(parsed, "registered-note")
    assert "Developer Mode" in page
    assert "VPN &amp; Device Management" not in page
    one = render_install_page(
        context(facts=facts(profile=profile(distribution=kind, device_count=1)))
    )
    assert "Only the 1 device registered" in one


@pytest.mark.parametrize(
    ("ctx", "reason"),
    [
        (context(revoked=True), "withdrawn"),
        (
            context(facts=facts(profile=profile(expires_at="2026-11-01T00:00:00Z"))),
            "expired on 1 Nov 2026",
        ),
        (context(facts=facts(profile=profile(distribution="app-store"))), "App Store"),
        (
            context(
                facts=facts(
                    profile=profile(
                        certificates_expire_at=["2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]
                    )
                )
            ),
            "signing certificate expired on 1 Jan 2026",
        ),
    ],
)
def test_blocked_builds_have_no_install_button(ctx: InstallPageContext, reason: str) -> None:
    parsed = Parsed(render_install_page(ctx))
    assert "install-button" not in parsed.ids()
    assert "install-anyway" not in parsed.ids()
    assert not any(str(a.get("href", "")).startswith("itms-services") for _, a in parsed.elements)
    assert reason in text_of(parsed, "blocked-reason")
    assert install_blocker(ctx) is not None


def test_a_live_certificate_keeps_the_button() -> None:
    ctx = context(
        facts=facts(
            profile=profile(certificates_expire_at=["2025-01-01T00:00:00Z", "2028-01-01T00:00:00Z"])
        )
    )
    assert install_blocker(ctx) is None
    assert "install-button" in Parsed(render_install_page(ctx)).ids()


def test_profile_close_to_expiry_warns_and_missing_profile_blocks() -> None:
    soon = Parsed(
        render_install_page(
            context(facts=facts(profile=profile(expires_at="2026-11-27T00:00:00Z")))
        )
    )
    assert "expires on 27 Nov 2026" in text_of(soon, "warning-profile_expires_soon")
    assert "install-button" in soon.ids()
    bare = Parsed(render_install_page(context(facts=facts(profile=None))))
    assert "no provisioning profile" in text_of(bare, "blocked-reason")
    assert "install-button" not in bare.ids()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_render_as_text(name: str) -> None:
    hostile_facts = facts(
        title=name,
        version=name,
        minimum_os_version=name,
        profile=profile(team_name=name, team_id=name),
    )
    page = render_install_page(context(facts=hostile_facts, contact=name, page_url=PAGE_URL + name))
    parsed = Parsed(page)
    assert text_of(parsed, "app-title") == " ".join(name.split())
    assert parsed.by_id("page-link")["value"] == PAGE_URL + name
    # Only our own elements exist: one <img> (the icon), one style, our two scripts.
    assert [t for t, _ in parsed.elements].count("img") == 1
    assert [t for t, _ in parsed.elements].count("script") == 2
    assert not any(k.startswith("on") for _, a in parsed.elements for k in a)
    data = json.loads(next(b for _, a, b in parsed.blocks if a.get("id") == "ipadrop-data"))
    assert data["minimumOsVersion"] == name
    assert "49" not in text_of(parsed, "app-title")  # no template evaluation of names


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_text_on_message_pages(name: str) -> None:
    for page in (
        render_expired_page(contact=name, title=name, expired_at="2026-11-24T00:00:00Z"),
        render_expired_page(contact=name, title=name, reason="revoked"),
        render_not_found_page(contact=name),
        render_forbidden_page(contact=name),
    ):
        parsed = Parsed(page)
        assert [t for t, _ in parsed.elements].count("script") == 1
        assert "img" not in [t for t, _ in parsed.elements]
        assert html.escape(name, quote=False) in page or name not in page


def test_message_pages_say_what_happened_and_whom_to_ask() -> None:
    expired = Parsed(
        render_expired_page(
            contact="Dana in QA", title="Field Notes", expired_at="2026-11-24T00:00:00Z"
        )
    )
    words = text_of(expired, "message")
    assert "expired" in words
    assert "Field Notes" in words
    assert "Ask Dana in QA for a new link" in words
    assert any(
        a.get("datetime") == "2026-11-24T00:00:00Z" for t, a in expired.elements if t == "time"
    )
    anonymous = text_of(Parsed(render_expired_page()), "message")
    assert "Ask the person who sent you this link" in anonymous
    assert "withdrawn" in text_of(Parsed(render_expired_page(reason="revoked")), "message")
    assert "doesn’t lead to an app" in text_of(Parsed(render_not_found_page()), "message")
    forbidden = render_forbidden_page(contact="qa@acme.example")
    assert "isn’t valid" in text_of(Parsed(forbidden), "message")
    assert 'href="mailto:qa@acme.example"' in forbidden
    assert "mailto:" not in render_forbidden_page(contact="qa@acme.example?cc=x")


def test_non_png_icon_bytes_are_not_inlined() -> None:
    page = render_install_page(context(icon_png=b"<svg onload=alert(1)>"))
    assert "data:image" not in page
    assert "app-icon--blank" in page


def test_version_label_and_sizes_and_times() -> None:
    assert version_label("2.4.1", "318") == "2.4.1 (318)"
    assert version_label("1.0", "1.0") == "1.0"
    assert version_label(None, "7") == "7"
    assert version_label(None, None) == "unknown"
    assert human_size(0) == "0 bytes"
    assert human_size(1) == "1 byte"
    assert human_size(999) == "999 bytes"
    assert human_size(42_699) == "42.7 KB"
    assert human_size(999_960) == "1.0 MB"
    assert human_size(148_213_004) == "148 MB"
    assert human_size(3_200_000_000) == "3.2 GB"
    assert format_utc("2026-01-05T09:07:00Z") == "5 Jan 2026, 09:07 UTC"
    assert format_utc("2026-01-05T10:07:00+01:00") == "5 Jan 2026, 09:07 UTC"
    assert format_utc("not a time") == "not a time"
    assert format_utc(None) == ""


def test_context_is_a_plain_frozen_record() -> None:
    ctx = context()
    with pytest.raises(AttributeError):
        ctx.revoked = True  # type: ignore[misc]
    assert replace(ctx, revoked=True).revoked
