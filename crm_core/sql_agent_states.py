"""``SqlAgentStates``: the ``agent_states`` table, one row per interval an agent spent in a state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, or_, select, update

from crm_core import validation
from crm_core.agent_states import AgentInterval
from crm_core.orm import AgentStateRow
from crm_core.sql_database import Database
from routing.ids import AgentId

LOGGED_OUT = "logged-out"
RINGING = "ringing"
_BETWEEN = (
    select(AgentStateRow.agent_id, AgentStateRow.state, AgentStateRow.reason, AgentStateRow.started_at,
           AgentStateRow.ended_at)
    .where(AgentStateRow.started_at < bindparam("until"),
           or_(AgentStateRow.ended_at.is_(None), AgentStateRow.ended_at > bindparam("since")))
    .order_by(AgentStateRow.started_at, AgentStateRow.id)
)  # fmt: skip


class SqlAgentStates:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def change(
        self, agent: str, state: str, reason: str | None, at: datetime, ring_ended: str | None = None
    ) -> None:
        """The agent entered ``state`` at ``at``: their running interval ends there and, unless they
        logged out, a new one starts, in one transaction.

        ``ring_ended``: when the running interval is a ring that stopped unanswered, why (the router's
        withdrawal reason: ``no-answer``, ``caller-hung-up``, ...); it is kept as that interval's reason.
        """
        validation.aware("at", at)
        async with self._db.engine.begin() as connection:
            running = (AgentStateRow.agent_id == agent, AgentStateRow.ended_at.is_(None))
            if ring_ended is not None:
                await connection.execute(
                    update(AgentStateRow)
                    .where(*running, AgentStateRow.state == RINGING)
                    .values(reason=validation.optional_text("ring_ended", ring_ended, 200))
                )
            await connection.execute(update(AgentStateRow).where(*running).values(ended_at=at))
            if state != LOGGED_OUT:
                row = {
                    "agent_id": agent,
                    "state": state,
                    "reason": reason,
                    "started_at": at,
                    "ended_at": None,
                }
                await connection.execute(insert(AgentStateRow).values(row))

    async def close_all(self, at: datetime) -> int:
        """End every running interval at ``at`` (the service starts with every agent logged out, so
        intervals a stopped process left running end when it came back); how many were ended."""
        validation.aware("at", at)
        async with self._db.engine.begin() as connection:
            result = await connection.execute(
                update(AgentStateRow).where(AgentStateRow.ended_at.is_(None)).values(ended_at=at)
            )
        return int(result.rowcount)

    async def between(
        self, since: datetime, until: datetime, agents: Sequence[str] | None = None
    ) -> list[AgentInterval]:
        """Every interval that overlaps [since, until), oldest first, running ones included."""
        validation.aware("since", since)
        validation.aware("until", until)
        params = {"since": self._db.plain_instant(since), "until": self._db.plain_instant(until)}
        rows = await self._db.fetch_plain(_BETWEEN, params)
        if agents is not None:
            wanted = set(agents)
            rows = [row for row in rows if row[0] in wanted]
        instant = self._db.read_instant
        # Read past SQLAlchemy's result processing: a month's report reads a hundred thousand of these.
        return [
            AgentInterval(
                AgentId(agent), state, reason, instant(started), None if ended is None else instant(ended)
            )
            for agent, state, reason, started, ended in rows
        ]
