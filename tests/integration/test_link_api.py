"""The admin API's answers and refusals, configuration paths (SSM distribution URL,
public mode), and errors that must never become tracebacks."""

from __future__ import annotations

import calendar
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ipadrop.adapters.cloudfront_signing import generate_key_pair
from ipadrop.adapters.secrets import RuntimeSecrets, SecretUnusable
from tests.conftest import boto_client
from tests.integration.link_support import (
    BUILD_1,
    BUILD_2,
    BUNDLE,
    DISTRIBUTION_URL,
    Stack,
    make_record,
    open_stack,
    seed_build,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cloudfront_keys() -> tuple[bytes, bytes]:
    return generate_key_pair()


@pytest.fixture
def make_stack(
    moto_endpoint: str,
    bucket_name: str,
    cloudfront_keys: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    opened: list[Any] = []

    def make(**overrides: str) -> Stack:
        context = open_stack(
            moto_endpoint,
            bucket_name,
            cloudfront_keys,
            monkeypatch.setenv,
            lambda name: monkeypatch.delenv(name, raising=False),
            **overrides,
        )
        stack = context.__enter__()
        opened.append(context)
        seed_build(stack.s3, bucket_name, make_record(BUNDLE, BUILD_1, version="1.0"))
        return stack

    yield make
    for context in opened:
        context.__exit__(None, None, None)


@pytest.fixture
def stack(make_stack: Any) -> Stack:
    result: Stack = make_stack()
    return result


def error_of(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"]["Content-Type"] == "application/json"
    body: dict[str, Any] = json.loads(response["body"])
    assert set(body) == {"error", "message"}
    assert body["message"].endswith(".")
    assert "\n" not in body["message"]
    return body


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({"bundle_id": "com/evil", "build": "latest"}, 400, "invalid_bundle_id", "letters"),
        ({"build": "latest"}, 400, "invalid_bundle_id", "required"),
        ({"bundle_id": BUNDLE, "build": "../x"}, 400, "invalid_build_id", "latest"),
        ({"bundle_id": BUNDLE, "ttl_seconds": 59}, 400, "invalid_ttl", "1 minute to 7 days"),
        ({"bundle_id": BUNDLE, "ttl_seconds": 604801}, 400, "invalid_ttl", "between 60"),
        ({"bundle_id": BUNDLE, "ttl_seconds": "1h"}, 400, "invalid_ttl", "whole number"),
        ({"bundle_id": BUNDLE, "ttl_seconds": True}, 400, "invalid_ttl", "whole number"),
        ({"bundle_id": BUNDLE, "ttl": 60}, 400, "invalid_field", "'ttl'"),
        ({"bundle_id": "com.example.none"}, 404, "unknown_app", "no app"),
        ({"bundle_id": BUNDLE, "build": BUILD_2}, 404, "unknown_build", BUILD_2),
    ],
)
def test_create_link_refusals(
    stack: Stack, body: dict[str, Any], status: int, code: str, words: str
) -> None:
    response = stack.call("POST", "/links", body=body)
    assert response["statusCode"] == status
    error = error_of(response)
    assert error["error"] == code
    assert words in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "",
        "[1, 2]",
        b"\xff\xfe",
        "null",
        pytest.param("[" * 100_000 + "]" * 100_000, id="too-deep"),
    ],
)
def test_malformed_body_is_a_sentence(stack: Stack, body: str | bytes) -> None:
    response = stack.call("POST", "/links", body=body)
    assert response["statusCode"] == 400
    error = error_of(response)
    assert error["error"] == "invalid_json"


