"""Every file in ../shared/fixtures/real/, checked against what it really contains.

The expected values were read independently of ipadrop (zipfile + plistlib +
asn1crypto by hand) and are pinned here; a new file in the folder fails
``test_every_file_is_covered`` until it gets its row.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from ipadrop.domain import bucket_keys
from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.profiles import parse_profile
from ipadrop.reading.sources import CountingSource, LocalFileSource
from tests.unit.test_reader_assetcatalog import REAL as CATALOGS

IPAS: dict[str, dict[str, Any]] = {
    "icyleaf__app_info/iphone.ipa": {
        "bundle_id": "com.icyleaf.AppInfoDemo",
        "version": "1.2.3",
        "build": "5",
        "title": "AppInfoDemo",
        "minimum_os_version": "9.3",
        "device_family": ["iphone"],
        "icon": None,  # no loose PNG and no Assets.car in this archive
        "profile": {
            "name": "iOS Team Provisioning Profile: *",
            "uuid": "3e5c38a0-3031-4624-9c2d-c508df973b15",
            "team_id": "5PJA6N5A3B",
            "team_name": "QYER Inc",
            "expires_at": "2017-07-27T09:44:49Z",
            "distribution": "development",
            "device_count": 100,
            "certificates": 13,
        },
    },
    "icyleaf__app_info/ipad.ipa": {
        "bundle_id": "com.icyleaf.bundle",
        "version": "1.0",
        "build": "1",
        "title": "bundle",
        "minimum_os_version": "9.3",
        "device_family": ["ipad"],
        "icon": ("Payload/bundle.app/AppIcon83.5x83.5@2x~ipad.png", 167),
        "profile": {
            "name": "XC: *",
            "uuid": "38679c6c-63e4-4dd4-af9e-f6fd4ff539f9",
            "team_id": "5PJA6N5A3B",
            "team_name": "QYER Inc",
            "expires_at": "2017-04-12T09:37:18Z",
            "distribution": "app-store",
            "device_count": 0,
            "certificates": 1,
        },
    },
    "icyleaf__app_info/embedded.ipa": {
        "bundle_id": "com.icyleaf.test.Demo",
        "version": "1.0",
        "build": "1",
        "title": "Demo",
        "minimum_os_version": "14.3",
        "device_family": ["iphone", "ipad"],
        "icon": None,
        "profile": {
            "name": "iOS Team Inhouse Provisioning Profile: com.icyleaf.test.Demo",
            "uuid": "1f67e425-350e-434c-9077-9e0791347bbf",
            "team_id": "72LA85G59H",
            "team_name": "Niceliving Beijing Technology Co. Ltd.",
            "expires_at": "2022-01-15T06:40:53Z",
            "distribution": "enterprise",
            "device_count": 0,
            "certificates": 2,
        },
    },
    "iineva__ipa-server/ipa.ipa": {
        "bundle_id": "com.ineva.test-rtmp.Test",
        "version": "1.0",
        "build": "1",
        "title": "Test",
        "minimum_os_version": "13.1",
        "device_family": ["iphone", "ipad"],
        # AppIcon60x60 is declared but lives only in Assets.car (LZFSE, 180 px).
        "icon": ("Payload/Test.app/Assets.car#AppIcon", 180),
        "profile": {
            "name": "iOS Team Provisioning Profile: com.ineva.test-rtmp.Test",
            "uuid": "f4ec4d8a-8a0e-493c-add9-8ba1c4b8d638",
            "team_id": "GC6FQHF5NF",
            "team_name": "Qin Junru",
            "expires_at": "2022-05-09T06:59:38Z",
            "distribution": "development",
            "device_count": 35,
            "certificates": 2,
        },
    },
    "bitbar__test-samples/bitbar-ios-sample.ipa": {
        "bundle_id": "com.bitbar.testdroid.BitbarIOSSample",
        "version": "1.0",
        "build": "1.0",
        "title": "BitbarIOSSample",
        "minimum_os_version": "6.0",
        "device_family": ["iphone", "ipad"],
        "icon": ("Payload/BitbarIOSSample.app/icon.png", 57),
        "profile": {
            "name": "XC Ad Hoc: *",
            "uuid": "85bef95d-eeb7-4384-b909-86fece8c67fa",
            "team_id": "N9HW7DB6H4",
            "team_name": "Bitbar Technologies Oy",
            "expires_at": "2016-12-07T07:46:52Z",
            "distribution": "ad-hoc",
            "device_count": 129,
            "certificates": 1,
        },
    },
    "OWASP__owasp-mastg/UnCrackable-Level1.ipa": {
        "bundle_id": "sg.vp.UnCrackable1",
        "version": "1.0",
        "build": "1",
        "title": "UnCrackable1",
        "minimum_os_version": "8.0",
        "device_family": ["iphone", "ipad"],
        "icon": ("Payload/UnCrackable Level 1.app/AppIcon-160x60@3x.png", 180),
        "profile": {
            "name": "XC iOS: sg.vp.UnCrackable1",
            "uuid": "60249c03-1a48-46ba-b9ae-d91158108d7e",
            "team_id": "LRUD9L355Y",
            "team_name": "Vantage Point Security Pte. Ltd.",
            "expires_at": "2018-01-27T09:18:04Z",
            "distribution": "enterprise",
            "device_count": 0,
            "certificates": 1,
        },
    },
    "CsabaSzabo__ipa_analyzer/test_unexpected-CFBundleIconFiles.ipa": {
        "bundle_id": "CsabaSzabo.ios-simple-objc",
        "version": "1.0",
        "build": "1",
        "title": "ios-simple-objc",
        "minimum_os_version": "8.1",
        "device_family": ["iphone", "ipad"],
        "icon": ("Payload/ios-simple-objc.app/AppIcon60x60@3x.png", 180),
        "profile": {
            "name": "BitriseBot-Wildcard",
            "uuid": "335312dd-6845-475f-959b-9bbae2f97a3e",
            "team_id": "72SA8V3WYL",
            "team_name": "BITFALL FEJLESZTO KORLATOLT FELELOSSEGU TARSASAG",
            "expires_at": "2019-01-27T13:38:07Z",
            "distribution": "development",
            "device_count": 1,
            "certificates": 1,
        },
    },
}

REJECTED = {
    "fastlane__fastlane/not-an-ipa.ipa": "not_a_zip",
    "fastlane__fastlane/no-app-bundle.ipa": "no_app_bundle",
    "fastlane__fastlane/with_no_swift.ipa": "no_info_plist",
    "fastlane__fastlane/iOS App With Spaces.ipa": "no_app_bundle",  # Payload nested one level
}

PROFILES: dict[str, dict[str, Any]] = {
    "icyleaf__app_info/ios_adhoc.mobileprovision": {
        "name": "iOS Full AdHoc",
        "uuid": "7d02c76e-f937-40e9-bdac-a5a389612352",
        "team_id": "WKR87TTKML",
        "team_name": "Niceliving (Beijing) Technology Co., Ltd.",
        "expires_at": "2020-10-24T08:40:28Z",
        "distribution": "ad-hoc",
        "device_count": 1,
        "certificates": 1,
    },
    "icyleaf__app_info/ios_appstore.mobileprovision": {
        "name": "iOS Full AppStore",
        "uuid": "cff15ed3-7c89-4c6d-b6fd-0a9c57675a14",
        "team_id": "WKR87TTKML",
        "team_name": "Niceliving (Beijing) Technology Co., Ltd.",
        "expires_at": "2020-10-24T08:40:28Z",
        "distribution": "app-store",
        "device_count": 0,
        "certificates": 1,
    },
    "icyleaf__app_info/ios_development.mobileprovision": {
        "name": "iOS Full Development",
        "uuid": "9b42a96b-b520-40ef-9748-eee6e7c40f0b",
        "team_id": "WKR87TTKML",
        "team_name": "Niceliving (Beijing) Technology Co., Ltd.",
        "expires_at": "2021-07-21T08:43:27Z",
        "distribution": "development",
        "device_count": 1,
        "certificates": 1,
    },
    "icyleaf__app_info/plist.mobileprovision": {
        "name": "com.icyleaf.ios",
        "uuid": "12345678-5af4-4b93-b7e1-ca71e35562e1",
        "team_id": "1234567890",
        "team_name": "icyleaf",
        "expires_at": "2020-06-19T11:47:07Z",
        "distribution": "enterprise",
        "device_count": 0,
        "certificates": 0,
    },
    "icyleaf__app_info/bplist.mobileprovision": {
        "name": "com.icyleaf.ios",
        "uuid": "12345678-5af4-4b93-b7e1-ca71e35562e1",
        "team_id": "1234567890",
        "team_name": "icyleaf",
        "expires_at": "2020-06-19T11:47:07Z",
        "distribution": "enterprise",
        "device_count": 0,
        "certificates": 0,
    },
    "fastlane__fastlane/test.mobileprovision": {
        "name": "tools.fastlane.app AppStore",
        "uuid": "98264c6b-5151-4349-8d0f-66691e48ae35",
        "team_id": "439BBM9367",
        "team_name": "Felix Krause",
        "expires_at": "2016-11-07T20:58:52Z",
        "distribution": "app-store",
        "device_count": 0,
        "certificates": 1,
    },
    # A stray 0x01 before the XML, and <data>certificate+key</data> that is not base64.
    "appaloosa-store__mobile_provision/has_associated_domains.mobileprovision": {
        "name": "test",
        "uuid": "my-UUID-For-The-Win",
        "team_id": "MyTeamId",
        "team_name": "Appaloosa",
        "expires_at": "2017-03-17T15:46:28Z",
        "distribution": "ad-hoc",
        "device_count": 1,
        "certificates": 0,
    },
}

ICONS = {  # checked in test_reader_png
    "codemagic-ci-cd__cli-tools/Capybara App.app/AppIcon29x29@2x.png",
    "codemagic-ci-cd__cli-tools/Capybara App.app/AppIcon60x60@3x.png",
}


def test_every_file_is_covered(real_fixtures: Path) -> None:
    present = {
        str(path.relative_to(real_fixtures))
        for path in real_fixtures.rglob("*")
        if path.is_file() and path.name not in ("README.md", "SOURCES.tsv")
    }
    catalogs = {f"{folder}/Assets.car" for folder, _ in CATALOGS}  # test_reader_assetcatalog
    assert present == set(IPAS) | set(REJECTED) | set(PROFILES) | ICONS | catalogs


def verify_png(data: bytes) -> tuple[int, int]:
    """What a browser needs: signature, valid CRCs, no CgBI, zlib data of the right size."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    position, kinds, idat = 8, [], b""
    header: tuple[int, ...] = ()
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        assert struct.unpack_from(">I", data, position + 8 + length)[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        if kind == b"IDAT":
            idat += body
        kinds.append(kind)
        position += 12 + length
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    assert b"CgBI" not in kinds
    width, height, depth, color, _, _, interlace = header
    assert interlace == 0
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    row_bytes = (width * channels * depth + 7) // 8
    assert len(zlib.decompress(idat)) == height * (1 + row_bytes)
    return width, height


@pytest.mark.parametrize("relative", sorted(IPAS))
def test_real_ipa(real_fixtures: Path, relative: str) -> None:
    expected = IPAS[relative]
    path = real_fixtures / relative
    with LocalFileSource(path) as local:
        source = CountingSource(local)
        result = inspect_ipa(source)
    facts = result.facts
    for key in ("bundle_id", "version", "build", "title", "minimum_os_version", "device_family"):
        assert getattr(facts, key) == expected[key], key
    assert facts.size_bytes == path.stat().st_size
    if expected["icon"] is None:
        assert facts.icon is None
        assert result.icon_png is None
    else:
        source_name, side = expected["icon"]
        assert facts.icon is not None
        assert (facts.icon.source, facts.icon.width, facts.icon.height) == (source_name, side, side)
        assert result.icon_png is not None
        page_side = min(side, bucket_keys.ICON_PIXELS[bucket_keys.ICON_NAME])
        assert verify_png(result.icon_png) == (page_side, page_side)
        for name, pixels in bucket_keys.ICON_PIXELS.items():
            assert verify_png(result.icon_files[name]) == (min(side, pixels),) * 2
    _check_profile(facts.profile, expected["profile"])
    # Never the whole archive once the directory is known (tiny files fit in one tail read),
    # and at most three rounds: the tail, then the entries together (then stragglers).
    assert source.reads <= 6
    assert source.rounds <= 3


def _check_profile(profile: Any, expected: dict[str, Any]) -> None:
    assert profile is not None
    for key, value in expected.items():
        if key == "certificates":
            assert len(profile.certificates_expire_at) == value
            assert all(when.endswith("Z") for when in profile.certificates_expire_at)
        else:
            assert getattr(profile, key) == value, key


@pytest.mark.parametrize("relative", sorted(REJECTED))
def test_real_rejections(real_fixtures: Path, relative: str) -> None:
    with LocalFileSource(real_fixtures / relative) as source, pytest.raises(IpaRejected) as caught:
        inspect_ipa(source)
    assert caught.value.code == REJECTED[relative]


@pytest.mark.parametrize("relative", sorted(PROFILES))
def test_real_profiles(real_fixtures: Path, relative: str) -> None:
    _check_profile(parse_profile((real_fixtures / relative).read_bytes()), PROFILES[relative])


def test_real_certificate_expiry_is_the_certificates_own(real_fixtures: Path) -> None:
    profile = parse_profile(
        (real_fixtures / "fastlane__fastlane/test.mobileprovision").read_bytes()
    )
    assert profile.certificates_expire_at == ["2016-11-07T20:58:52Z"]
