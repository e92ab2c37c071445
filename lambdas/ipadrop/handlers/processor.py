"""Processor Lambda: S3 ``ObjectCreated`` under ``uploads/`` -> a published build.

Every record of the batch is handled (S3 may batch several); each key is
decoded with ``unquote_plus`` (S3 sends ``+`` for spaces and percent-escapes
the rest). Rejected IPAs are a normal outcome: a result record, a metric, and
a successful invocation. Anything unexpected raises after the other records
were tried, so Lambda retries the event (publishing is idempotent) and finally
hands it to the on-failure destination.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord

from ipadrop.adapters.s3store import S3BuildStore
from ipadrop.publishing.publisher import (
    Publisher,
    PublishOptions,
    PublishOutcome,
    UploadEvent,
    is_upload_key,
)
from ipadrop.settings import DistributionSettings, ProcessorSettings, normalize_base_url

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_s3 import S3Client

    from ipadrop.distribution.invites import InviteService
    from ipadrop.domain.model import BuildRecord
    from ipadrop.domain.ports import EventPublisher
    from ipadrop.reading.sources import RangeSource

SERVICE = "ipadrop-processor"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="ipadrop", service=SERVICE)

_OUTCOME_METRICS = {
    "published": "BuildsPublished",
    "duplicate": "DuplicateEvents",
    "rejected": "UploadsRejected",
    "skipped": "UploadsSkipped",
}


@dataclass
class Runtime:
    """What one Lambda environment keeps between invocations."""

    settings: ProcessorSettings
    client: S3Client
    distribution: DistributionSettings | None = None
    store: S3BuildStore = field(init=False)
    _distribution_url: str | None = field(default=None, init=False)
    _invites: InviteService | None = field(default=None, init=False)
    _events: EventPublisher | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.store = S3BuildStore(self.client, self.settings.bucket)
        self._distribution_url = self.settings.distribution_url

    @property
    def distribution_url(self) -> str:
        """The configured URL, else the SSM parameter's value (fetched once, on first use)."""
        if self._distribution_url is None:
            from aws_lambda_powertools.utilities.parameters import get_parameter

            name = self.settings.distribution_url_parameter
            if name is None:  # ProcessorSettings requires one of the two
                raise RuntimeError("no distribution URL configured")
            self._distribution_url = normalize_base_url(
                f"SSM parameter {name}", get_parameter(name)
            )
        return self._distribution_url

    def open_source(self, bucket: str, key: str, size: int) -> RangeSource:
        from ipadrop.adapters.s3source import S3RangeSource

        return S3RangeSource(self.client, bucket, key, size=size)

    def publisher(self, bucket: str) -> Publisher:
        if bucket != self.settings.bucket:
            # A notification wired to the wrong function: fail loudly (alarm + DLQ).
            raise ValueError(
                f"event for bucket {bucket!r}, but this function serves {self.settings.bucket!r}"
            )
        return Publisher(
            store=self.store,
            open_source=functools.partial(self.open_source, bucket),
            options=PublishOptions(
                distribution_url=self.distribution_url,
                keep_uploads=self.settings.keep_uploads,
                retain_builds=self.settings.retain_builds,
            ),
            notifier=self.notify if self._can_notify() else None,
            events=self.events(),
        )

    def _can_notify(self) -> bool:
        return (
            self.distribution is not None
            and self.distribution.can_send
            and self.settings.token_secret_id is not None
        )

    def notify(self, record: BuildRecord) -> int:
        """Invite ``notify`` (docs/ARCHITECTURE.md, "Distribution"); built on first use."""
        if self._invites is None:
            from ipadrop.adapters.secrets import RuntimeSecrets
            from ipadrop.adapters.table import DynamoPeopleStore
            from ipadrop.handlers.wiring import LazyClient, build_invites
            from ipadrop.links.service import LinkConfig, LinkService

            distribution, secret_id = self.distribution, self.settings.token_secret_id
            if distribution is None or secret_id is None:  # _can_notify() checked both
                raise RuntimeError("invitations are not configured")

            secrets = RuntimeSecrets()
            links = LinkService(
                store=self.store,
                config=LinkConfig(distribution_url=self.distribution_url),
                key_ring=functools.partial(secrets.token_key_ring, secret_id),
                signer=None,
                people=DynamoPeopleStore(LazyClient("dynamodb"), str(distribution.table)),
                events=self.events(),
            )
            self._invites = build_invites(links, distribution)
        return self._invites.notify_build(record, now=int(time.time()))

    def events(self) -> EventPublisher | None:
        if self._events is None and self.distribution and self.distribution.event_bus:
            import boto3

            from ipadrop.adapters.eventbus import EventBridgePublisher

            self._events = EventBridgePublisher(boto3.client("events"), self.distribution.event_bus)
        return self._events


@functools.cache
def runtime() -> Runtime:
    """Settings and the S3 client, created once per environment (cold start).

    boto3 honours ``AWS_ENDPOINT_URL`` by itself, which is how the local stack
    and the tests point it at moto.
    """
    import boto3
    from botocore.config import Config

    settings = ProcessorSettings.from_env()
    client = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))
    return Runtime(settings=settings, client=client, distribution=DistributionSettings.from_env())


