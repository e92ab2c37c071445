"""The cdk-nag 3 behaviour the stack relies on: an unacknowledged AwsSolutions
finding fails the synth; an acknowledgment through infra.nag (CDK's
Validations.of(...).acknowledge) clears exactly that finding."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from infra.nag import acknowledge, add_nag_checks, qualified_rule_id

pytestmark = pytest.mark.infra


def _app_with_queue(outdir: Path, *, acknowledged: bool) -> cdk.App:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "NagProbe")
    # Encrypted, but neither TLS-only nor with a dead-letter queue: SQS3 and SQS4.
    queue = sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.SQS_MANAGED)
    acknowledge(queue, "AwsSolutions-SQS3", "This probe queue is itself a dead-letter queue.")
    if acknowledged:
        acknowledge(
            queue, "AwsSolutions-SQS4", "The probe checks that acknowledgments clear findings."
        )
    add_nag_checks(app)
    return app


def test_unacknowledged_finding_fails_synth(tmp_path: Path) -> None:
    app = _app_with_queue(tmp_path, acknowledged=False)
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed.*AwsSolutions-SQS4"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (nag,) = report["pluginReports"]
    assert nag["conclusion"] == "failure"
    assert [v["ruleName"] for v in nag["violations"]] == ["AwsSolutions-SQS4"]
    assert [v["ruleName"] for v in nag["suppressedViolations"]] == ["AwsSolutions-SQS3"]


def test_acknowledged_finding_passes_with_its_reason(tmp_path: Path) -> None:
    app = _app_with_queue(tmp_path, acknowledged=True)
    app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (nag,) = report["pluginReports"]
    assert nag["conclusion"] == "success"
    reasons = {v["ruleName"]: v["reason"] for v in nag["suppressedViolations"]}
    assert reasons["AwsSolutions-SQS4"].startswith("The probe checks")


def test_rule_ids_are_qualified_with_their_pack() -> None:
    assert qualified_rule_id("AwsSolutions-S1") == "AwsSolutions::AwsSolutions-S1"
    assert (
        qualified_rule_id("AwsSolutions-IAM5[Resource::*]")
        == "AwsSolutions::AwsSolutions-IAM5[Resource::*]"
    )
    assert qualified_rule_id("Annotation::@aws-cdk/x:y") == "Annotation::@aws-cdk/x:y"
