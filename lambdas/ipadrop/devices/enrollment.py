"""Device enrollment: the Profile Service configuration profile that asks an
iPhone or iPad for its identity, and the device's answer, read as hostile input.

Pure (no I/O): bytes in, bytes or records out. See docs/ARCHITECTURE.md,
"Devices and pre-install diagnosis".

The flow (Apple's "Over-the-Air Profile Delivery and Configuration"):
1. ``GET /d/<token>/enroll.mobileconfig`` returns ``build_mobileconfig``'s plist
   (``application/x-apple-aspen-config``), optionally CMS-signed by the operator.
2. iOS asks the person to install it (Settings -> Profile Downloaded), then POSTs
   a CMS SignedData, signed by the device's identity certificate, whose content
   is a plist with the requested ``DeviceAttributes`` and our ``CHALLENGE``.
3. ``parse_device_response`` unwraps it: size cap, DER parsed by asn1crypto,
   the plist through ``reading.plists`` (no entities, shape limits), every value
   checked; ``verify_signature`` checks the CMS signature and, when the operator
   supplied Apple's device CA certificates, the chain to them.
"""

from __future__ import annotations

import hashlib
import plistlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from ipadrop.reading.plists import PlistError, load_plist_dict
from ipadrop.text import clean_text

MOBILECONFIG_CONTENT_TYPE = "application/x-apple-aspen-config"
# iOS posts "application/pkcs7-signature"; some versions send octet-stream.
DEVICE_RESPONSE_CONTENT_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/octet-stream"}
)
# A real answer (plist + device certificate chain) is 4 to 8 KB.
MAX_DEVICE_RESPONSE_BYTES = 64 * 1024
DEVICE_ATTRIBUTES = ("UDID", "PRODUCT", "VERSION", "DEVICE_NAME", "SERIAL")

_UDID = re.compile(r"^(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$")
_PRODUCT = re.compile(r"^(?:iPhone|iPad|iPod|Watch|AppleTV|RealityDevice)\d{1,3},\d{1,3}$")
_VERSION = re.compile(r"^[0-9A-Za-z]{1,12}$")  # iOS answers with the build number: "21F90"
_SERIAL = re.compile(r"^[0-9A-Za-z]{8,20}$")


class EnrollmentRejected(ValueError):
    """The body is not a device answer we accept; ``code`` for logs and tests,
    ``message`` one sentence for the response."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class DeviceAnswer:
    udid: str  # upper case
    product: str | None
    version: str | None  # the OS build ("21F90") as iOS sends it
    device_name: str | None
    serial: str | None
    challenge: str | None
    content: bytes  # the signed plist
    digest: str  # SHA-256 of the whole body: the same body twice is a replay


def is_udid(value: str) -> bool:
    return bool(_UDID.fullmatch(value))


def challenge_for(token: str) -> str:
    """The challenge a token's profile carries, checked in the answer: an answer
    captured from one link cannot be posted to another."""
    return hashlib.sha256(b"ipadrop-enroll\x00" + token.encode("ascii", "replace")).hexdigest()[:32]


def build_mobileconfig(
    *, callback_url: str, challenge: str, organization: str, identifier_seed: str
) -> bytes:
    """The Profile Service payload (XML plist) asking for ``DEVICE_ATTRIBUTES``."""
    profile_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, "ipadrop-enroll:" + identifier_seed)).upper()
    document: dict[str, Any] = {
        "PayloadContent": {
            "URL": callback_url,
            "DeviceAttributes": list(DEVICE_ATTRIBUTES),
            "Challenge": challenge,
        },
        "PayloadOrganization": organization,
        "PayloadDisplayName": "Device check",
        "PayloadDescription": (
            "Sends this device's identifier (UDID), model, iOS version and name to "
            f"{organization} so it can be added to test builds. Installs nothing."
        ),
        "PayloadIdentifier": "dev.ipadrop.enroll." + profile_uuid.lower(),
        "PayloadUUID": profile_uuid,
        "PayloadType": "Profile Service",
        "PayloadVersion": 1,
    }
    return plistlib.dumps(document, fmt=plistlib.FMT_XML)


def sign_mobileconfig(document: bytes, *, certificate_pem: bytes, key_pem: bytes) -> bytes:
    """CMS SignedData (DER) over ``document`` with the operator's certificate; any
    further certificates in ``certificate_pem`` travel along as the chain."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    certificates = x509.load_pem_x509_certificates(certificate_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(document)
    builder = builder.add_signer(certificates[0], key, hashes.SHA256())  # type: ignore[arg-type]
    for extra in certificates[1:]:
        builder = builder.add_certificate(extra)
    signed: bytes = builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    return signed


def check_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in DEVICE_RESPONSE_CONTENT_TYPES:
        raise EnrollmentRejected(
            "content_type",
            "The callback accepts only the signed answer iOS sends (application/pkcs7-signature).",
        )


