"""The public routes' SnapStart entry: hooks registered with Lambda's library,
randomness and secrets refreshed after a restore, same answers as the link handler."""

from __future__ import annotations

import importlib
import random
import sys
import types
from collections.abc import Callable, Iterator

import pytest

from ipadrop.handlers import wiring


@pytest.fixture
def runtime_hooks(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, list[Callable[[], object]]]]:
    """A stand-in for ``snapshot_restore_py`` (part of Lambda's Python runtime)."""
    registered: dict[str, list[Callable[[], object]]] = {"before": [], "after": []}

    def recorder(when: str) -> Callable[[Callable[[], object]], Callable[[], object]]:
        def register(func: Callable[[], object]) -> Callable[[], object]:
            registered[when].append(func)
            return func

        return register

    fake = types.ModuleType("snapshot_restore_py")
    fake.__dict__["register_before_snapshot"] = recorder("before")
    fake.__dict__["register_after_restore"] = recorder("after")
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    monkeypatch.delitem(sys.modules, "ipadrop.handlers.link_public", raising=False)
    importlib.import_module("ipadrop.handlers.link_public")  # registers as Lambda would
    yield registered
    # Later imports get a module built without the stand-in.
    sys.modules.pop("ipadrop.handlers.link_public", None)


def test_hooks_are_registered_with_lambdas_library(
    runtime_hooks: dict[str, list[Callable[[], object]]],
) -> None:
    from ipadrop.handlers import link_public

    assert [f.__name__ for f in runtime_hooks["before"]] == ["prime"]
    assert [f.__name__ for f in runtime_hooks["after"]] == ["refresh"]
    assert link_public.handler.__module__ == "ipadrop.handlers.link_public"


def test_restore_reseeds_random_state() -> None:
    from ipadrop.handlers import link_public

    random.seed(1234)
    snapshotted = random.random()  # noqa: S311 - the state, not a secret
    random.seed(1234)  # every restored copy starts from the snapshot's state
    link_public.refresh()
    assert random.random() != snapshotted  # noqa: S311


def test_nothing_read_from_secrets_survives_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    from ipadrop.handlers import link_public

    built: list[object] = []

    def build_service(settings: object) -> object:
        built.append(settings)
        return object()

    monkeypatch.setattr(wiring, "build_service", build_service)
    monkeypatch.setenv("IPADROP_BUCKET", "bucket")
    monkeypatch.setenv("IPADROP_DISTRIBUTION_URL", "https://apps.example.com")
    monkeypatch.setenv("IPADROP_TOKEN_SECRET_ID", "tokens")
    wiring.service.cache_clear()
    link_public.prime()
    assert len(built) == 1  # primed: the service was built once before the snapshot...
    assert wiring.service.cache_info().currsize == 0  # ...and dropped with what it read
    wiring.service()
    assert len(built) == 2  # the first request after a restore reads the secrets again
    wiring.service.cache_clear()


def test_prime_survives_a_misconfigured_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ipadrop.handlers import link_public

    monkeypatch.delenv("IPADROP_BUCKET", raising=False)
    wiring.service.cache_clear()
    link_public.prime()  # the error shows on the first request, as a page, not at publish
    assert wiring.service.cache_info().currsize == 0
