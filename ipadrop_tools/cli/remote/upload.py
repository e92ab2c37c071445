"""Uploading an IPA and waiting for its result record."""

from __future__ import annotations

import json
import re
import sys
import threading
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
from ipadrop.text import human_size
from ipadrop_tools.cli import exit_status
from ipadrop_tools.cli.remote.target import (
    DEFAULT_WAIT_SECONDS,
    MULTIPART_THRESHOLD,
    CliError,
    Target,
    unreachable_status,
)

# A line at least this often while a non-interactive upload runs: CI watchdogs kill
# jobs that print nothing for minutes, and a line a second floods the log.
PROGRESS_INTERVAL_SECONDS = 15.0

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

    from ipadrop.domain.bucket_keys import MAX_S3_KEY_BYTES
    from ipadrop.publishing.publisher import is_upload_key
    from ipadrop.text import clean_text

    name = key_name if key_name is not None else path.name
    name = name.strip().lstrip("/")
    if name.lower().endswith(".ipa"):
        name = name[: -len(".ipa")] + ".ipa"  # the event filter is case-sensitive
    else:
        name += ".ipa"
    segments = name.split("/")
    stem = segments[-1][: -len(".ipa")]
    if (
        not stem.strip(". ")
        or any(segment in ("", ".", "..") for segment in segments)
        or clean_text(name) != name
    ):
        # The processor ignores such keys (".ipa" alone), or S3 would store another
        # key than the one the result is looked for under.
        raise CliError(
            f"--key-name {key_name if key_name is not None else path.name!r} is not a usable "
            "object name: give a name such as builds/1234/MyApp.ipa.",
            status=exit_status.USAGE,
        )
    if key_name is None:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        name = f"{stamp}-{secrets.token_hex(3)}/{name}"
    prefix = drop_prefix if drop_prefix.endswith("/") else drop_prefix + "/"
    key = prefix + name
    if prefix == UPLOADS_PREFIX and not is_upload_key(key):
        raise CliError(
            f"{key!r} is not a key the processor acts on (uploads/<name>.ipa).",
            status=exit_status.USAGE,
        )
    if len(key.encode()) > MAX_S3_KEY_BYTES:
        raise CliError(
            f"the object name is {len(key.encode())} bytes; S3 allows {MAX_S3_KEY_BYTES}.",
            status=exit_status.USAGE,
        )
    return key


def local_rejection(path: Path) -> dict[str, Any] | None:
    """Why the processor would reject this file, as a result record does; None if it would not.

    The same reader as the processor's (``ipadrop.reading.inspector``) on the local file,
    so a file that is not an IPA is refused before anything is uploaded.
    """
    from ipadrop.reading.errors import IpaRejected
    from ipadrop.reading.inspector import inspect_ipa
    from ipadrop.reading.sources import LocalFileSource
    from ipadrop.text import clean_text

    try:
        inspect_ipa(LocalFileSource(path))
    except IpaRejected as rejected:
        return {
            "status": "rejected",
            "reason": rejected.code,
            "message": clean_text(rejected.message) or "The file is not an IPA.",
            "uploaded": False,
        }
    except OSError as exc:
        raise CliError(
            f"cannot read {path}: {exc.strerror or exc}.", status=exit_status.USAGE
        ) from None
    return None


class ProgressLines:
    """Progress for logs (no terminal): a line when ``interval`` has passed since the last."""

    def __init__(
        self,
        name: str,
        total: int,
        *,
        interval: float = PROGRESS_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        write: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self.total = total
        self.sent = 0
        self.interval = interval
        self._clock = clock
        self._write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self._started = clock()
        self._last = self._started
        self._lock = threading.Lock()  # boto3 reports progress from its transfer threads

    def _due(self) -> bool:
        now = self._clock()
        if now - self._last < self.interval:
            return False
        self._last = now
        return True

    def advance(self, sent: int) -> None:
        with self._lock:
            self.sent += sent
            if not self._due():
                return
            done = self.sent
        percent = 100 * done // self.total if self.total else 100
        self._write(
            f"Uploading {self.name}: {percent}% ({human_size(done)} of {human_size(self.total)})"
        )

    def waiting(self, key: str, timeout: float) -> None:
        if self._due():
            elapsed = self._clock() - self._started
            self._write(
                f"Waiting for the stack to publish {key}: {elapsed:.0f} s "
                f"(gives up after {timeout:.0f} s)"
            )


def _etag(s3: Any, bucket: str, key: str) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return str(s3.head_object(Bucket=bucket, Key=key)["ETag"])
    except ClientError:
        return None  # 404, or 403 when the caller may not list the bucket
    except BotoCoreError as exc:
        raise CliError(
            f"cannot reach s3://{bucket}: {exc}.", status=unreachable_status(exc)
        ) from None


def upload_and_wait(
    target: Target,
    path: Path,
    key: str,
    *,
    wait: bool = True,
    timeout: float = DEFAULT_WAIT_SECONDS,
    progress: Callable[[int], None] | None = None,
    on_wait: Callable[[], None] | None = None,
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
        raise CliError(
            f"upload to s3://{target.bucket}/{key} failed: {exc}", status=unreachable_status(exc)
        ) from None
    if not wait:
        return UploadOutcome(upload_key=key, result=None)
    result = wait_for_result(target, results, previous, timeout=timeout, on_wait=on_wait)
    return UploadOutcome(upload_key=key, result=result)


def _s3_error(exc: Any) -> str:
    """A ClientError as ``AccessDenied: Access Denied.`` (no botocore preamble)."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code") or "", error.get("Message") or ""
    return f"{code}: {message}".strip(": ").rstrip(".") + "." if code or message else f"{exc}."


def wait_for_result(
    target: Target,
    key: str,
    previous_etag: str | None,
    *,
    timeout: float,
    on_wait: Callable[[], None] | None = None,
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
            raise CliError(
                f"cannot read s3://{target.bucket}/{key}: {exc}.", status=unreachable_status(exc)
            ) from None
        except ValueError:
            raise CliError(
                f"s3://{target.bucket}/{key} is not a result record (not JSON)."
            ) from None
        if time.monotonic() >= deadline:
            raise CliError(
                f"no result at s3://{target.bucket}/{key} after {timeout:.0f} s; "
                "the upload is in the bucket, so check again later.",
                status=exit_status.TIMED_OUT,
            )
        if on_wait is not None:
            on_wait()
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)
