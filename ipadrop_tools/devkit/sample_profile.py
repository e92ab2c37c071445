"""Sample provisioning profiles: a CMS-signed plist of each distribution kind,
signed with a throwaway key made once per process."""

from __future__ import annotations

import datetime as dt
import functools
import plistlib
import random
import uuid as uuid_module
from collections.abc import Sequence
from typing import Any, Literal

ProfileKind = Literal["enterprise", "ad-hoc", "development", "app-store"]


@functools.lru_cache(maxsize=1)
def _throwaway_signer() -> tuple[Any, Any]:
    """A self-signed EC certificate and key, made once per process."""
    return _dated_signer(SAMPLE_CERT_EXPIRES)


@functools.lru_cache(maxsize=8)
def _dated_signer(expires: dt.datetime) -> tuple[Any, Any]:
    """A self-signed EC distribution certificate ending at ``expires``, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.COMMON_NAME, "iPhone Distribution: Example Corp (ABCDE12345)"
            ),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "ABCDE12345"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
        ]
    )
    not_before = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x1D1D)
        .not_valid_before(not_before)
        .not_valid_after(max(expires, not_before + dt.timedelta(days=1)))
        .sign(key, hashes.SHA256())
    )
    return cert, key


SAMPLE_CERT_EXPIRES = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
SAMPLE_PROFILE_EXPIRES = dt.datetime(2029, 6, 30, 12, 0, 0, tzinfo=dt.UTC)


def sample_devices(count: int) -> list[str]:
    """``count`` plausible, distinct device UDIDs."""
    rng = random.Random(count)  # noqa: S311 (deterministic sample data)
    return [f"00008101-{rng.getrandbits(64):016X}" for _ in range(count)]


def profile_plist(
    kind: ProfileKind,
    *,
    name: str | None = None,
    team_id: str = "ABCDE12345",
    team_name: str = "Example Corp",
    bundle_id: str = "com.example.sample",
    profile_uuid: str | None = None,
    expires_at: dt.datetime = SAMPLE_PROFILE_EXPIRES,
    device_count: int = 3,
    devices: Sequence[str] | None = None,
    include_certificate: bool = True,
    certificate_expires: dt.datetime | None = None,
) -> dict[str, Any]:
    """The plist dictionary inside a provisioning profile of ``kind`` (``devices``:
    these UDIDs instead of ``device_count`` made-up ones)."""
    if expires_at.tzinfo is not None:  # plistlib wants naive UTC datetimes
        expires_at = expires_at.astimezone(dt.UTC).replace(tzinfo=None)
    entitlements: dict[str, Any] = {
        "application-identifier": f"{team_id}.{bundle_id}",
        "com.apple.developer.team-identifier": team_id,
        "get-task-allow": kind == "development",
        "keychain-access-groups": [f"{team_id}.*"],
    }
    profile: dict[str, Any] = {
        "AppIDName": "Sample",
        "ApplicationIdentifierPrefix": [team_id],
        "CreationDate": expires_at - dt.timedelta(days=365),
        "ExpirationDate": expires_at,
        "Entitlements": entitlements,
        "Name": name or f"Sample {kind} profile",
        "Platform": ["iOS"],
        "TeamIdentifier": [team_id],
        "TeamName": team_name,
        "TimeToLive": 365,
        "UUID": profile_uuid or str(uuid_module.uuid5(uuid_module.NAMESPACE_URL, kind)).upper(),
        "Version": 1,
    }
    if include_certificate:
        from cryptography.hazmat.primitives.serialization import Encoding

        cert, _ = (
            _throwaway_signer()
            if certificate_expires is None
            else _dated_signer(certificate_expires)
        )
        profile["DeveloperCertificates"] = [cert.public_bytes(Encoding.DER)]
    if kind == "enterprise":
        profile["ProvisionsAllDevices"] = True
    elif kind in ("ad-hoc", "development"):
        profile["ProvisionedDevices"] = (
            list(devices) if devices is not None else sample_devices(device_count)
        )
    return profile


def sample_profile(
    kind: ProfileKind = "enterprise",
    *,
    envelope: Literal["cms", "xml", "binary"] = "cms",
    **fields: Any,
) -> bytes:
    """A provisioning profile of ``kind``: by default CMS SignedData (DER) wrapping
    an XML plist, signed with a throwaway self-signed certificate; ``envelope``
    "xml" or "binary" gives the bare plist instead. ``fields`` go to ``profile_plist``.
    """
    document = profile_plist(kind, **fields)
    if envelope == "binary":
        return plistlib.dumps(document, fmt=plistlib.FMT_BINARY)
    content = plistlib.dumps(document, fmt=plistlib.FMT_XML)
    if envelope == "xml":
        return content
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    cert, key = _throwaway_signer()
    signed: bytes = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(cert, key, hashes.SHA256())
        .sign(Encoding.DER, [])
    )
    return signed
