"""The store's domain types: plain frozen dataclasses, no SQL.

A ``LoggedCall`` is a ``CallRecord`` as the store keeps it: timestamps as aware UTC datetimes (what a
report or a UI wants) and the derived durations frozen as numbers, so a stored row never has to be
recomputed from clock values. Its wrap-up (disposition, agent notes, linked case) is added by the agent
after the call and is never overwritten when the router records the call again.

The other concepts have their own modules: ``customers``, ``accounts``, ``orders``, ``cases``,
``interactions``, ``pagination`` and ``customer_csv``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from crm_core.domain.accounts import Account
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import CallRecord, Outcome, Party


class PhoneKind(enum.StrEnum):
    MOBILE = "mobile"
    OFFICE = "office"
    HOME = "home"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str  # always E.164: the one form a caller id can be matched against
    kind: PhoneKind


@dataclass(frozen=True, slots=True)
class CustomerCard:
    """What a screen pop shows about the caller: who it is and whether they may order on account."""

    id: int
    name: str
    company: str | None
    email: str | None
    tier: str = "standard"
    phones: tuple[PhoneNumber, ...] = ()
    language: str | None = None
    account: Account | None = None  # None: the business keeps no account for this customer


@dataclass(frozen=True, slots=True)
class LoggedCall:
    call: CallId
    did: str
    source: str | None
    line: LineId | None
    line_name: str | None
    queue: QueueId | None
    caller_number: str | None
    caller_name: str | None
    agent: AgentId | None
    arrived_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    outcome: Outcome
    hung_up_by: Party
    offers: int
    wait_s: float
    talk_s: float
    customer_id: int | None
    disposition: str | None = None  # the wrap-up code the agent chose
    agent_notes: str | None = None
    case_id: int | None = None
    priority: int = 0  # the queue priority the call had (higher went first)
    after_hours: bool = False  # arrived while its line was closed
    on_call: str | None = None  # the on-call person who took an after-hours call
    recording: str | None = None  # the message left, for voicemail
    callback_of: CallId | None = None  # for a callback: the call whose caller asked for it
    part_of: CallId | None = None  # for one agent's stretch of a call they handed on: that call

    @classmethod
    def from_record(cls, record: CallRecord, customer_id: int | None) -> LoggedCall:
        """The row the store keeps for ``record``; durations come from the record's own floats."""
        return cls(
            call=record.call,
            did=record.did,
            source=record.source,
            line=record.line,
            line_name=record.line_name,
            queue=record.queue,
            caller_number=record.caller_number,
            caller_name=record.caller_name,
            agent=record.agent,
            arrived_at=utc(record.arrived_at),
            answered_at=None if record.answered_at is None else utc(record.answered_at),
            ended_at=utc(record.ended_at),
            outcome=record.outcome,
            hung_up_by=record.hung_up_by,
            offers=record.offers,
            wait_s=record.wait_s,
            talk_s=record.talk_s,
            customer_id=customer_id,
            priority=record.priority,
            after_hours=record.after_hours,
            on_call=record.on_call,
            recording=record.recording,
            callback_of=record.callback_of,
            part_of=record.part_of,
        )


def utc(unix_seconds: float) -> datetime:
    """Unix seconds as an aware UTC datetime, to the microsecond (what both databases keep)."""
    return datetime.fromtimestamp(unix_seconds, UTC)


@dataclass(frozen=True, slots=True)
class SupervisorAction:
    """A supervisor's order and how it ended, as the audit trail keeps it."""

    at: datetime
    who: str  # the supervisor's username
    action: str  # e.g. not-ready, logged-out, listen
    target: str  # the agent id (or the call id)
    detail: str | None  # e.g. the pause reason
    outcome: str  # "done", or the error code the supervisor got
