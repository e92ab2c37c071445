"""Invitations: how many a second for a 500-person group (against moto), and what
``notify`` adds to a publish. Each figure beside a baseline measured in the same run.

    .venv/bin/python -m bench.invites [--group 500] [--repeat 5] [--notify-group 10]

Baselines: for sending, the same number of SES v2 ``SendEmail`` calls with one
pre-rendered message (the floor any sender pays); for the publish, the same
upload published without ``notify``.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.common import machine, median, moto_server, ms, ratio, s3_client, table


def _client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")  # type: ignore[call-overload]


def _world(endpoint: str) -> dict[str, Any]:
    """Bucket, token secret, people table and sender identity in moto."""
    from ipadrop_tools.local.distribution import create_people_table, verify_sender

    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=bucket)
    secret_id = f"bench/{uuid.uuid4().hex[:8]}"
    _client("secretsmanager", endpoint).create_secret(
        Name=secret_id, SecretString=json.dumps({"current": "k1", "k1": secrets.token_urlsafe(32)})
    )
    table = f"people-{uuid.uuid4().hex[:8]}"
    create_people_table(_client("dynamodb", endpoint), table)
    verify_sender(_client("sesv2", endpoint), "bench@example.com")
    return {"bucket": bucket, "s3": s3, "secret_id": secret_id, "table": table}


def _runtime(endpoint: str, world: dict[str, Any]) -> Any:
    import os

    from ipadrop.handlers import processor
    from ipadrop.settings import DistributionSettings, ProcessorSettings

    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "IPADROP_BUCKET": world["bucket"],
            "IPADROP_DISTRIBUTION_URL": "https://apps.example.com",
            "IPADROP_TOKEN_SECRET_ID": world["secret_id"],
            "IPADROP_TABLE": world["table"],
            "IPADROP_SENDER_EMAIL": "bench@example.com",
            "IPADROP_SES_MAX_SEND_RATE": "100000",
            "IPADROP_EVENT_BUS": "default",
        }
    )
    return processor.Runtime(
        settings=ProcessorSettings.from_env(),
        client=world["s3"],
        distribution=DistributionSettings.from_env(),
    )


def _publish(runtime: Any, world: dict[str, Any], body: bytes, metadata: dict[str, str]) -> float:
    from aws_lambda_powertools.utilities.data_classes import S3Event

    from ipadrop.handlers import processor

    key = f"uploads/bench-{uuid.uuid4().hex[:8]}.ipa"
    response = world["s3"].put_object(Bucket=world["bucket"], Key=key, Body=body, Metadata=metadata)
    event = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": world["bucket"]},
                    "object": {
                        "key": key,
                        "size": len(body),
                        "eTag": response["ETag"].strip('"'),
                        "sequencer": f"{time.time_ns():020X}",
                    },
                },
            }
        ]
    }
    started = time.perf_counter()
    summary = processor.process_event(runtime, S3Event(event))
    elapsed = time.perf_counter() - started
    outcome = summary["outcomes"][0]
    if outcome["status"] != "published":
        raise RuntimeError(outcome)
    world["last_build_id"] = outcome["build_id"]
    return elapsed


def run(group: int, repeat: int, notify_group: int) -> dict[str, Any]:
    from ipadrop.adapters.s3store import S3BuildStore
    from ipadrop.adapters.secrets import RuntimeSecrets
    from ipadrop.adapters.table import DynamoPeopleStore
    from ipadrop.distribution.metadata import encode_upload_metadata
    from ipadrop.handlers.wiring import LazyClient, build_invites
    from ipadrop.links.service import LinkConfig, LinkService
    from ipadrop.render.email import InviteMail, compose_invite
    from ipadrop.settings import DistributionSettings
    from ipadrop_tools.devkit.sample_ipa import build_ipa

    results: dict[str, Any] = {"machine": machine(), "group": group}
    buffer = io.BytesIO()
    build_ipa(buffer, bundle_id="com.example.bench")
    body = buffer.getvalue()
    with moto_server() as moto:
        world = _world(moto.endpoint)
        runtime = _runtime(moto.endpoint, world)
        people = DynamoPeopleStore(_client("dynamodb", moto.endpoint), world["table"])
        people.put_group(
            "big",
            [f"tester{i}@example.com" for i in range(group)],
            updated_at="2026-01-01T00:00:00Z",
        )
        people.put_group(
            "small",
            [f"qa{i}@example.com" for i in range(notify_group)],
            updated_at="2026-01-01T00:00:00Z",
        )

        # --- publish: baseline (no metadata) vs notify=<small group>
        plain = [_publish(runtime, world, body, {}) for _ in range(repeat + 1)][1:]
        notify = [
            _publish(runtime, world, body, encode_upload_metadata(notes="Bench", notify=["small"]))
            for _ in range(repeat)
        ]
        results["publish_plain_s"] = median(plain)
        results["publish_notify_s"] = median(notify)
        results["notify_group"] = notify_group

        # --- invitations for the big group through the InviteService
        settings = DistributionSettings.from_env()
        links = LinkService(
            store=S3BuildStore(world["s3"], world["bucket"]),
            config=LinkConfig(distribution_url="https://apps.example.com"),
            key_ring=functools.partial(RuntimeSecrets().token_key_ring, world["secret_id"]),
            signer=None,
            people=people,
            events=None,
        )
        invites = build_invites(links, settings, ses_client=LazyClient("sesv2"))
        started = time.perf_counter()
        made = invites.create_invites(
            {
                "bundle_id": "com.example.bench",
                "build": world["last_build_id"],
                "recipients": ["big"],
            },
            now=int(time.time()),
        )
        ours = time.perf_counter() - started
        assert len(made["invites"]) == group
        assert all(item["status"] == "sent" for item in made["invites"])
        results["invite_s"] = ours

        # --- baseline: the same number of bare SES v2 SendEmail calls
        ses = _client("sesv2", moto.endpoint)
        _, raw = compose_invite(
            InviteMail(
                to="tester@example.com",
                sender_email="bench@example.com",
                sender_name="bench",
                title="Bench",
                version="1",
                build="1",
                install_url="https://apps.example.com/i/x",
                expires_at="2026-12-09T10:00:00Z",
            )
        )
        started = time.perf_counter()
        for i in range(group):
            ses.send_email(
                FromEmailAddress="bench@example.com",
                Destination={"ToAddresses": [f"tester{i}@example.com"]},
                Content={"Raw": {"Data": raw}},
            )
        results["baseline_send_s"] = time.perf_counter() - started
    return results


def render(results: dict[str, Any]) -> str:
    group = results["group"]
    rows = [
        [
            f"{group} invitations (one token, invite row, e-mail each)",
            f"{group / results['invite_s']:.0f} /s ({results['invite_s']:.1f} s)",
            f"{group / results['baseline_send_s']:.0f} /s (bare SendEmail)",
            ratio(results["baseline_send_s"], results["invite_s"]),
        ],
        [
            f"publish with notify ({results['notify_group']} people)",
            ms(results["publish_notify_s"]),
            f"{ms(results['publish_plain_s'])} (same upload, no notify)",
            f"+{ms(results['publish_notify_s'] - results['publish_plain_s'])}",
        ],
    ]
    head = ", ".join(f"{k} {v}" for k, v in results["machine"].items())
    return head + "\n\n" + table(["what", "ours", "baseline", "ratio / added"], rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--notify-group", type=int, default=10)
    args = parser.parse_args(argv)
    results = run(args.group, args.repeat, args.notify_group)
    print(render(results))
    return results


if __name__ == "__main__":
    main()
