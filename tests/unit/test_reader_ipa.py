"""inspect_ipa on IPAs the tests build: fields, icon choice, rejections, hostile input."""

from __future__ import annotations

import io
import plistlib
import zipfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipadrop.domain import bucket_keys
from ipadrop.domain.model import Inspection
from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.inspector import icon_stem, inspect_ipa
from ipadrop.reading.sources import BytesSource
from ipadrop_tools.devkit.sample_ipa import ZipWriter, build_ipa_bytes, write_png

from .test_reader_png import decode_standard_png


def inspect_bytes(data: bytes) -> Inspection:
    return inspect_ipa(BytesSource(data))


def reject_code(data: bytes) -> str:
    with pytest.raises(IpaRejected) as caught:
        inspect_bytes(data)
    assert caught.value.message
    assert "\n" not in caught.value.message
    return caught.value.code


@pytest.mark.parametrize("plist_format", ["binary", "xml"])
@pytest.mark.parametrize("zip64", [False, True])
def test_fields_of_a_generated_ipa(plist_format: str, zip64: bool) -> None:
    data = build_ipa_bytes(
        bundle_id="com.acme.field-app",
        title="Field App",
        version="2.3.4",
        build="567",
        minimum_os_version="16.1",
        device_family=(1, 2),
        plist_format=plist_format,
        zip64=zip64,
        profile="ad-hoc",
        plugins=("Widget",),
        macosx_litter=True,
    )
    result = inspect_bytes(data)
    facts = result.facts
    assert facts.bundle_id == "com.acme.field-app"
    assert (facts.version, facts.build, facts.title) == ("2.3.4", "567", "Field App")
    assert facts.minimum_os_version == "16.1"
    assert facts.device_family == ["iphone", "ipad"]
    assert facts.size_bytes == len(data)
    assert facts.icon is not None
    assert facts.icon.source == "Payload/Field App.app/AppIcon60x60@3x.png"
    assert (facts.icon.width, facts.icon.height) == (180, 180)
    assert result.icon_png is not None
    profile = facts.profile
    assert profile is not None
    assert (profile.distribution, profile.device_count) == ("ad-hoc", 3)


def test_icon_is_the_largest_square_and_converted() -> None:
    result = inspect_bytes(build_ipa_bytes(device_family=(1,), icon="cgbi"))
    assert result.facts.icon is not None
    assert result.facts.icon.source == "Payload/Sample.app/AppIcon60x60@3x.png"
    assert (result.facts.icon.width, result.facts.icon.height) == (180, 180)
    assert result.icon_png is not None
    width, height, pixels = decode_standard_png(result.icon_png)
    assert (width, height) == (180, 180)
    assert pixels[3] == 0  # transparent corner survived
    assert pixels[(90 * 180 + 90) * 4 : (90 * 180 + 90) * 4 + 4] == b"\xff\xff\xff\xff"


def test_plain_png_icon_is_passed_through() -> None:
    data = build_ipa_bytes(device_family=(1,), icon="png")
    result = inspect_bytes(data)
    archive_icon = zipfile.ZipFile(io.BytesIO(data)).read("Payload/Sample.app/AppIcon60x60@3x.png")
    assert result.icon_png == archive_icon


def test_ipad_icon_wins_when_larger() -> None:
    info = {
        "CFBundleIcons": {"CFBundlePrimaryIcon": {"CFBundleIconFiles": ["AppIcon60x60"]}},
        "CFBundleIcons~ipad": {"CFBundlePrimaryIcon": {"CFBundleIconFiles": ["Big"]}},
    }
    data = build_ipa_bytes(
        device_family=(1, 2),
        icon="png",
        info_extra=info,
        extra_entries={"Payload/Sample.app/Big@2x~ipad.png": write_png(200, 200)},
    )
    icon = inspect_bytes(data).facts.icon
    assert icon is not None
    assert (icon.source, icon.width) == ("Payload/Sample.app/Big@2x~ipad.png", 200)


