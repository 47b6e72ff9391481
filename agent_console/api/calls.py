"""Handlers for ``/calls``: the call log queried, exported as CSV (streamed) and wrapped up."""

from __future__ import annotations

import dataclasses
import functools

from aiohttp import web

from agent_console.access import may_touch_call
from agent_console.api import bodies, views
from agent_console.api.auth import Principal, principal
from agent_console.api.context import store
from agent_console.api.errors import invalid
from agent_console.api.fields import Query, json_object
from agent_console.errors import NotYourCall
from crm_core.domain.calls import OUTCOME_CHOICES, CallFilter
from crm_core.domain.errors import CallNotFound
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


def visible(who: Principal, where: CallFilter) -> CallFilter:
    """``where`` as ``who`` may list it (``access.ANY_CALL``): the whole log for the roles that may see
    anyone's calls; for the others a customer's history (``customer_id``: the pop's overview shows it
    already), else only their own calls (``agent`` defaults to theirs; another agent's is not-your-call)."""
    if where.customer_id is not None or may_touch_call(who.role, "calls.read", who.agent, where.agent):
        return where
    if where.agent is None and who.agent is not None:
        return dataclasses.replace(where, agent=who.agent)
    raise NotYourCall("list your own calls, or one customer's (customer_id)")


async def list_calls(request: web.Request) -> web.Response:
    query = Query(request, (*FILTERS, "limit", "cursor"))
    where = visible(principal(request), call_filter(query))
    found = await store(request).calls.query(
        where, limit=query.integer("limit", DEFAULT_PAGE) or 0, cursor=query.text("cursor")
    )
    attempts = await store(request).escalations.of_calls([c.record.call for c in found.items])
    return web.json_response(views.page(found, functools.partial(views.logged_call, attempts=attempts)))


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
    call, who = request.match_info["id"], principal(request)
    before = await store(request).calls.get(call)
    if before is None:
        raise CallNotFound(call)
    if not may_touch_call(who.role, "calls.wrap-up", who.agent, before.record.agent):
        raise NotYourCall(f"call {call} was not yours")
    logged = await store(request).calls.wrap_up(call, wrap)
    return web.json_response(views.call(logged))
