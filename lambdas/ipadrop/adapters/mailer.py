"""SES v2 adapter (``Mailer``): one raw MIME message per call, within a send rate.

The message is built by ``ipadrop.render.email`` (HTML + plain text, the icon
inline as a CID part) and sent with ``SendEmail`` ``Content.Raw``, through a
configuration set (bounces and complaints are handled there: SES's
account-level suppression list plus the set's event destinations). Sending is
paced by a token bucket at SES's maximum send rate so a group of hundreds is
not throttled (docs/ARCHITECTURE.md, "Distribution").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ipadrop.domain.ports import MailRejected, OutgoingMail

# SES errors about this one message (not the service): never retried.
_PERMANENT = {"BadRequestException", "MessageRejected", "MailFromDomainNotVerifiedException"}
_THROTTLED = {"TooManyRequestsException", "LimitExceededException", "Throttling"}


class TokenBucket:
    """At most ``rate`` acquisitions a second on average, bursts up to ``burst``."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting when none is left; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
            self._last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            wait = (1 - self.tokens) / self.rate
            self._sleep(wait)
            self._last = self._clock()
            self.tokens = 0.0
            return wait


class SesMailer:
    def __init__(
        self,
        client: Any,
        *,
        sender: str,
        configuration_set: str | None = None,
        max_send_rate: float = 14.0,
        bucket: TokenBucket | None = None,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.sender = sender
        self.configuration_set = configuration_set
        self.bucket = bucket or TokenBucket(max_send_rate)
        self.retries = retries
        self._sleep = sleep

    def send(self, mail: OutgoingMail) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": mail.raw}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        attempt = 0
        while True:
            self.bucket.acquire()
            try:
                response = self.client.send_email(**request)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code in _PERMANENT:
                    raise MailRejected(f"SES refused the message to {mail.to}: {code}") from None
                if code in _THROTTLED and attempt < self.retries:
                    attempt += 1
                    self._sleep(min(8.0, 0.25 * 2**attempt))
                    continue
                raise
            return str(response.get("MessageId", ""))
