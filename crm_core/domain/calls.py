"""The call log: a call as the store keeps it (``LoggedCall``), the filters supervisors query it by, and the
agent's wrap-up.

A ``LoggedCall`` is a ``CallRecord`` as the store keeps it: timestamps as aware UTC datetimes (what a
report or a UI wants) and the derived durations frozen as numbers, so a stored row never has to be
recomputed from clock values. Its wrap-up (disposition, agent notes, linked case) is added by the agent
after the call and is never overwritten when the router records the call again. The CSV of calls is
``crm_core.csv.calls``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from crm_core.domain import validation
from crm_core.domain.customers import KEEP, Keep
from crm_core.domain.errors import ValidationFailed
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import CallRecord, Outcome, Party


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


OUTCOME_CHOICES = "must be one of " + ", ".join(outcome.value for outcome in Outcome)


@dataclass(frozen=True, slots=True)
class CallFilter:
    """Which calls to list; every field left None matches every call. ``since`` is inclusive,
    ``until`` exclusive, both on the arrival time."""

    since: datetime | None = None
    until: datetime | None = None
    line: str | None = None
    did: str | None = None
    source: str | None = None
    queue: str | None = None
    agent: str | None = None
    outcome: Outcome | None = None
    customer_id: int | None = None
    case_id: int | None = None
    after_hours: bool | None = None  # True: only calls that came in while their line was closed


@dataclass(frozen=True, slots=True)
class WrapUp:
    """What the agent adds after a call; ``None`` erases a field, ``KEEP`` leaves it."""

    disposition: str | Keep | None = KEEP
    agent_notes: str | Keep | None = KEEP
    case_id: int | Keep | None = KEEP


def checked_filter(query: CallFilter) -> CallFilter:
    validation.aware("since", query.since)
    validation.aware("until", query.until)
    if query.outcome is not None:
        try:
            Outcome(query.outcome)
        except ValueError:
            raise ValidationFailed("outcome", OUTCOME_CHOICES) from None
    return query


def checked_wrap_up(wrap_up: WrapUp) -> dict[str, object]:
    """Column name -> new value, for the fields the wrap-up changes."""
    values: dict[str, object] = {}
    if wrap_up.disposition is not KEEP:
        values["disposition"] = validation.optional_text("disposition", wrap_up.disposition, 100)
    if wrap_up.agent_notes is not KEEP:
        values["agent_notes"] = validation.optional_text(
            "agent_notes", wrap_up.agent_notes, validation.LONG_TEXT
        )
    if wrap_up.case_id is not KEEP:
        values["case_id"] = wrap_up.case_id
    return values
