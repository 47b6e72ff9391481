"""``SqlAgentStates``: the ``agent_states`` table, one row per interval an agent spent in a state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, or_, select, update

from crm_core.domain import validation
from crm_core.domain.agent_states import AgentInterval, StateChange
from crm_core.sql.database import Database
from crm_core.sql.orm import AgentStateRow
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


def _intervals(changes: Sequence[StateChange]) -> list[dict[str, object]]:
    """One agent's changes, in order, as the intervals they start: each ends at the next change."""
    rows: list[dict[str, object]] = []
    for change, following in zip(changes, [*changes[1:], None], strict=True):
        if change.state == LOGGED_OUT:
            continue
        reason = change.reason
        if following is not None and following.ring_ended is not None and change.state == RINGING:
            reason = following.ring_ended
        ended = None if following is None else following.at
        rows.append({"agent_id": change.agent, "state": change.state, "reason": reason,
                     "started_at": change.at, "ended_at": ended})  # fmt: skip
    return rows


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
        await self.change_many([StateChange(agent, state, reason, at, ring_ended)])

    async def change_many(self, changes: Sequence[StateChange]) -> None:
        """``change`` for each of ``changes`` in order, in one transaction: each agent's running interval
        is ended once, and the intervals between their changes are written whole, in one executemany."""
        for change in changes:
            validation.aware("at", change.at)
            validation.optional_text("ring_ended", change.ring_ended, 200)
        by_agent: dict[str, list[StateChange]] = {}
        for change in changes:
            by_agent.setdefault(change.agent, []).append(change)
        rows: list[dict[str, object]] = []
        async with self._db.engine.begin() as connection:
            for agent, own in by_agent.items():
                first = own[0]
                running = (AgentStateRow.agent_id == agent, AgentStateRow.ended_at.is_(None))
                if first.ring_ended is not None:
                    ringing = update(AgentStateRow).where(*running, AgentStateRow.state == RINGING)
                    await connection.execute(ringing.values(reason=first.ring_ended))
                await connection.execute(update(AgentStateRow).where(*running).values(ended_at=first.at))
                rows += _intervals(own)
            if rows:
                await connection.execute(insert(AgentStateRow), rows)

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
        dialect = self._db.dialect
        params = {"since": dialect.plain_instant(since), "until": dialect.plain_instant(until)}
        rows = await self._db.fetch_plain(_BETWEEN, params)
        if agents is not None:
            wanted = set(agents)
            rows = [row for row in rows if row[0] in wanted]
        instant = dialect.read_instant
        # Read past SQLAlchemy's result processing: a month's report reads a hundred thousand of these.
        return [
            AgentInterval(
                AgentId(agent), state, reason, instant(started), None if ended is None else instant(ended)
            )
            for agent, state, reason, started, ended in rows
        ]
