"""Settings read from environment variables once, at cold start, typed and validated.

The names and defaults below are the one home of each (infra/, the local
stack and the handlers import them; see docs/ARCHITECTURE.md):

  IPADROP_BUCKET                      bucket name (both functions)
  IPADROP_DISTRIBUTION_URL            "https://d111.cloudfront.net" or "https://apps.example.com"
                                      (local: "http://127.0.0.1:8080"); no trailing slash
  IPADROP_DISTRIBUTION_URL_PARAMETER  link function only, instead of the URL: the name of an
                                      SSM parameter holding it (breaks the CloudFront -> API
                                      -> function cycle)
  IPADROP_KEEP_UPLOADS                "true" keeps uploads/ objects after publishing (default false)
  IPADROP_RETAIN_BUILDS               newest N builds kept per app; 0 = all (default 0)
  IPADROP_TOKEN_SECRET_ID             Secrets Manager id of the token keys
                                      JSON {"current": "<kid>", "<kid>": "<secret>", ...}
  IPADROP_CLOUDFRONT_KEY_SECRET_ID    Secrets Manager id of {"private_key_pem": "..."}
  IPADROP_CLOUDFRONT_KEY_PAIR_ID      CloudFront public key id ("K2JCJMDEHXQW5F")
  IPADROP_LINK_TTL_MIN_SECONDS        default 60
  IPADROP_LINK_TTL_MAX_SECONDS        default 604800 (7 days)
  IPADROP_LINK_TTL_DEFAULT_SECONDS    default 86400 (24 h)
  IPADROP_ASSET_URL_TTL_SECONDS       life of signed asset URLs from manifest fetch, default 3600
  IPADROP_PUBLIC_MODE                 "true": no tokens, static artefacts served as-is
  IPADROP_CONTACT                     who testers should ask for a new link (optional text)
  IPADROP_TABLE                       DynamoDB table for groups, invites and activity (optional:
                                      without it, invitations and activity are off)
  IPADROP_SENDER_EMAIL                From: address of invitations (an SES identity)
  IPADROP_SENDER_NAME                 display name beside it (default "ipadrop")
  IPADROP_SES_CONFIGURATION_SET       SES configuration set (bounces, complaints)
  IPADROP_SES_MAX_SEND_RATE           messages a second (SES quota; default 14)
  IPADROP_EVENT_BUS                   EventBridge bus ("default" in the stack; unset: no events)
  IPADROP_ACCESS_LOG_PREFIX           where CloudFront writes access logs in the log bucket
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ipadrop.render import urls

# Environment variable names.
BUCKET_ENV = "IPADROP_BUCKET"
DISTRIBUTION_URL_ENV = "IPADROP_DISTRIBUTION_URL"
DISTRIBUTION_URL_PARAMETER_ENV = "IPADROP_DISTRIBUTION_URL_PARAMETER"
KEEP_UPLOADS_ENV = "IPADROP_KEEP_UPLOADS"
RETAIN_BUILDS_ENV = "IPADROP_RETAIN_BUILDS"
TOKEN_SECRET_ID_ENV = "IPADROP_TOKEN_SECRET_ID"  # noqa: S105 - a variable name
CLOUDFRONT_KEY_SECRET_ID_ENV = "IPADROP_CLOUDFRONT_KEY_SECRET_ID"  # noqa: S105 - a name
CLOUDFRONT_KEY_PAIR_ID_ENV = "IPADROP_CLOUDFRONT_KEY_PAIR_ID"
LINK_TTL_MIN_SECONDS_ENV = "IPADROP_LINK_TTL_MIN_SECONDS"
LINK_TTL_MAX_SECONDS_ENV = "IPADROP_LINK_TTL_MAX_SECONDS"
LINK_TTL_DEFAULT_SECONDS_ENV = "IPADROP_LINK_TTL_DEFAULT_SECONDS"
ASSET_URL_TTL_SECONDS_ENV = "IPADROP_ASSET_URL_TTL_SECONDS"
PUBLIC_MODE_ENV = "IPADROP_PUBLIC_MODE"
CONTACT_ENV = "IPADROP_CONTACT"

# Diagnosis (docs/ARCHITECTURE.md, "Devices and pre-install diagnosis"): a profile or
# certificate ending within this many days is a warning on the page and in the result record.
EXPIRY_WARNING_DAYS = 14

# Defaults (the link TTL bounds are also the CDK context defaults; the CLI's help
# states them; a deployment may set others).
DEFAULT_LINK_TTL_MIN_SECONDS = 60
DEFAULT_LINK_TTL_MAX_SECONDS = 7 * 86400
DEFAULT_LINK_TTL_SECONDS = 86400
DEFAULT_ASSET_URL_TTL_SECONDS = 3600
MIN_ASSET_URL_TTL_SECONDS = 60
# How long the link functions cache a secret before re-reading it (a rotated
# key reaches warm containers within this; docs/DEPLOY.md, Key rotation).
SECRET_MAX_AGE_SECONDS = 300

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


# Source of every EventBridge event this stack puts (docs/ARCHITECTURE.md).
EVENT_SOURCE = "ipadrop"
TABLE_ENV = "IPADROP_TABLE"
SENDER_EMAIL_ENV = "IPADROP_SENDER_EMAIL"
SENDER_NAME_ENV = "IPADROP_SENDER_NAME"
SES_CONFIGURATION_SET_ENV = "IPADROP_SES_CONFIGURATION_SET"
SES_MAX_SEND_RATE_ENV = "IPADROP_SES_MAX_SEND_RATE"
EVENT_BUS_ENV = "IPADROP_EVENT_BUS"
ACCESS_LOG_PREFIX_ENV = "IPADROP_ACCESS_LOG_PREFIX"
DEFAULT_SES_MAX_SEND_RATE = 14
# Admin API routes of distribution (handlers/distribution_routes.py), in API Gateway's
# syntax: infra/link_api.py and the local stack's router add them from here.
DISTRIBUTION_ADMIN_ROUTES: tuple[tuple[str, str], ...] = (
    ("PUT", "/groups/{name}"),
    ("GET", "/groups"),
    ("DELETE", "/groups/{name}"),
    ("POST", "/invites"),
    ("DELETE", "/invites/{invite_id}"),
    ("GET", "/apps/{bundle_id}/builds/{build_id}/activity"),
    ("PUT", "/apps/{bundle_id}/builds/{build_id}/notes"),
)
# The people table's keys (adapters/table.py, infra/people.py, the local stack).
TABLE_PARTITION_KEY = "pk"
TABLE_SORT_KEY = "sk"
TABLE_TTL_ATTRIBUTE = "ttl"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def env_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_str(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def distribution_base_url(name: str, raw: str) -> str:
    """``render.urls.normalize_base_url`` (http:// allowed, for the local stack)
    without its trailing slash, as every setting holds it; ``name`` says where
    the value came from."""
    try:
        return urls.normalize_base_url(raw, require_https=False).rstrip("/")
    except urls.InvalidBaseUrl as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _distribution_source(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The distribution URL itself, or the SSM parameter that holds it (one is required)."""
    url = env.get(DISTRIBUTION_URL_ENV, "").strip()
    parameter = env.get(DISTRIBUTION_URL_PARAMETER_ENV, "").strip() or None
    if not url and not parameter:
        raise SettingsError(f"set {DISTRIBUTION_URL_ENV} or {DISTRIBUTION_URL_PARAMETER_ENV}")
    return (distribution_base_url(DISTRIBUTION_URL_ENV, url) if url else None), parameter


@dataclass(frozen=True, slots=True)
class ProcessorSettings:
    bucket: str
    distribution_url: str  # no trailing slash
    keep_uploads: bool
    retain_builds: int  # 0 = keep all
    token_secret_id: str | None = None  # needed only to mint invite links for ``notify``

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProcessorSettings:
        env = os.environ if env is None else env
        return cls(
            bucket=env_str(env, BUCKET_ENV),
            distribution_url=distribution_base_url(
                DISTRIBUTION_URL_ENV, env_str(env, DISTRIBUTION_URL_ENV)
            ),
            keep_uploads=env_bool(env, KEEP_UPLOADS_ENV),
            retain_builds=env_int(env, RETAIN_BUILDS_ENV, 0),
            token_secret_id=env.get(TOKEN_SECRET_ID_ENV, "").strip() or None,
        )


@dataclass(frozen=True, slots=True)
class LinkSettings:
    bucket: str
    distribution_url: str | None
    distribution_url_parameter: str | None
    token_secret_id: str | None  # None only in public mode
    cloudfront_key_secret_id: str | None
    cloudfront_key_pair_id: str | None
    ttl_min_seconds: int
    ttl_max_seconds: int
    ttl_default_seconds: int
    asset_url_ttl_seconds: int
    public_mode: bool
    contact: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LinkSettings:
        env = os.environ if env is None else env
        url, parameter = _distribution_source(env)
        public_mode = env_bool(env, PUBLIC_MODE_ENV)
        ttl_min = env_int(env, LINK_TTL_MIN_SECONDS_ENV, DEFAULT_LINK_TTL_MIN_SECONDS, minimum=1)
        ttl_max = env_int(env, LINK_TTL_MAX_SECONDS_ENV, DEFAULT_LINK_TTL_MAX_SECONDS, minimum=1)
        ttl_default = env_int(
            env, LINK_TTL_DEFAULT_SECONDS_ENV, DEFAULT_LINK_TTL_SECONDS, minimum=1
        )
        if not ttl_min <= ttl_default <= ttl_max:
            raise SettingsError(
                f"link TTLs must satisfy {LINK_TTL_MIN_SECONDS_ENV} <= "
                f"{LINK_TTL_DEFAULT_SECONDS_ENV} <= {LINK_TTL_MAX_SECONDS_ENV}"
            )
        token_secret = env.get(TOKEN_SECRET_ID_ENV, "").strip() or None
        if token_secret is None and not public_mode:
            raise SettingsError(f"{TOKEN_SECRET_ID_ENV} is not set")
        return cls(
            bucket=env_str(env, BUCKET_ENV),
            distribution_url=url,
            distribution_url_parameter=parameter,
            token_secret_id=token_secret,
            cloudfront_key_secret_id=env.get(CLOUDFRONT_KEY_SECRET_ID_ENV, "").strip() or None,
            cloudfront_key_pair_id=env.get(CLOUDFRONT_KEY_PAIR_ID_ENV, "").strip() or None,
            ttl_min_seconds=ttl_min,
            ttl_max_seconds=ttl_max,
            ttl_default_seconds=ttl_default,
            asset_url_ttl_seconds=env_int(
                env,
                ASSET_URL_TTL_SECONDS_ENV,
                DEFAULT_ASSET_URL_TTL_SECONDS,
                minimum=MIN_ASSET_URL_TTL_SECONDS,
            ),
            public_mode=public_mode,
            contact=env.get(CONTACT_ENV, "").strip() or None,
        )


@dataclass(frozen=True, slots=True)
class DistributionSettings:
    """Invitations, activity and events (all optional: off when not configured)."""

    table: str | None
    sender_email: str | None
    sender_name: str
    configuration_set: str | None
    max_send_rate: int
    event_bus: str | None

    @property
    def can_send(self) -> bool:
        return self.table is not None and self.sender_email is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DistributionSettings:
        env = os.environ if env is None else env
        return cls(
            table=env.get(TABLE_ENV, "").strip() or None,
            sender_email=env.get(SENDER_EMAIL_ENV, "").strip() or None,
            sender_name=env.get(SENDER_NAME_ENV, "").strip() or "ipadrop",
            configuration_set=env.get(SES_CONFIGURATION_SET_ENV, "").strip() or None,
            max_send_rate=env_int(env, SES_MAX_SEND_RATE_ENV, DEFAULT_SES_MAX_SEND_RATE, minimum=1),
            event_bus=env.get(EVENT_BUS_ENV, "").strip() or None,
        )


# Devices (docs/ARCHITECTURE.md, "Devices and pre-install diagnosis"); all optional.
# IPADROP_ENROLL_SIGNING_SECRET_ID: {"certificate_pem", "private_key_pem"} (signer, then chain)
# IPADROP_DEVICE_CA_SECRET_ID: a PEM bundle of Apple's device CA certificates
TEAM_EMAIL_ENV = "IPADROP_TEAM_EMAIL"  # told when a device is not in a build's profile
ENROLL_SIGNING_SECRET_ENV = "IPADROP_ENROLL_SIGNING_SECRET_ID"  # noqa: S105 (a variable name)
DEVICE_CA_SECRET_ENV = "IPADROP_DEVICE_CA_SECRET_ID"  # noqa: S105 (a variable name)
ENROLL_ORGANIZATION_ENV = "IPADROP_ENROLL_ORGANIZATION"  # shown by iOS on the profile
# IPADROP_ASC_SECRET_ID: {"issuer_id", "key_id", "private_key_pem"} (an App Store Connect API key)
ASC_SECRET_ENV = "IPADROP_ASC_SECRET_ID"  # noqa: S105 (a variable name)
DEVICE_COOKIE = "ipadrop_device"  # set on the distribution domain after enrollment
DEVICE_COOKIE_MAX_AGE = 365 * 86400


@dataclass(frozen=True, slots=True)
class DeviceSettings:
    team_email: str | None
    signing_secret_id: str | None
    device_ca_secret_id: str | None
    organization: str
    app_store_connect_secret_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeviceSettings:
        env = os.environ if env is None else env
        return cls(
            team_email=env.get(TEAM_EMAIL_ENV, "").strip() or None,
            signing_secret_id=env.get(ENROLL_SIGNING_SECRET_ENV, "").strip() or None,
            device_ca_secret_id=env.get(DEVICE_CA_SECRET_ENV, "").strip() or None,
            organization=env.get(ENROLL_ORGANIZATION_ENV, "").strip()[:64] or "ipadrop",
            app_store_connect_secret_id=env.get(ASC_SECRET_ENV, "").strip() or None,
        )
