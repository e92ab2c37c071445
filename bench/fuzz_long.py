"""Long fuzzing run of the inspector (the CI test's properties, 100k+ cases).

    .venv/bin/python -m bench.fuzz_long [--archives 100000] [--plists 5000] [--profiles 1000]

Three hypothesis runs over the strategies in ``tests/fuzz/strategies.py``:
mutated real + generated IPAs, IPAs with Info.plists of any shape, IPAs with
damaged or strange provisioning profiles. Every case is inspected from memory:
only ``IpaRejected`` may escape, no case may run past the deadline, and the
process's peak resident memory (its high-water mark, reset before each case
through ``/proc/self/clear_refs``) grows by less than ``MEMORY_CAP_BYTES``.
tracemalloc (what the CI test uses) would cost 8x the cases per second here. Prints cases per
second, the outcome mix and the result (a failure is shrunk and printed).
"""

from __future__ import annotations

import argparse
import collections
import time
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.common import ROOT, MiB, peak_rss, table
from tests.fuzz.strategies import (
    MEMORY_CAP_BYTES,
    check_inspection,
    ipas_with_hostile_info_plists,
    ipas_with_hostile_profiles,
    mutated_archives,
    seed_ipas,
)

REAL_FIXTURES = ROOT.parent / "shared" / "fixtures" / "real"


def run_one(name: str, strategy: st.SearchStrategy[bytes], cases: int) -> dict[str, Any]:
    outcomes: collections.Counter[str] = collections.Counter()
    slowest = grown_most = 0.0

    @settings(
        max_examples=cases,
        deadline=timedelta(seconds=10),
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(ipa=strategy)
    def fuzz(ipa: bytes) -> None:
        nonlocal slowest, grown_most
        start = time.perf_counter()
        with peak_rss() as memory:
            outcomes[check_inspection(ipa)] += 1
        slowest = max(slowest, time.perf_counter() - start)
        grown_most = max(grown_most, memory["growth_mib"])
        assert memory["growth_mib"] * MiB < MEMORY_CAP_BYTES, f"grew {memory['growth_mib']} MiB"

    print(f"  {name}: {cases} cases ...", flush=True)
    started = time.perf_counter()
    failure = None
    try:
        fuzz()
    except Exception as error:  # a property failure: report it, keep the other runs
        failure = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
        print(f"    failure in {name}: {failure}", flush=True)
    elapsed = time.perf_counter() - started
    total = sum(outcomes.values())
    return {
        "name": name,
        "cases": total,
        "seconds": elapsed,
        "per_second": total / elapsed if elapsed else 0.0,
        "slowest_s": slowest,
        "peak_growth_mib": grown_most,
        "outcomes": dict(outcomes.most_common()),
        "result": "pass" if failure is None else f"FAIL {failure}",
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archives", type=int, default=100_000)
    parser.add_argument("--plists", type=int, default=5_000)
    parser.add_argument("--profiles", type=int, default=1_000)
    args = parser.parse_args(argv)

    real = REAL_FIXTURES if REAL_FIXTURES.is_dir() else None
    seeds = seed_ipas(real)
    print(
        f"Fuzzing the inspector ({len(seeds)} seed IPAs, real fixtures "
        f"{'found' if real else 'absent'}; memory cap {MEMORY_CAP_BYTES >> 20} MiB)",
        flush=True,
    )
    results = [
        run_one("mutated IPAs", mutated_archives(seeds), args.archives),
        run_one("hostile Info.plists", ipas_with_hostile_info_plists(), args.plists),
        run_one("hostile profiles", ipas_with_hostile_profiles(), args.profiles),
    ]
    rows = [
        [
            r["name"],
            f"{r['cases']:,}",
            f"{r['seconds']:.0f} s",
            f"{r['per_second']:.0f}",
            f"{r['slowest_s'] * 1000:.0f} ms",
            f"{r['peak_growth_mib']:.1f} MiB",
            ", ".join(f"{k} {v}" for k, v in list(r["outcomes"].items())[:6]),
            r["result"],
        ]
        for r in results
    ]
    print(
        table(
            [
                "run",
                "cases",
                "time",
                "cases/s",
                "slowest",
                "max RSS growth",
                "outcomes (top)",
                "result",
            ],
            rows,
        )
    )
    return results


if __name__ == "__main__":
    main()
