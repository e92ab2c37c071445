"""The hostile install pages in a real browser: every corpus string is rendered
(served by the link handler with its own headers) and nothing runs, loads or
navigates because of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from ipadrop.text import clean_text
from tests.hardening.support import HOSTILE, cloudfront_keys, link_stack
from tests.hardening.test_injection import BENIGN, CASES, hostile_values
from tests.integration.link_support import Stack
from tests.integration.processor_support import make_publisher, to_upload_event
from tests.s3_events import put_and_describe

__all__ = ["cloudfront_keys"]

pytestmark = [pytest.mark.integration, pytest.mark.browser]

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ORIGIN = "https://apps.example.test"


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, cloudfront_keys: tuple[bytes, bytes]) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        bucket = f"t-{uuid.uuid4().hex[:20]}"
        yield from link_stack(moto_endpoint, bucket, cloudfront_keys, monkeypatch)


def served_page(stack: Stack, values: dict[str, str], bundle_id: str) -> dict[str, Any]:
    from tests.hardening.support import hostile_ipa

    record = put_and_describe(
        stack.s3,
        stack.bucket,
        f"uploads/{bundle_id}.ipa",
        hostile_ipa(bundle_id=bundle_id, **values),
    )
    outcome = make_publisher(stack.s3, stack.bucket).publish(to_upload_event(record))
    assert outcome.status == "published", outcome.message
    link = stack.mint(build=str(outcome.build_id), bundle_id=bundle_id)
    response = stack.call("GET", urlsplit(link["install_url"]).path)
    assert response["statusCode"] == 200
    return response


def test_hostile_pages_run_nothing_in_chromium(stack: Stack, chromium_browser: Any) -> None:
    """``chromium_browser``: the one shared Chromium of this test process (tests/conftest.py)."""
    context = chromium_browser.new_context(
        user_agent=IPHONE, viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        dialogs: list[str] = []
        errors: list[str] = []
        foreign: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        served: dict[str, Any] = {}

        def handle(route: Any) -> None:
            if route.request.url.startswith(f"{ORIGIN}/i/"):
                route.fulfill(
                    status=served["statusCode"],
                    headers={k.lower(): v for k, v in served["headers"].items()},
                    body=served["body"],
                )
            else:
                foreign.append(route.request.url)
                route.abort()

        page.route("**/*", handle)
        cases = [("com.example.benign", BENIGN)] + [
            (f"com.example.browser{case}", hostile_values(case)) for case in range(CASES)
        ]
        for bundle_id, values in cases:
            served.clear()
            served.update(served_page(stack, values, bundle_id))
            page.goto(f"{ORIGIN}/i/{bundle_id}", wait_until="load")
            page.wait_for_timeout(30)
            assert page.evaluate("typeof window.__pwned") == "undefined", bundle_id
            assert page.locator("#app-title").inner_text() == clean_text(values["title"])
            assert (
                page.locator("#install-button")
                .get_attribute("href")
                .startswith("itms-services://?action=download-manifest&url=")
            )
        assert dialogs == []
        assert foreign == []
        assert errors == [], errors
    finally:
        context.close()
    assert len(HOSTILE) == 2 * CASES
