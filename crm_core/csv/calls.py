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
    "end_reason",
)


def call_csv_fields(call: LoggedCall) -> list[str]:
    def opt(value: object) -> str:
        return "" if value is None else str(value)

    r = call.record
    return [
        r.call,
        call.arrived_at.isoformat(),
        "" if call.answered_at is None else call.answered_at.isoformat(),
        call.ended_at.isoformat(),
        r.did,
        opt(r.source),
        opt(r.line),
        opt(r.line_name),
        opt(r.queue),
        opt(r.caller_number),
        opt(r.caller_name),
        opt(call.customer_id),
        opt(r.agent),
        r.outcome.value,
        r.hung_up_by.value,
        str(r.offers),
        f"{call.wait_s:.3f}",
        f"{call.talk_s:.3f}",
        opt(call.disposition),
        opt(call.agent_notes),
        opt(call.case_id),
        str(r.priority),
        "true" if r.after_hours else "false",
        opt(r.on_call),
        opt(r.recording),
        opt(r.callback_of),
        opt(r.part_of),
        opt(r.end_reason),
    ]
