"""Synthesis helpers for the infra tests.

Every variant is synthesized the way `cdk synth` runs the app: `python app.py`
in a subprocess, context passed as CDK_CONTEXT_JSON (cdk.json's context plus
the variant's keys), with no AWS credentials and no Docker on PATH. Each test
module synthesizes its variant once (module-scoped fixture) and keeps its tests
in one xdist group, so a variant is never synthesized twice per run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
ZONE_ID = "Z0123456789ABCDEFGHIJ"


@dataclass
class Synth:
    outdir: Path
    templates: dict[str, dict[str, Any]]
    stdout: str
    stderr: str

    def template(self, stack: str = "Ipadrop") -> Template:
        return Template.from_json(self.templates[stack])

    def resources(self, type_name: str, stack: str = "Ipadrop") -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.templates[stack]["Resources"].items()
            if resource["Type"] == type_name
        }

    def metadata(self, stack: str = "Ipadrop") -> dict[str, list[dict[str, Any]]]:
        data: dict[str, list[dict[str, Any]]] = json.loads(
            (self.outdir / f"{stack}.metadata.json").read_text()
        )
        return data


def env_without_aws_or_docker(tmp: Path) -> dict[str, str]:
    """The environment of a fresh machine: no AWS credentials, no docker binary."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CDK_")) and key != "DOCKER_HOST"
    }
    path = [
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and not (Path(entry) / "docker").exists()
    ]
    node = shutil.which("node")
    if node is not None and str(Path(node).parent) not in path:
        link_dir = tmp / "bin"
        link_dir.mkdir(exist_ok=True)
        (link_dir / "node").symlink_to(node)
        path.append(str(link_dir))
    env.update(
        PATH=os.pathsep.join(path),
        AWS_CONFIG_FILE=str(tmp / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        PYTHONDONTWRITEBYTECODE="1",
        # Variants stand for other cdk.json files; test_first_deploy.py checks the guard.
        IPADROP_ALLOW_CONTEXT_OVERRIDES="1",
    )
    return env


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def hosted_zone_lookup(zone_name: str, region: str) -> dict[str, Any]:
    """The cached answer of CDK's hosted-zone lookup (as cdk.context.json would hold it)."""
    key = f"hosted-zone:account={ACCOUNT}:domainName={zone_name}:region={region}"
    return {key: {"Id": f"/hostedzone/{ZONE_ID}", "Name": f"{zone_name}."}}


def run_app(
    tmp: Path,
    *,
    context: dict[str, Any] | None = None,
    region: str | None = None,
    bundle: bool = False,
    allow_overrides: bool = True,
) -> subprocess.CompletedProcess[str]:
    outdir = tmp / "cdk.out"
    merged = cdk_json_context() | (context or {})
    if not bundle:
        merged["aws:cdk:bundling-stacks"] = []
    env = env_without_aws_or_docker(tmp)
    if not allow_overrides:
        del env["IPADROP_ALLOW_CONTEXT_OVERRIDES"]
    env["CDK_OUTDIR"] = str(outdir)
    env["CDK_CONTEXT_JSON"] = json.dumps(merged)
    if region is not None:
        env["CDK_DEFAULT_ACCOUNT"] = ACCOUNT
        env["CDK_DEFAULT_REGION"] = region
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def synth(
    tmp: Path,
    *,
    context: dict[str, Any] | None = None,
    region: str | None = None,
) -> Synth:
    completed = run_app(tmp, context=context, region=region)
    assert completed.returncode == 0, (
        f"synth failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-8000:]}"
    )
    outdir = tmp / "cdk.out"
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    return Synth(outdir, templates, completed.stdout, completed.stderr)


def cfn_lint(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    cfn_lint_bin = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run(
        [str(cfn_lint_bin), "--ignore-checks", "W3005", "--", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def functions_by_handler(synthesized: Synth, stack: str = "Ipadrop") -> dict[str, dict[str, Any]]:
    """Our Python functions, keyed by handler string (never by hashed logical id)."""
    return {
        resource["Properties"]["Handler"]: resource["Properties"]
        for resource in synthesized.resources("AWS::Lambda::Function", stack).values()
        if str(resource["Properties"].get("Handler", "")).startswith("ipadrop.")
    }


def logical_id_of_function(synthesized: Synth, handler: str, stack: str = "Ipadrop") -> str:
    for logical_id, resource in synthesized.resources("AWS::Lambda::Function", stack).items():
        if resource["Properties"].get("Handler") == handler:
            return logical_id
    raise AssertionError(f"no function with handler {handler}")


def role_statements(synthesized: Synth, function_logical_id: str) -> list[dict[str, Any]]:
    """All statements of the inline policies attached to the function's role."""
    function = synthesized.templates["Ipadrop"]["Resources"][function_logical_id]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        roles = policy["Properties"].get("Roles", [])
        if {"Ref": role_id} in roles:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
