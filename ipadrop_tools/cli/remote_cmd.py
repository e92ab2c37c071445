"""`ipadrop upload | link | apps | builds | revoke`: talk to a deployed stack or a local one.

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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ipadrop.domain.bucket_keys import (
    UPLOADS_PREFIX,
    is_valid_build_id,
    is_valid_bundle_id,
    result_key,
)
from ipadrop.text import human_size

DEFAULT_STATE_DIR = Path(".ipadrop-local")
MULTIPART_THRESHOLD = 16 * 1024 * 1024
DEFAULT_WAIT_SECONDS = 300


class CliError(Exception):
    """Shown to the user as one ``error: ...`` line; ``status`` is the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- ttl


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_ttl(text: str) -> int:
    """``3600``, ``90m``, ``2h``, ``3d``, ``1w`` -> seconds; ValueError with a sentence if not."""
    found = _DURATION.fullmatch(text)
    seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2).lower()] if found else 0
    if seconds <= 0:
        raise ValueError(
            f"--ttl must be seconds or a duration such as 90m, 2h or 3d, not {text!r}."
        )
    return seconds


def describe_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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
            raise CliError(
                str(message or f"{method} {path} failed with HTTP {exc.code}").rstrip(".") + "."
            ) from None
        except urllib.error.URLError as exc:
            raise CliError(f"cannot reach {self.api_url}: {exc.reason}.") from None


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
        raise CliError(f"--endpoint must be an http(s) URL, not {endpoint!r}.", status=2)
    try:
        with urllib.request.urlopen(base + "/_local/config", timeout=10) as response:  # noqa: S310
            config = json.loads(response.read())
    except (urllib.error.URLError, ValueError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CliError(f"no ipadrop local stack answers at {base} ({reason}).") from None
    return Target(
        description=f"local stack at {base}",
        bucket=str(config["bucket"]),
        drop_prefix=str(config.get("drop_prefix") or UPLOADS_PREFIX),
        api_url=str(config.get("api_url") or base).rstrip("/"),
        distribution_url=str(config.get("distribution_url") or base).rstrip("/"),
        s3=_s3_client(
            str(config["s3_endpoint"]),
            str(config.get("region") or "us-east-1"),
            local_credentials=bool(config.get("embedded_s3")),
        ),
    )


STACK_OUTPUTS = ("BucketName", "DropPrefix", "DistributionUrl", "ApiUrl")


def stack_target(stack_name: str, region: str | None) -> Target:
    """A deployed stack, found through its CloudFormation outputs."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    session = boto3.Session(region_name=region)
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except NoCredentialsError:
        raise CliError("no AWS credentials found (set AWS_PROFILE or run aws sso login).") from None
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        raise CliError(f"cannot read stack {stack_name}: {message}") from None
    except BotoCoreError as exc:
        raise CliError(f"cannot read stack {stack_name}: {exc}") from None
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
        raise CliError("use either --endpoint or --stack, not both.", status=2)
    endpoint = args.endpoint or (None if args.stack else os.environ.get("IPADROP_ENDPOINT"))
    stack = args.stack or (None if endpoint else os.environ.get("IPADROP_STACK"))
    if stack:
        return stack_target(stack, args.region)
    if not endpoint:
        runtime = read_runtime(DEFAULT_STATE_DIR)
        endpoint = str(runtime["distribution_url"]) if runtime else None
    if not endpoint:
        raise CliError(
            "say which stack: --endpoint http://127.0.0.1:8080 for `ipadrop local`, "
            "or --stack NAME for a deployed one.",
            status=2,
        )
    return local_target(endpoint)


# ------------------------------------------------------------------------- upload


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    upload_key: str
    result: dict[str, Any] | None  # None with --no-wait


def upload_key_for(
    path: Path, drop_prefix: str, key_name: str | None, *, now: datetime | None = None
) -> str:
    """The object key for an upload; the bucket only reacts to keys ending in ``.ipa``.

    By default ``uploads/<UTC time>-<random>/<file name>``: every upload gets a key of
    its own, so its result record cannot be confused with an earlier upload's (two CI
    jobs uploading ``App.ipa`` at once, or the same file twice within a second).
    ``--key-name`` picks a fixed name under the drop prefix instead.
    """
    import secrets

    name = key_name if key_name is not None else path.name
    name = name.strip().lstrip("/")
    if not name or ".." in name.split("/") or any(ord(c) < 32 for c in name):
        raise CliError(f"--key-name {name!r} is not a usable object name.", status=2)
    if name.lower().endswith(".ipa"):
        name = name[: -len(".ipa")] + ".ipa"  # the event filter is case-sensitive
    else:
        name += ".ipa"
    if key_name is None:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        name = f"{stamp}-{secrets.token_hex(3)}/{name}"
    prefix = drop_prefix if drop_prefix.endswith("/") else drop_prefix + "/"
    return prefix + name


def _etag(s3: Any, bucket: str, key: str) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return str(s3.head_object(Bucket=bucket, Key=key)["ETag"])
    except ClientError:
        return None  # 404, or 403 when the caller may not list the bucket
    except BotoCoreError as exc:
        raise CliError(f"cannot reach s3://{bucket}: {exc}.") from None


def upload_and_wait(
    target: Target,
    path: Path,
    key: str,
    *,
    wait: bool = True,
    timeout: float = DEFAULT_WAIT_SECONDS,
    progress: Callable[[int], None] | None = None,
) -> UploadOutcome:
    from boto3.exceptions import S3UploadFailedError
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import BotoCoreError, ClientError

    results = result_key(key) if key.startswith(UPLOADS_PREFIX) else f"results/{key}.json"
    previous = _etag(target.s3, target.bucket, results) if wait else None
    config = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=MULTIPART_THRESHOLD,
        max_concurrency=4,
    )
    try:
        target.s3.upload_file(
            str(path),
            target.bucket,
            key,
            ExtraArgs={"ContentType": "application/octet-stream"},
            Config=config,
            Callback=progress,
        )
    except ClientError as exc:
        raise CliError(f"upload to s3://{target.bucket}/{key} failed: {_s3_error(exc)}") from None
    except S3UploadFailedError as exc:
        # boto3's transfer manager wraps the ClientError in text only.
        found = re.search(r"\(([^)]+)\) when calling [^:]*: (.*)$", str(exc))
        reason = f"{found.group(1)}: {found.group(2).rstrip('.')}." if found else f"{exc}."
        raise CliError(f"upload to s3://{target.bucket}/{key} failed: {reason}") from None
    except BotoCoreError as exc:
        raise CliError(f"upload to s3://{target.bucket}/{key} failed: {exc}") from None
    if not wait:
        return UploadOutcome(upload_key=key, result=None)
    return UploadOutcome(
        upload_key=key, result=wait_for_result(target, results, previous, timeout=timeout)
    )


def _s3_error(exc: Any) -> str:
    """A ClientError as ``AccessDenied: Access Denied.`` (no botocore preamble)."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code") or "", error.get("Message") or ""
    return f"{code}: {message}".strip(": ").rstrip(".") + "." if code or message else f"{exc}."


