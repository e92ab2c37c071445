"""Groups, invitations, activity, channels and notes through the real link handler,
against moto (S3, Secrets Manager, DynamoDB, SES v2, EventBridge)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from ipadrop.adapters.cloudfront_signing import generate_key_pair
from tests.integration.distribution_support import Sent, install_url_of, open_distribution_stack
from tests.integration.link_support import BUILD_1, BUILD_2, BUNDLE, Stack, make_record, seed_build

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cloudfront_keys() -> tuple[bytes, bytes]:
    return generate_key_pair()


@pytest.fixture
def world(
    moto_endpoint: str,
    bucket_name: str,
    cloudfront_keys: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Stack, Sent]]:
    with open_distribution_stack(moto_endpoint, bucket_name, cloudfront_keys, monkeypatch) as (
        stack,
        sent,
        _,
    ):
        record = replace(
            make_record(BUNDLE, BUILD_1, version="1.0"),
            notes="Fixes login\nSee https://example.com/changelog",
            channel="main",
        )
        seed_build(stack.s3, stack.bucket, record)
        yield stack, sent


def body(response: dict[str, object]) -> dict[str, object]:
    return json.loads(str(response["body"]))  # type: ignore[no-any-return]


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_groups_can_be_set_listed_and_deleted(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    put = stack.call(
        "PUT", "/groups/qa", body={"emails": ["A@Example.com", "b@example.com", "a@example.com"]}
    )
    assert put["statusCode"] == 200, put["body"]
    assert body(put)["emails"] == ["A@example.com", "b@example.com"]
    listed = body(stack.call("GET", "/groups"))
    assert [g["name"] for g in listed["groups"]] == ["qa"]  # type: ignore[index, union-attr]
    assert stack.call("DELETE", "/groups/qa")["statusCode"] == 200
    assert stack.call("DELETE", "/groups/qa")["statusCode"] == 404
    assert body(stack.call("GET", "/groups"))["groups"] == []


@pytest.mark.parametrize(
    ("path", "payload", "code"),
    [
        ("/groups/QA", {"emails": []}, "invalid_group_name"),
        ("/groups/qa", {"emails": ["not-an-address"]}, "invalid_email"),
        ("/groups/qa", {"emails": ["a@b.example\r\nBcc: x@y.example"]}, "invalid_email"),
        ("/groups/qa", {"members": []}, "invalid_field"),
    ],
)
def test_bad_groups_are_refused(
    world: tuple[Stack, Sent], path: str, payload: dict[str, object], code: str
) -> None:
    response = world[0].call("PUT", path, body=payload)
    assert response["statusCode"] == 400
    assert body(response)["error"] == code


def test_one_invite_and_one_email_per_person(world: tuple[Stack, Sent]) -> None:
    stack, sent = world
    stack.call("PUT", "/groups/qa", body={"emails": ["ann@example.com", "bob@example.com"]})
    response = stack.call(
        "POST",
        "/invites",
        body={
            "bundle_id": BUNDLE,
            "build": BUILD_1,
            "recipients": ["qa", "BOB@example.com", "cy@example.com"],
            "message": "Please try the login fix",
        },
    )
    assert response["statusCode"] == 201, response["body"]
    invites = body(response)["invites"]
    assert [i["email"] for i in invites] == ["ann@example.com", "bob@example.com", "cy@example.com"]  # type: ignore[index, union-attr]
    assert len({i["install_url"] for i in invites}) == 3  # type: ignore[union-attr]
    assert len({i["invite_id"] for i in invites}) == 3  # type: ignore[union-attr]
    assert sorted(m["To"] for m in sent.messages) == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
    ]
    by_address = {m["To"]: m for m in sent.messages}
    for invite in invites:  # type: ignore[union-attr]
        message = by_address[invite["email"]]
        assert install_url_of(message) == invite["install_url"]
        assert install_url_of(message).startswith("https://")
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Fixes login" in text
        assert "Please try the login fix" in text

    # The button opens a page with the notes; page + manifest show as activity.
    ann = invites[0]  # type: ignore[index]
    page = stack.call("GET", path_of(ann["install_url"]))
    assert page["statusCode"] == 200
    assert "Fixes login" in page["body"]
    assert '<a href="https://example.com/changelog"' in page["body"]
    token = path_of(ann["install_url"]).split("/")[2]
    assert stack.call("GET", f"/m/{token}/manifest.plist")["statusCode"] == 200
    activity = body(stack.call("GET", f"/apps/{BUNDLE}/builds/{BUILD_1}/activity"))
    events = activity["events"]
    assert [(e["type"], e["email"]) for e in events] == [  # type: ignore[index, union-attr]
        ("install_started", "ann@example.com"),
        ("page_opened", "ann@example.com"),
    ]
    assert activity["summary"]["install_started"] == ["ann@example.com"]  # type: ignore[index]

    # Revoking Ann's invite stops her link at once; Bob's keeps working.
    revoked = stack.call("DELETE", f"/invites/{ann['invite_id']}")
    assert revoked["statusCode"] == 200
    assert stack.call("GET", path_of(ann["install_url"]))["statusCode"] == 410
    assert stack.call("GET", f"/m/{token}/manifest.plist")["statusCode"] == 410
    assert stack.call("GET", path_of(invites[1]["install_url"]))["statusCode"] == 200  # type: ignore[index]
    assert ("Invite Revoked", ann["invite_id"]) in [(t, d.get("invite_id")) for t, d in sent.events]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"bundle_id": BUNDLE, "recipients": []}, 400, "invalid_recipients"),
        ({"bundle_id": BUNDLE, "recipients": ["nobody-group"]}, 404, "unknown_group"),
        ({"bundle_id": BUNDLE, "recipients": ["x y"]}, 400, "invalid_recipients"),
        ({"bundle_id": BUNDLE, "recipients": ["a@b.example"], "extra": 1}, 400, "invalid_field"),
        (
            {"bundle_id": BUNDLE, "recipients": ["a@b.example"], "message": 5},
            400,
            "invalid_message",
        ),
        (
            {"bundle_id": BUNDLE, "channel": "nightly", "recipients": ["a@b.example"]},
            404,
            "no_builds",
        ),
    ],
)
def test_bad_invites_are_refused_before_any_mail(
    world: tuple[Stack, Sent], payload: dict[str, object], status: int, code: str
) -> None:
    stack, sent = world
    response = stack.call("POST", "/invites", body=payload)
    assert response["statusCode"] == status, response["body"]
    assert body(response)["error"] == code
    assert sent.messages == []


def test_unknown_invite_is_404_and_bad_id_400(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    assert stack.call("DELETE", "/invites/0123456789abcdef")["statusCode"] == 404
    assert stack.call("DELETE", "/invites/nope")["statusCode"] == 400


def test_latest_of_a_channel_follows_that_channel(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    seed_build(
        stack.s3, stack.bucket, replace(make_record(BUNDLE, BUILD_2, version="2.0"), channel="beta")
    )
    main = body(stack.call("POST", "/links", body={"bundle_id": BUNDLE, "channel": "main"}))
    beta = body(stack.call("POST", "/links", body={"bundle_id": BUNDLE, "channel": "beta"}))
    anything = body(stack.call("POST", "/links", body={"bundle_id": BUNDLE}))
    assert (main["build_id"], beta["build_id"], anything["build_id"]) == (BUILD_1, BUILD_2, BUILD_2)
    # A newer main build: the main link moves to it, beta's stays.
    build_3 = "20260103T100000Z-cccccccccc"
    seed_build(
        stack.s3, stack.bucket, replace(make_record(BUNDLE, build_3, version="3.0"), channel="main")
    )
    page = stack.call("GET", path_of(str(main["install_url"])))
    assert "Version 3.0" in page["body"]
    assert "Version 2.0" in stack.call("GET", path_of(str(beta["install_url"])))["body"]
    bad = stack.call("POST", "/links", body={"bundle_id": BUNDLE, "channel": "Main"})
    assert body(bad)["error"] == "invalid_channel"


def test_notes_can_be_changed_after_publish(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    link = body(stack.call("POST", "/links", body={"bundle_id": BUNDLE, "build": BUILD_1}))
    response = stack.call(
        "PUT", f"/apps/{BUNDLE}/builds/{BUILD_1}/notes", body={"notes": "Now with <b>dark</b> mode"}
    )
    assert response["statusCode"] == 200, response["body"]
    page = stack.call("GET", path_of(str(link["install_url"])))["body"]
    assert "Now with &lt;b&gt;dark&lt;/b&gt; mode" in page
    assert "Fixes login" not in page
    builds = body(stack.call("GET", f"/apps/{BUNDLE}/builds"))["builds"]
    assert builds[0]["notes"] == "Now with <b>dark</b> mode"  # type: ignore[index]
    missing = stack.call("PUT", f"/apps/{BUNDLE}/builds/{BUILD_2}/notes", body={"notes": "x"})
    assert missing["statusCode"] == 404
    assert (
        stack.call("PUT", f"/apps/{BUNDLE}/builds/{BUILD_1}/notes", body={"notes": 3})["statusCode"]
        == 400
    )


def test_revoking_a_build_puts_an_event(world: tuple[Stack, Sent]) -> None:
    stack, sent = world
    assert stack.call("DELETE", f"/apps/{BUNDLE}/builds/{BUILD_1}")["statusCode"] == 200
    assert [t for t, _ in sent.events] == ["Build Revoked"]


def test_admin_routes_need_iam(world: tuple[Stack, Sent]) -> None:
    stack, _ = world
    assert stack.call("GET", "/groups", admin=False)["statusCode"] == 403
    assert stack.call("POST", "/invites", body={}, admin=False)["statusCode"] == 403
