"""A line's ``hours`` table (timetable, holidays, closures) and its ``after_hours`` policy.

    [lines.acme.hours]
    timezone = "America/New_York"
    mon = ["08:00-12:00", "13:00-18:00"]   # a missing or empty day is closed
    holidays = { country = "US", subdivision = "NY" }
    closures = [{ start = "2026-12-24T14:00", end = "2026-12-24T16:00", reason = "training" }]

Closure times are read in the line's own time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from config.values import ConfigError, choice, known_keys, listed_tables, positive, string, table
from routing.hours import WEEKDAYS, Closure, Hours, Span
from routing.ids import QueueId
from routing.plan import AfterHours, AfterHoursKind, OnCallStep

HOURS_KEYS = ("timezone", *WEEKDAYS, "holidays", "closures")
AFTER_HOURS_KEYS = ("kind", "queue", "chain")


def zone(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: a time zone name such as 'America/New_York' is required")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{key}: {value!r} is not a known time zone") from None
    return value


def hours(raw: Mapping[str, Any], where: str) -> Hours:
    known_keys(raw, HOURS_KEYS, where)
    timezone = zone(raw.get("timezone"), f"{where}timezone")
    weekly = {day: _spans(raw.get(name, []), f"{where}{name}") for day, name in enumerate(WEEKDAYS)}
    country, subdivision = _holidays(table(raw, "holidays", where), f"{where}holidays.")
    return Hours(
        timezone=timezone,
        weekly={day: spans for day, spans in weekly.items() if spans},
        holiday_country=country,
        holiday_subdivision=subdivision,
        closures=_closures(raw.get("closures", []), ZoneInfo(timezone), f"{where}closures"),
    )


def _spans(value: Any, key: str) -> tuple[Span, ...]:
    if not isinstance(value, list):
        raise ConfigError(f'{key}: a list of "HH:MM-HH:MM" spans is required')
    return tuple(_span(item, key) for item in value)


def _span(value: Any, key: str) -> Span:
    start, _, end = str(value).partition("-")
    span = Span(_clock(start, value, key), _clock(end, value, key))
    if span.end <= span.start:
        raise ConfigError(f"{key}: {value!r} ends before it starts")
    return span


def _clock(text: str, value: Any, key: str) -> dt.time:
    if text.strip() == "24:00":
        return dt.time.max  # to the end of the day
    try:
        return dt.datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise ConfigError(f'{key}: {value!r} is not a span like "09:00-17:30"') from None


def _holidays(raw: Mapping[str, Any], where: str) -> tuple[str | None, str | None]:
    known_keys(raw, ("country", "subdivision"), where)
    if not raw:
        return None, None
    country = string(raw, "country", None, where)
    subdivision = string(raw, "subdivision", None, where) if "subdivision" in raw else None
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ConfigError(f"{where}country: {country!r} is not a country the holidays package knows")
    if subdivision is not None and subdivision not in supported[country]:
        raise ConfigError(f"{where}subdivision: {subdivision!r} is not a subdivision of {country}")
    return country, subdivision


def _closures(value: Any, tz: ZoneInfo, key: str) -> tuple[Closure, ...]:
    found = []
    for item, where in listed_tables(value, key, ("start", "end", "reason")):
        start, end = _instant(item, "start", tz, where), _instant(item, "end", tz, where)
        if end <= start:
            raise ConfigError(f"{where}end: the closure ends before it starts")
        found.append(Closure(start, end, string(item, "reason", "closed", where)))
    return tuple(found)


def _instant(raw: Mapping[str, Any], key: str, tz: ZoneInfo, where: str) -> float:
    value = string(raw, key, None, where)
    try:
        local = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f'{where}{key}: {value!r} is not a time like "2026-12-24T14:00"') from None
    return (local if local.tzinfo is not None else local.replace(tzinfo=tz)).timestamp()


def after_hours(raw: Mapping[str, Any], queues: Mapping[QueueId, object], where: str) -> AfterHours:
    known_keys(raw, AFTER_HOURS_KEYS, where)
    kind = choice(raw, "kind", AfterHoursKind, AfterHoursKind.VOICEMAIL, where)
    queue = None
    if kind is AfterHoursKind.QUEUE:
        queue = QueueId(string(raw, "queue", None, where))
        if queue not in queues:
            raise ConfigError(f"{where}queue: no queue named {queue!r}")
    elif "queue" in raw:
        raise ConfigError(f"{where}queue: only kind = 'queue' sends calls to a queue")
    chain = _chain(raw.get("chain", []), f"{where}chain")
    if kind is AfterHoursKind.ON_CALL and not chain:
        raise ConfigError(f"{where}chain: kind = 'on-call' needs at least one person to ring")
    return AfterHours(kind, queue, chain)


def _chain(value: Any, key: str) -> tuple[OnCallStep, ...]:
    steps = []
    for item, where in listed_tables(value, key, ("name", "endpoint", "ring_timeout_s")):
        timeout = positive(item.get("ring_timeout_s", 20), f"{where}ring_timeout_s")
        name, endpoint = string(item, "name", None, where), string(item, "endpoint", None, where)
        steps.append(OnCallStep(name, endpoint, timeout))
    return tuple(steps)
