"""Translation between table rows (``orm``) and domain values (``model``), kept apart from the queries."""

from __future__ import annotations

from crm_core.model import CustomerCard, LoggedCall, PhoneKind, PhoneNumber
from crm_core.orm import CallRow, CustomerRow
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import Outcome, Party


def customer_card(row: CustomerRow) -> CustomerCard:
    """``row`` must have its phones loaded (``selectinload``, or freshly added in this session)."""
    return CustomerCard(
        id=row.id,
        name=row.name,
        company=row.company,
        email=row.email,
        tier=row.tier,
        phones=tuple(PhoneNumber(e164=phone.e164, kind=PhoneKind(phone.kind)) for phone in row.phones),
    )


def call_columns(call: LoggedCall) -> dict[str, object]:
    """Column name -> value for the ``calls`` table."""
    return {
        "call_id": call.call,
        "did": call.did,
        "source": call.source,
        "line_id": call.line,
        "line_name": call.line_name,
        "queue_id": call.queue,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "customer_id": call.customer_id,
        "agent_id": call.agent,
        "arrived_at": call.arrived_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "wait_s": call.wait_s,
        "talk_s": call.talk_s,
        "outcome": call.outcome.value,
        "hung_up_by": call.hung_up_by.value,
        "offers": call.offers,
    }


def logged_call(row: CallRow) -> LoggedCall:
    return LoggedCall(
        call=CallId(row.call_id),
        did=row.did,
        source=row.source,
        line=None if row.line_id is None else LineId(row.line_id),
        line_name=row.line_name,
        queue=None if row.queue_id is None else QueueId(row.queue_id),
        caller_number=row.caller_number,
        caller_name=row.caller_name,
        agent=None if row.agent_id is None else AgentId(row.agent_id),
        arrived_at=row.arrived_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        outcome=Outcome(row.outcome),
        hung_up_by=Party(row.hung_up_by),
        offers=row.offers,
        wait_s=row.wait_s,
        talk_s=row.talk_s,
        customer_id=row.customer_id,
    )
