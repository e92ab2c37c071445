"""``ipadrop inspect FILE [--json]``: the facts of an IPA.

People get a short summary, machines (``--json``) the object the contract fixes
(docs/ARCHITECTURE.md).
A file that is not an installable IPA (or cannot be read) exits with status 2
and a single ``error: ...`` line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from ipadrop.domain.model import AppFacts
from ipadrop.reading.errors import IpaRejected
from ipadrop.text import human_size

EXIT_REJECTED = 2
_FAMILY_NAMES = {"iphone": "iPhone", "ipad": "iPad"}
# Archive entry names reach the terminal: control characters (ESC sequences can
# retitle the window or rewrite earlier lines) and bidi overrides are shown as "?".
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with nothing a terminal would act on instead of show."""
    return _UNPRINTABLE.sub("?", text)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="show the facts of an IPA (bundle id, version, icon, profile)",
        description="Read an .ipa without unpacking it and show what ipadrop would publish.",
    )
    parser.add_argument("file", metavar="FILE", help="the .ipa to inspect")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ipadrop.reading.inspector import inspect_ipa
    from ipadrop.reading.sources import LocalFileSource

    path: str = args.file
    try:
        with LocalFileSource(path) as source:
            inspection = inspect_ipa(source)
    except IpaRejected as exc:
        return _fail(f"{path}: {exc.message} ({exc.code})")
    except IsADirectoryError:
        return _fail(f"{path} is a directory, not an .ipa file.")
    except FileNotFoundError:
        return _fail(f"{path}: no such file.")
    except PermissionError:
        return _fail(f"{path}: permission denied.")
    except OSError as exc:
        return _fail(f"{path} cannot be read: {exc.strerror or exc}.")
    except Exception as exc:  # a bug must still not print a traceback at a user
        return _fail(f"{path} could not be inspected ({type(exc).__name__}: {exc}).")
    if args.json:
        print(json.dumps(inspection.facts.to_json(), indent=2, ensure_ascii=False))
    else:
        print(summary(inspection.facts))
    return 0


def _fail(message: str) -> int:
    # One line, whatever the message holds.
    print("error: " + terminal_safe(" ".join(message.split())), file=sys.stderr)
    return EXIT_REJECTED


def summary(facts: AppFacts) -> str:
    """A few aligned lines a person can scan."""
    version = facts.version or "?"
    lines = [f"{facts.title} {version} ({facts.build or '?'})"]
    rows: list[tuple[str, str]] = [
        ("bundle id", facts.bundle_id),
        ("minimum iOS", facts.minimum_os_version or "not set"),
        ("devices", ", ".join(_FAMILY_NAMES[f] for f in facts.device_family) or "none"),
        ("size", human_size(facts.size_bytes)),
        (
            "icon",
            f"{facts.icon.width}x{facts.icon.height} {facts.icon.source}"
            if facts.icon
            else "none found (icons inside Assets.car are not read)",
        ),
    ]
    profile = facts.profile
    if profile is None:
        rows.append(("profile", "none"))
    else:
        team = profile.team_name or "?"
        if profile.team_id:
            team += f" ({profile.team_id})"
        rows += [
            ("profile", f"{profile.distribution}: {profile.name or '(unnamed)'}"),
            ("team", team),
            ("expires", profile.expires_at or "?"),
            ("devices listed", str(profile.device_count)),
            ("profile uuid", profile.uuid or "?"),
        ]
        expiries = sorted(profile.certificates_expire_at)
        if expiries:
            rows.append(("certificates", f"{len(expiries)}, first to expire {expiries[0]}"))
    width = max(len(label) for label, _ in rows)
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(terminal_safe(line) for line in lines)
