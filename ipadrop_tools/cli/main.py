"""`ipadrop` command line. Each subcommand lives in its own module and is
imported only when used, so `ipadrop inspect` never pays for boto3 or moto."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> module in ipadrop_tools.cli exposing `register(subparsers)`; the
# module's parser sets `func(args) -> int` via set_defaults.
_COMMAND_MODULES = {
    "inspect": "inspect_cmd",
    "render": "render_cmd",
    "local": "local_cmd",
    "upload": "remote.commands",
    "link": "remote.commands",
    "apps": "remote.commands",
    "builds": "remote.commands",
    "revoke": "remote.commands",
    "devices": "remote.devices_cmd",
    "enroll": "remote.devices_cmd",
    "invite": "remote.distribution_cmds",
    "uninvite": "remote.distribution_cmds",
    "groups": "remote.distribution_cmds",
    "group": "remote.distribution_cmds",
    "activity": "remote.distribution_cmds",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ipadrop")
    except PackageNotFoundError:
        return "(not installed)"


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipadrop",
        description="Over-the-air distribution of in-house iOS apps.",
    )
    parser.add_argument("--version", action="version", version=f"ipadrop {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = (
        [_COMMAND_MODULES[command]]
        if command in _COMMAND_MODULES
        else list(dict.fromkeys(_COMMAND_MODULES.values()))
    )
    for name in modules:
        try:
            module = importlib.import_module(f"ipadrop_tools.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"ipadrop_tools.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(args_list)
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
