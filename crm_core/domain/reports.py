"""The supervisors' reports for a range of days: what a report holds and which ranges it may cover.

The figures themselves and their formulas are ``figures`` (docs/figures.md); ``crm_core.sql.reports``
counts them from the store.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from crm_core.domain.errors import ValidationFailed
from crm_core.domain.figures import AgentFigures, CallFigures, ServiceTarget, day_window
from routing.ids import AgentId

MAX_DAYS = 366


class Grouping(enum.StrEnum):
    DAY = "day"
    HOUR = "hour"  # hour of the day, 0-23, over every day of the range
    QUEUE = "queue"
    LINE = "line"
    SOURCE = "source"  # the dialed number's ad source


@dataclass(frozen=True, slots=True, kw_only=True)
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


def report_window(first_day: date, last_day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[since, until) of the days ``first_day`` to ``last_day`` inclusive in ``zone``; raises
    ``ValidationFailed`` for a range that ends before it starts or spans more than ``MAX_DAYS``."""
    if last_day < first_day:
        raise ValidationFailed("last_day", "must not be before first_day")
    if (last_day - first_day).days >= MAX_DAYS:
        raise ValidationFailed("last_day", f"a report covers at most {MAX_DAYS} days")
    return day_window(first_day, zone)[0], day_window(last_day, zone)[1]
