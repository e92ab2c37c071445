"""The stack with no context at all (serves on *.cloudfront.net, signed mode)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from ipadrop.settings import DISTRIBUTION_ADMIN_ROUTES
from tests.infra.conftest import (
    Synth,
    as_list,
    cfn_lint,
    functions_by_handler,
    logical_id_of_function,
    role_statements,
    synth,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra-default")]

PROCESSOR = "ipadrop.handlers.processor.handler"
LINK = "ipadrop.handlers.link.handler"
PUBLIC = "ipadrop.handlers.link_public.handler"
KEYPAIR = "ipadrop.handlers.keypair.handler"
ACCESS_LOGS = "ipadrop.handlers.access_logs.handler"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth(tmp_path_factory.mktemp("synth-default"))


def _bucket_ids(synthesized: Synth) -> tuple[str, str]:
    """(artefact bucket, log bucket) logical ids, told apart by their properties."""
    buckets = synthesized.resources("AWS::S3::Bucket")
    artefact = [k for k, v in buckets.items() if "LoggingConfiguration" in v["Properties"]]
    logs = [k for k in buckets if k not in artefact]
    assert len(artefact) == 1
    assert len(logs) == 1
    return artefact[0], logs[0]


def _arn_text(resource: Any) -> str:
    """``{"Fn::Join": ["", [{"Fn::GetAtt": [B, "Arn"]}, "/builds/*"]]}`` -> ``<B>/builds/*``."""
    if isinstance(resource, str):
        return resource
    if "Fn::GetAtt" in resource:
        return f"<{resource['Fn::GetAtt'][0]}>"
    if "Ref" in resource:
        return f"<{resource['Ref']}>"
    if "Fn::Join" in resource:
        return "".join(_arn_text(part) for part in resource["Fn::Join"][1])
    return json.dumps(resource)


def _s3_grants(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """action -> object/bucket resources it is allowed on."""
    grants: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            if action.startswith("s3:"):
                grants.setdefault(action, set()).update(
                    _arn_text(r) for r in as_list(statement["Resource"])
                )
    return grants


# --- storage -----------------------------------------------------------------


def test_buckets_block_public_access_and_encrypt(synthesized: Synth) -> None:
    template = synthesized.template()
    template.resource_count_is("AWS::S3::Bucket", 2)
    template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        },
    )


def test_both_buckets_deny_requests_without_tls(synthesized: Synth) -> None:
    policies = synthesized.resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
        }.items() <= next(s for s in statements if s["Effect"] == "Deny").items()


def test_bucket_is_versioned_with_lifecycle_and_access_logs(synthesized: Synth) -> None:
    bucket_id, log_bucket_id = _bucket_ids(synthesized)
    properties = synthesized.templates["Ipadrop"]["Resources"][bucket_id]["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": log_bucket_id},
        "LogFilePrefix": "s3-access/",
    }
    rules = {rule["Id"]: rule for rule in properties["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-uploads"]["Prefix"] == "uploads/"
    assert rules["expire-uploads"]["ExpirationInDays"] == 30
    assert rules["expire-results"]["Prefix"] == "results/"
    assert rules["expire-results"]["ExpirationInDays"] == 90
    old_versions = rules["expire-old-versions"]
    assert old_versions["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert old_versions["ExpiredObjectDeleteMarker"] is True
    assert "Prefix" not in old_versions  # applies to the whole bucket


def test_cloudfront_may_read_builds_and_nothing_else(synthesized: Synth) -> None:
    bucket_id, _ = _bucket_ids(synthesized)
    policy = next(
        p
        for p in synthesized.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    allows = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert _arn_text(allow["Resource"]) == f"<{bucket_id}>/builds/*"
    assert "AWS:SourceArn" in allow["Condition"]["StringEquals"]


# --- CloudFront ----------------------------------------------------------------


def _distribution_config(synthesized: Synth) -> dict[str, Any]:
    (distribution,) = synthesized.resources("AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
    return config


def test_distribution_protocols_and_logging(synthesized: Synth) -> None:
    config = _distribution_config(synthesized)
    _, log_bucket_id = _bucket_ids(synthesized)
    assert config["HttpVersion"] == "http2and3"
    assert config["IPV6Enabled"] is True
    assert config["PriceClass"] == "PriceClass_100"
    assert config["Logging"] == {
        "Bucket": {"Fn::GetAtt": [log_bucket_id, "RegionalDomainName"]},
        "Prefix": "cloudfront/",
    }
    assert "Aliases" not in config
    assert "ViewerCertificate" not in config  # the *.cloudfront.net certificate


def test_builds_are_signed_s3_and_pages_go_to_the_api(synthesized: Synth) -> None:
    config = _distribution_config(synthesized)
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviors) == {"builds/*", "i/*", "m/*", "d/*"}
    (key_group_id,) = synthesized.resources("AWS::CloudFront::KeyGroup")

    for behavior in (behaviors["builds/*"], config["DefaultCacheBehavior"]):
        origin = origins[behavior["TargetOriginId"]]
        assert "OriginAccessControlId" in origin
        assert behavior["TrustedKeyGroups"] == [{"Ref": key_group_id}]
        assert behavior["ViewerProtocolPolicy"] == "https-only"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]

    assert behaviors["i/*"]["AllowedMethods"] == ["GET", "HEAD"]
    # iOS POSTs its signed device answer to /d/<token>/enroll.
    assert "POST" in behaviors["d/*"]["AllowedMethods"]
    for pattern in ("i/*", "m/*", "d/*"):
        behavior = behaviors[pattern]
        origin = origins[behavior["TargetOriginId"]]
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        assert ".execute-api." in _arn_text(origin["DomainName"])
        assert behavior["CachePolicyId"] == CACHING_DISABLED
        assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        assert "TrustedKeyGroups" not in behavior
        assert behavior["ViewerProtocolPolicy"] == "https-only"


def test_builds_cache_key_ignores_signature_query_strings(synthesized: Synth) -> None:
    config = _distribution_config(synthesized)
    builds = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "builds/*")
    policies = synthesized.resources("AWS::CloudFront::CachePolicy")
    policy = policies[builds["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]
    keys = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert keys["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    assert keys["CookiesConfig"] == {"CookieBehavior": "none"}
    assert keys["HeadersConfig"] == {"HeaderBehavior": "none"}


def test_response_headers_policy_matches_the_install_page(synthesized: Synth) -> None:
    from ipadrop.render.page import content_security_policy

    config = _distribution_config(synthesized)
    (policy_id,) = synthesized.resources("AWS::CloudFront::ResponseHeadersPolicy")
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": policy_id} for b in behaviors)
    synthesized.template().has_resource_properties(
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": {
                "SecurityHeadersConfig": {
                    "StrictTransportSecurity": Match.object_like(
                        {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True}
                    ),
                    "ContentTypeOptions": {"Override": True},
                    "FrameOptions": {"FrameOption": "DENY", "Override": True},
                    "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
                    "ContentSecurityPolicy": {
                        "ContentSecurityPolicy": content_security_policy(),
                        "Override": True,
                    },
                }
            }
        },
    )


# --- functions -----------------------------------------------------------------


def test_every_function_has_the_factory_defaults(synthesized: Synth) -> None:
    functions = functions_by_handler(synthesized)
    assert set(functions) == {PROCESSOR, LINK, PUBLIC, KEYPAIR, ACCESS_LOGS}
    log_groups = synthesized.resources("AWS::Logs::LogGroup")
    for handler, properties in functions.items():
        assert properties["Architectures"] == ["arm64"], handler
        assert properties["Runtime"] == "python3.13", handler
        assert properties["TracingConfig"] == {"Mode": "Active"}, handler
        assert properties["RecursiveLoop"] == "Terminate", handler
        (layer,) = properties["Layers"]
        # The layer ARN is the value of the release's public SSM parameter.
        parameter = synthesized.templates["Ipadrop"]["Parameters"][layer["Ref"]]
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
        assert parameter["Default"].startswith("/aws/service/powertools/python/arm64/python3.13/")
        logging = properties["LoggingConfig"]
        assert logging["LogFormat"] == "JSON"
        group = log_groups[logging["LogGroup"]["Ref"]]["Properties"]
        assert group["RetentionInDays"] == 30
        variables = properties["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"].startswith("ipadrop-")


def test_environment_uses_only_names_from_settings(synthesized: Synth) -> None:
    settings_doc = (
        Path(__file__).resolve().parents[2] / "lambdas" / "ipadrop" / "settings.py"
    ).read_text()
    known = set(re.findall(r"\bIPADROP_[A-Z_]+\b", settings_doc))
    for handler, properties in functions_by_handler(synthesized).items():
        names = {n for n in properties["Environment"]["Variables"] if n.startswith("IPADROP_")}
        assert names <= known, (handler, names - known)


def test_link_function_environment(synthesized: Synth) -> None:
    variables = functions_by_handler(synthesized)[LINK]["Environment"]["Variables"]
    secrets = synthesized.resources("AWS::SecretsManager::Secret")
    assert variables["IPADROP_DISTRIBUTION_URL_PARAMETER"] == "/ipadrop/Ipadrop/distribution-url"
    assert "IPADROP_DISTRIBUTION_URL" not in variables  # would close the dependency cycle
    assert variables["IPADROP_TOKEN_SECRET_ID"]["Ref"] in secrets
    assert variables["IPADROP_CLOUDFRONT_KEY_SECRET_ID"]["Ref"] in secrets
    assert variables["IPADROP_TOKEN_SECRET_ID"] != variables["IPADROP_CLOUDFRONT_KEY_SECRET_ID"]
    # The key-pair id lives in the secret beside its key (a rotation must not
    # pair a new key with an old id): never in the environment.
    assert "IPADROP_CLOUDFRONT_KEY_PAIR_ID" not in variables
    assert variables["IPADROP_ASSET_URL_TTL_SECONDS"] == "3600"
    assert variables["IPADROP_LINK_TTL_MIN_SECONDS"] == "60"
    assert variables["IPADROP_LINK_TTL_MAX_SECONDS"] == "604800"
    assert variables["IPADROP_LINK_TTL_DEFAULT_SECONDS"] == "86400"
    assert variables["IPADROP_PUBLIC_MODE"] == "false"

    (parameter,) = synthesized.resources("AWS::SSM::Parameter").values()
    assert parameter["Properties"]["Name"] == "/ipadrop/Ipadrop/distribution-url"
    (distribution_id,) = synthesized.resources("AWS::CloudFront::Distribution")
    assert parameter["Properties"]["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]
    }


def test_processor_trigger_retries_and_dead_letter_queue(synthesized: Synth) -> None:
    processor_id = logical_id_of_function(synthesized, PROCESSOR)
    # Two notification resources: the artefact bucket (processor) and the log
    # bucket (access-log function, infra/people.py).
    (configuration,) = [
        config
        for notifications in synthesized.resources("Custom::S3BucketNotifications").values()
        for config in notifications["Properties"]["NotificationConfiguration"][
            "LambdaFunctionConfigurations"
        ]
        if config["LambdaFunctionArn"] == {"Fn::GetAtt": [processor_id, "Arn"]}
    ]
    assert configuration["Events"] == ["s3:ObjectCreated:*"]
    assert configuration["LambdaFunctionArn"] == {"Fn::GetAtt": [processor_id, "Arn"]}
    rules = configuration["Filter"]["Key"]["FilterRules"]
    # No suffix rule: S3 matches suffixes case-sensitively, so ".ipa" would never
    # fire for App.IPA; the processor filters on the extension in any case.
    assert {(r["Name"].lower(), r["Value"]) for r in rules} == {("prefix", "uploads/")}

    (queue_id, queue) = next(iter(synthesized.resources("AWS::SQS::Queue").items()))
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    (invoke_config,) = [
        config
        for config in synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"]["FunctionName"] == {"Ref": processor_id}
    ]
    assert invoke_config["Properties"]["MaximumRetryAttempts"] == 2
    assert invoke_config["Properties"]["DestinationConfig"]["OnFailure"] == {
        "Destination": {"Fn::GetAtt": [queue_id, "Arn"]}
    }
    (queue_policy,) = synthesized.resources("AWS::SQS::QueuePolicy").values()
    (deny,) = queue_policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarms_on_processor_errors_and_dead_letters(synthesized: Synth) -> None:
    alarms = [a["Properties"] for a in synthesized.resources("AWS::CloudWatch::Alarm").values()]
    by_metric = {(a["Namespace"], a["MetricName"]): a for a in alarms}
    assert set(by_metric) == {
        ("AWS/Lambda", "Errors"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    }
    for alarm in alarms:
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert "AlarmActions" not in alarm  # no alarm_email in this variant


# --- least privilege -------------------------------------------------------------


def test_processor_s3_permissions_are_prefix_scoped(synthesized: Synth) -> None:
    bucket_id, _ = _bucket_ids(synthesized)
    b = f"<{bucket_id}>"
    statements = role_statements(synthesized, logical_id_of_function(synthesized, PROCESSOR))
    grants = _s3_grants(statements)
    # grant_read puts the bucket ARN next to the object ARNs (for List*/GetBucket*).
    assert grants["s3:GetObject*"] - {b} == {
        f"{b}/uploads/*",
        f"{b}/builds/*.json",
        f"{b}/results/*",
    }
    assert grants["s3:PutObject"] == {f"{b}/builds/*", f"{b}/results/*"}
    assert grants["s3:DeleteObject*"] == {f"{b}/uploads/*", f"{b}/builds/*"}
    everything = set().union(*grants.values())
    assert f"{b}/*" not in everything
    assert all(r == b or r.startswith(f"{b}/") for r in everything)
    assert not any(action in ("s3:*", "*") for action in grants)
    actions = {a for s in statements for a in as_list(s["Action"])}
    # The processor reads one secret, the token keys (it mints links for ``notify``).
    assert {a for a in actions if a.startswith(("secretsmanager:", "ssm:"))} <= {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    }


