"""Lambda gets Powertools from the AWS layer; tests get it from uv.lock. Same release."""

from __future__ import annotations

import tomllib

from infra.lambda_defaults import POWERTOOLS_LAYER_PACKAGE_VERSION, powertools_layer_arn
from tests.conftest import REPO_ROOT


def test_locked_powertools_is_the_release_the_layer_carries() -> None:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    assert locked["aws-lambda-powertools"] == POWERTOOLS_LAYER_PACKAGE_VERSION


def test_layer_arn_is_the_arm64_python313_layer_of_the_region() -> None:
    arn = powertools_layer_arn("eu-west-1")
    assert arn.startswith("arn:aws:lambda:eu-west-1:017000801446:layer:")
    assert ":AWSLambdaPowertoolsPythonV3-python313-arm64:" in arn
