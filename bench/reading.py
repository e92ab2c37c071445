"""Reading an IPA: sequential rounds, requests and bytes per inspection, ours
beside the reader before the round planning (run from git history), priced
with the S3 model; then the cost of reading the asset catalog and of
converting a 1024 px CgBI icon.

    .venv/bin/python -m bench.reading [--baseline-commit 8dc78f5]

The baseline is the reader as it was at ``--baseline-commit``: its
``lambdas/ipadrop`` tree is extracted with ``git archive`` into a temp dir
and run in a subprocess over the same files through its own
``CountingSource``. It read one range at a time, so its rounds are its
requests. Ours counts a ``read_many`` batch (what ``S3RangeSource`` fetches
concurrently) as one round. The S3 model: 30 ms first-byte latency per round
plus every byte at 90 MB/s (one stream; concurrent GETs are not assumed to
add bandwidth), the same constants as ``bench.processor``.

Files: every accepted real IPA in ../shared/fixtures/real, generated IPAs
(10 MB of padding before Info.plist; 4,000 extra files, so the central
directory outgrows the tail read; a real IPA with a 20 MB binary appended, so
its entries lie far from the tail), and generated IPAs whose only icon is one
of the real Assets.car catalogs (no loose PNG).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, human_bytes, median, ms, table
from bench.processor import S3_REQUEST_SECONDS, S3_STREAM_BYTES_PER_SECOND

REAL = ROOT.parent / "shared" / "fixtures" / "real"
DEFAULT_BASELINE = "8dc78f5"  # the reader before round planning and the asset catalog

_BASELINE_SCRIPT = r"""
import json, sys, time
from ipadrop.ipa import inspect_ipa
from ipadrop.errors import IpaRejected
from ipadrop.png import cgbi_to_png
from ipadrop.sources import CountingSource, LocalFileSource
out = {}
for path in sys.argv[2:]:
    with LocalFileSource(path) as local:
        source = CountingSource(local)
        started = time.perf_counter()
        try:
            result = inspect_ipa(source)
            icon = result.facts.icon
            outcome = f"{icon.source.rsplit('/', 1)[-1]} {icon.width}px" if icon else "no icon"
        except IpaRejected as error:
            outcome = error.code
        out[path] = {"reads": source.reads, "bytes": source.bytes_read, "outcome": outcome,
                     "seconds": time.perf_counter() - started}
cgbi = open(sys.argv[1], "rb").read()
times = []
for _ in range(3):
    started = time.perf_counter(); cgbi_to_png(cgbi); times.append(time.perf_counter() - started)
