"""Handlers for ``/customers``: create, read, change, delete, anonymise, search, lookup, 360."""

from __future__ import annotations

from aiohttp import web

from agent_console.api import bodies, views
from agent_console.api.context import config, store
from agent_console.api.errors import NoSuchRecord, UnreadableNumber
from agent_console.api.fields import Query, json_object
from crm_core.domain.overview import MAX_MATCHES
from crm_core.domain.pagination import DEFAULT_PAGE
from crm_core.domain.phones import to_e164


def customer_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NoSuchRecord(f"no customer with id {raw[:40]!r}")
    return int(raw)


async def create(request: web.Request) -> web.Response:
    draft = bodies.customer_draft(await json_object(request))
    created = await store(request).customers.create(draft)
    return web.json_response(views.customer(created), status=201)


async def read(request: web.Request) -> web.Response:
    return web.json_response(views.customer(await store(request).customers.get(customer_id(request))))


async def change(request: web.Request) -> web.Response:
    changes = bodies.customer_changes(await json_object(request))
    changed = await store(request).customers.update(customer_id(request), changes)
    return web.json_response(views.customer(changed))


async def delete(request: web.Request) -> web.Response:
    await store(request).customers.delete(customer_id(request))
    return web.Response(status=204)


async def anonymise(request: web.Request) -> web.Response:
    (await json_object(request, optional=True)).done()  # no options yet: any field is a mistake
    return web.json_response(views.customer(await store(request).customers.anonymise(customer_id(request))))


async def search(request: web.Request) -> web.Response:
    query = Query(request, ("q", "limit", "cursor"))
    found = await store(request).customers.search(
        query.text("q") or "", limit=query.integer("limit", DEFAULT_PAGE) or 0, cursor=query.text("cursor")
    )
    return web.json_response(views.page(found, views.customer))


async def by_number(request: web.Request) -> web.Response:
    query = Query(request, ("limit", "cursor"))
    raw = request.match_info["number"]
    e164 = to_e164(raw, config(request).region)
    if e164 is None:
        raise UnreadableNumber(f"not a phone number: {raw[:40]!r}", "number")
    limit = query.integer("limit", MAX_MATCHES) or 0
    found = await store(request).number_owners(e164, limit, query.text("cursor"))
    if not found.items:
        raise NoSuchRecord(f"no customer owns {e164}" + (" past that cursor" if query.text("cursor") else ""))
    # The page's first owner's card as before, for clients that read one; ``matches`` has the page's
    # owners (a number several share: an office's main line); ``next`` the link to the next page.
    after = None
    if found.next_cursor is not None:
        after = str(request.rel_url.with_query({"limit": str(limit), "cursor": found.next_cursor}))
    return web.json_response(views.owners(found, after))


async def overview(request: web.Request) -> web.Response:
    Query(request, ())
    seen = await store(request).overview(customer_id(request))
    return web.json_response(views.overview(seen))
