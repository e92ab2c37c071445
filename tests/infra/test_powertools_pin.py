"""Lambda gets Powertools from the AWS layer of the locked release, found through
AWS's public SSM parameter at deploy time; tests get it from uv.lock. Same release,
and no layer ARN that could be wrong or missing is written into the template."""

from __future__ import annotations

import tomllib

from infra.lambda_defaults import POWERTOOLS_PACKAGE_VERSION, powertools_layer_parameter
from tests.conftest import REPO_ROOT


def test_locked_powertools_is_the_release_the_layer_carries() -> None:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    assert locked["aws-lambda-powertools"] == POWERTOOLS_PACKAGE_VERSION


def test_layer_is_looked_up_by_release_not_by_layer_version() -> None:
    assert powertools_layer_parameter() == (
        f"/aws/service/powertools/python/arm64/python3.13/{POWERTOOLS_PACKAGE_VERSION}"
    )
