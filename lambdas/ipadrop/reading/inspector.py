"""Inspecting an IPA: the facts of its top-level app, its icon and its profile.

``inspect_ipa(source)`` reads the central directory, the top-level app's
Info.plist, the chosen icon and embedded.mobileprovision, each with a
capped ranged read, and nothing else. Anything that makes the file not an
installable IPA raises ``IpaRejected`` with a stable code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ipadrop.domain import bucket_keys
from ipadrop.domain.model import AppFacts, DeviceFamily, IconInfo, Inspection, ProfileInfo
from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.plists import PlistError, load_plist_dict
from ipadrop.reading.png import HEADER_BYTES, PngError, read_header, to_standard_png
from ipadrop.reading.profiles import DEFAULT_MAX_PROFILE_BYTES, ProfileError, parse_profile
from ipadrop.reading.sources import RangeSource
from ipadrop.reading.zipreader import ZipArchive, ZipEntry

MAX_INFO_PLIST_BYTES = 2 * 1024 * 1024
MAX_ICON_BYTES = 2 * 1024 * 1024
# Headers read to size up icon candidates; real apps have a few dozen at most.
MAX_ICON_CANDIDATES = 64
MAX_TEXT_LENGTH = 256

# The id becomes part of S3 keys and URLs, so the reader accepts exactly what
# layout accepts (Apple's letters, digits, '-' and '.', no empty labels, and a
# length that keeps keys within S3's limit): what `inspect` passes, publishes.
MAX_BUNDLE_ID_LENGTH = bucket_keys.MAX_BUNDLE_ID_LENGTH

_APP_DIR = re.compile(r"Payload/([^/]+\.app)(?:/|$)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ICON_SUFFIX = re.compile(r"(?:@\d(?:\.\d+)?x)?(?:~(?:ipad|iphone))?(?:@\d(?:\.\d+)?x)?$", re.I)
_FAMILIES: dict[int, DeviceFamily] = {1: "iphone", 2: "ipad"}


def inspect_ipa(source: RangeSource) -> Inspection:
    """The facts of the IPA in ``source`` plus its icon as a standard PNG."""
    archive = ZipArchive(source)
    app_dir = find_app_dir(archive)
    info = _read_info_plist(archive, app_dir)
    bundle_id = validate_bundle_id(info.get("CFBundleIdentifier"))
    icon_info, icon_png = choose_icon(archive, app_dir, info)
    facts = AppFacts(
        bundle_id=bundle_id,
        version=_clean_text(info.get("CFBundleShortVersionString")),
        build=_clean_text(info.get("CFBundleVersion")),
        title=(
            _clean_text(info.get("CFBundleDisplayName"))
            or _clean_text(info.get("CFBundleName"))
            or bundle_id
        ),
        minimum_os_version=_clean_text(info.get("MinimumOSVersion")),
        device_family=device_families(info.get("UIDeviceFamily")),
        size_bytes=source.size,
        icon=icon_info,
        profile=_read_profile(archive, app_dir),
        required_capabilities=required_capabilities(info.get("UIRequiredDeviceCapabilities")),
    )
    return Inspection(facts=facts, icon_png=icon_png)


# ------------------------------------------------------------------ app bundle


def _is_litter(name: str) -> bool:
    """macOS Finder leftovers that are not part of the app."""
    return name.startswith("__MACOSX/") or name.rsplit("/", 1)[-1].startswith("._")


def find_app_dir(archive: ZipArchive) -> str:
    """``Payload/<X>.app`` of the one top-level app, or a rejection."""
    apps: list[str] = []
    for name in archive.names():
        if _is_litter(name):
            continue
        match = _APP_DIR.match(name)
        if match and match.group(1) not in apps:
            apps.append(match.group(1))
    if not apps:
        raise IpaRejected(
            "no_app_bundle", "The archive has no Payload/<name>.app folder: it is not an IPA."
        )
    if len(apps) > 1:
        listed = ", ".join(sorted(apps)[:5])
        raise IpaRejected(
            "multiple_apps",
            f"The archive holds {len(apps)} apps under Payload/ ({listed}); an IPA holds one.",
        )
    return f"Payload/{apps[0]}"


def _read_info_plist(archive: ZipArchive, app_dir: str) -> dict[str, Any]:
    entry = archive.get(f"{app_dir}/Info.plist")
    if entry is None or entry.is_dir:
        raise IpaRejected("no_info_plist", f"{app_dir} has no Info.plist.")
    data = archive.read(entry, max_size=MAX_INFO_PLIST_BYTES)
    try:
        return load_plist_dict(data, max_bytes=MAX_INFO_PLIST_BYTES)
    except PlistError as exc:
        raise IpaRejected(
            "info_plist_unreadable", f"{app_dir}/Info.plist cannot be read: {exc}."
        ) from exc


def validate_bundle_id(value: object) -> str:
    if value is None:
        raise IpaRejected("bad_bundle_id", "Info.plist has no CFBundleIdentifier.")
    if not isinstance(value, str):
        raise IpaRejected("bad_bundle_id", "CFBundleIdentifier in Info.plist is not a string.")
    if len(value) > MAX_BUNDLE_ID_LENGTH:
        raise IpaRejected(
            "bad_bundle_id",
            f"CFBundleIdentifier is {len(value)} characters long; "
            f"at most {MAX_BUNDLE_ID_LENGTH} are allowed.",
        )
    if not bucket_keys.is_valid_bundle_id(value):
        shown = _CONTROL.sub("?", value[:80])
        raise IpaRejected(
            "bad_bundle_id",
            f"CFBundleIdentifier {shown!r} is not valid: only letters, digits, '-' and '.' "
            "between them are allowed.",
        )
    return value


def _clean_text(value: object) -> str | None:
    """A display string from a plist value: numbers tolerated, control characters
    dropped, length capped; None when empty or of another type."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        return None
    cleaned = _CONTROL.sub("", value).strip()[:MAX_TEXT_LENGTH]
    return cleaned or None