out["cgbi_seconds"] = sorted(times)[1]
print(json.dumps(out))
"""


def model(rounds: int, nbytes: int) -> float:
    return rounds * S3_REQUEST_SECONDS + nbytes / S3_STREAM_BYTES_PER_SECOND


def _generated(workdir: Path) -> list[Path]:
    from ipadrop_tools.devkit.sample_ipa import build_ipa

    made: list[Path] = []
    padded = workdir / "padded-10MB.ipa"
    build_ipa(padded, padding_bytes=10 * 1024 * 1024, profile="ad-hoc")
    made.append(padded)
    many = workdir / "4000-files.ipa"
    extra = [(f"Payload/Sample.app/res/file-{i:05d}.txt", b"x" * 20) for i in range(4000)]
    build_ipa(many, extra_entries=extra, profile="enterprise")
    made.append(many)
    # The usual order: Info.plist, icons and catalog first, the big binary after
    # them, the central directory last (entries far from the tail and each other).
    appended = workdir / "ipad+20MB-binary.ipa"
    appended.write_bytes((REAL / "icyleaf__app_info" / "ipad.ipa").read_bytes())
    with zipfile.ZipFile(appended, "a") as archive:
        archive.writestr(
            zipfile.ZipInfo("Payload/bundle.app/Frameworks/Big.framework/Big"),
            random.Random(7).randbytes(20 * 1024 * 1024),
            compress_type=zipfile.ZIP_STORED,
        )
    made.append(appended)
    for catalog in sorted(REAL.glob("*/Assets.car")):
        path = workdir / f"car-{catalog.parent.name}.ipa"
        build_ipa(
            path,
            icon=None,
            padding_bytes=2 * 1024 * 1024,
            extra_entries=[("Payload/Sample.app/Assets.car", catalog.read_bytes())],
        )
        made.append(path)
    return made


def _ours(paths: list[Path]) -> dict[str, dict[str, Any]]:
    from ipadrop.reading.errors import IpaRejected
    from ipadrop.reading.inspector import inspect_ipa
    from ipadrop.reading.sources import CountingSource, LocalFileSource

    out: dict[str, dict[str, Any]] = {}
    for path in paths:
        with LocalFileSource(path) as local:
            source = CountingSource(local)
            started = time.perf_counter()
            try:
                result = inspect_ipa(source)
                icon = result.facts.icon
                outcome = f"{icon.source.rsplit('/', 1)[-1]} {icon.width}px" if icon else "no icon"
            except IpaRejected as error:
                outcome = error.code
            out[str(path)] = {
                "reads": source.reads,
                "rounds": source.rounds,
                "bytes": source.bytes_read,
                "outcome": outcome,
                "seconds": time.perf_counter() - started,
            }
    return out


def _baseline(commit: str, paths: list[Path], cgbi: Path, workdir: Path) -> dict[str, Any]:
    tree = workdir / "baseline"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "lambdas/ipadrop"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    run = subprocess.run(
        [sys.executable, "-c", _BASELINE_SCRIPT, str(cgbi), *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tree / "lambdas"), "PATH": "/usr/bin:/bin"},
    )
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def _catalog_costs() -> list[list[str]]:
    from ipadrop.reading.assetcatalog import extract_icon

    rows = []
    for catalog in sorted(REAL.glob("*/Assets.car")):
        data = catalog.read_bytes()
        deflated = len(zlib_compress(data))
        times = []
        icon = None
        for _ in range(5):
            started = time.perf_counter()
            icon = extract_icon(data)
            times.append(time.perf_counter() - started)
        inflate = _inflate_seconds(data)
        rows.append(
            [
                catalog.parent.name,
                human_bytes(len(data)),
                human_bytes(deflated),
                ms(model(0, deflated)),
                ms(inflate),
                ms(median(times)),
                f"{icon.width} px" if icon else "none (loose PNGs)",
            ]
        )
    return rows


def zlib_compress(data: bytes) -> bytes:
    import zlib

    return zlib.compress(data, 6)


def _inflate_seconds(data: bytes) -> float:
    import zlib

    packed = zlib_compress(data)
    started = time.perf_counter()
    zlib.decompress(packed)
    return time.perf_counter() - started


def _cgbi_sample(workdir: Path) -> Path:
    """A 1024 px CgBI icon made from a real catalog icon (opaque, filter None, as Xcode does)."""
    from ipadrop.reading.assetcatalog import extract_icon
    from ipadrop_tools.devkit.sample_ipa import write_cgbi_png

    icon = extract_icon((REAL / "Mosquito1123__WTResign" / "Assets.car").read_bytes())
    if icon is None:
        raise SystemExit("the WTResign catalog no longer decodes")
    path = workdir / "icon-1024-cgbi.png"
    path.write_bytes(write_cgbi_png(1024, 1024, rgba=icon.rgba))
    return path


def _ours_cgbi(path: Path) -> tuple[float, float]:
    from ipadrop.reading.inspector import icon_files
    from ipadrop.reading.png import cgbi_to_png, decode_png

    data = path.read_bytes()
    convert, publish = [], []
    for _ in range(3):
        started = time.perf_counter()
        cgbi_to_png(data)
        convert.append(time.perf_counter() - started)
        started = time.perf_counter()
        icon_files(decode_png(data))
        publish.append(time.perf_counter() - started)
    return median(convert), median(publish)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-commit", default=DEFAULT_BASELINE)
    args = parser.parse_args(argv)
    if not REAL.is_dir():
        raise SystemExit(f"the real fixtures are not at {REAL}")
    with tempfile.TemporaryDirectory() as temp:
        workdir = Path(temp)
        paths = sorted(REAL.rglob("*.ipa")) + _generated(workdir)
        cgbi = _cgbi_sample(workdir)
        ours = _ours(paths)
        base = _baseline(args.baseline_commit, paths, cgbi, workdir)
        cgbi_convert, cgbi_publish = _ours_cgbi(cgbi)
        names = {str(p): p.name if p.parent != workdir else f"(generated) {p.name}" for p in paths}

    rows = []
    totals = {"ours": [0, 0, 0, 0.0], "base": [0, 0, 0, 0.0]}
    for path, name in names.items():
        mine, theirs = ours[path], base[path]
        if mine["outcome"] in ("not_a_zip", "no_app_bundle", "no_info_plist"):
            continue  # rejected before any entry is read: one or two reads either way
        mine_model = model(mine["rounds"], mine["bytes"])
        their_model = model(theirs["reads"], theirs["bytes"])
        for key, row in (("ours", mine), ("base", theirs)):
            totals[key][0] += row.get("rounds", row["reads"])
            totals[key][1] += row["reads"]
            totals[key][2] += row["bytes"]
        totals["ours"][3] += mine_model
        totals["base"][3] += their_model
        rows.append(
            [
                name,
                f"{mine['rounds']} / {mine['reads']}",
                f"{theirs['reads']} / {theirs['reads']}",
                human_bytes(mine["bytes"]),
                human_bytes(theirs["bytes"]),
                ms(mine_model),
                ms(their_model),
                mine["outcome"],
                theirs["outcome"],
            ]
        )
    count = len(rows)
    rows.append(
        [
            f"**mean of {count}**",
            f"{totals['ours'][0] / count:.1f} / {totals['ours'][1] / count:.1f}",
            f"{totals['base'][0] / count:.1f} / {totals['base'][1] / count:.1f}",
            human_bytes(totals["ours"][2] / count),
            human_bytes(totals["base"][2] / count),
            ms(totals["ours"][3] / count),
            ms(totals["base"][3] / count),
            "",
            "",
        ]
    )
    print("Inspecting: rounds / requests, bytes and the S3 model, ours beside the old reader")
    print(
        table(
            [
                "IPA",
                "ours: rounds / requests",
                "old",
                "bytes: ours",
                "old",
                "S3 model: ours",
                "old",
                "icon: ours",
                "old",
            ],
            rows,
        )
    )
    print()
    print("Reading the asset catalog (it is one deflated entry, read whole)")
    print(
        table(
            [
                "catalog",
                "size",
                "deflated (what is fetched)",
                "S3 model: transfer",
                "inflate",
                "find + decode icon",
                "icon",
            ],
            _catalog_costs(),
        )
    )
    print()
    print("A 1024 px CgBI icon (opaque, filter None, as Xcode writes it)")
    print(
        table(
            ["step", "ours", "old"],
            [
                ["CgBI -> standard PNG (full size)", ms(cgbi_convert), ms(base["cgbi_seconds"])],
                ["decode + the three icon files (360, 512, 57 px)", ms(cgbi_publish), "–"],
            ],
        )
    )
    return {"ours": ours, "baseline": base, "cgbi": [cgbi_convert, cgbi_publish]}


if __name__ == "__main__":
    main()
