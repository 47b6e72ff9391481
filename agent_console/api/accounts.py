"""Handlers: ``/customers/{id}/account`` and ``/customers/{id}/orders``: what a customer owes and bought."""

from __future__ import annotations

from aiohttp import web

from agent_console.api import bodies, views
from agent_console.api.context import store
from agent_console.api.customers import customer_id
from agent_console.api.errors import NoSuchRecord
from agent_console.api.fields import Query, json_object
from crm_core.domain.accounts import Account
from crm_core.domain.pagination import DEFAULT_PAGE


async def read(request: web.Request) -> web.Response:
    Query(request, ())
    owner = customer_id(request)
    found = await store(request).accounts.get(owner)
    if found is None:
        raise NoSuchRecord(f"customer {owner} has no account")
    return web.json_response(_view(found))


async def change(request: web.Request) -> web.Response:
    changes = bodies.account_changes(await json_object(request))
    changed = await store(request).accounts.update(customer_id(request), changes)
    return web.json_response(_view(changed))


async def list_orders(request: web.Request) -> web.Response:
    query = Query(request, ("limit", "cursor"))
    found = await store(request).accounts.orders(
        customer_id(request), limit=query.integer("limit", DEFAULT_PAGE) or 0, cursor=query.text("cursor")
    )
    return web.json_response(views.page(found, views.order))


async def add_order(request: web.Request) -> web.Response:
    new = bodies.new_order(await json_object(request))
    added = await store(request).accounts.add_order(customer_id(request), new)
    return web.json_response(views.order(added), status=201)


def _view(account: Account) -> views.Json:
    shown = views.account(account)
    assert shown is not None  # views.account maps only None to None
    return shown
