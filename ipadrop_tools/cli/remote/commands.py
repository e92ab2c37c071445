"""`ipadrop upload | link | apps | builds | revoke`: the commands and their arguments."""

from __future__ import annotations

import argparse
import re
import shlex
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
from ipadrop.settings import (
    DEFAULT_LINK_TTL_MAX_SECONDS,
    DEFAULT_LINK_TTL_MIN_SECONDS,
    DEFAULT_LINK_TTL_SECONDS,
)
from ipadrop.text import describe_seconds, parse_iso_utc, rough_duration
from ipadrop_tools.cli import exit_status
from ipadrop_tools.cli.remote.distribution_cmds import add_upload_options, upload_metadata
from ipadrop_tools.cli.remote.durations import EXAMPLES, describe_duration, parse_ttl
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
from ipadrop_tools.cli.remote.target import (
    DEFAULT_WAIT_SECONDS,
    CliError,
    Target,
    add_target_options,
    guarded,
    resolve_target,
)
from ipadrop_tools.cli.remote.upload import (
    ProgressLines,
    local_rejection,
    upload_and_wait,
    upload_key_for,
)

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


def _target_options(args: argparse.Namespace) -> str:
    """The options that named the target, to repeat in a hint (`` --stack X --region Y``)."""
    words: list[str] = []
    for option in ("endpoint", "stack", "region", "profile"):
        value = getattr(args, option, None)
        if value:
            words += [f"--{option}", shlex.quote(str(value))]
    return "".join(f" {word}" for word in words)


def cmd_upload(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path} is not a file.", status=exit_status.USAGE)
    upload_key_for(path, "uploads/", args.key_name)  # refuse a bad name before any network
    metadata = upload_metadata(args)  # notes/channel/notify checked before any network
    rejected = None if args.skip_check else local_rejection(path)
    if rejected is not None:
        if args.json:
            print_json(rejected)
        else:
            message = f"{rejection_message(rejected)[:-1]}; nothing was uploaded."
            print(f"error: {message}", file=sys.stderr)
        return exit_status.REJECTED
    target = resolve_target(args)
    key = upload_key_for(path, target.drop_prefix, args.key_name)
    person = is_person() and not args.json
    lines = None if person else ProgressLines(path.name, path.stat().st_size)
    with _upload_progress(path, person) as bar:
        outcome = upload_and_wait(
            target,
            path,
            key,
            wait=not args.no_wait,
            timeout=args.timeout,
            progress=bar or (lines.advance if lines else None),
            on_wait=(lambda: lines.waiting(key, args.timeout)) if lines else None,
            metadata=metadata,
        )
    if outcome.result is None:
        if args.json:
            print_json(
                {
                    "status": "uploaded",
                    "bucket": target.bucket,
                    "upload_key": key,
                    "result_key": result_key(key),
                }
            )
        else:
            print(
                f"Uploaded to s3://{target.bucket}/{key}; the result will be at {result_key(key)}"
            )
        return exit_status.OK
    result = outcome.result
    if args.json:
        print_json(result)
    elif result.get("status") == "published":
        print_result(result)
        bundle_id, build_id = result.get("bundle_id"), result.get("build_id")
        print(
            f"\nMint a link: ipadrop link {shlex.quote(str(bundle_id))} "
            f"--build {build_id}{_target_options(args)}"
        )
    if result.get("status") != "published":
        if not args.json:
            print(f"error: {rejection_message(result)}", file=sys.stderr)
        return exit_status.REJECTED
    from ipadrop_tools.cli.remote.devices_cmd import installability_status

    return installability_status(result, quiet=args.json, allow=args.allow_uninstallable)


def mint_link(target: Target, bundle_id: str, build: str, ttl_seconds: int | None) -> Any:
    payload: dict[str, Any] = {"bundle_id": bundle_id, "build": build}
    if ttl_seconds is not None:
        payload["ttl_seconds"] = ttl_seconds
    return target.api("POST", "/links", payload).data


