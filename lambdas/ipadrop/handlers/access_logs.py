"""Access-log function: CloudFront standard log files (S3 ``ObjectCreated`` on the
log bucket, prefix ``cloudfront/``) -> ``download_finished`` activity.

The parsing and the rule for "finished" are in ``ipadrop.distribution.access_logs``
(docs/ARCHITECTURE.md, "Distribution"). A file is read once per event; recording
is idempotent (event ids come from CloudFront's request ids).
"""

from __future__ import annotations

import functools
import gzip
import io
import logging
import os
from typing import Any
from urllib.parse import unquote_plus

from ipadrop.distribution.access_logs import parse_log, record_downloads
from ipadrop.settings import TABLE_ENV

logger = logging.getLogger("ipadrop.access_logs")
logger.setLevel(logging.INFO)


@functools.cache
def _clients() -> tuple[Any, Any]:
    import boto3

    return boto3.client("s3"), boto3.client("dynamodb")


def process_log_object(
    s3: Any, bucket: str, key: str, *, builds_bucket: str, dynamodb: Any, table: str
) -> int:
    from ipadrop.adapters.s3store import S3BuildStore
    from ipadrop.adapters.table import DynamoPeopleStore

    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if key.endswith(".gz") or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    lines = io.StringIO(body.decode("utf-8", errors="replace"))
    downloads = parse_log(lines)
    if not downloads:
        return 0
    return record_downloads(
        downloads,
        builds=S3BuildStore(s3, builds_bucket),
        people=DynamoPeopleStore(dynamodb, table),
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    s3, dynamodb = _clients()
    builds_bucket = os.environ["IPADROP_BUCKET"]
    table = os.environ[TABLE_ENV]
    recorded = 0
    for record in event.get("Records", []):
        s3_part = record.get("s3") or {}
        bucket = (s3_part.get("bucket") or {}).get("name")
        key = unquote_plus((s3_part.get("object") or {}).get("key", ""))
        if not bucket or not key:
            continue
        recorded += process_log_object(
            s3, bucket, key, builds_bucket=builds_bucket, dynamodb=dynamodb, table=table
        )
    logger.info("recorded %d finished downloads", recorded)
    return {"recorded": recorded}
