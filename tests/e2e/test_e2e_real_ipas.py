"""Every real IPA through the whole local chain, driven by the CLI and an iPhone-like browser.

upload (CLI, its own process) -> S3 event -> SQS -> processor -> result record -> the CLI's
verdict; then for valid builds: link (CLI) -> install page in Chromium as an iPhone ->
the itms-services href -> manifest -> signed IPA URL -> the same bytes that were uploaded.

Which files are valid is decided by the reader on the local file (``inspect_ipa``),
so the chain must agree with the reader on every file, reason code included.

Every real build here carries a provisioning profile that expired years ago (or an
App Store profile), so its page must say why it cannot be installed instead of offering
an Install button that iOS would refuse; the manifest and the signed IPA URL still work
(an operator can check a build). The Install-button path is covered with a generated
IPA whose profile is current (``test_e2e_install_flow.py``).
"""

from __future__ import annotations

import json
import plistlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.sources import LocalFileSource
from tests.conftest import REAL_FIXTURES
from tests.e2e.conftest import RunningStack, http_get

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REAL_IPAS = sorted(p.relative_to(REAL_FIXTURES).as_posix() for p in REAL_FIXTURES.glob("*/*.ipa"))


def _expected(path: Path) -> tuple[str, str]:
    """("published", bundle_id) or ("rejected", reason code), from the reader itself."""
    source = LocalFileSource(path)
    try:
        return "published", inspect_ipa(source).facts.bundle_id
    except IpaRejected as rejected:
        return "rejected", rejected.code
    finally:
        source.close()


def _safe_name(relative: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", relative)


@pytest.mark.parametrize("relative", REAL_IPAS)
def test_real_ipa_publishes_or_is_rejected_with_its_reason(
    relative: str,
    *,
    real_fixtures: Path,
    local_stack: RunningStack,
    iphone: Any,
    e2e_artifacts: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = real_fixtures / relative
    outcome, detail = _expected(path)
    # Keep the original file name (spaces and all): S3 URL-encodes it in the event.
    key_name = f"e2e/{relative}"

    # --skip-check: what the stack itself decides (the CLI's own check comes below).
    status, out, err = local_stack.run(
        capsys, "upload", str(path), "--json", "--key-name", key_name, "--skip-check"
    )
    assert out, err
    result = json.loads(out)
    assert result["upload_key"] == f"uploads/{key_name}"
    assert result["status"] == outcome, result

    if outcome == "rejected":
        assert status == 3
        assert result["reason"] == detail
        assert result["message"]
        # For people, checked before uploading: the same reason in one line, exit 3.
        status, out, err = local_stack.run(capsys, "upload", str(path))
        assert status == 3
        assert err.strip().splitlines() == [
            f"error: rejected ({detail}): {result['message'].rstrip('.')}; nothing was uploaded."
        ]
        return

    # Published; exit 6 when no device could install it (these public fixtures'
    # profiles expired years ago), with the reasons as warnings.
    if result["installable"]:
        assert status == 0, err
    else:
        assert status == 6, err
        assert result["warnings"], result
    assert result["bundle_id"] == detail
    build_id = result["build_id"]

    status, out, err = local_stack.run(
        capsys, "link", detail, "--build", build_id, "--ttl", "2h", "--json"
    )
    assert status == 0, err
    link = json.loads(out)
    assert link["bundle_id"] == detail
    assert link["build_id"] == build_id
    assert link["install_url"].startswith(local_stack.url + "/i/")

    # The tester's iPhone opens the emailed link.
    response = iphone.goto(link["install_url"], wait_until="load")
    assert response.status == 200
    iphone.screenshot(path=str(e2e_artifacts / f"install-{_safe_name(relative)}.png"))
    status, out, _ = local_stack.run(capsys, "builds", detail, "--json")
    assert any(b["build_id"] == build_id for b in json.loads(out)["builds"])
    if iphone.locator("#blocked").count():
        # An expired or App Store profile: the page says why, and offers no Install button.
        reason = iphone.locator("#blocked-reason").inner_text()
        assert "expired" in reason or "App Store" in reason
        assert iphone.locator("#install-button").count() == 0
        manifest_url = link["manifest_url"]
    else:
        button = iphone.locator("#install-button")
        button.wait_for(state="visible")
        href = button.get_attribute("href")
        assert href == link["itms_services_url"]
        manifest_url = parse_qs(urlsplit(href).query)["url"][0]  # unescaped once, as iOS does
        assert manifest_url == link["manifest_url"]

    # iOS's installer fetches the manifest, then the package URL inside it.
    status, headers, body = http_get(manifest_url)
    assert status == 200
    assert headers["content-type"].startswith("text/xml")
    manifest = plistlib.loads(body)
    item = manifest["items"][0]
    assert item["metadata"]["bundle-identifier"] == detail
    package_url = next(a["url"] for a in item["assets"] if a["kind"] == "software-package")
    assert "Signature=" in package_url
    assert "Key-Pair-Id=" in package_url

    status, headers, ipa = http_get(package_url)
    assert status == 200
    assert headers["content-type"] == "application/octet-stream"
    assert ipa == path.read_bytes()
