"""Hypothesis strategies that damage IPAs the way the world does (and worse):
byte flips, truncations, splices and lying ZIP fields over real and generated
archives; random and half-valid Info.plists and provisioning profiles packed
into otherwise sound IPAs. Shared by the CI fuzz tests and ``bench/fuzz_long.py``.

``check_inspection`` is the property: only ``IpaRejected`` may escape the
inspector, memory stays under a cap, and what it returns is well formed.
"""

from __future__ import annotations

import datetime as dt
import json
import plistlib
import struct
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from hypothesis import strategies as st

from ipadrop.domain.bucket_keys import is_valid_bundle_id
from ipadrop.domain.model import Inspection
from ipadrop.reading.errors import IpaRejected
from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.sources import BytesSource
from ipadrop_tools.devkit.sample_ipa import (
    ProfileKind,
    build_ipa_bytes,
    profile_plist,
    sample_profile,
)

# The reader caps each entry it reads at 2 MiB (Info.plist, icon, profile);
# decoding an icon adds its pixels. Anything near this means a cap is missing.
MEMORY_CAP_BYTES = 48 * 1024 * 1024
APP = "Payload/Fuzz.app"
Envelope = Literal["cms", "xml", "binary"]
_SIGNATURES = (b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07")
_INTERESTING_U32 = (0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
_INTERESTING_U16 = (0, 1, 0xFF, 0x7FFF, 0xFFFF)


def seed_ipas(real_dir: Path | None) -> list[bytes]:
    """Real IPAs (when the shared fixtures are present) and a spread of generated ones."""
    seeds = [path.read_bytes() for path in sorted(real_dir.rglob("*.ipa"))] if real_dir else []
    # IPAs whose icon lives only in a real asset catalog (LZVN and Icon Composer).
    for folder in ("Mosquito1123__WTResign", "marcinkapturski__wdio-ios-app"):
        catalog = real_dir / folder / "Assets.car" if real_dir else None
        if catalog is not None and catalog.is_file():
            seeds.append(
                build_ipa_bytes(
                    icon=None,
                    app_dir_name=APP.split("/", 1)[1],
                    extra_entries=[(f"{APP}/Assets.car", catalog.read_bytes())],
                )
            )
    seeds += [
        build_ipa_bytes(),
        build_ipa_bytes(plist_format="xml", icon="png", profile="ad-hoc", zip64=True),
        build_ipa_bytes(icon="cgbi", profile="development", plugins=["Share"], macosx_litter=True),
        build_ipa_bytes(icon=None, profile=None, device_family=(2,)),
    ]
    return seeds


@dataclass(frozen=True)
class Mutation:
    kind: str
    position: float  # 0..1 of the data length (or of the ZIP signatures found)
    value: int
    length: int
    other: float

    def apply(self, data: bytes, donors: Sequence[bytes]) -> bytes:
        size = len(data)
        if size == 0:
            return data
        at = min(size - 1, int(self.position * size))
        if self.kind == "flip":
            return data[:at] + bytes([data[at] ^ (1 << (self.value % 8))]) + data[at + 1 :]
        if self.kind == "byte":
            return data[:at] + bytes([self.value & 0xFF]) + data[at + 1 :]
        if self.kind == "truncate":
            return data[:at]
        if self.kind == "cut":
            return data[:at] + data[at + self.length :]
        if self.kind == "insert":
            return data[:at] + bytes([self.value & 0xFF]) * self.length + data[at:]
        if self.kind == "splice":
            donor = donors[self.value % len(donors)] if donors else data
            start = int(self.other * len(donor))
            return data[:at] + donor[start : start + self.length] + data[at + self.length :]
        if self.kind == "field":
            return _lie_in_a_field(data, self)
        raise ValueError(self.kind)


def _lie_in_a_field(data: bytes, mutation: Mutation) -> bytes:
    """Overwrite a size, offset, count or length field of a ZIP record."""
    found = [i for sig in _SIGNATURES for i in _find_all(data, sig)]
    if not found:
        return data
    record = found[min(len(found) - 1, int(mutation.position * len(found)))]
    offset = record + 4 + (mutation.length % 42)
    wide = mutation.other < 0.6
    values = _INTERESTING_U32 if wide else _INTERESTING_U16
    value = values[mutation.value % len(values)]
    packed = struct.pack("<I" if wide else "<H", value)
    if offset + len(packed) > len(data):
        return data
    return data[:offset] + packed + data[offset + len(packed) :]


def _find_all(data: bytes, needle: bytes) -> list[int]:
    found, start = [], 0
    while (index := data.find(needle, start)) >= 0:
        found.append(index)
        start = index + 1
    return found


mutations = st.builds(
    Mutation,
    kind=st.sampled_from(["flip", "byte", "truncate", "cut", "insert", "splice", "field"]),
    position=st.floats(0, 1),
    value=st.integers(0, 255),
    length=st.integers(1, 4096),
    other=st.floats(0, 1),
)


@st.composite
def mutated_archives(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    data = draw(st.sampled_from(seeds))
    for mutation in draw(st.lists(mutations, min_size=1, max_size=6)):
        data = mutation.apply(data, seeds)
    return data


# ---------------------------------------------------------------- plists

_text = st.text(max_size=40)
_scalars = st.one_of(
    _text,
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.binary(max_size=32),
    st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1)),
)
plist_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(_text, children, max_size=5)
    ),
    max_leaves=20,
)
_INFO_KEYS = (
    "CFBundleIdentifier",
    "CFBundleDisplayName",
    "CFBundleName",
    "CFBundleShortVersionString",
    "CFBundleVersion",
    "MinimumOSVersion",
    "UIDeviceFamily",
    "CFBundleIcons",
    "CFBundleIcons~ipad",
    "CFBundleIconFiles",
    "CFBundleIconFile",
)


