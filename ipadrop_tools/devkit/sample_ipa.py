"""Synthetic IPAs, built from scratch (icons: ``sample_png``; profiles:
``sample_profile``; the ZIP writer: ``sample_zip``).

Everything here is deterministic apart from the throwaway signing key, so tests,
the demo and the benchmarks can build exactly the archive they need: binary or
XML Info.plist, CgBI-crushed or plain icons with alpha, a CMS-signed profile of
each distribution kind, ZIP64 records, and gigabytes of stored padding before
Info.plist (streamed, so the padding never sits in memory).
"""

from __future__ import annotations

import contextlib
import functools
import io
import plistlib
import random
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal

from ipadrop_tools.devkit.sample_png import write_cgbi_png, write_png
from ipadrop_tools.devkit.sample_profile import ProfileKind, sample_profile
from ipadrop_tools.devkit.sample_zip import ZipWriter

PlistFormat = Literal["binary", "xml"]
IconKind = Literal["cgbi", "png"]

_CHUNK = 1 << 20


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
