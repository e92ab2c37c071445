"""Every blocker the install page knows before the tap, in Chromium, with the
user agents real devices send (docs/ARCHITECTURE.md, "Devices and pre-install
diagnosis"). A blocker replaces the Install button with the reason and what to
do; a warning sits above it. Screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ipadrop.domain.model import DeviceRecord
from ipadrop.render.page import CONTENT_SECURITY_POLICY, render_install_page
from tests.browser.conftest import (
    DESKTOP_CHROME,
    FACEBOOK_IOS,
    IPAD_AS_MAC,
    IPHONE_SAFARI,
    MAC_SAFARI,
    Device,
    OpenedPage,
    PageHarness,
)
from tests.render_samples import context, facts, profile

pytestmark = pytest.mark.browser

FUTURE = "2099-01-01T12:00:00Z"
LISTED = "00008101-000A1B2C3D4E5F60"
OTHER = "00008030-0011223344556677"


def _ios_device(name: str, user_agent: str, *, ipad: bool = False) -> Device:
    return Device(
        name,
        user_agent,
        (820, 1180) if ipad else (390, 844),
        scale=2 if ipad else 3,
        mobile=not ipad,
        touch=True,
        max_touch_points=5,
    )


# User agents as the devices send them (Safari, then Chrome, Firefox and Edge for iOS).
IPHONE_IOS_15 = _ios_device(
    "iphone-ios15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/15.6.6 Mobile/15E148 Safari/604.1",
)
IPAD_IOS_16_UA = _ios_device(
    "ipad-ios16",
    "Mozilla/5.0 (iPad; CPU OS 16_7_8 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    ipad=True,
)
CHROME_IOS = _ios_device(
    "chrome-ios",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
)
FIREFOX_IOS = _ios_device(
    "firefox-ios",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15",
)
EDGE_IOS = _ios_device(
    "edge-ios",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 EdgiOS/126.2592.56 Mobile/15E148 Safari/605.1.15",
)


def _visible(opened: OpenedPage, selector: str) -> bool:
    locator = opened.page.locator(selector)
    return bool(locator.count()) and bool(locator.is_visible())


def _live_install_links(opened: OpenedPage) -> int:
    """itms-services links a person could still tap."""
    count: int = opened.page.evaluate(
        """() => Array.from(document.querySelectorAll("a[href^='itms-services']"))
             .filter(a => a.offsetParent !== null).length"""
    )
    return count


def _assert_blocked(opened: OpenedPage, code: str, words: str) -> None:
    assert opened.page.get_attribute("html", "data-blocked") == code
    assert _live_install_links(opened) == 0
    assert not _visible(opened, "#install-button")
    # The link itself is dead too, not just hidden.
    assert opened.page.get_attribute("#install-button", "href") is None
    assert words in opened.page.inner_text("#device-blocked")
    opened.assert_clean()


def test_ios_older_than_the_minimum_blocks_on_iphone(
    harness: PageHarness, screenshots_dir: Path
) -> None:
    html = render_install_page(
        context(link_expires_at=FUTURE, facts=facts(minimum_os_version="16.0"))
    )
    opened = harness.open(html, IPHONE_IOS_15, csp=CONTENT_SECURITY_POLICY)
    _assert_blocked(opened, "ios_too_old", "this device runs iOS 15.8. Update iOS")
    assert "Software Update" in opened.page.inner_text("#device-blocked")
    opened.page.screenshot(path=str(screenshots_dir / "blocker-ios-too-old.png"), scale="css")
    # The same page on a new enough iPhone installs.
    fine = harness.open(html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY)
    assert _visible(fine, "#install-button")
    assert fine.page.get_attribute("html", "data-blocked") is None


def test_ios_older_than_the_minimum_blocks_on_an_ipad_user_agent(harness: PageHarness) -> None:
    html = render_install_page(
        context(link_expires_at=FUTURE, facts=facts(minimum_os_version="17.0"))
    )
    opened = harness.open(html, IPAD_IOS_16_UA, csp=CONTENT_SECURITY_POLICY)
    assert opened.page.get_attribute("html", "data-family") == "ipad"
    _assert_blocked(opened, "ios_too_old", "this device runs iOS 16.7.8")


def test_ipad_as_mac_is_an_ipad_without_a_version_to_compare(harness: PageHarness) -> None:
    # iPadOS Safari sends a Mac user agent; five touch points (sent over CDP) give it away.
    html = render_install_page(
        context(
            link_expires_at=FUTURE, facts=facts(minimum_os_version="26.0", device_family=["ipad"])
        )
    )
    opened = harness.open(html, IPAD_AS_MAC, csp=CONTENT_SECURITY_POLICY)
    assert opened.page.evaluate("navigator.maxTouchPoints") == 5
    assert opened.page.get_attribute("html", "data-device") == "ios"
    assert opened.page.get_attribute("html", "data-family") == "ipad"
    assert opened.page.get_attribute("html", "data-blocked") is None
    assert _visible(opened, "#install-button")
    opened.assert_clean()
    mac = harness.open(html, MAC_SAFARI, csp=CONTENT_SECURITY_POLICY)
    assert mac.page.get_attribute("html", "data-device") == "other"


def test_ipad_only_app_blocks_on_iphone(harness: PageHarness, screenshots_dir: Path) -> None:
    html = render_install_page(context(link_expires_at=FUTURE, facts=facts(device_family=["ipad"])))
    opened = harness.open(html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY)
    _assert_blocked(opened, "ipad_only", "made for iPad only")
    opened.page.screenshot(path=str(screenshots_dir / "blocker-ipad-only.png"), scale="css")
    on_ipad = harness.open(html, IPAD_AS_MAC, csp=CONTENT_SECURITY_POLICY)
    assert _visible(on_ipad, "#install-button")


@pytest.mark.parametrize(
    ("device", "name"), [(CHROME_IOS, "Chrome"), (FIREFOX_IOS, "Firefox"), (EDGE_IOS, "Edge")]
)
def test_other_browsers_on_ios_are_called_browsers(
    harness: PageHarness, screenshots_dir: Path, device: Device, name: str
) -> None:
    html = render_install_page(context(link_expires_at=FUTURE))
    opened = harness.open(html, device, csp=CONTENT_SECURITY_POLICY)
    assert _visible(opened, "#safari-panel")
    assert _visible(opened, "#browser-text")
    assert not _visible(opened, "#inapp-text")
    text = opened.page.inner_text("#browser-text")
    assert f"You’re using {name}" in text
    assert "only Safari can install apps" in text
    assert not _visible(opened, "#install-button")
    opened.assert_clean()
    if name == "Chrome":
        opened.page.screenshot(path=str(screenshots_dir / "browser-chrome-ios.png"), scale="css")


def test_in_app_views_keep_their_words(harness: PageHarness) -> None:
    html = render_install_page(context(link_expires_at=FUTURE))
    opened = harness.open(html, FACEBOOK_IOS, csp=CONTENT_SECURITY_POLICY)
    assert _visible(opened, "#inapp-text")
    assert not _visible(opened, "#browser-text")
    assert "Facebook opened the link in its own browser" in opened.page.inner_text("#inapp-text")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_page_left_open_expires_by_its_timer(harness: PageHarness, screenshots_dir: Path) -> None:
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    html = render_install_page(context(link_expires_at=_iso(start + timedelta(minutes=10))))

    def fake_clock(page: Any) -> None:
        page.clock.install(time=start.timestamp())

    opened = harness.open(html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY, before_load=fake_clock)
    assert _visible(opened, "#install-button")
    opened.page.clock.run_for(9 * 60 * 1000)
    assert _visible(opened, "#install-button")
    opened.page.clock.run_for(2 * 60 * 1000)
    assert opened.page.get_attribute("html", "data-link") == "expired"
    assert _visible(opened, "#link-expired-note")
    assert _live_install_links(opened) == 0
    opened.assert_clean()
    opened.page.screenshot(path=str(screenshots_dir / "blocker-link-expired.png"), scale="css")


@pytest.mark.parametrize("event", ["visibilitychange", "pageshow"])
def test_a_page_coming_back_after_expiry_rechecks(harness: PageHarness, event: str) -> None:
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    html = render_install_page(context(link_expires_at=_iso(start + timedelta(hours=2))))

    def fake_clock(page: Any) -> None:
        page.clock.install(time=start.timestamp())

    opened = harness.open(html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY, before_load=fake_clock)
    # A phone asleep runs no timers: stop them, then move the wall clock past expiry.
    opened.page.clock.pause_at((start + timedelta(minutes=5)).timestamp())
    opened.page.clock.set_system_time((start + timedelta(hours=3)).timestamp())
    assert _visible(opened, "#install-button")
    target = "document" if event == "visibilitychange" else "window"
    opened.page.evaluate(f"{target}.dispatchEvent(new Event('{event}'))")
    assert opened.page.get_attribute("html", "data-link") == "expired"
    assert not _visible(opened, "#install-button")
    assert _live_install_links(opened) == 0


def test_a_device_not_in_the_profile_gets_no_install_button(
    harness: PageHarness, screenshots_dir: Path
) -> None:
    adhoc = facts(profile=profile(distribution="ad-hoc", device_count=1, devices=[LISTED]))
    stranger = DeviceRecord(
        udid=OTHER,
        product="iPhone15,2",
        ios_version="17.5",
        name="Bob's iPhone",
        serial=None,
        email="bob@example.com",
        invite_id=None,
        enrolled_at="2030-01-01T00:00:00Z",
        verified=False,
    )
    html = render_install_page(context(link_expires_at=FUTURE, facts=adhoc, device=stranger))
    opened = harness.open(html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY)
    assert opened.page.locator("a[href^='itms-services']").count() == 0
    assert "not registered" in opened.page.inner_text("#blocked-reason")
    assert OTHER in opened.page.inner_text("#device-known")
    opened.assert_clean()
    opened.page.screenshot(path=str(screenshots_dir / "blocker-device-not-listed.png"), scale="css")


def test_a_warning_sits_above_install_in_the_testers_time_zone(
    harness: PageHarness, screenshots_dir: Path
) -> None:
    now = datetime.now(UTC)
    expires = (now + timedelta(days=5)).replace(hour=12, minute=0, second=0, microsecond=0)
    html = render_install_page(
        context(
            link_expires_at=FUTURE,
            now=now,
            facts=facts(profile=profile(expires_at=_iso(expires))),
        )
    )
    opened = harness.open(
        html, IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY, timezone_id="America/New_York"
    )
    warning = opened.page.inner_text("#warning-profile_expires_soon")
    local = expires.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert f"{local.day} {local:%b %Y}, {local:%H:%M}" in warning
    assert "UTC" not in warning
    assert _visible(opened, "#install-button")
    warning_box = opened.page.locator("#warnings").bounding_box()
    button_box = opened.page.locator("#install-button").bounding_box()
    assert warning_box is not None
    assert button_box is not None
    assert warning_box["y"] < button_box["y"]
    opened.assert_clean()
    opened.page.screenshot(path=str(screenshots_dir / "warning-profile-soon.png"), scale="css")


def test_desktop_shows_the_qr_and_no_device_blockers(harness: PageHarness) -> None:
    html = render_install_page(context(link_expires_at=FUTURE, facts=facts(device_family=["ipad"])))
    opened = harness.open(html, DESKTOP_CHROME, csp=CONTENT_SECURITY_POLICY)
    assert opened.page.get_attribute("html", "data-blocked") is None
    assert _visible(opened, "#elsewhere-panel")
