"""The enrollment flow without HTTP: open a link, hand out the profile, take the
device's answer, tell the team, list devices. Stores, events and mail are ports;
the clock is an argument. See docs/ARCHITECTURE.md, "Devices and pre-install
diagnosis".

Works from any install token (the tester's own link) and from a dedicated
enrollment token (scope ``enroll``, from ``POST /enrollments``, maybe naming no
app). Refusals: a bad token is a ``PublicRefusal`` (a page); a bad answer is an
``EnrollmentRejected`` whose ``status`` the handler sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from ipadrop.devices import enrollment
from ipadrop.devices.diagnosis import in_profile
from ipadrop.distribution import events as bus_events
from ipadrop.domain import bucket_keys
from ipadrop.domain.model import BuildRecord, DeviceRecord
from ipadrop.domain.ports import DeviceRegistrar, DeviceStore, JsonDoc, Mailer, OutgoingMail
from ipadrop.links import tokens
from ipadrop.links.refusals import BadRequest, NotFound, PublicRefusal
from ipadrop.links.service import LinkService
from ipadrop.text import iso_utc

logger = logging.getLogger("ipadrop.devices")

DEVICE_ENROLLED = "Device Enrolled"
DEVICE_NOT_IN_PROFILE = "Device Not In Profile"
# Emitted after App Store Connect registered a device: a CI pipeline can regenerate
# the profile and re-sign (docs/DEPLOY.md).
DEVICE_REGISTERED = "Device Registered"
# A used answer is remembered this long (replays refused); far beyond any link's life.
ANSWER_MEMORY_SECONDS = 30 * 86400
_CREATE_FIELDS = frozenset({"bundle_id", "ttl_seconds"})
_SCOPES = (tokens.SCOPE_INSTALL, tokens.SCOPE_ENROLL)


class AnswerRefused(Exception):
    """The device answer was refused: HTTP ``status``, machine ``code``, one sentence."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class EnrollView:
    """What ``/d/<token>`` and ``/d/<token>/done`` show."""

    title: str | None  # the app, when the link names one
    mobileconfig_url: str
    install_url: str | None  # back to the install page (install tokens only)
    signed_profile: bool
    device: DeviceRecord | None = None
    listed: bool | None = None  # None: the build does not depend on the device


@dataclass(frozen=True, slots=True)
class SigningMaterial:
    certificate_pem: bytes  # the signer first, then its chain
    key_pem: bytes


