"""The devices issue's "Done when" on the local stack, in Chromium: a tester opens
their link, enrolls (the signed answer iOS sends is POSTed to the callback),
lands on a done page that says whether the device is in the profile; their
install page then says the same; a device not listed gets no Install button and
a reason; the team exports the devices in Apple's format; CI sees
``installable: false`` and the warnings for an expired-profile build."""

from __future__ import annotations

import datetime as dt
import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ipadrop.devices.enrollment import challenge_for
from ipadrop_tools.devkit.device_answer import device_answer
from ipadrop_tools.devkit.sample_ipa import build_ipa
from tests.browser.conftest import IPHONE_SAFARI
from tests.e2e.conftest import RunningStack, http_get

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BUNDLE = "com.example.e2e.devices"
LISTED = "00008101-000A1B2C3D4E5F60"
STRANGER = "00008030-0011223344556677"


def _post_answer(url: str, body: bytes) -> tuple[int, str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(
            "POST", parts.path, body=body, headers={"Content-Type": "application/pkcs7-signature"}
        )
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def _iphone_context(chromium_browser: Any) -> Any:
    return chromium_browser.new_context(
        user_agent=IPHONE_SAFARI.user_agent,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )


def test_done_when(
    local_stack: RunningStack, tmp_path: Path, chromium_browser: Any, e2e_artifacts: Path
) -> None:
    stack = local_stack
    ipa = tmp_path / "adhoc.ipa"
    build_ipa(
        ipa,
        bundle_id=BUNDLE,
        title="Devices E2E",
        profile="ad-hoc",
        profile_fields={"devices": [LISTED]},
    )
    published = stack.cli("upload", str(ipa), "--json")
    assert published.returncode == 0, published.stderr
    result = json.loads(published.stdout)
    assert result["installable"] is True
    link = stack.cli("link", BUNDLE, "--json")
    assert link.returncode == 0, link.stderr
    install_url = json.loads(link.stdout)["install_url"]
    token = urlsplit(install_url).path.rsplit("/", 1)[1]
    base = install_url.split("/i/")[0]

    status, headers, body = http_get(f"{base}/d/{token}/enroll.mobileconfig")
    assert status == 200
    assert headers["content-type"] == "application/x-apple-aspen-config"
    assert b"Profile Service" in body

    # The listed device: its own browser, as the tester's iPhone.
    ann = _iphone_context(chromium_browser)
    try:
        page = ann.new_page()
        page.goto(f"{base}/d/{token}")
        assert page.locator("#profile-button").is_visible()
        assert "Not Verified" in page.inner_text("#enroll-steps")
        page.screenshot(path=str(e2e_artifacts / "devices-enroll-page.png"), full_page=True)
        status, location = _post_answer(
            f"{base}/d/{token}/enroll", device_answer(udid=LISTED, challenge=challenge_for(token))
        )
        assert status == 301
        page.goto(location)  # iOS opens the redirect in Safari
        assert page.locator("#done-listed").is_visible()
        assert LISTED in page.inner_text("#done-udid")
        page.screenshot(path=str(e2e_artifacts / "devices-done-listed.png"), full_page=True)
        page.goto(install_url)
        assert page.locator("#device-listed").is_visible()
        assert page.locator("#install-button").is_visible()
    finally:
        ann.close()

    # A device the profile does not list.
    bob = _iphone_context(chromium_browser)
    try:
        page = bob.new_page()
        status, location = _post_answer(
            f"{base}/d/{token}/enroll",
            device_answer(
                udid=STRANGER, device_name="Bob's iPhone", challenge=challenge_for(token)
            ),
        )
        assert status == 301
        page.goto(location)
        assert page.locator("#done-not-listed").is_visible()
        page.screenshot(path=str(e2e_artifacts / "devices-done-not-listed.png"), full_page=True)
        page.goto(install_url)
        assert page.locator("a[href^='itms-services']").count() == 0
        assert "not registered" in page.inner_text("#blocked-reason")
        page.screenshot(path=str(e2e_artifacts / "devices-install-not-listed.png"), full_page=True)
    finally:
        bob.close()

    exported = stack.cli("devices", "--format", "apple")
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert lines[0] == "Device ID\tDevice Name\tDevice Platform"
    assert f"{STRANGER}\tBob's iPhone\tios" in lines
    assert any(line.startswith(f"{LISTED}\t") for line in lines)

    outbox = stack.state_dir / "outbox"
    assert any(STRANGER.encode() in p.read_bytes() for p in outbox.glob("*.eml"))


def test_ci_sees_an_expired_profile(local_stack: RunningStack, tmp_path: Path) -> None:
    ipa = tmp_path / "expired.ipa"
    build_ipa(
        ipa,
        bundle_id=BUNDLE + ".expired",
        title="Expired",
        profile="ad-hoc",
        profile_fields={"expires_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)},
    )
    done = local_stack.cli("upload", str(ipa), "--json")
    assert done.returncode == 6, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "published"
    assert result["installable"] is False
    assert "profile_expired" in [w["code"] for w in result["warnings"]]
    human = local_stack.cli("upload", str(ipa))
    assert human.returncode == 6
    assert "warning: Its provisioning profile expired on 1 Jan 2025" in human.stderr
    allowed = local_stack.cli("upload", str(ipa), "--allow-uninstallable")
    assert allowed.returncode == 0, allowed.stderr
