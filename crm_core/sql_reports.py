"""``SqlReports``: the supervisors' reports for any range of days, from the call log and the agent state
intervals, with the formulas of ``crm_core.figures`` (docs/figures.md).

A report reads the calls that arrived in its days (in the report's time zone) and the state intervals
overlapping them, and computes every figure in Python, so SQLite and PostgreSQL give identical answers
(no date arithmetic or time zones in SQL, which the two do differently).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm_core.agent_states import AgentInterval
from crm_core.errors import ValidationFailed
from crm_core.figures import (
    AgentFigures,
    CallFigures,
    ServiceTarget,
    agent_figures,
    call_figures,
    day_of,
    day_window,
    grouped,
    handling,
    hour_of,
)
from crm_core.model import LoggedCall
from crm_core.orm import CallRow
from crm_core.rows import CALL_COLUMNS, logged_call
from crm_core.sql_agent_states import SqlAgentStates
from crm_core.sql_database import Database
from routing.ids import AgentId

MAX_DAYS = 366


class Grouping(enum.StrEnum):
    DAY = "day"
    HOUR = "hour"  # hour of the day, 0-23, over every day of the range
    QUEUE = "queue"
    LINE = "line"
    SOURCE = "source"  # the dialed number's ad source


@dataclass(frozen=True, slots=True)
class CallReport:
    first_day: date
    last_day: date
    zone: str
    grouping: Grouping
    target: ServiceTarget
    rows: dict[str, CallFigures]  # group -> figures, in the group's natural order
    total: CallFigures


@dataclass(frozen=True, slots=True)
class AgentReport:
    first_day: date
    last_day: date
    zone: str
    agents: dict[AgentId, AgentFigures]


class SqlReports:
    def __init__(self, db: Database, states: SqlAgentStates) -> None:
        self._db = db
        self._states = states

    async def calls(
        self, first_day: date, last_day: date, zone: ZoneInfo, grouping: Grouping, target: ServiceTarget
    ) -> CallReport:
        """Call figures for the days ``first_day`` to ``last_day`` inclusive, grouped.

        Raises ``ValidationFailed`` for a range that ends before it starts or spans more than a year.
        """
        since, until = _window(first_day, last_day, zone)
        calls = await self.calls_between(since, until)
        states = await self._states.between(since, until)
        h = handling(calls, states)
        rows = grouped(calls, _key(grouping, zone), target, h.talk_s, h.wrap_up_s)
        ordered = dict(sorted(rows.items()))
        return CallReport(first_day, last_day, zone.key, grouping, target, ordered,
                          call_figures(calls, target, h.talk_s, h.wrap_up_s))  # fmt: skip

    async def agents(self, first_day: date, last_day: date, zone: ZoneInfo) -> AgentReport:
        since, until = _window(first_day, last_day, zone)
        calls = await self.calls_between(since, until)
        states: list[AgentInterval] = await self._states.between(since, until)
        figures = agent_figures(calls, states, since, until)
        return AgentReport(first_day, last_day, zone.key, dict(sorted(figures.items())))

    async def calls_between(self, since: datetime, until: datetime) -> list[LoggedCall]:
        """Every record of a call that arrived in [since, until), stretches included, by arrival."""
        query = (
            select(*CALL_COLUMNS)
            .where(CallRow.arrived_at >= since, CallRow.arrived_at < until)
            .order_by(CallRow.arrived_at, CallRow.call_id)
        )
        async with self._db.engine.connect() as connection:
            return [logged_call(row) for row in await connection.execute(query)]


def _window(first_day: date, last_day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if last_day < first_day:
        raise ValidationFailed("last_day", "must not be before first_day")
    if (last_day - first_day).days >= MAX_DAYS:
        raise ValidationFailed("last_day", f"a report covers at most {MAX_DAYS} days")
    return day_window(first_day, zone)[0], day_window(last_day, zone)[1]


def _key(grouping: Grouping, zone: ZoneInfo) -> Callable[[LoggedCall], str | None]:
    match grouping:
        case Grouping.DAY:
            return lambda c: day_of(c.arrived_at, zone).isoformat()
        case Grouping.HOUR:
            return lambda c: f"{hour_of(c.arrived_at, zone):02d}"
        case Grouping.QUEUE:
            return lambda c: c.queue
        case Grouping.LINE:
            return lambda c: c.line
        case Grouping.SOURCE:
            return lambda c: c.source
