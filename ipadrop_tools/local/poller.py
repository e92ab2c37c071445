"""Feeds the processor the S3 events the bucket sends to its queue, like Lambda's trigger."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from ipadrop_tools.local.events import LocalLambdaContext

log = logging.getLogger("ipadrop_tools.local")

Handler = Callable[[dict[str, Any], Any], Any]


def describe_outcomes(result: Any, keys: list[str]) -> list[str]:
    """One line per upload the processor handled: its key and outcome, for a person.

    ``result`` is what the processor returned (``{"outcomes": [...]}``); keys it did
    not report were ignored (not under ``uploads/`` or not ``.ipa``).
    """
    from ipadrop.text import clean_text

    outcomes = result.get("outcomes") if isinstance(result, dict) else None
    lines: list[str] = []
    reported: set[str] = set()
    for outcome in outcomes if isinstance(outcomes, list) else []:
        if not isinstance(outcome, dict):
            continue
        key = str(outcome.get("upload_key") or "?")
        reported.add(key)
        status = str(outcome.get("status") or "?")
        message = clean_text(str(outcome.get("message") or "")) or ""
        if status == "published":
            lines.append(
                f"{key}: published {outcome.get('bundle_id')} as build {outcome.get('build_id')}"
            )
        elif status == "rejected":
            lines.append(f"{key}: rejected ({outcome.get('reason')}): {message}")
        else:
            lines.append(f"{key}: {status}: {message}" if message else f"{key}: {status}")
    lines.extend(f"{key}: ignored" for key in keys if key not in reported)
    return lines


def s3_event_from_message(body: str) -> dict[str, Any] | None:
    """The S3 event in an SQS message body; None for S3's ``s3:TestEvent`` and non-events."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        return None  # {"Event": "s3:TestEvent", ...} is sent when the notification is set up
    return event


class QueuePoller:
    """Long-polls the queue on a thread; deletes a message only when the handler succeeded."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        *,
        function_name: str = "ipadrop-local-processor",
        wait_seconds: int = 1,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._handler = handler
        self._function_name = function_name
        self._wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ipadrop-sqs-poller", daemon=True)
        self.processed = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=self._wait_seconds,
                ).get("Messages", [])
            except Exception as exc:  # the endpoint went away, e.g. during shutdown
                if self._stop.is_set():
                    return
                log.warning("queue: receive failed: %s", exc)
                self._stop.wait(1.0)
                continue
            for message in messages:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        event = s3_event_from_message(message.get("Body", ""))
        if event is not None:
            keys = [
                unquote_plus(str(record.get("s3", {}).get("object", {}).get("key", "?")))
                for record in event["Records"]
            ]
            try:
                result = self._handler(event, LocalLambdaContext(function_name=self._function_name))
            except Exception:
                # Left on the queue: it comes back after the visibility timeout, then DLQ.
                log.exception(
                    "%s: failed (the message will be retried)", ", ".join(keys) or "upload"
                )
                return
            self.processed += 1
            for line in describe_outcomes(result, keys):
                log.info("%s", line)
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
