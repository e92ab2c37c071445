"""HTTP for the link function: statuses, headers, JSON errors and human pages.

The core (``ipadrop.links.service``) says *what* went wrong; this module says
how it looks on the wire. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from ipadrop.links.refusals import ApiError, PublicRefusal, RefusalKind

JSON = "application/json"
BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Tokens live in the path: never let them leak to another site through Referer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
API_STATUS: dict[RefusalKind, int] = {
    "invalid": 400,
    "forbidden": 403,
    "not_found": 404,
    "gone": 410,
}
PUBLIC_STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "not_yet_valid": 403,
    "expired": 410,
    "revoked": 410,
    "gone": 410,
}
# Paths of the tester-facing routes: errors there are pages, not JSON.
PUBLIC_PREFIXES = ("/i/", "/m/", "/d/")


def json_response(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=JSON, body=body, headers=BASE_HEADERS)


def error_response(status: int, code: str, message: str) -> Response[Any]:
    return json_response(status, {"error": code, "message": message})


def api_error_response(error: ApiError) -> Response[Any]:
    return error_response(API_STATUS[error.kind], error.code, error.message)


def html_response(status: int, html: str) -> Response[Any]:
    from ipadrop.render.page import content_security_policy

    headers = {
        **BASE_HEADERS,
        "Content-Security-Policy": content_security_policy(),
        "X-Frame-Options": "DENY",
        "Strict-Transport-Security": "max-age=31536000",
    }
    return Response(
        status_code=status, content_type="text/html; charset=utf-8", body=html, headers=headers
    )


def refusal_page(refusal: PublicRefusal, *, contact: str | None) -> Response[Any]:
    """The human page for a refused token, with its status."""
    # Imported here: the page renderer (Jinja2, segno) is only needed when a
    # page is shown, never on the manifest route's happy path.
    from ipadrop.render import page

    if refusal.page_kind == "not_found":
        html = page.render_not_found_page(contact=contact)
    elif refusal.page_kind == "forbidden":
        html = page.render_forbidden_page(contact=contact)
    else:
        html = page.render_expired_page(
            contact=contact,
            title=refusal.title,
            expired_at=refusal.expired_at,
            reason=refusal.page_kind,
        )
    return html_response(PUBLIC_STATUS.get(refusal.reason, 403), html)
