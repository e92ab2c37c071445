"""Bounded fuzzing of the inspector for CI (about half a minute in all).

Real fixture IPAs and generated ones, damaged by flips, truncations, splices
and lying ZIP fields; Info.plists and provisioning profiles of any shape,
packed into otherwise sound IPAs. Only ``IpaRejected`` may escape, memory
stays under ``MEMORY_CAP_BYTES`` (tracemalloc peak per example) and no example
may run past its deadline. ``bench/fuzz_long.py`` runs the same properties
for 100k+ cases.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import (
    check_inspection,
    ipas_with_hostile_info_plists,
    ipas_with_hostile_profiles,
    mutated_archives,
    seed_ipas,
)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=timedelta(seconds=5),  # generous: CI machines are shared; a hang is minutes
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )


@pytest.fixture(scope="module")
def seeds(real_fixtures: Path) -> list[bytes]:
    found = seed_ipas(real_fixtures)
    assert len(found) >= 12
    return found


def test_mutated_real_and_generated_ipas(seeds: list[bytes], traced_memory: None) -> None:
    outcomes: set[str] = set()

    @fuzz(400)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        outcomes.add(check_inspection(data.draw(mutated_archives(seeds))))

    run()
    # The mutations really reach the reader's checks (not just its first one).
    assert len(outcomes - {"ok"}) >= 4, outcomes


@fuzz(100)
@given(ipa=ipas_with_hostile_info_plists())
def test_info_plists_of_any_shape(traced_memory: None, ipa: bytes) -> None:
    check_inspection(ipa)


@fuzz(80)
@given(ipa=ipas_with_hostile_profiles())
def test_profiles_of_any_shape(traced_memory: None, ipa: bytes) -> None:
    # The app around the profile is sound: a broken profile reads as absent, never as a reject.
    assert check_inspection(ipa) == "ok"


def test_the_property_catches_escapes_and_memory_blowups(traced_memory: None) -> None:
    """The checks above can fail: a stray exception or a huge allocation is caught."""
    from ipadrop.domain.model import Inspection
    from ipadrop.reading.errors import IpaRejected

    def crashing(_: object) -> Inspection:
        raise KeyError("boom")

    def hungry(_: object) -> Inspection:
        hog = bytearray(64 * 1024 * 1024)
        raise IpaRejected("corrupt", f"gave up after {len(hog)} bytes")

    with pytest.raises(KeyError):
        check_inspection(b"PK", inspect=crashing)
    with pytest.raises(AssertionError, match="MiB"):
        check_inspection(b"PK", inspect=hungry)
