"""``SqlSupervisorActions``: the ``supervisor_actions`` table, the audit trail of supervisors' orders."""

from __future__ import annotations

from sqlalchemy import insert, select

from crm_core.domain import validation
from crm_core.domain.supervisor_actions import SupervisorAction
from crm_core.sql.database import Database
from crm_core.sql.orm import SupervisorActionRow
from crm_core.sql.rows import built, field_names

MAX_RECENT = 1_000


class SqlSupervisorActions:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, entry: SupervisorAction) -> None:
        validation.aware("at", entry.at)
        row = {"at": entry.at, "who": validation.text("who", entry.who), "action": entry.action,
               "target": validation.text("target", entry.target), "outcome": entry.outcome,
               "detail": validation.optional_text("detail", entry.detail)}  # fmt: skip
        async with self._db.engine.begin() as connection:
            await connection.execute(insert(SupervisorActionRow).values(row))

    async def recent(self, limit: int = 100) -> list[SupervisorAction]:
        """The newest ``limit`` orders, newest first."""
        validation.limit(limit, MAX_RECENT)
        r = SupervisorActionRow
        columns = (getattr(r, name) for name in field_names(SupervisorAction))
        query = select(*columns).order_by(r.at.desc(), r.id.desc())
        async with self._db.reads.connect() as connection:
            rows = await connection.execute(query.limit(limit))
            return [built(SupervisorAction, row) for row in rows]
