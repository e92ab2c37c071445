"""The link function: the admin API and the tester-facing routes in one Lambda.

API Gateway HTTP API (payload format 2.0) -> Powertools' ``APIGatewayHttpResolver``
with two routers: ``admin_routes`` (IAM-authenticated) and ``public_routes``
(install page, manifest). Wiring to AWS is in ``wiring``; statuses, headers and
pages in ``http``. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from ipadrop.handlers import admin_routes, device_routes, distribution_routes, public_routes
from ipadrop.handlers.responses import (
    PUBLIC_PREFIXES,
    api_error_response,
    error_response,
    html_response,
    refusal_page,
)
from ipadrop.handlers.wiring import service
from ipadrop.links.refusals import ApiError, PublicRefusal

logger = logging.getLogger("ipadrop.link")

app = APIGatewayHttpResolver()
app.include_router(admin_routes.router)
app.include_router(distribution_routes.router)
app.include_router(public_routes.router)
app.include_router(device_routes.router)


def _api_error(error: ApiError) -> Response[Any]:
    return api_error_response(error)


def _public_refusal(refusal: PublicRefusal) -> Response[Any]:
    return refusal_page(refusal, contact=_contact())


@app.not_found
def _not_found(_: NotFoundError) -> Response[Any]:
    event = app.current_event
    path = event.path
    if path.startswith(PUBLIC_PREFIXES) and event.http_method in ("GET", "HEAD"):
        from ipadrop.render.page import render_not_found_page

        return html_response(404, render_not_found_page(contact=_contact()))
    return error_response(404, "not_found", f"There is no route {event.http_method} {path}.")


def _unexpected(error: Exception) -> Response[Any]:
    # Logged with its traceback for operators; callers get one sentence
    # (a page on the tester-facing routes, JSON on the admin API).
    logger.error("unhandled error", exc_info=error)
    if app.current_event.path.startswith(PUBLIC_PREFIXES):
        from ipadrop.render.page import render_unavailable_page

        return html_response(500, render_unavailable_page(contact=_contact()))
    return error_response(
        500, "internal_error", "Something went wrong on our side; please try again shortly."
    )


# Registered by call rather than decorator: Powertools' decorator is untyped.
app.exception_handler(ApiError)(_api_error)
app.exception_handler(PublicRefusal)(_public_refusal)
app.exception_handler(Exception)(_unexpected)


def _contact() -> str | None:
    try:
        return service().config.contact
    except Exception:  # a misconfigured service must not turn a 404 into a 500
        return None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
