"""Custom domain in a region other than us-east-1: a certificate stack in us-east-1
(cross-region reference), alias records, TLS 1.2 (2021), alarm e-mail."""

from __future__ import annotations

import pytest

from tests.infra.conftest import (
    ZONE_ID,
    Synth,
    cfn_lint,
    functions_by_handler,
    hosted_zone_lookup,
    synth,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra-domain")]

DOMAIN = "apps.example.com"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    context = {
        "domain_name": DOMAIN,
        "hosted_zone_name": "example.com",
        "alarm_email": "ops@example.com",
        "retain_builds": 5,
        "keep_uploads": True,
        "link_ttl_max_seconds": 172800,
        **hosted_zone_lookup("example.com", "eu-west-1"),
        **hosted_zone_lookup("example.com", "us-east-1"),
    }
    return synth(tmp_path_factory.mktemp("synth-domain"), context=context, region="eu-west-1")


def test_two_stacks_certificate_in_us_east_1(synthesized: Synth) -> None:
    assert set(synthesized.templates) == {"Ipadrop", "IpadropCertificate"}
    (certificate,) = synthesized.resources(
        "AWS::CertificateManager::Certificate", "IpadropCertificate"
    ).values()
    properties = certificate["Properties"]
    assert properties["DomainName"] == DOMAIN
    assert properties["ValidationMethod"] == "DNS"
    assert properties["DomainValidationOptions"] == [
        {"DomainName": DOMAIN, "HostedZoneId": ZONE_ID}
    ]
    assert synthesized.resources("AWS::CertificateManager::Certificate") == {}


def test_distribution_uses_the_domain_with_modern_tls(synthesized: Synth) -> None:
    (distribution,) = synthesized.resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["Aliases"] == [DOMAIN]
    certificate = config["ViewerCertificate"]
    assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert certificate["SslSupportMethod"] == "sni-only"
    reference = certificate["AcmCertificateArn"]["Fn::GetStackOutput"]
    assert reference["Region"] == "us-east-1"
    assert reference["StackName"] == "Ipadrop-certificate"
    assert config["HttpVersion"] == "http2and3"


def test_alias_records_point_at_the_distribution(synthesized: Synth) -> None:
    (distribution_id,) = synthesized.resources("AWS::CloudFront::Distribution")
    # The three CNAMEs are the SES domain identity's DKIM records (infra/people.py).
    everything = synthesized.resources("AWS::Route53::RecordSet").values()
    assert sorted(r["Properties"]["Type"] for r in everything) == [
        "A",
        "AAAA",
        "CNAME",
        "CNAME",
        "CNAME",
    ]
    records = [r for r in everything if r["Properties"]["Type"] in ("A", "AAAA")]
    for record in records:
        assert record["Properties"]["Name"] == f"{DOMAIN}."
        assert record["Properties"]["HostedZoneId"] == ZONE_ID
        assert record["Properties"]["AliasTarget"]["DNSName"] == {
            "Fn::GetAtt": [distribution_id, "DomainName"]
        }


def test_functions_get_the_domain_url_directly(synthesized: Synth) -> None:
    functions = functions_by_handler(synthesized)
    link = functions["ipadrop.handlers.link.handler"]["Environment"]["Variables"]
    processor = functions["ipadrop.handlers.processor.handler"]["Environment"]["Variables"]
    assert link["IPADROP_DISTRIBUTION_URL"] == f"https://{DOMAIN}"
    assert "IPADROP_DISTRIBUTION_URL_PARAMETER" not in link
    assert link["IPADROP_LINK_TTL_MAX_SECONDS"] == "172800"
    assert processor["IPADROP_DISTRIBUTION_URL"] == f"https://{DOMAIN}"
    assert processor["IPADROP_RETAIN_BUILDS"] == "5"
    assert processor["IPADROP_KEEP_UPLOADS"] == "true"
    assert synthesized.resources("AWS::SSM::Parameter") == {}


def test_alarms_notify_the_email_topic(synthesized: Synth) -> None:
    (topic_id,) = synthesized.resources("AWS::SNS::Topic")
    (subscription,) = synthesized.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    alarms = synthesized.resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 2
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    (topic_policy,) = synthesized.resources("AWS::SNS::TopicPolicy").values()
    statements = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_outputs_report_the_domain(synthesized: Synth) -> None:
    outputs = synthesized.templates["Ipadrop"]["Outputs"]
    assert outputs["DistributionUrl"]["Value"] == f"https://{DOMAIN}"


def test_cfn_lint_is_clean_on_both_templates(synthesized: Synth) -> None:
    paths = sorted(synthesized.outdir.glob("*.template.json"))
    assert len(paths) == 2
    result = cfn_lint(paths)
    assert result.returncode == 0, result.stdout + result.stderr
