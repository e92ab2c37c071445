"""Synthetic IPAs, icons and provisioning profiles, built from scratch.

Everything here is deterministic apart from the throwaway signing key, so tests,
the demo and the benchmarks can build exactly the archive they need: binary or
XML Info.plist, CgBI-crushed or plain icons with alpha, a CMS-signed profile of
each distribution kind, ZIP64 records, and gigabytes of stored padding before
Info.plist (streamed, so the padding never sits in memory).

The ZIP writer is our own (not ``zipfile``) so ZIP64 records can be forced on
small archives and tests can craft entries that lie about their sizes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import plistlib
import random
import re
import struct
import uuid as uuid_module
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

PlistFormat = Literal["binary", "xml"]
IconKind = Literal["cgbi", "png"]
ProfileKind = Literal["enterprise", "ad-hoc", "development", "app-store"]

_U32_MAX = 0xFFFFFFFF
_U16_MAX = 0xFFFF
_CHUNK = 1 << 20
# DOS date/time for 2024-01-01 00:00:00: fixed so archives are reproducible.
_DOS_TIME = 0
_DOS_DATE = ((2024 - 1980) << 9) | (1 << 5) | 1
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The 4 data bytes Xcode's pngcrush writes in the CgBI chunk.
_CGBI_DATA = b"\x50\x00\x20\x06"


# --------------------------------------------------------------------------- ZIP


@dataclass
class _CentralRecord:
    name: bytes
    method: int
    crc: int
    compressed_size: int
    uncompressed_size: int
    offset: int
    flags: int


class ZipWriter:
    """A minimal, streaming ZIP writer (store and deflate, optional forced ZIP64).

    ``declared_size`` lets a test write an entry whose headers understate what it
    inflates to (a zip bomb that lies).
    """

    def __init__(self, fp: BinaryIO, *, force_zip64: bool = False) -> None:
        self._fp = fp
        self._force_zip64 = force_zip64
        self._position = 0
        self._records: list[_CentralRecord] = []

    def _write(self, data: bytes) -> None:
        self._fp.write(data)
        self._position += len(data)

    def add(
        self,
        name: str,
        data: bytes,
        *,
        compress: bool = True,
        declared_size: int | None = None,
    ) -> None:
        """Add one entry held in memory."""
        if compress:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = compressor.compress(data) + compressor.flush()
            method = 8
        else:
            payload, method = data, 0
        size = len(data) if declared_size is None else declared_size
        self._add_raw(
            name,
            method=method,
            crc=zlib.crc32(data),
            compressed_size=len(payload),
            uncompressed_size=size,
            chunks=[payload],
        )

    def add_stream(self, name: str, size: int, chunks: Iterable[bytes], crc: int) -> None:
        """Add a stored entry whose bytes arrive as ``chunks`` (``size`` and ``crc`` known)."""
        self._add_raw(
            name,
            method=0,
            crc=crc,
            compressed_size=size,
            uncompressed_size=size,
            chunks=chunks,
        )

    def _add_raw(
        self,
        name: str,
        *,
        method: int,
        crc: int,
        compressed_size: int,
        uncompressed_size: int,
        chunks: Iterable[bytes],
    ) -> None:
        encoded = name.encode("utf-8")
        flags = 0x800  # names are UTF-8
        offset = self._position
        zip64 = (
            self._force_zip64
            or compressed_size >= _U32_MAX
            or uncompressed_size >= _U32_MAX
            or offset >= _U32_MAX
        )
        if zip64:
            extra = struct.pack("<HHQQ", 0x0001, 16, uncompressed_size, compressed_size)
            sizes = (_U32_MAX, _U32_MAX)
            version = 45
        else:
            extra = b""
            sizes = (compressed_size, uncompressed_size)
            version = 20
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            version,
            flags,
            method,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            sizes[0],
            sizes[1],
            len(encoded),
            len(extra),
        )
        self._write(header + encoded + extra)
        written = 0
        for chunk in chunks:
            self._write(chunk)
            written += len(chunk)
        if written != compressed_size:
            raise ValueError(f"{name}: wrote {written} bytes, declared {compressed_size}")
        self._records.append(
            _CentralRecord(encoded, method, crc, compressed_size, uncompressed_size, offset, flags)
        )

    def close(self) -> None:
        """Write the central directory and the end records (ZIP64 ones when needed)."""
        cd_offset = self._position
        for record in self._records:
            self._write(self._central_header(record))
        cd_size = self._position - cd_offset
        count = len(self._records)
        needs_zip64 = (
            self._force_zip64 or count >= _U16_MAX or cd_offset >= _U32_MAX or cd_size >= _U32_MAX
        )
        if needs_zip64:
            eocd64_offset = self._position
            self._write(
                struct.pack(
                    "<IQHHIIQQQQ",
                    0x06064B50,
                    44,
                    45,
                    45,
                    0,
                    0,
                    count,
                    count,
                    cd_size,
                    cd_offset,
                )
            )
            self._write(struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1))
        self._write(
            struct.pack(
                "<IHHHHIIH",
                0x06054B50,
                0,
                0,
                _U16_MAX if needs_zip64 else count,
                _U16_MAX if needs_zip64 else count,
                _U32_MAX if needs_zip64 else cd_size,
                _U32_MAX if needs_zip64 else cd_offset,
                0,
            )
        )
        self._fp.flush()

    def _central_header(self, record: _CentralRecord) -> bytes:
        values = {
            "uncompressed": record.uncompressed_size,
            "compressed": record.compressed_size,
            "offset": record.offset,
        }
        in_extra = [key for key, value in values.items() if self._force_zip64 or value >= _U32_MAX]
        extra = b""
        if in_extra:
            body = b"".join(struct.pack("<Q", values[key]) for key in in_extra)
            extra = struct.pack("<HH", 0x0001, len(body)) + body

        def field(key: str) -> int:
            return _U32_MAX if key in in_extra else values[key]

        return (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (3 << 8) | 45,  # made by Unix, spec 4.5
                45 if in_extra else 20,
                record.flags,
                record.method,
                _DOS_TIME,
                _DOS_DATE,
                record.crc,
                field("compressed"),
                field("uncompressed"),
                len(record.name),
                len(extra),
                0,
                0,
                0,
                0o100644 << 16,
                field("offset"),
            )
            + record.name
            + extra
        )


# -------------------------------------------------------------------------- PNG


@functools.lru_cache(maxsize=16)
def sample_icon_rgba(width: int = 180, height: int = 180) -> bytes:
    """Straight (non-premultiplied) RGBA pixels of a plausible app icon.

    A diagonal gradient on a rounded square, a white disc in the middle, fully
    transparent corners and a soft anti-aliased edge, so alpha really matters.
    """
    radius = min(width, height) * 0.22
    pixels = bytearray()
    for y in range(height):
        for x in range(width):
            # distance outside the rounded rectangle (negative inside)
            dx = max(radius - x - 0.5, x + 0.5 - (width - radius), 0.0)
            dy = max(radius - y - 0.5, y + 0.5 - (height - radius), 0.0)
            outside = (dx * dx + dy * dy) ** 0.5 - radius
            alpha = 255 if outside <= -1 else 0 if outside >= 0 else round(-outside * 255)
            red = 30 + (x * 180) // max(width - 1, 1)
            green = 90 + (y * 120) // max(height - 1, 1)
            blue = 220 - ((x + y) * 100) // max(width + height - 2, 1)
            cx, cy = x - width / 2, y - height / 2
            if cx * cx + cy * cy < (min(width, height) * 0.2) ** 2:
                red = green = blue = 255
            pixels += bytes((red, green, blue, alpha))
    return bytes(pixels)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _scanlines(width: int, height: int, pixels: bytes, filter_type: int = 0) -> bytes:
    """Rows of 4-byte pixels, each encoded with PNG filter ``filter_type`` (0-4)."""
    stride = width * 4
    previous = bytes(stride)
    out = bytearray()
    for row in range(height):
        line = pixels[row * stride : (row + 1) * stride]
        out.append(filter_type)
        out += _filter_row(filter_type, line, previous, 4)
        previous = line
    return bytes(out)


def _filter_row(filter_type: int, line: bytes, previous: bytes, bpp: int) -> bytes:
    if filter_type == 0:
        return line
    encoded = bytearray(len(line))
    for i, value in enumerate(line):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        upper_left = previous[i - bpp] if i >= bpp else 0
        if filter_type == 1:
            predictor = left
        elif filter_type == 2:
            predictor = up
        elif filter_type == 3:
            predictor = (left + up) >> 1
        else:
            estimate = left + up - upper_left
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
        encoded[i] = (value - predictor) & 0xFF
    return bytes(encoded)


def write_png(width: int = 180, height: int = 180, *, rgba: bytes | None = None) -> bytes:
    """An ordinary 8-bit RGBA PNG."""
    pixels = sample_icon_rgba(width, height) if rgba is None else rgba
    if len(pixels) != width * height * 4:
        raise ValueError("rgba must hold width * height * 4 bytes")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(_scanlines(width, height, pixels), 9)
    return _PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def premultiply_bgra(rgba: bytes) -> bytes:
    """Straight RGBA -> premultiplied BGRA, the way Xcode's pngcrush stores pixels."""
    out = bytearray(len(rgba))
    for i in range(0, len(rgba), 4):
        red, green, blue, alpha = rgba[i : i + 4]
        out[i] = (blue * alpha + 127) // 255
        out[i + 1] = (green * alpha + 127) // 255
        out[i + 2] = (red * alpha + 127) // 255
        out[i + 3] = alpha
    return bytes(out)


