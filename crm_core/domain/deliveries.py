"""Deliveries of the answering service's messages: one per channel and recipient, with a lifecycle table.

A message taken for a business is saved (as a case) first; then one ``Delivery`` is queued for each way
the business's rules say to tell someone (an email, an SMS, the line's webhook). A worker claims due
deliveries, tries each, and records what came of it. Everything here is pure: times come in.

    queued ──▶ sent ──▶ delivered ──▶ read ──▶ filed
      │  ▲       │  └──────────────────▲ │        ▲
      │  └ retry └──▶ failed ──────────┼─┼────────┘
      └───────────────▶ failed         (read, filed from sent too)

``TRANSITIONS`` is the whole of it (the diagram is drawn from it, not the other way round); a change it
does not list raises ``IllegalDeliveryTransition`` and changes nothing. A status never goes back to
``queued`` once the delivery has been sent, delivered, read or filed.

    CrmError
    ├── InvalidInput ─ InvalidDelivery             a recipient or channel that cannot be (with the field)
    ├── NotFound ─ DeliveryNotFound                a delivery id that is not in the store
    └── Conflict ─ IllegalDeliveryTransition       a status change the table does not allow
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from crm_core.domain.errors import Conflict, InvalidInput, NotFound
from routing.ids import LineId


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its next attempt (or being tried now, under a claim)
    SENT = "sent"  # the mail server or SMS provider took it
    DELIVERED = "delivered"  # the far end has it (the webhook answered 2xx; a provider's receipt)
    FAILED = "failed"  # refused for good, or out of attempts
    READ = "read"  # the recipient opened the link it carried
    FILED = "filed"  # dealt with: nothing more to do


S = DeliveryStatus
TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    S.QUEUED: frozenset({S.QUEUED, S.SENT, S.DELIVERED, S.FAILED}),  # queued -> queued: a retry
    S.SENT: frozenset({S.DELIVERED, S.READ, S.FAILED, S.FILED}),
    S.DELIVERED: frozenset({S.READ, S.FILED}),
    S.READ: frozenset({S.FILED}),
    S.FAILED: frozenset({S.FILED}),
    S.FILED: frozenset(),
}
TERMINAL = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)


def checked_transition(current: DeliveryStatus, new: DeliveryStatus) -> DeliveryStatus:
    """``new`` if the table allows ``current -> new``; else ``IllegalDeliveryTransition``."""
    if new not in TRANSITIONS[current]:
        raise IllegalDeliveryTransition(current, new)
    return new


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` in all; after the n-th failure wait ``base_s * 2**(n-1)``, at most ``max_s``."""

    attempts: int = 6
    base_s: float = 30.0
    max_s: float = 3600.0

    def delay(self, failures: int) -> float:
        return min(self.max_s, self.base_s * (1 << min(62, max(0, failures - 1))))


@dataclass(frozen=True, slots=True)
class Accepted:
    """The attempt worked: the far end took it (``status`` sent or delivered), with what it answered."""

    status: DeliveryStatus
    answer: str


@dataclass(frozen=True, slots=True)
class Refused:
    """The attempt did not work; ``permanent``: trying again cannot help (a 4xx, a bad address)."""

    error: str
    permanent: bool


Attempt = Accepted | Refused


@dataclass(frozen=True, slots=True)
class Decision:
    """What to write after an attempt: the row's new status, attempt count and next attempt time."""

    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    detail: str


def after_attempt(attempts: int, outcome: Attempt, now: datetime, policy: RetryPolicy) -> Decision:
    """The row's next state after attempt number ``attempts + 1`` ended in ``outcome`` at ``now``."""
    made = attempts + 1
    match outcome:
        case Accepted(status, answer):
            return Decision(status, made, now, answer)
        case Refused(error, permanent) if permanent or made >= policy.attempts:
            why = error if permanent else f"{error} (attempt {made} of {policy.attempts}: giving up)"
            return Decision(S.FAILED, made, now, why)
        case Refused(error, _):
            return Decision(S.QUEUED, made, now + timedelta(seconds=policy.delay(made)), error)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDelivery:
    """One delivery to queue: ``content`` is the message as the channel sends it (JSON-able)."""

    message_id: int  # the case the message was filed as
    business: LineId
    channel: Channel
    recipient: str  # an address, an E.164 number, or the webhook's URL
    content: dict[str, object]
    call: str | None = None  # the call the message was taken on (the caller's call id), if any


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    id: int
    message_id: int
    business: LineId
    channel: Channel
    recipient: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    answer: str | None
    content: dict[str, object]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryChange:
    """One line of a delivery's history: the status it went to (or stayed at, for a retry), when, why."""

    status: DeliveryStatus
    at: datetime
    detail: str


class DeliveryLog(Protocol):
    """What the API reads of the queue (``crm_core.sql.deliveries.SqlDeliveries``)."""

    async def of_message(self, message_id: int) -> list[Delivery]: ...
    async def history(self, delivery_id: int) -> list[DeliveryChange]: ...


EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[A-Za-z]{2,}")
E164 = re.compile(r"\+[1-9]\d{6,14}")


def checked_recipient(channel: Channel, recipient: str) -> str:
    """``recipient`` if it can be one for ``channel`` (an address, an E.164 number, an http(s) URL)."""
    ok = {
        Channel.EMAIL: EMAIL.fullmatch(recipient) is not None,
        Channel.SMS: E164.fullmatch(recipient) is not None,
        Channel.WEBHOOK: recipient.startswith(("http://", "https://")),
    }[channel]
    if not ok or len(recipient) > 2000:
        raise InvalidDelivery("recipient", f"{recipient[:80]!r} is not a {channel} recipient")
    return recipient


class InvalidDelivery(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class DeliveryNotFound(NotFound):
    def __init__(self, delivery: int) -> None:
        super().__init__(f"no delivery {delivery}")
        self.delivery = delivery


class IllegalDeliveryTransition(Conflict):
    def __init__(self, current: DeliveryStatus, new: DeliveryStatus) -> None:
        super().__init__(f"a delivery cannot go from {current} to {new}")
        self.current = current
        self.new = new
