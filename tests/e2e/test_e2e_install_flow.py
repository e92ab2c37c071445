"""The install flow on the local stack with a generated IPA whose profile is current:
the Install button, its manifest and signed package URL, and everything that must refuse."""

from __future__ import annotations

import contextlib
import io
import json
import plistlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ipadrop.adapters.cloudfront_signing import sign_url
from ipadrop.links.tokens import KeyRing, mint_token
from ipadrop.render.page import content_security_policy
from ipadrop_tools.cli.main import main
from ipadrop_tools.devkit.sample_ipa import build_ipa
from tests.e2e.conftest import (
    RunningStack,
    http_get,
    start_stack,
    stop_stack,
)

pytestmark = pytest.mark.e2e

BUNDLE_ID = "com.example.e2e.flow"


@dataclass(frozen=True)
class Published:
    ipa: Path
    bundle_id: str
    build_id: str
    link: dict[str, Any]


def _cli_json(stack: RunningStack, *args: str) -> Any:
    """``ipadrop ARGS --json`` in this process (module-scoped fixtures cannot use capsys)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main([*args, "--json", "--endpoint", stack.url])
    assert status == 0, buffer.getvalue()
    return json.loads(buffer.getvalue())


@pytest.fixture(scope="module")
def published(local_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Published:
    ipa = tmp_path_factory.mktemp("flow") / "Flow App.ipa"
    build_ipa(ipa, bundle_id=BUNDLE_ID, title="Flow & <Friends>", version="2.1", build="7")
    result = _cli_json(local_stack, "upload", str(ipa))
    assert result["status"] == "published", result
    link = _cli_json(local_stack, "link", BUNDLE_ID, "--build", "latest", "--ttl", "1h")
    assert link["build_id"] == result["build_id"]
    return Published(ipa, BUNDLE_ID, result["build_id"], link)


def _package_url(manifest_url: str) -> str:
    status, headers, body = http_get(manifest_url)
    assert status == 200
    assert headers["content-type"].startswith("text/xml")
    assert headers["cache-control"] == "no-store"
    assets = plistlib.loads(body)["items"][0]["assets"]
    return str(next(a["url"] for a in assets if a["kind"] == "software-package"))


@pytest.mark.browser
def test_iphone_finds_install_and_the_chain_returns_the_uploaded_bytes(
    published: Published, iphone: Any, e2e_artifacts: Path
) -> None:
    response = iphone.goto(published.link["install_url"], wait_until="load")
    assert response.status == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["strict-transport-security"].startswith("max-age=63072000")
    assert response.headers["content-security-policy"] == content_security_policy()
    button = iphone.locator("#install-button")
    button.wait_for(state="visible")
    assert "Flow & <Friends>" in iphone.locator("#app-title").inner_text()  # escaped, shown
    iphone.screenshot(path=str(e2e_artifacts / "flow-iphone-install.png"), full_page=True)

    href = button.get_attribute("href")
    assert href.startswith("itms-services://?action=download-manifest&url=")
    manifest_url = parse_qs(urlsplit(href).query)["url"][0]
    assert manifest_url == published.link["manifest_url"]

    status, headers, ipa = http_get(_package_url(manifest_url))
    assert status == 200
    assert headers["content-type"] == "application/octet-stream"
    assert ipa == published.ipa.read_bytes()


def test_ranged_download_returns_the_requested_bytes(published: Published) -> None:
    url = _package_url(published.link["manifest_url"])
    status, headers, part = http_get(url, {"Range": "bytes=100-199"})
    assert status == 206
    assert headers["content-range"] == f"bytes 100-199/{published.ipa.stat().st_size}"
    assert part == published.ipa.read_bytes()[100:200]


def _with_param(url: str, name: str, value: str) -> str:
    base, _, query = url.partition("?")
    pairs = [p if not p.startswith(name + "=") else f"{name}={value}" for p in query.split("&")]
    return base + "?" + "&".join(pairs)


def test_tampered_or_unsigned_package_urls_are_403(published: Published) -> None:
    url = _package_url(published.link["manifest_url"])
    signature = parse_qs(urlsplit(url).query)["Signature"][0]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
    other_file = url.replace("/app.ipa?", "/build.json?")
    for bad in (
        _with_param(url, "Signature", flipped),
        _with_param(url, "Expires", str(expires + 3600)),  # a longer life is not signed
        _with_param(url, "Key-Pair-Id", "KUNKNOWNKEY123"),
        other_file,  # the signature covers one URL only
        url.split("?")[0],
    ):
        status, headers, body = http_get(bad)
        assert status == 403, bad
        assert headers["content-type"] == "text/xml"
        assert b"<Error>" in body
    assert http_get(url)[0] == 200  # the untouched URL still works


def test_a_host_header_cannot_bend_a_signed_url_to_another_object(
    published: Published, local_stack: RunningStack
) -> None:
    url = _package_url(published.link["manifest_url"])
    other = url.split("?")[0].replace("/app.ipa", "/build.json") + "?" + url.split("?")[1]
    # The signature covers app.ipa; "<signed url>#" as Host once made build.json pass.
    host = url.removeprefix("http://") + "#"
    status, _, body = http_get(other, {"Host": host})
    assert status == 403
    assert b"bundle_id" not in body
    # A rebinding name is refused too, whatever the path.
    assert http_get(url, {"Host": "evil.example"})[0] == 403
    assert http_get(url)[0] == 200


def test_head_and_a_trailing_slash_give_the_install_page(published: Published) -> None:
    import urllib.request

    url = published.link["install_url"]
    status, headers, body = http_get(url + "/")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert b"<html" in body.lower()
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.read() == b""


def test_a_signed_url_past_its_expiry_is_403(
    published: Published, local_stack: RunningStack
) -> None:
    state = local_stack.settings
    private_pem = (local_stack.state_dir / "cloudfront_private_key.pem").read_bytes()
    url = f"{local_stack.url}/builds/{published.bundle_id}/{published.build_id}/app.ipa"
    expired = sign_url(
        url,
        key_pair_id=state["cloudfront_key_pair_id"],
        private_key_pem=private_pem,
        expires_at=int(time.time()) - 1,
    )
    assert http_get(expired)[0] == 403
    fresh = sign_url(
        url,
        key_pair_id=state["cloudfront_key_pair_id"],
        private_key_pem=private_pem,
        expires_at=int(time.time()) + 60,
    )
    assert http_get(fresh)[0] == 200


@pytest.mark.browser
def test_an_expired_link_is_a_410_page(
    published: Published, local_stack: RunningStack, iphone: Any, e2e_artifacts: Path
) -> None:
    ring = KeyRing.from_secret_json(json.dumps(local_stack.settings["token_keys"]))
    now = int(time.time())
    token = mint_token(
        ring,
        bundle_id=published.bundle_id,
        build_id=published.build_id,
        not_before=now - 7200,
        expires_at=now - 3600,
    )
    response = iphone.goto(f"{local_stack.url}/i/{token}", wait_until="load")
    assert response.status == 410
    assert "expired" in iphone.locator("h1").inner_text().lower()
    assert iphone.locator("#install-button").count() == 0
    iphone.screenshot(path=str(e2e_artifacts / "flow-expired-link.png"), full_page=True)
    assert http_get(f"{local_stack.url}/m/{token}/manifest.plist")[0] == 410


def test_a_tampered_link_is_403(published: Published) -> None:
    install_url = published.link["install_url"]
    token = install_url.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    status, headers, _ = http_get(install_url.replace(token, tampered))
    assert status == 403
    assert headers["content-type"].startswith("text/html")


@pytest.mark.browser
def test_desktop_shows_the_qr_code_instead_of_install(
    published: Published, desktop: Any, e2e_artifacts: Path
) -> None:
    response = desktop.goto(published.link["install_url"], wait_until="load")
    assert response.status == 200
    qr = desktop.locator("#elsewhere-panel .qr svg")
    qr.wait_for(state="visible")
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 100
    assert not desktop.locator("#install-button").is_visible()
    desktop.screenshot(path=str(e2e_artifacts / "flow-desktop-qr.png"), full_page=True)


def test_admin_api_lists_and_unknown_paths_are_api_gateway_404s(
    published: Published, local_stack: RunningStack
) -> None:
    apps = _cli_json(local_stack, "apps")["apps"]
    assert any(app["bundle_id"] == published.bundle_id for app in apps)
    status, _, body = http_get(f"{local_stack.url}/no/such/route")
    assert status == 404
    assert json.loads(body) == {"message": "Not Found"}
    status, _, body = http_get(f"{local_stack.url}/_local/config")
    assert status == 200
    assert json.loads(body)["bucket"] == local_stack.settings["bucket"]


def test_a_revoked_build_stops_its_links_and_downloads(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    ipa = tmp_path / "revoke-me.ipa"
    build_ipa(ipa, bundle_id="com.example.e2e.revoke", title="Revoke Me")
    build_id = _cli_json(local_stack, "upload", str(ipa))["build_id"]
    link = _cli_json(local_stack, "link", "com.example.e2e.revoke", "--build", build_id)
    package = _package_url(link["manifest_url"])
    assert http_get(package)[0] == 200

    revoked = _cli_json(local_stack, "revoke", "com.example.e2e.revoke", build_id, "--yes")
    assert revoked["revoked_at"]
    assert revoked["changed"] is True
    again = local_stack.cli("revoke", "com.example.e2e.revoke", build_id, "--yes")
    assert again.returncode == 0
    assert "already revoked" in again.stdout
    assert http_get(link["install_url"])[0] == 410
    assert http_get(package)[0] in (403, 404)  # the package itself is gone


def test_a_file_that_is_not_an_ipa_is_refused_before_it_is_uploaded(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    bogus = tmp_path / "Notes.ipa"
    bogus.write_text("these are meeting notes, not an app")
    result = local_stack.cli("upload", str(bogus))
    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: rejected (not_a_zip): ")
    assert lines[0].endswith("; nothing was uploaded.")


def test_a_rejection_by_the_stack_exits_3_and_is_one_line_in_its_log(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    bogus = tmp_path / "Minutes.ipa"
    bogus.write_text("these are minutes, not an app")
    result = local_stack.cli("upload", str(bogus), "--skip-check")
    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: rejected (not_a_zip): ")
    assert "Traceback" not in result.stderr
    deadline = time.monotonic() + 10
    while "/Minutes.ipa: rejected (not_a_zip): " not in local_stack.log_path.read_text():
        assert time.monotonic() < deadline, local_stack.log_path.read_text()
        time.sleep(0.1)
    log = local_stack.log_path.read_text()
    assert '"level"' not in log  # no raw JSON from the handlers without --verbose


def test_publish_sample_prints_a_working_link_within_seconds(
    tmp_path: Path, e2e_artifacts: Path, worker_id: str
) -> None:
    """The README's first command (`make demo` runs exactly this, on port 8080)."""
    log_path = e2e_artifacts / f"publish-sample-{worker_id}.log"
    started = time.monotonic()
    process = start_stack(tmp_path / "state", log_path, "--publish-sample")
    try:
        install_url = None
        while time.monotonic() - started < 60 and process.poll() is None:
            for line in log_path.read_text().splitlines():
                if line.strip().startswith("Install page"):
                    install_url = line.split()[-1]
            if install_url:
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        assert install_url, log_path.read_text()
        assert elapsed < 30, f"took {elapsed:.1f} s"
        status, _, page = http_get(install_url)
        assert status == 200
        assert b"ipadrop Sample" in page
        text = log_path.read_text()
        assert "itms-services://?action=download-manifest&url=" in text
        assert "real iPhone or iPad cannot install from this local stack" in text
    finally:
        exit_status = stop_stack(process)
    assert exit_status == 0


