"""`ipadrop invite | uninvite | groups | group set/delete | activity`, and the
``upload`` options for release notes, channel and notification targets
(S3 user metadata, see docs/ARCHITECTURE.md "Distribution")."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ipadrop.distribution.metadata import encode_upload_metadata, is_valid_group_name
from ipadrop.domain.bucket_keys import is_valid_build_id, is_valid_bundle_id
from ipadrop_tools.cli import exit_status
from ipadrop_tools.cli.remote.durations import parse_ttl
from ipadrop_tools.cli.remote.output import _escape, list_from, make_console, print_json
from ipadrop_tools.cli.remote.target import CliError, add_target_options, guarded, resolve_target

# ------------------------------------------------------------------ upload options


def add_upload_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("distribution")
    notes = group.add_mutually_exclusive_group()
    notes.add_argument("--notes", metavar="TEXT", help="release notes (plain text)")
    notes.add_argument("--notes-file", metavar="FILE", help="release notes from a file")
    group.add_argument("--channel", metavar="C", help="channel (a branch, a flavour); default")
    group.add_argument(
        "--notify", metavar="LIST", help="comma-separated groups and addresses to invite"
    )


def upload_metadata(args: argparse.Namespace) -> dict[str, str]:
    """The S3 user metadata for ``--notes/--notes-file/--channel/--notify`` (checked here,
    so a too-long note is a clear error before any byte is uploaded)."""
    notes = getattr(args, "notes", None)
    notes_file = getattr(args, "notes_file", None)
    if notes_file:
        try:
            notes = Path(notes_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(
                f"cannot read --notes-file {notes_file}: {exc}", status=exit_status.USAGE
            ) from None
    notify = getattr(args, "notify", None)
    try:
        return encode_upload_metadata(
            notes=notes,
            channel=getattr(args, "channel", None),
            notify=[item for item in notify.split(",") if item.strip()] if notify else None,
        )
    except ValueError as exc:
        raise CliError(f"{exc}.", status=exit_status.USAGE) from None


# ----------------------------------------------------------------------- commands


def _bundle(bundle_id: str) -> str:
    if not is_valid_bundle_id(bundle_id):
        raise CliError(f"{bundle_id!r} is not a valid bundle id.", status=exit_status.USAGE)
    return bundle_id


def _group(name: str) -> str:
    if not is_valid_group_name(name):
        raise CliError(
            f"{name!r} is not a group name (1 to 40 lower-case letters, digits, '.', '_', '-').",
            status=exit_status.USAGE,
        )
    return name


def cmd_invite(args: argparse.Namespace) -> int:
    _bundle(args.bundle_id)
    if args.build != "latest" and not is_valid_build_id(args.build):
        raise CliError(
            f"--build must be a build id or latest, not {args.build!r}.", status=exit_status.USAGE
        )
    recipients = [item.strip() for item in args.to.split(",") if item.strip()]
    if not recipients:
        raise CliError("--to needs at least one group or address.", status=exit_status.USAGE)
    payload: dict[str, Any] = {
        "bundle_id": args.bundle_id,
        "build": args.build,
        "recipients": recipients,
    }
    if args.channel:
        payload["channel"] = args.channel
    if args.message:
        payload["message"] = args.message
    if args.ttl:
        try:
            payload["ttl_seconds"] = parse_ttl(args.ttl)
        except ValueError as exc:
            raise CliError(str(exc), status=exit_status.USAGE) from None
    data = resolve_target(args).api("POST", "/invites", payload).data
    if args.json:
        print_json(data)
        return 0
    invites = list_from(data, "invites")
    from rich.table import Table

    table = Table(title=f"Invited {len(invites)}", title_justify="left")
    for column in ("E-mail", "Invite id", "Status", "Expires"):
        table.add_column(column)
    for invite in invites:
        table.add_row(
            _escape(invite.get("email")),
            _escape(invite.get("invite_id")),
            _escape(invite.get("status")),
            _escape(invite.get("expires_at")),
        )
    make_console().print(table)
    return 0


def cmd_uninvite(args: argparse.Namespace) -> int:
    data = resolve_target(args).api("DELETE", f"/invites/{quote(args.invite_id, safe='')}").data
    if args.json:
        print_json(data)
        return 0
    print(f"Revoked invite {args.invite_id} ({data.get('email')}): that link stops working now.")
    return 0


def cmd_groups(args: argparse.Namespace) -> int:
    data = resolve_target(args).api("GET", "/groups").data
    if args.json:
        print_json(data)
        return 0
    groups = list_from(data, "groups")
    if not groups:
        print("No groups yet: ipadrop group set qa a@example.com b@example.com")
        return 0
    for group in groups:
        emails = group.get("emails") or []
        print(f"{group.get('name')} ({len(emails)}): {', '.join(str(e) for e in emails)}")
    return 0


def cmd_group_set(args: argparse.Namespace) -> int:
    name = _group(args.name)
    data = resolve_target(args).api("PUT", f"/groups/{name}", {"emails": list(args.emails)}).data
    if args.json:
        print_json(data)
        return 0
    print(f"Group {name}: {len(data.get('emails') or [])} addresses.")
    return 0


def cmd_group_delete(args: argparse.Namespace) -> int:
    name = _group(args.name)
    data = resolve_target(args).api("DELETE", f"/groups/{name}").data
    if args.json:
        print_json(data)
        return 0
    print(f"Deleted group {name}.")
    return 0


def cmd_activity(args: argparse.Namespace) -> int:
    _bundle(args.bundle_id)
    if not is_valid_build_id(args.build_id):
        raise CliError(f"{args.build_id!r} is not a valid build id.", status=exit_status.USAGE)
    path = f"/apps/{quote(args.bundle_id, safe='')}/builds/{quote(args.build_id, safe='')}/activity"
    data = resolve_target(args).api("GET", path).data
    if args.json:
        print_json(data)
        return 0
    events = list_from(data, "events")
    if not events:
        print("No activity yet.")
        return 0
    from rich.table import Table

    table = Table(title=f"Activity of {args.bundle_id} {args.build_id}", title_justify="left")
    for column in ("When", "What", "Who"):
        table.add_column(column)
    labels = {
        "page_opened": "opened the page",
        "install_started": "started the install",
        "download_finished": "finished the download",
    }
    for event in events:
        kind = str(event.get("type"))
        table.add_row(
            _escape(event.get("at")),
            _escape(labels.get(kind, kind)),
            _escape(event.get("email") or event.get("invite_id") or "(a plain link)"),
        )
    make_console().print(table)
    return 0


def register(subparsers: Any) -> None:
    invite = subparsers.add_parser(
        "invite",
        help="e-mail install links to groups or addresses",
        description="E-mail each person (groups expanded, addresses once) their own install "
        "link, with the build's notes and your message; each link can be revoked alone.",
    )
    invite.add_argument("bundle_id", metavar="BUNDLE_ID")
    invite.add_argument(
        "--to", required=True, metavar="LIST", help="groups and addresses: qa,a@b.example"
    )
    invite.add_argument("--build", default="latest", metavar="ID", help="build id or latest")
    invite.add_argument("--channel", metavar="C", help="with latest: that channel's newest build")
    invite.add_argument("--ttl", metavar="TTL", help="seconds or a duration: 90m, 2h, 3d")
    invite.add_argument("--message", metavar="TEXT", help="a note of yours in the e-mail")
    add_target_options(invite)
    invite.set_defaults(func=guarded(cmd_invite))

    uninvite = subparsers.add_parser(
        "uninvite",
        help="revoke one person's invite",
        description="Revoke one invite: that person's link answers 410 from now on; "
        "everybody else's keeps working.",
    )
    uninvite.add_argument("invite_id", metavar="INVITE_ID")
    add_target_options(uninvite)
    uninvite.set_defaults(func=guarded(cmd_uninvite))

    groups = subparsers.add_parser(
        "groups",
        help="list tester groups",
        description="List the tester groups and their addresses.",
    )
    add_target_options(groups)
    groups.set_defaults(func=guarded(cmd_groups))

    group = subparsers.add_parser(
        "group",
        help="set or delete a tester group",
        description="Set a tester group's addresses (replacing them) or delete the group.",
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    group_set = actions.add_parser("set", help="set a group's addresses (replaces them)")
    group_set.add_argument("name", metavar="NAME")
    group_set.add_argument("emails", metavar="EMAIL", nargs="+")
    add_target_options(group_set)
    group_set.set_defaults(func=guarded(cmd_group_set))
    group_delete = actions.add_parser("delete", help="delete a group")
    group_delete.add_argument("name", metavar="NAME")
    add_target_options(group_delete)
    group_delete.set_defaults(func=guarded(cmd_group_delete))

    activity = subparsers.add_parser(
        "activity",
        help="who opened, started, finished",
        description="Who opened a build's install page, started the install (iOS fetched "
        "the manifest) and finished the download, newest first.",
    )
    activity.add_argument("bundle_id", metavar="BUNDLE_ID")
    activity.add_argument("build_id", metavar="BUILD_ID")
    add_target_options(activity)
    activity.set_defaults(func=guarded(cmd_activity))
