"""Deployment settings read from CDK context (``cdk.json`` or ``-c key=value``), validated.

Every key is optional; docs/DEPLOY.md lists them with their defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Mirrors the defaults in lambdas/ipadrop/settings.py.
DEFAULT_TTL_MIN_SECONDS = 60
DEFAULT_TTL_MAX_SECONDS = 7 * 86400
DEFAULT_TTL_DEFAULT_SECONDS = 86400
DEFAULT_STACK_NAME = "Ipadrop"

CONTEXT_KEYS = (
    "stack_name",
    "domain_name",
    "hosted_zone_name",
    "hosted_zone_id",
    "certificate_arn",
    "link_ttl_min_seconds",
    "link_ttl_max_seconds",
    "link_ttl_default_seconds",
    "public_mode",
    "alarm_email",
    "retain_builds",
    "keep_uploads",
    "contact",
    "cloudfront_key_generation",
)

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CERT_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class ConfigError(ValueError):
    """A context value is malformed; the message names the key and says what is expected."""


@dataclass(frozen=True, slots=True)
class IpadropConfig:
    stack_name: str = DEFAULT_STACK_NAME
    domain_name: str | None = None
    hosted_zone_name: str | None = None
    hosted_zone_id: str | None = None
    certificate_arn: str | None = None
    link_ttl_min_seconds: int = DEFAULT_TTL_MIN_SECONDS
    link_ttl_max_seconds: int = DEFAULT_TTL_MAX_SECONDS
    link_ttl_default_seconds: int = DEFAULT_TTL_DEFAULT_SECONDS
    public_mode: bool = False
    alarm_email: str | None = None
    retain_builds: int = 0
    keep_uploads: bool = False
    contact: str | None = None
    cloudfront_key_generation: int = 1
    # Distribution (infra/people.py): invitation sender, event mails, SES rate.
    sender_email: str | None = None
    notify_email: str | None = None
    ses_max_send_rate: int = 14

    @property
    def has_custom_domain(self) -> bool:
        return self.domain_name is not None

    @property
    def needs_certificate_stack(self) -> bool:
        """A DNS-validated certificate has to be made (no ARN given)."""
        return self.domain_name is not None and self.certificate_arn is None

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> IpadropConfig:
        """Build from a context getter such as ``app.node.try_get_context``."""
        domain_name = _domain(get, "domain_name")
        hosted_zone_name = _domain(get, "hosted_zone_name")
        hosted_zone_id = _matching(get, "hosted_zone_id", _ZONE_ID, "a Route 53 zone id (Z...)")
        certificate_arn = _matching(
            get, "certificate_arn", _CERT_ARN, "an ACM certificate ARN in us-east-1"
        )
        if domain_name is None and (hosted_zone_name or hosted_zone_id or certificate_arn):
            raise ConfigError(
                "hosted_zone_name, hosted_zone_id and certificate_arn need domain_name as well"
            )
        if domain_name is not None and certificate_arn is None and hosted_zone_name is None:
            raise ConfigError(
                "domain_name needs hosted_zone_name (to make a DNS-validated certificate) "
                "or certificate_arn (an existing certificate in us-east-1)"
            )
        if hosted_zone_id is not None and hosted_zone_name is None:
            raise ConfigError("hosted_zone_id needs hosted_zone_name as well")
        if (
            domain_name is not None
            and hosted_zone_name is not None
            and not (
                domain_name == hosted_zone_name or domain_name.endswith("." + hosted_zone_name)
            )
        ):
            raise ConfigError(
                f"domain_name {domain_name!r} is not inside hosted_zone_name {hosted_zone_name!r}"
            )
        ttl_min = _int(get, "link_ttl_min_seconds", DEFAULT_TTL_MIN_SECONDS, minimum=1)
        ttl_max = _int(get, "link_ttl_max_seconds", DEFAULT_TTL_MAX_SECONDS, minimum=1)
        ttl_default = _int(get, "link_ttl_default_seconds", DEFAULT_TTL_DEFAULT_SECONDS, minimum=1)
        if not ttl_min <= ttl_default <= ttl_max:
            raise ConfigError(
                "link TTLs must satisfy link_ttl_min_seconds <= link_ttl_default_seconds "
                f"<= link_ttl_max_seconds (got {ttl_min}, {ttl_default}, {ttl_max})"
            )
        alarm_email = _matching(get, "alarm_email", _EMAIL, "an e-mail address")
        stack_name = (
            _matching(get, "stack_name", _STACK_NAME, "a CloudFormation stack name")
            or DEFAULT_STACK_NAME
        )
        contact = get("contact")
        if contact is not None and not isinstance(contact, str):
            raise ConfigError("contact must be text")
        return cls(
            stack_name=stack_name,
            domain_name=domain_name,
            hosted_zone_name=hosted_zone_name,
            hosted_zone_id=hosted_zone_id,
            certificate_arn=certificate_arn,
            link_ttl_min_seconds=ttl_min,
            link_ttl_max_seconds=ttl_max,
            link_ttl_default_seconds=ttl_default,
            public_mode=_bool(get, "public_mode"),
            alarm_email=alarm_email,
            retain_builds=_int(get, "retain_builds", 0, minimum=0),
            keep_uploads=_bool(get, "keep_uploads"),
            contact=(contact.strip() or None) if contact else None,
            cloudfront_key_generation=_int(get, "cloudfront_key_generation", 1, minimum=1),
            sender_email=_matching(get, "sender_email", _EMAIL, "an e-mail address"),
            notify_email=_matching(get, "notify_email", _EMAIL, "an e-mail address"),
            ses_max_send_rate=_int(get, "ses_max_send_rate", 14, minimum=1),
        )


def _text(get: Callable[[str], Any], key: str) -> str | None:
    raw = get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ConfigError(f"context {key} must be text, not {raw!r}")
    value = raw.strip()
    return value or None


def _domain(get: Callable[[str], Any], key: str) -> str | None:
    value = _text(get, key)
    if value is None:
        return None
    value = value.lower().rstrip(".")
    if not _DOMAIN.fullmatch(value):
        raise ConfigError(f"context {key} must be a DNS name like apps.example.com, not {value!r}")
    return value


def _matching(
    get: Callable[[str], Any], key: str, pattern: re.Pattern[str], what: str
) -> str | None:
    value = _text(get, key)
    if value is not None and not pattern.fullmatch(value):
        raise ConfigError(f"context {key} must be {what}, not {value!r}")
    return value


def _int(get: Callable[[str], Any], key: str, default: int, *, minimum: int) -> int:
    raw = get(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise ConfigError(f"context {key} must be a whole number, not {raw!r}")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"context {key} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"context {key} must be at least {minimum}, not {value}")
    return value


def _bool(get: Callable[[str], Any], key: str) -> bool:
    raw = get(key)
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"context {key} must be true or false, not {raw!r}")
