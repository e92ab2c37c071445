"""What only a real account would show: names that collide across regions, the
public routes' SnapStart wiring, key rotation in two phases, opt-in regions,
and settings given with `-c` that a later command would lose."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.lambda_defaults import powertools_layer_parameter
from tests.infra.conftest import (
    Synth,
    functions_by_handler,
    logical_id_of_function,
    role_statements,
    run_app,
    synth,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra-first-deploy")]

LINK = "ipadrop.handlers.link.handler"
PUBLIC = "ipadrop.handlers.link_public.handler"

# CloudFront resources whose names live in one namespace per account (all regions).
ACCOUNT_WIDE = {
    "AWS::CloudFront::ResponseHeadersPolicy": ("ResponseHeadersPolicyConfig", "Name"),
    "AWS::CloudFront::CachePolicy": ("CachePolicyConfig", "Name"),
    "AWS::CloudFront::OriginAccessControl": ("OriginAccessControlConfig", "Name"),
    "AWS::CloudFront::KeyGroup": ("KeyGroupConfig", "Name"),
    "AWS::CloudFront::PublicKey": ("PublicKeyConfig", "Name"),
}


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synth]:
    """The same stack in two regions of one account, and a second stack mid-rotation."""
    return {
        "eu": synth(tmp_path_factory.mktemp("synth-eu"), region="eu-west-1"),
        "us": synth(tmp_path_factory.mktemp("synth-us"), region="us-east-1"),
        "staging": synth(
            tmp_path_factory.mktemp("synth-staging"),
            region="eu-west-1",
            context={
                "stack_name": "IpadropStaging",
                "cloudfront_key_generation": 2,
                "cloudfront_key_previous_generation": 1,
                "public_reserved_concurrency": 0,
            },
        ),
    }


def account_wide_names(synthesized: Synth, stack: str) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for type_name, (config, field) in ACCOUNT_WIDE.items():
        for resource in synthesized.resources(type_name, stack).values():
            name = resource["Properties"][config][field]
            assert isinstance(name, str), f"{type_name} name must be literal here: {name}"
            names.setdefault(type_name, []).append(name)
    return names


def test_account_wide_names_differ_per_region_and_stack(variants: dict[str, Synth]) -> None:
    eu = account_wide_names(variants["eu"], "Ipadrop")
    us = account_wide_names(variants["us"], "Ipadrop")
    staging = account_wide_names(variants["staging"], "IpadropStaging")
    assert set(eu) == set(ACCOUNT_WIDE)  # every kind is named explicitly
    for type_name in ACCOUNT_WIDE:
        assert not set(eu[type_name]) & set(us[type_name]), type_name
        assert not set(eu[type_name]) & set(staging[type_name]), type_name
    for names in (*eu.values(), *us.values(), *staging.values()):
        for name in names:
            assert len(name) <= 64
            assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name


def test_public_routes_invoke_a_snapstart_alias(variants: dict[str, Synth]) -> None:
    synthesized = variants["eu"]
    functions = functions_by_handler(synthesized)
    public_id = logical_id_of_function(synthesized, PUBLIC)
    admin_id = logical_id_of_function(synthesized, LINK)
    assert functions[PUBLIC]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert "SnapStart" not in functions[LINK]
    assert functions[PUBLIC]["ReservedConcurrentExecutions"] == 10
    assert "ReservedConcurrentExecutions" not in functions[LINK]
    # The public routes neither send mail nor put events (infra/people.py): the
    # admin function's environment without those names.
    admin_only = {
        "IPADROP_SENDER_EMAIL",
        "IPADROP_SES_CONFIGURATION_SET",
        "IPADROP_SES_MAX_SEND_RATE",
        "IPADROP_EVENT_BUS",
    }
    assert functions[PUBLIC]["Environment"]["Variables"] == {
        **{
            name: value
            for name, value in functions[LINK]["Environment"]["Variables"].items()
            if name not in admin_only
        },
        "POWERTOOLS_SERVICE_NAME": "ipadrop-link-public",
    }

    (alias_id, alias) = next(iter(synthesized.resources("AWS::Lambda::Alias").items()))
    (version_id, version) = next(iter(synthesized.resources("AWS::Lambda::Version").items()))
    assert alias["Properties"]["Name"] == "live"
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    assert version["Properties"]["FunctionName"] == {"Ref": public_id}
    assert version["DeletionPolicy"] == "Delete"  # old snapshots do not pile up

    integrations = synthesized.resources("AWS::ApiGatewayV2::Integration")
    routes = synthesized.resources("AWS::ApiGatewayV2::Route")
    target_of = {
        route["Properties"]["RouteKey"]: integrations[
            route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        ]["Properties"]["IntegrationUri"]
        for route in routes.values()
    }
    assert target_of["GET /i/{token}"] == {"Ref": alias_id}
    assert target_of["GET /m/{token}/manifest.plist"] == {"Ref": alias_id}
    assert target_of["POST /links"] == {"Fn::GetAtt": [admin_id, "Arn"]}


def test_public_function_only_reads(variants: dict[str, Synth]) -> None:
    synthesized = variants["eu"]
    public_id = logical_id_of_function(synthesized, PUBLIC)
    actions = {
        action
        for statement in role_statements(synthesized, public_id)
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert not {a for a in actions if a.startswith(("s3:Put", "s3:Delete", "s3:Abort"))}
    assert "secretsmanager:GetSecretValue" in actions


def test_reserved_concurrency_can_be_turned_off(variants: dict[str, Synth]) -> None:
    functions = functions_by_handler(variants["staging"], "IpadropStaging")
    assert "ReservedConcurrentExecutions" not in functions[PUBLIC]


def _resources(synthesized: Synth, type_name: str, stack: str) -> dict[str, dict[str, Any]]:
    return synthesized.resources(type_name, stack)


def test_rotation_trusts_both_keys_and_activates_after_the_key_group(
    variants: dict[str, Synth],
) -> None:
    synthesized, stack = variants["staging"], "IpadropStaging"
    (key_pair_id, key_pair) = next(
        iter(_resources(synthesized, "Custom::CloudFrontKeyPair", stack).items())
    )
    assert key_pair["Properties"]["Generation"] == "2"
    assert key_pair["Properties"]["PreviousGeneration"] == "1"
    # Retiring waits for warm containers (secret cache 300 s) and the asset URL life (3600 s).
    assert int(key_pair["Properties"]["RetireAfterSeconds"]) >= 3900
    public_keys = _resources(synthesized, "AWS::CloudFront::PublicKey", stack)
    by_attribute = {
        resource["Properties"]["PublicKeyConfig"]["EncodedKey"]["Fn::GetAtt"][1]: logical_id
        for logical_id, resource in public_keys.items()
    }
    assert set(by_attribute) == {"PublicKeyPem", "PreviousPublicKeyPem"}
    # The old key keeps its logical id (same resource, same key: no replacement).
    assert by_attribute["PreviousPublicKeyPem"].startswith("KeysPublicKeyGeneration1")
    assert by_attribute["PublicKeyPem"].startswith("KeysPublicKeyGeneration2")
    (key_group_id, key_group) = next(
        iter(_resources(synthesized, "AWS::CloudFront::KeyGroup", stack).items())
    )
    assert sorted(i["Ref"] for i in key_group["Properties"]["KeyGroupConfig"]["Items"]) == sorted(
        public_keys
    )
    (activation,) = _resources(synthesized, "Custom::CloudFrontKeyActivation", stack).values()
    assert activation["Properties"]["Generation"] == "2"
    assert activation["Properties"]["KeyPairId"] == {"Ref": by_attribute["PublicKeyPem"]}
    assert key_group_id in activation["DependsOn"]
    variables = functions_by_handler(synthesized, stack)[PUBLIC]["Environment"]["Variables"]
    assert "IPADROP_CLOUDFRONT_KEY_PAIR_ID" not in variables
    assert key_pair_id not in str(variables)


def test_opt_in_region_is_refused_in_one_sentence(tmp_path: Path) -> None:
    completed = run_app(tmp_path, region="af-south-1")
    assert completed.returncode != 0
    lines = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, completed.stderr[-3000:]
    assert "opt-in region af-south-1" in lines[0]
    assert "cloudfront_logs=false" in lines[0]
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("key", ["domain_name", "cloudfront_key_generation", "stack_name"])
def test_persistent_settings_given_with_c_are_refused(tmp_path: Path, key: str) -> None:
    value: Any = {
        "domain_name": "apps.example.com",
        "cloudfront_key_generation": 2,
        "stack_name": "Other",
    }[key]
    completed = run_app(tmp_path, context={key: value}, allow_overrides=False)
    assert completed.returncode != 0
    lines = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, completed.stderr[-3000:]
    assert key in lines[0]
    assert "cdk.json" in lines[0]


def test_powertools_layer_is_resolved_from_the_release_parameter(
    variants: dict[str, Synth],
) -> None:
    # No hand-written layer ARN that could name a missing layer or another release:
    # CloudFormation resolves the release's public parameter before changing anything.
    template = variants["eu"].templates["Ipadrop"]
    (name,) = [
        n
        for n, p in template["Parameters"].items()
        if p["Type"] == "AWS::SSM::Parameter::Value<String>"
        and p["Default"] == powertools_layer_parameter()
    ]
    functions = functions_by_handler(variants["eu"])
    assert len(functions) == 5  # processor, link, public link, keypair, access logs
    for properties in functions.values():
        assert properties["Layers"] == [{"Ref": name}]
    assert ":layer:" not in json.dumps(template["Resources"])
