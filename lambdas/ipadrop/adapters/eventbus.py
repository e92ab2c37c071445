"""EventBridge adapter (``EventPublisher``): events on the account's default bus,
source ``ipadrop`` (shapes in ``ipadrop.distribution``; docs/ARCHITECTURE.md)."""

from __future__ import annotations

import json
from typing import Any

from ipadrop.domain.ports import JsonDoc
from ipadrop.settings import EVENT_SOURCE


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str = "default") -> None:
        self.client = client
        self.bus_name = bus_name

    def put(self, detail_type: str, detail: JsonDoc) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                    "EventBusName": self.bus_name,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = (response.get("Entries") or [{}])[0]
            code, text = entry.get("ErrorCode"), entry.get("ErrorMessage")
            raise RuntimeError(f"EventBridge refused the event: {code} {text}")
