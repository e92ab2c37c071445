"""The local outbox: every invitation the local stack sends through SES (moto) is
also written to ``<state>/outbox/*.eml`` and shown, rendered, at ``/_local/outbox``.

Also the local stand-in for CloudFront's access logs: each ``/builds/*`` download
is written as a standard log line to ``<state>/access-logs/`` and fed to the same
parsing and recording code the access-log function runs in AWS
(``ipadrop.distribution.access_logs``).
"""

from __future__ import annotations

import base64
import email
import email.policy
import html
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ipadrop.adapters.mailer import SesMailer
from ipadrop.domain.ports import OutgoingMail
from ipadrop_tools.local.events import HttpResponse

OUTBOX_DIR = "outbox"
ACCESS_LOG_DIR = "access-logs"
OUTBOX_PATH = "/_local/outbox"
_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}\.eml$")
# The outbox shows our own e-mails: inline styles, images from data: URIs, no script.
OUTBOX_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_installed: dict[str, Path] = {}
_lock = threading.Lock()


def outbox_dir(state_dir: Path) -> Path:
    return state_dir / OUTBOX_DIR


def install_outbox(state_dir: Path) -> None:
    """Make every SES send of this process also write an ``.eml`` (idempotent)."""
    folder = outbox_dir(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with _lock:
        _installed["dir"] = folder
        if getattr(SesMailer.send, "_ipadrop_outbox", False):
            return
        original = SesMailer.send

        def send(self: SesMailer, mail: OutgoingMail) -> str:
            message_id = original(self, mail)
            write_eml(_installed["dir"], mail.raw)
            return message_id

        send._ipadrop_outbox = True  # type: ignore[attr-defined]
        SesMailer.send = send  # type: ignore[method-assign]


def write_eml(folder: Path, raw: bytes) -> Path:
    name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}.eml"
    path = folder / name
    path.write_bytes(raw)
    return path


def list_messages(state_dir: Path) -> list[tuple[str, EmailMessage]]:
    folder = outbox_dir(state_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        found.append((path.name, _parse(path.read_bytes())))
    return found


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def html_with_inline_images(message: EmailMessage) -> str:
    """The HTML part with ``cid:`` references replaced by data URIs (browsers
    cannot resolve ``cid:``; mail clients do)."""
    part = message.get_body(("html",))
    if part is None:
        text = message.get_body(("plain",))
        return "<pre>" + html.escape(text.get_content() if text else "") + "</pre>"
    body = str(part.get_content())
    for attachment in message.walk():
        cid = attachment.get("Content-ID")
        if cid and attachment.get_content_maintype() == "image":
            data = attachment.get_payload(decode=True)
            if isinstance(data, bytes):
                uri = f"data:{attachment.get_content_type()};base64," + base64.b64encode(
                    data
                ).decode("ascii")
                body = body.replace(f"cid:{cid.strip('<>')}", uri)
    return body


def outbox_response(state_dir: Path, path: str) -> HttpResponse:
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", OUTBOX_CSP),
    ]
    rest = path[len(OUTBOX_PATH) :].strip("/")
    if not rest:
        return HttpResponse(200, headers, _index(state_dir).encode("utf-8"))
    if not _NAME.fullmatch(rest) or not (outbox_dir(state_dir) / rest).is_file():
        return HttpResponse(404, headers, b"<p>No such message.</p>")
    raw = (outbox_dir(state_dir) / rest).read_bytes()
    return HttpResponse(200, headers, html_with_inline_images(_parse(raw)).encode("utf-8"))


def _index(state_dir: Path) -> str:
    rows = []
    for name, message in list_messages(state_dir):
        rows.append(
            '<tr><td>{when}</td><td>{to}</td><td><a href="{href}">{subject}</a></td></tr>'.format(
                when=html.escape(str(message.get("Date") or name[:15])),
                to=html.escape(str(message.get("To") or "")),
                href=html.escape(f"{OUTBOX_PATH}/{name}"),
                subject=html.escape(str(message.get("Subject") or "(no subject)")),
            )
        )
    table = (
        "<table><tr><th>Sent</th><th>To</th><th>Subject</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p>No messages yet. Invite someone: "
        "<code>ipadrop invite BUNDLE_ID --to a@b.example</code></p>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Local outbox</title><style>body{font-family:system-ui,sans-serif;margin:24px}"
        "td,th{padding:6px 10px;text-align:left;border-bottom:1px solid #ddd}</style></head>"
        f"<body><h1>Local outbox</h1><p>What the local stack sent through SES (also in "
        f"<code>{html.escape(str(outbox_dir(state_dir)))}</code>).</p>{table}</body></html>"
    )


class LocalAccessLog:
    """Writes CloudFront-style log lines for ``/builds/*`` and records finished
    downloads with the access-log function's own code."""

    def __init__(self, state_dir: Path, *, record: Callable[[list[str]], int] | None) -> None:
        self.folder = state_dir / ACCESS_LOG_DIR
        self.folder.mkdir(parents=True, exist_ok=True)
        self._record = record
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.folder / f"local.{datetime.now(UTC):%Y-%m-%d-%H}.log"

    def __call__(self, *, path: str, query: str, status: int, sent: int, headers: Any) -> None:
        from ipadrop.distribution.access_logs import LOG_HEADER, format_log_line

        line = format_log_line(
            when=datetime.now(UTC),
            path=path,
            query=query,
            status=status,
            sc_bytes=sent,
            request_id=secrets.token_urlsafe(24),
            user_agent=str(headers.get("User-Agent") or "-"),
        )
        with self._lock:
            target = self.path
            new = not target.exists()
            with target.open("a", encoding="utf-8") as handle:
                if new:
                    handle.write(LOG_HEADER)
                handle.write(line + "\n")
        if self._record is not None:
            self._record([LOG_HEADER, line])


def download_recorder(
    s3: Any, bucket: str, dynamodb: Any, table: str
) -> Callable[[list[str]], int]:
    from ipadrop.adapters.s3store import S3BuildStore
    from ipadrop.adapters.table import DynamoPeopleStore
    from ipadrop.distribution.access_logs import parse_log, record_downloads

    builds = S3BuildStore(s3, bucket)
    people = DynamoPeopleStore(dynamodb, table)

    def record(lines: list[str]) -> int:
        return record_downloads(parse_log(lines), builds=builds, people=people)

    return record


def local_page(state_dir: Path, path: str) -> HttpResponse | None:
    """The server's hook: ``/_local/outbox`` and its messages, else None."""
    if path == OUTBOX_PATH or path.startswith(OUTBOX_PATH + "/"):
        return outbox_response(state_dir, path)
    return None
