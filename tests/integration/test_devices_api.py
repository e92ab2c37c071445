"""Device enrollment and the device list through the real link handler, against
moto (S3, Secrets Manager, DynamoDB, SES v2, EventBridge). Hostile answers get a
4xx and change nothing."""

from __future__ import annotations

import base64
import json
import plistlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from ipadrop.adapters.cloudfront_signing import generate_key_pair
from ipadrop.devices.enrollment import MAX_DEVICE_RESPONSE_BYTES, challenge_for
from ipadrop.domain.model import ProfileInfo
from ipadrop_tools.devkit.device_answer import (
    device_answer,
    device_answer_plist,
    device_ca,
    signed_device_answer,
)
from tests.integration.distribution_support import Sent, open_distribution_stack
from tests.integration.link_support import (
    BUILD_1,
    BUNDLE,
    LambdaContext,
    Stack,
    http_event,
    make_record,
    seed_build,
)

pytestmark = pytest.mark.integration

LISTED = "00008101-000A1B2C3D4E5F60"
STRANGER = "00008030-0011223344556677"
TEAM = "team@example.com"
PKCS7 = {"content-type": "application/pkcs7-signature"}


@pytest.fixture(scope="module")
def cloudfront_keys() -> tuple[bytes, bytes]:
    return generate_key_pair()


@pytest.fixture
def world(
    moto_endpoint: str,
    bucket_name: str,
    cloudfront_keys: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Stack, Sent]]:
    from ipadrop.handlers import wiring

    monkeypatch.setenv("IPADROP_TEAM_EMAIL", TEAM)
    with open_distribution_stack(moto_endpoint, bucket_name, cloudfront_keys, monkeypatch) as (
        stack,
        sent,
        _,
    ):
        base = make_record(BUNDLE, BUILD_1)
        assert base.facts.profile is not None
        profile = replace(
            base.facts.profile, distribution="ad-hoc", device_count=1, devices=[LISTED]
        )
        seed_build(
            stack.s3, stack.bucket, replace(base, facts=replace(base.facts, profile=profile))
        )
        wiring.devices.cache_clear()
        try:
            yield stack, sent
        finally:
            wiring.devices.cache_clear()


def call(
    method: str,
    path: str,
    *,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    cookies: list[str] | None = None,
    admin: bool = False,
) -> dict[str, Any]:
    from ipadrop.handlers import link

    event = http_event(method, path, body=body, admin=admin, headers=headers, query=query)
    if query:  # API Gateway parses the query string for the function
        event["queryStringParameters"] = dict(parse_qsl(query))
    if cookies:
        event["cookies"] = cookies
    response: dict[str, Any] = link.handler(event, LambdaContext())
    assert "Traceback" not in str(response.get("body") or "")
    return response


def token_of(stack: Stack) -> str:
    return str(urlsplit(stack.mint()["install_url"]).path.rsplit("/", 1)[1])


def raw_body(response: dict[str, Any]) -> bytes:
    text = response.get("body") or ""
    return base64.b64decode(text) if response.get("isBase64Encoded") else text.encode()


def device_list(stack: Stack) -> list[dict[str, Any]]:
    response = stack.call("GET", "/devices", admin=True)
    assert response["statusCode"] == 200, response["body"]
    devices: list[dict[str, Any]] = json.loads(response["body"])["devices"]
    return devices


