"""The console under test: a real router and hub behind aiohttp's test client, fake users and customers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from agent_console.app import ConsoleBackend, create_app
from agent_console.hub import ConsoleHub
from crm_core.accounts import Account, AccountStatus
from crm_core.model import CustomerCard
from crm_core.users import Role
from routing import events as ev
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from routing.plan import Agent, Did, Line, Plan, Queue
from routing.router import Router
from switchboard.bus import LocalBus
from switchboard.runtime import RouterLoop
from tests.agent_console.fakes import PASSWORD, FakeUsers, user

Q = QueueId("q")
PLAN = Plan(
    dids={"+18005550101": Did("+18005550101", "radio", LineId("acme"))},
    lines={LineId("acme"): Line(LineId("acme"), "Acme Service", Q)},
    queues={Q: Queue(Q, "Acme")},
    agents={AgentId("a1"): Agent(AgentId("a1"), "Alice", "Local/101@x", (Q,))},
)
JANE = CustomerCard(
    7, "Jane Doe", "Doe Plumbing", None, "vip",
    account=Account(Decimal("1250.50"), "USD", Decimal("1000.00"), AccountStatus.ON_HOLD, date(2026, 10, 1)),
)  # fmt: skip


class FixedDirectory:
    """Knows one customer, by number; ``slow`` makes it answer only when ``release`` is set."""

    def __init__(self) -> None:
        self.slow = False
        self.release = asyncio.Event()
        self.found: dict[CallId, CustomerCard | None] = {}
        self.number_of: dict[CallId, str] = {}

    async def customer(self, call: CallId, number: str | None) -> CustomerCard | None:
        if self.slow:
            await self.release.wait()
        self.found[call] = JANE if number == "+14155550123" else None
        return self.found[call]

    def peek(self, call: CallId) -> tuple[bool, CustomerCard | None]:
        if self.slow:
            return False, None
        # As the real cache: the lookup started at the call's arrival and has finished by ringing time.
        return True, JANE if self.number_of.get(call) == "+14155550123" else None


@dataclass
class Console:
    client: TestClient[Any, Any]
    loop: RouterLoop
    hub: ConsoleHub
    now: list[float]
    directory: FixedDirectory
    users: FakeUsers

    @property
    def origin(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")

    async def sign_in(self, username: str = "alice", password: str = PASSWORD) -> Any:
        async with self.client.post("/login", json={"username": username, "password": password}) as r:
            return r.status, await r.json()

    async def ws(self, login: bool = True) -> Any:
        if not self.client.session.cookie_jar.filter_cookies(self.client.make_url("/")):
            assert (await self.sign_in())[0] == 200
        ws = await self.client.ws_connect("/ws", origin=self.origin)
        assert (await ws.receive_json())["type"] == "hello"
        if login:
            await ws.send_json({"type": "login"})
            assert (await ws.receive_json())["type"] == "state"
        return ws

    def ring(self, caller: str = "+14155550123") -> None:
        self.directory.number_of[CallId("c1")] = caller
        self.loop.submit(ev.CallArrived(CallId("c1"), "+18005550101", caller, None, self.now[0]))
        self.loop.submit(ev.OfferRinging(OfferId("sb-c1-1"), self.now[0] + 0.01))


@contextlib.asynccontextmanager
async def make_console(users: FakeUsers) -> AsyncIterator[Console]:
    now = [1000.0]
    router = Router(PLAN)
    bus = LocalBus()
    loop = RouterLoop(router, lambda: now[0], bus, tick_s=3600)
    directory = FixedDirectory()
    hub = ConsoleHub(directory)
    bus.subscribe(hub.notice)
    backend = ConsoleBackend(loop.ask, router.agent_view, lambda: now[0], users, lambda: {"ok": True})
    task = asyncio.create_task(loop.run())
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(hub, backend)))
    await client.start_server()
    try:
        yield Console(client, loop, hub, now, directory, users)
    finally:
        await client.close()
        task.cancel()


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    """Alice acts as agent a1; Sue is a supervisor who acts as no agent."""
    async with make_console(
        FakeUsers(user("alice", Role.AGENT, "a1"), user("sue", Role.SUPERVISOR, None))
    ) as c:
        yield c


async def ready(ws: Any) -> None:
    await ws.send_json({"type": "ready"})
    assert (await next_of(ws, "state"))["state"] == "ready"


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(20):
        message: dict[str, Any] = await ws.receive_json(timeout=2)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")
