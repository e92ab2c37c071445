"""The link service's core: mint links, open them, render what they lead to.

Pure: the build store, the token key ring and the URL signer are passed in;
the clock is an argument. No HTTP here: refusals carry a ``kind`` and the
handlers (``ipadrop.handlers.admin_routes`` / ``public_routes``) pick the status
and render the page. See docs/ARCHITECTURE.md.

Every URL is built from ``LinkConfig.distribution_url`` and validated ids,
never from anything in the request but the token and the ids checked here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from ipadrop import settings
from ipadrop.distribution import activity
from ipadrop.distribution import events as bus_events
from ipadrop.distribution.access_logs import INVITE_QUERY
from ipadrop.distribution.metadata import is_valid_channel
from ipadrop.distribution.notes import clean_notes
from ipadrop.domain import bucket_keys, indexes
from ipadrop.domain.model import BuildRecord
from ipadrop.domain.ports import EventPublisher, IndexStore, JsonDoc, PeopleStore
from ipadrop.links import tokens
from ipadrop.links.refusals import (
    BadRequest,
    Gone,
    NotFound,
    PublicRefusal,
    require_build_id,
    require_bundle_id,
)
from ipadrop.publishing.revoke import revoke_build
from ipadrop.render.urls import itms_services_url
from ipadrop.text import describe_seconds, iso_utc

if TYPE_CHECKING:
    from ipadrop.render.page import InstallPageContext

LATEST = tokens.LATEST
_CREATE_LINK_FIELDS = frozenset({"bundle_id", "build", "ttl_seconds", "channel"})
logger = logging.getLogger("ipadrop.links")


class UrlSigner(Protocol):
    def __call__(self, url: str, *, expires_at: int) -> str: ...


@dataclass(frozen=True, slots=True)
class LinkConfig:
    distribution_url: str  # no trailing slash
    ttl_min_seconds: int = settings.DEFAULT_LINK_TTL_MIN_SECONDS
    ttl_max_seconds: int = settings.DEFAULT_LINK_TTL_MAX_SECONDS
    ttl_default_seconds: int = settings.DEFAULT_LINK_TTL_SECONDS
    asset_url_ttl_seconds: int = settings.DEFAULT_ASSET_URL_TTL_SECONDS
    public_mode: bool = False
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a link (or an invite) opens: one build now, and whether it follows ``latest``."""

    record: BuildRecord
    latest: bool
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class LinkResult:
    install_url: str
    manifest_url: str
    itms_services_url: str
    expires_at: str | None  # ISO 8601 UTC; None in public mode (static URLs)
    bundle_id: str
    build_id: str  # for "latest": the build the link opens right now

    def to_json(self) -> dict[str, Any]:
        return {
            "install_url": self.install_url,
            "itms_services_url": self.itms_services_url,
            "manifest_url": self.manifest_url,
            "expires_at": self.expires_at,
            "bundle_id": self.bundle_id,
            "build_id": self.build_id,
        }


