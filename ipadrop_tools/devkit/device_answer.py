"""What an iPhone POSTs to a Profile Service callback, built from scratch for tests.

``DeviceCa`` stands in for Apple's device certificate authorities (a root and an
intermediate, like "Apple Root CA" and "Apple iPhone Device CA"); a device's
answer is a CMS SignedData (DER) over an XML plist, signed by a device identity
certificate that CA issued, with the chain inside, as iOS sends it.
"""

from __future__ import annotations

import datetime as dt
import functools
import plistlib
from dataclasses import dataclass
from typing import Any

SAMPLE_UDID = "00008101-000A1B2C3D4E5F60"


@dataclass(frozen=True)
class DeviceCa:
    root: Any  # x509.Certificate
    intermediate: Any
    intermediate_key: Any

    def root_der(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        der: bytes = self.root.public_bytes(Encoding.DER)
        return der

    def root_pem(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        pem: bytes = self.root.public_bytes(Encoding.PEM)
        return pem


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Device CA (test)"),
        ]
    )


def _certificate(
    subject: str, issuer_name: Any, public_key: Any, signing_key: Any, *, ca: bool
) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signing_key, hashes.SHA256())
    )


@functools.lru_cache(maxsize=4)
def device_ca(label: str = "default") -> DeviceCa:
    """A root and an intermediate CA (EC P-256 keys: quick to make)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate(
        f"Test Root CA {label}",
        _name(f"Test Root CA {label}"),
        root_key.public_key(),
        root_key,
        ca=True,
    )
    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = _certificate(
        f"Test iPhone Device CA {label}",
        root.subject,
        intermediate_key.public_key(),
        root_key,
        ca=True,
    )
    return DeviceCa(root=root, intermediate=intermediate, intermediate_key=intermediate_key)


def device_answer_plist(
    *,
    udid: str = SAMPLE_UDID,
    product: str = "iPhone15,2",
    version: str = "21F90",
    device_name: str = "Ann's iPhone",
    serial: str = "F2LXK0ABCDEF",
    challenge: str | None = None,
    extra: dict[str, Any] | None = None,
) -> bytes:
    document: dict[str, Any] = {
        "UDID": udid,
        "PRODUCT": product,
        "VERSION": version,
        "DEVICE_NAME": device_name,
        "SERIAL": serial,
    }
    if challenge is not None:
        document["CHALLENGE"] = challenge
    document.update(extra or {})
    return plistlib.dumps(document, fmt=plistlib.FMT_XML)


def signed_device_answer(content: bytes, *, ca: DeviceCa | None = None) -> bytes:
    """``content`` signed as iOS signs it: CMS SignedData (DER), SHA-256, signed
    attributes, the device certificate and its issuing CA inside."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    authority = ca or device_ca()
    device_key = ec.generate_private_key(ec.SECP256R1())
    device_certificate = _certificate(
        "Test device identity",
        authority.intermediate.subject,
        device_key.public_key(),
        authority.intermediate_key,
        ca=False,
    )
    signed: bytes = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(device_certificate, device_key, hashes.SHA256())
        .add_certificate(authority.intermediate)
        .sign(Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    return signed


def device_answer(**fields: Any) -> bytes:
    """A complete signed answer (fields as ``device_answer_plist`` takes them)."""
    ca = fields.pop("ca", None)
    return signed_device_answer(device_answer_plist(**fields), ca=ca)


@functools.lru_cache(maxsize=1)
def operator_signing_identity() -> tuple[bytes, bytes]:
    """An operator's profile-signing certificate (PEM, self-signed RSA-2048) and its
    key (PEM, PKCS#8), as the Secrets Manager secret for enrollment signing holds them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name("Example Corp profile signing")
    certificate = _certificate(
        "Example Corp profile signing", name, key.public_key(), key, ca=False
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem
