"""``SqlEscalationAttempts``: each on-call person rung for an escalated call, and what came of it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select

from crm_core.domain.escalations import Attempt, EscalationReport, report
from crm_core.sql.database import Database
from crm_core.sql.orm import CallRow
from crm_core.sql.orm_escalations import EscalationAttemptRow

CHUNK = 500  # calls asked at once: a statement's parameters are few


class SqlEscalationAttempts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, attempt: Attempt) -> None:
        row = {
            "call_id": attempt.call, "person": attempt.person, "number": attempt.number,
            "round": attempt.round, "step": attempt.step, "started_at": attempt.started_at,
            "ended_at": attempt.ended_at, "result": attempt.result,
        }  # fmt: skip
        async with self._db.engine.begin() as connection:
            await connection.execute(insert(EscalationAttemptRow).values(row))

    async def of_calls(self, calls: Collection[str]) -> Mapping[str, tuple[Attempt, ...]]:
        found: dict[str, list[Attempt]] = {}
        wanted, r = sorted(set(calls)), EscalationAttemptRow
        async with self._db.reads.connect() as connection:
            for start in range(0, len(wanted), CHUNK):
                query = select(r).where(r.call_id.in_(wanted[start : start + CHUNK])).order_by(r.id)
                for row in await connection.execute(query):
                    found.setdefault(row.call_id, []).append(_attempt(row))
        return {call: tuple(attempts) for call, attempts in found.items()}

    async def report(self, since: datetime, until: datetime) -> EscalationReport:
        """The attempts that began in [since, until) for calls the call log has, real callers' only (a
        demo's or a trainee's practice calls are left out, as from every figure), counted."""
        r = EscalationAttemptRow
        query = (
            select(r, CallRow.line_id)
            .join(CallRow, CallRow.call_id == r.call_id)
            .where(r.started_at >= since, r.started_at < until, CallRow.practice.is_(None))
            .order_by(r.id)
        )
        async with self._db.reads.connect() as connection:
            rows = list(await connection.execute(query))
        return report((row.line_id or "", _attempt(row)) for row in rows)


def _attempt(row: Row[Any]) -> Attempt:
    return Attempt(call=row.call_id, person=row.person, number=row.number, round=row.round, step=row.step,
                   started_at=row.started_at, ended_at=row.ended_at, result=row.result)  # fmt: skip
