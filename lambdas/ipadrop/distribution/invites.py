"""Groups and invitations (pure: the stores, the mailer and the clock are passed in).

``POST /invites`` makes one invite per recipient (groups expanded, addresses
deduplicated), each with its own token carrying the invite id, and sends one
e-mail each. Revoking an invite refuses its token only. Publishing with
``notify`` invites the same way with ids derived from the build and the
address, so a retried event finds its invites and sends only those not yet
sent (docs/ARCHITECTURE.md, "Distribution").
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ipadrop.distribution import events as bus_events
from ipadrop.distribution.metadata import (
    MAX_RECIPIENTS,
    is_valid_group_name,
    normalize_email,
    split_recipients,
)
from ipadrop.domain import bucket_keys
from ipadrop.domain.model import BuildRecord
from ipadrop.domain.ports import JsonDoc, Mailer, MailRejected, OutgoingMail, PeopleStore
from ipadrop.links.refusals import BadRequest, NotFound, parse_json_body
from ipadrop.links.service import LinkService, LinkTarget
from ipadrop.text import clean_text, iso_utc

logger = logging.getLogger("ipadrop.invites")

MAX_GROUP_SIZE = 1000
MAX_MESSAGE_LENGTH = 1000
_INVITE_FIELDS = frozenset(
    {"bundle_id", "build", "channel", "recipients", "ttl_seconds", "message"}
)


@dataclass(frozen=True, slots=True)
class Sender:
    email: str
    name: str = "ipadrop"


class InviteService:
    def __init__(
        self,
        *,
        links: LinkService,
        people: PeopleStore,
        mailer: Mailer | None,
        sender: Sender | None,
        new_id: Callable[[], str] = lambda: secrets.token_hex(8),
        workers: int = 8,
    ) -> None:
        self.links = links
        self.people = people
        self.mailer = mailer
        self.sender = sender
        self.new_id = new_id
        # Invitations are independent: a few at a time, within the mailer's rate.
        self.workers = max(1, workers)
        self._icons: dict[tuple[str, str], bytes | None] = {}

    # -- groups ----------------------------------------------------------------

    def set_group(self, name: str, body: Mapping[str, Any], *, now: int) -> JsonDoc:
        name = _require_group_name(name)
        raw = body.get("emails")
        if set(body) - {"emails"} or not isinstance(raw, list):
            raise BadRequest('Send {"emails": ["a@b.example", ...]}.', code="invalid_field")
        emails: list[str] = []
        for value in raw:
            email = normalize_email(value)
            if email is None:
                shown = clean_text(str(value), max_length=80) or "an empty value"
                raise BadRequest(f"{shown!r} is not an e-mail address.", code="invalid_email")
            if email.lower() not in {e.lower() for e in emails}:
                emails.append(email)
        if len(emails) > MAX_GROUP_SIZE:
            raise BadRequest(
                f"A group holds at most {MAX_GROUP_SIZE} addresses.", code="group_too_large"
            )
        return self.people.put_group(name, emails, updated_at=iso_utc(now))

    def list_groups(self) -> JsonDoc:
        groups = [
            {
                "name": g.get("name"),
                "emails": list(g.get("emails") or []),
                "updated_at": g.get("updated_at"),
            }
            for g in self.people.list_groups()
        ]
        return {"groups": sorted(groups, key=lambda g: str(g["name"]))}

    def delete_group(self, name: str) -> JsonDoc:
        name = _require_group_name(name)
        if not self.people.delete_group(name):
            raise NotFound(f"There is no group {name}.", code="unknown_group")
        return {"name": name, "deleted": True}

    # -- invites ---------------------------------------------------------------

    def create_invites(self, request: Mapping[str, Any], *, now: int) -> JsonDoc:
        unknown = sorted(set(request) - _INVITE_FIELDS)
        if unknown:
            raise BadRequest(
                f"Unknown field {unknown[0]!r}; send bundle_id, build, channel, recipients, "
                "ttl_seconds and message.",
                code="invalid_field",
            )
        raw_recipients = request.get("recipients")
        if not isinstance(raw_recipients, list) or not raw_recipients:
            raise BadRequest(
                'recipients must be a list of group names and e-mail addresses, like ["qa"].',
                code="invalid_recipients",
            )
        message = request.get("message")
        if message is not None and (
            not isinstance(message, str) or len(message) > MAX_MESSAGE_LENGTH
        ):
            raise BadRequest(
                f"message must be text of at most {MAX_MESSAGE_LENGTH} characters.",
                code="invalid_message",
            )
        target = self.links.resolve_target(request)
        ttl = self.links.ttl(request.get("ttl_seconds"))
        emails = self.expand(raw_recipients)
        ids = [self.new_id() for _ in emails]
        invites = self._invite_all(
            target, list(zip(emails, ids, strict=True)), ttl=ttl, now=now, message=message
        )
        return {"invites": invites}

    def _invite_all(
        self,
        target: LinkTarget,
        people: list[tuple[str, str]],
        *,
        ttl: int,
        now: int,
        message: str | None,
    ) -> list[JsonDoc]:
        """One invite per (address, invite id), in order; sent by a few threads."""
        from concurrent.futures import ThreadPoolExecutor

        self._icon(target.record)  # read once, before the threads share it

        def one(person: tuple[str, str]) -> JsonDoc:
            return self._invite(
                target, person[0], ttl=ttl, now=now, message=message, invite_id=person[1]
            )

        if len(people) <= 1 or self.workers == 1:
            return [one(person) for person in people]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(people))) as pool:
            return list(pool.map(one, people))

    def expand(self, recipients: list[Any] | tuple[Any, ...]) -> list[str]:
        """Addresses of these recipients: groups expanded, each address once."""
        split = split_recipients(list(recipients))
        if split.invalid:
            raise BadRequest(
                f"{split.invalid[0]!r} is neither a group name nor an e-mail address.",
                code="invalid_recipients",
            )
        emails: list[str] = []
        seen: set[str] = set()
        for name in split.groups:
            group = self.people.get_group(name)
            if group is None:
                raise NotFound(f"There is no group {name}.", code="unknown_group")
            for email in group.get("emails") or []:
                if str(email).lower() not in seen:
                    seen.add(str(email).lower())
                    emails.append(str(email))
        for email in split.emails:
            if email.lower() not in seen:
                seen.add(email.lower())
                emails.append(email)
        if len(emails) > MAX_RECIPIENTS:
            raise BadRequest(
                f"At most {MAX_RECIPIENTS} people can be invited at once.",
                code="too_many_recipients",
            )
        return emails

    def notify_build(self, record: BuildRecord, *, now: int) -> int:
        """Invite a freshly published build's ``notify`` targets; idempotent.

        Unknown groups are skipped (logged); an invite id is derived from the
        build and the address, so a retry re-sends only what was not sent.
        Returns the number of invitations sent now or before.
        """
        split = split_recipients(list(record.notify))
        targets: list[str] = []
        for name in split.groups:
            if self.people.get_group(name) is None:
                logger.warning("notify names an unknown group", extra={"group": name})
                continue
            targets.append(name)
        emails = self.expand([*targets, *split.emails]) if targets or split.emails else []
        target = LinkTarget(record=record, latest=False)
        ttl = self.links.config.ttl_default_seconds
        people = [
            (email, derived_invite_id(record.bundle_id, record.build_id, email)) for email in emails
        ]
        invites = self._invite_all(target, people, ttl=ttl, now=now, message=None)
        return sum(1 for invite in invites if invite["status"] == "sent")

    def revoke_invite(self, invite_id: str, *, now: int) -> JsonDoc:
        invite_id = _require_invite_id(invite_id)
        invite = self.people.get_invite(invite_id)
        if invite is None:
            raise NotFound(f"There is no invite {invite_id}.", code="unknown_invite")
        if not invite.get("revoked_at"):
            invite = self.people.update_invite(invite_id, {"revoked_at": iso_utc(now)}) or invite
            self.links.emit(bus_events.invite_revoked(invite))
        return {
            "invite_id": invite_id,
            "email": invite.get("email"),
            "revoked_at": invite.get("revoked_at"),
        }

    def activity(self, bundle_id: str, build_id: str) -> JsonDoc:
        from ipadrop.distribution.activity import activity_view, summary

        listing = self.links.list_builds(bundle_id)  # validates the id, 404 for unknown apps
        if not bucket_keys.is_valid_build_id(build_id):
            raise BadRequest(
                'build id must look like "20261124T002616Z-1a2b3c4d5e".', code="invalid_build_id"
            )
        if not any(b.get("build_id") == build_id for b in listing["builds"]):
            raise NotFound(f"App {bundle_id} has no build {build_id}.", code="unknown_build")
        items = self.people.list_activity(bundle_id, build_id)
        return {
            "bundle_id": bundle_id,
            "build_id": build_id,
            "events": activity_view(items),
            "summary": summary(items),
        }

    # -- helpers ---------------------------------------------------------------

    def _invite(
        self,
        target: LinkTarget,
        email: str,
        *,
        ttl: int,
        now: int,
        message: str | None,
        invite_id: str,
    ) -> JsonDoc:
        link = self.links.mint_link(target, ttl=ttl, now=now, invite_id=invite_id)
        record = target.record
        invite = self.people.create_invite(
            {
                "invite_id": invite_id,
                "email": email,
                "bundle_id": record.bundle_id,
                "build": "latest" if target.latest else record.build_id,
                "channel": target.channel,
                "message": message,
                "created_at": iso_utc(now),
                "expires_at": link.expires_at,
                "revoked_at": None,
                "ttl": now + ttl + 30 * 86400,
            }
        )
        # A derived id may name an invite made by an earlier attempt: reuse its
        # expiry so the link we send matches what the table says.
        status = (
            "sent" if invite.get("sent_at") else self._send(invite, link.install_url, record, now)
        )
        return {
            "invite_id": invite_id,
            "email": email,
            "install_url": link.install_url,
            "expires_at": link.expires_at,
            "status": status,
        }

    def _icon(self, record: BuildRecord) -> bytes | None:
        """The build's icon, read once per build (not once per recipient)."""
        key = (record.bundle_id, record.build_id)
        if key not in self._icons:
            icon = None
            if record.has_icon:
                icon = self.links.store.read_object(
                    bucket_keys.build_file_key(
                        record.bundle_id, record.build_id, bucket_keys.ICON_NAME
                    )
                )
            self._icons = {key: icon}
        return self._icons[key]

    def _send(self, invite: JsonDoc, install_url: str, record: BuildRecord, now: int) -> str:
        if self.mailer is None or self.sender is None:
            return "not_sent"
        from ipadrop.render.email import InviteMail, compose_invite

        icon = self._icon(record)
        subject, raw = compose_invite(
            InviteMail(
                to=str(invite["email"]),
                sender_email=self.sender.email,
                sender_name=self.sender.name,
                title=record.facts.title,
                version=record.facts.version,
                build=record.facts.build,
                install_url=install_url,
                expires_at=str(invite["expires_at"]),
                notes=record.notes,
                message=invite.get("message"),
                icon_png=icon,
                channel=record.channel,
            ),
            sent_at=now,
        )
        try:
            message_id = self.mailer.send(
                OutgoingMail(to=str(invite["email"]), subject=subject, raw=raw)
            )
        except MailRejected as rejected:
            logger.warning("an invitation was refused", extra={"reason": str(rejected)})
            self.people.update_invite(str(invite["invite_id"]), {"send_error": str(rejected)[:300]})
            return "rejected"
        self.people.update_invite(
            str(invite["invite_id"]), {"sent_at": iso_utc(now), "message_id": message_id}
        )
        return "sent"


def derived_invite_id(bundle_id: str, build_id: str, email: str) -> str:
    """The invite id ``notify`` uses: the same build and address give the same id."""
    digest = hashlib.sha256(f"notify\x00{bundle_id}\x00{build_id}\x00{email.lower()}".encode())
    return digest.hexdigest()[:16]


def parse_body(body: str | None) -> dict[str, Any]:
    return parse_json_body(body)


def _require_group_name(value: Any) -> str:
    if not is_valid_group_name(value):
        raise BadRequest(
            "A group name is 1 to 40 lower-case letters, digits, '.', '_' or '-' (like qa).",
            code="invalid_group_name",
        )
    return str(value)


def _require_invite_id(value: Any) -> str:
    if (
        not isinstance(value, str)
        or len(value) != 16
        or not all(c in "0123456789abcdef" for c in value)
    ):
        raise BadRequest("An invite id is 16 hexadecimal characters.", code="invalid_invite_id")
    return value