def test_link_s3_permissions_are_builds_only(synthesized: Synth) -> None:
    bucket_id, _ = _bucket_ids(synthesized)
    b = f"<{bucket_id}>"
    statements = role_statements(synthesized, logical_id_of_function(synthesized, LINK))
    grants = _s3_grants(statements)
    assert grants["s3:GetObject*"] - {b} == {f"{b}/builds/*"}
    assert grants["s3:PutObject"] == {f"{b}/builds/*.json"}
    assert grants["s3:DeleteObject*"] == {f"{b}/builds/*"}
    everything = set().union(*grants.values())
    assert not any("/uploads/" in r or "/results/" in r for r in everything)


def test_secrets_are_read_only_by_the_functions_that_need_them(synthesized: Synth) -> None:
    secrets = set(synthesized.resources("AWS::SecretsManager::Secret"))

    def secret_access(handler: str) -> dict[str, set[str]]:
        access: dict[str, set[str]] = {}
        for statement in role_statements(synthesized, logical_id_of_function(synthesized, handler)):
            for action in as_list(statement["Action"]):
                if action.startswith("secretsmanager:"):
                    access.setdefault(action, set()).update(
                        r["Ref"] for r in as_list(statement["Resource"])
                    )
        return access

    link = secret_access(LINK)
    assert set(link) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    assert link["secretsmanager:GetSecretValue"] == secrets
    keypair = secret_access(KEYPAIR)
    assert "secretsmanager:PutSecretValue" in keypair
    (cloudfront_key_secret,) = keypair["secretsmanager:PutSecretValue"]
    assert set().union(*keypair.values()) == {cloudfront_key_secret}
    # The processor mints invite links for ``notify``: the token keys, read only.
    processor = secret_access(PROCESSOR)
    assert set(processor) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    assert set().union(*processor.values()) == secrets - {cloudfront_key_secret}


