"""Handlers for ``/reports``: the supervisors' call and agent figures for a range of days, as JSON and CSV.

A thin layer over ``store.reports`` (``crm_core/sql/reports.py``; formulas in docs/figures.md): read the
range and grouping, pick the service targets (``ApiConfig.reporting``), shape the figures. Every call
report names the formula it used, as supervisors are promised (a report without it cannot be compared).

Refusals (public codes): ``invalid-date`` (``from``/``to`` missing or not YYYY-MM-DD), ``invalid-range``
(``to`` before ``from``, more than 366 days), ``invalid-grouping`` (``by`` not one of ``GROUPINGS``); all 400.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiohttp import web

from agent_console.api.context import Reporting, config, store
from agent_console.api.errors import InvalidDate, InvalidGrouping, InvalidRange
from agent_console.api.fields import Query
from crm_core.domain.figures import AgentFigures, CallFigures, ServiceLevelFormula, ServiceTarget
from crm_core.domain.reports import MAX_DAYS, Grouping
from crm_core.domain.spreadsheet_cells import neutralised

Json = dict[str, Any]
CALL_PARAMS = ("from", "to", "by")
AGENT_PARAMS = ("from", "to")
GROUPINGS = tuple(g.value for g in Grouping)
FIGURES = (
    "entered", "offered", "short_abandons", "answered", "answered_within", "abandoned", "abandoned_within",
    "callbacks_chosen", "voicemail", "no_agent", "callbacks_placed", "service_level", "asa_s", "aht_s",
    "abandonment_rate", "longest_wait_s",
)  # fmt: skip
CSV_COLUMNS = ("group", *FIGURES, "formula", "answer_within_s", "short_abandon_s")
TOTAL = "total"  # the CSV's group name of the total line
SHARES = {
    ServiceLevelFormula.ANSWERED: "answered within {t} s / answered",
    ServiceLevelFormula.OFFERED: "answered within {t} s / (answered + abandoned)",
    ServiceLevelFormula.LATE_ABANDONS: "answered within {t} s / (answered + abandoned after {t} s)",
    ServiceLevelFormula.WITHIN_BOTH: "(answered + abandoned within {t} s) / (answered + abandoned)",
}


class TargetSetting(Protocol):
    """A service target as the config reads it (``config.service_levels.ServiceLevel``)."""

    @property
    def answer_within_s(self) -> float: ...
    @property
    def goal(self) -> float: ...
    @property
    def formula(self) -> str: ...
    @property
    def short_abandon_s(self) -> float: ...


def target(setting: TargetSetting) -> ServiceTarget:
    return ServiceTarget(
        setting.answer_within_s, setting.goal, ServiceLevelFormula(setting.formula), setting.short_abandon_s
    )


def reporting(
    targets: Mapping[str, TargetSetting], default_target: TargetSetting, zone: ZoneInfo
) -> Reporting:
    """``ApiConfig.reporting`` from the settings (agent_console may not import config, so the bootstrap
    hands ``Settings.service_targets``, ``default_target`` and ``report_zone`` to this)."""
    return Reporting(zone, target(default_target), {q: target(t) for q, t in targets.items()})


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTable:
    first_day: date
    last_day: date
    grouping: Grouping
    zone: str
    default_target: ServiceTarget
    rows: list[tuple[str, CallFigures, ServiceTarget]]
    total: CallFigures


def _day(query: Query, name: str) -> date:
    raw = query.text(name)
    if raw is None:
        raise InvalidDate(f"{name}: is required, as YYYY-MM-DD", name)
    try:
        if len(raw) == 10:  # fromisoformat also takes 20260131 and week dates; one spelling only
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise InvalidDate(f"{name}: {raw!r} is not a date as YYYY-MM-DD", name)


def days(query: Query) -> tuple[date, date]:
    first, last = _day(query, "from"), _day(query, "to")
    if last < first:
        raise InvalidRange("to: must not be before from", "to")
    if (last - first).days >= MAX_DAYS:
        raise InvalidRange(f"to: a report covers at most {MAX_DAYS} days", "to")
    return first, last


def grouping(query: Query) -> Grouping:
    raw = query.text("by") or Grouping.DAY.value
    if raw not in GROUPINGS:
        raise InvalidGrouping(f"by: {raw!r} is not one of {', '.join(GROUPINGS)}", "by")
    return Grouping(raw)


async def call_table(request: web.Request) -> CallTable:
    query = Query(request, CALL_PARAMS)
    first, last = days(query)
    by = grouping(query)
    settings = config(request).reporting
    source = store(request).reports
    report = await source.calls(first, last, settings.zone, by, settings.default_target)
    rows = [(group, figures, settings.default_target) for group, figures in report.rows.items()]
    if by is Grouping.QUEUE:
        # The store counts a report with one target; a queue with its own is read again with it.
        rereads = {settings.target_of(q) for q in report.rows} - {settings.default_target}
        for own in rereads:
            again = await source.calls(first, last, settings.zone, by, own)
            rows = [
                (q, again.rows[q], own) if settings.target_of(q) == own else (q, f, t) for q, f, t in rows
            ]
    return CallTable(
        first_day=first,
        last_day=last,
        grouping=by,
        zone=report.zone,
        default_target=settings.default_target,
        rows=rows,
        total=report.total,
    )


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def figures(f: CallFigures, formula: ServiceLevelFormula) -> Json:
    return {
        "entered": f.entered, "offered": f.offered, "short_abandons": f.short_abandons,
        "answered": f.answered, "answered_within": f.answered_within, "abandoned": f.abandoned,
        "abandoned_within": f.abandoned_within, "callbacks_chosen": f.callbacks_chosen,
        "voicemail": f.voicemail, "no_agent": f.no_agent, "callbacks_placed": f.callbacks_placed,
        "service_level": _ratio(f.service_level(formula)), "asa_s": _seconds(f.average_speed_of_answer_s),
        "aht_s": _seconds(f.average_handle_s), "abandonment_rate": _ratio(f.abandonment_rate),
        "longest_wait_s": _seconds(f.longest_wait_s),
    }  # fmt: skip


def target_view(t: ServiceTarget) -> Json:
    return {"formula": t.formula.value, "answer_within_s": t.answer_within_s, "goal": t.goal,
            "short_abandon_s": t.short_abandon_s}  # fmt: skip


def label(t: ServiceTarget, zone: str) -> str:
    """The formula in words, as the page prints it beside the figures."""
    share = SHARES[t.formula].format(t=f"{t.answer_within_s:g}")
    short = (
        f"callers who hung up within {t.short_abandon_s:g} s are not counted"
        if t.short_abandon_s > 0
        else "every abandon is counted"
    )
    return f"service level = {share}, goal {t.goal:.0%}; {short}; days in {zone}"


def call_view(table: CallTable) -> Json:
    per_queue = table.grouping is Grouping.QUEUE
    row = [{"group": group, **figures(f, t.formula), "target": target_view(t)} for group, f, t in table.rows]
    return {
        "from": table.first_day.isoformat(), "to": table.last_day.isoformat(), "by": table.grouping.value,
        "formula": {
            **target_view(table.default_target), "zone": table.zone,
            "applies_to": "total and queues without their own target" if per_queue else "every row",
            "label": label(table.default_target, table.zone),
        },
        "rows": row,
        "total": {"group": None, **figures(table.total, table.default_target.formula),
                  "target": target_view(table.default_target)},
    }  # fmt: skip


async def calls(request: web.Request) -> web.Response:
    return web.json_response(call_view(await call_table(request)))


def csv_lines(table: CallTable) -> Iterable[str]:
    """The header, one line per group, the total. A group named like a formula (a line or source name
    from the config) gets a quote in front, as in every CSV the service writes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = [*table.rows, (TOTAL, table.total, table.default_target)]
    for group, f, t in rows:
        values = figures(f, t.formula)
        writer.writerow([neutralised(group), *("" if values[n] is None else values[n] for n in FIGURES),
                         t.formula.value, f"{t.answer_within_s:g}", f"{t.short_abandon_s:g}"])  # fmt: skip
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


