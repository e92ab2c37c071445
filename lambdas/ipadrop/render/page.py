"""The install page and its sibling pages (link expired, not found, forbidden).

One self-contained HTML document per page: inline CSS, JS and SVG, no request
leaves the page. The inline ``<style>`` and ``<script>`` blocks are constant
files (``templates/page.css``, ``templates/page.js``) whose SHA-256 hashes are
computed here at import, so ``CONTENT_SECURITY_POLICY`` always matches them.
Everything that varies per page travels as escaped text, attributes, or a
``<script type="application/json">`` data block (never executed, so CSP does
not govern it).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import jinja2
import segno
from markupsafe import Markup

from ipadrop.distribution.notes import note_lines
from ipadrop.domain.model import DEFAULT_CHANNEL, AppFacts
from ipadrop.reading.pixels import PNG_SIGNATURE
from ipadrop.render.urls import itms_services_url
from ipadrop.text import clean_text, human_size, parse_iso_utc, version_label

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("ipadrop.render", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def _static_block(name: str) -> str:
    source, _, _ = _ENV.loader.get_source(_ENV, name)  # type: ignore[union-attr]
    return source.strip()


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_PAGE_CSS = _static_block("page.css")
_PAGE_JS = _static_block("page.js")
STYLE_HASH = _csp_hash(_PAGE_CSS)
SCRIPT_HASH = _csp_hash(_PAGE_JS)

_POLICY_FETCH = (
    "default-src 'none'; img-src data:; "
    f"style-src {STYLE_HASH}; script-src {SCRIPT_HASH}; "
    "base-uri 'none'; form-action 'none'"
)
# The full policy for the HTTP header (CloudFront response-headers policy, link handler).
CONTENT_SECURITY_POLICY = _POLICY_FETCH + "; frame-ancestors 'none'"
# Browsers ignore (and complain about) frame-ancestors in <meta>; the meta copy
# protects pages hosted by `ipadrop render` on servers that send no header.
META_CONTENT_SECURITY_POLICY = _POLICY_FETCH


def content_security_policy() -> str:
    """The Content-Security-Policy header value every page here works under."""
    return CONTENT_SECURITY_POLICY


@dataclass(frozen=True, slots=True)
class InstallPageContext:
    facts: AppFacts
    build_id: str
    uploaded_at: str  # ISO 8601 UTC
    manifest_url: str  # absolute URL of manifest.plist (encoded once into the itms link)
    page_url: str  # absolute URL of this page (QR code, "copy link")
    link_expires_at: str | None = None  # ISO 8601 UTC; None for static pages
    icon_png: bytes | None = None
    revoked: bool = False
    contact: str | None = None  # whom testers ask for a new link
    now: datetime | None = None  # defaults to the current time
    notes: str | None = None  # "What's new": plain text from the uploader
    channel: str = DEFAULT_CHANNEL


_DISTRIBUTION_LABELS = {
    "enterprise": "In-house (Enterprise)",
    "ad-hoc": "Ad Hoc",
    "development": "Development",
    "app-store": "App Store",
}
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
# Warn when the profile dies within this many days.
_PROFILE_WARNING_DAYS = 7


def parse_iso_time(value: str | None) -> datetime | None:
    """``text.parse_iso_utc``, or None for a missing or unreadable time."""
    if not value:
        return None
    try:
        return parse_iso_utc(value)
    except (ValueError, OverflowError):
        return None


def format_utc(value: str | None) -> str:
    """Server-side text for a time (the page's script rewrites it in local time)."""
    parsed = parse_iso_time(value)
    if parsed is None:
        return value or ""
    utc = parsed.astimezone(UTC)
    return f"{utc.day} {utc:%b %Y, %H:%M} UTC"


def _icon_data_uri(icon_png: bytes | None) -> str | None:
    if not icon_png or not icon_png.startswith(PNG_SIGNATURE):
        return None
    return "data:image/png;base64," + base64.b64encode(icon_png).decode("ascii")


def _qr_svg(url: str) -> Markup:
    code = segno.make(url, error="m")
    svg = code.svg_inline(
        scale=1, border=2, omitsize=True, dark="#000", light="#fff", svgclass="qr-code"
    )
    # segno writes only its own markup; the URL is encoded in the path data.
    return Markup(svg)  # noqa: S704


def _contact_view(contact: str | None) -> dict[str, str] | None:
    text = (contact or "").strip()
    if not text:
        return None
    return {"text": text, "mailto": f"mailto:{text}" if _EMAIL.fullmatch(text) else ""}


def install_blocker(ctx: InstallPageContext) -> str | None:
    """Why this build cannot be installed at all, in one sentence; None when it can."""
    now = ctx.now or datetime.now(UTC)
    profile = ctx.facts.profile
    if ctx.revoked:
        return "This build was withdrawn by its publisher, so it can no longer be installed."
    if profile is None:
        return None
    if profile.distribution == "app-store":
        return (
            "This build is signed for App Store submission; iOS installs such builds "
            "only through the App Store or TestFlight."
        )
    expires = parse_iso_time(profile.expires_at)
    if expires is not None and expires <= now:
        return (
            f"Its provisioning profile expired on {format_utc(profile.expires_at)}; "
            "iOS refuses to install or open it."
        )
    certificates = [parse_iso_time(t) for t in profile.certificates_expire_at]
    if certificates and all(c is not None and c <= now for c in certificates):
        return "Its signing certificate has expired; iOS refuses to install or open it."
    return None


def _profile_warning(ctx: InstallPageContext) -> str | None:
    profile = ctx.facts.profile
    now = ctx.now or datetime.now(UTC)
    if profile is None:
        return "This build carries no provisioning profile; iOS may refuse to install it."
    expires = parse_iso_time(profile.expires_at)
    if expires is not None and (expires - now).days < _PROFILE_WARNING_DAYS:
        return "Its provisioning profile expires soon; after that the app will no longer open."
    return None


_ENV.filters["utc_text"] = format_utc


def _render(template: str, **values: Any) -> str:
    return _ENV.get_template(template).render(
        css=Markup(_PAGE_CSS),  # noqa: S704 - constant file, hashed into the CSP
        js=Markup(_PAGE_JS),  # noqa: S704 - constant file, hashed into the CSP
        meta_csp=META_CONTENT_SECURITY_POLICY,
        **values,
    )


def render_install_page(ctx: InstallPageContext) -> str:
    facts = ctx.facts
    profile = facts.profile
    distribution = profile.distribution if profile is not None else None
    blocker = install_blocker(ctx)
    registered_only = distribution in ("ad-hoc", "development")
    page_data = {
        "deviceFamily": list(facts.device_family),
        "minimumOsVersion": facts.minimum_os_version,
        "linkExpiresAt": ctx.link_expires_at,
        "installable": blocker is None,
    }
    # Cleaned again here: build.json written before the cleaning got stricter.
    title = clean_text(facts.title) or facts.bundle_id
    return _render(
        "install.html.j2",
        title=title,
        initial=title[:1].upper(),
        facts=facts,
        version=version_label(facts.version, facts.build),
        size=human_size(facts.size_bytes),
        team_name=clean_text(profile.team_name) if profile else None,
        team_id=profile.team_id if profile else None,
        distribution=distribution or "unknown",
        distribution_label=_DISTRIBUTION_LABELS.get(distribution or "", "Unknown"),
        registered_only=registered_only,
        device_count=profile.device_count if profile else 0,
        profile_expires_at=profile.expires_at if profile else None,
        profile_warning=None if blocker else _profile_warning(ctx),
        blocker=blocker,
        icon_data_uri=_icon_data_uri(ctx.icon_png),
        itms_url=itms_services_url(ctx.manifest_url),
        page_url=ctx.page_url,
        qr_svg=_qr_svg(ctx.page_url) if blocker is None else None,
        uploaded_at=ctx.uploaded_at,
        link_expires_at=ctx.link_expires_at,
        build_id=ctx.build_id,
        contact=_contact_view(ctx.contact),
        page_data=page_data,
        notes_lines=note_lines(ctx.notes),
        channel=ctx.channel,
    )


GoneReason = Literal["expired", "revoked"]


def render_expired_page(
    *,
    contact: str | None = None,
    title: str | None = None,
    expired_at: str | None = None,
    reason: GoneReason = "expired",
) -> str:
    """HTTP 410: the link's time is up (``expired``) or its build was withdrawn (``revoked``)."""
    return _message_page(reason, contact, title=title, expired_at=expired_at)


def render_not_found_page(*, contact: str | None = None) -> str:
    """HTTP 404: the link leads nowhere (unknown build or app)."""
    return _message_page("not-found", contact)


def render_unavailable_page(*, contact: str | None = None) -> str:
    """HTTP 500/503 on a public route: our fault, the link itself is fine."""
    return _message_page("unavailable", contact)


def render_forbidden_page(*, contact: str | None = None) -> str:
    """HTTP 403: the link was altered, cut short or signed with an unknown key."""
    return _message_page("forbidden", contact)


def _message_page(
    kind: str, contact: str | None, *, title: str | None = None, expired_at: str | None = None
) -> str:
    return _render(
        "message.html.j2",
        kind=kind,
        app_title=clean_text(title),
        expired_at=expired_at,
        contact=_contact_view(contact),
    )
