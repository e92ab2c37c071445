"""Wiring the link service to AWS, once per container (see docs/ARCHITECTURE.md).

Cold start: only the pure core is imported here; boto3, Powertools parameters
and ``cryptography`` (signing) load on first use, so an admin call never pays
for the signer and a page view never pays for it either; only the manifest
route signs.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ipadrop.links.service import LinkConfig, LinkService, UrlSigner
from ipadrop.settings import (
    CLOUDFRONT_KEY_SECRET_ID_ENV,
    DistributionSettings,
    LinkSettings,
    distribution_base_url,
)

if TYPE_CHECKING:
    from ipadrop.devices.service import DeviceService
    from ipadrop.distribution.invites import InviteService

# The request clock; tests move it to reach expiry without sleeping.
clock: Callable[[], float] = time.time


def now() -> int:
    return int(clock())


@functools.cache
def service() -> LinkService:
    """The service for this container, built on first request from the environment."""
    settings = LinkSettings.from_env()
    return build_service(settings)


@functools.cache
def invites() -> InviteService:
    """Groups, invites and activity for this container (needs ``IPADROP_TABLE``)."""
    from ipadrop.links.refusals import NotFound

    link_service = service()
    settings = DistributionSettings.from_env()
    if link_service.people is None:
        raise NotFound(
            "Invitations are not configured on this stack (no people table).",
            code="not_configured",
        )
    return build_invites(link_service, settings)


def build_invites(
    link_service: LinkService, settings: DistributionSettings, *, ses_client: Any = None
) -> InviteService:
    """Invitations over the link service's people table, sending through SES v2."""
    from ipadrop.distribution.invites import InviteService, Sender

    if link_service.people is None:
        raise RuntimeError("no people table is configured")
    mailer = None
    sender = None
    if settings.sender_email is not None:
        from ipadrop.adapters.mailer import SesMailer

        mailer = SesMailer(
            ses_client or LazyClient("sesv2"),
            sender=settings.sender_email,
            configuration_set=settings.configuration_set,
            max_send_rate=settings.max_send_rate,
        )
        sender = Sender(email=settings.sender_email, name=settings.sender_name)
    return InviteService(
        links=link_service,
        people=link_service.people,
        mailer=mailer,
        sender=sender,
        workers=min(8, settings.max_send_rate),
    )


def build_service(
    settings: LinkSettings,
    *,
    s3_client: Any = None,
    secrets_client: Any = None,
    ssm_client: Any = None,
    distribution: DistributionSettings | None = None,
    dynamodb_client: Any = None,
    events_client: Any = None,
) -> LinkService:
    """Wire the core to AWS. Clients are injectable (the local runner and tests pass
    their own); by default boto3 creates them from the environment."""
    import boto3

    from ipadrop.adapters.s3store import S3BuildStore
    from ipadrop.adapters.secrets import RuntimeSecrets

    secrets = RuntimeSecrets(secrets_client=secrets_client, ssm_client=ssm_client)
    if settings.distribution_url is not None:
        distribution_url = settings.distribution_url
    else:
        # LinkSettings guarantees one of the two is set.
        parameter = str(settings.distribution_url_parameter)
        distribution_url = distribution_base_url(parameter, secrets.parameter(parameter))
    store = S3BuildStore(s3_client or boto3.client("s3"), settings.bucket)
    config = LinkConfig(
        distribution_url=distribution_url,
        ttl_min_seconds=settings.ttl_min_seconds,
        ttl_max_seconds=settings.ttl_max_seconds,
        ttl_default_seconds=settings.ttl_default_seconds,
        asset_url_ttl_seconds=settings.asset_url_ttl_seconds,
        public_mode=settings.public_mode,
        contact=settings.contact,
    )
    token_secret_id = settings.token_secret_id
    key_ring = None
    if token_secret_id is not None and not settings.public_mode:
        key_ring = functools.partial(secrets.token_key_ring, token_secret_id)
    if distribution is None:  # the people table, mail and events from the environment
        distribution = DistributionSettings.from_env()
    people = None
    events = None
    if distribution.table is not None:
        from ipadrop.adapters.table import DynamoPeopleStore

        people = DynamoPeopleStore(dynamodb_client or LazyClient("dynamodb"), distribution.table)
    if distribution.event_bus is not None:
        from ipadrop.adapters.eventbus import EventBridgePublisher

        events = EventBridgePublisher(events_client or LazyClient("events"), distribution.event_bus)
    return LinkService(
        store=store,
        config=config,
        key_ring=key_ring,
        signer=functools.partial(_cloudfront_signer, settings, secrets),
        people=people,
        events=events,
    )


