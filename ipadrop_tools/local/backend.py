"""The AWS side of the local stack: an embedded moto server (or another endpoint), and
the bucket, queue, event notification and secrets the deployed stack would have."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ipadrop.domain.bucket_keys import UPLOAD_SUFFIX, UPLOADS_PREFIX
from ipadrop_tools.local.events import LOCAL_REGION
from ipadrop_tools.local.state import LocalState

# moto answers any credentials; these keep boto3 from looking for real ones.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class BackendError(Exception):
    """The AWS endpoint cannot be used; the message says why in one sentence."""


@dataclass(slots=True)
class Backend:
    endpoint_url: str
    embedded: Any | None  # moto.server.ThreadedMotoServer when we started it

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        make_client: Any = boto3.client  # typed per service name; ours is a variable
        return make_client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=LOCAL_REGION,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3}),
        )

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


def start_backend(endpoint_url: str | None) -> Backend:
    """Start moto on a free loopback port, or check that ``endpoint_url`` answers."""
    if endpoint_url:
        _check_reachable(endpoint_url)
        return Backend(endpoint_url=endpoint_url.rstrip("/"), embedded=None)
    from moto.server import ThreadedMotoServer

    # moto's web server logs every request; the local stack logs its own.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return Backend(endpoint_url=f"http://{host}:{port}", embedded=server)


def _check_reachable(endpoint_url: str) -> None:
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BackendError(f"AWS_ENDPOINT_URL must be an http(s) URL, not {endpoint_url!r}.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=3):
            pass
    except OSError as exc:
        raise BackendError(
            f"cannot reach the AWS endpoint {endpoint_url} named by AWS_ENDPOINT_URL "
            f"({exc.strerror or exc})."
        ) from None


@dataclass(frozen=True, slots=True)
class Provisioned:
    queue_url: str
    dead_letter_queue_url: str


def provision(backend: Backend, state: LocalState) -> Provisioned:
    """Create (or reuse) what the stack creates; idempotent, so a persistent endpoint works."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _provision(backend, state)
    except (BotoCoreError, ClientError) as exc:
        raise BackendError(
            f"cannot set up the local AWS resources at {backend.endpoint_url}: {exc}"
        ) from None


def _provision(backend: Backend, state: LocalState) -> Provisioned:
    s3 = backend.client("s3")
    sqs = backend.client("sqs")
    secrets = backend.client("secretsmanager")

    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if state.bucket not in existing:
        s3.create_bucket(Bucket=state.bucket)

    # A poisoned upload goes to a dead-letter queue after three tries instead of looping.
    dlq_url = sqs.create_queue(QueueName=f"{state.queue_name}-dlq")["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    queue_url = sqs.create_queue(
        QueueName=state.queue_name,
        Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        },
    )["QueueUrl"]
    s3.put_bucket_notification_configuration(
        Bucket=state.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "ipadrop-uploads",
                    "QueueArn": _queue_arn(sqs, queue_url),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": UPLOADS_PREFIX},
                                {"Name": "suffix", "Value": UPLOAD_SUFFIX},
                            ]
                        }
                    },
                }
            ]
        },
    )

    _put_secret(secrets, state.token_secret_id, json.dumps(state.token_keys))
    _put_secret(
        secrets,
        state.cloudfront_key_secret_id,
        json.dumps({"private_key_pem": state.private_key_pem.decode("ascii")}),
    )
    return Provisioned(queue_url=queue_url, dead_letter_queue_url=dlq_url)


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _put_secret(secrets: Any, secret_id: str, value: str) -> None:
    try:
        secrets.create_secret(Name=secret_id, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=secret_id, SecretString=value)
