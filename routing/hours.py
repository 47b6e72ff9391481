"""Opening hours of a service line: a weekly timetable in the line's time zone, public holidays and
one-off closures. Pure: the time is passed in; the time-zone rules and holiday tables are data.

Holidays come from the ``holidays`` package (country and subdivision, e.g. ``US``/``CA``); a public
holiday closes the line all day. A closure ("training 14:00-16:00") closes it between two instants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Span:
    """From ``start`` to ``end`` on one day, local wall-clock time; ``end`` is exclusive."""

    start: dt.time
    end: dt.time

    def covers(self, moment: dt.time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Closure:
    """Closed from ``start`` to ``end`` (Unix seconds, end exclusive), whatever the timetable says."""

    start: float
    end: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Hours:
    timezone: str
    weekly: Mapping[int, tuple[Span, ...]]  # weekday (0 = Monday) -> open spans; a missing day is closed
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closures: tuple[Closure, ...] = ()
    # Holiday tables per year, built on first use: building one costs about a millisecond.
    _holidays: dict[int, holidays.HolidayBase] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def is_open(self, at: float) -> bool:
        if any(c.start <= at < c.end for c in self.closures):
            return False
        local = dt.datetime.fromtimestamp(at, ZoneInfo(self.timezone))
        if self.holiday(local.date()) is not None:
            return False
        moment = local.time().replace(tzinfo=None)
        return any(span.covers(moment) for span in self.weekly.get(local.weekday(), ()))

    def holiday(self, day: dt.date) -> str | None:
        """The name of the public holiday on ``day``, if there is one."""
        if self.holiday_country is None:
            return None
        table = self._holidays.get(day.year)
        if table is None:
            table = holidays.country_holidays(
                self.holiday_country, subdiv=self.holiday_subdivision, years=day.year
            )
            self._holidays[day.year] = table
        name = table.get(day)
        return None if name is None else str(name)

    def local_day(self, at: float) -> dt.date:
        """The line's own calendar day at ``at``: what "today" means for its figures."""
        return dt.datetime.fromtimestamp(at, ZoneInfo(self.timezone)).date()


ALWAYS_OPEN = Hours(timezone="UTC", weekly={day: (Span(dt.time(0), dt.time.max),) for day in range(7)})
