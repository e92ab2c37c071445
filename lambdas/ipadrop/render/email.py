"""The invitation e-mail (pure): HTML and plain text from Jinja2 templates with
autoescape, the app icon inline as a CID part, and a MIME message whose headers
cannot be injected (``email.message.EmailMessage`` refuses CR/LF in headers;
every value is cleaned first). See docs/ARCHITECTURE.md, "Distribution".

The button links to the https install page, never ``itms-services:`` (mail
clients strip custom schemes, and the page explains what to do in an in-app
browser).
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import jinja2

from ipadrop.distribution.notes import note_lines
from ipadrop.text import clean_text, parse_iso_utc, version_label

# HTML templates are autoescaped; ``.txt.j2`` is plain text (nothing in it is markup,
# and headers are set through ``email.headerregistry``, never from a template).
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("ipadrop.render", "templates"),
    autoescape=jinja2.select_autoescape(
        enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",), default=True
    ),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_MESSAGE_LENGTH = 1000
MAX_SUBJECT_TITLE = 80
ICON_CID_DOMAIN = "ipadrop.invalid"


@dataclass(frozen=True, slots=True)
class InviteMail:
    to: str
    sender_email: str
    sender_name: str
    title: str
    version: str | None
    build: str | None
    install_url: str  # https install page (http only for the local stack)
    expires_at: str  # ISO 8601 UTC
    notes: str | None = None
    message: str | None = None  # the inviter's own words
    icon_png: bytes | None = None
    channel: str | None = None
    message_id_domain: str = "ipadrop.invalid"


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str  # references the icon as cid:<icon_cid>
    icon_cid: str | None


def _expiry_text(value: str) -> str:
    moment = parse_iso_utc(value)
    return f"{moment.day} {moment:%B %Y at %H:%M} UTC"


def _safe_url(url: str) -> str:
    if not re.match(r"^https?://[^\s\"'<>]+$", url):
        raise ValueError("the install URL must be an http(s) URL without spaces or quotes")
    return url


def render_invite(mail: InviteMail, *, icon_cid: str | None = None) -> RenderedMail:
    title = clean_text(mail.title, max_length=120) or "an app"
    version = version_label(
        clean_text(mail.version, max_length=40), clean_text(mail.build, max_length=40)
    )
    message_lines = note_lines(_clean_message(mail.message))
    notes = note_lines(mail.notes)
    sender = clean_text(mail.sender_name, max_length=80) or "ipadrop"
    icon = mail.icon_png if mail.icon_png and mail.icon_png.startswith(_PNG_SIGNATURE) else None
    cid = icon_cid if icon is not None else None
    values = {
        "title": title,
        "initial": title[:1].upper(),
        "version": version,
        "install_url": _safe_url(mail.install_url),
        "expires": _expiry_text(mail.expires_at),
        "notes_lines": notes,
        "message_lines": message_lines,
        "sender": sender,
        "icon_cid": cid,
        "channel": mail.channel if mail.channel and mail.channel != "default" else None,
    }
    subject = f"Install {title[:MAX_SUBJECT_TITLE]} {version}"
    return RenderedMail(
        subject=subject,
        text=_ENV.get_template("invite.txt.j2").render(**values),
        html=_ENV.get_template("invite.html.j2").render(**values),
        icon_cid=cid,
    )


def _clean_message(message: str | None) -> str | None:
    from ipadrop.distribution.notes import clean_notes

    cleaned = clean_notes(message)
    return cleaned[:MAX_MESSAGE_LENGTH] if cleaned else None


def _header_text(value: str) -> str:
    """Text for a header: controls already removed by ``clean_text``; RFC 2047
    encoded-word openers broken up, because the stdlib's folding decodes them
    (an encoded CR LF would come out as a real line break, a new header)."""
    return value.replace("=?", "= ?").replace("?=", "? =")


_EXPECTED_HEADERS = {
    "from",
    "to",
    "subject",
    "message-id",
    "date",
    "auto-submitted",
    "mime-version",
    "content-type",
}


def _check_headers(raw: bytes) -> None:
    """Defence in depth: the top-level header block holds exactly our headers."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", errors="replace")
    names = [line.split(":", 1)[0].lower() for line in head.split("\r\n") if line[:1] not in " \t"]
    if set(names) - _EXPECTED_HEADERS or len(names) != len(set(names)):
        raise ValueError("refusing to send a message whose headers were altered")


def compose_invite(mail: InviteMail, *, sent_at: int | None = None) -> tuple[str, bytes]:
    """The subject and the whole MIME message (bytes, CRLF line ends) for ``SendEmail``.

    multipart/alternative: text/plain, then multipart/related (text/html + the icon).
    """
    icon_id = make_msgid(domain=ICON_CID_DOMAIN)  # "<...@ipadrop.invalid>"
    rendered = render_invite(mail, icon_cid=icon_id[1:-1])
    message = EmailMessage(policy=email.policy.SMTP)
    # Address() refuses CR/LF and quotes the display name as needed.
    message["From"] = Address(
        display_name=_header_text(clean_text(mail.sender_name, max_length=80) or ""),
        addr_spec=mail.sender_email,
    )
    message["To"] = Address(addr_spec=mail.to)
    message["Subject"] = _header_text(rendered.subject)  # no controls: clean_text
    message["Message-ID"] = make_msgid(domain=mail.message_id_domain)
    if sent_at is not None:
        from datetime import UTC, datetime

        message["Date"] = format_datetime(datetime.fromtimestamp(sent_at, tz=UTC))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if rendered.icon_cid is not None and mail.icon_png is not None:
        for part in message.iter_parts():
            if part.get_content_type() == "text/html":
                part.add_related(
                    mail.icon_png,
                    maintype="image",
                    subtype="png",
                    cid=icon_id,
                    disposition="inline",
                    filename="icon.png",
                )
    raw = message.as_bytes()
    _check_headers(raw)
    return rendered.subject, raw
