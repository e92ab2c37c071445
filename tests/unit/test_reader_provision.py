"""Provisioning profiles: envelopes, distribution kinds, certificate expiry."""

from __future__ import annotations

import datetime as dt
import plistlib

import pytest

from ipadrop.reading.profiles import ProfileError, classify_distribution, parse_profile
from ipadrop_tools.devkit.sample_profile import (
    SAMPLE_CERT_EXPIRES,
    SAMPLE_PROFILE_EXPIRES,
    profile_plist,
    sample_profile,
)

KINDS = ["enterprise", "ad-hoc", "development", "app-store"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("envelope", ["cms", "xml", "binary"])
def test_every_kind_in_every_envelope(kind: str, envelope: str) -> None:
    data = sample_profile(kind, envelope=envelope, device_count=7, team_id="TEAM123456")  # type: ignore[arg-type]
    if envelope == "cms":
        assert data[:1] == b"\x30"
        assert b"<plist" in data
    info = parse_profile(data)
    assert info.distribution == kind
    assert info.device_count == (7 if kind in ("ad-hoc", "development") else 0)
    assert info.team_id == "TEAM123456"
    assert info.team_name == "Example Corp"
    assert info.expires_at == SAMPLE_PROFILE_EXPIRES.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert info.certificates_expire_at == [SAMPLE_CERT_EXPIRES.strftime("%Y-%m-%dT%H:%M:%SZ")]


def test_stray_bytes_before_the_xml() -> None:
    xml = sample_profile("ad-hoc", envelope="xml", name="Stray")
    info = parse_profile(b"\x01\x02junk\n" + xml + b"\n\x00trailer")
    assert (info.name, info.distribution) == ("Stray", "ad-hoc")


def test_damaged_cms_still_yields_the_plist_inside() -> None:
    data = bytearray(sample_profile("development"))
    data[4:8] = b"\xff\xff\xff\xff"  # break the DER header
    assert parse_profile(bytes(data)).distribution == "development"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ProvisionsAllDevices": True}, "enterprise"),
        ({"ProvisionsAllDevices": True, "ProvisionedDevices": ["a"]}, "enterprise"),
        ({"ProvisionedDevices": ["a"], "Entitlements": {"get-task-allow": True}}, "development"),
        ({"ProvisionedDevices": ["a"], "Entitlements": {"get-task-allow": False}}, "ad-hoc"),
        ({"ProvisionedDevices": ["a"]}, "ad-hoc"),
        ({"ProvisionedDevices": [], "Entitlements": {"get-task-allow": True}}, "app-store"),
        ({"Entitlements": {"get-task-allow": True}}, "app-store"),
        ({"ProvisionsAllDevices": "yes"}, "app-store"),
        ({}, "app-store"),
    ],
)
def test_classification_rules(fields: dict[str, object], expected: str) -> None:
    assert classify_distribution(fields) == expected


def test_hostile_values_are_cleaned_and_bad_certificates_skipped() -> None:
    document = profile_plist("ad-hoc", name="Evil\x1b[31m name\n", team_name="T\u2028N")
    document["DeveloperCertificates"].append(b"not a certificate")
    document["ExpirationDate"] = "tomorrow"
    info = parse_profile(plistlib.dumps(document, fmt=plistlib.FMT_BINARY))
    assert info.name == "Evil[31m name"
    assert info.team_name == "TN"
    assert info.expires_at is None
    assert len(info.certificates_expire_at) == 1


def test_timezone_is_utc() -> None:
    document = profile_plist("app-store", expires_at=dt.datetime(2031, 2, 3, 4, 5, 6))
    assert parse_profile(plistlib.dumps(document)).expires_at == "2031-02-03T04:05:06Z"


@pytest.mark.parametrize("data", [b"", b"hello", b"\x30\x03\x02\x01\x00", b"bplist00xx"])
def test_garbage(data: bytes) -> None:
    with pytest.raises(ProfileError):
        parse_profile(data)