@functools.cache
def devices() -> DeviceService:
    """Enrollment and the device list for this container (needs ``IPADROP_TABLE``)."""
    from ipadrop.settings import DeviceSettings

    return build_devices(service(), DistributionSettings.from_env(), DeviceSettings.from_env())


def build_devices(
    link_service: LinkService,
    distribution: DistributionSettings,
    settings: Any,
    *,
    dynamodb_client: Any = None,
    secrets_client: Any = None,
    ses_client: Any = None,
) -> DeviceService:
    """The device service over the people table; the signing certificate and the
    device CA bundle load from Secrets Manager on first use, when configured."""
    from ipadrop.adapters.devices_table import DynamoDeviceStore
    from ipadrop.adapters.secrets import RuntimeSecrets
    from ipadrop.devices.service import DeviceService, SigningMaterial
    from ipadrop.links.refusals import PublicRefusal

    if distribution.table is None:
        raise PublicRefusal("not_found", page_kind="not_found")
    secrets = RuntimeSecrets(secrets_client=secrets_client)

    def signing() -> SigningMaterial | None:
        if settings.signing_secret_id is None:
            return None
        certificate, key = secrets.enrollment_signing(settings.signing_secret_id)
        return SigningMaterial(certificate_pem=certificate, key_pem=key)

    def anchors() -> list[bytes]:
        if settings.device_ca_secret_id is None:
            return []
        return secrets.device_ca_certificates(settings.device_ca_secret_id)

    def registrar() -> Any:
        if settings.app_store_connect_secret_id is None:
            return None
        from ipadrop.adapters.appstore import AppStoreConnect

        issuer, key_id, pem = secrets.app_store_connect_key(settings.app_store_connect_secret_id)
        return AppStoreConnect(issuer_id=issuer, key_id=key_id, private_key_pem=pem)

    mailer = None
    if distribution.sender_email is not None and settings.team_email is not None:
        from ipadrop.adapters.mailer import SesMailer

        mailer = SesMailer(
            ses_client or LazyClient("sesv2"),
            sender=distribution.sender_email,
            configuration_set=distribution.configuration_set,
            max_send_rate=distribution.max_send_rate,
        )
    return DeviceService(
        links=link_service,
        devices=DynamoDeviceStore(dynamodb_client or LazyClient("dynamodb"), distribution.table),
        organization=settings.organization,
        team_email=settings.team_email,
        sender_email=distribution.sender_email,
        mailer=mailer,
        signing=signing,
        anchors=anchors,
        registrar=registrar,
    )


class LazyClient:
    """A boto3 client made on first use: a page view without an invite never pays
    for a DynamoDB client, an admin call without an event never for EventBridge."""

    def __init__(self, service_name: str) -> None:
        self.service_name = service_name
        self._client: Any = None
        self._lock = threading.Lock()  # invitations are sent by a few threads

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client(self.service_name)  # type: ignore[call-overload]
        return getattr(self._client, name)


def _cloudfront_signer(settings: LinkSettings, secrets: Any) -> UrlSigner:
    from ipadrop.adapters.cloudfront_signing import sign_url

    if settings.cloudfront_key_secret_id is None:
        raise RuntimeError(f"{CLOUDFRONT_KEY_SECRET_ID_ENV} must be set")
    # Key and key-pair id come from one read of the secret (cached by
    # Powertools; the parsed key per PEM): never a new key under an old id
    # (docs/DEPLOY.md, Key rotation).
    key = secrets.cloudfront_signing_key(
        settings.cloudfront_key_secret_id, default_key_pair_id=settings.cloudfront_key_pair_id
    )
    pem, key_pair_id = key.private_key_pem, key.key_pair_id

    def sign(url: str, *, expires_at: int) -> str:
        return sign_url(url, key_pair_id=key_pair_id, private_key_pem=pem, expires_at=expires_at)

    return sign