@pytest.mark.parametrize(
    "info",
    [
        {"CFBundleIconFiles": "Legacy"},  # a string where a list is expected
        {"CFBundleIconFiles": ["Legacy.png"]},  # with the extension
        {"CFBundleIconFile": "Legacy"},
        {"CFBundleIcons": {"CFBundlePrimaryIcon": {"CFBundleIconFiles": "Legacy"}}},
        {"CFBundleIcons": {"CFBundlePrimaryIcon": {"CFBundleIconName": "Legacy"}}},
        {"CFBundleIcons": {"CFBundlePrimaryIcon": "Legacy"}},
    ],
)
def test_declared_icon_variants(info: dict[str, Any]) -> None:
    data = build_ipa_bytes(
        icon=None,
        info_extra=info,
        extra_entries={
            "Payload/Sample.app/Legacy@2x.png": write_png(114, 114),
            "Payload/Sample.app/Legacy.png": write_png(57, 57),
            "Payload/Sample.app/Unrelated.png": write_png(500, 500),
        },
    )
    icon = inspect_bytes(data).facts.icon
    assert icon is not None
    assert (icon.source, icon.width) == ("Payload/Sample.app/Legacy@2x.png", 114)


def test_fallback_to_appicon_files_and_non_square_skipped() -> None:
    data = build_ipa_bytes(
        icon=None,
        extra_entries={
            "Payload/Sample.app/AppIcon-wide.png": write_png(300, 100),
            "Payload/Sample.app/Icon-72.png": write_png(72, 72),
            "Payload/Sample.app/Nested/AppIcon-big.png": write_png(512, 512),
        },
    )
    icon = inspect_bytes(data).facts.icon
    assert icon is not None
    assert (icon.source, icon.width) == ("Payload/Sample.app/Icon-72.png", 72)


def test_no_icon_and_unreadable_icon_give_null() -> None:
    assert inspect_bytes(build_ipa_bytes(icon=None)).facts.icon is None
    data = build_ipa_bytes(
        icon=None,
        info_extra={"CFBundleIconFiles": ["AppIcon"]},
        extra_entries={"Payload/Sample.app/AppIcon.png": b"\xff\xd8\xff\xe0 a JPEG in disguise"},
    )
    result = inspect_bytes(data)
    assert (result.facts.icon, result.icon_png) == (None, None)


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("AppIcon60x60@3x.png", "appicon60x60"),
        ("AppIcon83.5x83.5@2x~ipad.png", "appicon83.5x83.5"),
        ("AppIcon76x76~ipad.png", "appicon76x76"),
        ("icon.png", "icon"),
        ("Icon", "icon"),
    ],
)
def test_icon_stem(name: str, stem: str) -> None:
    assert icon_stem(name) == stem


@pytest.mark.parametrize("kind", ["enterprise", "ad-hoc", "development", "app-store"])
def test_profile_kind(kind: str) -> None:
    profile = inspect_bytes(build_ipa_bytes(profile=kind, icon=None)).facts.profile
    assert profile is not None
    assert profile.distribution == kind


def test_no_profile_and_unreadable_profile() -> None:
    assert inspect_bytes(build_ipa_bytes(profile=None, icon=None)).facts.profile is None
    data = build_ipa_bytes(
        profile=None,
        icon=None,
        extra_entries={"Payload/Sample.app/embedded.mobileprovision": b"garbage"},
    )
    assert inspect_bytes(data).facts.profile is None


def test_extension_info_plist_is_not_used() -> None:
    data = build_ipa_bytes(bundle_id="com.example.host", plugins=("Share", "Today"), icon=None)
    facts = inspect_bytes(data).facts
    assert facts.bundle_id == "com.example.host"
    assert facts.version == "1.0"


