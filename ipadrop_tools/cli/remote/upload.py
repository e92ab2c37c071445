"""Uploading an IPA and waiting for its result record."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ipadrop.domain.bucket_keys import (
    UPLOADS_PREFIX,
    result_key,
)
from ipadrop_tools.cli.remote.target import (
    DEFAULT_WAIT_SECONDS,
    MULTIPART_THRESHOLD,
    CliError,
    Target,
)

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
    metadata: dict[str, str] | None = None,
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
            ExtraArgs={
                "ContentType": "application/octet-stream",
                # notes/channel/notify (docs/ARCHITECTURE.md, "Distribution")
                **({"Metadata": metadata} if metadata else {}),
            },
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
