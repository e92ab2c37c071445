"""Build ids: URL-safe, sortable by upload time, unique per upload, stable per event.

``20261124T002616Z-1a2b3c4d5e``: the upload's UTC time to the second, then ten
base-36 characters of a hash over what identifies *this* upload of the object
(bucket, key, and S3's ``sequencer`` or version id or ETag). A re-delivered
event carries the same values, so it maps to the same build; a re-upload of
the same file gets a new sequencer, so it gets a new build.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

# The UTC time that starts a build id (also stamps the CLI's upload keys).
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
SUFFIX_LENGTH = 10
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int, width: int) -> str:
    """The lowest ``width`` base-36 digits of ``number`` (0-9a-z), zero-padded;
    higher digits are dropped (``number < 36**width`` keeps them all)."""
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 36)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def make_build_id(
    *,
    uploaded_at: datetime,
    bucket: str,
    key: str,
    upload_marker: str,
) -> str:
    """``upload_marker``: the event's sequencer, else version id, else ETag."""
    when = uploaded_at.astimezone(UTC).strftime(TIME_FORMAT)
    digest = hashlib.sha256("\x00".join((bucket, key, upload_marker)).encode()).digest()
    return f"{when}-{base36(int.from_bytes(digest[:8], 'big'), SUFFIX_LENGTH)}"


_SEQUENCER_WIDTH = 32


def upload_order(*, uploaded_at: datetime, sequencer: str | None) -> str:
    """A string that sorts uploads in the order S3 received them (newest last).

    Build ids sort by the second and then by a hash, so two uploads in the same
    second could come out either way; this key uses the event time to the
    microsecond (S3 sends milliseconds) and, for a tie, the event's sequencer
    (hex, left-padded to one width, as S3 says to compare them).
    """
    when = uploaded_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    sequencer_hex = (sequencer or "").strip().upper()
    if not all(c in "0123456789ABCDEF" for c in sequencer_hex):
        sequencer_hex = ""
    return f"{when}/{sequencer_hex.rjust(_SEQUENCER_WIDTH, '0')}"


def legacy_upload_order(build_id: str) -> str:
    """The order of a build recorded before ``upload_order`` existed: its id's second."""
    when = build_id.split("-", 1)[0]
    stamp = when[:-1] if when.endswith("Z") else when
    return f"{stamp}.000000Z/{'0' * _SEQUENCER_WIDTH}"
