"""Interactions: the call log queried by what supervisors ask, the agent's wrap-up, and the CSV of calls.

The CSV has one header line (``CALL_CSV_COLUMNS``) and one line per call, timestamps in ISO 8601 UTC,
durations in seconds to the millisecond. The store streams it in chunks, oldest call first.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from crm_core.domain import validation
from crm_core.domain.errors import ValidationFailed
from crm_core.domain.keep import KEEP, Keep
from crm_core.domain.model import LoggedCall
from routing.records import Outcome

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


CALL_CSV_COLUMNS = (
    "call_id",
    "arrived_at",
    "answered_at",
    "ended_at",
    "did",
    "source",
    "line_id",
    "line_name",
    "queue_id",
    "caller_number",
    "caller_name",
    "customer_id",
    "agent_id",
    "outcome",
    "hung_up_by",
    "offers",
    "wait_s",
    "talk_s",
    "disposition",
    "agent_notes",
    "case_id",
    # Added after the first release, at the end so readers that take columns by position keep working.
    "priority",
    "after_hours",
    "on_call",
    "recording",
    "callback_of",
    "part_of",
)


def call_csv_fields(call: LoggedCall) -> list[str]:
    def opt(value: object) -> str:
        return "" if value is None else str(value)

    return [
        call.call,
        call.arrived_at.isoformat(),
        "" if call.answered_at is None else call.answered_at.isoformat(),
        call.ended_at.isoformat(),
        call.did,
        opt(call.source),
        opt(call.line),
        opt(call.line_name),
        opt(call.queue),
        opt(call.caller_number),
        opt(call.caller_name),
        opt(call.customer_id),
        opt(call.agent),
        call.outcome.value,
        call.hung_up_by.value,
        str(call.offers),
        f"{call.wait_s:.3f}",
        f"{call.talk_s:.3f}",
        opt(call.disposition),
        opt(call.agent_notes),
        opt(call.case_id),
        str(call.priority),
        "true" if call.after_hours else "false",
        opt(call.on_call),
        opt(call.recording),
        opt(call.callback_of),
        opt(call.part_of),
    ]


def csv_line(fields: list[str]) -> str:
    """One CSV record, quoted as needed, ending in ``\\r\\n`` (RFC 4180)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(fields)
    return buffer.getvalue()