def test_watch_app_and_frameworks_are_not_top_level_apps() -> None:
    nested = plistlib.dumps({"CFBundleIdentifier": "com.example.watch"})
    data = build_ipa_bytes(
        icon=None,
        extra_entries={
            "Payload/Sample.app/Watch/W.app/Info.plist": nested,
            "Payload/Sample.app/Frameworks/F.framework/Info.plist": nested,
            "Symbols/abc.symbols": b"x",
        },
    )
    assert inspect_bytes(data).facts.bundle_id == "com.example.sample"


def test_optional_fields_and_odd_types() -> None:
    data = build_ipa_bytes(
        version=None,
        minimum_os_version=None,
        icon=None,
        info_extra={
            "CFBundleDisplayName": "  ",
            "CFBundleName": "Bundle\x00Name\x1b",
            "CFBundleVersion": 42,
            "UIDeviceFamily": "2",
        },
    )
    facts = inspect_bytes(data).facts
    assert facts.version is None
    assert facts.minimum_os_version is None
    assert facts.build == "42"
    assert facts.title == "BundleName"
    assert facts.device_family == ["ipad"]


@pytest.mark.parametrize(
    ("family", "expected"),
    [(None, ["iphone"]), ([2, 1], ["iphone", "ipad"]), ([4, 3], []), (1, ["iphone"])],
)
def test_device_family(family: object, expected: list[str]) -> None:
    info: dict[str, Any] = {"UIDeviceFamily": family} if family is not None else {}
    data = build_ipa_bytes(icon=None, info_extra=info)
    if family is None:
        raw = plistlib.loads(
            zipfile.ZipFile(io.BytesIO(data)).read("Payload/Sample.app/Info.plist")
        )
        raw.pop("UIDeviceFamily")
        data = build_ipa_bytes(icon=None, info_plist_bytes=plistlib.dumps(raw))
    assert inspect_bytes(data).facts.device_family == expected


def test_hostile_title_stays_text() -> None:
    title = '<script>alert("x")</script>&amp;'
    hostile = title + "\u202e"
    facts = inspect_bytes(build_ipa_bytes(title=hostile, app_dir_name="X.app", icon=None)).facts
    # Escaping is the renderer's job: the reader keeps the text, minus the bidi override.
    assert facts.title == title
    long_title = "A" * 5000
    facts = inspect_bytes(build_ipa_bytes(title=long_title, app_dir_name="Y.app", icon=None)).facts
    assert len(facts.title) == 256


# ------------------------------------------------------------------ rejections


@pytest.mark.parametrize(
    "bundle_id",
    [
        "com/evil",
        "..",
        "com..evil",
        ".com.evil",
        "com.evil.",
        "com evil",
        "cöm.evil",
        "a" * 300,
        "com.evil\n",
        "",
        "com.evil%2F",
    ],
)
def test_bad_bundle_ids(bundle_id: str) -> None:
    assert reject_code(build_ipa_bytes(bundle_id=bundle_id, icon=None, profile=None)) == (
        "bad_bundle_id"
    )


@pytest.mark.parametrize("value", [None, 42, ["com.example.a"]])
def test_missing_or_mistyped_bundle_id(value: object) -> None:
    info = {"CFBundleName": "X"} if value is None else {"CFBundleIdentifier": value}
    data = build_ipa_bytes(icon=None, profile=None, info_plist_bytes=plistlib.dumps(info))
    assert reject_code(data) == "bad_bundle_id"


def test_good_bundle_ids() -> None:
    for bundle_id in ("a", "com.Example-Corp.App2", "1.2.3"):
        assert inspect_bytes(build_ipa_bytes(bundle_id=bundle_id, icon=None)).facts.bundle_id == (
            bundle_id
        )


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    writer = ZipWriter(buffer)
    for name, data in entries.items():
        writer.add(name, data)
    writer.close()
    return buffer.getvalue()


