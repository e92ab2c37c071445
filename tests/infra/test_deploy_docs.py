"""docs/DEPLOY.md against reality: every documented `cdk` command sees the same
settings (a custom domain is never dropped by a later command), commands exist
on macOS as well as Linux, and the Node banner is silenced where it is set up."""

from __future__ import annotations

import itertools
import re
import shlex
from typing import Any

import pytest

from infra.config import (
    PERSISTENT_KEYS,
    ConfigError,
    IpadropConfig,
    check_no_overrides,
)
from tests.conftest import REPO_ROOT
from tests.infra.conftest import cdk_json_context

DEPLOY = (REPO_ROOT / "docs" / "DEPLOY.md").read_text()
# GNU-only forms (or tools macOS lacks) that a newcomer on a Mac would trip over.
NOT_ON_MACOS = (
    re.compile(r"\bshred\b"),
    re.compile(r"\bsed -i(?! '')"),
    re.compile(r"\bdate -d\b"),
    re.compile(r"\breadlink -f\b"),
    re.compile(r"\bbase64 -w\b"),
    re.compile(r"\bgrep -P\b"),
    re.compile(r"\bxargs -r\b"),
    re.compile(r"\bstat -c\b"),
)


def shell_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", DEPLOY, flags=re.S)


def cdk_commands() -> list[list[str]]:
    commands = []
    for block in shell_blocks():
        for raw in block.replace("\\\n", " ").splitlines():
            line = raw.split("#", 1)[0].strip()
            if line.startswith("npx cdk"):
                commands.append(shlex.split(line))
    return commands


def context_flags(command: list[str]) -> dict[str, str]:
    flags: dict[str, str] = {}
    for flag, value in itertools.pairwise(command):
        if flag in ("-c", "--context"):
            key, _, text = value.partition("=")
            flags[key] = text
    return flags


def test_there_are_documented_cdk_commands() -> None:
    commands = cdk_commands()
    verbs = {command[2] for command in commands}
    assert {"bootstrap", "deploy", "destroy"} <= verbs


def test_every_documented_command_synthesizes_the_same_domain() -> None:
    # A deployment with a custom domain, set up the way DEPLOY.md says (cdk.json).
    cdk_json = cdk_json_context() | {
        "domain_name": "apps.example.com",
        "hosted_zone_name": "example.com",
    }
    configs = []
    for command in cdk_commands():
        context: dict[str, Any] = cdk_json | context_flags(command)
        check_no_overrides(cdk_json, context.get)  # the app would refuse otherwise
        configs.append(IpadropConfig.from_context(context.get))
    assert {(c.stack_name, c.domain_name, c.hosted_zone_name) for c in configs} == {
        ("Ipadrop", "apps.example.com", "example.com")
    }
    assert {c.cloudfront_key_generation for c in configs} == {1}


def test_a_persistent_setting_given_with_c_is_refused() -> None:
    # What the old DEPLOY.md did: the domain on the deploy line only.
    cdk_json = cdk_json_context()
    flags = {"domain_name": "apps.example.com", "hosted_zone_name": "example.com"}
    with pytest.raises(
        ConfigError,
        match=r"domain_name, hosted_zone_name must be set in cdk\.json",
    ):
        check_no_overrides(cdk_json, (cdk_json | flags).get)


def test_no_documented_command_passes_a_persistent_setting() -> None:
    for command in cdk_commands():
        assert not set(context_flags(command)) & set(PERSISTENT_KEYS), command


def test_commands_run_on_macos_too() -> None:
    for block in shell_blocks():
        for pattern in NOT_ON_MACOS:
            assert not pattern.search(block), (pattern.pattern, block)


def test_setup_silences_the_node_banners_or_node_22_is_documented() -> None:
    setup = next(b for b in shell_blocks() if "npm ci" in b)
    assert "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1" in setup
    assert "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20" in setup
    assert "Node 22 or newer" in DEPLOY


def test_ci_recipe_waits_for_the_result_and_keys_are_unique_per_run() -> None:
    ci = next(b for b in shell_blocks() if "aws s3 cp build/" in b)
    wait = ci.index("aws s3api wait object-exists")
    read = ci.index('aws s3 cp "s3://$BUCKET/results/')
    assert wait < read  # never read the result before it exists
    # A rerun of the same commit gets a key (and a result) of its own.
    assert "CI_RUN_ID" in ci
    assert "CI_RUN_ATTEMPT" in ci


def test_cost_table_names_log_retention_and_teardown_empties_versions() -> None:
    assert re.search(r"CloudWatch Logs \|.*kept 30 days", DEPLOY)
    assert "object_versions.delete()" in DEPLOY
    assert "LOG_BUCKET" in DEPLOY
