"""``/training``: a supervisor puts an agent in training (issue 17: practice callers only, at a rate) and
takes them out again; and who is in training now. Also the OpenAPI paths and schemas of it, merged into
``api.openapi.DOCUMENT``.

The orders go to the router as the console's supervisors' orders do (``Supervision``: logged, kept in the
audit, stored), under the caller's name; only staff may give them (``access``: an agent cannot put
themselves in training). The router refuses an agent it does not know (``unknown-agent``) and ending
training for an agent not in it (``agent-not-in-training``).
"""

from __future__ import annotations

import math
from typing import Protocol

from aiohttp import web

from agent_console.api.auth import principal
from agent_console.api.errors import NoSuchRecord, invalid
from agent_console.api.fields import json_object
from agent_console.api.schemas import TEXT, Json, array, closed, ref
from routing import commands as cmd

MAX_PER_MINUTE = 60.0  # one practice caller a second is more than any trainee can take


class Trainer(Protocol):
    """What the API needs of training mode: the orders, and who is in training (``TrainingDesk``)."""

    async def start_training(self, who: str, agent: str, per_minute: float) -> None: ...

    async def end_training(self, who: str, agent: str) -> None: ...

    def trainees(self) -> list[cmd.TrainingChanged]: ...


TRAINER = web.AppKey("trainer", Trainer)  # set by ``create_api`` when the app has a router to order


class Orders(Protocol):
    async def start_training(self, who: str, agent: str, per_minute: float) -> None: ...

    async def end_training(self, who: str, agent: str) -> None: ...


class Trainees(Protocol):
    def trainees(self) -> list[cmd.TrainingChanged]: ...


class TrainingDesk:
    """The ``Trainer`` the service hands the API: the supervisors' orders (``wallboard_feed.Supervision``)
    and the router's list of trainees."""

    def __init__(self, orders: Orders, router: Trainees) -> None:
        self._orders = orders
        self._router = router

    async def start_training(self, who: str, agent: str, per_minute: float) -> None:
        await self._orders.start_training(who, agent, per_minute)

    async def end_training(self, who: str, agent: str) -> None:
        await self._orders.end_training(who, agent)

    def trainees(self) -> list[cmd.TrainingChanged]:
        return self._router.trainees()


def _trainer(request: web.Request) -> Trainer:
    trainer = request.app.get(TRAINER)
    if trainer is None:
        raise NoSuchRecord("training needs the running service's router")
    return trainer


def _view(change: cmd.TrainingChanged) -> dict[str, object]:
    return {"agent": change.agent, "per_minute": change.per_minute, "by": change.by, "since": change.at}


async def list_trainees(request: web.Request) -> web.Response:
    return web.json_response({"items": [_view(t) for t in _trainer(request).trainees()]})


async def start(request: web.Request) -> web.Response:
    fields = await json_object(request)
    per_minute = fields.required("per_minute")
    fields.done()
    if (
        isinstance(per_minute, bool)
        or not isinstance(per_minute, int | float)
        or not math.isfinite(per_minute)
    ):
        raise invalid("per_minute", "must be a number")
    if not 0 < per_minute <= MAX_PER_MINUTE:
        raise invalid("per_minute", f"must be above 0 and at most {MAX_PER_MINUTE:g}")
    agent, who = request.match_info["agent"], principal(request).name
    await _trainer(request).start_training(who, agent, float(per_minute))
    # The order as the router took it (on a follower, the leader's router did: GET /training lists it).
    return web.json_response({"agent": agent, "per_minute": float(per_minute), "by": who})


async def end(request: web.Request) -> web.Response:
    await _trainer(request).end_training(principal(request).name, request.match_info["agent"])
    return web.Response(status=204)


ROUTES = (
    ("GET", "/training", list_trainees),
    ("PUT", "/training/{agent}", start),
    ("DELETE", "/training/{agent}", end),
)

ERROR = {"$ref": "#/components/responses/Error"}
_AGENT = {"name": "agent", "in": "path", "required": True, "schema": TEXT, "description": "the agent id"}


def _ok(schema: str | None, status: str = "200", *errors: str) -> Json:
    ok: Json = {"description": "OK"} if schema is None else {
        "description": "OK", "content": {"application/json": {"schema": ref(schema)}}}  # fmt: skip
    return {status: ok, **{code: ERROR for code in ("401", "403", *errors)}}


PATHS: Json = {
    "/training": {
        "get": {"summary": "The agents in training: their rate of practice callers, who said so, since when",
                "responses": _ok("Trainees")},
    },
    "/training/{agent}": {
        "parameters": [_AGENT],
        "put": {
            "summary": "Put an agent in training (or change the rate): offered practice callers only, "
                       "per_minute of them, marked training in the call log and left out of every figure",
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": ref("TrainingRate")}}},
            "responses": _ok("TrainingOrder", "200", "404", "409", "422"),
        },
        "delete": {"summary": "End an agent's training: real callers again; waiting practice callers go",
                   "responses": _ok(None, "204", "404", "409")},
    },
}  # fmt: skip
SCHEMAS: Json = {
    "TrainingRate": closed(
        {"per_minute": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_PER_MINUTE}}
    ),
    "Trainee": closed(
        {
            "agent": TEXT,
            "per_minute": {"type": "number"},
            "by": TEXT,
            "since": {"type": "number", "description": "Unix seconds"},
        }
    ),
    "Trainees": closed({"items": array(ref("Trainee"))}),
    "TrainingOrder": closed({"agent": TEXT, "per_minute": {"type": "number"}, "by": TEXT}),
}
