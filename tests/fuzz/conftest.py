"""Fixtures shared by the fuzz tests."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def traced_memory() -> Iterator[None]:
    """Requested after the seeds, so building them is not traced (it is slow traced)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    yield
    if started:
        tracemalloc.stop()
