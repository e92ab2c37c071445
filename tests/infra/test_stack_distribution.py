"""Distribution's resources in the synthesized template: the people table, the
SES identity and configuration set, events, the access-log function, the grants;
cdk-nag clean (the synth fails on any unacknowledged finding) and cfn-lint."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infra.conftest import (
    Synth,
    as_list,
    cfn_lint,
    functions_by_handler,
    hosted_zone_lookup,
    logical_id_of_function,
    role_statements,
    synth,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra-distribution")]

LINK = "ipadrop.handlers.link.handler"
PROCESSOR = "ipadrop.handlers.processor.handler"
ACCESS_LOGS = "ipadrop.handlers.access_logs.handler"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    context = {"sender_email": "builds@example.com", "notify_email": "team@example.com"}
    return synth(tmp_path_factory.mktemp("synth-distribution"), context=context)


@pytest.fixture(scope="module")
def with_domain(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    context = {
        "domain_name": "apps.example.com",
        "hosted_zone_name": "example.com",
        **hosted_zone_lookup("example.com", "us-east-1"),
    }
    return synth(tmp_path_factory.mktemp("synth-dist-domain"), context=context, region="us-east-1")


def test_people_table_is_on_demand_recoverable_encrypted_with_ttl(synthesized: Synth) -> None:
    synthesized.template().has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "SSESpecification": {"SSEEnabled": True},
                "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            },
            "DeletionPolicy": "Retain",
        },
    )


def test_sender_identity_and_configuration_set(synthesized: Synth) -> None:
    template = synthesized.template()
    template.has_resource_properties(
        "AWS::SES::EmailIdentity", {"EmailIdentity": "builds@example.com"}
    )
    template.has_resource_properties(
        "AWS::SES::ConfigurationSet",
        {"SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}},
    )


def test_functions_get_the_distribution_environment(synthesized: Synth) -> None:
    functions = functions_by_handler(synthesized)
    for handler in (LINK, PROCESSOR):
        variables = functions[handler]["Environment"]["Variables"]
        assert variables["IPADROP_SENDER_EMAIL"] == "builds@example.com"
        assert variables["IPADROP_EVENT_BUS"] == "default"
        assert "IPADROP_TABLE" in variables
        assert "IPADROP_SES_CONFIGURATION_SET" in variables
    processor = functions[PROCESSOR]["Environment"]["Variables"]
    assert "IPADROP_TOKEN_SECRET_ID" in processor  # mints invite links for notify


def _actions(synthesized: Synth, handler: str) -> set[str]:
    statements = role_statements(synthesized, logical_id_of_function(synthesized, handler))
    return {action for statement in statements for action in as_list(statement["Action"])}


def test_grants_are_least_privilege(synthesized: Synth) -> None:
    link = _actions(synthesized, LINK)
    assert {"ses:SendEmail", "ses:SendRawEmail", "events:PutEvents", "dynamodb:PutItem"} <= link
    assert "dynamodb:*" not in link
    assert "ses:*" not in link
    access_logs = _actions(synthesized, ACCESS_LOGS)
    assert "ses:SendEmail" not in access_logs
    assert "events:PutEvents" not in access_logs
    for statement in role_statements(synthesized, logical_id_of_function(synthesized, LINK)):
        if "ses:SendEmail" in as_list(statement["Action"]):
            assert statement["Resource"] != "*"


def test_log_bucket_notifies_the_access_log_function(synthesized: Synth) -> None:
    synthesized.template().has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Filter": {
                                    "Key": {
                                        "FilterRules": [{"Name": "prefix", "Value": "cloudfront/"}]
                                    }
                                }
                            }
                        )
                    ]
                )
            }
        },
    )


def test_notify_email_subscribes_to_ipadrop_events(synthesized: Synth) -> None:
    template = synthesized.template()
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": {"source": ["ipadrop"]}})
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "team@example.com"}
    )


def test_domain_identity_writes_dkim_into_the_zone(with_domain: Synth) -> None:
    template = with_domain.template()
    template.has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": "example.com"})
    records: dict[str, Any] = with_domain.resources("AWS::Route53::RecordSet")
    cnames = [r for r in records.values() if r["Properties"]["Type"] == "CNAME"]
    assert len(cnames) == 3  # Easy DKIM's three CNAME records
    variables = functions_by_handler(with_domain)[LINK]["Environment"]["Variables"]
    assert variables["IPADROP_SENDER_EMAIL"] == "no-reply@example.com"


def test_cfn_lint_is_clean(synthesized: Synth, with_domain: Synth) -> None:
    paths = [
        *synthesized.outdir.glob("*.template.json"),
        *with_domain.outdir.glob("*.template.json"),
    ]
    completed = cfn_lint(paths)
    assert completed.returncode == 0, completed.stdout + completed.stderr