def test_profile_page_and_mobileconfig(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    token = token_of(stack)
    page = call("GET", f"/d/{token}")
    assert page["statusCode"] == 200
    assert "Download profile" in page["body"]
    assert "Not Verified" in page["body"]  # unsigned: the page says what iOS shows
    assert "Content-Security-Policy" in page["headers"]

    profile = call("GET", f"/d/{token}/enroll.mobileconfig")
    assert profile["statusCode"] == 200
    assert profile["headers"]["Content-Type"] == "application/x-apple-aspen-config"
    document = plistlib.loads(raw_body(profile))
    assert document["PayloadType"] == "Profile Service"
    content = document["PayloadContent"]
    assert content["URL"].endswith(f"/d/{token}/enroll")
    assert content["URL"].startswith("https://")
    assert content["DeviceAttributes"] == ["UDID", "PRODUCT", "VERSION", "DEVICE_NAME", "SERIAL"]
    assert content["Challenge"] == challenge_for(token)


def test_enrolling_a_listed_device(world: tuple[Stack, Sent]) -> None:
    stack, sent = world
    token = token_of(stack)
    answer = device_answer(udid=LISTED, challenge=challenge_for(token))
    response = call("POST", f"/d/{token}/enroll", body=answer, headers=PKCS7)
    assert response["statusCode"] == 301, response["body"]
    location = response["headers"]["Location"]
    assert location.endswith(f"/d/{token}/done?udid={LISTED}")

    (device,) = device_list(stack)
    assert device["udid"] == LISTED
    assert device["product"] == "iPhone15,2"
    assert device["name"] == "Ann's iPhone"
    assert device["verified"] is False  # no device CA configured
    assert [t for t, _ in sent.events if t.startswith("Device")] == ["Device Enrolled"]

    done = call("GET", f"/d/{token}/done", query=f"udid={LISTED}")
    assert done["statusCode"] == 200
    assert 'id="done-listed"' in done["body"]
    assert any(c.startswith(f"ipadrop_device={LISTED};") for c in done.get("cookies", []))
    assert "Secure" in done["cookies"][0]

    page = call("GET", f"/i/{token}", cookies=[f"ipadrop_device={LISTED}"])
    assert 'id="device-listed"' in page["body"]
    assert 'id="install-button"' in page["body"]


def test_a_device_not_in_the_profile_is_told_and_the_team_too(world: tuple[Stack, Sent]) -> None:
    stack, sent = world
    token = token_of(stack)
    answer = device_answer(
        udid=STRANGER, device_name="Bob's iPad", product="iPad13,4", challenge=challenge_for(token)
    )
    assert call("POST", f"/d/{token}/enroll", body=answer, headers=PKCS7)["statusCode"] == 301
    kinds = [t for t, _ in sent.events if t.startswith("Device")]
    assert kinds == ["Device Enrolled", "Device Not In Profile"]
    assert sent.events[-1][1]["in_profile"] is False
    (mail,) = sent.to(TEAM)
    assert STRANGER in mail.get_content()

    done = call("GET", f"/d/{token}/done", query=f"udid={STRANGER}")
    assert 'id="done-not-listed"' in done["body"]
    page = call("GET", f"/i/{token}", cookies=[f"ipadrop_device={STRANGER}"])
    assert page["statusCode"] == 200
    assert 'id="install-button"' not in page["body"]
    assert 'href="itms-services' not in page["body"]
    assert "not registered" in page["body"]


def _entity_bomb(token: str) -> bytes:
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<plist><dict><key>UDID</key><string>&b;</string><key>CHALLENGE</key><string>"
        + challenge_for(token).encode()
        + b"</string></dict></plist>"
    )
    return signed_device_answer(lol)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("garbage", 400),
        ("empty", 400),
        ("huge", 413),
        ("entity_bomb", 400),
        ("wrong_content_type", 415),
        ("wrong_challenge", 400),
        ("bad_udid", 400),
        ("binary_garbage_in_cms", 400),
    ],
)
def test_hostile_answers_get_a_4xx_and_change_nothing(
    world: tuple[Stack, Sent], name: str, status: int
) -> None:
    stack, sent = world
    token = token_of(stack)
    headers = dict(PKCS7)
    good = device_answer(udid=LISTED, challenge=challenge_for(token))
    body: bytes = {
        "garbage": b"\x30\x82\xff\xffnot DER at all" * 10,
        "empty": b"",
        "huge": b"\x30" + b"\x00" * (MAX_DEVICE_RESPONSE_BYTES + 10),
        "entity_bomb": _entity_bomb(token),
        "wrong_content_type": good,
        "wrong_challenge": device_answer(udid=LISTED, challenge="not-this-link"),
        "bad_udid": device_answer(udid="../../etc/passwd", challenge=challenge_for(token)),
        "binary_garbage_in_cms": signed_device_answer(b"\x00\x01garbage"),
    }[name]
    if name == "wrong_content_type":
        headers = {"content-type": "application/x-www-form-urlencoded"}
    response = call("POST", f"/d/{token}/enroll", body=body, headers=headers)
    assert response["statusCode"] == status, response["body"]
    assert json.loads(response["body"])["error"]
    assert device_list(stack) == []
    assert not [t for t, _ in sent.events if t.startswith("Device")]


def test_a_replayed_answer_is_refused_and_changes_nothing(world: tuple[Stack, Sent]) -> None:
    stack, sent = world
    token = token_of(stack)
    answer = device_answer(udid=LISTED, challenge=challenge_for(token))
    assert call("POST", f"/d/{token}/enroll", body=answer, headers=PKCS7)["statusCode"] == 301
    before = device_list(stack)
    events = len(sent.events)
    replay = call("POST", f"/d/{token}/enroll", body=answer, headers=PKCS7)
    assert replay["statusCode"] == 409
    assert json.loads(replay["body"])["error"] == "replayed"
    assert device_list(stack) == before
    assert len(sent.events) == events