def upload_event(record: S3EventRecord) -> UploadEvent:
    """The core's view of one record: decoded key, upload marker, uploader."""
    s3_object = record.s3.get_object
    identity: dict[str, Any] = record.get("userIdentity") or {}
    principal = identity.get("principalId")
    return UploadEvent(
        bucket=record.s3.bucket.name,
        key=unquote_plus(s3_object.key),
        size=s3_object.size,
        event_time=datetime.fromisoformat(record.event_time),
        etag=s3_object.etag or None,
        sequencer=s3_object.get("sequencer"),
        version_id=s3_object.version_id,
        uploader=str(principal) if principal else None,
    )


@tracer.capture_method
def process_record(rt: Runtime, record: S3EventRecord) -> PublishOutcome | None:
    response_elements: dict[str, str] = record.get("responseElements") or {}
    request_id = response_elements.get("x-amz-request-id")
    logger.set_correlation_id(request_id)
    if not record.event_name.startswith("ObjectCreated:"):
        logger.info("Ignoring event", extra={"event_name": record.event_name})
        metrics.add_metric(name="RecordsIgnored", unit=MetricUnit.Count, value=1)
        return None
    upload = upload_event(record)
    logger.append_keys(upload_key=upload.key, bucket=upload.bucket)
    if not is_upload_key(upload.key):
        logger.info("Ignoring a key outside uploads/ or not ending .ipa")
        metrics.add_metric(name="RecordsIgnored", unit=MetricUnit.Count, value=1)
        return None
    tracer.put_annotation("upload_key", upload.key)
    started = time.perf_counter()
    outcome = rt.publisher(upload.bucket).publish(upload)
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_metric(name=_OUTCOME_METRICS[outcome.status], unit=MetricUnit.Count, value=1)
    if outcome.pruned_build_ids:
        metrics.add_metric(
            name="BuildsPruned", unit=MetricUnit.Count, value=len(outcome.pruned_build_ids)
        )
    if outcome.status == "published":
        metrics.add_metric(name="PublishTime", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    if outcome.invited:
        metrics.add_metric(name="InvitationsSent", unit=MetricUnit.Count, value=outcome.invited)
    if outcome.notify_failed:
        metrics.add_metric(name="NotifyFailures", unit=MetricUnit.Count, value=1)
    log = logger.warning if outcome.status == "rejected" else logger.info
    log(
        outcome.message,
        extra={
            "status": outcome.status,
            "reason": outcome.reason,
            "bundle_id": outcome.bundle_id,
            "build_id": outcome.build_id,
            "pruned_build_ids": list(outcome.pruned_build_ids),
            "elapsed_ms": round(elapsed_ms, 1),
            "uploader": upload.uploader,
        },
    )
    return outcome


def process_event(rt: Runtime, event: S3Event) -> dict[str, Any]:
    """Handle every record; raise at the end if any failed unexpectedly."""
    if "Records" not in event:  # e.g. the s3:TestEvent S3 sends when notifications are set
        logger.info("Ignoring an event without records", extra={"event": event.raw_event})
        metrics.add_metric(name="RecordsIgnored", unit=MetricUnit.Count, value=1)
        return {"outcomes": []}
    outcomes: list[dict[str, Any]] = []
    failures: list[Exception] = []
    conflicts_before = rt.store.conflicts
    for record in event.records:
        try:
            outcome = process_record(rt, record)
        except Exception as error:
            logger.exception("Publishing failed; the event will be retried")
            metrics.add_metric(name="PublishFailures", unit=MetricUnit.Count, value=1)
            failures.append(error)
            continue
        finally:
            logger.remove_keys(["upload_key", "bucket"])
        if outcome is not None and outcome.notify_failed:
            # Published, but the invitations were not sent: fail the event so
            # Lambda retries it; the retry finds the published build and sends
            # only the invitations still missing (docs/ARCHITECTURE.md).
            failures.append(RuntimeError(f"invitations for {outcome.upload_key} failed"))
        if outcome is not None:
            outcomes.append(
                {
                    "status": outcome.status,
                    "upload_key": outcome.upload_key,
                    "bundle_id": outcome.bundle_id,
                    "build_id": outcome.build_id,
                    "reason": outcome.reason,
                    "message": outcome.message,
                    "invited": outcome.invited,
                }
            )
    conflicts = rt.store.conflicts - conflicts_before
    if conflicts:
        metrics.add_metric(name="IndexWriteConflicts", unit=MetricUnit.Count, value=conflicts)
    if failures:
        raise RuntimeError(
            f"{len(failures)} of {len(event['Records'])} records failed: {failures[0]}"
        ) from failures[0]
    return {"outcomes": outcomes}


@logger.inject_lambda_context(
    correlation_id_path='Records[0].responseElements."x-amz-request-id"', clear_state=True
)
@tracer.capture_lambda_handler
# Powertools prints the cold-start metric even when metrics are disabled (the
# local stack disables them), so only ask for it when metrics are on.
@metrics.log_metrics(
    capture_cold_start_metric=os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() != "true"
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The S3Event data class wraps the raw event here rather than through
    # Powertools' untyped @event_source middleware, which mypy --strict refuses.
    return process_event(runtime(), S3Event(event))


# In Lambda, pay for settings and the client during init (boosted CPU, once).
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and os.environ.get("AWS_EXECUTION_ENV"):
    runtime()
