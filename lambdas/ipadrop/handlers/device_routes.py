"""Device routes (docs/ARCHITECTURE.md, "Devices and pre-install diagnosis").

Tester-facing (behind CloudFront, the token is the only key):
GET    /d/<token>                        the device-check page (HTML)
GET    /d/<token>/enroll.mobileconfig    Profile Service profile (application/x-apple-aspen-config)
POST   /d/<token>/enroll                 the device's signed answer -> 301 /d/<token>/done?udid=..
GET    /d/<token>/done                   the device and whether the build's profile lists it;
                                         sets the device cookie on the distribution domain
Admin (IAM):
GET    /devices[?format=apple]           200 {"devices": [...]} or Apple's tab-separated import file
POST   /enrollments                      201 {"enroll_url", "expires_at", "bundle_id"}
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ipadrop.devices.enrollment import MAX_DEVICE_RESPONSE_BYTES, MOBILECONFIG_CONTENT_TYPE, is_udid
from ipadrop.devices.export import apple_device_file
from ipadrop.handlers.responses import BASE_HEADERS, error_response, html_response, json_response
from ipadrop.handlers.wiring import devices, now, service
from ipadrop.links.refusals import Forbidden, parse_json_body
from ipadrop.settings import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get("/d/<token>")
def enroll_page(token: str) -> Response[Any]:
    from ipadrop.render.page import render_enroll_page

    view = devices().view(token, now=now())
    return html_response(
        200,
        render_enroll_page(
            app_title=view.title,
            mobileconfig_url=view.mobileconfig_url,
            signed_profile=view.signed_profile,
            contact=service().config.contact,
        ),
    )


@router.get("/d/<token>/enroll.mobileconfig")
def mobileconfig(token: str) -> Response[Any]:
    body = devices().mobileconfig(token, now=now())
    return Response(
        status_code=200,
        content_type=MOBILECONFIG_CONTENT_TYPE,
        body=body,
        headers={
            **BASE_HEADERS,
            "Content-Disposition": 'attachment; filename="device-check.mobileconfig"',
        },
    )


@router.post("/d/<token>/enroll")
def enroll(token: str) -> Response[Any]:
    from ipadrop.devices.service import AnswerRefused

    event = router.current_event
    raw = event.raw_event.get("body") or ""
    # Refuse an oversized body before decoding it (base64 is 4/3 of the bytes).
    if len(raw) > MAX_DEVICE_RESPONSE_BYTES * 4 // 3 + 4:
        return error_response(413, "too_large", "The request body is too large.")
    try:
        body = (
            base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
        )
    except (binascii.Error, ValueError):
        return error_response(400, "not_cms", "The body is not a signed device answer.")
    try:
        device = devices().enroll(
            token, body, content_type=event.headers.get("content-type"), now=now()
        )
    except AnswerRefused as refused:
        return error_response(refused.status, refused.code, refused.message)
    location = f"{service().config.distribution_url}/d/{token}/done?udid={quote(device.udid)}"
    return Response(status_code=301, body="", headers={**BASE_HEADERS, "Location": location})


@router.get("/d/<token>/done")
def done(token: str) -> Response[Any]:
    from ipadrop.render.page import render_enrolled_page

    udid = router.current_event.get_query_string_value("udid") or ""
    udid = udid.upper() if is_udid(udid) else ""
    view = devices().view(token, now=now(), udid=udid or None)
    response = html_response(
        200,
        render_enrolled_page(
            app_title=view.title,
            device=view.device,
            listed=view.listed,
            install_url=view.install_url,
            contact=service().config.contact,
        ),
    )
    if view.device is not None:
        response.cookies = [device_cookie(view.device.udid)]  # type: ignore[list-item]
    return response


def device_cookie(udid: str) -> str:
    """Lets the install pages on this domain know the device later (no secret in it)."""
    return (
        f"{DEVICE_COOKIE}={udid}; Path=/; Max-Age={DEVICE_COOKIE_MAX_AGE}; "
        "Secure; HttpOnly; SameSite=Lax"
    )


def cookie_udid(cookies: list[str] | None) -> str | None:
    """The device cookie's UDID from an HTTP API v2 event's ``cookies``."""
    for cookie in cookies or []:
        name, _, value = cookie.strip().partition("=")
        if name == DEVICE_COOKIE and is_udid(value.strip()):
            return value.strip().upper()
    return None


# ---------------------------------------------------------------------- admin


def _require_iam() -> None:
    context = router.current_event.raw_event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    if not authorizer.get("iam"):
        raise Forbidden("This route needs AWS IAM (SigV4) authentication.")


@router.get("/devices")
def list_devices() -> Response[Any]:
    _require_iam()
    listing = devices().list_devices()
    if router.current_event.get_query_string_value("format") == "apple":
        return Response(
            status_code=200,
            content_type="text/plain; charset=utf-8",
            body=apple_device_file(listing["devices"]),
            headers=BASE_HEADERS,
        )
    return json_response(200, listing)


@router.post("/enrollments")
def create_enrollment() -> Response[Any]:
    _require_iam()
    try:
        body = router.current_event.decoded_body
    except (ValueError, UnicodeDecodeError):
        body = "\x00"
    request = parse_json_body(body) if (body or "").strip() else {}
    return json_response(201, devices().create_enrollment(request, now=now()))
