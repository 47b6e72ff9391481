"""``GET /reports/escalations``: how the answering service's escalations went over whole days (issue 16).

For each business (the call's line), each person rung and in all: the attempts, the escalated calls
they were for, how many were accepted, and how many came to each result (``crm_core.domain.escalations``:
accepted, no-answer, busy, declined, voicemail-or-no-key, hung-up, ...). Days are the reports' days
(``from``/``to``, YYYY-MM-DD, in the reports' zone); an attempt counts on the day its ring began, once its
call is in the call log. Practice calls (a demo's, a trainee's) are left out, as from every figure.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agent_console.api.context import config, store
from agent_console.api.fields import Query
from agent_console.api.reports import AGENT_PARAMS, days
from crm_core.domain.escalations import Tally
from crm_core.domain.reports import report_window

Json = dict[str, Any]


def tally_view(t: Tally) -> Json:
    return {"attempts": t.attempts, "calls": t.calls, "accepted": t.accepted, "results": t.results}


async def escalations(request: web.Request) -> web.Response:
    first, last = days(Query(request, AGENT_PARAMS))
    zone = config(request).reporting.zone
    report = await store(request).escalations.report(*report_window(first, last, zone))
    return web.json_response(
        {"from": first.isoformat(), "to": last.isoformat(), "zone": zone.key,
         "lines": [{"line": line, **tally_view(t)} for line, t in report.lines.items()],
         "people": [{"person": person, **tally_view(t)} for person, t in report.people.items()],
         "total": tally_view(report.total)}
    )  # fmt: skip
