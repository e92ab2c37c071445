"""``python -m bench`` (``make bench``): every benchmark, each beside its baseline.

    .venv/bin/python -m bench [--quick] [--only processor,reading,link,page,bundle] [--fuzz]

Prints the machine, then one table per benchmark, and writes all figures to
``bench/out/results.json``. ``--quick`` trims sizes and repetitions (a smoke
run); ``--fuzz`` adds the long fuzzing run (``bench/fuzz_long.py``, ~10 min).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import bundle, fuzz_long, link, page, processor, reading
from bench.common import ROOT, machine

OUT = ROOT / "bench" / "out"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions")
    parser.add_argument("--only", default="processor,reading,link,page,bundle")
    parser.add_argument("--fuzz", action="store_true", help="also the 100k-case fuzz run")
    parser.add_argument("--workdir", type=Path, default=None, help="parent of the temp IPAs")
    args = parser.parse_args(argv)

    quick = args.quick
    workdir = ["--workdir", str(args.workdir)] if args.workdir else []
    suites: dict[str, Callable[[], Any]] = {
        "processor": lambda: processor.main(
            (["--sizes", "10M,300M", "--repeat", "1"] if quick else []) + workdir
        ),
        "reading": lambda: reading.main([]),
        "link": lambda: link.main(
            ["--runs", "3", "--requests", "100", "--seconds", "1"] if quick else []
        ),
        "page": lambda: page.main(["--runs", "3"] if quick else []),
        "bundle": lambda: bundle.main([]),
    }
    if args.fuzz:
        suites["fuzz"] = lambda: fuzz_long.main(
            ["--archives", "5000", "--plists", "300", "--profiles", "50"] if quick else []
        )
    selected = [name for name in args.only.split(",") if name in suites]
    if args.fuzz and "fuzz" not in selected:
        selected.append("fuzz")

    info = machine()
    print(
        f"ipadrop benchmarks - {info['date']} - {info['nproc']} x {info['cpu']}, "
        f"{info['ram']} RAM, {info['os']}, Python {info['python']}"
    )
    results: dict[str, Any] = {"machine": info, "quick": quick}
    for name in selected:
        print()
        started = time.perf_counter()
        results[name] = suites[name]()
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nFigures written to {(OUT / 'results.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
