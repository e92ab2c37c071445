"""A 200 MB IPA whose big entries come before Info.plist: inspecting reads < 1 MB."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ipadrop.reading.inspector import inspect_ipa
from ipadrop.reading.sources import CountingSource, LocalFileSource
from ipadrop.reading.zipreader import TAIL_BYTES
from ipadrop_tools.devkit.sample_ipa import build_ipa

PADDING = 200 * 1024 * 1024


@pytest.fixture(scope="session")
def large_ipa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "large.ipa"
    build_ipa(path, bundle_id="com.example.large", padding_bytes=PADDING, profile="enterprise")
    return path


@pytest.mark.slow
def test_large_ipa_reads_under_one_megabyte(large_ipa: Path) -> None:
    size = large_ipa.stat().st_size
    assert size > PADDING
    # The padding really precedes Info.plist in the archive.
    with zipfile.ZipFile(large_ipa) as reference:
        offsets = {info.filename: info.header_offset for info in reference.infolist()}
    padding_name = next(name for name in offsets if name.endswith("Payload.bin"))
    assert offsets[padding_name] < offsets["Payload/Sample.app/Info.plist"]
    assert offsets["Payload/Sample.app/Info.plist"] > PADDING

    with LocalFileSource(large_ipa) as local:
        source = CountingSource(local)
        result = inspect_ipa(source)
    assert result.facts.bundle_id == "com.example.large"
    assert result.facts.size_bytes == size
    assert result.facts.icon is not None
    assert result.facts.profile is not None
    assert source.bytes_read < 1024 * 1024, source.ranges
    assert source.reads <= 10
    # No read touches the padding entry's data but the tail read (which ends the file).
    padding_start = offsets[padding_name] + 30 + len(padding_name.encode())  # no extra field
    for offset, length in source.ranges:
        if offset + length == size:
            assert length <= TAIL_BYTES
            continue
        assert offset + length <= padding_start or offset >= padding_start + PADDING


@pytest.mark.slow
def test_large_zip64_ipa(tmp_path: Path) -> None:
    path = tmp_path / "zip64.ipa"
    build_ipa(path, padding_bytes=5 * 1024 * 1024, zip64=True)
    with LocalFileSource(path) as local:
        source = CountingSource(local)
        assert inspect_ipa(source).facts.bundle_id == "com.example.sample"
    assert source.bytes_read < 1024 * 1024
