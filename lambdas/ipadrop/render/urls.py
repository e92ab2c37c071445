"""URLs the install flow hands to iOS.

iOS unescapes the manifest URL inside an ``itms-services`` link exactly once,
so the whole manifest URL is percent-encoded as one query value (``safe=""``):
a ``&``, ``#`` or ``+`` left raw would end the value early or change it.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

ITMS_SERVICES_PREFIX = "itms-services://?action=download-manifest&url="


class InvalidBaseUrl(ValueError):
    """A base URL that iOS would refuse or that cannot take a file name; the message says why."""


def itms_services_url(manifest_url: str) -> str:
    """The link Safari hands to the installer for ``manifest_url`` (already a URL)."""
    return ITMS_SERVICES_PREFIX + quote(manifest_url, safe="")


def normalize_base_url(base_url: str, *, require_https: bool = True) -> str:
    """Check a base URL and return it ending in ``/`` so file names join under it.

    The URL is taken as given (it is already a URL, so nothing is re-encoded).
    iOS installs only over HTTPS, hence ``require_https``.
    """
    text = base_url.strip()
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise InvalidBaseUrl("the base URL contains spaces or control characters; encode them")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError as exc:
        raise InvalidBaseUrl(f"the base URL is not a valid URL ({exc}): {text!r}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and (require_https or scheme != "http"):
        allowed = "iOS installs only over HTTPS" if require_https else "or http:// locally"
        raise InvalidBaseUrl(f"the base URL must start with https:// ({allowed}), not {text!r}")
    if not parts.hostname:
        raise InvalidBaseUrl(f"the base URL has no host name: {text!r}")
    if parts.username is not None or parts.password is not None:
        # It would be printed on the page, in the QR code and in the manifest.
        raise InvalidBaseUrl("the base URL must not carry a user name or password")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise InvalidBaseUrl(f"the base URL must not have a query or fragment: {text!r}")
    return text if text.endswith("/") else text + "/"


def join_base_url(base_url: str, file_name: str) -> str:
    """``base_url`` (normalised, ends in ``/``) + one path segment, percent-encoded.

    Unlike ``urljoin`` this never drops the base's last segment and never lets
    the name climb out of the base (``..``, ``/`` or a scheme in it are refused).
    """
    if not base_url.endswith("/"):
        raise InvalidBaseUrl(f"the base URL must end with '/': {base_url!r}")
    if not file_name or file_name in (".", "..") or "/" in file_name or "\\" in file_name:
        raise ValueError(f"not a plain file name: {file_name!r}")
    return base_url + quote(file_name, safe="")
