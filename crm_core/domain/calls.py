"""The call log: a call as the store keeps it (``LoggedCall``), the filters supervisors query it by, and the
agent's wrap-up.

A ``LoggedCall`` holds the router's ``CallRecord`` as the store keeps it (timestamps to the microsecond,
which ``arrived_at``, ``answered_at`` and ``ended_at`` give as aware UTC datetimes, what a report or a UI
wants) and adds what the store knows: the caller's customer, the derived durations frozen as numbers (so
a stored row never has to be recomputed from clock values) and the wrap-up (disposition, agent notes,
linked case), which the agent adds after the call and which is never overwritten when the router
records the call again. The CSV of calls is
``crm_core.csv.calls``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from crm_core.domain import validation
from crm_core.domain.customers import KEEP, Keep
from crm_core.domain.errors import ValidationFailed
from routing.records import CallRecord, Outcome


class Practice(enum.StrEnum):
    """A simulated caller's call: logged like any other, left out of every report and service level."""

    DEMO = "demo"  # ``switchboard demo``'s callers
    TRAINING = "training"  # placed for an agent in training


@dataclass(frozen=True, slots=True)
class CallToLog:
    """One finished call handed to ``CallLog.record_many``: the router's record, the caller's customer and,
    for a simulated caller's call, its practice mark."""

    record: CallRecord
    customer_id: int | None
    practice: Practice | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedCall:
    """A call as the log keeps it: the router's ``record`` and what the store adds to it."""

    record: CallRecord  # its timestamps to the microsecond, as both databases keep them
    customer_id: int | None
    wait_s: float  # the record's own durations, frozen when it was logged
    talk_s: float
    disposition: str | None = None  # the wrap-up code the agent chose
    agent_notes: str | None = None
    case_id: int | None = None
    practice: Practice | None = None  # None: a real caller's call

    @classmethod
    def from_record(
        cls, record: CallRecord, customer_id: int | None, practice: Practice | None = None
    ) -> LoggedCall:
        """The row the store keeps for ``record``; durations come from the record's own floats."""
        answered_at = record.answered_at
        kept = replace(
            record,
            arrived_at=_to_microsecond(record.arrived_at),
            answered_at=None if answered_at is None else _to_microsecond(answered_at),
            ended_at=_to_microsecond(record.ended_at),
        )
        return cls(record=kept, customer_id=customer_id, wait_s=record.wait_s, talk_s=record.talk_s,
                   practice=practice)  # fmt: skip

    @property
    def arrived_at(self) -> datetime:
        return utc(self.record.arrived_at)

    @property
    def answered_at(self) -> datetime | None:
        answered_at = self.record.answered_at
        return None if answered_at is None else utc(answered_at)

    @property
    def ended_at(self) -> datetime:
        return utc(self.record.ended_at)


def utc(unix_seconds: float) -> datetime:
    """Unix seconds as an aware UTC datetime, to the microsecond (what both databases keep)."""
    return datetime.fromtimestamp(unix_seconds, UTC)


def _to_microsecond(unix_seconds: float) -> float:
    """``unix_seconds`` as the store gives it back: rounded as ``utc`` rounds it."""
    return utc(unix_seconds).timestamp()


OUTCOME_CHOICES = "must be one of " + ", ".join(outcome.value for outcome in Outcome)


@dataclass(frozen=True, slots=True, kw_only=True)
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
