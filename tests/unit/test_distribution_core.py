"""Distribution's pure core: upload metadata, notes, channels in the indexes,
tokens that carry an invite, event shapes, activity, the send-rate bucket."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from ipadrop.adapters.mailer import TokenBucket
from ipadrop.distribution import activity, events
from ipadrop.distribution.metadata import (
    MAX_METADATA_BYTES,
    encode_upload_metadata,
    normalize_email,
    parse_upload_metadata,
    split_recipients,
)
from ipadrop.distribution.notes import Piece, clean_notes, note_lines
from ipadrop.domain import indexes
from ipadrop.domain.model import BuildRecord
from ipadrop.links import tokens
from tests.integration.link_support import make_record

RING = tokens.KeyRing(keys={"k1": b"x" * 32}, current="k1")


def test_metadata_round_trip_keeps_notes_channel_and_notify() -> None:
    notes = "Fixes login 🚀\nSee https://example.com/issue/1, thanks.\n\n\n\nDone"
    metadata = encode_upload_metadata(
        notes=notes, channel="main", notify=["qa", "A@Example.COM", "qa"]
    )
    assert metadata["notes"] == quote(notes, safe="")
    parsed = parse_upload_metadata(metadata)
    assert parsed.notes == "Fixes login 🚀\nSee https://example.com/issue/1, thanks.\n\nDone"
    assert parsed.channel == "main"
    assert parsed.notify == ("qa", "A@example.com")
    assert parsed.warnings == []


def test_absent_metadata_is_the_default_channel_without_notes() -> None:
    parsed = parse_upload_metadata({})
    assert (parsed.notes, parsed.channel, parsed.notify, parsed.warnings) == (
        None,
        "default",
        (),
        [],
    )


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ({"channel": "Main Branch"}, "channel_invalid"),
        ({"channel": "-x"}, "channel_invalid"),
        ({"channel": "a" * 41}, "channel_invalid"),
        ({"notes": "%ff%fe"}, "notes_invalid"),
        ({"notify": "qa,not an address,@x"}, "notify_invalid"),
    ],
)
def test_bad_metadata_is_a_warning_never_an_error(metadata: dict[str, str], code: str) -> None:
    parsed = parse_upload_metadata(metadata)
    assert [w["code"] for w in parsed.warnings] == [code]
    assert parsed.channel == "default" or code != "channel_invalid"


def test_bad_notify_keeps_the_good_entries() -> None:
    parsed = parse_upload_metadata({"notify": "qa, bob@example.com ,x y"})
    assert parsed.notify == ("qa", "bob@example.com")


def test_encoding_refuses_what_s3_cannot_carry() -> None:
    with pytest.raises(ValueError, match="2048 bytes"):
        encode_upload_metadata(notes="é" * 800)
    assert MAX_METADATA_BYTES == 2048
    with pytest.raises(ValueError, match="channel"):
        encode_upload_metadata(channel="Main")
    with pytest.raises(ValueError, match="neither"):
        encode_upload_metadata(notify=["qa", "x y"])


@pytest.mark.parametrize(
    "address",
    ["a@b", "a b@c.example", "a@b..example", "<a@b.example>", "a@b.example\r\nBcc: c@d.example"],
)
def test_addresses_that_are_refused(address: str) -> None:
    assert normalize_email(address) is None


def test_recipients_split_and_dedupe() -> None:
    split = split_recipients(["qa", "Bob@Example.com", "bob@example.COM", "qa", "QA", 3])
    assert split.groups == ("qa",)
    assert split.emails == ("Bob@example.com",)
    assert split.invalid == ("QA", "3")


def test_notes_keep_lines_and_drop_controls_and_bidi() -> None:
    assert clean_notes("a\r\nb\rc\u202e\x00d\x1b[31m") == "a\nb\ncd[31m"
    assert clean_notes("   \n\n ") is None
    assert clean_notes(42) is None


def test_note_lines_link_only_https_urls() -> None:
    lines = note_lines(
        "see https://example.com/a?b=1&c=2). and http://plain.example javascript:alert(1) https://"
    )
    assert lines == [
        [
            Piece("see "),
            Piece("https://example.com/a?b=1&c=2", href="https://example.com/a?b=1&c=2"),
            Piece("). and http://plain.example javascript:alert(1) https://"),
        ]
    ]


def test_latest_follows_each_channel() -> None:
    older = BuildRecord(
        **{
            **_fields(make_record("com.example.a", "20260101T000000Z-aaaaaaaaaa")),
            "channel": "main",
        }
    )
    newer = BuildRecord(
        **{
            **_fields(make_record("com.example.a", "20260102T000000Z-bbbbbbbbbb")),
            "channel": "beta",
        }
    )
    index, _ = indexes.upsert_build(None, older)
    index, _ = indexes.upsert_build(index, newer)
    assert indexes.latest_build_id(index) == newer.build_id
    assert indexes.latest_build_id(index, "main") == older.build_id
    assert indexes.latest_build_id(index, "beta") == newer.build_id
    assert indexes.latest_build_id(index, "nightly") is None
    revoked = indexes.mark_revoked(index, "com.example.a", older.build_id, "2026-01-03T00:00:00Z")
    assert indexes.latest_build_id(revoked, "main") is None
    noted = indexes.set_notes(index, "com.example.a", older.build_id, "new notes")
    assert [e["notes"] for e in noted["builds"]] == [None, "new notes"]


def test_rows_written_before_channels_are_default() -> None:
    index = {
        "schema": 1,
        "bundle_id": "a.b",
        "builds": [{"build_id": "20260101T000000Z-aaaaaaaaaa", "revoked_at": None}],
    }
    assert indexes.latest_build_id(index, "default") == "20260101T000000Z-aaaaaaaaaa"


def test_build_record_round_trips_distribution_fields() -> None:
    record = BuildRecord(
        **{
            **_fields(make_record("com.example.a", "20260101T000000Z-aaaaaaaaaa")),
            "notes": "n",
            "channel": "main",
            "notify": ("qa",),
        }
    )
    assert BuildRecord.from_json(record.to_json()) == record
    legacy = record.to_json()
    for key in ("notes", "channel", "notify"):
        legacy.pop(key)
    assert BuildRecord.from_json(legacy).channel == "default"


def _fields(record: BuildRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]


def test_tokens_carry_invite_channel_and_scope() -> None:
    token = tokens.mint_token(
        RING,
        bundle_id="com.example.app",
        build_id=None,
        not_before=10,
        expires_at=1000,
        channel="main",
        invite_id="0123456789abcdef",
    )
    claims = tokens.verify_token(RING, token, now=20)
    assert (claims.channel, claims.invite_id, claims.scope, claims.build_id) == (
        "main",
        "0123456789abcdef",
        "install",
        None,
    )
    plain = tokens.verify_token(
        RING,
        tokens.mint_token(RING, bundle_id="a.b", build_id=None, not_before=0, expires_at=9),
        now=1,
    )
    assert (plain.channel, plain.invite_id, plain.scope) == (None, None, "install")


def test_enrollment_token_may_name_no_app() -> None:
    token = tokens.mint_token(
        RING, bundle_id=None, build_id=None, not_before=0, expires_at=9, scope="enroll"
    )
    claims = tokens.verify_token(RING, token, now=1)
    assert claims.scope == "enroll"
    assert claims.names_no_bundle
    assert not claims.names_bundle("a.b")
    with pytest.raises(ValueError, match="enrollment"):
        tokens.mint_token(RING, bundle_id=None, build_id=None, not_before=0, expires_at=9)


def test_longest_token_stays_under_the_bound() -> None:
    ring = tokens.KeyRing(keys={"k" * 16: b"x" * 32}, current="k" * 16)
    token = tokens.mint_token(
        ring,
        bundle_id="a." + "b" * 62,
        build_id=None,
        not_before=0,
        expires_at=2**32 - 1,
        channel="c" * 40,
        invite_id="f" * 16,
    )
    assert len(token) <= tokens.MAX_TOKEN_LENGTH < 200
    assert tokens.read_token(ring, token).channel == "c" * 40


@pytest.mark.parametrize(
    "kwargs",
    [
        {"channel": "Main"},
        {"channel": "main", "build_id": "20260101T000000Z-aaaaaaaaaa"},
        {"invite_id": "XYZ"},
        {"scope": "admin"},
    ],
)
def test_tokens_refuse_what_they_cannot_carry(kwargs: dict[str, str]) -> None:
    args: dict[str, object] = {
        "bundle_id": "a.b",
        "build_id": None,
        "not_before": 0,
        "expires_at": 9,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match="invalid"):
        tokens.mint_token(RING, **args)  # type: ignore[arg-type]


def test_event_shapes_carry_ids_not_tokens() -> None:
    record = make_record("com.example.a", "20260101T000000Z-aaaaaaaaaa")
    event = events.build_published(record, invited=3)
    assert event.detail_type == "Build Published"
    assert event.detail["invited"] == 3
    assert event.detail["channel"] == "default"
    revoked = events.invite_revoked({"invite_id": "ab", "email": "a@b.example", "token": "secret"})
    assert "token" not in revoked.detail
    assert set(events.DETAIL_TYPES) == {
        "Build Published",
        "Upload Rejected",
        "Build Revoked",
        "Invite Revoked",
    }


def test_activity_lists_newest_first_and_summarises() -> None:
    a = activity.new_event("page_opened", at=100, invite_id="i1", email="a@b.example")
    b = activity.new_event("install_started", at=200, invite_id="i1", email="a@b.example")
    c = activity.new_event("page_opened", at=150, invite_id="i2", email="c@d.example")
    view = activity.activity_view([a, b, c])
    assert [row["type"] for row in view] == ["install_started", "page_opened", "page_opened"]
    assert activity.summary([a, b, c]) == {
        "page_opened": ["a@b.example", "c@d.example"],
        "install_started": ["a@b.example"],
        "download_finished": [],
    }
    assert a["ttl"] > 100
    assert activity.derived_event_id("x", "y") == activity.derived_event_id("x", "y")


def test_token_bucket_paces_to_the_rate() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(40):
        bucket.acquire()
    # 10 at once (the burst), then 30 more at 10 a second.
    assert now[0] == pytest.approx(3.0, abs=0.01)
    assert len(waits) == 30
