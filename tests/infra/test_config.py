"""Context validation: clear one-sentence errors, defaults when nothing is set."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, IpadropConfig
from tests.infra.conftest import run_app

pytestmark = pytest.mark.infra


def parse(**context: Any) -> IpadropConfig:
    return IpadropConfig.from_context(context.get)


def test_defaults_without_context() -> None:
    config = parse()
    assert config == IpadropConfig()
    assert config.stack_name == "Ipadrop"
    assert (config.link_ttl_min_seconds, config.link_ttl_default_seconds) == (60, 86400)
    assert config.link_ttl_max_seconds == 604800
    assert not config.public_mode
    assert not config.has_custom_domain


def test_values_from_strings_like_cli_context() -> None:
    config = parse(
        domain_name="Apps.Example.com.",
        hosted_zone_name="example.com",
        public_mode="true",
        retain_builds="3",
        keep_uploads="no",
        link_ttl_default_seconds="3600",
    )
    assert config.domain_name == "apps.example.com"
    assert config.public_mode is True
    assert config.retain_builds == 3
    assert config.keep_uploads is False
    assert config.link_ttl_default_seconds == 3600
    assert config.needs_certificate_stack


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"domain_name": "apps.example.com"}, "needs hosted_zone_name"),
        ({"hosted_zone_name": "example.com"}, "need domain_name"),
        ({"domain_name": "apps.other.com", "hosted_zone_name": "example.com"}, "not inside"),
        ({"domain_name": "not a domain"}, "domain_name must be a DNS name"),
        ({"link_ttl_min_seconds": "soon"}, "link_ttl_min_seconds must be a whole number"),
        ({"link_ttl_min_seconds": 0}, "must be at least 1"),
        ({"link_ttl_default_seconds": 30}, "link_ttl_min_seconds <= link_ttl_default_seconds"),
        ({"public_mode": "maybe"}, "public_mode must be true or false"),
        ({"retain_builds": -1}, "retain_builds must be at least 0"),
        ({"alarm_email": "ops"}, "alarm_email must be an e-mail address"),
        (
            {"domain_name": "a.example.com", "certificate_arn": "arn:aws:acm:eu-west-1:1:x"},
            "certificate_arn must be an ACM certificate ARN in us-east-1",
        ),
        ({"stack_name": "1bad name"}, "stack_name must be a CloudFormation stack name"),
    ],
)
def test_bad_context_is_refused_with_a_clear_message(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        IpadropConfig.from_context(context.get)


def test_app_prints_one_line_error_without_traceback(tmp_path: Any) -> None:
    completed = run_app(tmp_path, context={"link_ttl_max_seconds": "a week"})
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    error_lines = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert error_lines == [
        "error: context link_ttl_max_seconds must be a whole number, not 'a week'"
    ]


def test_custom_domain_without_account_is_a_clear_error(tmp_path: Any) -> None:
    completed = run_app(
        tmp_path, context={"domain_name": "apps.example.com", "hosted_zone_name": "example.com"}
    )
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert "a custom domain needs a concrete account and region" in completed.stderr


def test_distribution_context_keys() -> None:
    config = parse(sender_email="builds@example.com", notify_email="team@example.com")
    assert (config.sender_email, config.notify_email, config.ses_max_send_rate) == (
        "builds@example.com",
        "team@example.com",
        14,
    )
    assert parse(ses_max_send_rate="50").ses_max_send_rate == 50


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"sender_email": "not an address"}, "context sender_email must be an e-mail address"),
        ({"notify_email": "a@b\nc"}, "context notify_email must be an e-mail address"),
        ({"ses_max_send_rate": "0"}, "ses_max_send_rate must be at least 1"),
    ],
)
def test_bad_distribution_context(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(**context)