INFO = plistlib.dumps({"CFBundleIdentifier": "com.example.a"})


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ({"Payload/": b""}, "no_app_bundle"),
        ({"README.txt": b"hi"}, "no_app_bundle"),
        ({"Wrapper/Payload/A.app/Info.plist": INFO}, "no_app_bundle"),
        ({"__MACOSX/Payload/A.app/Info.plist": INFO}, "no_app_bundle"),
        ({"payload/A.app/Info.plist": INFO}, "no_app_bundle"),
        ({"Payload/A.app/Info.plist": INFO, "Payload/B.app/Info.plist": INFO}, "multiple_apps"),
        ({"Payload/A.app/": b"", "Payload/A.app/A": b"\xcf"}, "no_info_plist"),
        ({"Payload/A.app/Frameworks/": b""}, "no_info_plist"),
        ({"Payload/A.app/Info.plist": b"not a plist at all"}, "info_plist_unreadable"),
        ({"Payload/A.app/Info.plist": plistlib.dumps(["a"])}, "info_plist_unreadable"),
        (
            {
                "Payload/A.app/Info.plist": b'<?xml version="1.0"?><!DOCTYPE plist '
                b'[<!ENTITY x SYSTEM "file:///etc/passwd">]><plist><dict>'
                b"<key>CFBundleIdentifier</key><string>&x;</string></dict></plist>"
            },
            "info_plist_unreadable",
        ),
        (
            {"Payload/A.app/Info.plist": b"<plist>" + b"<array>" * 300 + b"</array>" * 300},
            "info_plist_unreadable",
        ),
        ({"Payload/A.app/Info.plist": b"<plist>" + b" " * 3_000_000}, "entry_too_large"),
    ],
)
def test_structural_rejections(entries: dict[str, bytes], code: str) -> None:
    assert reject_code(_zip(entries)) == code


def test_lying_info_plist_bomb() -> None:
    buffer = io.BytesIO()
    writer = ZipWriter(buffer)
    writer.add("Payload/A.app/Info.plist", b"<plist>" + b" " * 40_000_000, declared_size=500)
    writer.close()
    assert reject_code(buffer.getvalue()) == "entry_too_large"


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "not_a_zip"), (b"just some text\n" * 20, "not_a_zip"), (b"PK\x03\x04", "not_a_zip")],
)
def test_non_archives(data: bytes, code: str) -> None:
    assert reject_code(data) == code


def test_truncated_ipa() -> None:
    data = build_ipa_bytes()
    assert reject_code(data[: len(data) * 2 // 3]) == "truncated"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_archives_fail_only_as_rejections(data: st.DataObject) -> None:
    original = bytearray(_FUZZ_BASE)
    flips = data.draw(st.lists(st.integers(0, len(original) - 1), min_size=1, max_size=8))
    for position in flips:
        original[position] ^= data.draw(st.integers(1, 255))
    # Either the damage is harmless or it is reported as a rejection; nothing else escapes.
    problem: IpaRejected | None = None
    try:
        inspect_bytes(bytes(original))
    except IpaRejected as exc:
        problem = exc
    if problem is not None:
        assert problem.code
        assert problem.message


_FUZZ_BASE = build_ipa_bytes(icon="cgbi", device_family=(1,), plist_format="xml")


def test_bundle_id_length_cap_is_the_one_publishing_uses() -> None:
    # `inspect` must not pass an id the processor then refuses as a key segment.
    longest = "com." + "a" * (bucket_keys.MAX_BUNDLE_ID_LENGTH - 4)
    facts = inspect_bytes(build_ipa_bytes(bundle_id=longest, icon=None, profile=None)).facts
    assert facts.bundle_id == longest
    assert bucket_keys.is_valid_bundle_id(longest)
    too_long = longest + "b"
    with pytest.raises(IpaRejected, match=f"at most {bucket_keys.MAX_BUNDLE_ID_LENGTH}") as caught:
        inspect_bytes(build_ipa_bytes(bundle_id=too_long, icon=None, profile=None))
    assert caught.value.code == "bad_bundle_id"
