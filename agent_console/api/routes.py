"""The API's route table, its one middleware (authenticate, then map refusals) and ``create_api``;
each route's action (who may call it) is in ``agent_console.access.API_ACTIONS``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from agent_console.access import API_ACTIONS
from agent_console.api import (
    accounts,
    calls,
    cases,
    customers,
    deliveries,
    escalation_report,
    imports,
    oncall,
    openapi,
    reports,
    training,
)
from agent_console.api.auth import PRINCIPAL, authenticate, guarded
from agent_console.api.context import CONFIG, ApiConfig
from agent_console.error_codes import public, refusal
from agent_console.errors import ConsoleError
from agent_console.login import UserOf
from crm_core.domain.errors import CrmError
from routing.errors import RoutingError

log = structlog.get_logger("api")
PREFIX = "/api/v1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _openapi(_: web.Request) -> web.Response:
    return web.json_response(openapi.DOCUMENT)


# (method, path under PREFIX, handler). Static paths come before the {id} ones they would shadow.
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/openapi.json", _openapi),
    ("POST", "/customers", customers.create),
    ("GET", "/customers", customers.search),
    ("POST", "/customers/import", imports.import_customers),
    ("GET", "/customers/by-number/{number}", customers.by_number),
    ("GET", "/customers/{id}", customers.read),
    ("PATCH", "/customers/{id}", customers.change),
    ("DELETE", "/customers/{id}", customers.delete),
    ("POST", "/customers/{id}/anonymise", customers.anonymise),
    ("GET", "/customers/{id}/overview", customers.overview),
    ("GET", "/customers/{id}/account", accounts.read),
    ("PATCH", "/customers/{id}/account", accounts.change),
    ("GET", "/customers/{id}/orders", accounts.list_orders),
    ("POST", "/customers/{id}/orders", accounts.add_order),
    ("POST", "/cases", cases.open_case),
    ("GET", "/cases", cases.list_cases),
    ("GET", "/cases/{id}", cases.read),
    ("PATCH", "/cases/{id}", cases.change),
    ("POST", "/cases/{id}/comments", cases.comment),
    ("POST", "/cases/{id}/close", cases.close),
    ("GET", "/calls", calls.list_calls),
    ("GET", "/calls/export.csv", calls.export_csv),
    ("PATCH", "/calls/{id}", calls.wrap_up),
    ("GET", "/reports/calls", reports.calls),
    ("GET", "/reports/calls.csv", reports.calls_csv),
    ("GET", "/reports/agents", reports.agents),
    ("GET", "/reports/escalations", escalation_report.escalations),
    *oncall.ROUTES,
    *deliveries.ROUTES,
    *training.ROUTES,
)


USER_OF: web.AppKey[UserOf] = web.AppKey("user_of")


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        request[PRINCIPAL] = await authenticate(request, request.app[CONFIG].tokens, request.app.get(USER_OF))
        return await handler(request)
    except ConsoleError as error:
        return refusal(error)
    except RoutingError as error:  # an order for the router (``api.training``) it refused
        return refusal(error)
    except CrmError as error:
        if public(error).status >= 500:
            log.error("api.store_error", error=str(error))
        return refusal(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return refusal(error)


def create_api(
    api: ApiConfig, user_of: UserOf | None = None, trainer: training.Trainer | None = None
) -> web.Application:
    """The API as an aiohttp sub-application, to be mounted at ``PREFIX``; with ``user_of``, the console's
    session cookie is accepted as well as the bearer tokens; with ``trainer``, training mode is offered
    (``/training``: else its routes answer not-found)."""
    app = web.Application(middlewares=[_guard])
    app[CONFIG] = api
    if user_of is not None:
        app[USER_OF] = user_of
    if trainer is not None:
        app[training.TRAINER] = trainer
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, guarded(API_ACTIONS[method, path], handler))
    return app
