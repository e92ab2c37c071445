"""Link-expired, revoked, not-found and forbidden pages in Chromium under the CSP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ipadrop.render.page import (
    CONTENT_SECURITY_POLICY,
    render_expired_page,
    render_forbidden_page,
    render_not_found_page,
)
from tests.browser.conftest import DESKTOP_CHROME, IPHONE_SAFARI, PageHarness

pytestmark = pytest.mark.browser

PAGES: dict[str, tuple[Callable[[], str], str, str]] = {
    "expired": (
        lambda: render_expired_page(
            contact="qa@acme.example", title="Field Notes", expired_at="2026-11-24T09:30:00Z"
        ),
        "This install link has expired",
        "Ask qa@acme.example for a new link.",
    ),
    "revoked": (
        lambda: render_expired_page(contact="Dana", title="Field Notes", reason="revoked"),
        "This build is no longer available",
        "Ask Dana for a link to a current build.",
    ),
    "not-found": (render_not_found_page, "Nothing here", "Ask the person who sent you this link"),
    "forbidden": (
        lambda: render_forbidden_page(contact="Dana"),
        "This link isn’t valid",
        "Ask Dana for a new link if it still fails.",
    ),
}


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_message_pages(harness: PageHarness, screenshots_dir: Path, kind: str) -> None:
    render, heading, ask = PAGES[kind]
    html = render()
    for device, scheme in ((IPHONE_SAFARI, "light"), (DESKTOP_CHROME, "dark")):
        opened = harness.open(
            html,
            device,
            csp=CONTENT_SECURITY_POLICY,
            color_scheme=scheme,
            timezone_id="Europe/Paris",
        )
        page = opened.page
        assert page.inner_text("h1") == heading
        assert ask in page.inner_text("#message")
        assert page.locator("a[href^='itms-services']").count() == 0
        if kind == "expired":
            # 09:30 UTC is 10:30 in Paris in November.
            assert "stopped working on 24 Nov 2026, 10:30" in page.inner_text("#message")
            assert page.get_attribute("#message a", "href") == "mailto:qa@acme.example"
        page.screenshot(
            path=str(screenshots_dir / f"message-{kind}-{device.name}-{scheme}.png"), scale="css"
        )
        opened.assert_clean()