def device_families(value: object) -> list[DeviceFamily]:
    """UIDeviceFamily (a number or a list; absent means iPhone) as names."""
    raw: Iterable[object]
    if value is None:
        raw = [1]
    elif isinstance(value, list):
        raw = value
    else:
        raw = [value]
    found: set[DeviceFamily] = set()
    for item in raw:
        try:
            number = int(item) if isinstance(item, (int, str)) and not isinstance(item, bool) else 0
        except ValueError:
            continue
        if number in _FAMILIES:
            found.add(_FAMILIES[number])
    return [family for family in ("iphone", "ipad") if family in found]


_MAX_CAPABILITIES = 64


def required_capabilities(value: object) -> list[str]:
    """UIRequiredDeviceCapabilities: an array of names, or a dictionary whose keys
    set to true are required (false means "must not have"; we do not report those)."""
    names: list[object]
    if isinstance(value, list):
        names = list(value)
    elif isinstance(value, dict):
        names = [key for key, wanted in value.items() if wanted is True]
    else:
        return []
    found: list[str] = []
    for name in names[:_MAX_CAPABILITIES]:
        cleaned = _clean_text(name) if isinstance(name, str) else None
        if cleaned and cleaned not in found:
            found.append(cleaned[:64])
    return found


# ------------------------------------------------------------------------ icon


def declared_icon_names(info: dict[str, Any]) -> list[str]:
    """Every icon base name the Info.plist declares, modern keys first."""
    names: list[str] = []

    def add(value: object) -> None:
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and item.strip() and item not in names:
                names.append(item.strip())

    for key in ("CFBundleIcons", "CFBundleIcons~ipad"):
        icons = info.get(key)
        primary = icons.get("CFBundlePrimaryIcon") if isinstance(icons, dict) else None
        if isinstance(primary, dict):
            add(primary.get("CFBundleIconFiles"))
            add(primary.get("CFBundleIconName"))
        elif isinstance(primary, str):
            add(primary)
    add(info.get("CFBundleIconFiles"))
    add(info.get("CFBundleIconFile"))
    return names


def icon_stem(file_name: str) -> str:
    """``AppIcon60x60@3x~ipad.png`` -> ``appicon60x60`` (for matching declared names)."""
    stem = file_name[:-4] if file_name.lower().endswith(".png") else file_name
    return _ICON_SUFFIX.sub("", stem).lower()


@dataclass(frozen=True, slots=True)
class _Candidate:
    entry: ZipEntry
    width: int
    height: int


def icon_candidates(archive: ZipArchive, app_dir: str, info: dict[str, Any]) -> list[ZipEntry]:
    """Loose PNGs at the top of the app folder named by the Info.plist, else
    any ``AppIcon*`` / ``Icon*`` PNG there."""
    prefix = f"{app_dir}/"
    loose = [
        entry
        for entry in archive.entries
        if entry.name.startswith(prefix)
        and "/" not in entry.name[len(prefix) :]
        and entry.name.lower().endswith(".png")
        and not _is_litter(entry.name)
        and 0 < entry.uncompressed_size <= MAX_ICON_BYTES
    ]
    declared = {icon_stem(name) for name in declared_icon_names(info)}
    chosen = [entry for entry in loose if icon_stem(entry.name[len(prefix) :]) in declared]
    if not chosen:
        chosen = [
            entry
            for entry in loose
            if entry.name[len(prefix) :].lower().startswith(("appicon", "icon"))
        ]
    # Bigger files first, so the cap on candidates drops the least likely ones.
    chosen.sort(key=lambda entry: -entry.uncompressed_size)
    return chosen[:MAX_ICON_CANDIDATES]


def choose_icon(
    archive: ZipArchive, app_dir: str, info: dict[str, Any]
) -> tuple[IconInfo | None, bytes | None]:
    """The largest square candidate that converts to a standard PNG."""
    sized: list[_Candidate] = []
    for entry in icon_candidates(archive, app_dir, info):
        try:
            header = read_header(archive.read_prefix(entry, HEADER_BYTES))
        except (PngError, IpaRejected):
            continue
        if header.width == header.height:
            sized.append(_Candidate(entry, header.width, header.height))
    # Largest first; among equals prefer the iPhone file, then the name, for stable output.
    sized.sort(key=lambda c: (-c.width, "~ipad" in c.entry.name.lower(), c.entry.name))
    for candidate in sized:
        data = archive.read(candidate.entry, max_size=MAX_ICON_BYTES)
        try:
            png = to_standard_png(data)
        except PngError:
            continue
        return IconInfo(candidate.entry.name, candidate.width, candidate.height), png
    return None, None


# --------------------------------------------------------------------- profile


def _read_profile(archive: ZipArchive, app_dir: str) -> ProfileInfo | None:
    entry = archive.get(f"{app_dir}/embedded.mobileprovision")
    if entry is None or entry.is_dir:
        return None
    data = archive.read(entry, max_size=DEFAULT_MAX_PROFILE_BYTES)
    try:
        return parse_profile(data)
    except ProfileError:
        # An unreadable profile does not make the app uninstallable for us to say;
        # the device decides. Report it as absent.
        return None