def _bundle_id(args: argparse.Namespace) -> str:
    """BUNDLE_ID or --bundle-id (for an id starting with "-"; ``--`` works too)."""
    given = [str(v) for v in (args.bundle_id, args.bundle_id_option) if v is not None]
    if len(given) != 1:
        raise CliError(
            "give the bundle id once: BUNDLE_ID or --bundle-id ID.", status=exit_status.USAGE
        )
    _check_bundle_id(given[0])
    return given[0]


def _check_bundle_id(bundle_id: str) -> None:
    if not is_valid_bundle_id(bundle_id):
        raise CliError(f"{bundle_id!r} is not a valid bundle id.", status=exit_status.USAGE)


_TTL_BOUNDS = re.compile(r"\(([^()]+ to [^()]+)\)")


def cmd_link(args: argparse.Namespace) -> int:
    try:
        ttl = parse_ttl(args.ttl) if args.ttl is not None else None
    except ValueError as exc:
        raise CliError(str(exc), status=exit_status.USAGE) from None
    bundle_id = _bundle_id(args)
    if args.build != "latest" and not is_valid_build_id(args.build):
        raise CliError(
            f"--build must be a build id or latest, not {args.build!r}.", status=exit_status.USAGE
        )
    try:
        link = mint_link(resolve_target(args), bundle_id, args.build, ttl)
    except CliError as exc:
        if exc.code != "invalid_ttl" or ttl is None:
            raise
        # The API speaks of ttl_seconds; say it in the command's words, with its bounds.
        bounds = _TTL_BOUNDS.search(str(exc))
        allowed = f": this stack allows {bounds.group(1)}" if bounds else ""
        raise CliError(
            f"--ttl {args.ttl.strip()} ({describe_duration(ttl)}) is out of bounds{allowed}.",
            status=exit_status.USAGE,
            code=exc.code,
        ) from None
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
            moment = parse_iso_utc(str(expires_at))
        except ValueError:
            return str(expires_at)
    left = int((moment - datetime.now(UTC)).total_seconds())
    when = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{when} (in {rough_duration(left)})" if left > 0 else when


def cmd_apps(args: argparse.Namespace) -> int:
    data = resolve_target(args).api("GET", "/apps").data
    if args.json:
        print_json(data)
        return 0
    apps = list_from(data, "apps")
    if not apps:
        print(f"No apps yet: publish one with `ipadrop upload FILE{_target_options(args)}`.")
        return 0
    make_console().print(apps_table(apps))
    return 0


def cmd_builds(args: argparse.Namespace) -> int:
    bundle_id = _bundle_id(args)
    data = resolve_target(args).api("GET", f"/apps/{quote(bundle_id, safe='')}/builds").data
    if args.json:
        print_json(data)
        return 0
    make_console().print(builds_table(bundle_id, list_from(data, "builds")))
    return 0


def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def cmd_revoke(args: argparse.Namespace) -> int:
    bundle_id = _bundle_id(args)
    build_id = args.build_id
    if not is_valid_build_id(build_id):
        raise CliError(f"{build_id!r} is not a valid build id.", status=exit_status.USAGE)
    if not args.yes and not sys.stdin.isatty():
        raise CliError(
            "revoke asks for confirmation; pass --yes to revoke without asking.",
            status=exit_status.USAGE,
        )
    target = resolve_target(args)
    quoted = f"/apps/{quote(bundle_id, safe='')}/builds"
    builds = list_from(target.api("GET", quoted).data, "builds")
    known = next((b for b in builds if b.get("build_id") == build_id), None)
    if known is not None and known.get("revoked_at"):
        if args.json:
            print_json({"bundle_id": bundle_id, "build_id": build_id, **known, "changed": False})
        else:
            print(f"{bundle_id} {build_id} was already revoked at {known['revoked_at']}.")
        return exit_status.OK
    if not args.yes:
        version = ""
        if known is not None:
            version = " " + _version_label(known.get("version"), known.get("build"))
        question = (
            f"Revoke {bundle_id}{version}, build {build_id}? Its install links and "
            "downloads stop working at once."
        )
        if not _confirm(question):
            print("Not revoked.", file=sys.stderr)
            return exit_status.FAILED
    response = target.api("DELETE", f"{quoted}/{quote(build_id, safe='')}")
    if args.json:
        data = response.data if isinstance(response.data, dict) else {}
        print_json({"bundle_id": bundle_id, "build_id": build_id, **data, "changed": True})
        return exit_status.OK
    print(f"Revoked {bundle_id} {build_id}: its links stop working now.")
    return exit_status.OK


