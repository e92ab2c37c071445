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

from ipadrop.devices.diagnosis import Finding, device_findings, diagnose_build, in_profile
from ipadrop.distribution.notes import note_lines
from ipadrop.domain.model import DEFAULT_CHANNEL, AppFacts, DeviceRecord
from ipadrop.reading.pixels import PNG_SIGNATURE
from ipadrop.render.urls import itms_services_url
from ipadrop.text import clean_text, format_utc, human_size, version_label

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
    # The tester's enrolled device, when known (their invite or this domain's cookie).
    device: DeviceRecord | None = None
    enroll_url: str | None = None  # /d/<token>: find out this device's UDID


_DISTRIBUTION_LABELS = {
    "enterprise": "In-house (Enterprise)",
    "ad-hoc": "Ad Hoc",
    "development": "Development",
    "app-store": "App Store",
}
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")


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


_SEVERITY_ORDER = {"blocker": 0, "warning": 1}


def page_findings(ctx: InstallPageContext) -> list[Finding]:
    """What the page knows before the tap (docs/ARCHITECTURE.md, "Devices and
    pre-install diagnosis"): the build's findings, then the known device's."""
    now = ctx.now or datetime.now(UTC)
    findings: list[Finding] = []
    if ctx.revoked:
        findings.append(
            Finding(
                "revoked",
                "This build was withdrawn by its publisher, so it can no longer be installed.",
                "blocker",
            )
        )
    findings.extend(diagnose_build(ctx.facts, now=now).findings)
    if ctx.device is not None:
        device = ctx.device
        findings.extend(
            device_findings(
                ctx.facts,
                udid=device.udid,
                product=device.product,
                os_version=device.ios_version,
            )
        )
    return sorted(findings, key=lambda f: _SEVERITY_ORDER[f.severity])


def install_blocker(ctx: InstallPageContext) -> str | None:
    """Why this build cannot be installed, in one sentence; None when it can."""
    for finding in page_findings(ctx):
        if finding.blocks:
            return finding.message
    return None


def _finding_view(finding: Finding) -> dict[str, str]:
    """A finding's sentence split around the time it names, so the template can
    wrap that time in ``<time>`` (shown in the tester's zone by the script)."""
    before, after, at = finding.message, "", ""
    if finding.at:
        written = format_utc(finding.at)
        if written and written in finding.message:
            before, _, after = finding.message.partition(written)
            at = finding.at
    return {"code": finding.code, "before": before, "at": at, "after": after}


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
    findings = page_findings(ctx)
    blockers = [f for f in findings if f.blocks]
    blocker = blockers[0] if blockers else None
    registered_only = distribution in ("ad-hoc", "development")
    device = ctx.device
    listed = in_profile(facts, device.udid) if device is not None else None
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
        warnings=[_finding_view(f) for f in findings if not f.blocks],
        blocker=_finding_view(blocker) if blocker else None,
        device=device,
        device_listed=listed,
        enroll_url=ctx.enroll_url if registered_only else None,
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


def render_enroll_page(
    *,
    app_title: str | None,
    mobileconfig_url: str,
    signed_profile: bool,
    contact: str | None = None,
) -> str:
    """``/d/<token>``: explains the device check and offers the profile."""
    return _render(
        "enroll.html.j2",
        done=False,
        app_title=app_title,
        mobileconfig_url=mobileconfig_url,
        signed_profile=signed_profile,
        contact=_contact_view(contact),
    )


def render_enrolled_page(
    *,
    app_title: str | None,
    device: DeviceRecord | None,
    listed: bool | None,
    install_url: str | None,
    contact: str | None = None,
) -> str:
    """``/d/<token>/done``: the device and whether the build's profile lists it."""
    return _render(
        "enroll.html.j2",
        done=True,
        app_title=app_title,
        device=device,
        listed=listed,
        install_url=install_url if listed is not False else None,
        contact=_contact_view(contact),
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