bundle_ids = st.one_of(
    st.just("com.example.fuzz"),
    st.from_regex(r"[A-Za-z0-9.-]{1,30}", fullmatch=True),
    _text,
)


@st.composite
def info_plists(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible Info.plist with some values replaced by anything at all."""
    info: dict[str, Any] = {
        "CFBundleIdentifier": draw(bundle_ids),
        "CFBundleDisplayName": "Fuzz",
        "CFBundleVersion": "1",
        "CFBundleIcons": {"CFBundlePrimaryIcon": {"CFBundleIconFiles": ["AppIcon60x60"]}},
    }
    for key in draw(st.lists(st.sampled_from(_INFO_KEYS), max_size=5, unique=True)):
        info[key] = draw(plist_values)
    info.update(draw(st.dictionaries(_text, plist_values, max_size=3)))
    return info


def _serialise(document: Any, binary: bool) -> bytes | None:
    try:
        return plistlib.dumps(document, fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML)
    except (TypeError, ValueError, OverflowError):
        return None  # plistlib cannot write it (control characters in XML, ...)


@st.composite
def ipas_with_hostile_info_plists(draw: st.DrawFn) -> bytes:
    binary = draw(st.booleans())
    data = _serialise(draw(info_plists()), binary) or b"<plist>"
    for mutation in draw(st.lists(mutations.filter(lambda m: m.kind != "field"), max_size=3)):
        data = mutation.apply(data, [])
    return build_ipa_bytes(app_dir_name="Fuzz.app", info_plist_bytes=data, profile=None)


@st.composite
def ipas_with_hostile_profiles(draw: st.DrawFn) -> bytes:
    kind: ProfileKind = draw(st.sampled_from(["enterprise", "ad-hoc", "development", "app-store"]))
    envelope = draw(st.sampled_from(["cms", "xml", "binary", "random"]))
    if envelope == "random":
        document = profile_plist(kind)
        for key in draw(st.lists(st.sampled_from(sorted(document)), max_size=4, unique=True)):
            document[key] = draw(plist_values)
        profile = _serialise(document, draw(st.booleans())) or b""
    else:
        profile = sample_profile(kind, envelope=cast(Envelope, envelope))
    for mutation in draw(st.lists(mutations.filter(lambda m: m.kind != "field"), max_size=3)):
        profile = mutation.apply(profile, [])
    return build_ipa_bytes(
        app_dir_name="Fuzz.app",
        profile=None,
        extra_entries={f"{APP}/embedded.mobileprovision": profile},
    )


# ---------------------------------------------------------------- property


def check_inspection(data: bytes, *, inspect: Callable[[Any], Inspection] = inspect_ipa) -> str:
    """Inspect ``data``; return "ok" or the rejection code. Raises AssertionError
    when the property breaks (any other exception propagates as is)."""
    tracing = tracemalloc.is_tracing()
    held_before = 0
    if tracing:
        tracemalloc.reset_peak()
        held_before = tracemalloc.get_traced_memory()[0]
    rejected: IpaRejected | None = None
    try:
        inspection = inspect(BytesSource(data))
    except IpaRejected as error:
        rejected = error
    if rejected is not None:
        assert isinstance(rejected.code, str)
        assert rejected.code
        assert rejected.message
        assert "\n" not in rejected.message, rejected.message
        outcome = rejected.code
    else:
        facts = inspection.facts
        assert is_valid_bundle_id(facts.bundle_id), facts.bundle_id
        assert facts.size_bytes == len(data)
        json.dumps(facts.to_json())
        if inspection.icon_png is not None:
            assert inspection.icon_png.startswith(b"\x89PNG\r\n\x1a\n")
        outcome = "ok"
    if tracing:
        # The peak counts everything alive (hypothesis keeps a lot): only growth is ours.
        grown = tracemalloc.get_traced_memory()[1] - held_before
        assert grown < MEMORY_CAP_BYTES, f"inspecting took {grown / 2**20:.1f} MiB"
    return outcome