def test_bad_tokens_get_pages_not_enrollment(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    token = token_of(stack)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert call("GET", f"/d/{tampered}")["statusCode"] == 403
    answer = device_answer(udid=LISTED, challenge=challenge_for(tampered))
    assert call("POST", f"/d/{tampered}/enroll", body=answer, headers=PKCS7)["statusCode"] == 403
    assert device_list(stack) == []


def test_dedicated_enrollment_links_and_export(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    created = stack.call("POST", "/enrollments", body={"ttl_seconds": 3600}, admin=True)
    assert created["statusCode"] == 201, created["body"]
    enroll_url = json.loads(created["body"])["enroll_url"]
    token = urlsplit(enroll_url).path.rsplit("/", 1)[1]
    assert len(token) < 200
    assert call("GET", f"/d/{token}")["statusCode"] == 200
    # An enrollment token opens no install page.
    assert call("GET", f"/i/{token}")["statusCode"] == 403
    answer = device_answer(
        udid=STRANGER, device_name="Bob\tthe\nbuilder", challenge=challenge_for(token)
    )
    assert call("POST", f"/d/{token}/enroll", body=answer, headers=PKCS7)["statusCode"] == 301
    done = call("GET", f"/d/{token}/done", query=f"udid={STRANGER}")
    assert 'id="done-recorded"' in done["body"]

    export = stack.call("GET", "/devices", admin=True)
    assert export["statusCode"] == 200
    apple = call("GET", "/devices", query="format=apple", admin=True)
    assert apple["statusCode"] == 200
    assert apple["body"] == (
        f"Device ID\tDevice Name\tDevice Platform\n{STRANGER}\tBob the builder\tios\n"
    )
    assert call("GET", "/devices")["statusCode"] == 403  # admin only


def test_signed_profile_and_verified_devices_when_configured(
    world: tuple[Stack, Sent], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs7

    from ipadrop.handlers import wiring
    from ipadrop_tools.devkit.device_answer import operator_signing_identity

    stack, _ = world
    certificate_pem, key_pem = operator_signing_identity()
    stack.secrets.create_secret(
        Name="enroll-signing",
        SecretString=json.dumps(
            {"certificate_pem": certificate_pem.decode(), "private_key_pem": key_pem.decode()}
        ),
    )
    ca = device_ca()
    stack.secrets.create_secret(Name="device-ca", SecretString=ca.root_pem().decode())
    monkeypatch.setenv("IPADROP_ENROLL_SIGNING_SECRET_ID", "enroll-signing")
    monkeypatch.setenv("IPADROP_DEVICE_CA_SECRET_ID", "device-ca")
    wiring.devices.cache_clear()

    token = token_of(stack)
    assert "Verified" in call("GET", f"/d/{token}")["body"]
    assert "Not Verified" not in call("GET", f"/d/{token}")["body"]
    signed = raw_body(call("GET", f"/d/{token}/enroll.mobileconfig"))
    assert signed[:1] == b"\x30"  # CMS, not a bare plist
    (signer,) = pkcs7.load_der_pkcs7_certificates(signed)[:1]
    assert "Example Corp" in signer.subject.rfc4514_string()
    answer = device_answer(udid=LISTED, challenge=challenge_for(token), ca=ca)
    assert call("POST", f"/d/{token}/enroll", body=answer, headers=PKCS7)["statusCode"] == 301
    assert device_list(stack)[0]["verified"] is True
    other_ca = device_answer(udid=STRANGER, challenge=challenge_for(token), ca=device_ca("rogue"))
    assert call("POST", f"/d/{token}/enroll", body=other_ca, headers=PKCS7)["statusCode"] == 301
    verified = {d["udid"]: d["verified"] for d in device_list(stack)}
    assert verified == {LISTED: True, STRANGER: False}


def test_profile_info_devices_survive_build_json(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    key = f"builds/{BUNDLE}/{BUILD_1}/build.json"
    data = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    assert data["profile_devices"] == [LISTED]
    assert "devices" not in data["profile"]
    assert set(data["profile"]) == set(ProfileInfo.__dataclass_fields__) - {
        "devices",
        "certificates_expire_at",
    }
    assert device_answer_plist()  # the devkit builds plists as iOS does


def test_a_device_not_in_the_profile_is_registered_with_app_store_connect(
    world: tuple[Stack, Sent],
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from ipadrop.adapters.appstore import AppStoreConnect
    from ipadrop.handlers import wiring
    from ipadrop_tools.devkit.fake_appstore import FakeAppStore, fake_app_store

    stack, sent = world
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fake = FakeAppStore(public_key=key.public_key(), key_id="KEY123", issuer_id="iss")
    token = token_of(stack)
    with fake_app_store(fake) as url:
        service = wiring.devices()
        service.registrar = lambda: AppStoreConnect(
            issuer_id="iss", key_id="KEY123", private_key_pem=pem, base_url=url
        )
        listed = device_answer(udid=LISTED, challenge=challenge_for(token))
        assert call("POST", f"/d/{token}/enroll", body=listed, headers=PKCS7)["statusCode"] == 301
        assert fake.devices == {}  # already in the profile: nothing to register
        stranger = device_answer(
            udid=STRANGER, device_name="Bob's iPad", challenge=challenge_for(token)
        )
        assert call("POST", f"/d/{token}/enroll", body=stranger, headers=PKCS7)["statusCode"] == 301
    assert fake.devices[STRANGER]["attributes"]["name"] == "Bob's iPad"
    registered = [d for t, d in sent.events if t == "Device Registered"]
    assert len(registered) == 1
    assert registered[0]["udid"] == STRANGER
    assert registered[0]["apple_device_id"] == fake.devices[STRANGER]["id"]
