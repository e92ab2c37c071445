"""Provisioning profiles (``embedded.mobileprovision``).

A profile is a CMS SignedData (DER) whose encapsulated content is a plist.
We unwrap it with asn1crypto (no signature check: the device does that at
install time; we only report), and also accept a bare XML or binary plist or
stray bytes before the XML, as some tools write them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from typing import Any

from ipadrop.domain.model import Distribution, ProfileInfo
from ipadrop.reading.plists import PlistError, load_plist_dict
from ipadrop.text import clean_text, iso_utc

DEFAULT_MAX_PROFILE_BYTES = 2 * 1024 * 1024

_XML_START = re.compile(rb"<\?xml|<plist", re.IGNORECASE)
_DATA_ELEMENT = re.compile(rb"<data>(.*?)</data>", re.DOTALL)


class ProfileError(ValueError):
    """The bytes are not a provisioning profile we can read."""


def profile_plist(data: bytes) -> dict[str, Any]:
    """The plist dictionary inside a profile, whatever envelope it came in."""
    if data.startswith(b"bplist"):
        return _load(data)
    if data[:1] == b"\x30":  # DER SEQUENCE: a CMS ContentInfo
        content = _cms_content(data)
        if content is not None:
            return _load(content)
    match = _XML_START.search(data, 0, 65536)
    if match is None:
        raise ProfileError("no property list found in the provisioning profile")
    xml = data[match.start() :]
    end = xml.rfind(b"</plist>")
    if end >= 0:
        xml = xml[: end + len(b"</plist>")]
    return _load(xml)


def _cms_content(data: bytes) -> bytes | None:
    from asn1crypto import cms  # imported on use: cold start of handlers that never need it

    try:
        info = cms.ContentInfo.load(data)
        if info["content_type"].native != "signed_data":
            return None
        content = info["content"]["encap_content_info"]["content"].native
    except Exception:  # asn1crypto raises assorted types on malformed DER
        return None  # the caller still finds an XML plist inside, if there is one
    return content if isinstance(content, bytes) else None


def _load(document: bytes) -> dict[str, Any]:
    try:
        return load_plist_dict(document, max_bytes=DEFAULT_MAX_PROFILE_BYTES)
    except PlistError as first_error:
        # Some hand-edited profiles carry <data> that is not valid base64; drop those
        # values (they only hold certificates) rather than lose the whole profile.
        repaired = _DATA_ELEMENT.sub(_blank_invalid_base64, document)
        if repaired == document:
            raise ProfileError(str(first_error)) from first_error
        try:
            return load_plist_dict(repaired, max_bytes=DEFAULT_MAX_PROFILE_BYTES)
        except PlistError as exc:
            raise ProfileError(str(exc)) from exc


def _blank_invalid_base64(match: re.Match[bytes]) -> bytes:
    try:
        base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        return b"<data></data>"
    return match.group(0)


def classify_distribution(plist: dict[str, Any]) -> Distribution:
    """enterprise when ProvisionsAllDevices; development when it lists devices and
    get-task-allow is true; ad-hoc when it lists devices without it; else app-store."""
    if plist.get("ProvisionsAllDevices") is True:
        return "enterprise"
    if _devices(plist):
        entitlements = plist.get("Entitlements")
        get_task_allow = (
            entitlements.get("get-task-allow") is True if isinstance(entitlements, dict) else False
        )
        return "development" if get_task_allow else "ad-hoc"
    return "app-store"


def _devices(plist: dict[str, Any]) -> list[Any]:
    devices = plist.get("ProvisionedDevices")
    return devices if isinstance(devices, list) else []


# Apple allows 100 devices of each kind a year; a profile listing more than this is not real.
MAX_PROFILE_DEVICES = 2000
_UDID = re.compile(r"^[0-9A-Fa-f-]{24,40}$")


def device_udids(plist: dict[str, Any]) -> list[str]:
    """The UDIDs a profile lists, upper-cased, only well-formed ones, capped."""
    udids: list[str] = []
    for value in _devices(plist)[:MAX_PROFILE_DEVICES]:
        if isinstance(value, str) and _UDID.fullmatch(value.strip()):
            udids.append(value.strip().upper())
    return udids


def _text(value: Any) -> str | None:
    """A string value with control, invisible and bidi characters dropped, length capped."""
    return clean_text(value, max_length=256)


def _first_text(value: Any) -> str | None:
    if isinstance(value, list) and value:
        return _text(value[0])
    return _text(value)


def certificate_expiries(plist: dict[str, Any]) -> list[str]:
    """notAfter of every readable DeveloperCertificates entry, in profile order."""
    certificates = plist.get("DeveloperCertificates")
    if not isinstance(certificates, list):
        return []
    from cryptography import x509

    expiries: list[str] = []
    for der in certificates:
        if not isinstance(der, bytes) or not der:
            continue
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
        expiries.append(iso_utc(certificate.not_valid_after_utc))
    return expiries


def profile_info(plist: dict[str, Any]) -> ProfileInfo:
    entitlements = plist.get("Entitlements")
    team_id = _first_text(plist.get("TeamIdentifier"))
    if team_id is None and isinstance(entitlements, dict):
        team_id = _text(entitlements.get("com.apple.developer.team-identifier"))
    if team_id is None:
        team_id = _first_text(plist.get("ApplicationIdentifierPrefix"))
    expiration = plist.get("ExpirationDate")
    return ProfileInfo(
        name=_text(plist.get("Name")),
        uuid=_text(plist.get("UUID")),
        team_id=team_id,
        team_name=_text(plist.get("TeamName")),
        expires_at=iso_utc(expiration) if isinstance(expiration, dt.datetime) else None,
        distribution=classify_distribution(plist),
        device_count=len(_devices(plist)),
        certificates_expire_at=certificate_expiries(plist),
        devices=device_udids(plist),
    )


def parse_profile(data: bytes) -> ProfileInfo:
    """The facts of a provisioning profile; ``ProfileError`` when unreadable."""
    return profile_info(profile_plist(data))
