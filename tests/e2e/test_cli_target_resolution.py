"""`--stack` finds a deployed stack the way the AWS CLI would: region from
--region, AWS_REGION, AWS_DEFAULT_REGION, then the profile; profile from
--profile, then AWS_PROFILE. Errors are one line and name the region."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from ipadrop_tools.cli.main import main
from ipadrop_tools.cli.remote.target import CliError, aws_session

pytestmark = pytest.mark.integration

STACK_REGION = "eu-west-3"


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ambient AWS settings; a config file with a profile that has a region."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "aws-config"
    config.write_text("[profile staging]\nregion = ap-south-1\n[default]\n")
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        "[staging]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    return config


def test_region_precedence_is_the_aws_clis(aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert aws_session(profile="staging").region_name == "ap-south-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-1")
    assert aws_session(profile="staging").region_name == "us-west-1"
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    assert aws_session(profile="staging").region_name == "eu-west-2"
    assert aws_session("ca-central-1", "staging").region_name == "ca-central-1"
    monkeypatch.setenv("AWS_PROFILE", "staging")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert aws_session().region_name == "ap-south-1"


def test_no_region_anywhere_is_one_clear_error(aws_env: Path) -> None:
    with pytest.raises(CliError, match="no AWS region: pass --region"):
        aws_session()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_an_unknown_profile_is_one_error_line(
    aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    args = ["apps", "--stack", "Ipadrop", "--region", "eu-west-1"]
    if how == "flag":
        args += ["--profile", "nope"]
    else:
        monkeypatch.setenv("AWS_PROFILE", "nope")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: the AWS profile 'nope' is not in your AWS config")
    assert "Traceback" not in err


@pytest.fixture
def stack_in_eu_west_3(
    moto_endpoint: str, bucket_name: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    name = f"ipadrop-{bucket_name}"
    template = {
        "Resources": {"Drop": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "BucketName": {"Value": bucket_name},
            "DropPrefix": {"Value": "uploads/"},
            "DistributionUrl": {"Value": "https://d111111abcdef8.cloudfront.net"},
            "ApiUrl": {"Value": "https://abc.execute-api.eu-west-3.amazonaws.com/"},
        },
    }
    boto3.client(
        "cloudformation",
        endpoint_url=moto_endpoint,
        region_name=STACK_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


def test_aws_region_finds_the_stack(
    aws_env: Path, stack_in_eu_west_3: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ipadrop_tools.cli.remote.target import stack_target

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", STACK_REGION)  # the AWS CLI lets this one win
    target = stack_target(stack_in_eu_west_3, None)
    assert target.api_url == "https://abc.execute-api.eu-west-3.amazonaws.com"


def test_a_stack_in_another_region_is_reported_with_the_region(
    aws_env: Path,
    stack_in_eu_west_3: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["apps", "--stack", stack_in_eu_west_3, "--region", "us-east-1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"there is no stack {stack_in_eu_west_3} in us-east-1" in err
