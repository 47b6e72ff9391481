"""``SqlReports``: the supervisors' reports for any range of days, from the call log and the agent state
intervals, with the formulas of ``crm_core.domain.figures`` (docs/figures.md).

A report counts the calls that arrived in its days (in the report's time zone) and the state intervals
overlapping them; the database sums them per 15-minute UTC bucket (``report_queries``) and the days and
hours of the zone are assembled here, so SQLite and PostgreSQL give identical answers (no time zones in
SQL, which the two handle differently). What a report is lives in ``crm_core.domain.reports``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from crm_core.domain.figures import (
    AgentFigures,
    CallFigures,
    PlainCall,
    ServiceTarget,
    add_figures,
    day_of,
    hour_of,
)
from crm_core.domain.reports import AgentReport, CallReport, Grouping, report_window
from crm_core.sql import report_queries as queries
from crm_core.sql.agent_states import SqlAgentStates
from crm_core.sql.database import Database
from crm_core.sql.orm import CallRow
from routing.ids import AgentId

_FACTS = ("call_id", "queue_id", "line_id", "source", "agent_id", "arrived_at", "answered_at", "ended_at",
          "outcome", "wait_s", "talk_s", "part_of", "callback_of")  # as PlainCall  # fmt: skip
_CALLS_BETWEEN = (
    select(*(getattr(CallRow, name) for name in _FACTS))
    .where(CallRow.arrived_at >= bindparam("since"), CallRow.arrived_at < bindparam("until"),
           CallRow.practice.is_(None))  # demo and training calls are nobody's service
    .order_by(CallRow.arrived_at, CallRow.call_id)
)  # fmt: skip


class SqlReports:
    def __init__(self, db: Database, states: SqlAgentStates) -> None:
        self._db = db
        self._states = states

    async def calls(
        self, first_day: date, last_day: date, zone: ZoneInfo, grouping: Grouping, target: ServiceTarget
    ) -> CallReport:
        """Call figures for the days ``first_day`` to ``last_day`` inclusive, grouped; counted by the
        database (``report_queries``) to the definitions of ``crm_core.domain.figures``.

        Raises ``ValidationFailed`` for a range that ends before it starts or spans more than a year.
        """
        since, until = report_window(first_day, last_day, zone)
        by_time = grouping in (Grouping.DAY, Grouping.HOUR)
        key = queries.bucket(self._db.dialect) if by_time else _COLUMN[grouping]
        params = _params(since, until)
        async with self._db.reads.connect() as connection:
            rows = [
                (r.key, _call_figures(r))
                for r in await connection.execute(queries.call_groups(key, target), params)
            ]
            for r in await connection.execute(queries.stretch_talk(key), params):
                rows.append((r.key, CallFigures(talk_s=float(r.talk_s))))
            for r in await connection.execute(queries.wrap_ups(self._db.dialect, key), params):
                rows.append((r.key, CallFigures(wrap_up_s=float(r.wrap_up_s))))
        groups: dict[str, CallFigures] = {}
        total = CallFigures()
        for raw, figures in rows:
            add_figures(total, figures)
            name = _bucket_key(raw, grouping, zone) if by_time else raw
            if name is not None:
                add_figures(groups.setdefault(name, CallFigures()), figures)
        return CallReport(
            first_day=first_day,
            last_day=last_day,
            zone=zone.key,
            grouping=grouping,
            target=target,
            rows=dict(sorted(groups.items())),
            total=total,
        )

    async def agents(self, first_day: date, last_day: date, zone: ZoneInfo) -> AgentReport:
        """Agent figures for the days ``first_day`` to ``last_day`` inclusive, counted by the database."""
        since, until = report_window(first_day, last_day, zone)
        figures: dict[AgentId, AgentFigures] = {}
        async with self._db.reads.connect() as connection:
            for agent, handled, talk in await connection.execute(
                queries.agent_calls(), _params(since, until)
            ):
                f = figures.setdefault(AgentId(agent), AgentFigures())
                f.handled, f.talk_s = int(handled), float(talk)
            states = await connection.execute(queries.agent_states(self._db.dialect), _params(since, until))
            for agent, state, reason, seconds, missed in states:
                f = figures.setdefault(AgentId(agent), AgentFigures())
                f.seconds_in[state] = f.seconds_in.get(state, 0.0) + float(seconds or 0.0)
                if state == "not-ready":
                    key = reason or "unknown"
                    f.not_ready_by_reason[key] = f.not_ready_by_reason.get(key, 0.0) + float(seconds or 0.0)
                f.rings_unanswered += int(missed)
        return AgentReport(first_day, last_day, zone.key, dict(sorted(figures.items())))

    async def calls_between(self, since: datetime, until: datetime) -> list[PlainCall]:
        """Every record of a call that arrived in [since, until), stretches included, by arrival.

        Read as plain rows past SQLAlchemy's result processing: a month of calls is tens of thousands
        of rows, and building full ``LoggedCall`` objects took most of a report's time.
        """
        db = self._db
        dialect = db.dialect
        params = {"since": dialect.plain_instant(since), "until": dialect.plain_instant(until)}
        rows = await db.fetch_plain(_CALLS_BETWEEN, params)
        return [_plain_call(row, dialect.read_instant) for row in rows]


_COLUMN: dict[Grouping, queries.Key] = {
    Grouping.QUEUE: lambda calls: calls.queue_id, Grouping.LINE: lambda calls: calls.line_id,
    Grouping.SOURCE: lambda calls: calls.source,
}  # fmt: skip


def _params(since: datetime, until: datetime) -> dict[str, datetime]:
    return {"since": since, "until": until}


# ``call_groups`` labels each column as the figure it counts or sums, in that figure's type (int or float);
# after-call work comes apart, from ``wrap_ups``.
_GROUP_FIGURES = tuple(
    (f.name, float if isinstance(f.default, float) else int)
    for f in fields(CallFigures)
    if f.name != "wrap_up_s"
)


def _call_figures(row: Any) -> CallFigures:
    figures: dict[str, Any] = {name: kind(getattr(row, name)) for name, kind in _GROUP_FIGURES}
    return CallFigures(**figures)


def _bucket_key(bucket: int, grouping: Grouping, zone: ZoneInfo) -> str:
    at = datetime.fromtimestamp(int(bucket) * queries.BUCKET_S, UTC)
    return day_of(at, zone).isoformat() if grouping is Grouping.DAY else f"{hour_of(at, zone):02d}"


def _plain_call(row: tuple[Any, ...], instant: Callable[[Any], datetime]) -> PlainCall:
    call, queue, line, source, agent, arrived, answered, ended, outcome, wait, talk, part_of, callback_of = (
        row
    )
    return PlainCall(call, queue, line, source, None if agent is None else AgentId(agent), instant(arrived),
                     None if answered is None else instant(answered), instant(ended), outcome, wait, talk,
                     part_of, callback_of)  # fmt: skip