def write_cgbi_png(
    width: int = 180,
    height: int = 180,
    *,
    rgba: bytes | None = None,
    idat_chunks: int = 1,
    filter_type: int = 0,
) -> bytes:
    """An Apple CgBI PNG: CgBI chunk first, raw deflate, premultiplied BGRA.

    ``rgba`` is the straight RGBA image it represents. ``idat_chunks`` splits
    the compressed stream over several IDAT chunks, as real files sometimes do;
    ``filter_type`` (0-4) is the PNG row filter used on every row.
    """
    pixels = sample_icon_rgba(width, height) if rgba is None else rgba
    if len(pixels) != width * height * 4:
        raise ValueError("rgba must hold width * height * 4 bytes")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(_scanlines(width, height, premultiply_bgra(pixels), filter_type))
    stream += compressor.flush()
    step = max(1, -(-len(stream) // max(1, idat_chunks)))
    idats = b"".join(
        _chunk(b"IDAT", stream[start : start + step]) for start in range(0, len(stream), step)
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _chunk(b"CgBI", _CGBI_DATA)
        + _chunk(b"IHDR", ihdr)
        + idats
        + _chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------- profile


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


# -------------------------------------------------------------------------- IPA


def _padding_chunks(size: int) -> Iterator[bytes]:
    """``size`` bytes of incompressible data: one seeded random MiB, repeated."""
    block = random.Random(0x1BADB002).randbytes(_CHUNK)  # noqa: S311 (deterministic)
    remaining = size
    while remaining > 0:
        piece = block if remaining >= _CHUNK else block[:remaining]
        remaining -= len(piece)
        yield piece


def _padding_crc(size: int) -> int:
    crc = 0
    for chunk in _padding_chunks(size):
        crc = zlib.crc32(chunk, crc)
    return crc


def _app_dir_for(title: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9 ._-]", "_", title).strip(" .") or "App"
    return f"{cleaned}.app"


def info_plist_dict(
    *,
    bundle_id: str,
    title: str,
    version: str | None,
    build: str | None,
    minimum_os_version: str | None,
    device_family: Sequence[int],
    executable: str,
    icon: IconKind | None,
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "CFBundleDevelopmentRegion": "en",
        "CFBundleDisplayName": title,
        "CFBundleExecutable": executable,
        "CFBundleIdentifier": bundle_id,
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundleName": title,
        "CFBundlePackageType": "APPL",
        "CFBundleSupportedPlatforms": ["iPhoneOS"],
        "UIDeviceFamily": list(device_family),
        "UIRequiredDeviceCapabilities": ["arm64"],
    }
    if version is not None:
        info["CFBundleShortVersionString"] = version
    if build is not None:
        info["CFBundleVersion"] = build
    if minimum_os_version is not None:
        info["MinimumOSVersion"] = minimum_os_version
    if icon is not None:
        primary = {"CFBundleIconFiles": ["AppIcon60x60"], "CFBundleIconName": "AppIcon"}
        info["CFBundleIcons"] = {"CFBundlePrimaryIcon": primary}
        if 2 in device_family:
            info["CFBundleIcons~ipad"] = {
                "CFBundlePrimaryIcon": {
                    "CFBundleIconFiles": ["AppIcon60x60", "AppIcon76x76"],
                    "CFBundleIconName": "AppIcon",
                }
            }
    return info


def build_ipa(
    dest: Path | str | BinaryIO,
    *,
    bundle_id: str = "com.example.sample",
    title: str = "Sample",
    version: str | None = "1.0",
    build: str | None = "1",
    minimum_os_version: str | None = "15.0",
    device_family: Sequence[int] = (1, 2),
    plist_format: PlistFormat = "binary",
    icon: IconKind | None = "cgbi",
    profile: ProfileKind | None = "enterprise",
    profile_fields: Mapping[str, Any] | None = None,
    padding_bytes: int = 0,
    zip64: bool = False,
    extra_entries: Mapping[str, bytes] | Iterable[tuple[str, bytes]] = (),
    app_dir_name: str | None = None,
    info_extra: Mapping[str, Any] | None = None,
    info_plist_bytes: bytes | None = None,
    plugins: Sequence[str] = (),
    macosx_litter: bool = False,
) -> None:
    """Write a synthetic but structurally real IPA to ``dest``.

    Layout: ``Payload/<app_dir_name>/`` with the executable, ``padding_bytes``
    of stored incompressible data (written before Info.plist, streamed), the
    Info.plist (``plist_format``; ``info_extra`` merged in, or ``info_plist_bytes``
    verbatim), icons (180x180 @3x, 120x120 @2x and, for iPad, 152x152 76x76@2x;
    ``icon`` "cgbi" crushes them like Xcode), ``embedded.mobileprovision`` of
    ``profile`` kind, app extensions named in ``plugins`` (each with its own
    Info.plist and icon), ``_CodeSignature/``, then ``extra_entries``.
    """
    app_dir = f"Payload/{app_dir_name or _app_dir_for(title)}"
    executable = re.sub(r"[^A-Za-z0-9]", "", title) or "App"
    with contextlib.ExitStack() as stack:
        fp: BinaryIO = (
            stack.enter_context(open(dest, "wb")) if isinstance(dest, (str, Path)) else dest
        )
        writer = ZipWriter(fp, force_zip64=zip64)
        fmt = plistlib.FMT_BINARY if plist_format == "binary" else plistlib.FMT_XML
        writer.add(f"{app_dir}/{executable}", b"\xcf\xfa\xed\xfe" + b"\x00" * 60)
        if padding_bytes > 0:
            writer.add_stream(
                f"{app_dir}/Frameworks/Payload.framework/Payload.bin",
                padding_bytes,
                _padding_chunks(padding_bytes),
                _padding_crc(padding_bytes),
            )
        if info_plist_bytes is not None:
            writer.add(f"{app_dir}/Info.plist", info_plist_bytes)
        else:
            info = info_plist_dict(
                bundle_id=bundle_id,
                title=title,
                version=version,
                build=build,
                minimum_os_version=minimum_os_version,
                device_family=device_family,
                executable=executable,
                icon=icon,
            )
            info.update(info_extra or {})
            writer.add(f"{app_dir}/Info.plist", plistlib.dumps(info, fmt=fmt))
        if icon is not None:
            make = _cached_cgbi if icon == "cgbi" else _cached_png
            # PNGs are stored, as Xcode does: they are already compressed.
            writer.add(f"{app_dir}/AppIcon60x60@2x.png", make(120, 120), compress=False)
            writer.add(f"{app_dir}/AppIcon60x60@3x.png", make(180, 180), compress=False)
            if 2 in device_family:
                writer.add(f"{app_dir}/AppIcon76x76@2x~ipad.png", make(152, 152), compress=False)
        if profile is not None:
            writer.add(
                f"{app_dir}/embedded.mobileprovision",
                sample_profile(profile, **{"bundle_id": bundle_id, **(profile_fields or {})}),
            )
        for plugin in plugins:
            plugin_dir = f"{app_dir}/PlugIns/{plugin}.appex"
            plugin_info = {
                "CFBundleIdentifier": f"{bundle_id}.{re.sub(r'[^A-Za-z0-9-]', '-', plugin)}",
                "CFBundleName": plugin,
                "CFBundleShortVersionString": "9.9",
                "CFBundleVersion": "999",
                "CFBundlePackageType": "XPC!",
                "CFBundleIcons": {"CFBundlePrimaryIcon": {"CFBundleIconFiles": ["PlugIcon"]}},
            }
            writer.add(f"{plugin_dir}/Info.plist", plistlib.dumps(plugin_info, fmt=fmt))
            writer.add(f"{plugin_dir}/PlugIcon@3x.png", _cached_png(240, 240), compress=False)
        writer.add(f"{app_dir}/_CodeSignature/CodeResources", plistlib.dumps({"files": {}}))
        if macosx_litter:
            writer.add(f"__MACOSX/{app_dir}/._Info.plist", b"\x00\x05\x16\x07" + b"\x00" * 78)
            writer.add(f"__MACOSX/{app_dir}/Info.plist", b"not a plist")
        entries = extra_entries.items() if isinstance(extra_entries, Mapping) else extra_entries
        for name, data in entries:
            writer.add(name, data)
        writer.close()


@functools.lru_cache(maxsize=16)
def _cached_png(width: int, height: int) -> bytes:
    return write_png(width, height)


@functools.lru_cache(maxsize=16)
def _cached_cgbi(width: int, height: int) -> bytes:
    return write_cgbi_png(width, height)


def build_ipa_bytes(**options: Any) -> bytes:
    """``build_ipa`` into memory (small archives only)."""
    buffer = io.BytesIO()
    build_ipa(buffer, **options)
    return buffer.getvalue()
