"""`ipadrop local`: the whole system on this machine (see ``ipadrop_tools.local.stack``)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

SAMPLE_BUNDLE_ID = "com.example.ipadrop.sample"
SAMPLE_TITLE = "ipadrop Sample"
SAMPLE_UPLOAD_NAME = "sample.ipa"
SAMPLE_GROUP = "qa"
SAMPLE_TESTER = "tester@example.com"
SAMPLE_NOTES = "First sample build.\nRead about ipadrop at https://github.com/"
SAMPLE_WAIT_SECONDS = 60

IOS_NOTE = (
    "Note: iOS installs apps only from an HTTPS host with a trusted certificate, so a real "
    "iPhone or iPad cannot install from this local stack; deploy the stack "
    "(docs/DEPLOY.md) for real-device installs."
)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "local",
        help="run the whole system on this machine (no AWS account needed)",
        description=(
            "Run ipadrop locally: an embedded S3/SQS/Secrets Manager (moto) unless "
            "AWS_ENDPOINT_URL names another endpoint, the real processor fed by the bucket's "
            "event notifications, and the install pages, manifests, signed downloads and "
            "admin API on one HTTP port."
        ),
    )
    parser.add_argument("--port", type=_port, default=8080, help="HTTP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".ipadrop-local"),
        help="where keys and settings are kept (default .ipadrop-local)",
    )
    parser.add_argument(
        "--publish-sample",
        action="store_true",
        help="publish a generated sample app and print its install link",
    )
    parser.add_argument("--verbose", action="store_true", help="also show the handlers' own logs")
    parser.set_defaults(func=run)


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    local_log = logging.getLogger("ipadrop_tools.local")
    local_log.addHandler(handler)
    local_log.setLevel(logging.INFO)
    local_log.propagate = False
    if not verbose:
        # boto's credential chatter and moto's notices are noise for a person here.
        for name in ("botocore", "boto3", "moto", "werkzeug"):
            logging.getLogger(name).setLevel(logging.ERROR)


# What the `local` extra adds (pyproject.toml): without them, `ipadrop local` says so.
LOCAL_EXTRA_MODULES = ("moto", "werkzeug", "flask", "aws_lambda_powertools", "aws_xray_sdk")
LOCAL_EXTRA_HINT = (
    "error: ipadrop local needs the local extra: pip install 'ipadrop[local]' "
    "(or make setup in a checkout)."
)


def run(args: argparse.Namespace) -> int:
    try:
        import aws_lambda_powertools  # noqa: F401
        import moto.server  # noqa: F401

        from ipadrop_tools.local.backend import BackendError
        from ipadrop_tools.local.stack import LocalStack, LocalStackError, LocalStackOptions
        from ipadrop_tools.local.state import StateError
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in LOCAL_EXTRA_MODULES:
            print(LOCAL_EXTRA_HINT, file=sys.stderr)
            return 2
        raise

    _configure_logging(args.verbose)
    started = time.monotonic()
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip() or None
    stack = LocalStack(
        LocalStackOptions(
            state_dir=args.state_dir,
            host=args.host,
            port=args.port,
            endpoint_url=endpoint,
            verbose=args.verbose,
        )
    )
    try:
        stack.start()
    except (LocalStackError, BackendError, StateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=sys.stderr, flush=True)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a shell starts background jobs with SIGINT ignored, and
    # `kill`, systemd or CI runners stop processes with SIGTERM.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _print_banner(stack, time.monotonic() - started)
        if args.publish_sample:
            status = _publish_sample(stack, args.state_dir)
            if status != 0:
                return status
        print("Ctrl-C stops the stack.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("\nStopping...", file=sys.stderr, flush=True)
        stack.stop()
    return 0


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def exposure_warning(host: str) -> str | None:
    """A loud warning when the stack listens beyond this machine, else None."""
    if host in _LOOPBACK_HOSTS or host.startswith("127."):
        return None
    where = "every network interface" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
    line = "!" * 78
    return (
        f"{line}\n"
        f"WARNING: --host {host!r} listens on {where}: the local stack has no\n"
        "authentication (its admin API mints links and revokes builds for anyone who\n"
        "reaches it). It answers only requests addressed to its own URL; use it on a\n"
        "network you trust, and prefer the default --host 127.0.0.1.\n"
        f"{line}"
    )


def command_name() -> str:
    """How to type this command here: ``ipadrop`` when it is on PATH, else its path
    (``.venv/bin/ipadrop`` after ``make setup``)."""
    import shutil

    argv0 = Path(sys.argv[0])
    if argv0.name == "ipadrop" and shutil.which("ipadrop") is None:
        return os.path.relpath(argv0) if not argv0.is_absolute() else str(argv0)
    return "ipadrop"


def _print_banner(stack: Any, elapsed: float) -> None:
    config = stack.runtime()
    s3_kind = "embedded moto" if config["embedded_s3"] else "AWS_ENDPOINT_URL"
    state_dir = Path(config["state_dir"])
    print(f"ipadrop local is running at {stack.url} (started in {elapsed:.1f} s)")
    print(f"  S3, SQS, Secrets Manager  {config['s3_endpoint']} ({s3_kind})")
    print(f"  bucket                    {config['bucket']} (drop IPAs under uploads/)")
    print(f"  state                     {state_dir}")
    print(f"  CloudFront public key     {state_dir / 'cloudfront_public_key.pem'}")
    print(f"  upload                    {command_name()} upload --endpoint {stack.url} MyApp.ipa")
    print(flush=True)


def _publish_sample(stack: Any, state_dir: Path) -> int:
    """Generate the sample IPA, drop it in the bucket, wait for it, mint a link."""
    from ipadrop.distribution.metadata import encode_upload_metadata
    from ipadrop_tools.cli.remote.commands import mint_link
    from ipadrop_tools.cli.remote.target import CliError, local_target
    from ipadrop_tools.cli.remote.upload import upload_and_wait, upload_key_for
    from ipadrop_tools.devkit.sample_ipa import build_ipa

    sample = state_dir / SAMPLE_UPLOAD_NAME
    build_ipa(sample, bundle_id=SAMPLE_BUNDLE_ID, title=SAMPLE_TITLE, version="1.0", build="1")
    try:
        target = local_target(stack.url)
        key = upload_key_for(sample, target.drop_prefix, None)
        # A sample tester group, invited by the upload itself (docs/ARCHITECTURE.md).
        target.api("PUT", f"/groups/{SAMPLE_GROUP}", {"emails": [SAMPLE_TESTER]})
        metadata = encode_upload_metadata(notes=SAMPLE_NOTES, channel="main", notify=[SAMPLE_GROUP])
        outcome = upload_and_wait(
            target, sample, key, timeout=SAMPLE_WAIT_SECONDS, metadata=metadata
        )
        result = outcome.result or {}
        if result.get("status") != "published":
            print(f"error: the sample app was rejected: {result.get('message')}", file=sys.stderr)
            return 1
        link = mint_link(target, SAMPLE_BUNDLE_ID, str(result["build_id"]), None)
    except CliError as exc:
        print(f"error: publishing the sample app failed: {exc}", file=sys.stderr)
        return 1
    print(f"Sample app published: {SAMPLE_TITLE} 1.0 (1), build {result['build_id']}")
    print(f"  Install page   {link['install_url']}")
    print(f"  itms-services  {link['itms_services_url']}")
    print(f"  Link expires   {link['expires_at']}")
    print(f"  Invitation     sent to {SAMPLE_TESTER}: see {stack.url}/_local/outbox")
    print()
    print(IOS_NOTE)
    print(flush=True)
    return 0
