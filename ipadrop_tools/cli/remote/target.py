"""Where remote commands go: a local stack (``--endpoint``) or a deployed one (``--stack``).

Targets:
- ``--endpoint http://127.0.0.1:PORT``: a running ``ipadrop local`` (asked at ``/_local/config``
  for its S3 endpoint and bucket; admin calls need no signature);
- ``--stack NAME``: a deployed stack, found through its CloudFormation outputs
  (``BucketName``, ``DropPrefix``, ``DistributionUrl``, ``ApiUrl``); admin calls are
  SigV4-signed (service ``execute-api``) with the caller's credentials.
Without either, ``IPADROP_ENDPOINT`` / ``IPADROP_STACK`` are used, then a local stack
running from ``.ipadrop-local/`` in this folder.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ipadrop.domain.bucket_keys import (
    UPLOADS_PREFIX,
)
from ipadrop_tools.cli import exit_status

DEFAULT_STATE_DIR = Path(".ipadrop-local")
MULTIPART_THRESHOLD = 16 * 1024 * 1024
DEFAULT_WAIT_SECONDS = 300


class CliError(Exception):
    """Shown to the user as one ``error: ...`` line; ``status`` is the exit status
    (``ipadrop_tools.cli.exit_status``); ``code`` is the API's error code, if any."""

    def __init__(
        self, message: str, status: int = exit_status.FAILED, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


# ------------------------------------------------------------------------ targets


@dataclass(frozen=True, slots=True)
class ApiResponse:
    status: int
    data: Any


@dataclass
class Target:
    """Where uploads go and where admin calls are sent."""

    description: str
    bucket: str
    drop_prefix: str
    api_url: str  # no trailing slash
    distribution_url: str
    s3: Any
    signer: Callable[[str, str, bytes, dict[str, str]], dict[str, str]] | None = None

    def api(self, method: str, path: str, payload: Any | None = None) -> ApiResponse:
        """Call the admin API; raises CliError with the API's message on 4xx/5xx."""
        import urllib.error
        import urllib.request

        url = self.api_url + path
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if self.signer is not None:
            headers = self.signer(method, url, body, headers)
        request = urllib.request.Request(  # noqa: S310 (http(s) only: checked when resolved)
            url, data=body if payload is not None else None, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return ApiResponse(response.status, _json_or_text(response.read()))
        except urllib.error.HTTPError as exc:
            data = _json_or_text(exc.read())
            message = data.get("message") if isinstance(data, dict) else None
            code = data.get("error") if isinstance(data, dict) else None
            raise CliError(
                str(message or f"{method} {path} failed with HTTP {exc.code}").rstrip(".") + ".",
                code=str(code) if code else None,
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(
                f"cannot reach {self.api_url}: {reason}.", status=exit_status.UNREACHABLE
            ) from None


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _s3_client(endpoint_url: str | None, region: str | None, *, local_credentials: bool) -> Any:
    import boto3
    from botocore.config import Config

    # moto answers any credentials; a real S3 endpoint gets the caller's own.
    key = "testing" if local_credentials else None
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=key,
        config=Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"}),
    )


def local_target(endpoint: str) -> Target:
    """A running ``ipadrop local``, asked at ``/_local/config`` where its S3 and bucket are."""
    import urllib.error
    import urllib.request

    base = endpoint.rstrip("/")
    if urlsplit(base).scheme not in ("http", "https"):
        raise CliError(
            f"--endpoint must be an http(s) URL, not {endpoint!r}.", status=exit_status.USAGE
        )
    try:
        with urllib.request.urlopen(base + "/_local/config", timeout=10) as response:  # noqa: S310
            config = json.loads(response.read())
    except (urllib.error.URLError, ValueError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CliError(
            f"no ipadrop local stack answers at {base} ({reason}).",
            status=exit_status.UNREACHABLE,
        ) from None
    s3_endpoint = _local_s3_endpoint(config, base)
    return Target(
        description=f"local stack at {base}",
        bucket=str(config["bucket"]),
        drop_prefix=str(config.get("drop_prefix") or UPLOADS_PREFIX),
        api_url=str(config.get("api_url") or base).rstrip("/"),
        distribution_url=str(config.get("distribution_url") or base).rstrip("/"),
        s3=_s3_client(
            s3_endpoint,
            str(config.get("region") or "us-east-1"),
            local_credentials=bool(config.get("embedded_s3")),
        ),
    )


def _local_s3_endpoint(config: dict[str, Any], base: str) -> str:
    """The stack's S3 endpoint, from ``runtime.json`` in its state folder (owner-only).

    ``/_local/config`` never tells it: any page a browser opens could ask
    (docs/LOCAL.md, "Security"). Only the machine and user running the stack can read it.
    """
    from ipadrop_tools.local.state import RUNTIME_NAME, read_runtime

    state_dir = Path(str(config.get("state_dir") or DEFAULT_STATE_DIR))
    runtime = read_runtime(state_dir)
    if (
        runtime is None
        or str(runtime.get("distribution_url", "")).rstrip("/")
        != str(config.get("distribution_url", "")).rstrip("/")
        or not runtime.get("s3_endpoint")
    ):
        raise CliError(
            f"the local stack at {base} keeps its S3 endpoint in {state_dir / RUNTIME_NAME}, "
            "which cannot be read here; run this command on the machine, and as the user, "
            "that runs `ipadrop local`."
        )
    return str(runtime["s3_endpoint"])


STACK_OUTPUTS = ("BucketName", "DropPrefix", "DistributionUrl", "ApiUrl")


def aws_session(region: str | None = None, profile: str | None = None) -> Any:
    """A boto3 session resolved the way the AWS CLI resolves one.

    Profile: ``--profile``, else ``AWS_PROFILE`` (else the default profile).
    Region: ``--region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else
    the profile's ``region``. An unknown profile or no region at all is one
    error line, never a traceback.
    """
    import os

    import boto3
    from botocore.exceptions import ProfileNotFound

    region = (
        region
        or os.environ.get("AWS_REGION", "").strip()
        or os.environ.get("AWS_DEFAULT_REGION", "").strip()
        or None
    )
    try:
        session = boto3.Session(profile_name=profile or None, region_name=region)
    except ProfileNotFound as exc:
        raise CliError(
            f"the AWS profile {exc.kwargs.get('profile', profile)!r} is not in your AWS config "
            "(check --profile / AWS_PROFILE, or run aws configure list-profiles).",
            status=2,
        ) from None
    if not session.region_name:
        raise CliError(
            "no AWS region: pass --region, set AWS_REGION, or give the profile a region.",
            status=2,
        )
    return session


def stack_target(stack_name: str, region: str | None, profile: str | None = None) -> Target:
    """A deployed stack, found through its CloudFormation outputs."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    session = aws_session(region, profile)
    where = f"in {session.region_name}"
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except NoCredentialsError:
        raise CliError(
            "no AWS credentials found (set AWS_PROFILE or --profile, or run aws sso login)."
        ) from None
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if "does not exist" in message:
            raise CliError(
                f"there is no stack {stack_name} {where} (wrong region? pass --region "
                "or set AWS_REGION)."
            ) from None
        raise CliError(f"cannot read stack {stack_name} {where}: {message}") from None
    except BotoCoreError as exc:
        raise CliError(
            f"cannot read stack {stack_name} {where}: {exc}", status=unreachable_status(exc)
        ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [name for name in STACK_OUTPUTS if name not in outputs]
    if missing:
        raise CliError(
            f"stack {stack_name} has no output {', '.join(missing)}; is it an ipadrop stack?"
        )
    api_url = outputs["ApiUrl"].rstrip("/")
    api_region = _region_of_api(api_url) or session.region_name or "us-east-1"
    credentials = session.get_credentials()
    if credentials is None:
        raise CliError("no AWS credentials found (set AWS_PROFILE or run aws sso login).")
    return Target(
        description=f"stack {stack_name}",
        bucket=outputs["BucketName"],
        drop_prefix=outputs["DropPrefix"] or UPLOADS_PREFIX,
        api_url=api_url,
        distribution_url=outputs["DistributionUrl"].rstrip("/"),
        s3=session.client("s3"),
        signer=sigv4_signer(credentials, api_region),
    )


def unreachable_status(exc: BaseException) -> int:
    """UNREACHABLE for botocore's connection failures, FAILED for anything else."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return exit_status.UNREACHABLE
    return exit_status.FAILED


def _region_of_api(api_url: str) -> str | None:
    found = re.search(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com", urlsplit(api_url).netloc)
    return found.group(1) if found else None


def sigv4_signer(
    credentials: Any, region: str
) -> Callable[[str, str, bytes, dict[str, str]], dict[str, str]]:
    """Headers for an IAM-authenticated HTTP API call (SigV4, service ``execute-api``)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    def sign(method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign


def resolve_target(args: argparse.Namespace) -> Target:
    import os

    from ipadrop_tools.local.state import read_runtime

    if args.endpoint and args.stack:
        raise CliError("use either --endpoint or --stack, not both.", status=exit_status.USAGE)
    endpoint = args.endpoint or (None if args.stack else os.environ.get("IPADROP_ENDPOINT"))
    stack = args.stack or (None if endpoint else os.environ.get("IPADROP_STACK"))
    if stack:
        return stack_target(stack, args.region, getattr(args, "profile", None))
    if not endpoint:
        runtime = read_runtime(DEFAULT_STATE_DIR)
        endpoint = str(runtime["distribution_url"]) if runtime else None
    if not endpoint:
        raise CliError(
            "say which stack: --endpoint http://127.0.0.1:8080 for `ipadrop local`, "
            "or --stack NAME for a deployed one.",
            status=exit_status.USAGE,
        )
    return local_target(endpoint)


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One ``error: ...`` line and an exit status instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.status

    return run


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """--endpoint / --stack / --region / --profile, shared by every remote command."""
    where = parser.add_argument_group("target (one of)")
    where.add_argument(
        "--endpoint", metavar="URL", help="a local stack, e.g. http://127.0.0.1:8080"
    )
    where.add_argument("--stack", metavar="NAME", help="a deployed stack's CloudFormation name")
    where.add_argument(
        "--region",
        help="AWS region of --stack (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)",
    )
    where.add_argument(
        "--profile", help="AWS profile for --stack (default: AWS_PROFILE, then the default)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
