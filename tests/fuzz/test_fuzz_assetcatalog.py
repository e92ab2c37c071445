"""Bounded fuzzing of the asset catalog reader (a few seconds): damaged real and
built catalogs never raise, never hang and stay under the memory cap."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.catalog_strategies import check_catalog, mutated_catalogs, seed_catalogs


@pytest.fixture(scope="module")
def catalogs(real_fixtures: Path) -> list[bytes]:
    found = seed_catalogs(real_fixtures)
    assert len(found) >= 9
    return found


def test_damaged_catalogs(catalogs: list[bytes], traced_memory: None) -> None:
    outcomes: set[str] = set()

    @settings(
        max_examples=300,
        deadline=timedelta(seconds=5),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        outcomes.add(check_catalog(data.draw(mutated_catalogs(catalogs))))

    run()
    # Some damage is survivable (an icon still comes out), most is not.
    assert outcomes == {"icon", "none"}, outcomes