def test_defaults_and_base64_body(stack: Stack) -> None:
    before = int(time.time())
    response = stack.call("POST", "/links", body=json.dumps({"bundle_id": BUNDLE}).encode())
    assert response["statusCode"] == 201
    minted = json.loads(response["body"])
    assert minted["build_id"] == BUILD_1  # "latest" by default
    expires = calendar.timegm(time.strptime(minted["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert before + 86400 <= expires <= before + 86400 + 60


def test_urls_come_from_settings_not_request_headers(stack: Stack) -> None:
    response = stack.call(
        "POST",
        "/links",
        body={"bundle_id": BUNDLE},
        headers={"host": "evil.example", "x-forwarded-host": "evil.example"},
    )
    minted = json.loads(response["body"])
    for key in ("install_url", "manifest_url"):
        assert minted[key].startswith(DISTRIBUTION_URL + "/")
    assert "evil" not in response["body"]


def test_list_apps_and_builds(stack: Stack) -> None:
    seed_build(stack.s3, stack.bucket, make_record(BUNDLE, BUILD_2, version="2.0"))
    apps = json.loads(stack.call("GET", "/apps")["body"])["apps"]
    assert [a["bundle_id"] for a in apps] == [BUNDLE]
    assert apps[0]["latest_build_id"] == BUILD_2

    response = stack.call("GET", f"/apps/{BUNDLE}/builds")
    assert response["statusCode"] == 200
    listing = json.loads(response["body"])
    assert listing["bundle_id"] == BUNDLE
    assert [b["build_id"] for b in listing["builds"]] == [BUILD_2, BUILD_1]

    missing = stack.call("GET", "/apps/com.example.none/builds")
    assert missing["statusCode"] == 404
    assert error_of(missing)["error"] == "unknown_app"
    bad = stack.call("GET", "/apps/com..evil/builds")
    assert bad["statusCode"] == 400


def test_revoke_refusals(stack: Stack) -> None:
    unknown = stack.call("DELETE", f"/apps/{BUNDLE}/builds/{BUILD_2}")
    assert unknown["statusCode"] == 404
    bad = stack.call("DELETE", f"/apps/{BUNDLE}/builds/not-a-build")
    assert bad["statusCode"] == 400
    assert error_of(bad)["error"] == "invalid_build_id"


def test_admin_routes_need_iam(stack: Stack) -> None:
    for method, path in (
        ("GET", "/apps"),
        ("POST", "/links"),
        ("GET", f"/apps/{BUNDLE}/builds"),
        ("DELETE", f"/apps/{BUNDLE}/builds/{BUILD_1}"),
    ):
        response = stack.call(method, path, body={"bundle_id": BUNDLE}, admin=False)
        assert response["statusCode"] == 403, path
        assert error_of(response)["error"] == "forbidden"
    # Nothing was revoked by the refused DELETE.
    assert (
        stack.call("POST", "/links", body={"bundle_id": BUNDLE, "build": BUILD_1})["statusCode"]
        == 201
    )


def test_unknown_routes(stack: Stack) -> None:
    for method, path in (("GET", "/nope"), ("PUT", "/links"), ("GET", "/links")):
        response = stack.call(method, path)
        assert response["statusCode"] == 404
        assert error_of(response)["error"] == "not_found"
    page = stack.call("GET", "/i/abc/extra")
    assert page["statusCode"] == 404
    assert page["headers"]["Content-Type"].startswith("text/html")


def test_outage_is_a_500_sentence_not_a_traceback(make_stack: Any) -> None:
    stack = make_stack(IPADROP_TOKEN_SECRET_ID="ipadrop/does-not-exist")
    response = stack.call("POST", "/links", body={"bundle_id": BUNDLE})
    assert response["statusCode"] == 500
    assert error_of(response)["error"] == "internal_error"


def test_outage_on_a_tester_route_is_a_page_not_json(make_stack: Any) -> None:
    stack = make_stack(IPADROP_TOKEN_SECRET_ID="ipadrop/does-not-exist")
    token = "AQACazFrBOl0awY69Bpyib57Fqam"
    for path in (f"/i/{token}", f"/m/{token}/manifest.plist"):
        response = stack.call("GET", path)
        assert response["statusCode"] == 500
        assert response["headers"]["Content-Type"].startswith("text/html")
        assert "Something went wrong on our side" in response["body"]
        assert "Traceback" not in response["body"]


def test_distribution_url_from_ssm_parameter(make_stack: Any, moto_endpoint: str) -> None:
    ssm = boto_client("ssm", moto_endpoint)
    name = f"/ipadrop/{uuid.uuid4().hex[:8]}/distribution-url"
    ssm.put_parameter(Name=name, Value="https://apps.example.com/", Type="String")
    stack = make_stack(IPADROP_DISTRIBUTION_URL="", IPADROP_DISTRIBUTION_URL_PARAMETER=name)
    minted = stack.mint()
    assert minted["install_url"].startswith("https://apps.example.com/i/")
    assert "//i/" not in minted["install_url"]
    page = stack.call("GET", minted["install_url"][len("https://apps.example.com") :])
    assert page["statusCode"] == 200


def test_public_mode_links_are_the_static_artefacts(make_stack: Any) -> None:
    stack = make_stack(IPADROP_PUBLIC_MODE="true")
    minted = stack.mint("latest")
    prefix = f"{DISTRIBUTION_URL}/builds/{BUNDLE}/{BUILD_1}/"
    assert minted["install_url"] == prefix + "index.html"
    assert minted["manifest_url"] == prefix + "manifest.plist"
    assert minted["expires_at"] is None
    assert stack.call("GET", "/i/anything")["statusCode"] == 404


def test_secrets_adapter_picks_up_rotation(stack: Stack) -> None:
    reader = RuntimeSecrets(secrets_client=stack.secrets, max_age_seconds=0)
    first = reader.token_key_ring(stack.token_secret_id)
    assert reader.token_key_ring(stack.token_secret_id) is first  # parsed once per value
    stack.secrets.put_secret_value(
        SecretId=stack.token_secret_id,
        SecretString=json.dumps({"current": "k2", "k1": "a" * 32, "k2": "b" * 32}),
    )
    rotated = reader.token_key_ring(stack.token_secret_id)
    assert rotated.current == "k2"
    assert set(rotated.keys) == {"k1", "k2"}

    cached = RuntimeSecrets(secrets_client=stack.secrets)
    assert cached.token_key_ring(stack.token_secret_id).current == "k2"
    stack.secrets.put_secret_value(
        SecretId=stack.token_secret_id, SecretString=json.dumps({"current": "k3", "k3": "c" * 32})
    )
    assert cached.token_key_ring(stack.token_secret_id).current == "k2"  # within max_age

    stack.secrets.put_secret_value(SecretId=stack.token_secret_id, SecretString='{"current": 1}')
    with pytest.raises(SecretUnusable, match="current"):
        reader.token_key_ring(stack.token_secret_id)


def test_head_and_a_trailing_slash_give_the_install_page_not_json(stack: Stack) -> None:
    # A person's browser adds the slash; link checkers and iOS previews send HEAD.
    path = stack.mint()["install_url"][len(DISTRIBUTION_URL) :]
    for method, variant in (("GET", path + "/"), ("HEAD", path), ("HEAD", path + "/")):
        response = stack.call(method, variant)
        assert (method, variant, response["statusCode"]) == (method, variant, 200)
        assert response["headers"]["Content-Type"].startswith("text/html")
    missing = stack.call("HEAD", "/i/abc/extra")
    assert missing["statusCode"] == 404
    assert missing["headers"]["Content-Type"].startswith("text/html")
