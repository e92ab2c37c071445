"""`ipadrop devices [--format apple]`, `ipadrop enroll [BUNDLE_ID]`, and what
`ipadrop upload` says about a build no device can install (docs/ARCHITECTURE.md,
"Devices and pre-install diagnosis")."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ipadrop.devices.export import apple_device_file
from ipadrop_tools.cli import exit_status
from ipadrop_tools.cli.remote.output import list_from, make_console, print_json
from ipadrop_tools.cli.remote.target import add_target_options, guarded

# `ipadrop upload` exits with this when the build was published but its result
# says ``installable: false`` (expired or App Store profile, no profile...);
# `--allow-uninstallable` accepts it. All statuses: ``ipadrop_tools.cli.exit_status``.
EXIT_UNINSTALLABLE = exit_status.UNINSTALLABLE


def installability_status(result: dict[str, Any], *, quiet: bool, allow: bool) -> int:
    """Print the result's warnings (stderr, one ``warning:`` line each) and the
    exit status for a published build."""
    warnings = [w for w in result.get("warnings") or [] if isinstance(w, dict)]
    if not quiet:
        for warning in warnings:
            print(f"warning: {warning.get('message')} [{warning.get('code')}]", file=sys.stderr)
    if result.get("installable") is False:
        if not quiet:
            print(
                "error: published, but no device can install this build"
                + (" (accepted: --allow-uninstallable)" if allow else ""),
                file=sys.stderr,
            )
        return 0 if allow else EXIT_UNINSTALLABLE
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from ipadrop_tools.cli.remote.target import resolve_target

    data = resolve_target(args).api("GET", "/devices").data
    devices = list_from(data, "devices")
    if args.format == "apple":
        text = apple_device_file(devices)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
            print(f"Wrote {len(devices)} device(s) to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    if args.json:
        print_json(data)
        return 0
    if not devices:
        print("No devices yet: send testers an enrollment link (`ipadrop enroll`).")
        return 0
    from rich.table import Table

    table = Table("UDID", "Name", "Model", "Email", "Enrolled", "Verified")
    for device in devices:
        table.add_row(
            str(device.get("udid")),
            str(device.get("name") or ""),
            str(device.get("product") or ""),
            str(device.get("email") or ""),
            str(device.get("enrolled_at") or ""),
            "yes" if device.get("verified") else "no",
        )
    make_console().print(table)
    return 0


def cmd_enroll(args: argparse.Namespace) -> int:
    from ipadrop_tools.cli.remote.durations import parse_ttl
    from ipadrop_tools.cli.remote.target import CliError, resolve_target

    payload: dict[str, Any] = {}
    if args.bundle_id:
        payload["bundle_id"] = args.bundle_id
    if args.ttl is not None:
        try:
            payload["ttl_seconds"] = parse_ttl(args.ttl)
        except ValueError as exc:
            raise CliError(str(exc), status=2) from None
    data = resolve_target(args).api("POST", "/enrollments", payload).data
    if args.json:
        print_json(data)
    else:
        print(f"Enrollment link: {data.get('enroll_url')}")
        print(f"Expires:         {data.get('expires_at')}")
    return 0


def register(subparsers: Any) -> None:

    devices = subparsers.add_parser(
        "devices",
        help="list enrolled devices (or export them)",
        description="List the devices testers enrolled; --format apple writes the "
        "tab-separated file the Apple Developer site imports (Register Multiple Devices).",
    )
    devices.add_argument(
        "--format",
        choices=("table", "apple"),
        default="table",
        help="apple: the tab-separated file Apple's developer site imports",
    )
    devices.add_argument("--output", "-o", metavar="FILE", help="write the export here")
    add_target_options(devices)
    devices.set_defaults(func=guarded(cmd_devices))

    enroll = subparsers.add_parser(
        "enroll",
        help="mint a link that registers a tester's device",
        description="Mint an enrollment link: a tester opens it in Safari, installs the "
        "'Device check' profile and their device's UDID reaches the team.",
    )
    enroll.add_argument("bundle_id", nargs="?", metavar="BUNDLE_ID", help="the app it checks")
    enroll.add_argument("--ttl", metavar="TTL", help="seconds or a duration: 90m, 2h, 3d")
    add_target_options(enroll)
    enroll.set_defaults(func=guarded(cmd_enroll))
