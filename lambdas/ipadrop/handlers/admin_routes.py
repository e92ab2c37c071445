"""Admin API routes (IAM-authenticated by API Gateway).

POST   /links                                   201 {"install_url", ...}
GET    /apps                                    200 {"apps": [...]}
GET    /apps/<bundle_id>/builds                 200 {"bundle_id", "title", "builds": [...]}
DELETE /apps/<bundle_id>/builds/<build_id>      200 {"bundle_id", "build_id", "revoked_at"}

Groups, invites, activity and notes: ``distribution_routes``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ipadrop.handlers.responses import json_response
from ipadrop.handlers.wiring import now, service
from ipadrop.links.refusals import Forbidden, parse_json_body

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


def require_iam(on: APIGatewayHttpRouter) -> None:
    """Admin routes are IAM-authenticated by API Gateway; refuse any event that
    reached us without that (a mis-wired route must not open the admin API)."""
    context = on.current_event.raw_event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    if not authorizer.get("iam"):
        raise Forbidden("This route needs AWS IAM (SigV4) authentication.")


def request_body(on: APIGatewayHttpRouter) -> str:
    try:
        return on.current_event.decoded_body or ""
    except (ValueError, UnicodeDecodeError):
        return "\x00"  # undecodable base64 or bytes: reported as invalid JSON


def _require_iam() -> None:
    require_iam(router)


@router.post("/links")
def create_link() -> Response[Any]:
    _require_iam()
    result = service().create_link(parse_json_body(request_body(router)), now=now())
    return json_response(201, result.to_json())


@router.get("/apps")
def list_apps() -> Response[Any]:
    _require_iam()
    return json_response(200, service().list_apps())


@router.get("/apps/<bundle_id>/builds")
def list_builds(bundle_id: str) -> Response[Any]:
    _require_iam()
    return json_response(200, service().list_builds(bundle_id))


@router.delete("/apps/<bundle_id>/builds/<build_id>")
def revoke_build(bundle_id: str, build_id: str) -> Response[Any]:
    _require_iam()
    return json_response(200, service().revoke(bundle_id, build_id, now=now()))
