"""The link function: admin API (IAM-authenticated) and the public install routes.

One Lambda behind an API Gateway HTTP API (payload format 2.0), routed by
Powertools' ``APIGatewayHttpResolver``:

    POST   /links                                   201 {"install_url", ...}
    GET    /apps                                    200 {"apps": [...]}
    GET    /apps/<bundle_id>/builds                 200 {"bundle_id", "title", "builds": [...]}
    DELETE /apps/<bundle_id>/builds/<build_id>      200 {"bundle_id", "build_id", "revoked_at"}
    GET    /i/<token>                               install page (HTML)
    GET    /m/<token>/manifest.plist                manifest (text/xml), asset URLs signed now

Cold start: this module imports only the event handler and the pure core.
boto3, Powertools parameters, Jinja2 (pages) and ``cryptography`` (signing)
load on first use, so an admin call never pays for the signer and a page
view never pays for it either; only the manifest route signs.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from ipadrop.linkservice import (
    ApiError,
    Forbidden,
    LinkConfig,
    LinkService,
    PublicRefusal,
    UrlSigner,
    parse_json_body,
)
from ipadrop.settings import LinkSettings, normalize_base_url

logger = logging.getLogger("ipadrop.link")

# The request clock; tests move it to reach expiry without sleeping.
clock: Callable[[], float] = time.time

app = APIGatewayHttpResolver()

_JSON = "application/json"
_BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Tokens live in the path: never let them leak to another site through Referer.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


# ---------------------------------------------------------------- composition


@functools.cache
def service() -> LinkService:
    """The service for this container, built on first request from the environment."""
    settings = LinkSettings.from_env()
    return build_service(settings)


def build_service(
    settings: LinkSettings,
    *,
    s3_client: Any = None,
    secrets_client: Any = None,
    ssm_client: Any = None,
) -> LinkService:
    """Wire the core to AWS. Clients are injectable (the local runner and tests pass
    their own); by default boto3 creates them from the environment."""
    import boto3

    from ipadrop.adapters.s3store import S3BuildStore
    from ipadrop.adapters.secrets import RuntimeSecrets

    secrets = RuntimeSecrets(secrets_client=secrets_client, ssm_client=ssm_client)
    if settings.distribution_url is not None:
        distribution_url = settings.distribution_url
    else:
        # LinkSettings guarantees one of the two is set.
        parameter = str(settings.distribution_url_parameter)
        distribution_url = normalize_base_url(parameter, secrets.parameter(parameter))
    store = S3BuildStore(s3_client or boto3.client("s3"), settings.bucket)
    config = LinkConfig(
        distribution_url=distribution_url,
        ttl_min_seconds=settings.ttl_min_seconds,
        ttl_max_seconds=settings.ttl_max_seconds,
        ttl_default_seconds=settings.ttl_default_seconds,
        asset_url_ttl_seconds=settings.asset_url_ttl_seconds,
        public_mode=settings.public_mode,
        contact=settings.contact,
    )
    token_secret_id = settings.token_secret_id
    key_ring = None
    if token_secret_id is not None and not settings.public_mode:
        key_ring = functools.partial(secrets.token_key_ring, token_secret_id)
    return LinkService(
        store=store,
        config=config,
        key_ring=key_ring,
        signer=functools.partial(_cloudfront_signer, settings, secrets),
    )


def _cloudfront_signer(settings: LinkSettings, secrets: Any) -> UrlSigner:
    from ipadrop.cfsign import sign_url

    if settings.cloudfront_key_secret_id is None:
        raise RuntimeError("IPADROP_CLOUDFRONT_KEY_SECRET_ID must be set")
    # Key and key-pair id come from one read of the secret (cached by
    # Powertools; the parsed key by cfsign, per PEM): never a new key under an old id.
    key = secrets.cloudfront_signing_key(
        settings.cloudfront_key_secret_id, default_key_pair_id=settings.cloudfront_key_pair_id
    )
    pem, key_pair_id = key.private_key_pem, key.key_pair_id

    def sign(url: str, *, expires_at: int) -> str:
        return sign_url(url, key_pair_id=key_pair_id, private_key_pem=pem, expires_at=expires_at)

    return sign


def _now() -> int:
    return int(clock())


# ---------------------------------------------------------------- responses


def json_response(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=_JSON, body=body, headers=_BASE_HEADERS)


def error_response(status: int, code: str, message: str) -> Response[Any]:
    return json_response(status, {"error": code, "message": message})


def html_response(status: int, html: str) -> Response[Any]:
    from ipadrop.render.page import content_security_policy

    headers = {
        **_BASE_HEADERS,
        "Content-Security-Policy": content_security_policy(),
        "X-Frame-Options": "DENY",
        "Strict-Transport-Security": "max-age=31536000",
    }
    return Response(
        status_code=status, content_type="text/html; charset=utf-8", body=html, headers=headers
    )


def _require_iam() -> None:
    """Admin routes are IAM-authenticated by API Gateway; refuse any event that
    reached us without that (a mis-wired route must not open the admin API)."""
    context = app.current_event.raw_event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    if not authorizer.get("iam"):
        raise Forbidden("This route needs AWS IAM (SigV4) authentication.")


# ---------------------------------------------------------------- admin API


@app.post("/links")
def create_link() -> Response[Any]:
    _require_iam()
    try:
        body = app.current_event.decoded_body
    except (ValueError, UnicodeDecodeError):
        body = "\x00"  # undecodable base64 or bytes: reported as invalid JSON below
    result = service().create_link(parse_json_body(body), now=_now())
    return json_response(201, result.to_json())


@app.get("/apps")
def list_apps() -> Response[Any]:
    _require_iam()
    return json_response(200, service().list_apps())


@app.get("/apps/<bundle_id>/builds")
def list_builds(bundle_id: str) -> Response[Any]:
    _require_iam()
    return json_response(200, service().list_builds(bundle_id))


@app.delete("/apps/<bundle_id>/builds/<build_id>")
def revoke_build(bundle_id: str, build_id: str) -> Response[Any]:
    _require_iam()
    return json_response(200, service().revoke(bundle_id, build_id, now=_now()))


# ---------------------------------------------------------------- public routes


@app.get("/i/<token>")
def install_page(token: str) -> Response[Any]:
    return html_response(200, service().install_page(token, now=_now()))


@app.get("/m/<token>/manifest.plist")
def manifest(token: str) -> Response[Any]:
    body = service().manifest(token, now=_now())
    return Response(
        status_code=200,
        content_type="text/xml",
        body=body.decode("utf-8"),
        headers=_BASE_HEADERS,
    )


# ---------------------------------------------------------------- errors


def _api_error(error: ApiError) -> Response[Any]:
    return error_response(error.status, error.code, error.message)


def _public_refusal(refusal: PublicRefusal) -> Response[Any]:
    return html_response(refusal.status, refusal.html)


@app.not_found
def _not_found(_: NotFoundError) -> Response[Any]:
    event = app.current_event
    path = event.path
    if path.startswith(("/i/", "/m/")) and event.http_method == "GET":
        from ipadrop.render.page import render_not_found_page

        return html_response(404, render_not_found_page(contact=_contact()))
    return error_response(404, "not_found", f"There is no route {event.http_method} {path}.")


def _unexpected(error: Exception) -> Response[Any]:
    # Logged with its traceback for operators; callers get one sentence
    # (a page on the tester-facing routes, JSON on the admin API).
    logger.error("unhandled error", exc_info=error)
    if app.current_event.path.startswith(("/i/", "/m/")):
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