def parse_device_response(body: bytes) -> DeviceAnswer:
    """The device's answer, or ``EnrollmentRejected``. Never trusts a field it has
    not checked; never expands an entity; never reads more than the cap."""
    if not body:
        raise EnrollmentRejected("empty", "The request body is empty.")
    if len(body) > MAX_DEVICE_RESPONSE_BYTES:
        raise EnrollmentRejected(
            "too_large",
            f"The request body is larger than {MAX_DEVICE_RESPONSE_BYTES // 1024} KB.",
        )
    content = _signed_content(body)
    try:
        plist = load_plist_dict(
            content, max_bytes=MAX_DEVICE_RESPONSE_BYTES, max_depth=4, max_nodes=64
        )
    except PlistError as exc:
        raise EnrollmentRejected("bad_plist", f"The signed content is refused: {exc}.") from None

    udid = plist.get("UDID")
    if not isinstance(udid, str) or not _UDID.fullmatch(udid):
        raise EnrollmentRejected("bad_udid", "The answer carries no valid device identifier.")
    return DeviceAnswer(
        udid=udid.upper(),
        product=_matching(plist.get("PRODUCT"), _PRODUCT),
        version=_matching(plist.get("VERSION"), _VERSION),
        device_name=_name(plist.get("DEVICE_NAME")),
        serial=_matching(plist.get("SERIAL"), _SERIAL),
        challenge=clean_text(plist.get("CHALLENGE"), max_length=128),
        content=content,
        digest=hashlib.sha256(body).hexdigest(),
    )


def _name(value: object) -> str | None:
    """A device name as people typed it: whitespace runs become one space."""
    if not isinstance(value, str):
        return None
    return clean_text(re.sub(r"\s+", " ", value[:256]), max_length=64)


def _matching(value: object, pattern: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def _signed_content(body: bytes) -> bytes:
    if body[:1] != b"\x30":
        raise EnrollmentRejected("not_cms", "The body is not a signed device answer.")
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(body, strict=True)
        if info["content_type"].native != "signed_data":
            raise EnrollmentRejected("not_cms", "The body is not a signed device answer.")
        content = info["content"]["encap_content_info"]["content"].native
    except EnrollmentRejected:
        raise
    except Exception:  # asn1crypto raises assorted types on malformed DER
        raise EnrollmentRejected("not_cms", "The body is not a signed device answer.") from None
    if not isinstance(content, bytes) or not content:
        raise EnrollmentRejected("not_cms", "The signed answer has no content.")
    return content


# ------------------------------------------------------------------ signatures


def verify_signature(body: bytes, *, anchors: list[bytes]) -> bool:
    """True when the CMS signature over the content is valid *and* the signer's
    certificate chains (through the certificates in the body) to one of
    ``anchors`` (DER; Apple's device CA certificates as the operator supplies
    them). False otherwise, including when no anchors are configured."""
    if not anchors:
        return False
    try:
        return _verify(body, anchors)
    except Exception:  # any malformed structure is simply "not verified"
        return False


def _verify(body: bytes, anchors: list[bytes]) -> bool:
    from asn1crypto import cms
    from cryptography import x509

    info = cms.ContentInfo.load(body)
    signed = info["content"]
    content = signed["encap_content_info"]["content"].native
    certificates = [
        x509.load_der_x509_certificate(choice.chosen.dump())
        for choice in signed["certificates"]
        if choice.name == "certificate"
    ]
    roots = [x509.load_der_x509_certificate(der) for der in anchors]
    for signer in signed["signer_infos"]:
        sid = signer["sid"].chosen
        if signer["sid"].name != "issuer_and_serial_number":
            continue
        serial = sid["serial_number"].native
        leaf = next((c for c in certificates if c.serial_number == serial), None)
        if leaf is None or not _signature_ok(signer, content, leaf):
            continue
        if _chains_to(leaf, certificates, roots):
            return True
    return False


def _signature_ok(signer: Any, content: bytes, certificate: Any) -> bool:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    algorithms = {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    digest_name = signer["digest_algorithm"]["algorithm"].native
    algorithm = algorithms.get(digest_name)
    if algorithm is None:
        return False
    attributes = signer["signed_attrs"]
    if attributes.native is not None and len(attributes):
        wanted = next(
            (a["values"][0].native for a in attributes if a["type"].native == "message_digest"),
            None,
        )
        digest = hashes.Hash(algorithm)
        digest.update(content)
        if wanted != digest.finalize():
            return False
        # The signature covers the attributes re-encoded as a SET (RFC 5652, 5.4).
        signed_bytes = b"\x31" + attributes.dump()[1:]
    else:
        signed_bytes = content
    signature = signer["signature"].native
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, signed_bytes, padding.PKCS1v15(), algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, signed_bytes, ec.ECDSA(algorithm))
    else:
        return False
    return True


def _chains_to(leaf: Any, pool: list[Any], roots: list[Any], *, max_depth: int = 5) -> bool:
    current = leaf
    for _ in range(max_depth):
        for root in roots:
            if current.issuer == root.subject and _issued_by(current, root):
                return True
        issuer = next(
            (
                c
                for c in pool
                if c.subject == current.issuer and c is not current and _issued_by(current, c)
            ),
            None,
        )
        if issuer is None:
            return False
        current = issuer
    return False


def _issued_by(certificate: Any, issuer: Any) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except Exception:  # wrong issuer, bad signature, unsupported algorithm
        return False
    return True
