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