@dataclass
class DeviceService:
    links: LinkService
    devices: DeviceStore
    organization: str = "ipadrop"
    team_email: str | None = None
    sender_email: str | None = None
    mailer: Mailer | None = None
    # Loaded on first use (Secrets Manager in Lambda): None when not configured.
    signing: Callable[[], SigningMaterial | None] = lambda: None
    anchors: Callable[[], list[bytes]] = list
    registrar: Callable[[], DeviceRegistrar | None] = lambda: None

    # ---------------------------------------------------------------- links

    def open(
        self, token: str, *, now: int
    ) -> tuple[tokens.LinkClaims, BuildRecord | None, JsonDoc | None]:
        claims, invite = self.links.verify_claims(token, now=now, scopes=_SCOPES)
        record = self.links.build_for(claims)
        if record is not None and record.revoked:
            record = None
        if claims.scope == tokens.SCOPE_INSTALL and record is None:
            raise PublicRefusal("gone", page_kind="revoked")
        return claims, record, invite

    def view(self, token: str, *, now: int, udid: str | None = None) -> EnrollView:
        claims, record, _ = self.open(token, now=now)
        base = self.links.config.distribution_url
        device = self.devices.get_device(udid) if udid else None
        return EnrollView(
            title=record.facts.title if record else None,
            mobileconfig_url=f"{base}/d/{token}/enroll.mobileconfig",
            install_url=f"{base}/i/{token}" if claims.scope == tokens.SCOPE_INSTALL else None,
            signed_profile=self._signing() is not None,
            device=device,
            listed=in_profile(record.facts, device.udid) if record and device else None,
        )

    def mobileconfig(self, token: str, *, now: int) -> bytes:
        self.open(token, now=now)
        base = self.links.config.distribution_url
        document = enrollment.build_mobileconfig(
            callback_url=f"{base}/d/{token}/enroll",
            challenge=enrollment.challenge_for(token),
            organization=self.organization,
            identifier_seed=token,
        )
        material = self._signing()
        if material is None:
            return document
        return enrollment.sign_mobileconfig(
            document, certificate_pem=material.certificate_pem, key_pem=material.key_pem
        )

    # --------------------------------------------------------------- answer

    def enroll(
        self, token: str, body: bytes, *, content_type: str | None, now: int
    ) -> DeviceRecord:
        """Store the device that answered; refusals change nothing."""
        claims, record, invite = self.open(token, now=now)
        try:
            enrollment.check_content_type(content_type)
            answer = enrollment.parse_device_response(body)
        except enrollment.EnrollmentRejected as rejected:
            status = (
                415
                if rejected.code == "content_type"
                else 413
                if rejected.code == "too_large"
                else 400
            )
            raise AnswerRefused(status, rejected.code, rejected.message) from None
        if answer.challenge != enrollment.challenge_for(token):
            raise AnswerRefused(
                400, "wrong_challenge", "The answer was not made for this enrollment link."
            )
        if not self.devices.claim_answer(answer.digest, expires_at=now + ANSWER_MEMORY_SECONDS):
            raise AnswerRefused(409, "replayed", "This device answer was already used.")

        email = invite.get("email") if invite else None
        previous = self.devices.get_device(answer.udid)
        device = DeviceRecord(
            udid=answer.udid,
            product=answer.product,
            ios_version=answer.version,
            name=answer.device_name,
            serial=answer.serial,
            email=email if isinstance(email, str) else (previous.email if previous else None),
            invite_id=claims.invite_id or (previous.invite_id if previous else None),
            enrolled_at=iso_utc(now),
            verified=enrollment.verify_signature(body, anchors=self._anchors()),
        )
        self.devices.put_device(device)
        listed = in_profile(record.facts, device.udid) if record else None
        detail = _event_detail(device, record, listed)
        self.links.emit(bus_events.Event(DEVICE_ENROLLED, detail))
        if record is not None:
            self.links.record_activity("device_enrolled", claims, record, invite, now=now)
        if listed is False and record is not None:
            self.links.emit(bus_events.Event(DEVICE_NOT_IN_PROFILE, detail))
            self.links.record_activity("device_not_in_profile", claims, record, invite, now=now)
            self._tell_team(device, record)
            self._register(device, detail)
        return device

    def known_device(self, token: str, *, cookie_udid: str | None, now: int) -> DeviceRecord | None:
        """The tester's device for the install page: the cookie's, else the newest
        one enrolled for the token's invite. Best effort: never breaks the page."""
        try:
            if cookie_udid and enrollment.is_udid(cookie_udid):
                device = self.devices.get_device(cookie_udid)
                if device is not None:
                    return device
            claims, _ = self.links.verify_claims(token, now=now, scopes=_SCOPES)
            if claims.invite_id is None:
                return None
            for device in self.devices.list_devices():
                if device.invite_id == claims.invite_id:
                    return device
        except PublicRefusal:
            return None
        except Exception as error:  # a table outage must not keep a tester from installing
            logger.warning("looking up the device failed", exc_info=error)
        return None

    # ---------------------------------------------------------------- admin

    def list_devices(self) -> dict[str, Any]:
        return {"devices": [d.to_json() for d in self.devices.list_devices()]}

    def create_enrollment(self, request: Mapping[str, Any], *, now: int) -> dict[str, Any]:
        unknown = sorted(set(request) - _CREATE_FIELDS)
        if unknown:
            raise BadRequest(
                f"Unknown field {unknown[0]!r}; send bundle_id and ttl_seconds.",
                code="invalid_field",
            )
        bundle_id = request.get("bundle_id")
        if bundle_id is not None:
            if not isinstance(bundle_id, str) or not bucket_keys.is_valid_bundle_id(bundle_id):
                raise BadRequest("bundle_id is not a valid bundle id.", code="invalid_bundle_id")
            if self.links.store.get_app_index(bundle_id) is None:
                raise NotFound(f"There is no app {bundle_id}.", code="unknown_app")
        ttl = self.links.ttl(request.get("ttl_seconds"))
        token = tokens.mint_token(
            self.links.key_ring(),
            bundle_id=bundle_id,
            build_id=None,
            not_before=now,
            expires_at=now + ttl,
            scope=tokens.SCOPE_ENROLL,
        )
        base = self.links.config.distribution_url
        return {
            "enroll_url": f"{base}/d/{token}",
            "expires_at": iso_utc(now + ttl),
            "bundle_id": bundle_id,
        }

    # -------------------------------------------------------------- helpers

    def _signing(self) -> SigningMaterial | None:
        try:
            return self.signing()
        except Exception as error:  # a broken secret: serve the unsigned profile
            logger.warning("loading the enrollment signing certificate failed", exc_info=error)
            return None

    def _anchors(self) -> list[bytes]:
        try:
            return self.anchors()
        except Exception as error:
            logger.warning("loading the device CA certificates failed", exc_info=error)
            return []

    def _register(self, device: DeviceRecord, detail: JsonDoc) -> None:
        """Best effort: the device is stored and the team told either way."""
        try:
            registrar = self.registrar()
            if registrar is None:
                return
            apple_id = registrar.register_device(
                udid=device.udid, name=device.name or device.product or device.udid[-8:]
            )
        except Exception as error:
            logger.warning("registering the device with App Store Connect failed", exc_info=error)
            return
        self.links.emit(
            bus_events.Event(DEVICE_REGISTERED, {**detail, "apple_device_id": apple_id})
        )

    def _tell_team(self, device: DeviceRecord, record: BuildRecord) -> None:
        if self.mailer is None or self.team_email is None or self.sender_email is None:
            return
        message = EmailMessage()
        message["From"] = self.sender_email
        message["To"] = self.team_email
        message["Subject"] = f"Device not in the profile of {record.facts.title}"[:200]
        message.set_content(
            f"{device.name or 'A device'} ({device.product or 'unknown model'}, UDID {device.udid})"
            f" was enrolled{' by ' + device.email if device.email else ''} but is not in the "
            f"provisioning profile of {record.facts.title} (build {record.build_id}).\n\n"
            "Add it on the Apple Developer site (Certificates, Identifiers & Profiles -> Devices; "
            "`ipadrop devices --format apple` writes the import file), regenerate the profile "
            "and upload a new build.\n"
        )
        try:
            self.mailer.send(
                OutgoingMail(
                    to=self.team_email, subject=str(message["Subject"]), raw=bytes(message)
                )
            )
        except Exception as error:  # the device is stored and the event sent either way
            logger.warning("telling the team failed", exc_info=error)


def _event_detail(device: DeviceRecord, record: BuildRecord | None, listed: bool | None) -> JsonDoc:
    """Ids and short texts only (never a token)."""
    return {
        "udid": device.udid,
        "product": device.product,
        "name": device.name,
        "email": device.email,
        "invite_id": device.invite_id,
        "verified": device.verified,
        "bundle_id": record.bundle_id if record else None,
        "build_id": record.build_id if record else None,
        "in_profile": listed,
    }