def wait_for_result(
    target: Target, key: str, previous_etag: str | None, *, timeout: float
) -> dict[str, Any]:
    """Poll ``results/<upload key>.json`` until a record newer than ``previous_etag`` appears."""
    from botocore.exceptions import BotoCoreError, ClientError

    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        try:
            obj = target.s3.get_object(Bucket=target.bucket, Key=key)
            if str(obj["ETag"]) != previous_etag:
                data = json.loads(obj["Body"].read())
                if isinstance(data, dict):
                    return data
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in ("NoSuchKey", "404", "AccessDenied", "403"):
                raise CliError(
                    f"cannot read s3://{target.bucket}/{key}: {_s3_error(exc)}"
                ) from None
        except BotoCoreError as exc:
            raise CliError(f"cannot read s3://{target.bucket}/{key}: {exc}.") from None
        except ValueError:
            raise CliError(
                f"s3://{target.bucket}/{key} is not a result record (not JSON)."
            ) from None
        if time.monotonic() >= deadline:
            raise CliError(
                f"no result at s3://{target.bucket}/{key} after {timeout:.0f} s; "
                "the upload is in the bucket, so check again later."
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


# ---------------------------------------------------------------------- rendering


def _console(*, stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _is_person() -> bool:
    return sys.stdout.isatty()


def _version_text(version: Any, build: Any) -> str:
    if version and build and version != build:
        return f"{version} ({build})"
    return str(version or build or "-")


def print_result(result: dict[str, Any]) -> None:
    """A published build for people (rejections are reported as errors)."""
    console = _console()
    title = result.get("title") or result.get("bundle_id")
    console.print(
        f"[bold green]Published[/] {_escape(title)} "
        f"{_escape(_version_text(result.get('version'), result.get('build')))}"
    )
    console.print(f"  bundle id  {_escape(result.get('bundle_id'))}")
    console.print(f"  build id   {_escape(result.get('build_id'))}")


def _escape(value: Any) -> str:
    from rich.markup import escape

    return escape(str(value if value is not None else ""))


def rejection_message(result: dict[str, Any]) -> str:
    message = str(result.get("message") or "the upload was rejected").rstrip(".")
    return f"rejected ({result.get('reason') or 'unknown'}): {message}."


def apps_table(apps: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title="Apps", title_justify="left")
    table.add_column("Bundle ID", no_wrap=True, min_width=20)
    table.add_column("Title", overflow="fold")
    table.add_column("Latest", no_wrap=True)
    table.add_column("Builds", justify="right")
    table.add_column("Updated", no_wrap=True)
    for app in apps:
        table.add_row(
            _escape(app.get("bundle_id")),
            _escape(app.get("title")),
            _escape(_version_text(app.get("latest_version"), app.get("latest_build"))),
            _escape(app.get("build_count", "")),
            _escape(_short_time(app.get("updated_at"))),
        )
    return table


def builds_table(bundle_id: str, builds: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title=f"Builds of {_escape(bundle_id)}", title_justify="left")
    # The build id starts with its upload time, so it doubles as the date column.
    table.add_column("Build ID", no_wrap=True, min_width=27)
    table.add_column("Version", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Profile", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for build in builds:
        table.add_row(
            _escape(build.get("build_id")),
            _escape(_version_text(build.get("version"), build.get("build"))),
            _escape(_size_text(build.get("size_bytes"))),
            _escape(build.get("distribution") or ""),
            "[red]revoked[/]" if build.get("revoked_at") else "[green]live[/]",
        )
    return table


def _short_time(iso: Any) -> str:
    """``2026-11-24T00:37:41Z`` -> ``2026-11-24 00:37`` (UTC, as stored)."""
    text = str(iso or "")
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def _size_text(size: Any) -> str:
    return human_size(size) if isinstance(size, int) else ""


def qr_text(url: str) -> str:
    """The install URL as a terminal QR code (segno, half-block characters)."""
    import io

    import segno

    buffer = io.StringIO()
    segno.make(url, error="m").terminal(out=buffer, compact=True)
    return buffer.getvalue()


def _list_from(data: Any, key: str) -> list[dict[str, Any]]:
    items = data.get(key) if isinstance(data, dict) else data
    return [item for item in items or [] if isinstance(item, dict)]


# ----------------------------------------------------------------------- commands


@contextmanager
def _upload_progress(path: Path, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=_console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"Uploading {path.name}", total=path.stat().st_size)
        yield lambda sent: bar.advance(task, sent)


def cmd_upload(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path} is not a file.", status=2)
    target = resolve_target(args)
    person = _is_person() and not args.json
    with _upload_progress(path, person) as progress:
        key = upload_key_for(path, target.drop_prefix, args.key_name)
        outcome = upload_and_wait(
            target, path, key, wait=not args.no_wait, timeout=args.timeout, progress=progress
        )
    if outcome.result is None:
        if args.json:
            _print_json({"status": "uploaded", "bucket": target.bucket, "upload_key": key})
        else:
            print(
                f"Uploaded to s3://{target.bucket}/{key}; the result will be at {result_key(key)}"
            )
        return 0
    result = outcome.result
    if args.json:
        _print_json(result)
    elif result.get("status") == "published":
        print_result(result)
        bundle_id, build_id = result.get("bundle_id"), result.get("build_id")
        print(f"\nMint a link: ipadrop link {bundle_id} --build {build_id}")
    if result.get("status") != "published":
        if not args.json:
            print(f"error: {rejection_message(result)}", file=sys.stderr)
        return 1
    return 0


def mint_link(target: Target, bundle_id: str, build: str, ttl_seconds: int | None) -> Any:
    payload: dict[str, Any] = {"bundle_id": bundle_id, "build": build}
    if ttl_seconds is not None:
        payload["ttl_seconds"] = ttl_seconds
    return target.api("POST", "/links", payload).data


def _check_bundle_id(bundle_id: str) -> None:
    if not is_valid_bundle_id(bundle_id):
        raise CliError(f"{bundle_id!r} is not a valid bundle id.", status=2)


def cmd_link(args: argparse.Namespace) -> int:
    try:
        ttl = parse_ttl(args.ttl) if args.ttl is not None else None
    except ValueError as exc:
        raise CliError(str(exc), status=2) from None
    _check_bundle_id(args.bundle_id)
    if args.build != "latest" and not is_valid_build_id(args.build):
        raise CliError(f"--build must be a build id or latest, not {args.build!r}.", status=2)
    link = mint_link(resolve_target(args), args.bundle_id, args.build, ttl)
    if args.json:
        _print_json(link)
        return 0
    print(f"Install page:  {link.get('install_url')}")
    print(f"itms-services: {link.get('itms_services_url')}")
    print(f"Build:         {link.get('bundle_id')} {link.get('build_id')}")
    print(f"Expires:       {_expiry_text(link.get('expires_at'))}")
    if _is_person() and link.get("install_url"):
        print()
        print(qr_text(str(link["install_url"])), end="")
    return 0


def _expiry_text(expires_at: Any) -> str:
    if isinstance(expires_at, int | float):
        moment = datetime.fromtimestamp(expires_at, UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(expires_at).replace("Z", "+00:00"))
        except ValueError:
            return str(expires_at)
    left = int((moment - datetime.now(UTC)).total_seconds())
    when = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{when} (in {_rough_duration(left)})" if left > 0 else when


def _rough_duration(seconds: int) -> str:
    """``1d 2h``, ``2h``, ``1h 30m``, ``45s``: what a person wants to know about an expiry."""
    if seconds < 60:
        return f"{seconds}s"
    minutes_total = (seconds + 30) // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def cmd_apps(args: argparse.Namespace) -> int:
    data = resolve_target(args).api("GET", "/apps").data
    if args.json:
        _print_json(data)
        return 0
    apps = _list_from(data, "apps")
    if not apps:
        print("No apps yet: publish one with `ipadrop upload FILE`.")
        return 0
    _console().print(apps_table(apps))
    return 0


def cmd_builds(args: argparse.Namespace) -> int:
    _check_bundle_id(args.bundle_id)
    data = resolve_target(args).api("GET", f"/apps/{quote(args.bundle_id, safe='')}/builds").data
    if args.json:
        _print_json(data)
        return 0
    _console().print(builds_table(args.bundle_id, _list_from(data, "builds")))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    _check_bundle_id(args.bundle_id)
    if not is_valid_build_id(args.build_id):
        raise CliError(f"{args.build_id!r} is not a valid build id.", status=2)
    path = f"/apps/{quote(args.bundle_id, safe='')}/builds/{quote(args.build_id, safe='')}"
    response = resolve_target(args).api("DELETE", path)
    if args.json:
        _print_json(
            response.data
            if isinstance(response.data, dict)
            else {"bundle_id": args.bundle_id, "build_id": args.build_id, "revoked": True}
        )
        return 0
    print(f"Revoked {args.bundle_id} {args.build_id}: its links stop working now.")
    return 0


def _run(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One ``error: ...`` line and an exit status instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return exc.status

    return run


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("target (one of)")
    where.add_argument(
        "--endpoint", metavar="URL", help="a local stack, e.g. http://127.0.0.1:8080"
    )
    where.add_argument("--stack", metavar="NAME", help="a deployed stack's CloudFormation name")
    where.add_argument("--region", help="AWS region of --stack (default: your AWS config)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def register(subparsers: Any) -> None:
    upload = subparsers.add_parser("upload", help="upload an IPA and wait for it to be published")
    upload.add_argument("file", metavar="FILE", help="the .ipa to publish")
    upload.add_argument("--no-wait", action="store_true", help="return once the file is uploaded")
    upload.add_argument("--key-name", metavar="NAME", help="object name under the drop prefix")
    upload.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"how long to wait for the result (default {DEFAULT_WAIT_SECONDS})",
    )
    _add_target_options(upload)
    upload.set_defaults(func=_run(cmd_upload))

    link = subparsers.add_parser("link", help="mint a short-lived install link")
    link.add_argument("bundle_id", metavar="BUNDLE_ID")
    link.add_argument("--build", default="latest", metavar="ID", help="build id or latest")
    link.add_argument("--ttl", metavar="TTL", help="seconds or a duration: 90m, 2h, 3d")
    _add_target_options(link)
    link.set_defaults(func=_run(cmd_link))

    apps = subparsers.add_parser("apps", help="list the published apps")
    _add_target_options(apps)
    apps.set_defaults(func=_run(cmd_apps))

    builds = subparsers.add_parser("builds", help="list the builds of an app")
    builds.add_argument("bundle_id", metavar="BUNDLE_ID")
    _add_target_options(builds)
    builds.set_defaults(func=_run(cmd_builds))

    revoke = subparsers.add_parser("revoke", help="revoke a build: its links stop working")
    revoke.add_argument("bundle_id", metavar="BUNDLE_ID")
    revoke.add_argument("build_id", metavar="BUILD_ID")
    _add_target_options(revoke)
    revoke.set_defaults(func=_run(cmd_revoke))
