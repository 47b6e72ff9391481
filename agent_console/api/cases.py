"""Handlers for ``/cases``: open, read (with history), change, comment, close, list."""

from __future__ import annotations

from aiohttp import web

from agent_console.api import bodies, views
from agent_console.api.auth import principal
from agent_console.api.context import store
from agent_console.api.errors import NoSuchRecord, invalid
from agent_console.api.fields import Query, json_object
from crm_core.domain.cases import CaseStatus
from crm_core.domain.pagination import DEFAULT_PAGE


def case_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NoSuchRecord(f"no case with id {raw[:40]!r}")
    return int(raw)


async def open_case(request: web.Request) -> web.Response:
    new = bodies.new_case(await json_object(request))
    opened = await store(request).cases.open(new, author=principal(request).name)
    return web.json_response(views.case(opened), status=201)


async def read(request: web.Request) -> web.Response:
    cases = store(request).cases
    found = await cases.get(case_id(request))
    history = await cases.history(found.id)
    return web.json_response({**views.case(found), "history": [views.case_event(e) for e in history]})


async def change(request: web.Request) -> web.Response:
    changes = bodies.case_changes(await json_object(request))
    changed = await store(request).cases.update(case_id(request), changes, author=principal(request).name)
    return web.json_response(views.case(changed))


async def comment(request: web.Request) -> web.Response:
    text = bodies.comment(await json_object(request))
    event = await store(request).cases.comment(case_id(request), text, author=principal(request).name)
    return web.json_response(views.case_event(event), status=201)


async def close(request: web.Request) -> web.Response:
    text = bodies.close(await json_object(request, optional=True))
    closed = await store(request).cases.close(case_id(request), author=principal(request).name, comment=text)
    return web.json_response(views.case(closed))


async def list_cases(request: web.Request) -> web.Response:
    query = Query(request, ("customer_id", "status", "owner", "limit", "cursor"))
    status = query.text("status")
    if status is not None and status not in {s.value for s in CaseStatus}:
        raise invalid("status", "must be open, pending, escalated or closed")
    found = await store(request).cases.list(
        customer_id=query.integer("customer_id"),
        status=None if status is None else CaseStatus(status),
        owner=query.text("owner"),
        limit=query.integer("limit", DEFAULT_PAGE) or 0,
        cursor=query.text("cursor"),
    )
    return web.json_response(views.page(found, views.case))