class LinkService:
    def __init__(
        self,
        *,
        store: IndexStore,
        config: LinkConfig,
        key_ring: Callable[[], tokens.KeyRing] | None,
        signer: Callable[[], UrlSigner] | None,
        people: PeopleStore | None = None,
        events: EventPublisher | None = None,
    ) -> None:
        """``key_ring`` and ``signer`` are called when first needed, so a route
        that neither mints nor signs never loads a key (None in public mode).
        ``people`` (invites, activity) and ``events`` are optional: without them
        invite tokens are refused and nothing is recorded or announced."""
        self.store = store
        self.config = config
        self._key_ring = key_ring
        self._signer = signer
        self.people = people
        self.events = events

    # ----------------------------------------------------------------- admin API

    def create_link(self, request: Mapping[str, Any], *, now: int) -> LinkResult:
        unknown = sorted(set(request) - _CREATE_LINK_FIELDS)
        if unknown:
            raise BadRequest(
                f"Unknown field {unknown[0]!r}; send bundle_id, build, channel and ttl_seconds.",
                code="invalid_field",
            )
        target = self.resolve_target(request)
        ttl = self.ttl(request.get("ttl_seconds"))
        return self.mint_link(target, ttl=ttl, now=now)

    def resolve_target(self, request: Mapping[str, Any]) -> LinkTarget:
        """Validate ``bundle_id``, ``build`` and ``channel`` and find the build they
        name now (``latest`` of a channel follows that channel)."""
        bundle_id = require_bundle_id(request.get("bundle_id"))
        build_ref = request.get("build", LATEST)
        if build_ref is None:
            build_ref = LATEST
        if not isinstance(build_ref, str) or not (
            build_ref == LATEST or bucket_keys.is_valid_build_id(build_ref)
        ):
            raise BadRequest(
                'build must be a build id like "20261124T002616Z-1a2b3c4d5e" or "latest".',
                code="invalid_build_id",
            )
        channel = request.get("channel")
        if channel is not None:
            if not is_valid_channel(channel):
                raise BadRequest(
                    "channel must be 1 to 40 lower-case letters, digits, '.', '_' or '-'.",
                    code="invalid_channel",
                )
            if build_ref != LATEST:
                raise BadRequest(
                    'channel goes with build "latest" (a build id already names one build).',
                    code="invalid_channel",
                )

        if build_ref == LATEST:
            app_index = self.store.get_app_index(bundle_id)
            build_id = indexes.latest_build_id(app_index, channel)
            if build_id is None:
                if app_index is None:
                    raise NotFound(f"There is no app {bundle_id}.", code="unknown_app")
                where = f" in channel {channel}" if channel else ""
                raise NotFound(
                    f"App {bundle_id} has no build{where} that can be installed.",
                    code="no_builds",
                )
        else:
            build_id = build_ref
        record = self.store.get_build(bundle_id, build_id)
        if record is None:
            raise NotFound(f"App {bundle_id} has no build {build_id}.", code="unknown_build")
        if record.revoked:
            raise Gone(f"Build {build_id} of {bundle_id} was revoked.", code="revoked")
        return LinkTarget(record=record, latest=build_ref == LATEST, channel=channel)

    def mint_link(
        self, target: LinkTarget, *, ttl: int, now: int, invite_id: str | None = None
    ) -> LinkResult:
        record = target.record
        bundle_id, build_id = record.bundle_id, record.build_id
        base = self.config.distribution_url
        if self.config.public_mode:
            # Public mode: the processor's static artefacts are the link; nothing expires.
            prefix = f"{base}/{bucket_keys.build_prefix(bundle_id, build_id)}"
            manifest_url = prefix + bucket_keys.MANIFEST_NAME
            return LinkResult(
                install_url=prefix + bucket_keys.PAGE_NAME,
                manifest_url=manifest_url,
                itms_services_url=itms_services_url(manifest_url),
                expires_at=None,
                bundle_id=bundle_id,
                build_id=build_id,
            )
        expires_at = now + ttl
        token = tokens.mint_token(
            self._ring(),
            bundle_id=bundle_id,
            build_id=None if target.latest else build_id,
            not_before=now,
            expires_at=expires_at,
            channel=target.channel if target.latest else None,
            invite_id=invite_id,
        )
        manifest_url = manifest_url_for(base, token)
        return LinkResult(
            install_url=install_url_for(base, token),
            manifest_url=manifest_url,
            itms_services_url=itms_services_url(manifest_url),
            expires_at=iso_utc(expires_at),
            bundle_id=bundle_id,
            build_id=build_id,
        )

    def list_apps(self) -> dict[str, Any]:
        apps = self.store.get_apps_index().get("apps", [])
        return {"apps": list(apps)}

    def list_builds(self, bundle_id: str) -> dict[str, Any]:
        bundle_id = require_bundle_id(bundle_id)
        index = self.store.get_app_index(bundle_id)
        if index is None:
            raise NotFound(f"There is no app {bundle_id}.", code="unknown_app")
        return {
            "bundle_id": bundle_id,
            "title": index.get("title"),
            "builds": list(index.get("builds", [])),
        }

    def revoke(self, bundle_id: str, build_id: str, *, now: int) -> dict[str, Any]:
        bundle_id = require_bundle_id(bundle_id)
        build_id = require_build_id(build_id)
        # Always delegate: repeating a revoke is harmless and completes one that
        # was interrupted half-way (the store keeps the first revoked_at).
        record = revoke_build(self.store, bundle_id, build_id, revoked_at=iso_utc(now))
        if record is None:
            raise NotFound(f"App {bundle_id} has no build {build_id}.", code="unknown_build")
        self.emit(bus_events.build_revoked(bundle_id, build_id, record.revoked_at))
        return {"bundle_id": bundle_id, "build_id": build_id, "revoked_at": record.revoked_at}

    def update_notes(self, bundle_id: str, build_id: str, body: Mapping[str, Any]) -> JsonDoc:
        """Replace a build's release notes (``{"notes": "..."}``, null clears them)."""
        bundle_id = require_bundle_id(bundle_id)
        build_id = require_build_id(build_id)
        unknown = sorted(set(body) - {"notes"})
        if unknown or "notes" not in body:
            raise BadRequest('Send {"notes": "..."} (or null to clear them).', code="invalid_field")
        raw = body.get("notes")
        if raw is not None and not isinstance(raw, str):
            raise BadRequest("notes must be a string or null.", code="invalid_notes")
        notes = clean_notes(raw)
        record = self.store.get_build(bundle_id, build_id)
        if record is None:
            raise NotFound(f"App {bundle_id} has no build {build_id}.", code="unknown_build")
        updated = replace(record, notes=notes)
        self.store.put_build_record(updated)
        self.store.update_app_index(
            bundle_id, lambda current: indexes.set_notes(current, bundle_id, build_id, notes)
        )
        return {"bundle_id": bundle_id, "build_id": build_id, "notes": notes}

    def emit(self, event: bus_events.Event) -> None:
        bus_events.emit(self.events, event)

    # ------------------------------------------------------------- public routes

    def open_link(self, token: str, *, now: int) -> tuple[tokens.LinkClaims, BuildRecord]:
        """The build a token opens now, or ``PublicRefusal`` with the page to show."""
        claims, record, _ = self.open_invite_link(token, now=now)
        return claims, record

    def open_invite_link(
        self, token: str, *, now: int
    ) -> tuple[tokens.LinkClaims, BuildRecord, JsonDoc | None]:
        """``open_link`` plus the invite the token was minted for (None for plain links)."""
        claims, invite = self.verify_claims(token, now=now)
        record = self.build_for(claims)
        if record is None:
            # The link was good when minted; its build (or every build of a
            # "latest" link) has since been deleted or revoked.
            raise PublicRefusal("gone", page_kind="revoked")
        if record.revoked:
            raise PublicRefusal("revoked", page_kind="revoked", title=record.facts.title)
        return claims, record, invite

    def verify_claims(
        self, token: str, *, now: int, scopes: tuple[str, ...] = (tokens.SCOPE_INSTALL,)
    ) -> tuple[tokens.LinkClaims, JsonDoc | None]:
        """An authentic, current token of one of ``scopes`` whose invite (if any)
        stands, or ``PublicRefusal`` with the page to show."""
        if self.config.public_mode:
            # Public stacks serve the static artefacts under /builds/; tokens mean nothing.
            raise PublicRefusal("not_found", page_kind="not_found")
        try:
            claims = tokens.verify_token(self._ring(), token, now=now)
        except tokens.TokenExpired as expired:
            raise PublicRefusal(
                "expired",
                page_kind="expired",
                title=self._title_for(expired.claims),
                expired_at=iso_utc(expired.claims.expires_at),
            ) from None
        except tokens.TokenNotYetValid:
            raise PublicRefusal("not_yet_valid", page_kind="forbidden") from None
        except tokens.TokenError:
            raise PublicRefusal("forbidden", page_kind="forbidden") from None

        if claims.scope not in scopes:
            raise PublicRefusal("forbidden", page_kind="forbidden")
        invite = self._check_invite(claims.invite_id) if claims.invite_id is not None else None
        return claims, invite

    def build_for(self, claims: tokens.LinkClaims) -> BuildRecord | None:
        """The build a verified token names now (None when it names none or it is gone)."""
        if claims.names_no_bundle:
            return None
        bundle_id = claims.bundle_id or self._bundle_from_digest(claims)
        build_id = None
        if bundle_id is not None:
            build_id = claims.build_id or indexes.latest_build_id(
                self.store.get_app_index(bundle_id), claims.channel
            )
        if bundle_id is None or build_id is None:
            return None
        return self.store.get_build(bundle_id, build_id)

    def install_page(self, token: str, *, now: int) -> InstallPageContext:
        """What the install page of a token shows now (the handler renders it)."""
        from ipadrop.render import page

        claims, record, invite = self.open_invite_link(token, now=now)
        self.record_activity(activity.PAGE_OPENED, claims, record, invite, now=now)
        base = self.config.distribution_url
        icon_png = None
        if record.has_icon:
            icon_png = self.store.read_object(
                bucket_keys.build_file_key(record.bundle_id, record.build_id, bucket_keys.ICON_NAME)
            )
        return page.InstallPageContext(
            facts=record.facts,
            build_id=record.build_id,
            uploaded_at=record.uploaded_at,
            manifest_url=manifest_url_for(base, token),
            page_url=install_url_for(base, token),
            link_expires_at=iso_utc(claims.expires_at),
            icon_png=icon_png,
            revoked=record.revoked,
            contact=self.config.contact,
            now=datetime.fromtimestamp(now, tz=UTC),
            notes=record.notes,
            channel=record.channel,
        )

    def manifest(self, token: str, *, now: int) -> bytes:
        """The manifest for the build a token opens, asset URLs signed from ``now``."""
        from ipadrop.render.manifest import build_manifest

        claims, record, invite = self.open_invite_link(token, now=now)
        self.record_activity(activity.INSTALL_STARTED, claims, record, invite, now=now)
        asset_expiry = now + self.config.asset_url_ttl_seconds
        sign = self._sign()
        base = self.config.distribution_url

        def asset_url(name: str) -> str:
            key = bucket_keys.build_file_key(record.bundle_id, record.build_id, name)
            url = f"{base}/{key}"
            if name == bucket_keys.IPA_NAME and claims.invite_id is not None:
                # Signed with the URL, logged by CloudFront: download_finished
                # is attributed from the access log (distribution/access_logs.py).
                url += f"?{INVITE_QUERY}={claims.invite_id}"
            return sign(url, expires_at=asset_expiry)

        return build_manifest(
            facts=record.facts,
            ipa_url=asset_url(bucket_keys.IPA_NAME),
            icon_url=asset_url(bucket_keys.ICON_NAME) if record.has_icon else None,
            display_image_url=(
                asset_url(bucket_keys.DISPLAY_IMAGE_NAME)
                if record.has_icon and bucket_keys.DISPLAY_IMAGE_NAME in record.icon_files
                else None
            ),
            full_size_image_url=(
                asset_url(bucket_keys.FULL_SIZE_IMAGE_NAME)
                if record.has_icon and bucket_keys.FULL_SIZE_IMAGE_NAME in record.icon_files
                else None
            ),
        )

    def record_activity(
        self,
        kind: activity.ActivityType,
        claims: tokens.LinkClaims,
        record: BuildRecord,
        invite: JsonDoc | None,
        *,
        now: int,
    ) -> None:
        """Best effort: a table outage must not keep a tester from installing."""
        if self.people is None:
            return
        email = invite.get("email") if invite else None
        item = activity.new_event(kind, at=now, invite_id=claims.invite_id, email=email)
        try:
            self.people.put_activity(record.bundle_id, record.build_id, item)
        except Exception as error:
            logger.warning("recording activity failed", exc_info=error)

    # ------------------------------------------------------------------ helpers

    def _check_invite(self, invite_id: str) -> JsonDoc:
        """An invite's token works while its invite exists and is not revoked."""
        invite = self.people.get_invite(invite_id) if self.people is not None else None
        if invite is None or invite.get("revoked_at"):
            raise PublicRefusal("revoked", page_kind="revoked")
        return invite

    def ttl(self, raw: Any) -> int:
        cfg = self.config
        if raw is None:
            return cfg.ttl_default_seconds
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise BadRequest("ttl_seconds must be a whole number of seconds.", code="invalid_ttl")
        if not cfg.ttl_min_seconds <= raw <= cfg.ttl_max_seconds:
            raise BadRequest(
                f"ttl_seconds must be between {cfg.ttl_min_seconds} and {cfg.ttl_max_seconds} "
                f"({describe_seconds(cfg.ttl_min_seconds)} to "
                f"{describe_seconds(cfg.ttl_max_seconds)}), not {raw}.",
                code="invalid_ttl",
            )
        return raw

    def key_ring(self) -> tokens.KeyRing:
        """The token key ring (for minting links of other kinds, e.g. enrollment)."""
        return self._ring()

    def _ring(self) -> tokens.KeyRing:
        if self._key_ring is None:
            raise RuntimeError("no token key ring is configured")
        return self._key_ring()

    def _sign(self) -> UrlSigner:
        if self._signer is None:
            raise RuntimeError("no URL signer is configured")
        return self._signer()

    def _title_for(self, claims: tokens.LinkClaims) -> str | None:
        """Best effort, for the expired page: the app's title, if it still exists."""
        bundle_id = claims.bundle_id or self._bundle_from_digest(claims)
        index = self.store.get_app_index(bundle_id) if bundle_id else None
        title = index.get("title") if index else None
        return title if isinstance(title, str) else None

    def _bundle_from_digest(self, claims: tokens.LinkClaims) -> str | None:
        for app in self.store.get_apps_index().get("apps", []):
            candidate = app.get("bundle_id")
            if isinstance(candidate, str) and claims.names_bundle(candidate):
                return candidate
        return None


def install_url_for(distribution_url: str, token: str) -> str:
    return f"{distribution_url}/i/{token}"


def manifest_url_for(distribution_url: str, token: str) -> str:
    return f"{distribution_url}/m/{token}/manifest.plist"
