"""Inspecting an IPA: the facts of its top-level app, its icon and its profile.

``inspect_ipa(source)`` reads, in at most three sequential rounds for almost
every IPA (docs/ARCHITECTURE.md, Reading an IPA): the tail of the archive
(end records and, for most apps, the central directory); then together the
top-level app's Info.plist, embedded.mobileprovision, its compiled asset
catalog (Assets.car, under a cap) and the loose PNGs whose names say icon;
then, only when the Info.plist names icons that were not among those, the
rest. Every read is capped. The icon is the largest of the loose PNGs and
the catalog's rendition, decoded to pixels and written at the sizes the
bucket keeps (``bucket_keys.ICON_PIXELS``). Anything that makes the file not
an installable IPA raises ``IpaRejected`` with a stable code.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import Any

from ipadrop.domain import bucket_keys
from ipadrop.domain.model import AppFacts, DeviceFamily, IconInfo, Inspection, ProfileInfo
from ipadrop.reading.assetcatalog import extract_icon
from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.pixels import Image, encode_png, resize
from ipadrop.reading.plists import PlistError, load_plist_dict
from ipadrop.reading.png import PngError, decode_png, read_header, to_standard_png
from ipadrop.reading.profiles import DEFAULT_MAX_PROFILE_BYTES, ProfileError, parse_profile
from ipadrop.reading.sources import RangeSource
from ipadrop.reading.zipreader import ZipArchive, ZipEntry, ZipFormatError
from ipadrop.text import clean_text

MAX_INFO_PLIST_BYTES = 2 * 1024 * 1024
MAX_ICON_BYTES = 2 * 1024 * 1024
# Loose PNGs fetched as icon candidates; real apps have a few dozen at most.
MAX_ICON_CANDIDATES = 64
# Bytes of loose PNGs fetched on the guess that they are icons (before the
# Info.plist has said which are).
MAX_GUESSED_ICON_BYTES = 4 * 1024 * 1024
# The compiled asset catalog is one entry read whole: above this (inflated)
# size the loose PNGs are all we use. Large games carry catalogs of hundreds
# of MB; an app's icons rarely need more than a few.
MAX_CATALOG_BYTES = 32 * 1024 * 1024
DEFAULT_ICON_NAME = "AppIcon"
MAX_TEXT_LENGTH = 256

# The id becomes part of S3 keys and URLs, so the reader accepts exactly what
# layout accepts (Apple's letters, digits, '-' and '.', no empty labels, and a
# length that keeps keys within S3's limit): what `inspect` passes, publishes.
MAX_BUNDLE_ID_LENGTH = bucket_keys.MAX_BUNDLE_ID_LENGTH

_APP_DIR = re.compile(r"Payload/([^/]+\.app)(?:/|$)")
_ICON_SUFFIX = re.compile(r"(?:@\d(?:\.\d+)?x)?(?:~(?:ipad|iphone))?(?:@\d(?:\.\d+)?x)?$", re.I)
_FAMILIES: dict[int, DeviceFamily] = {1: "iphone", 2: "ipad"}


def inspect_ipa(source: RangeSource) -> Inspection:
    """The facts of the IPA in ``source`` plus its icon as standard PNGs."""
    archive = ZipArchive(source)
    app_dir = find_app_dir(archive)
    info_entry = archive.get(f"{app_dir}/Info.plist")
    if info_entry is None or info_entry.is_dir:
        raise IpaRejected("no_info_plist", f"{app_dir} has no Info.plist.")
    profile_entry = archive.get(f"{app_dir}/embedded.mobileprovision")
    if profile_entry is not None and profile_entry.is_dir:
        profile_entry = None
    catalog_entry = archive.get(f"{app_dir}/Assets.car")
    if catalog_entry is not None and (
        catalog_entry.is_dir or catalog_entry.uncompressed_size > MAX_CATALOG_BYTES
    ):
        catalog_entry = None
    guessed = _guessed_icons(archive, app_dir)
    wanted: list[tuple[ZipEntry, int]] = [(info_entry, MAX_INFO_PLIST_BYTES)]
    if profile_entry is not None:
        wanted.append((profile_entry, DEFAULT_MAX_PROFILE_BYTES))
    if catalog_entry is not None:
        wanted.append((catalog_entry, MAX_CATALOG_BYTES))
    wanted += [(entry, MAX_ICON_BYTES) for entry in guessed]
    fetched = archive.fetch(wanted)

    info = _parse_info_plist(_take(fetched, info_entry), app_dir)
    bundle_id = validate_bundle_id(info.get("CFBundleIdentifier"))
    candidates = icon_candidates(archive, app_dir, info)
    missing = [(entry, MAX_ICON_BYTES) for entry in candidates if entry.name not in fetched]
    if missing:
        fetched.update(archive.fetch(missing))
    loose = {
        entry.name: data
        for entry in candidates
        if isinstance(data := fetched.get(entry.name), bytes)
    }
    catalog = fetched.get(catalog_entry.name) if catalog_entry is not None else None
    icon_info, icon_files = choose_icon(
        loose,
        catalog if isinstance(catalog, bytes) else None,
        catalog_icon_name(info),
        f"{app_dir}/Assets.car",
    )
    profile = None
    if profile_entry is not None:
        profile = _parse_profile(_take(fetched, profile_entry))
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
        profile=profile,
        required_capabilities=required_capabilities(info.get("UIRequiredDeviceCapabilities")),
    )
    return Inspection(
        facts=facts, icon_png=icon_files.get(bucket_keys.ICON_NAME), icon_files=icon_files
    )


def _take(fetched: dict[str, bytes | ZipFormatError], entry: ZipEntry) -> bytes:
    """The fetched content of an entry that must be readable (its error otherwise)."""
    result = fetched[entry.name]
    if isinstance(result, ZipFormatError):
        raise result
    return result


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


def _parse_info_plist(data: bytes, app_dir: str) -> dict[str, Any]:
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
        shown = clean_text(value[:80], replacement="?") or "?"
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
    return clean_text(value, max_length=MAX_TEXT_LENGTH)


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


def catalog_icon_name(info: dict[str, Any]) -> str:
    """The asset catalog's icon set: ``CFBundleIcons`` > primary > ``CFBundleIconName``."""
    for key in ("CFBundleIcons", "CFBundleIcons~ipad"):
        icons = info.get(key)
        primary = icons.get("CFBundlePrimaryIcon") if isinstance(icons, dict) else None
        name = primary.get("CFBundleIconName") if isinstance(primary, dict) else None
        if isinstance(name, str) and name.strip():
            return name.strip()
    return DEFAULT_ICON_NAME


