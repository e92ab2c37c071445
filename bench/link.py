"""Link function: cold import against a bare ``import boto3``, warm latency per route
(p50/p99), and links / manifests per second on one core, each beside a baseline.

    .venv/bin/python -m bench.link [--runs 7] [--requests 300] [--seconds 3]

Reuses LINK's ``bench/link_coldstart.py`` (fresh-interpreter import times, the
seeded bucket, the minted routes). moto runs in its own process on another
core; this process (and the interpreters it starts) is pinned to one core.
Baselines: a presigned S3 URL from boto3 (the link peers hand out) and, for
manifests, a presigned URL written into a plistlib manifest (what a peer's
per-request manifest costs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import plistlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench import link_coldstart
from bench.common import moto_server, ms, percentile, s3_client, table
from tests.integration.link_support import BUILD_1, BUNDLE, LambdaContext

ONE_CORE = 0


@contextlib.contextmanager
def pinned(pid: int, cores: set[int]) -> Iterator[None]:
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(pid)
    os.sched_setaffinity(pid, cores & before or before)
    try:
        yield
    finally:
        os.sched_setaffinity(pid, before)


def per_second(call: Callable[[], Any], seconds: float) -> tuple[float, float]:
    """(calls per wall second, CPU seconds per call) over ``seconds`` of calls."""
    call()
    count = 0
    cpu_start, start = time.process_time(), time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        call()
        count += 1
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return count / wall, cpu / count


def run(runs: int, requests: int, seconds: float) -> dict[str, Any]:
    import logging

    logging.getLogger("ipadrop").setLevel(logging.ERROR)
    results: dict[str, Any] = {}
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else {0}
    other = {c for c in cores if c != ONE_CORE} or cores
    with moto_server() as moto, pinned(moto.process.pid, other), pinned(0, {ONE_CORE}):
        env = link_coldstart.setup(moto.endpoint)
        os.environ.update(env)
        from ipadrop.handlers import link

        link.service.cache_clear()
        routes = link_coldstart.minted_routes()

        results["import_boto3_s"] = link_coldstart.import_time("boto3", runs)
        results["import_handler_s"] = link_coldstart.import_time("ipadrop.handlers.link", runs)
        results["cold"] = {
            name: link_coldstart.cold_route(event, env, runs) for name, event in routes.items()
        }

        latency: dict[str, dict[str, float]] = {}
        for name, event in routes.items():
            link.handler(event, LambdaContext())
            samples = []
            for _ in range(requests):
                start = time.perf_counter()
                response = link.handler(event, LambdaContext())
                samples.append(time.perf_counter() - start)
                assert response["statusCode"] < 400, response
            latency[name] = {"p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99)}
        results["latency"] = latency

        def mint() -> None:
            response = link.handler(routes["POST /links"], LambdaContext())
            assert response["statusCode"] == 201

        def manifest() -> None:
            event = routes["GET /m/{token}/manifest.plist"]
            response = link.handler(event, LambdaContext())
            assert response["statusCode"] == 200

        client = s3_client(moto.endpoint)
        bucket = env["IPADROP_BUCKET"]
        ipa_key = f"builds/{BUNDLE}/{BUILD_1}/app.ipa"
        build_key = f"builds/{BUNDLE}/{BUILD_1}/build.json"

        def presign() -> str:
            url: str = client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": ipa_key}, ExpiresIn=86400
            )
            return url

        def peer_link() -> str:
            # A peer's "create link": check the build exists, hand out a presigned URL.
            client.get_object(Bucket=bucket, Key=build_key)["Body"].read()
            return presign()

        def peer_manifest() -> None:
            # A peer's per-request manifest: read the build's metadata, presign, render.
            record = json.loads(client.get_object(Bucket=bucket, Key=build_key)["Body"].read())
            document = {
                "items": [
                    {
                        "assets": [{"kind": "software-package", "url": presign()}],
                        "metadata": {
                            "bundle-identifier": record["bundle_id"],
                            "bundle-version": record["version"],
                            "kind": "software",
                            "title": record["title"],
                        },
                    }
                ]
            }
            plistlib.dumps(document)

        results["links_per_s"], results["link_cpu_s"] = per_second(mint, seconds)
        results["presign_per_s"], results["presign_cpu_s"] = per_second(peer_link, seconds)
        results["manifests_per_s"], results["manifest_cpu_s"] = per_second(manifest, seconds)
        results["peer_manifests_per_s"], results["peer_manifest_cpu_s"] = per_second(
            peer_manifest, seconds
        )
        link.service.cache_clear()
    return results


def render(results: dict[str, Any]) -> str:
    boto3_s, handler_s = results["import_boto3_s"], results["import_handler_s"]
    out = [
        table(
            ["cold import (fresh interpreter, median)", "ours", "baseline: import boto3", "ratio"],
            [
                [
                    "import ipadrop.handlers.link",
                    ms(handler_s),
                    ms(boto3_s),
                    f"{handler_s / boto3_s:.2f}x of boto3",
                ]
            ],
        ),
        "",
        table(
            ["route", "cold: import + first call", "cryptography", "warm p50", "warm p99"],
            [
                [
                    name,
                    ms(cold["import"] + cold["first"]),
                    "loaded" if cold["cryptography"] else "not loaded",
                    ms(results["latency"][name]["p50"]),
                    ms(results["latency"][name]["p99"]),
                ]
                for name, cold in results["cold"].items()
            ],
        ),
        "",
        table(
            [
                "one core",
                "ours /s (vs moto)",
                "CPU/call",
                "ceiling /s",
                "baseline",
                "baseline /s",
                "CPU/call",
                "ceiling /s",
            ],
            [
                [
                    "links (POST /links)",
                    f"{results['links_per_s']:.0f}",
                    ms(results["link_cpu_s"]),
                    f"{1 / results['link_cpu_s']:.0f}",
                    "get build.json + boto3 presign",
                    f"{results['presign_per_s']:.0f}",
                    ms(results["presign_cpu_s"]),
                    f"{1 / results['presign_cpu_s']:.0f}",
                ],
                [
                    "manifests (GET /m/…)",
                    f"{results['manifests_per_s']:.0f}",
                    ms(results["manifest_cpu_s"]),
                    f"{1 / results['manifest_cpu_s']:.0f}",
                    "get build.json + presign + plistlib",
                    f"{results['peer_manifests_per_s']:.0f}",
                    ms(results["peer_manifest_cpu_s"]),
                    f"{1 / results['peer_manifest_cpu_s']:.0f}",
                ],
            ],
        ),
        "(ceiling = 1 / CPU seconds per call: the rate one core sustains when S3 answers "
        "in parallel; the /s figures wait for moto, which runs on the other core)",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    print("Link function: cold import, warm latency, throughput on one core", flush=True)
    results = run(args.runs, args.requests, args.seconds)
    print(render(results))
    return results


if __name__ == "__main__":
    main()
