"""Headless Chromium (Debian's build, never a downloaded one) for page tests.

``PageHarness.open`` serves one HTML document at an https URL through a
Playwright route, with the Content-Security-Policy header the product sends,
and records what would make the page wrong: CSP violations (both the DOM event
and console reports), script errors, and any request other than the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PAGE_URL = "https://apps.example.test/i/tok3n"

_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@dataclass(frozen=True)
class Device:
    name: str
    user_agent: str
    viewport: tuple[int, int]
    scale: float = 2
    mobile: bool = False
    touch: bool = False
    max_touch_points: int = 0  # > 1 is sent over CDP before the page loads (iPadOS)


IPHONE_SAFARI = Device(
    "iphone-safari",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    (390, 844),
    scale=3,
    mobile=True,
    touch=True,
    max_touch_points=5,
)
# iPadOS Safari requests desktop sites: a Mac user agent, but five touch points.
IPAD_AS_MAC = Device(
    "ipad-as-mac",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    (820, 1180),
    touch=True,
    max_touch_points=5,
)
MAC_SAFARI = Device(
    "mac-safari",
    IPAD_AS_MAC.user_agent,
    (1280, 800),
)
DESKTOP_CHROME = Device(
    "desktop-chrome",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    (1280, 860),
    scale=1,
)
ANDROID_CHROME = Device(
    "android-chrome",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    (412, 915),
    scale=2.625,
    mobile=True,
    touch=True,
    max_touch_points=5,
)
GOOGLE_APP_IOS = Device(
    "inapp-google",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) GSA/321.0.648017773 Mobile/15E148 Safari/604.1",
    (390, 844),
    scale=3,
    mobile=True,
    touch=True,
    max_touch_points=5,
)
FACEBOOK_IOS = Device(
    "inapp-facebook",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.38.109;FBBV/612345678;"
    "FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]",
    (390, 844),
    scale=3,
    mobile=True,
    touch=True,
    max_touch_points=5,
)


@dataclass
class OpenedPage:
    page: Any
    context: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    body: str = ""
    loads: int = 0

    def show(self, html: str) -> None:
        """Load another document in the same page (cheaper than a new context)."""
        self.body = html
        self.loads += 1
        self.page.goto(f"{PAGE_URL}?load={self.loads}", wait_until="load")

    def csp_violations(self) -> list[str]:
        events: list[str] = self.page.evaluate("window.__cspViolations || []")
        console = [m for m in self.console_errors if "Content Security Policy" in m]
        return events + console

    def assert_clean(self) -> None:
        """No CSP violation, no script error, no request beyond the page itself."""
        assert self.csp_violations() == []
        assert self.page_errors == []
        assert self.foreign_requests == []


class PageHarness:
    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._contexts: list[Any] = []

    def open(
        self,
        html: str,
        device: Device,
        *,
        csp: str | None,
        color_scheme: str = "light",
        timezone_id: str = "UTC",
        locale: str = "en-GB",
        init_script: str | None = None,
        permissions: list[str] | None = None,
        before_load: Callable[[Any], None] | None = None,
    ) -> OpenedPage:
        """``before_load(page)`` runs just before the first navigation (e.g. to
        install Playwright's fake clock)."""
        context = self._browser.new_context(
            user_agent=device.user_agent,
            viewport={"width": device.viewport[0], "height": device.viewport[1]},
            device_scale_factor=device.scale,
            is_mobile=device.mobile,
            has_touch=device.touch,
            color_scheme=color_scheme,
            timezone_id=timezone_id,
            locale=locale,
        )
        self._contexts.append(context)
        if permissions:
            context.grant_permissions(permissions, origin="https://apps.example.test")
        page = context.new_page()
        opened = OpenedPage(page=page, context=context, body=html)
        page.on(
            "console",
            lambda msg: opened.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: opened.page_errors.append(str(exc)))
        page.add_init_script(_RECORD_VIOLATIONS)
        if init_script:
            page.add_init_script(init_script)

        headers = {"content-type": "text/html; charset=utf-8", "cache-control": "no-store"}
        if csp is not None:
            headers["content-security-policy"] = csp

        def handle(route: Any) -> None:
            if route.request.url.split("?")[0] == PAGE_URL:
                route.fulfill(status=200, headers=headers, body=opened.body)
            else:
                opened.foreign_requests.append(route.request.url)
                route.abort()

        page.route("**/*", handle)
        if device.max_touch_points > 1:
            cdp = context.new_cdp_session(page)
            cdp.send(
                "Emulation.setTouchEmulationEnabled",
                {"enabled": True, "maxTouchPoints": device.max_touch_points},
            )
        if before_load is not None:
            before_load(page)
        page.goto(PAGE_URL, wait_until="load")
        return opened

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def harness(chromium_browser: Any) -> Iterator[PageHarness]:
    pages = PageHarness(chromium_browser)
    try:
        yield pages
    finally:
        pages.close()


@pytest.fixture(scope="session")
def screenshots_dir(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
