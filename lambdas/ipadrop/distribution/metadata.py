"""Upload metadata (pure): what a build system attaches with ``aws s3 cp --metadata``.

S3 user metadata on the upload (all optional; docs/ARCHITECTURE.md, "Distribution"):

* ``notes``: release notes, UTF-8, percent-encoded as one value;
* ``channel``: ``[a-z0-9][a-z0-9._-]{0,39}``, ``default`` when absent;
* ``notify``: comma-separated group names and/or e-mail addresses.

Bad metadata never loses a build: :func:`parse_upload_metadata` always returns
usable values and lists what it dropped as warnings for the result record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from ipadrop.distribution.notes import clean_notes
from ipadrop.domain.model import DEFAULT_CHANNEL

CHANNEL_PATTERN = r"[a-z0-9][a-z0-9._-]{0,39}"
GROUP_PATTERN = r"[a-z0-9][a-z0-9._-]{0,39}"
_CHANNEL = re.compile(CHANNEL_PATTERN)
_GROUP = re.compile(GROUP_PATTERN)
# Deliberately strict (what SES and mail clients accept without surprises):
# ASCII local part and domain, one @, a dot in the domain, no spaces or quotes.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&*+/=?^_{|}~-]{1,64}@"
    r"(?=.{4,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
MAX_METADATA_BYTES = 2048  # S3's limit for all user metadata together
MAX_RECIPIENTS = 1000

METADATA_NOTES = "notes"
METADATA_CHANNEL = "channel"
METADATA_NOTIFY = "notify"


def is_valid_channel(value: object) -> bool:
    return isinstance(value, str) and _CHANNEL.fullmatch(value) is not None


def is_valid_group_name(value: object) -> bool:
    return isinstance(value, str) and _GROUP.fullmatch(value) is not None


def normalize_email(value: object) -> str | None:
    """The address with its domain lower-cased, or None when it is not one we send to."""
    if not isinstance(value, str):
        return None
    candidate = value.strip()
    if not _EMAIL.fullmatch(candidate) or ".." in candidate or candidate.startswith("."):
        return None
    local, domain = candidate.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True, slots=True)
class Recipients:
    """Recipients split into group names and addresses (each deduplicated, in order)."""

    groups: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()

    @property
    def targets(self) -> list[str]:
        return [*self.groups, *self.emails]


def split_recipients(values: list[Any] | tuple[Any, ...]) -> Recipients:
    """Group names and e-mail addresses from a list (``notify`` split on commas)."""
    groups: list[str] = []
    emails: list[str] = []
    invalid: list[str] = []
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            if not isinstance(value, str):
                invalid.append(repr(value)[:80])
            continue
        if "@" in text:
            email = normalize_email(text)
            if email is None:
                invalid.append(text[:80])
            elif email.lower() not in {e.lower() for e in emails}:
                emails.append(email)
        elif is_valid_group_name(text):
            if text not in groups:
                groups.append(text)
        else:
            invalid.append(text[:80])
    return Recipients(tuple(groups), tuple(emails), tuple(invalid))


@dataclass(frozen=True, slots=True)
class UploadMetadata:
    notes: str | None = None
    channel: str = DEFAULT_CHANNEL
    notify: tuple[str, ...] = ()  # group names and addresses, validated
    warnings: list[dict[str, str]] = field(default_factory=list)


def _warning(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def parse_upload_metadata(metadata: Mapping[str, str] | None) -> UploadMetadata:
    """Validated metadata; anything unusable is dropped with a warning, never raised."""
    raw = {str(k).lower(): v for k, v in (metadata or {}).items()}
    warnings: list[dict[str, str]] = []

    notes: str | None = None
    raw_notes = raw.get(METADATA_NOTES)
    if raw_notes is not None:
        try:
            decoded = unquote(str(raw_notes), encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            decoded = None
            warnings.append(
                _warning(
                    "notes_invalid",
                    "The notes metadata is not percent-encoded UTF-8; the build was "
                    "published without notes.",
                )
            )
        if decoded is not None:
            notes = clean_notes(decoded)

    channel = DEFAULT_CHANNEL
    raw_channel = raw.get(METADATA_CHANNEL)
    if raw_channel is not None and str(raw_channel).strip():
        candidate = str(raw_channel).strip()
        if is_valid_channel(candidate):
            channel = candidate
        else:
            warnings.append(
                _warning(
                    "channel_invalid",
                    f"The channel {candidate[:60]!r} is not 1 to 40 lower-case letters, digits, "
                    "'.', '_' or '-'; the build was published to the default channel.",
                )
            )

    notify: tuple[str, ...] = ()
    raw_notify = raw.get(METADATA_NOTIFY)
    if raw_notify is not None and str(raw_notify).strip():
        recipients = split_recipients(unquote(str(raw_notify)).split(","))
        notify = tuple(recipients.targets[:MAX_RECIPIENTS])
        if recipients.invalid:
            shown = ", ".join(repr(item) for item in recipients.invalid[:3])
            warnings.append(
                _warning(
                    "notify_invalid",
                    f"Ignored notify entries that are neither a group name nor an e-mail "
                    f"address: {shown}.",
                )
            )
    return UploadMetadata(notes=notes, channel=channel, notify=notify, warnings=warnings)


def encode_upload_metadata(
    *, notes: str | None = None, channel: str | None = None, notify: list[str] | None = None
) -> dict[str, str]:
    """The S3 user metadata a client attaches (the inverse of :func:`parse_upload_metadata`).

    Raises ``ValueError`` with a sentence when the values cannot travel as metadata.
    """
    metadata: dict[str, str] = {}
    if notes:
        metadata[METADATA_NOTES] = quote(notes, safe="")
    if channel:
        if not is_valid_channel(channel):
            raise ValueError(
                f"channel {channel!r} must be 1 to 40 lower-case letters, digits, '.', '_' or '-'"
            )
        metadata[METADATA_CHANNEL] = channel
    if notify:
        recipients = split_recipients(notify)
        if recipients.invalid:
            raise ValueError(
                f"{recipients.invalid[0]!r} is neither a group name nor an e-mail address"
            )
        metadata[METADATA_NOTIFY] = ",".join(recipients.targets)
    size = sum(len(k) + len(v.encode("utf-8")) for k, v in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise ValueError(
            f"notes, channel and notify take {size} bytes once encoded; S3 allows "
            f"{MAX_METADATA_BYTES} bytes of metadata (shorten the notes, or set them "
            "after publishing with the API)"
        )
    return metadata
