"""Tester-facing routes (behind CloudFront, no authentication but the token).

GET    /i/<token>                               install page (HTML; also HEAD, and with a
                                                trailing slash: a person's URL still opens it)
GET    /m/<token>/manifest.plist                manifest (text/xml), asset URLs signed now
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ipadrop.handlers.responses import BASE_HEADERS, html_response
from ipadrop.handlers.wiring import now, service

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.route("/i/<token>", method=["GET", "HEAD"])
@router.route("/i/<token>/", method=["GET", "HEAD"])
def install_page(token: str) -> Response[Any]:
    from ipadrop.render.page import render_install_page

    return html_response(200, render_install_page(service().install_page(token, now=now())))


@router.get("/m/<token>/manifest.plist")
def manifest(token: str) -> Response[Any]:
    body = service().manifest(token, now=now())
    return Response(
        status_code=200,
        content_type="text/xml",
        body=body.decode("utf-8"),
        headers=BASE_HEADERS,
    )