async def calls_csv(request: web.Request) -> web.StreamResponse:
    """One line per group and the total; refusals come before the response starts, as clean 4xx."""
    table = await call_table(request)
    name = f"calls-by-{table.grouping.value}-{table.first_day}-{table.last_day}.csv"
    response = web.StreamResponse(headers={"Content-Disposition": f'attachment; filename="{name}"'})
    response.content_type = "text/csv"
    response.charset = "utf-8"
    await response.prepare(request)
    for line in csv_lines(table):
        await response.write(line.encode("utf-8"))
    await response.write_eof()
    return response


def agent_view(agent: str, f: AgentFigures) -> Json:
    return {
        "agent": agent, "handled": f.handled, "talk_s": _seconds(f.talk_s),
        "average_talk_s": _seconds(f.average_talk_s), "average_wrap_up_s": _seconds(f.average_wrap_up_s),
        "occupancy": _ratio(f.occupancy), "rings_unanswered": f.rings_unanswered,
        "seconds_in": {state: _seconds(s) for state, s in sorted(f.seconds_in.items())},
        "not_ready_by_reason": {r: _seconds(s) for r, s in sorted(f.not_ready_by_reason.items())},
    }  # fmt: skip


async def agents(request: web.Request) -> web.Response:
    first, last = days(Query(request, AGENT_PARAMS))
    report = await store(request).reports.agents(first, last, config(request).reporting.zone)
    return web.json_response(
        {"from": first.isoformat(), "to": last.isoformat(), "zone": report.zone,
         "agents": [agent_view(a, f) for a, f in report.agents.items()]}
    )  # fmt: skip
