"""CDK app entry point: `npx cdk synth` / `npx cdk deploy` (see docs/DEPLOY.md)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# The stack takes a few values (the page's Content-Security-Policy) from the
# runtime package, which lives under lambdas/ exactly as it does in Lambda.
sys.path.insert(0, str(Path(__file__).resolve().parent / "lambdas"))

import aws_cdk as cdk

from infra.config import ALLOW_OVERRIDES_ENV, ConfigError, check_no_overrides
from infra.stack import build_app


def main() -> None:
    app = cdk.App()
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=os.environ.get("CDK_DEFAULT_REGION"),
    )
    try:
        if not os.environ.get(ALLOW_OVERRIDES_ENV):
            cdk_json = Path(__file__).resolve().parent / "cdk.json"
            check_no_overrides(
                json.loads(cdk_json.read_text()).get("context", {}), app.node.try_get_context
            )
        build_app(app, env=env)
    except ConfigError as error:
        sys.exit(f"error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
