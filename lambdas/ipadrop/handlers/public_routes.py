"""Tester-facing routes (behind CloudFront, no authentication but the token).

GET    /i/<token>                               install page (HTML; also HEAD, and with a
                                                trailing slash: a person's URL still opens it)
GET    /m/<token>/manifest.plist                manifest (text/xml), asset URLs signed now
(the device routes under /d/ are in ``device_routes``)
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ipadrop.handlers.responses import BASE_HEADERS, html_response
from ipadrop.handlers.wiring import devices, now, service

if TYPE_CHECKING:
    from ipadrop.render.page import InstallPageContext

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.route("/i/<token>", method=["GET", "HEAD"])
@router.route("/i/<token>/", method=["GET", "HEAD"])
def install_page(token: str) -> Response[Any]:
    from ipadrop.render.page import render_install_page

    context = service().install_page(token, now=now())
    return html_response(200, render_install_page(with_device(context, token)))


def with_device(context: InstallPageContext, token: str) -> InstallPageContext:
    """The tester's device (invite or cookie) and the enrollment offer, for builds
    that install only on registered devices (docs/ARCHITECTURE.md, "Devices")."""
    profile = context.facts.profile
    if profile is None or profile.distribution not in ("ad-hoc", "development"):
        return context
    from ipadrop.handlers.device_routes import cookie_udid
    from ipadrop.links.refusals import PublicRefusal

    try:
        device_service = devices()
    except PublicRefusal:  # no table on this stack: nothing is known about devices
        return context
    device = device_service.known_device(
        token, cookie_udid=cookie_udid(router.current_event.get("cookies")), now=now()
    )
    base = service().config.distribution_url
    return replace(context, device=device, enroll_url=f"{base}/d/{token}")


@router.get("/m/<token>/manifest.plist")
def manifest(token: str) -> Response[Any]:
    body = service().manifest(token, now=now())
    return Response(
        status_code=200,
        content_type="text/xml",
        body=body.decode("utf-8"),
        headers=BASE_HEADERS,
    )
