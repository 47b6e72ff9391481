"""Handlers for ``/oncall/{business}/...``: a business's on-call people, schedule (time zone, a rotation
per tier, overrides), who is on call now or at a time, the gaps ahead, and the audit of changes.

A business is an answering line id (``[lines.<id>]``). The API does not hold the config's lines, so it
checks the id's shape only; a business with no schedule answers ``unknown-business`` where one is
needed. Every change is stored with the authenticated user's name (or ``api-token-N``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from aiohttp import web

from agent_console.api import oncall_bodies as bodies
from agent_console.api.auth import principal
from agent_console.api.context import store
from agent_console.api.errors import NoSuchRecord, invalid
from agent_console.api.fields import Query, json_object
from crm_core.domain.coverage import Roster
from crm_core.domain.oncall import Tier
from crm_core.domain.oncall_ports import OnCallBook
from routing.ids import LineId

BUSINESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DEFAULT_GAP_DAYS, MAX_GAP_DAYS = 14, 366


def _book(request: web.Request) -> OnCallBook:
    return store(request).oncall


def _business(request: web.Request) -> LineId:
    raw = request.match_info["business"]
    if not BUSINESS.fullmatch(raw):
        raise NoSuchRecord(f"not a business id: {raw[:40]!r}")
    return LineId(raw)


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NoSuchRecord(f"no record with id {raw[:40]!r}")
    return int(raw)


def _tier(request: web.Request) -> Tier:
    return bodies.member(Tier, "tier", request.match_info["tier"])


def _who(request: web.Request) -> str:
    return principal(request).name


def _now() -> datetime:
    return datetime.now(UTC)


async def list_people(request: web.Request) -> web.Response:
    people = await _book(request).people(_business(request))
    return web.json_response({"items": [bodies.person(p) for p in people]})


async def add_person(request: web.Request) -> web.Response:
    name, patch, contacts = bodies.new_person(await json_object(request))
    added = await _book(request).add_person(_business(request), name, patch, contacts, who=_who(request))
    return web.json_response(bodies.person(added), status=201)


async def change_person(request: web.Request) -> web.Response:
    book = _book(request)
    current = await book.person(_business(request), _id(request))
    changed = bodies.person_changes(await json_object(request), current)
    return web.json_response(bodies.person(await book.change_person(changed, who=_who(request))))


async def read_schedule(request: web.Request) -> web.Response:
    return web.json_response(bodies.schedule(await _book(request).schedule(_business(request))))


async def set_timezone(request: web.Request) -> web.Response:
    name = bodies.timezone(await json_object(request))
    found = await _book(request).set_timezone(_business(request), name, who=_who(request))
    return web.json_response(bodies.schedule(found))


async def set_rotation(request: web.Request) -> web.Response:
    rotation = bodies.rotation(await json_object(request), _tier(request))
    found = await _book(request).set_rotation(_business(request), rotation, who=_who(request))
    return web.json_response(bodies.schedule(found))


async def remove_rotation(request: web.Request) -> web.Response:
    found = await _book(request).remove_rotation(_business(request), _tier(request), who=_who(request))
    return web.json_response(bodies.schedule(found))


async def add_override(request: web.Request) -> web.Response:
    override = bodies.new_override(await json_object(request))
    added = await _book(request).add_override(_business(request), override, who=_who(request))
    return web.json_response(bodies.override(added), status=201)


async def change_override(request: web.Request) -> web.Response:
    book, business, override_id = _book(request), _business(request), _id(request)
    current = next((o for o in (await book.schedule(business)).overrides if o.id == override_id), None)
    if current is None:
        raise NoSuchRecord(f"business {business!r} has no override {override_id}")
    changed = bodies.override_changes(await json_object(request), current)
    return web.json_response(
        bodies.override(await book.change_override(business, changed, who=_who(request)))
    )


async def remove_override(request: web.Request) -> web.Response:
    await _book(request).remove_override(_business(request), _id(request), who=_who(request))
    return web.Response(status=204)


async def on_call(request: web.Request) -> web.Response:
    """Per tier, in escalation order, who is on call at ``at`` (default now), with how to reach them."""
    at = Query(request, ("at",)).instant("at") or _now()
    book, business = _book(request), _business(request)
    roster = Roster.of(await book.schedule(business, at=at))
    people = {p.id: p for p in await book.people(business)}
    tiers = [
        {
            "tier": tier.value,
            "person": bodies.person(people[person]),
            "override": None if (o := roster.override_at(tier, at)) is None else o.id,
        }
        for tier, person in roster.on_call(at).items()
    ]
    return web.json_response({"business": business, "at": at.isoformat(), "tiers": tiers})


async def gaps(request: web.Request) -> web.Response:
    """The stretches of the next ``days`` (from ``from``, default now) with nobody on call in a tier."""
    query = Query(request, ("from", "days"))
    start = query.instant("from") or _now()
    days = query.integer("days", DEFAULT_GAP_DAYS) or 0
    if not 1 <= days <= MAX_GAP_DAYS:
        raise invalid("days", f"must be 1 to {MAX_GAP_DAYS}")
    roster = Roster.of(await _book(request).schedule(_business(request)))
    end = start + timedelta(days=days)
    found = [bodies.gap(g, roster.zone) for g in roster.gaps(start, end)]
    return web.json_response({"from": start.isoformat(), "until": end.isoformat(), "gaps": found})


async def changes(request: web.Request) -> web.Response:
    limit = Query(request, ("limit",)).integer("limit", 100) or 0
    found = await _book(request).changes(_business(request), limit)
    return web.json_response({"items": [bodies.change(c) for c in found]})


# (method, path under /api/v1, handler); each route's action is in access.API_ACTIONS.
ROUTES = (
    ("GET", "/oncall/{business}/people", list_people),
    ("POST", "/oncall/{business}/people", add_person),
    ("PATCH", "/oncall/{business}/people/{id}", change_person),
    ("GET", "/oncall/{business}/schedule", read_schedule),
    ("PUT", "/oncall/{business}/schedule", set_timezone),
    ("PUT", "/oncall/{business}/rotations/{tier}", set_rotation),
    ("DELETE", "/oncall/{business}/rotations/{tier}", remove_rotation),
    ("POST", "/oncall/{business}/overrides", add_override),
    ("PATCH", "/oncall/{business}/overrides/{id}", change_override),
    ("DELETE", "/oncall/{business}/overrides/{id}", remove_override),
    ("GET", "/oncall/{business}/on-call", on_call),
    ("GET", "/oncall/{business}/gaps", gaps),
    ("GET", "/oncall/{business}/changes", changes),
)
