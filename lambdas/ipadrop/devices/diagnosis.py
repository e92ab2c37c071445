"""Pre-install diagnosis: what a build (and, when known, a device) can be checked
for before anyone taps Install. Pure: facts and a clock in, findings out.

The same findings feed the result record (``installable`` and ``warnings``, so a
build system learns at upload time what a tester would learn at install time)
and the install page (a blocker replaces the Install button, a warning sits
above it). See docs/ARCHITECTURE.md, "Devices and pre-install diagnosis".

Codes (stable; build systems match on them):

  build level   app_store_profile, profile_expired, no_profile, certificate_expired (blockers);
                profile_expires_soon, certificate_expires_soon, some_certificates_expired (warnings)
  device level  device_not_in_profile, ios_too_old, ipad_only, capability_missing (blockers)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from ipadrop.domain.model import AppFacts
from ipadrop.settings import EXPIRY_WARNING_DAYS
from ipadrop.text import format_utc, parse_iso_time

Severity = Literal["blocker", "warning"]

# Capabilities an iPhone or iPad of a given product may lack. Only the ones that
# decide an install on devices still in use: most others (armv7, arm64, metal,
# wifi...) every supported device has. Product prefixes from Apple's model ids.
_CAPABILITY_MISSING_ON: dict[str, tuple[str, ...]] = {
    "telephony": ("iPad", "iPod"),
    "sms": ("iPad", "iPod"),
    "healthkit": ("iPad", "iPod"),
    "nfc": ("iPad", "iPod"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str  # one sentence; a time in it is written with ``text.format_utc``
    severity: Severity
    at: str | None = None  # the ISO time the message mentions (pages show it in local time)

    @property
    def blocks(self) -> bool:
        return self.severity == "blocker"

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Diagnosis:
    findings: tuple[Finding, ...]

    @property
    def installable(self) -> bool:
        return not any(f.blocks for f in self.findings)

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.blocks]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocks]

    def with_findings(self, more: Iterable[Finding]) -> Diagnosis:
        return Diagnosis(self.findings + tuple(more))

    def result_fields(self) -> dict[str, Any]:
        """``installable`` and ``warnings`` for the result record: every finding,
        blockers first, as ``{"code", "message"}``."""
        ordered = self.blockers + self.warnings
        return {"installable": self.installable, "warnings": [f.to_json() for f in ordered]}


def diagnose_build(facts: AppFacts, *, now: datetime) -> Diagnosis:
    """Findings that hold for every device: the profile and its certificates."""
    profile = facts.profile
    if profile is None:
        return Diagnosis(
            (
                Finding(
                    "no_profile",
                    "The build carries no provisioning profile ipadrop could read; "
                    "iOS installs only builds signed with one.",
                    "blocker",
                ),
            )
        )
    findings: list[Finding] = []
    soon = now + timedelta(days=EXPIRY_WARNING_DAYS)
    if profile.distribution == "app-store":
        findings.append(
            Finding(
                "app_store_profile",
                "The build is signed for App Store submission; iOS installs such builds "
                "only through the App Store or TestFlight.",
                "blocker",
            )
        )
    expires = parse_iso_time(profile.expires_at)
    if expires is not None and expires <= now:
        findings.append(
            Finding(
                "profile_expired",
                f"Its provisioning profile expired on {format_utc(profile.expires_at)}; "
                "iOS refuses to install or open it.",
                "blocker",
                at=profile.expires_at,
            )
        )
    elif expires is not None and expires < soon:
        findings.append(
            Finding(
                "profile_expires_soon",
                f"Its provisioning profile expires on {format_utc(profile.expires_at)}; "
                "after that the app will no longer open.",
                "warning",
                at=profile.expires_at,
            )
        )
    findings.extend(_certificate_findings(profile.certificates_expire_at, now=now, soon=soon))
    return Diagnosis(tuple(findings))


def _certificate_findings(expiries: list[str], *, now: datetime, soon: datetime) -> list[Finding]:
    times = [(t, parse_iso_time(t)) for t in expiries]
    known = [(text, when) for text, when in times if when is not None]
    if not known:
        return []
    expired = [text for text, when in known if when <= now]
    if len(expired) == len(known):
        last = max(known, key=lambda item: item[1])[0]
        return [
            Finding(
                "certificate_expired",
                f"Its signing certificate expired on {format_utc(last)}; "
                "iOS refuses to install or open it.",
                "blocker",
                at=last,
            )
        ]
    findings: list[Finding] = []
    if expired:
        findings.append(
            Finding(
                "some_certificates_expired",
                "Some of the certificates its profile names have expired; if the build was "
                "signed with one of them, iOS will refuse it.",
                "warning",
            )
        )
    latest_text, latest = max(known, key=lambda item: item[1])
    if latest < soon:
        findings.append(
            Finding(
                "certificate_expires_soon",
                f"Its signing certificate expires on {format_utc(latest_text)}; "
                "after that the app will no longer open.",
                "warning",
                at=latest_text,
            )
        )
    return findings


# ------------------------------------------------------------------ device level


def in_profile(facts: AppFacts, udid: str) -> bool | None:
    """Whether the profile lets this device install: None when that does not
    depend on the device (enterprise, App Store, no profile)."""
    profile = facts.profile
    if profile is None or profile.distribution not in ("ad-hoc", "development"):
        return None
    return udid.strip().upper() in {d.upper() for d in profile.devices}


def device_findings(
    facts: AppFacts,
    *,
    udid: str | None = None,
    product: str | None = None,
    os_version: str | None = None,
) -> list[Finding]:
    """Findings for one known device (an enrolled one: UDID, product like
    ``iPhone15,2``, iOS version). The page repeats the OS and family checks in
    the browser from the user agent, for devices it knows nothing else about."""
    findings: list[Finding] = []
    if udid and in_profile(facts, udid) is False:
        findings.append(
            Finding(
                "device_not_in_profile",
                "This device is not registered in the build's provisioning profile, "
                "so iOS will refuse to install it.",
                "blocker",
            )
        )
    if os_version and facts.minimum_os_version:
        have, need = version_tuple(os_version), version_tuple(facts.minimum_os_version)
        if have and need and have < need:
            findings.append(
                Finding(
                    "ios_too_old",
                    f"This build needs iOS {facts.minimum_os_version} or later; "
                    f"this device runs iOS {os_version}.",
                    "blocker",
                )
            )
    kind = _product_kind(product)
    if kind == "iPhone" and facts.device_family and "iphone" not in facts.device_family:
        findings.append(
            Finding(
                "ipad_only",
                "This app is made for iPad only and will not install on iPhone.",
                "blocker",
            )
        )
    if kind is not None:
        for capability in facts.required_capabilities:
            if kind in _CAPABILITY_MISSING_ON.get(capability.lower(), ()):
                findings.append(
                    Finding(
                        "capability_missing",
                        f"This app requires {capability}, which an {kind} does not have.",
                        "blocker",
                    )
                )
    return findings


def version_tuple(text: str) -> tuple[int, ...] | None:
    parts = text.strip().split(".")
    if not parts or len(parts) > 4 or not all(p.isdigit() and len(p) <= 4 for p in parts):
        return None
    numbers = [int(p) for p in parts]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def _product_kind(product: str | None) -> str | None:
    if not product:
        return None
    for kind in ("iPhone", "iPad", "iPod"):
        if product.startswith(kind):
            return kind
    return None
