"""Text as people read it, in one place (pure): sizes, durations, times, labels,
and the cleaning every string from an upload gets before it is shown.

See docs/ARCHITECTURE.md ("One home for each helper").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# C0/C1 controls, line/paragraph separators, and the invisible or
# direction-changing characters an uploader could use to spoof a name
# (bidi embeddings/overrides/isolates, zero-width characters, BOM, soft hyphen,
# word joiner and the other invisible operators, Mongolian vowel separator).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]"
)
# Zero-width (non-)joiners belong inside emoji sequences (👩‍💻) and Arabic or Indic
# words; beside ASCII or at an end they only hide something ("Pay\u200dPal").
_STRAY_JOINER = re.compile("(?:(?<=[\x00-\x7f])|^)[\u200c\u200d]+|[\u200c\u200d]+(?=[\x00-\x7f]|$)")


def clean_text(
    value: object, *, max_length: int | None = None, replacement: str = ""
) -> str | None:
    """A string with controls and invisible/bidi characters removed (or replaced by
    ``replacement``, to show that something was there) and whitespace trimmed; None
    for non-strings and strings that end up empty."""
    if not isinstance(value, str):
        return None
    cleaned = _STRAY_JOINER.sub(replacement, _UNSAFE.sub(replacement, value)).strip()
    if max_length is not None:
        cleaned = cleaned[:max_length]
    return cleaned or None


def iso_utc(moment: datetime | int | float) -> str:
    """ISO 8601 UTC to the second with a ``Z``: ``2026-12-06T07:28:47Z``.

    Accepts an aware datetime, a naive one (taken as UTC, as plistlib returns
    them) or epoch seconds.
    """
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_utc(value: str) -> datetime:
    """The inverse of ``iso_utc`` (also accepts ``+00:00``, fractions, and a
    naive time, taken as UTC); ValueError when it is not a time."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_iso_time(value: str | None) -> datetime | None:
    """An ISO 8601 time as an aware datetime (naive is UTC); None when absent or invalid."""
    if not value:
        return None
    try:
        return parse_iso_utc(value)
    except (ValueError, OverflowError):
        return None


def format_utc(value: str | None) -> str:
    """The one way a time is written for people when no time zone is known:
    ``5 Jan 2026, 09:07 UTC`` (pages rewrite it in the reader's zone)."""
    parsed = parse_iso_time(value)
    if parsed is None:
        return value or ""
    utc = parsed.astimezone(UTC)
    return f"{utc.day} {utc:%b %Y, %H:%M} UTC"


def human_size(size_bytes: int) -> str:
    """Decimal units, as iOS shows storage: 42.7 KB, 1.3 MB."""
    if size_bytes < 1000:
        return f"{size_bytes} bytes" if size_bytes != 1 else "1 byte"
    value = float(size_bytes)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def describe_seconds(seconds: int) -> str:
    """A whole duration in words: ``7 days``, ``1 hour``, ``90 seconds``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def rough_duration(seconds: int) -> str:
    """``1d 2h``, ``2h``, ``1h 30m``, ``45s``: what a person wants to know about an expiry."""
    if seconds < 60:
        return f"{seconds}s"
    minutes_total = (seconds + 30) // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def version_label(version: str | None, build: str | None) -> str:
    """``1.2 (42)``, or whichever of the two exists."""
    if version and build and version != build:
        return f"{version} ({build})"
    return version or build or "unknown"
