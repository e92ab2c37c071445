"""The contracts every part relies on: ids that become keys, build ids, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ipadrop.domain import bucket_keys
from ipadrop.domain.build_ids import make_build_id
from ipadrop.domain.model import AppFacts, BuildRecord, IconInfo, ProfileInfo
from ipadrop.settings import LinkSettings, ProcessorSettings, SettingsError


@pytest.mark.parametrize(
    "bundle_id",
    ["com.example.app", "A-b.C9", "x", "com.example.my-app.widget"],
)
def test_apple_bundle_ids_are_accepted(bundle_id: str) -> None:
    assert bucket_keys.is_valid_bundle_id(bundle_id)


@pytest.mark.parametrize(
    "bundle_id",
    [
        "",
        "..",
        "com..example",
        ".com.example",
        "com.example.",
        "com/example",
        "com.example/../x",
        "com.ex ample",
        "com.exam_ple",
        "com.exаmple",  # Cyrillic a
        "com%2Fexample",
        "a" * 156,
    ],
)
def test_bundle_ids_that_could_steer_keys_are_refused(bundle_id: str) -> None:
    assert not bucket_keys.is_valid_bundle_id(bundle_id)
    with pytest.raises(ValueError, match="invalid bundle id"):
        bucket_keys.app_prefix(bundle_id)


def test_keys_are_built_inside_the_app_prefix() -> None:
    build_id = "20261124T002616Z-0123456789"
    assert (
        bucket_keys.build_file_key("com.example.app", build_id, bucket_keys.IPA_NAME)
        == "builds/com.example.app/20261124T002616Z-0123456789/app.ipa"
    )
    assert bucket_keys.app_index_key("com.example.app") == "builds/com.example.app/index.json"
    with pytest.raises(ValueError, match="not a build file"):
        bucket_keys.build_file_key("com.example.app", build_id, "../index.json")
    with pytest.raises(ValueError, match="invalid build id"):
        bucket_keys.build_prefix("com.example.app", "../../x")


def test_result_key_mirrors_the_upload_key() -> None:
    assert bucket_keys.result_key("uploads/ci/My App.ipa") == "results/uploads/ci/My App.ipa.json"
    with pytest.raises(ValueError, match="not an upload key"):
        bucket_keys.result_key("builds/x/app.ipa")


def test_result_key_stays_within_the_s3_key_limit() -> None:
    near_limit = "uploads/" + "é" * 505  # 1018 bytes: the plain result key would be 1031
    key = bucket_keys.result_key(near_limit)
    assert len(key.encode()) <= 1024
    assert key.startswith("results/uploads/éé")
    assert key.endswith(".json")
    assert bucket_keys.result_key(near_limit + "x") != key  # still one result per upload
    short = "uploads/" + "a" * 1000  # the plain result key (1021 bytes) fits as it is
    assert bucket_keys.result_key(short) == f"results/{short}.json"


def test_build_ids_sort_by_time_and_are_stable_per_event() -> None:
    t0 = datetime(2026, 11, 24, 0, 26, 16, tzinfo=UTC)
    first = make_build_id(uploaded_at=t0, bucket="b", key="uploads/a.ipa", upload_marker="0055")
    again = make_build_id(uploaded_at=t0, bucket="b", key="uploads/a.ipa", upload_marker="0055")
    reupload = make_build_id(uploaded_at=t0, bucket="b", key="uploads/a.ipa", upload_marker="0066")
    later = make_build_id(
        uploaded_at=t0 + timedelta(seconds=1), bucket="b", key="uploads/a.ipa", upload_marker="1"
    )
    assert first == again
    assert first != reupload
    assert sorted([later, first]) == [first, later]
    assert first.startswith("20261124T002616Z-")
    assert bucket_keys.is_valid_build_id(first)
    # Any timezone is normalised to UTC.
    plus_one = t0.astimezone(timezone(timedelta(hours=1)))
    assert (
        make_build_id(uploaded_at=plus_one, bucket="b", key="uploads/a.ipa", upload_marker="0055")
        == first
    )


def test_build_record_round_trips_through_json() -> None:
    facts = AppFacts(
        bundle_id="com.example.app",
        version="1.2",
        build="42",
        title="Example",
        minimum_os_version="15.0",
        device_family=["iphone", "ipad"],
        size_bytes=1234,
        icon=IconInfo(source="Payload/X.app/AppIcon60x60@3x.png", width=180, height=180),
        profile=ProfileInfo(
            name="p",
            uuid="u",
            team_id="T",
            team_name="Team",
            expires_at="2027-01-01T00:00:00Z",
            distribution="ad-hoc",
            device_count=3,
            certificates_expire_at=["2027-06-01T00:00:00Z"],
        ),
    )
    record = BuildRecord(
        bundle_id="com.example.app",
        build_id="20261124T002616Z-0123456789",
        facts=facts,
        upload_key="uploads/x.ipa",
        uploader="AWS:AIDA",
        uploaded_at="2026-11-24T00:26:16Z",
        published_at="2026-11-24T00:26:17Z",
        has_icon=True,
    )
    data = record.to_json()
    assert data["version"] == "1.2"
    assert data["profile"]["distribution"] == "ad-hoc"
    # DESIGN's inspect contract: exactly these profile keys; certificates beside it.
    assert set(data["profile"]) == {
        "name",
        "uuid",
        "team_id",
        "team_name",
        "expires_at",
        "distribution",
        "device_count",
    }
    assert data["certificates_expire_at"] == ["2027-06-01T00:00:00Z"]
    legacy = {**data, "profile": {**data["profile"], "certificates_expire_at": ["x"]}}
    del legacy["certificates_expire_at"]
    legacy_profile = BuildRecord.from_json(legacy).facts.profile
    assert legacy_profile is not None
    assert legacy_profile.certificates_expire_at == ["x"]
    assert BuildRecord.from_json(data) == record


def test_processor_settings_are_validated() -> None:
    env = {"IPADROP_BUCKET": "b", "IPADROP_DISTRIBUTION_URL": "https://d.example.net/"}
    settings = ProcessorSettings.from_env(env)
    assert settings.distribution_url == "https://d.example.net"
    assert settings.retain_builds == 0
    assert settings.keep_uploads is False
    with pytest.raises(SettingsError, match="IPADROP_KEEP_UPLOADS"):
        ProcessorSettings.from_env({**env, "IPADROP_KEEP_UPLOADS": "maybe"})
    with pytest.raises(SettingsError, match="IPADROP_RETAIN_BUILDS"):
        ProcessorSettings.from_env({**env, "IPADROP_RETAIN_BUILDS": "-1"})
    with pytest.raises(SettingsError, match="https://"):
        ProcessorSettings.from_env({**env, "IPADROP_DISTRIBUTION_URL": "ftp://x"})
    with pytest.raises(SettingsError, match="query"):
        ProcessorSettings.from_env({**env, "IPADROP_DISTRIBUTION_URL": "https://d.example.net/?"})
    # Only the link function reads the URL from SSM (infra gives the processor the URL).
    with pytest.raises(SettingsError, match="IPADROP_DISTRIBUTION_URL is not set"):
        ProcessorSettings.from_env(
            {"IPADROP_BUCKET": "b", "IPADROP_DISTRIBUTION_URL_PARAMETER": "/ipadrop/url"}
        )


def test_link_settings_bounds() -> None:
    env = {
        "IPADROP_BUCKET": "b",
        "IPADROP_DISTRIBUTION_URL": "https://d.example.net",
        "IPADROP_TOKEN_SECRET_ID": "tok",
    }
    settings = LinkSettings.from_env(env)
    assert (settings.ttl_min_seconds, settings.ttl_default_seconds, settings.ttl_max_seconds) == (
        60,
        86400,
        604800,
    )
    with pytest.raises(SettingsError, match="TTL"):
        LinkSettings.from_env({**env, "IPADROP_LINK_TTL_MAX_SECONDS": "30"})
    with pytest.raises(SettingsError, match="IPADROP_TOKEN_SECRET_ID"):
        LinkSettings.from_env({k: v for k, v in env.items() if k != "IPADROP_TOKEN_SECRET_ID"})
