"""cdk-nag 3.x wiring: the AwsSolutions pack as a CDK validation plugin, and
acknowledgments through CDK's native ``Validations.of(...).acknowledge``.

cdk-nag 3 dropped ``NagSuppressions``; each finding id (``Rule[Finding]``) is
acknowledged on its own, on the construct that produces it, with a reason.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_nag_checks(app: cdk.App) -> None:
    """Run AwsSolutions on synth; any unacknowledged finding fails the synth."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on ``scope`` (and everything below it)."""
    cdk.Validations.of(scope).acknowledge(
        cdk.Acknowledgment(id=qualified_rule_id(rule_id), reason=reason)
    )


def qualified_rule_id(rule_id: str) -> str:
    """``AwsSolutions-S1`` -> ``AwsSolutions::AwsSolutions-S1`` (the plugin's namespace).

    Unqualified ids are filed by CDK under ``Annotation::``; ids that already
    name a namespace (``Annotation::...``) pass through.
    """
    if "::" in rule_id.split("[", 1)[0]:
        return rule_id
    pack = rule_id.split("-", 1)[0]
    return f"{pack}::{rule_id}"


def acknowledge_all(scope: IConstruct, findings: dict[str, str]) -> None:
    """Acknowledge several findings: ``{rule id: reason}``."""
    for rule_id, reason in findings.items():
        acknowledge(scope, rule_id, reason)
