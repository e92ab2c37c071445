"""Pre-install diagnosis: build findings, device findings, the result record and
what the install page makes of them (docs/ARCHITECTURE.md, "Devices and
pre-install diagnosis")."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from ipadrop.devices.diagnosis import (
    Finding,
    device_findings,
    diagnose_build,
    in_profile,
    version_tuple,
)
from ipadrop.domain.model import AppFacts, BuildRecord, DeviceRecord
from ipadrop.publishing.results import published_result
from ipadrop.reading.inspector import inspect_ipa, required_capabilities
from ipadrop.reading.profiles import parse_profile
from ipadrop.reading.sources import BytesSource
from ipadrop.render.page import install_blocker, render_install_page
from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes, sample_profile
from tests.render_samples import NOW, context, facts, profile
from tests.unit.test_render_page import Parsed, text_of

LISTED = "00008101-000A1B2C3D4E5F60"
OTHER = "00008030-0011223344556677"


def codes(found: list[Finding]) -> list[str]:
    return [f.code for f in found]


def device(udid: str = LISTED, **changes: object) -> DeviceRecord:
    values: dict[str, object] = {
        "udid": udid,
        "product": "iPhone15,2",
        "ios_version": "17.5",
        "name": "Ann's iPhone",
        "serial": None,
        "email": "ann@example.com",
        "invite_id": None,
        "enrolled_at": "2026-11-24T11:00:00Z",
        "verified": False,
    }
    values.update(changes)
    return DeviceRecord(**values)  # type: ignore[arg-type]


def adhoc(**changes: object) -> AppFacts:
    return facts(
        profile=profile(distribution="ad-hoc", device_count=1, devices=[LISTED], **changes)
    )


@pytest.mark.parametrize(
    ("build", "expected", "installable"),
    [
        (facts(), [], True),
        (facts(profile=None), ["no_profile"], False),
        (facts(profile=profile(distribution="app-store")), ["app_store_profile"], False),
        (facts(profile=profile(expires_at="2026-11-01T00:00:00Z")), ["profile_expired"], False),
        (
            facts(profile=profile(expires_at="2026-12-07T00:00:00Z")),
            ["profile_expires_soon"],
            True,
        ),
        (
            facts(profile=profile(expires_at="2026-12-09T00:00:00Z")),  # 14.5 days: fine
            [],
            True,
        ),
        (
            facts(profile=profile(certificates_expire_at=["2026-01-01T00:00:00Z"])),
            ["certificate_expired"],
            False,
        ),
        (
            facts(
                profile=profile(
                    certificates_expire_at=["2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z"]
                )
            ),
            ["some_certificates_expired"],
            True,
        ),
        (
            facts(profile=profile(certificates_expire_at=["2026-11-30T00:00:00Z"])),
            ["certificate_expires_soon"],
            True,
        ),
    ],
)
def test_build_findings(build: AppFacts, expected: list[str], installable: bool) -> None:
    diagnosis = diagnose_build(build, now=NOW)
    assert codes(list(diagnosis.findings)) == expected
    assert diagnosis.installable is installable
    fields = diagnosis.result_fields()
    assert fields["installable"] is installable
    assert [w["code"] for w in fields["warnings"]] == expected
    assert all(set(w) == {"code", "message"} and w["message"] for w in fields["warnings"])


def test_expired_profile_names_its_time_in_utc_text() -> None:
    (finding,) = diagnose_build(
        facts(profile=profile(expires_at="2026-11-01T08:30:00Z")), now=NOW
    ).findings
    assert finding.at == "2026-11-01T08:30:00Z"
    assert "1 Nov 2026, 08:30 UTC" in finding.message


def test_published_result_tells_ci_an_expired_build_is_not_installable() -> None:
    record = BuildRecord(
        bundle_id="com.acme.field",
        build_id="20261124T002616Z-1a2b3c4d5e",
        facts=facts(profile=profile(expires_at="2026-11-01T00:00:00Z", distribution="ad-hoc")),
        upload_key="uploads/a.ipa",
        uploader=None,
        uploaded_at="2026-11-24T00:26:16Z",
        published_at="2026-11-24T00:26:17Z",
        has_icon=False,
    )
    result = published_result(record, processed_at=NOW)
    assert result["status"] == "published"
    assert result["installable"] is False
    assert result["warnings"][0]["code"] == "profile_expired"
    fine = published_result(replace(record, facts=facts()), processed_at=NOW)
    assert fine["installable"] is True
    assert fine["warnings"] == []


def test_device_in_profile_depends_on_the_kind_of_profile() -> None:
    assert in_profile(adhoc(), LISTED) is True
    assert in_profile(adhoc(), LISTED.lower()) is True
    assert in_profile(adhoc(), OTHER) is False
    assert in_profile(facts(), OTHER) is None  # enterprise: every device
    assert in_profile(facts(profile=None), OTHER) is None


def test_device_findings() -> None:
    assert device_findings(adhoc(), udid=LISTED, product="iPhone15,2", os_version="17.5") == []
    assert codes(device_findings(adhoc(), udid=OTHER)) == ["device_not_in_profile"]
    old = device_findings(facts(minimum_os_version="16.4"), os_version="16.3.1")
    assert codes(old) == ["ios_too_old"]
    assert "iOS 16.4 or later" in old[0].message
    assert device_findings(facts(minimum_os_version="16.4"), os_version="16.4.0") == []
    ipad_only = facts(device_family=["ipad"])
    assert codes(device_findings(ipad_only, product="iPhone15,2")) == ["ipad_only"]
    assert device_findings(ipad_only, product="iPad13,4") == []
    phone_app = replace(facts(), required_capabilities=["telephony", "arm64"])
    assert codes(device_findings(phone_app, product="iPad13,4")) == ["capability_missing"]
    assert device_findings(phone_app, product="iPhone15,2") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("17", (17,)), ("17.0", (17,)), ("16.4.1", (16, 4, 1)), ("x", None), ("1..2", None)],
)
def test_version_tuple(text: str, expected: tuple[int, ...] | None) -> None:
    assert version_tuple(text) == expected


def test_profiles_keep_their_device_udids_outside_the_contract_object() -> None:
    info = parse_profile(sample_profile("ad-hoc", devices=[LISTED.lower(), "not a udid", OTHER]))
    assert info.devices == [LISTED, OTHER]
    assert info.device_count == 3
    assert parse_profile(sample_profile("enterprise")).devices == []
    data = replace(facts(), profile=info).to_json()
    assert "devices" not in data["profile"]
    assert data["profile_devices"] == [LISTED, OTHER]
    assert AppFacts.from_json(data).profile == info


def test_inspector_reads_required_capabilities() -> None:
    assert required_capabilities(["arm64", "telephony", "arm64", 7]) == ["arm64", "telephony"]
    assert required_capabilities({"nfc": True, "gamekit": False}) == ["nfc"]
    assert required_capabilities("arm64") == []
    data = build_ipa_bytes(
        icon=None,
        profile="ad-hoc",
        profile_fields={"devices": [LISTED]},
        info_extra={"UIRequiredDeviceCapabilities": ["telephony"]},
    )
    inspected = inspect_ipa(BytesSource(data)).facts
    assert inspected.required_capabilities == ["telephony"]
    assert inspected.profile is not None
    assert inspected.profile.devices == [LISTED]


def test_expired_certificate_in_a_sample_ipa_is_found() -> None:
    data = build_ipa_bytes(
        icon=None,
        profile_fields={"certificate_expires": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)},
    )
    inspected = inspect_ipa(BytesSource(data)).facts
    assert codes(list(diagnose_build(inspected, now=NOW).findings)) == ["certificate_expired"]


# ------------------------------------------------------------------ the page


def test_a_listed_device_is_told_so_and_keeps_install() -> None:
    parsed = Parsed(render_install_page(context(facts=adhoc(), device=device())))
    assert "install-button" in parsed.ids()
    assert "Ann's iPhone" in text_of(parsed, "device-listed")
    assert "registered-note" not in parsed.ids()


def test_a_device_not_listed_gets_a_reason_instead_of_install() -> None:
    ctx = context(facts=adhoc(), device=device(OTHER))
    parsed = Parsed(render_install_page(ctx))
    assert "install-button" not in parsed.ids()
    assert "install-anyway" not in parsed.ids()
    assert "not registered" in text_of(parsed, "blocked-reason")
    assert OTHER in text_of(parsed, "device-known")
    assert "add your device" in text_of(parsed, "blocked-advice")
    assert install_blocker(ctx) is not None


def test_an_unknown_device_is_offered_the_check() -> None:
    enroll = "https://apps.example.com/d/tok"
    parsed = Parsed(render_install_page(context(facts=adhoc(), enroll_url=enroll)))
    assert "install-button" in parsed.ids()
    links = [a.get("href") for tag, a in parsed.elements if a.get("id") == "enroll-link"]
    assert links == [enroll]
    # An enterprise build installs anywhere: nothing to check.
    plain = Parsed(render_install_page(context(enroll_url=enroll)))
    assert "enroll-link" not in plain.ids()


def test_times_in_findings_are_local_time_elements() -> None:
    html = render_install_page(
        context(facts=facts(profile=profile(expires_at="2026-11-27T00:00:00Z")))
    )
    parsed = Parsed(html)
    assert "27 Nov 2026, 00:00 UTC" in text_of(parsed, "warning-profile_expires_soon")
    assert '<time datetime="2026-11-27T00:00:00Z" data-local>' in html