def _version_label(version: Any, build: Any) -> str:
    from ipadrop.text import clean_text, version_label

    return version_label(clean_text(version), clean_text(build))


def _add_bundle_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle_id", metavar="BUNDLE_ID", nargs="?", help="the app's bundle id")
    parser.add_argument(
        "--bundle-id",
        dest="bundle_id_option",
        metavar="ID",
        help='the bundle id; one that starts with "-" as --bundle-id=-ID or after --',
    )


_TTL_HELP = (
    f"how long the link works: seconds or a duration such as {EXAMPLES} "
    f"(default {describe_seconds(DEFAULT_LINK_TTL_SECONDS)}; a stack allows "
    f"{describe_seconds(DEFAULT_LINK_TTL_MIN_SECONDS)} to "
    f"{describe_seconds(DEFAULT_LINK_TTL_MAX_SECONDS)} unless configured otherwise)"
)


def register(subparsers: Any) -> None:
    upload = subparsers.add_parser(
        "upload",
        help="upload an IPA and wait for it to be published",
        description=(
            "Check an .ipa here, upload it to the stack's drop folder and wait for the "
            "processor's result. Exit status: 0 published, 2 bad arguments, 3 rejected, "
            "4 no result within --timeout, 5 stack or bucket unreachable, 1 anything else."
        ),
    )
    upload.add_argument("file", metavar="FILE", help="the .ipa to publish")
    upload.add_argument("--no-wait", action="store_true", help="return once the file is uploaded")
    upload.add_argument(
        "--key-name", metavar="NAME", help="object name under the drop prefix, e.g. ci/42/App.ipa"
    )
    upload.add_argument(
        "--skip-check",
        action="store_true",
        help="upload without reading the file here first (the stack still checks it)",
    )
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
    add_target_options(upload)
    upload.set_defaults(func=guarded(cmd_upload))

    link = subparsers.add_parser(
        "link",
        help="mint a short-lived install link",
        description=(
            "Mint an install link for a build (the latest by default): an install page, "
            "its itms-services URL and, in a terminal, a QR code to scan with the device."
        ),
    )
    _add_bundle_id(link)
    link.add_argument("--build", default="latest", metavar="ID", help="build id or latest")
    link.add_argument("--ttl", metavar="TTL", help=_TTL_HELP)
    add_target_options(link)
    link.set_defaults(func=guarded(cmd_link))

    apps = subparsers.add_parser(
        "apps",
        help="list the published apps",
        description="List the published apps with their latest build.",
    )
    add_target_options(apps)
    apps.set_defaults(func=guarded(cmd_apps))

    builds = subparsers.add_parser(
        "builds",
        help="list the builds of an app",
        description="List the builds of an app, newest first, live or revoked.",
    )
    _add_bundle_id(builds)
    add_target_options(builds)
    builds.set_defaults(func=guarded(cmd_builds))

    revoke = subparsers.add_parser(
        "revoke",
        help="revoke a build: its links stop working",
        description=(
            "Revoke a build: its install links and downloads stop working at once and it "
            "leaves the listings' latest. Asks first; --yes revokes without asking (needed "
            "when not run in a terminal). Revoking a revoked build changes nothing."
        ),
    )
    _add_bundle_id(revoke)
    revoke.add_argument("build_id", metavar="BUILD_ID")
    revoke.add_argument("--yes", "-y", action="store_true", help="revoke without asking")
    add_target_options(revoke)
    revoke.set_defaults(func=guarded(cmd_revoke))