@pytest.mark.slow
def test_a_large_ipa_goes_up_in_parts_and_comes_back_whole(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    from ipadrop_tools.cli.remote.target import MULTIPART_THRESHOLD, local_target
    from ipadrop_tools.cli.remote.upload import upload_and_wait, upload_key_for

    ipa = tmp_path / "Large.ipa"
    build_ipa(
        ipa,
        bundle_id="com.example.e2e.large",
        title="Large",
        padding_bytes=MULTIPART_THRESHOLD + 3 * 1024 * 1024,  # streamed, before Info.plist
    )
    target = local_target(local_stack.url)
    key = upload_key_for(ipa, target.drop_prefix, None)
    parts: list[str] = []
    target.s3.meta.events.register(
        "before-call.s3.UploadPart", lambda **kwargs: parts.append(kwargs["model"].name)
    )
    sent: list[int] = []
    outcome = upload_and_wait(target, ipa, key, timeout=120, progress=sent.append)
    assert sum(sent) == ipa.stat().st_size  # the progress bar sees every byte
    assert len(parts) == 2  # multipart: 16 MiB parts
    result = outcome.result or {}
    assert result.get("status") == "published", result

    link = _cli_json(local_stack, "link", "com.example.e2e.large", "--build", result["build_id"])
    package = _package_url(link["manifest_url"])
    status, _, body = http_get(package)
    assert status == 200
    assert body == ipa.read_bytes()