def _top_level_pngs(archive: ZipArchive, app_dir: str) -> list[ZipEntry]:
    prefix = f"{app_dir}/"
    return [
        entry
        for entry in archive.entries
        if entry.name.startswith(prefix)
        and "/" not in entry.name[len(prefix) :]
        and entry.name.lower().endswith(".png")
        and not _is_litter(entry.name)
        and 0 < entry.uncompressed_size <= MAX_ICON_BYTES
    ]


def _guessed_icons(archive: ZipArchive, app_dir: str) -> list[ZipEntry]:
    """Loose PNGs fetched with the Info.plist, before it names the icons: those
    whose name says icon, largest first, within a byte budget."""
    prefix_length = len(app_dir) + 1
    named = [
        entry
        for entry in _top_level_pngs(archive, app_dir)
        if "icon" in entry.name[prefix_length:].lower()
    ]
    named.sort(key=lambda entry: -entry.uncompressed_size)
    chosen: list[ZipEntry] = []
    budget = MAX_GUESSED_ICON_BYTES
    for entry in named[:MAX_ICON_CANDIDATES]:
        if entry.compressed_size <= budget:
            chosen.append(entry)
            budget -= entry.compressed_size
    return chosen


def icon_candidates(archive: ZipArchive, app_dir: str, info: dict[str, Any]) -> list[ZipEntry]:
    """Loose PNGs at the top of the app folder named by the Info.plist, else
    any ``AppIcon*`` / ``Icon*`` PNG there."""
    prefix = f"{app_dir}/"
    loose = _top_level_pngs(archive, app_dir)
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
    loose: dict[str, bytes], catalog: bytes | None, catalog_name: str, catalog_path: str
) -> tuple[IconInfo | None, dict[str, bytes]]:
    """The largest square icon, loose or from the catalog, and its PNG files.

    Loose candidates are sized by their headers, largest first; the first one
    that decodes wins among them. The catalog's rendition wins when it is
    larger (its source reads ``<app>/Assets.car#<name>``)."""
    sized: list[tuple[int, str]] = []
    for name, data in loose.items():
        try:
            header = read_header(data)
        except PngError:
            continue
        if header.width == header.height:
            sized.append((header.width, name))
    # Largest first; among equals prefer the iPhone file, then the name, for stable output.
    sized.sort(key=lambda c: (-c[0], "~ipad" in c[1].lower(), c[1]))
    best: tuple[IconInfo, Image | bytes] | None = None
    for width, name in sized:
        picture = _loose_picture(loose[name])
        if picture is not None:
            best = IconInfo(name, width, width), picture
            break
    if catalog is not None and (best is None or best[0].width < 1024):
        image = extract_icon(catalog, catalog_name)
        if image is not None and (best is None or image.width > best[0].width):
            best = IconInfo(f"{catalog_path}#{catalog_name}", image.width, image.height), image
    if best is None:
        return None, {}
    info, picture = best
    if isinstance(picture, bytes):  # a PNG we pass on as it is (palette, 16-bit...)
        return info, {bucket_keys.ICON_NAME: picture}
    return info, icon_files(picture)


def _loose_picture(data: bytes) -> Image | bytes | None:
    """Pixels when we can decode them, else the PNG itself when browsers can."""
    with contextlib.suppress(PngError):
        return decode_png(data)
    try:
        return to_standard_png(data)
    except PngError:
        return None


def icon_files(image: Image) -> dict[str, bytes]:
    """The icon at every size the bucket keeps (never enlarged)."""
    files: dict[str, bytes] = {}
    # Largest first: each size is resized from the previous one, which is cheaper.
    current = image
    for name, pixels in sorted(bucket_keys.ICON_PIXELS.items(), key=lambda item: -item[1]):
        current = resize(current, pixels)
        files[name] = encode_png(current)
    return files


# --------------------------------------------------------------------- profile


def _parse_profile(data: bytes) -> ProfileInfo | None:
    try:
        return parse_profile(data)
    except ProfileError:
        # An unreadable profile does not make the app uninstallable for us to say;
        # the device decides. Report it as absent.
        return None
