"""Errors the core raises on purpose. Anything else is a bug or an outage."""

from __future__ import annotations


class IpaRejected(Exception):
    """The file is not an installable IPA.

    ``code`` is a stable machine-readable reason (``not_a_zip``, ``truncated``,
    ``no_app_bundle``, ``multiple_apps``, ``no_info_plist``,
    ``info_plist_unreadable``, ``bad_bundle_id``, ``entry_too_large``, ...);
    ``message`` is one sentence for a person.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message
