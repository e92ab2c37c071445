"""Admin API routes for distribution (IAM-authenticated by API Gateway; included by
``link``). Core logic is ``ipadrop.distribution.invites``; see docs/ARCHITECTURE.md.

PUT    /groups/<name>                                  200 {"name", "emails", "updated_at"}
GET    /groups                                         200 {"groups": [...]}
DELETE /groups/<name>                                  200 {"name", "deleted"}
POST   /invites                                        201 {"invites": [...]}
DELETE /invites/<invite_id>                            200 {"invite_id", "email", "revoked_at"}
GET    /apps/<bundle_id>/builds/<build_id>/activity    200 {"events": [...], "summary": {...}}
PUT    /apps/<bundle_id>/builds/<build_id>/notes       200 {"bundle_id", "build_id", "notes"}
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ipadrop.handlers.admin_routes import request_body, require_iam
from ipadrop.handlers.responses import json_response
from ipadrop.handlers.wiring import invites, now, service
from ipadrop.links.refusals import parse_json_body

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.put("/groups/<name>")
def set_group(name: str) -> Response[Any]:
    require_iam(router)
    body = parse_json_body(request_body(router))
    return json_response(200, invites().set_group(name, body, now=now()))


@router.get("/groups")
def list_groups() -> Response[Any]:
    require_iam(router)
    return json_response(200, invites().list_groups())


@router.delete("/groups/<name>")
def delete_group(name: str) -> Response[Any]:
    require_iam(router)
    return json_response(200, invites().delete_group(name))


@router.post("/invites")
def create_invites() -> Response[Any]:
    require_iam(router)
    body = parse_json_body(request_body(router))
    return json_response(201, invites().create_invites(body, now=now()))


@router.delete("/invites/<invite_id>")
def revoke_invite(invite_id: str) -> Response[Any]:
    require_iam(router)
    return json_response(200, invites().revoke_invite(invite_id, now=now()))


@router.get("/apps/<bundle_id>/builds/<build_id>/activity")
def activity(bundle_id: str, build_id: str) -> Response[Any]:
    require_iam(router)
    return json_response(200, invites().activity(bundle_id, build_id))


@router.put("/apps/<bundle_id>/builds/<build_id>/notes")
def update_notes(bundle_id: str, build_id: str) -> Response[Any]:
    require_iam(router)
    body = parse_json_body(request_body(router))
    return json_response(200, service().update_notes(bundle_id, build_id, body))
