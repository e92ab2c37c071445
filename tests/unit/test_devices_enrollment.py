"""Enrollment core: the profile we hand out and the device answers we accept
(docs/ARCHITECTURE.md, "Devices and pre-install diagnosis")."""

from __future__ import annotations

import plistlib

import pytest
from cryptography.hazmat.primitives.serialization import pkcs7

from ipadrop.devices.enrollment import (
    EnrollmentRejected,
    build_mobileconfig,
    check_content_type,
    parse_device_response,
    sign_mobileconfig,
    verify_signature,
)
from ipadrop.devices.export import APPLE_HEADER, apple_device_file
from ipadrop_tools.devkit.device_answer import (
    SAMPLE_UDID,
    device_answer,
    device_answer_plist,
    device_ca,
    operator_signing_identity,
    signed_device_answer,
)


def test_the_profile_asks_for_the_device_attributes() -> None:
    data = build_mobileconfig(
        callback_url="https://apps.example.com/d/tok/enroll",
        challenge="c0ffee",
        organization="Acme <QA>",
        identifier_seed="tok",
    )
    document = plistlib.loads(data)
    assert document["PayloadType"] == "Profile Service"
    assert document["PayloadVersion"] == 1
    assert document["PayloadContent"] == {
        "URL": "https://apps.example.com/d/tok/enroll",
        "DeviceAttributes": ["UDID", "PRODUCT", "VERSION", "DEVICE_NAME", "SERIAL"],
        "Challenge": "c0ffee",
    }
    assert b"Acme &lt;QA&gt;" in data  # escaped by plistlib
    again = build_mobileconfig(
        callback_url="x", challenge="c", organization="o", identifier_seed="tok"
    )
    assert plistlib.loads(again)["PayloadUUID"] == document["PayloadUUID"]


def test_signing_wraps_the_profile_in_cms() -> None:
    certificate, key = operator_signing_identity()
    document = build_mobileconfig(
        callback_url="u", challenge="c", organization="o", identifier_seed="s"
    )
    signed = sign_mobileconfig(document, certificate_pem=certificate, key_pem=key)
    assert signed[:1] == b"\x30"
    assert document in signed  # the content travels inside
    (signer,) = pkcs7.load_der_pkcs7_certificates(signed)
    assert "profile signing" in signer.subject.rfc4514_string()


def test_a_device_answer_is_read() -> None:
    answer = parse_device_response(device_answer(challenge="abc", udid=SAMPLE_UDID.lower()))
    assert answer.udid == SAMPLE_UDID
    assert answer.product == "iPhone15,2"
    assert answer.version == "21F90"
    assert answer.device_name == "Ann's iPhone"
    assert answer.serial == "F2LXK0ABCDEF"
    assert answer.challenge == "abc"
    assert len(answer.digest) == 64


def test_fields_that_do_not_look_right_are_dropped() -> None:
    body = signed_device_answer(
        device_answer_plist(
            product="<script>", version="1" * 40, serial="x", device_name="\u202eevil\n"
        )
    )
    answer = parse_device_response(body)
    assert answer.product is None
    assert answer.version is None
    assert answer.serial is None
    assert answer.device_name == "evil"


def _deep(levels: int) -> bytes:
    return (
        b"<plist><dict><key>UDID</key><string>"
        + SAMPLE_UDID.encode()
        + b"</string><key>X</key>"
        + b"<array>" * levels
        + b"</array>" * levels
        + b"</dict></plist>"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty"),
        (b"hello", "not_cms"),
        (b"\x30\x03\x02\x01\x01", "not_cms"),
        (b"\x30" * (64 * 1024 + 1), "too_large"),
        (signed_device_answer(b"<plist><string>x</string></plist>"), "bad_plist"),
        (signed_device_answer(_deep(50)), "bad_plist"),
        (
            signed_device_answer(
                b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b"<plist><dict><key>UDID</key><string>&e;</string></dict></plist>"
            ),
            "bad_plist",
        ),
        (signed_device_answer(plistlib.dumps({"UDID": 7})), "bad_udid"),
        (signed_device_answer(plistlib.dumps({"PRODUCT": "iPhone15,2"})), "bad_udid"),
        (signed_device_answer(plistlib.dumps({f"k{i}": i for i in range(100)})), "bad_plist"),
    ],
    ids=[
        "empty",
        "text",
        "tiny-der",
        "huge",
        "not-a-dict",
        "deep",
        "external-entity",
        "udid-type",
        "no-udid",
        "many-nodes",
    ],
)
def test_hostile_answers_are_refused(body: bytes, code: str) -> None:
    with pytest.raises(EnrollmentRejected) as refused:
        parse_device_response(body)
    assert refused.value.code == code
    assert refused.value.message


def test_content_types() -> None:
    check_content_type("application/pkcs7-signature")
    check_content_type("application/pkcs7-signature; charset=binary")
    for wrong in (None, "", "text/xml", "application/json"):
        with pytest.raises(EnrollmentRejected):
            check_content_type(wrong)


def test_signature_chain_is_verified_against_configured_anchors() -> None:
    ca = device_ca()
    body = device_answer(ca=ca)
    assert verify_signature(body, anchors=[ca.root_der()])
    assert not verify_signature(body, anchors=[])
    assert not verify_signature(body, anchors=[device_ca("other").root_der()])
    # Content swapped after signing: the digest no longer matches.
    tampered = body.replace(b"Ann's iPhone", b"Eve's iPhone")
    assert tampered != body
    assert not verify_signature(tampered, anchors=[ca.root_der()])
    assert not verify_signature(b"garbage", anchors=[ca.root_der()])


def test_apple_import_file() -> None:
    text = apple_device_file(
        [
            {"udid": "A" * 40, "name": "Ann\tiPhone\n", "product": "iPhone15,2"},
            {"udid": SAMPLE_UDID, "name": None, "product": "iPad13,4"},
            {"udid": "", "name": "skipped"},
        ]
    )
    assert text.splitlines() == [
        APPLE_HEADER,
        f"{'A' * 40}\tAnn iPhone\tios",
        f"{SAMPLE_UDID}\tiPad13,4\tios",
    ]
