"""The install page in headless Chromium, per device kind, under the product's CSP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ipadrop.render.page import CONTENT_SECURITY_POLICY, render_install_page
from ipadrop.render.urls import itms_services_url
from tests.browser.conftest import (
    ANDROID_CHROME,
    DESKTOP_CHROME,
    FACEBOOK_IOS,
    GOOGLE_APP_IOS,
    IPAD_AS_MAC,
    IPHONE_SAFARI,
    MAC_SAFARI,
    Device,
    OpenedPage,
    PageHarness,
)
from tests.render_samples import HOSTILE_NAMES, MANIFEST_URL, PAGE_URL, context, facts, profile

pytestmark = pytest.mark.browser

NO_CLIPBOARD_API = (
    "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});"
)
# Expiry far ahead so the page's own clock check never trips.
FUTURE = "2099-01-01T12:00:00Z"


def _visible(opened: OpenedPage, selector: str) -> bool:
    locator = opened.page.locator(selector)
    return bool(locator.count()) and bool(locator.is_visible())


@pytest.mark.parametrize(
    ("device", "state", "family"),
    [
        (IPHONE_SAFARI, "ios", "iphone"),
        (IPAD_AS_MAC, "ios", "ipad"),
        (MAC_SAFARI, "other", ""),
        (DESKTOP_CHROME, "other", ""),
        (ANDROID_CHROME, "other", ""),
        (GOOGLE_APP_IOS, "inapp", "iphone"),
        (FACEBOOK_IOS, "inapp", "iphone"),
    ],
    ids=lambda v: v.name if isinstance(v, Device) else None,
)
def test_each_device_kind_gets_its_state(
    harness: PageHarness, screenshots_dir: Path, device: Device, state: str, family: str
) -> None:
    html = render_install_page(
        context(
            link_expires_at=FUTURE,
            facts=facts(profile=profile(distribution="ad-hoc", device_count=12)),
        )
    )
    opened = harness.open(html, device, csp=CONTENT_SECURITY_POLICY)
    page = opened.page
    assert page.evaluate("document.documentElement.dataset.device") == state
    assert page.evaluate("document.documentElement.dataset.family") == family

    install_shown = _visible(opened, "#install-button")
    assert install_shown == (state == "ios")
    assert _visible(opened, "#next-steps") == (state == "ios")
    assert _visible(opened, "#safari-panel") == (state == "inapp")
    assert _visible(opened, "#elsewhere-panel") == (state == "other")
    if state == "ios":
        href = page.get_attribute("#install-button", "href")
        assert href == itms_services_url(MANIFEST_URL)
        assert "Only the 12 devices registered" in page.inner_text("#registered-note")
        assert "Developer Mode" in page.inner_text("#next-steps")
    if state == "other":
        assert page.locator("#elsewhere-panel svg.qr-code path").count() >= 1
        assert "Scan this code" in page.inner_text("#elsewhere-panel")
        assert page.locator("#elsewhere-panel svg.qr-code").bounding_box()["width"] >= 150
    if state == "inapp":
        expected = "The Google app" if device is GOOGLE_APP_IOS else "Facebook"
        assert page.inner_text("#inapp-name") == expected
        assert page.input_value("#page-link") == PAGE_URL
        assert _visible(opened, "#copy-button")
    # Every state shows the facts, with the icon decoded from its data: URI.
    assert page.inner_text("#app-title") == "Field Notes"
    assert page.evaluate("document.querySelector('img.app-icon').naturalWidth") == 1
    # No horizontal scrolling on any device.
    assert page.evaluate("document.documentElement.scrollWidth") <= device.viewport[0]
    page.screenshot(
        path=str(screenshots_dir / f"install-{device.name}.png"), full_page=True, scale="css"
    )
    opened.assert_clean()


def test_enterprise_steps_and_dark_mode(harness: PageHarness, screenshots_dir: Path) -> None:
    html = render_install_page(context(link_expires_at=FUTURE, icon_png=None))
    opened = harness.open(html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY, color_scheme="dark")
    steps = opened.page.inner_text("#next-steps")
    assert "Settings → General → VPN & Device Management" in steps
    assert "Acme Corp" in steps
    assert "Developer Mode" not in steps
    background = opened.page.evaluate("getComputedStyle(document.body).color")
    assert background == "rgb(245, 245, 247)"  # light text on the dark scheme
    opened.page.screenshot(
        path=str(screenshots_dir / "install-iphone-dark.png"), full_page=True, scale="css"
    )
    opened.assert_clean()


def test_tapping_install_points_at_the_next_steps(harness: PageHarness) -> None:
    html = render_install_page(context(link_expires_at=FUTURE))
    opened = harness.open(html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY)
    page = opened.page
    # Keep Chromium from trying to launch an external protocol handler.
    page.evaluate(
        "document.getElementById('install-button').addEventListener('click',"
        " function (e) { e.preventDefault(); })"
    )
    page.click("#install-button")
    assert page.evaluate("document.documentElement.hasAttribute('data-tapped')")
    assert "check your Home Screen" in page.inner_text("#install-label")
    opened.assert_clean()


def test_without_javascript_the_page_still_offers_both_ways(
    chromium_browser: Any, screenshots_dir: Path
) -> None:
    html = render_install_page(context(link_expires_at=FUTURE))
    browser_context = chromium_browser.new_context(java_script_enabled=False)
    try:
        page = browser_context.new_page()
        page.set_content(html)
        assert page.locator("#install-button").is_visible()
        assert page.locator("#elsewhere-panel").is_visible()
        assert "Not on your iPhone or iPad?" in page.inner_text("#elsewhere-panel")
        assert "Open this page in Safari first" in page.inner_text("#install-panel")
        assert not page.locator("#safari-panel").is_visible()
        # Server-rendered times are readable without the script (UTC).
        assert "1 Jan 2099, 12:00 UTC" in page.inner_text("#link-expires")
        page.screenshot(
            path=str(screenshots_dir / "install-no-javascript.png"), full_page=True, scale="css"
        )
    finally:
        browser_context.close()


def test_times_are_shown_in_the_viewers_time_zone(harness: PageHarness) -> None:
    soon = (datetime.now(UTC) + timedelta(days=2)).replace(hour=12, minute=0, second=0)
    html = render_install_page(context(link_expires_at=soon.strftime("%Y-%m-%dT%H:%M:%SZ")))
    opened = harness.open(
        html, DESKTOP_CHROME, csp=CONTENT_SECURITY_POLICY, timezone_id="Asia/Tokyo"
    )
    local = f"{soon.day} {soon:%b %Y}, 21:00"  # noon UTC is 21:00 in Tokyo
    assert opened.page.inner_text("#link-expires") == local
    hint = opened.page.inner_text("#install-panel .hint")
    assert f"{local} (in 2 days)" in hint or f"{local} (in 3 days)" in hint
    far = render_install_page(context(link_expires_at=FUTURE))
    opened.show(far)
    assert "(in" not in opened.page.inner_text("#install-panel .hint")
    opened.assert_clean()


def test_a_link_that_expires_while_open_hides_install(harness: PageHarness) -> None:
    html = render_install_page(context(link_expires_at="2001-01-01T00:00:00Z"))
    opened = harness.open(html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY)
    assert _visible(opened, "#link-expired-note")
    assert not _visible(opened, "#install-button")
    assert "qa@acme.example" in opened.page.inner_text("#link-expired-note")
    opened.assert_clean()


@pytest.mark.parametrize(
    ("ctx_changes", "reason"),
    [
        ({"revoked": True}, "withdrawn"),
        ({"facts": facts(profile=profile(expires_at="2026-01-01T00:00:00Z"))}, "expired"),
    ],
    ids=["revoked", "profile-expired"],
)
def test_blocked_builds_explain_why(
    harness: PageHarness, screenshots_dir: Path, ctx_changes: dict[str, Any], reason: str
) -> None:
    html = render_install_page(context(link_expires_at=FUTURE, **ctx_changes))
    for device in (IPHONE_SAFARI, DESKTOP_CHROME):
        opened = harness.open(html, device, csp=CONTENT_SECURITY_POLICY)
        assert opened.page.locator("a[href^='itms-services']").count() == 0
        assert reason in opened.page.inner_text("#blocked")
        assert not _visible(opened, "#elsewhere-panel")
        opened.assert_clean()
    label = "revoked" if "revoked" in ctx_changes else "profile-expired"
    opened.page.screenshot(path=str(screenshots_dir / f"blocked-{label}.png"), scale="css")


def test_copy_button_uses_the_clipboard(harness: PageHarness) -> None:
    html = render_install_page(context(link_expires_at=FUTURE))
    opened = harness.open(
        html,
        GOOGLE_APP_IOS,
        csp=CONTENT_SECURITY_POLICY,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = opened.page
    page.click("#copy-button")
    page.wait_for_function("document.getElementById('copy-status').textContent !== ''")
    assert page.inner_text("#copy-status").startswith("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == PAGE_URL
    opened.assert_clean()


def test_copy_button_falls_back_without_the_clipboard_api(harness: PageHarness) -> None:
    html = render_install_page(context(link_expires_at=FUTURE))
    opened = harness.open(
        html,
        FACEBOOK_IOS,
        csp=CONTENT_SECURITY_POLICY,
        init_script=NO_CLIPBOARD_API,
    )
    page = opened.page
    page.click("#copy-button")
    status = page.inner_text("#copy-status")
    assert status.startswith(("Link copied", "Couldn’t copy. Touch and hold"))
    # Either way the link is selected, ready for the system's own Copy.
    selected = page.evaluate(
        "(() => { const f = document.getElementById('page-link');"
        " return f.value.substring(f.selectionStart, f.selectionEnd); })()"
    )
    assert selected == PAGE_URL
    opened.assert_clean()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("csp", [None, CONTENT_SECURITY_POLICY], ids=["no-csp", "csp"])
def test_hostile_names_execute_nothing(harness: PageHarness, name: str, csp: str | None) -> None:
    hostile = facts(
        title=name,
        minimum_os_version=name,
        profile=profile(team_name=name, distribution="ad-hoc", device_count=3),
    )
    html = render_install_page(context(facts=hostile, link_expires_at=FUTURE, contact=name))
    # Without a CSP only escaping stands between the name and the page.
    opened = harness.open(html, IPHONE_SAFARI, csp=csp)
    page = opened.page
    page.mouse.move(200, 200)
    page.hover("#app-title")
    assert page.evaluate("window.pwned") is None
    assert page.inner_text("#app-title") == " ".join(name.split())
    assert page.locator("img").count() == 1
    assert page.locator("script").count() == 2
    assert page.evaluate("document.documentElement.dataset.device") == "ios"
    opened.assert_clean()


def test_the_harness_catches_policy_violations(harness: PageHarness) -> None:
    """Guards the guard: a page breaking the policy must be reported."""
    html = render_install_page(context(link_expires_at=FUTURE)).replace(
        "<main", '<div style="color:red" id="x"></div><img src="x" onerror="window.pwned=1"><main'
    )
    opened = harness.open(html, DESKTOP_CHROME, csp=CONTENT_SECURITY_POLICY)
    violations = opened.csp_violations()
    assert any("style-src" in v for v in violations)
    assert any("script-src" in v or "img-src" in v for v in violations)
    assert opened.page.evaluate("window.pwned") is None


def test_classifier_over_many_user_agents(harness: PageHarness) -> None:
    html = render_install_page(context(link_expires_at=FUTURE))
    opened = harness.open(html, DESKTOP_CHROME, csp=CONTENT_SECURITY_POLICY)
    webkit = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
    ios = f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) {webkit}"
    ipad = f"Mozilla/5.0 (iPad; CPU OS 16_3 like Mac OS X) {webkit}"
    cases = [
        (ios + " Version/17.5 Mobile/15E148 Safari/604.1", 5, "ios", ""),
        (ipad + " Version/16.3 Mobile/15E148 Safari/604.1", 5, "ios", ""),
        (ios + " Mobile/15E148 Instagram 330.0.0.40.92", 5, "inapp", "Instagram"),
        (ios + " Mobile/15E148 [LinkedInApp]/9.29.1", 5, "inapp", "LinkedIn"),
        (ios + " Mobile/15E148 Safari Line/13.21.0", 5, "inapp", "LINE"),
        (ios + " Mobile/15E148 MicroMessenger/8.0.47 NetType/WIFI", 5, "inapp", "WeChat"),
        (ios + " Mobile/15E148 Twitter for iPhone/10.50", 5, "inapp", "X"),
        (ios + " Mobile/15E148 Slack/24.05 Safari/604.1", 5, "inapp", "Slack"),
        (ios + " Mobile/15E148 TeamsMobile-iOS", 5, "inapp", "Microsoft Teams"),
        (ios + " Mobile/15E148 Outlook-iOS/4.2418.0", 5, "inapp", "Outlook"),
        (ios + " Mobile/15E148 GmailApp/6.0", 5, "inapp", "Gmail"),
        (ios + " CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", 5, "inapp", "Chrome"),
        (ios + " Mobile/15E148", 5, "inapp", ""),  # bare WKWebView
        (IPAD_AS_MAC.user_agent, 5, "ios", ""),
        (IPAD_AS_MAC.user_agent, 0, "other", ""),  # a real Mac
        (ANDROID_CHROME.user_agent, 5, "other", ""),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A; wv) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Version/4.0 Chrome/126.0 Mobile Safari/537.36 "
            "[FB_IAB/FB4A;FBAV/470.0.0.38.109;]",
            5,
            "other",
            "",
        ),
        (DESKTOP_CHROME.user_agent, 0, "other", ""),
    ]
    for ua, touch_points, device, app in cases:
        result = opened.page.evaluate(
            "([ua, n]) => window.ipadrop.classify(ua, n)", [ua, touch_points]
        )
        assert (result["device"], result["app"]) == (device, app), ua
    opened.assert_clean()
