"""Handlers for ``/calls``: the call log queried, exported as CSV (streamed) and wrapped up."""

from __future__ import annotations

from aiohttp import web

from agent_console.api import bodies, views
from agent_console.api.context import store
from agent_console.api.errors import invalid
from agent_console.api.fields import Query, json_object
from crm_core.domain.calls import OUTCOME_CHOICES, CallFilter
from crm_core.domain.pagination import DEFAULT_PAGE
from routing.records import Outcome

WRITE_CHUNK = 64 * 1024  # characters gathered per write: fewer, larger writes to the socket
FILTERS = (
    "since",
    "until",
    "line",
    "did",
    "source",
    "queue",
    "agent",
    "outcome",
    "customer_id",
    "case_id",
    "after_hours",
)


def call_filter(query: Query) -> CallFilter:
    outcome = query.text("outcome")
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        raise invalid("outcome", OUTCOME_CHOICES)
    return CallFilter(
        since=query.instant("since"),
        until=query.instant("until"),
        line=query.text("line"),
        did=query.text("did"),
        source=query.text("source"),
        queue=query.text("queue"),
        agent=query.text("agent"),
        outcome=None if outcome is None else Outcome(outcome),
        customer_id=query.integer("customer_id"),
        case_id=query.integer("case_id"),
        after_hours=query.boolean("after_hours"),
    )


async def list_calls(request: web.Request) -> web.Response:
    query = Query(request, (*FILTERS, "limit", "cursor"))
    found = await store(request).calls.query(
        call_filter(query), limit=query.integer("limit", DEFAULT_PAGE) or 0, cursor=query.text("cursor")
    )
    return web.json_response(views.page(found, views.call))


async def export_csv(request: web.Request) -> web.StreamResponse:
    """Streamed chunk by chunk from the store's iterator: the export is never held in memory whole."""
    lines = store(request).calls.export_csv(call_filter(Query(request, FILTERS)))
    # The first line is read before the response starts, so a refused filter is still a clean 4xx.
    first = await anext(lines)
    response = web.StreamResponse(headers={"Content-Disposition": 'attachment; filename="calls.csv"'})
    response.content_type = "text/csv"
    response.charset = "utf-8"
    await response.prepare(request)
    buffered = [first]
    size = len(first)
    async for line in lines:
        buffered.append(line)
        size += len(line)
        if size >= WRITE_CHUNK:
            await response.write("".join(buffered).encode("utf-8"))
            buffered, size = [], 0
    await response.write("".join(buffered).encode("utf-8"))
    await response.write_eof()
    return response


async def wrap_up(request: web.Request) -> web.Response:
    wrap = bodies.wrap_up(await json_object(request))
    logged = await store(request).calls.wrap_up(request.match_info["id"], wrap)
    return web.json_response(views.call(logged))
