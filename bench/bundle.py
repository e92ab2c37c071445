"""Lambda bundle size: the asset ``cdk deploy`` uploads, beside a bundle that
vendors boto3 and Powertools as peers' packages commonly do.

    .venv/bin/python -m bench.bundle

Ours is built by INFRA's own local bundler (``infra.bundling.LocalPythonBundler``:
the runtime package without cli/local/devkit + the ``lambda`` wheels for
manylinux2014_aarch64 / CPython 3.13). The baseline is the same bundle plus
boto3 and aws-lambda-powertools[tracer] installed into it the same way (we get
boto3 from the runtime and Powertools from AWS's layer). Sizes are the
deflated zip CDK uploads and the unpacked size Lambda's 250 MB limit counts.
Needs the package index (pip/uv downloads the aarch64 wheels).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.common import human_bytes, ratio, table


def zip_directory(source: Path, target: Path) -> int:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source))
    return target.stat().st_size


def measure(directory: Path, scratch: Path) -> dict[str, Any]:
    files = [p for p in directory.rglob("*") if p.is_file()]
    return {
        "zipped": zip_directory(directory, scratch / f"{directory.name}.zip"),
        "unzipped": sum(p.stat().st_size for p in files),
        "files": len(files),
        "ipadrop": sum(p.stat().st_size for p in (directory / "ipadrop").rglob("*") if p.is_file()),
    }


def run() -> dict[str, Any]:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    from infra.bundling import LocalPythonBundler, wheel_install_command

    with tempfile.TemporaryDirectory(prefix="ipadrop-bundle-") as tmp:
        scratch = Path(tmp)
        ours = scratch / "ours"
        LocalPythonBundler().bundle(ours)
        peers = scratch / "vendored"
        LocalPythonBundler().bundle(peers)
        pins = {
            name: importlib.metadata.version(name) for name in ("boto3", "aws-lambda-powertools")
        }
        # The alternative to the layer: Powertools (with the X-Ray extra the
        # processor's Tracer needs) bundled at the locked release.
        powertools = scratch / "powertools"
        LocalPythonBundler().bundle(powertools)
        powertools_req = scratch / "powertools-requirements.txt"
        powertools_req.write_text(
            f"aws-lambda-powertools[tracer]=={pins['aws-lambda-powertools']}\n"
        )
        subprocess.run(
            wheel_install_command(powertools_req, powertools),
            check=True,
            capture_output=True,
            env=os.environ,
        )
        extra = scratch / "vendored-requirements.txt"
        extra.write_text(
            f"boto3=={pins['boto3']}\naws-lambda-powertools[tracer]=={pins['aws-lambda-powertools']}\n"
        )
        subprocess.run(
            wheel_install_command(extra, peers), check=True, capture_output=True, env=os.environ
        )
        return {
            "ours": measure(ours, scratch),
            "powertools": measure(powertools, scratch),
            "vendored": measure(peers, scratch),
            "pins": pins,
        }


def render(results: dict[str, Any]) -> str:
    ours, peers = results["ours"], results["vendored"]
    pins = results["pins"]
    return table(
        ["bundle", "zipped", "unzipped", "files", "of which ipadrop/"],
        [
            [
                "ours (runtime package + jinja2, segno, cryptography, asn1crypto)",
                human_bytes(ours["zipped"]),
                human_bytes(ours["unzipped"]),
                str(ours["files"]),
                human_bytes(ours["ipadrop"]),
            ],
            [
                f"alternative: + Powertools[tracer] {pins['aws-lambda-powertools']} bundled",
                human_bytes(results["powertools"]["zipped"]),
                human_bytes(results["powertools"]["unzipped"]),
                str(results["powertools"]["files"]),
                human_bytes(results["powertools"]["ipadrop"]),
            ],
            [
                f"baseline: + boto3 {pins['boto3']} + Powertools {pins['aws-lambda-powertools']}",
                human_bytes(peers["zipped"]),
                human_bytes(peers["unzipped"]),
                str(peers["files"]),
                human_bytes(peers["ipadrop"]),
            ],
        ],
    ) + (
        f"\n(zipped: the baseline is {ratio(peers['zipped'], ours['zipped'])} ours;"
        f" unzipped: {ratio(peers['unzipped'], ours['unzipped'])})"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    print("Lambda bundle size (linux/arm64, CPython 3.13 wheels)", flush=True)
    results = run()
    print(render(results))
    return results


if __name__ == "__main__":
    main()
