"""Pages for every real fixture IPA, on each device kind, under the CSP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ipadrop.domain.bucket_keys import ICON_NAME, ICON_PIXELS
from ipadrop.domain.model import Inspection
from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.sources import LocalFileSource
from ipadrop.render.page import (
    CONTENT_SECURITY_POLICY,
    InstallPageContext,
    render_install_page,
)
from ipadrop.text import parse_iso_time
from tests.browser.conftest import (
    ANDROID_CHROME,
    DESKTOP_CHROME,
    FACEBOOK_IOS,
    IPAD_AS_MAC,
    IPHONE_SAFARI,
    Device,
    PageHarness,
)
from tests.render_samples import MANIFEST_URL, NOW, PAGE_URL

pytestmark = pytest.mark.browser

EXPECTED_STATE = {
    IPHONE_SAFARI.name: "#install-button",
    IPAD_AS_MAC.name: "#install-button",
    FACEBOOK_IOS.name: "#safari-panel",
    DESKTOP_CHROME.name: "#elsewhere-panel",
    ANDROID_CHROME.name: "#elsewhere-panel",
}


@pytest.fixture(scope="module")
def inspections(real_fixtures: Path) -> list[tuple[str, Inspection]]:
    found = []
    for path in sorted(real_fixtures.glob("*/*.ipa")):
        try:
            with LocalFileSource(path) as source:
                found.append((path.stem, inspect_ipa(source)))
        except IpaRejected:
            continue
    return found


def _context(inspection: Inspection, *, while_valid: bool) -> InstallPageContext:
    profile = inspection.facts.profile
    expires = parse_iso_time(profile.expires_at) if profile else None
    # These public fixtures' profiles expired years ago: view them as on a day
    # their profile was still valid, and as today.
    now = expires - timedelta(days=30) if while_valid and expires else NOW
    return InstallPageContext(
        facts=inspection.facts,
        build_id="20261124T002616Z-1a2b3c4d5e",
        uploaded_at="2026-11-24T00:26:16Z",
        manifest_url=MANIFEST_URL,
        page_url=PAGE_URL,
        link_expires_at="2099-01-01T00:00:00Z",
        icon_png=inspection.icon_png,
        contact="qa@acme.example",
        now=now,
    )


@pytest.mark.parametrize(
    "device",
    [IPHONE_SAFARI, IPAD_AS_MAC, FACEBOOK_IOS, DESKTOP_CHROME, ANDROID_CHROME],
    ids=lambda d: d.name,
)
def test_real_fixture_pages(
    harness: PageHarness,
    screenshots_dir: Path,
    inspections: list[tuple[str, Inspection]],
    device: Device,
) -> None:
    assert len(inspections) >= 6
    opened = harness.open("", device, csp=CONTENT_SECURITY_POLICY)
    page = opened.page
    for stem, inspection in inspections:
        facts = inspection.facts
        opened.show(render_install_page(_context(inspection, while_valid=True)))
        assert page.inner_text("#app-title") == facts.title
        if inspection.icon_png:
            width = page.evaluate("document.querySelector('img.app-icon').naturalWidth")
            assert width > 0, stem
            if facts.icon is not None:  # drawn at 120 CSS px: at most 360 px are sent
                assert width == min(facts.icon.width, ICON_PIXELS[ICON_NAME]), stem
        store_signed = facts.profile is not None and facts.profile.distribution == "app-store"
        if store_signed:
            assert "App Store" in page.inner_text("#blocked")
        else:
            assert page.locator(EXPECTED_STATE[device.name]).is_visible(), stem
        if device in (IPHONE_SAFARI, DESKTOP_CHROME):
            page.screenshot(
                path=str(screenshots_dir / f"real-{stem}-{device.name}.png"),
                full_page=True,
                scale="css",
            )
        opened.assert_clean()


def test_real_fixture_pages_today_refuse_expired_profiles(
    harness: PageHarness, inspections: list[tuple[str, Inspection]]
) -> None:
    opened = harness.open("", IPHONE_SAFARI, csp=CONTENT_SECURITY_POLICY)
    for stem, inspection in inspections:
        opened.show(render_install_page(_context(inspection, while_valid=False)))
        assert opened.page.locator("a[href^='itms-services']").count() == 0, stem
        assert opened.page.locator("#blocked").is_visible(), stem
        opened.assert_clean()
