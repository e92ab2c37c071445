"""The local stack's people table, sender identity and event bus, in moto
(the same resources ``infra/people.py`` and ``infra/mail.py`` create)."""

from __future__ import annotations

import contextlib
from typing import Any

from ipadrop.settings import TABLE_PARTITION_KEY, TABLE_SORT_KEY, TABLE_TTL_ATTRIBUTE

LOCAL_SENDER = "ipadrop@example.com"


def create_people_table(dynamodb: Any, name: str) -> None:
    """On-demand table with ``pk``/``sk`` and the TTL attribute (idempotent)."""
    try:
        dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[
                {"AttributeName": TABLE_PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": TABLE_SORT_KEY, "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": TABLE_SORT_KEY, "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except dynamodb.exceptions.ResourceInUseException:
        return
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE_TTL_ATTRIBUTE},
    )


def verify_sender(sesv2: Any, email: str = LOCAL_SENDER) -> str:
    """moto's SES, like SES in the sandbox, sends only from a verified identity."""
    with contextlib.suppress(sesv2.exceptions.AlreadyExistsException):
        sesv2.create_email_identity(EmailIdentity=email)
    return email


def sent_count(ses_v1: Any) -> int:
    """Messages moto's SES accepted (SES v1 and v2 share moto's backend)."""
    return int(ses_v1.get_send_quota()["SentLast24Hours"])


LOCAL_TEAM_EMAIL = "team@example.com"


def provision_distribution(backend: Any, state_dir: Any, bucket: str) -> dict[str, str]:
    """Table, sender identity; returns the environment the handlers read."""
    from ipadrop.settings import (
        EVENT_BUS_ENV,
        SENDER_EMAIL_ENV,
        SES_MAX_SEND_RATE_ENV,
        TABLE_ENV,
        TEAM_EMAIL_ENV,
    )

    table = people_table_name(bucket)
    create_people_table(backend.client("dynamodb"), table)
    verify_sender(backend.client("sesv2"), LOCAL_SENDER)
    return {
        TABLE_ENV: table,
        SENDER_EMAIL_ENV: LOCAL_SENDER,
        SES_MAX_SEND_RATE_ENV: "50",
        EVENT_BUS_ENV: "default",
        # Devices not in a build's profile are reported here (the outbox shows it).
        TEAM_EMAIL_ENV: LOCAL_TEAM_EMAIL,
    }


def people_table_name(bucket: str) -> str:
    return f"{bucket}-people"
