"""Public mode with an existing certificate: no signing keys, builds/* unsigned,
no DNS records (the zone is managed elsewhere)."""

from __future__ import annotations

import pytest

from tests.infra.conftest import Synth, cfn_lint, functions_by_handler, synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra-public")]

CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    context = {
        "public_mode": True,
        "domain_name": "apps.example.org",
        "certificate_arn": CERTIFICATE_ARN,
        "stack_name": "IpadropPublic",
        "contact": "the mobile team",
    }
    return synth(tmp_path_factory.mktemp("synth-public"), context=context)


def test_stack_name_comes_from_context(synthesized: Synth) -> None:
    assert set(synthesized.templates) == {"IpadropPublic"}


def test_no_signing_keys_and_no_trusted_key_groups(synthesized: Synth) -> None:
    stack = "IpadropPublic"
    for type_name in (
        "AWS::SecretsManager::Secret",
        "AWS::CloudFront::PublicKey",
        "AWS::CloudFront::KeyGroup",
        "Custom::CloudFrontKeyPair",
    ):
        assert synthesized.resources(type_name, stack) == {}, type_name
    (distribution,) = synthesized.resources("AWS::CloudFront::Distribution", stack).values()
    config = distribution["Properties"]["DistributionConfig"]
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert "TrustedKeyGroups" not in behavior
    assert config["ViewerCertificate"]["AcmCertificateArn"] == CERTIFICATE_ARN
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert synthesized.resources("AWS::Route53::RecordSet", stack) == {}


def test_link_function_runs_in_public_mode(synthesized: Synth) -> None:
    functions = functions_by_handler(synthesized, "IpadropPublic")
    assert set(functions) == {
        "ipadrop.handlers.processor.handler",
        "ipadrop.handlers.link.handler",
        "ipadrop.handlers.access_logs.handler",
    }
    variables = functions["ipadrop.handlers.link.handler"]["Environment"]["Variables"]
    assert variables["IPADROP_PUBLIC_MODE"] == "true"
    assert variables["IPADROP_CONTACT"] == "the mobile team"
    assert variables["IPADROP_DISTRIBUTION_URL"] == "https://apps.example.org"
    assert not {"IPADROP_TOKEN_SECRET_ID", "IPADROP_CLOUDFRONT_KEY_PAIR_ID"} & set(variables)


def test_cfn_lint_is_clean(synthesized: Synth) -> None:
    result = cfn_lint(sorted(synthesized.outdir.glob("*.template.json")))
    assert result.returncode == 0, result.stdout + result.stderr
