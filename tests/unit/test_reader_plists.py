"""Safe plist loading: the formats Apple writes, and the tricks we refuse."""

from __future__ import annotations

import plistlib

import pytest

from ipadrop.reading.plists import PlistError, load_plist, load_plist_dict

DOC = {"CFBundleIdentifier": "com.example.a", "UIDeviceFamily": [1, 2], "n": 3}


@pytest.mark.parametrize("fmt", [plistlib.FMT_XML, plistlib.FMT_BINARY])
def test_both_formats(fmt: plistlib.PlistFormat) -> None:
    assert load_plist_dict(plistlib.dumps(DOC, fmt=fmt)) == DOC


def test_apple_doctype_is_accepted_with_bom_and_utf16() -> None:
    xml = plistlib.dumps(DOC)
    assert b"<!DOCTYPE plist PUBLIC" in xml
    assert load_plist_dict(b"\xef\xbb\xbf" + xml) == DOC
    utf16 = xml.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert load_plist_dict(utf16) == DOC


ENTITY_TRICKS = [
    # billion laughs
    b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b"<plist><dict><key>k</key><string>&b;</string></dict></plist>",
    # external entity (file disclosure)
    b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<plist><dict><key>k</key><string>&x;</string></dict></plist>",
    # internal subset without an entity
    b'<?xml version="1.0"?><!DOCTYPE plist [<!ELEMENT plist ANY>]><plist><dict/></plist>',
    # lower case, odd spacing
    b'<?xml version="1.0"?><!doctype plist [ <!entity  x "y"> ]><plist><dict/></plist>',
]


@pytest.mark.parametrize("data", ENTITY_TRICKS)
def test_entity_tricks_are_refused(data: bytes) -> None:
    with pytest.raises(PlistError):
        load_plist(data)
    with pytest.raises(PlistError):
        load_plist(data.decode().encode("utf-16"))


def test_deep_nesting_is_refused_for_xml_and_binary() -> None:
    deep_xml = b"<plist>" + b"<array>" * 500 + b"</array>" * 500 + b"</plist>"
    with pytest.raises(PlistError, match="nested"):
        load_plist(deep_xml)
    value: list[object] = []
    for _ in range(100):
        value = [value]
    with pytest.raises(PlistError, match="nested"):
        load_plist(plistlib.dumps(value, fmt=plistlib.FMT_BINARY))
    assert load_plist(plistlib.dumps(value, fmt=plistlib.FMT_BINARY), max_depth=200)


def test_binary_shared_references_do_not_explode_the_walk() -> None:
    # Each level holds the level below twice: 2**40 paths, 40 objects.
    inner: list[object] = ["leaf"]
    for _ in range(40):
        inner = [inner, inner]
    data = plistlib.dumps(inner, fmt=plistlib.FMT_BINARY)
    assert len(data) < 2000
    assert isinstance(load_plist(data), list)


def test_size_and_node_caps() -> None:
    data = plistlib.dumps({"k": "x" * 5000})
    with pytest.raises(PlistError, match="bytes"):
        load_plist(data, max_bytes=1000)
    many = plistlib.dumps(list(range(5000)), fmt=plistlib.FMT_BINARY)
    with pytest.raises(PlistError, match="too many"):
        load_plist(many, max_nodes=1000)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"bplist00garbage",
        b"<plist><dict><key>a</key></plist>",
        b"<plist><dict><key>a</key><data>not base64!!</data></dict></plist>",
        b"\x00\x01\x02",
    ],
)
def test_garbage_is_a_plist_error(data: bytes) -> None:
    with pytest.raises(PlistError):
        load_plist(data)


def test_dict_required_at_top() -> None:
    with pytest.raises(PlistError, match="not a dictionary"):
        load_plist_dict(plistlib.dumps(["a"]))
