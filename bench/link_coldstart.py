"""Link function: cold-start import cost and warm latency per route (against moto).

    .venv/bin/python bench/link_coldstart.py [--runs 7] [--requests 200]

Prints, from fresh interpreters (median of N):
  - ``import boto3`` alone vs ``import ipadrop.handlers.link`` (the handler module);
  - per route, a whole cold start: import + first invocation, and whether the
    process had to load ``cryptography`` (only the manifest route signs);
and, in this process, warm p50/p99 latency per route with the real handler.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambdas"), str(ROOT)]

from ipadrop.adapters.cloudfront_signing import generate_key_pair  # noqa: E402
from tests.conftest import _free_port, boto_client  # noqa: E402
from tests.integration.link_support import (  # noqa: E402
    BUILD_1,
    BUNDLE,
    DISTRIBUTION_URL,
    KEY_PAIR_ID,
    LambdaContext,
    http_event,
    make_record,
    seed_build,
)

_IMPORT_SNIPPET = """
import sys, time
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""

# A fresh process: import the handler, serve one request, report times and modules.
_COLD_SNIPPET = """
import json, sys, time
start = time.perf_counter()
from ipadrop.handlers import link
imported = time.perf_counter()
event = json.loads(sys.argv[1])
response = link.handler(event, None)
done = time.perf_counter()
assert response["statusCode"] < 400, response
print(json.dumps({"import": imported - start, "first": done - imported,
                  "cryptography": "cryptography" in sys.modules,
                  "jinja2": "jinja2" in sys.modules}))
"""


# The same request under SnapStart, split the way Lambda splits it: "init" is
# import + the before-snapshot hook (paid once, when the version is published);
# "restore" is the after-restore hook + the first request (what a tester pays,
# on top of Lambda's own snapshot-restore time).
_SNAPSTART_SNIPPET = """
import json, sys, time
start = time.perf_counter()
from ipadrop.handlers import link_public
link_public.prime()
primed = time.perf_counter()
link_public.refresh()
event = json.loads(sys.argv[1])
response = link_public.handler(event, None)
done = time.perf_counter()
assert response["statusCode"] < 400, response
print(json.dumps({"init": primed - start, "first": done - primed}))
"""


def snapstart_route(event: dict[str, Any], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median init (snapshotted) and restore + first request, from fresh interpreters."""
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _SNAPSTART_SNIPPET, json.dumps(event)],
            env=_child_env(env),
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "init": statistics.median(r["init"] for r in results),
        "first": statistics.median(r["first"] for r in results),
    }


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "lambdas"), str(ROOT)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def import_time(module: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_SNIPPET.format(module=module)],
            env=_child_env({}),
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def cold_route(event: dict[str, Any], env: dict[str, str], runs: int) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _COLD_SNIPPET, json.dumps(event)],
            env=_child_env(env),
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "import": statistics.median(r["import"] for r in results),
        "first": statistics.median(r["first"] for r in results),
        "cryptography": results[0]["cryptography"],
        "jinja2": results[0]["jinja2"],
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per figure")
    parser.add_argument("--requests", type=int, default=200, help="warm requests per route")
    args = parser.parse_args()

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        env = setup(endpoint)
        os.environ.update(env)
        routes = minted_routes()

        print(f"Cold start (median of {args.runs} fresh interpreters, Python {sys.version[:4]})")
        boto3_s = import_time("boto3", args.runs)
        handler_s = import_time("ipadrop.handlers.link", args.runs)
        # Paid the same whether Powertools comes from the layer (/opt) or the bundle.
        powertools_s = import_time("aws_lambda_powertools.event_handler", args.runs)
        print(f"  import boto3                       {boto3_s * 1000:7.1f} ms")
        print(f"  import Powertools event_handler    {powertools_s * 1000:7.1f} ms")
        print(f"  import ipadrop.handlers.link       {handler_s * 1000:7.1f} ms")
        print()
        print("  route (fresh process)              import   first call  cryptography  jinja2")
        for name, event in routes.items():
            cold = cold_route(event, env, args.runs)
            print(
                f"  {name:<34} {cold['import'] * 1000:5.0f} ms {cold['first'] * 1000:8.0f} ms"
                f"  {'loaded' if cold['cryptography'] else 'not loaded':<12}"
                f"  {'loaded' if cold['jinja2'] else 'not loaded'}"
            )

        print()
        print("  public routes: today's cold start vs the SnapStart split (same process model)")
        print(
            "  route                              cold: import+first  snapshot init  restore+first"
        )
        for name, event in routes.items():
            if not name.startswith(("GET /i/", "GET /m/")):
                continue
            cold = cold_route(event, env, args.runs)
            snap = snapstart_route(event, env, args.runs)
            print(
                f"  {name:<34} {(cold['import'] + cold['first']) * 1000:12.0f} ms"
                f" {snap['init'] * 1000:11.0f} ms {snap['first'] * 1000:11.0f} ms"
            )

        print()
        print(f"Warm latency, in process against moto ({args.requests} requests per route)")
        print("  route                                  p50        p99")
        from ipadrop.handlers import link

        for name, event in routes.items():
            link.handler(event, LambdaContext())  # warm this route's lazy imports
            samples = []
            for _ in range(args.requests):
                start = time.perf_counter()
                response = link.handler(event, LambdaContext())
                samples.append(time.perf_counter() - start)
                assert response["statusCode"] < 400, response
            print(
                f"  {name:<34} {percentile(samples, 0.5) * 1000:6.2f} ms"
                f" {percentile(samples, 0.99) * 1000:8.2f} ms"
            )
    finally:
        server.stop()
    return 0


def setup(endpoint: str) -> dict[str, str]:
    """A bucket with one published build and both secrets; the function's environment."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    s3 = boto_client("s3", endpoint)
    s3.create_bucket(Bucket=bucket)
    seed_build(s3, bucket, make_record(BUNDLE, BUILD_1))
    secrets = boto_client("secretsmanager", endpoint)
    private_pem, _ = generate_key_pair()
    secrets.create_secret(
        Name=f"{bucket}/tokens",
        SecretString=json.dumps({"current": "k1", "k1": uuid.uuid4().hex * 2}),
    )
    secrets.create_secret(
        Name=f"{bucket}/cloudfront",
        SecretString=json.dumps({"private_key_pem": private_pem.decode()}),
    )
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "IPADROP_BUCKET": bucket,
        "IPADROP_DISTRIBUTION_URL": DISTRIBUTION_URL,
        "IPADROP_TOKEN_SECRET_ID": f"{bucket}/tokens",
        "IPADROP_CLOUDFRONT_KEY_SECRET_ID": f"{bucket}/cloudfront",
        "IPADROP_CLOUDFRONT_KEY_PAIR_ID": KEY_PAIR_ID,
    }


def minted_routes() -> dict[str, dict[str, Any]]:
    from ipadrop.handlers import link

    body = json.dumps({"bundle_id": BUNDLE, "build": BUILD_1, "ttl_seconds": 3600})
    mint = http_event("POST", "/links", body=body, admin=True)
    response = link.handler(mint, LambdaContext())
    token = json.loads(response["body"])["install_url"].rsplit("/", 1)[1]
    return {
        "POST /links": mint,
        "GET /apps": http_event("GET", "/apps", admin=True),
        "GET /apps/{id}/builds": http_event("GET", f"/apps/{BUNDLE}/builds", admin=True),
        "GET /i/{token}": http_event("GET", f"/i/{token}"),
        "GET /m/{token}/manifest.plist": http_event("GET", f"/m/{token}/manifest.plist"),
    }


if __name__ == "__main__":
    sys.exit(main())
