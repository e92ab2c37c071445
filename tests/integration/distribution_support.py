"""A link function with distribution turned on, in moto: people table, SES
sender identity, events; every sent message and event captured for assertions."""

from __future__ import annotations

import contextlib
import email
import email.policy
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest

from ipadrop.adapters.eventbus import EventBridgePublisher
from ipadrop.adapters.mailer import SesMailer
from ipadrop.domain.ports import OutgoingMail
from ipadrop_tools.local.distribution import create_people_table, verify_sender
from tests.integration.link_support import Stack, open_stack

SENDER = "ipadrop@example.com"


@dataclass
class Sent:
    messages: list[EmailMessage] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def install_url_of(message: EmailMessage) -> str:
    import re

    html = message.get_body(("html",))
    assert html is not None
    match = re.search(r'id="install" href="([^"]+)"', html.get_content())
    assert match, "no install button"
    return match.group(1)


def capture(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Wrap the SES and EventBridge adapters: the real calls still go to moto."""
    sent = Sent()
    original_send = SesMailer.send
    original_put = EventBridgePublisher.put

    def send(self: SesMailer, mail: OutgoingMail) -> str:
        message_id = original_send(self, mail)
        parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
        sent.messages.append(parsed)  # type: ignore[arg-type]
        return message_id

    def put(self: EventBridgePublisher, detail_type: str, detail: dict[str, Any]) -> None:
        original_put(self, detail_type, detail)
        sent.events.append((detail_type, detail))

    monkeypatch.setattr(SesMailer, "send", send)
    monkeypatch.setattr(EventBridgePublisher, "put", put)
    return sent


@contextlib.contextmanager
def open_distribution_stack(
    endpoint: str,
    bucket: str,
    cloudfront_keys: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Stack, Sent, str]]:
    from ipadrop.handlers import wiring
    from tests.conftest import boto_client

    table = f"people-{uuid.uuid4().hex[:10]}"
    create_people_table(boto_client("dynamodb", endpoint), table)
    verify_sender(boto_client("sesv2", endpoint), SENDER)
    sent = capture(monkeypatch)
    delenv: Callable[[str], None] = lambda name: monkeypatch.delenv(name, raising=False)  # noqa: E731
    with open_stack(
        endpoint,
        bucket,
        cloudfront_keys,
        monkeypatch.setenv,
        delenv,
        IPADROP_TABLE=table,
        IPADROP_SENDER_EMAIL=SENDER,
        IPADROP_EVENT_BUS="default",
        IPADROP_SES_MAX_SEND_RATE="1000",
    ) as stack:
        wiring.invites.cache_clear()
        try:
            yield stack, sent, table
        finally:
            wiring.invites.cache_clear()
