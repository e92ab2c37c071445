"""Refusals of the link service and the checks that raise them (pure).

A refusal says *what* went wrong (``kind``, ``code``, a sentence); the handlers
(``ipadrop.handlers.responses``) turn it into a status and a body. See
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from ipadrop.domain import bucket_keys

RefusalKind = Literal["invalid", "forbidden", "not_found", "gone"]


class ApiError(Exception):
    """An admin API refusal: its ``kind`` (the handler maps it to an HTTP status),
    a machine ``code`` and a one-sentence ``message``."""

    kind: RefusalKind = "invalid"
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(ApiError):
    kind: RefusalKind = "invalid"
    code = "bad_request"


class Forbidden(ApiError):
    kind: RefusalKind = "forbidden"
    code = "forbidden"


class NotFound(ApiError):
    kind: RefusalKind = "not_found"
    code = "not_found"


class Gone(ApiError):
    kind: RefusalKind = "gone"
    code = "gone"


PageKind = Literal["not_found", "forbidden", "expired", "revoked"]


class PublicRefusal(Exception):
    """A public route refused: a short ``reason`` ("expired", "not_yet_valid",
    "forbidden", "revoked", "gone", "not_found"), the kind of page a person
    should see, and what that page can say (the app's title, when it expired)."""

    def __init__(
        self,
        reason: str,
        *,
        page_kind: PageKind,
        title: str | None = None,
        expired_at: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.page_kind = page_kind
        self.title = title
        self.expired_at = expired_at


def parse_json_body(body: str | None) -> dict[str, Any]:
    """The request body as a JSON object, or ``BadRequest`` with a sentence."""
    if body is None or not body.strip():
        raise BadRequest("The request body is empty; send a JSON object.", code="invalid_json")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json parses
        raise BadRequest("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.", code="invalid_json")
    return data


def require_bundle_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest("bundle_id is required (like com.example.app).", code="invalid_bundle_id")
    if not bucket_keys.is_valid_bundle_id(value):
        raise BadRequest(
            "bundle_id may hold only letters, digits, '-' and '.' (like com.example.app), "
            f"at most {bucket_keys.MAX_BUNDLE_ID_LENGTH} characters.",
            code="invalid_bundle_id",
        )
    return value


def require_build_id(value: Any) -> str:
    if not isinstance(value, str) or not bucket_keys.is_valid_build_id(value):
        raise BadRequest(
            'build id must look like "20261124T002616Z-1a2b3c4d5e".', code="invalid_build_id"
        )
    return value
