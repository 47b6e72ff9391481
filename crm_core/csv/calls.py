"""The CSV of calls that the call log exports: one header line (``CALL_CSV_COLUMNS``) and one line per
call, timestamps in ISO 8601 UTC, durations in seconds to the millisecond. The store streams it in
chunks, oldest call first.
"""

from __future__ import annotations

from crm_core.domain.calls import LoggedCall

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
