"""The whole link chain against moto (S3 + Secrets Manager), through the real handler
with API Gateway HTTP API v2 events: mint -> install page -> itms-services link ->
manifest -> signed IPA URL that CloudFront would accept for the right object."""

from __future__ import annotations

import html
import json
import plistlib
import re
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from ipadrop.domain import bucket_keys
from ipadrop.handlers import wiring
from ipadrop.links import tokens
from ipadrop.render.urls import ITMS_SERVICES_PREFIX
from ipadrop_tools.local.cloudfront_verify import SignatureRejected, verify_signed_url
from tests.integration.link_support import (
    BUILD_1,
    BUILD_2,
    BUNDLE,
    DISTRIBUTION_URL,
    Stack,
    ipa_bytes,
    link_stack,
    make_record,
    seed_build,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(
    moto_endpoint: str,
    bucket_name: str,
    cloudfront_keys: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    for opened in link_stack(moto_endpoint, bucket_name, cloudfront_keys, monkeypatch):
        seed_build(opened.s3, bucket_name, make_record(BUNDLE, BUILD_1, version="1.0"))
        yield opened


def path_of(url: str) -> str:
    assert url.startswith(DISTRIBUTION_URL + "/")
    return url[len(DISTRIBUTION_URL) :]


def itms_href(page: str) -> str:
    match = re.search(r'id="install-button" href="([^"]+)"', page)
    assert match, "install page has no install button"
    return html.unescape(match.group(1))


def manifest_assets(stack: Stack, manifest_url: str) -> dict[str, str]:
    response = stack.call("GET", path_of(manifest_url))
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["Content-Type"] == "text/xml"
    assert response["headers"]["Cache-Control"] == "no-store"
    plist = plistlib.loads(response["body"].encode())
    assets = plist["items"][0]["assets"]
    return {asset["kind"]: asset["url"] for asset in assets}


def assert_signed_for(stack: Stack, url: str, bundle_id: str, build_id: str, name: str) -> None:
    now = int(time.time())
    verify_signed_url(url, public_keys=stack.public_keys, now=now)
    parts = urlsplit(url)
    key = bucket_keys.build_file_key(bundle_id, build_id, name)
    assert f"{parts.scheme}://{parts.netloc}" == DISTRIBUTION_URL
    assert parts.path == "/" + key
    expires = int(parse_qs(parts.query)["Expires"][0])
    # Asset URLs live the configured time from the manifest fetch, not from minting.
    assert now + 3600 - 60 <= expires <= now + 3600  # signed during the request just made


def test_whole_chain(stack: Stack) -> None:
    minted = stack.mint(BUILD_1, ttl=7200)
    assert minted["bundle_id"] == BUNDLE
    assert minted["build_id"] == BUILD_1
    assert minted["install_url"].startswith(DISTRIBUTION_URL + "/i/")
    assert minted["manifest_url"].endswith("/manifest.plist")
    assert minted["itms_services_url"].startswith(ITMS_SERVICES_PREFIX)
    assert minted["expires_at"].endswith("Z")
    token = minted["install_url"].rsplit("/", 1)[1]
    assert len(token) < 100

    page = stack.call("GET", path_of(minted["install_url"]))
    assert page["statusCode"] == 200
    headers = page["headers"]
    assert headers["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in headers
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Sample" in page["body"]

    href = itms_href(page["body"])
    assert href == minted["itms_services_url"]
    manifest_url = unquote(href[len(ITMS_SERVICES_PREFIX) :])
    assert manifest_url == minted["manifest_url"]

    assets = manifest_assets(stack, manifest_url)
    assert_signed_for(stack, assets["software-package"], BUNDLE, BUILD_1, bucket_keys.IPA_NAME)
    assert_signed_for(stack, assets["display-image"], BUNDLE, BUILD_1, bucket_keys.ICON_NAME)

    # The signed URL names the object that holds this build's IPA.
    key = urlsplit(assets["software-package"]).path.lstrip("/")
    body = stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    assert body == ipa_bytes(BUNDLE, BUILD_1)

    # A signed URL for another object is not accepted.
    swapped = assets["software-package"].replace(BUILD_1, BUILD_2)
    with pytest.raises(SignatureRejected):
        verify_signed_url(swapped, public_keys=stack.public_keys, now=int(time.time()))


def test_tampered_token_is_forbidden(stack: Stack) -> None:
    minted = stack.mint()
    path = path_of(minted["install_url"])
    token = path.rsplit("/", 1)[1]
    for index in (0, 5, len(token) // 2, len(token) - 2):
        changed = token[:index] + ("B" if token[index] == "A" else "A") + token[index + 1 :]
        for route in (f"/i/{changed}", f"/m/{changed}/manifest.plist"):
            response = stack.call("GET", route)
            assert response["statusCode"] == 403, route
            assert response["headers"]["Content-Type"].startswith("text/html")
            assert "mobile-team@example.com" in response["body"]
    for bad in ("x", "A" * 5000, token + "AAAA"):
        assert stack.call("GET", f"/i/{bad}")["statusCode"] == 403


def test_unknown_key_is_forbidden(stack: Stack) -> None:
    other = tokens.KeyRing(keys={"k9": b"z" * 32}, current="k9")
    now = int(time.time())
    token = tokens.mint_token(
        other, bundle_id=BUNDLE, build_id=BUILD_1, not_before=now, expires_at=now + 60
    )
    assert stack.call("GET", f"/i/{token}")["statusCode"] == 403
    assert stack.call("GET", f"/m/{token}/manifest.plist")["statusCode"] == 403


def test_expired_link_is_gone_with_a_page(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    start = time.time()
    monkeypatch.setattr(wiring, "clock", lambda: start)  # minted at exactly `start`
    minted = stack.mint(ttl=60)
    monkeypatch.setattr(wiring, "clock", lambda: start + 59)
    assert stack.call("GET", path_of(minted["install_url"]))["statusCode"] == 200
    monkeypatch.setattr(wiring, "clock", lambda: start + 61)
    page = stack.call("GET", path_of(minted["install_url"]))
    assert page["statusCode"] == 410
    assert page["headers"]["Content-Type"].startswith("text/html")
    assert "expired" in page["body"].lower()
    assert stack.call("GET", path_of(minted["manifest_url"]))["statusCode"] == 410


def test_not_yet_valid_is_forbidden(stack: Stack) -> None:
    ring = tokens.KeyRing.from_secret_json(
        stack.secrets.get_secret_value(SecretId=stack.token_secret_id)["SecretString"]
    )
    now = int(time.time())
    token = tokens.mint_token(
        ring, bundle_id=BUNDLE, build_id=BUILD_1, not_before=now + 600, expires_at=now + 1200
    )
    assert stack.call("GET", f"/i/{token}")["statusCode"] == 403


def test_revoke_stops_links_at_once(stack: Stack) -> None:
    seed_build(stack.s3, stack.bucket, make_record(BUNDLE, BUILD_2, version="2.0"))
    pinned = stack.mint(BUILD_1)
    latest = stack.mint("latest")
    assert latest["build_id"] == BUILD_2

    response = stack.call("DELETE", f"/apps/{BUNDLE}/builds/{BUILD_1}")
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["revoked_at"].endswith("Z")

    for url in (pinned["install_url"], pinned["manifest_url"]):
        gone = stack.call("GET", path_of(url))
        assert gone["statusCode"] == 410
        assert gone["headers"]["Content-Type"].startswith("text/html")
    # The latest link is unaffected; minting for the revoked build is refused.
    assert stack.call("GET", path_of(latest["install_url"]))["statusCode"] == 200
    refused = stack.call("POST", "/links", body={"bundle_id": BUNDLE, "build": BUILD_1})
    assert refused["statusCode"] == 410
    assert json.loads(refused["body"])["error"] == "revoked"
    # Revoking again is harmless.
    assert stack.call("DELETE", f"/apps/{BUNDLE}/builds/{BUILD_1}")["statusCode"] == 200


def test_latest_follows_a_newer_build(stack: Stack) -> None:
    minted = stack.mint("latest")
    assert minted["build_id"] == BUILD_1
    assets = manifest_assets(stack, minted["manifest_url"])
    assert_signed_for(stack, assets["software-package"], BUNDLE, BUILD_1, bucket_keys.IPA_NAME)

    seed_build(stack.s3, stack.bucket, make_record(BUNDLE, BUILD_2, version="2.0"))
    assets = manifest_assets(stack, minted["manifest_url"])
    assert_signed_for(stack, assets["software-package"], BUNDLE, BUILD_2, bucket_keys.IPA_NAME)
    page = stack.call("GET", path_of(minted["install_url"]))
    assert "2.0" in page["body"]

    # Revoking the newest falls back to the one before.
    stack.call("DELETE", f"/apps/{BUNDLE}/builds/{BUILD_2}")
    assets = manifest_assets(stack, minted["manifest_url"])
    assert_signed_for(stack, assets["software-package"], BUNDLE, BUILD_1, bucket_keys.IPA_NAME)
    stack.call("DELETE", f"/apps/{BUNDLE}/builds/{BUILD_1}")
    assert stack.call("GET", path_of(minted["install_url"]))["statusCode"] == 410


def test_rotation_keeps_old_links_until_the_old_key_is_removed(stack: Stack) -> None:
    old_secret = json.loads(
        stack.secrets.get_secret_value(SecretId=stack.token_secret_id)["SecretString"]
    )["k1"]
    old_link = stack.mint()
    new_secret = secrets.token_urlsafe(32)

    stack.put_token_keys({"current": "k2", "k1": old_secret, "k2": new_secret})
    new_link = stack.mint()
    assert new_link["install_url"] != old_link["install_url"]
    for minted in (old_link, new_link):
        assert stack.call("GET", path_of(minted["install_url"]))["statusCode"] == 200

    stack.put_token_keys({"current": "k2", "k2": new_secret})
    assert stack.call("GET", path_of(old_link["install_url"]))["statusCode"] == 403
    assert stack.call("GET", path_of(new_link["install_url"]))["statusCode"] == 200


def test_long_bundle_id_links_resolve_through_the_apps_index(stack: Stack) -> None:
    bundle_id = "com.example." + "long" * 35  # 152 characters: carried as a digest
    assert bucket_keys.is_valid_bundle_id(bundle_id)
    seed_build(stack.s3, stack.bucket, make_record(bundle_id, BUILD_1, title="Long"))
    minted = stack.mint(BUILD_1, bundle_id=bundle_id)
    assert len(minted["install_url"]) - len(DISTRIBUTION_URL) < 100
    assets = manifest_assets(stack, minted["manifest_url"])
    assert_signed_for(stack, assets["software-package"], bundle_id, BUILD_1, bucket_keys.IPA_NAME)
