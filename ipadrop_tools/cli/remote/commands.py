"""`ipadrop upload | link | apps | builds | revoke`: the commands and their arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ipadrop.domain.bucket_keys import (
    is_valid_build_id,
    is_valid_bundle_id,
    result_key,
)
from ipadrop_tools.cli.remote.distribution_cmds import add_upload_options, upload_metadata
from ipadrop_tools.cli.remote.durations import parse_ttl
from ipadrop_tools.cli.remote.output import (
    apps_table,
    builds_table,
    is_person,
    list_from,
    make_console,
    print_json,
    print_result,
    qr_text,
    rejection_message,
)
from ipadrop_tools.cli.remote.target import DEFAULT_WAIT_SECONDS, CliError, Target, resolve_target
from ipadrop_tools.cli.remote.upload import upload_and_wait, upload_key_for

# ----------------------------------------------------------------------- commands


@contextmanager
def _upload_progress(path: Path, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=make_console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"Uploading {path.name}", total=path.stat().st_size)
        yield lambda sent: bar.advance(task, sent)


def cmd_upload(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path} is not a file.", status=2)
    metadata = upload_metadata(args)  # checked before anything is uploaded
    target = resolve_target(args)
    person = is_person() and not args.json
    with _upload_progress(path, person) as progress:
        key = upload_key_for(path, target.drop_prefix, args.key_name)
        outcome = upload_and_wait(
            target,
            path,
            key,
            wait=not args.no_wait,
            timeout=args.timeout,
            progress=progress,
            metadata=metadata,
        )
    if outcome.result is None:
        if args.json:
            print_json({"status": "uploaded", "bucket": target.bucket, "upload_key": key})
        else:
            print(
                f"Uploaded to s3://{target.bucket}/{key}; the result will be at {result_key(key)}"
            )
        return 0
    result = outcome.result
    if args.json:
        print_json(result)
    elif result.get("status") == "published":
        print_result(result)
        bundle_id, build_id = result.get("bundle_id"), result.get("build_id")
        print(f"\nMint a link: ipadrop link {bundle_id} --build {build_id}")
    if result.get("status") != "published":
        if not args.json:
            print(f"error: {rejection_message(result)}", file=sys.stderr)
        return 1
    from ipadrop_tools.cli.remote.devices_cmd import installability_status

    return installability_status(result, quiet=args.json, allow=args.allow_uninstallable)


def mint_link(target: Target, bundle_id: str, build: str, ttl_seconds: int | None) -> Any:
    payload: dict[str, Any] = {"bundle_id": bundle_id, "build": build}
    if ttl_seconds is not None:
        payload["ttl_seconds"] = ttl_seconds
    return target.api("POST", "/links", payload).data


def _check_bundle_id(bundle_id: str) -> None:
    if not is_valid_bundle_id(bundle_id):
        raise CliError(f"{bundle_id!r} is not a valid bundle id.", status=2)


def cmd_link(args: argparse.Namespace) -> int:
    try:
        ttl = parse_ttl(args.ttl) if args.ttl is not None else None
    except ValueError as exc:
        raise CliError(str(exc), status=2) from None
    _check_bundle_id(args.bundle_id)
    if args.build != "latest" and not is_valid_build_id(args.build):
        raise CliError(f"--build must be a build id or latest, not {args.build!r}.", status=2)
    link = mint_link(resolve_target(args), args.bundle_id, args.build, ttl)
    if args.json:
        print_json(link)
        return 0
    print(f"Install page:  {link.get('install_url')}")
    print(f"itms-services: {link.get('itms_services_url')}")
    print(f"Build:         {link.get('bundle_id')} {link.get('build_id')}")
    print(f"Expires:       {_expiry_text(link.get('expires_at'))}")
    if is_person() and link.get("install_url"):
        print()
        print(qr_text(str(link["install_url"])), end="")
    return 0


def _expiry_text(expires_at: Any) -> str:
    if isinstance(expires_at, int | float):
        moment = datetime.fromtimestamp(expires_at, UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(expires_at).replace("Z", "+00:00"))
        except ValueError:
            return str(expires_at)
    left = int((moment - datetime.now(UTC)).total_seconds())
    when = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{when} (in {_rough_duration(left)})" if left > 0 else when


def _rough_duration(seconds: int) -> str:
    """``1d 2h``, ``2h``, ``1h 30m``, ``45s``: what a person wants to know about an expiry."""
    if seconds < 60:
        return f"{seconds}s"
    minutes_total = (seconds + 30) // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def cmd_apps(args: argparse.Namespace) -> int:
    data = resolve_target(args).api("GET", "/apps").data
    if args.json:
        print_json(data)
        return 0
    apps = list_from(data, "apps")
    if not apps:
        print("No apps yet: publish one with `ipadrop upload FILE`.")
        return 0
    make_console().print(apps_table(apps))
    return 0


def cmd_builds(args: argparse.Namespace) -> int:
    _check_bundle_id(args.bundle_id)
    data = resolve_target(args).api("GET", f"/apps/{quote(args.bundle_id, safe='')}/builds").data
    if args.json:
        print_json(data)
        return 0
    make_console().print(builds_table(args.bundle_id, list_from(data, "builds")))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    _check_bundle_id(args.bundle_id)
    if not is_valid_build_id(args.build_id):
        raise CliError(f"{args.build_id!r} is not a valid build id.", status=2)
    path = f"/apps/{quote(args.bundle_id, safe='')}/builds/{quote(args.build_id, safe='')}"
    response = resolve_target(args).api("DELETE", path)
    if args.json:
        print_json(
            response.data
            if isinstance(response.data, dict)
            else {"bundle_id": args.bundle_id, "build_id": args.build_id, "revoked": True}
        )
        return 0
    print(f"Revoked {args.bundle_id} {args.build_id}: its links stop working now.")
    return 0


def _run(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One ``error: ...`` line and an exit status instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.status

    return run


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("target (one of)")
    where.add_argument(
        "--endpoint", metavar="URL", help="a local stack, e.g. http://127.0.0.1:8080"
    )
    where.add_argument("--stack", metavar="NAME", help="a deployed stack's CloudFormation name")
    where.add_argument("--region", help="AWS region of --stack (default: your AWS config)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def register(subparsers: Any) -> None:
    upload = subparsers.add_parser("upload", help="upload an IPA and wait for it to be published")
    upload.add_argument("file", metavar="FILE", help="the .ipa to publish")
    upload.add_argument("--no-wait", action="store_true", help="return once the file is uploaded")
    upload.add_argument("--key-name", metavar="NAME", help="object name under the drop prefix")
    upload.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"how long to wait for the result (default {DEFAULT_WAIT_SECONDS})",
    )
    upload.add_argument(
        "--allow-uninstallable",
        action="store_true",
        help="exit 0 even when the build was published but no device can install it",
    )
    add_upload_options(upload)
    _add_target_options(upload)
    upload.set_defaults(func=_run(cmd_upload))

    link = subparsers.add_parser("link", help="mint a short-lived install link")
    link.add_argument("bundle_id", metavar="BUNDLE_ID")
    link.add_argument("--build", default="latest", metavar="ID", help="build id or latest")
    link.add_argument("--ttl", metavar="TTL", help="seconds or a duration: 90m, 2h, 3d")
    _add_target_options(link)
    link.set_defaults(func=_run(cmd_link))

    apps = subparsers.add_parser("apps", help="list the published apps")
    _add_target_options(apps)
    apps.set_defaults(func=_run(cmd_apps))

    builds = subparsers.add_parser("builds", help="list the builds of an app")
    builds.add_argument("bundle_id", metavar="BUNDLE_ID")
    _add_target_options(builds)
    builds.set_defaults(func=_run(cmd_builds))

    revoke = subparsers.add_parser("revoke", help="revoke a build: its links stop working")
    revoke.add_argument("bundle_id", metavar="BUNDLE_ID")
    revoke.add_argument("build_id", metavar="BUILD_ID")
    _add_target_options(revoke)
    revoke.set_defaults(func=_run(cmd_revoke))
