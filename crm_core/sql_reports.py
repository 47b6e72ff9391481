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
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from crm_core.agent_states import AgentInterval
from crm_core.errors import ValidationFailed
from crm_core.figures import (
    AgentFigures,
    CallFact,
    CallFigures,
    PlainCall,
    ServiceTarget,
    agent_figures,
    call_figures,
    day_of,
    day_window,
    grouped,
    handling,
    hour_of,
)
from crm_core.orm import CallRow
from crm_core.sql_agent_states import SqlAgentStates
from crm_core.sql_database import Database
from routing.ids import AgentId

MAX_DAYS = 366
_FACTS = ("call_id", "queue_id", "line_id", "source", "agent_id", "arrived_at", "answered_at", "ended_at",
          "outcome", "wait_s", "talk_s", "part_of", "callback_of")  # as PlainCall  # fmt: skip
_CALLS_BETWEEN = (
    select(*(getattr(CallRow, name) for name in _FACTS))
    .where(CallRow.arrived_at >= bindparam("since"), CallRow.arrived_at < bindparam("until"))
    .order_by(CallRow.arrived_at, CallRow.call_id)
)  # fmt: skip


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

    async def calls_between(self, since: datetime, until: datetime) -> list[PlainCall]:
        """Every record of a call that arrived in [since, until), stretches included, by arrival.

        Read as plain rows past SQLAlchemy's result processing: a month of calls is tens of thousands
        of rows, and building full ``LoggedCall`` objects took most of a report's time.
        """
        db = self._db
        params = {"since": db.plain_instant(since), "until": db.plain_instant(until)}
        return [_plain_call(row, db.read_instant) for row in await db.fetch_plain(_CALLS_BETWEEN, params)]


def _plain_call(row: tuple[Any, ...], instant: Callable[[Any], datetime]) -> PlainCall:
    call, queue, line, source, agent, arrived, answered, ended, outcome, wait, talk, part_of, callback_of = (
        row
    )
    return PlainCall(call, queue, line, source, None if agent is None else AgentId(agent), instant(arrived),
                     None if answered is None else instant(answered), instant(ended), outcome, wait, talk,
                     part_of, callback_of)  # fmt: skip


def _window(first_day: date, last_day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if last_day < first_day:
        raise ValidationFailed("last_day", "must not be before first_day")
    if (last_day - first_day).days >= MAX_DAYS:
        raise ValidationFailed("last_day", f"a report covers at most {MAX_DAYS} days")
    return day_window(first_day, zone)[0], day_window(last_day, zone)[1]


def _key(grouping: Grouping, zone: ZoneInfo) -> Callable[[CallFact], str | None]:
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
