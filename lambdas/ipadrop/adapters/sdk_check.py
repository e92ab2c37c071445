"""The runtime's SDK must know S3's conditional writes before anything is written.

boto3/botocore come from the Lambda runtime (DESIGN.md, Deployment). Publishing
and revoking rely on ``PutObject`` with ``If-Match`` / ``If-None-Match`` (and
``DeleteObject`` with ``If-Match``): an older botocore would refuse those
parameters at call time, half-way through a publish. So the S3 client is
checked once, when the store is built (at init, before any write), and a
runtime whose botocore lacks them fails every invocation at once with one
sentence naming the version, which the errors alarm reports
(docs/DEPLOY.md, SDK). Bundling boto3 instead would grow the
code package several-fold for one parameter check (BENCHMARKS.md, Lambda
bundle size) and pin the SDK's security fixes to our release cycle.
"""

from __future__ import annotations

from typing import Any

# operation -> the request members ipadrop passes to it.
REQUIRED_MEMBERS = {
    "PutObject": ("IfMatch", "IfNoneMatch"),
    "DeleteObject": ("IfMatch",),
}


class SdkTooOld(RuntimeError):
    """The runtime's botocore cannot express a request ipadrop depends on."""


def missing_conditional_members(client: Any) -> list[str]:
    """``Operation.Member`` names the client's S3 model lacks (empty when all are there)."""
    model = client.meta.service_model
    missing: list[str] = []
    for operation, members in REQUIRED_MEMBERS.items():
        known = set(model.operation_model(operation).input_shape.members)
        missing += [f"{operation}.{member}" for member in members if member not in known]
    return missing


def require_conditional_writes(client: Any) -> None:
    missing = missing_conditional_members(client)
    if missing:
        import botocore

        raise SdkTooOld(
            f"this runtime's botocore {botocore.__version__} lacks {', '.join(missing)} "
            "(S3 conditional writes); redeploy to pick up a current Lambda runtime"
        )