# --- API -----------------------------------------------------------------------


def test_routes_and_their_authorization(synthesized: Synth) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]["AuthorizationType"]
        for r in synthesized.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {
        "POST /links": "AWS_IAM",
        "GET /apps": "AWS_IAM",
        "GET /apps/{bundle_id}/builds": "AWS_IAM",
        "DELETE /apps/{bundle_id}/builds/{build_id}": "AWS_IAM",
        **{f"{method} {path}": "AWS_IAM" for method, path in DISTRIBUTION_ADMIN_ROUTES},
        "GET /i/{token}": "NONE",
        "HEAD /i/{token}": "NONE",
        "GET /m/{token}/manifest.plist": "NONE",
        "GET /devices": "AWS_IAM",
        "POST /enrollments": "AWS_IAM",
        "GET /d/{token}": "NONE",
        "GET /d/{token}/enroll.mobileconfig": "NONE",
        "POST /d/{token}/enroll": "NONE",
        "GET /d/{token}/done": "NONE",
    }


def test_stage_is_throttled_and_logs_access(synthesized: Synth) -> None:
    (stage,) = synthesized.resources("AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == "$default"
    assert properties["AutoDeploy"] is True
    assert properties["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": 100,
        "ThrottlingRateLimit": 50,
    }
    log_group_id = properties["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert log_group_id in synthesized.resources("AWS::Logs::LogGroup")
    fields = json.loads(properties["AccessLogSettings"]["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["caller"] == "$context.identity.userArn"


# --- keys ------------------------------------------------------------------------


def test_token_secret_is_generated_with_a_key_id(synthesized: Synth) -> None:
    synthesized.template().has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "GenerateSecretString": Match.object_like(
                {"SecretStringTemplate": '{"current": "k1"}', "GenerateStringKey": "k1"}
            )
        },
    )


def test_cloudfront_key_pair_comes_from_the_custom_resource(synthesized: Synth) -> None:
    (key_pair_id, key_pair) = next(iter(synthesized.resources("Custom::CloudFrontKeyPair").items()))
    keypair_function = logical_id_of_function(synthesized, KEYPAIR)
    secret_ids = set(synthesized.resources("AWS::SecretsManager::Secret"))
    assert key_pair["Properties"]["SecretId"]["Ref"] in secret_ids
    assert key_pair["Properties"]["Generation"] == "1"
    provider_env = [
        f["Properties"].get("Environment", {}).get("Variables", {})
        for f in synthesized.resources("AWS::Lambda::Function").values()
    ]
    assert {"USER_ON_EVENT_FUNCTION_ARN": {"Fn::GetAtt": [keypair_function, "Arn"]}} in provider_env

    (public_key_id, public_key) = next(
        iter(synthesized.resources("AWS::CloudFront::PublicKey").items())
    )
    assert public_key["Properties"]["PublicKeyConfig"]["EncodedKey"] == {
        "Fn::GetAtt": [key_pair_id, "PublicKeyPem"]
    }
    (key_group,) = synthesized.resources("AWS::CloudFront::KeyGroup").values()
    assert key_group["Properties"]["KeyGroupConfig"]["Items"] == [{"Ref": public_key_id}]


# --- outputs, nag, lint ------------------------------------------------------------


def test_outputs_have_fixed_logical_ids(synthesized: Synth) -> None:
    outputs = synthesized.templates["Ipadrop"]["Outputs"]
    assert set(outputs) == {
        "BucketName",
        "DropPrefix",
        "DistributionDomain",
        "DistributionUrl",
        "ApiUrl",
    }
    bucket_id, _ = _bucket_ids(synthesized)
    assert outputs["BucketName"]["Value"] == {"Ref": bucket_id}
    assert outputs["DropPrefix"]["Value"] == "uploads/"
    assert _arn_text(outputs["DistributionUrl"]["Value"]).startswith("https://<")


def test_every_acknowledgment_names_a_rule_and_gives_a_reason(synthesized: Synth) -> None:
    acknowledged: dict[str, str] = {}
    for entries in synthesized.metadata().values():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                acknowledged |= entry["data"]
    assert acknowledged, "no acknowledgments recorded"
    for rule, reason in acknowledged.items():
        assert rule.startswith(("AwsSolutions::AwsSolutions-", "Annotation::")), rule
        assert len(reason.split()) >= 6, (rule, reason)


def test_no_unacknowledged_nag_findings_and_no_stale_acknowledgments(synthesized: Synth) -> None:
    # The synth would have failed otherwise; the report says so, and lists
    # what was acknowledged where, with the reason.
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    (nag,) = report["pluginReports"]
    assert nag["pluginName"] == "AwsSolutions"
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
    used = {(v["acknowledgedAt"], v["acknowledgedId"]) for v in nag["suppressedViolations"]}
    assert all(len(v["reason"].split()) >= 6 for v in nag["suppressedViolations"])
    recorded = {
        (path.lstrip("/"), rule)
        for path, entries in synthesized.metadata().items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule in entry["data"]
        if rule.startswith("AwsSolutions::")
    }
    assert recorded - used == set(), "acknowledgments that match no finding"


def test_cfn_lint_is_clean(synthesized: Synth) -> None:
    result = cfn_lint(sorted(synthesized.outdir.glob("*.template.json")))
    assert result.returncode == 0, result.stdout + result.stderr
