"""The console under test: a real router and hub behind aiohttp's test client, fake users and customers.

Every message a test receives through a ``Tab`` is checked against its server schema, so whatever the
hub and app produce in the tests is held to the contract. ``RecordingAsk`` stands in front of the router:
it records every event and answers the call-control events (which the router on this branch does not
handle yet) with no commands, or with the refusal a test sets.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from agent_console.app import ConsoleBackend, create_app
from agent_console.contract import server_problem
from agent_console.delivery_catchup import DeliveryCatchUp
from agent_console.desk import Desk, DeskStore, Notifier
from agent_console.hub import ConsoleHub
from agent_console.messages import Floor
from agent_console.wallboard import Wallboard
from agent_console.wallboard_feed import WallboardFeed
from config.answering import Answering
from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.customers import Customer
from crm_core.domain.overview import Caller, CustomerOverview
from crm_core.domain.phones import PhoneKind, PhoneNumber
from crm_core.domain.ports import CallLog
from crm_core.domain.users import Role
from crm_core.sql.store import SqlStore
from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from routing.plan import AfterHours, AfterHoursKind, Agent, Did, Line, OnCallStep, Plan, Queue
from routing.router import Router
from switchboard.bus import LocalBus
from switchboard.callers import CallerCache
from switchboard.command_table import CommandTable, Handler
from switchboard.recorder import CallRecorder
from switchboard.runtime import RouterLoop
from tests.agent_console.fakes import EPOCH, PASSWORD, FakeUsers, MemorySessionStore, user

Q = QueueId("q")
SMITH = LineId("smith")
PLAN = Plan(
    dids={
        "+18005550101": Did("+18005550101", "radio", LineId("acme")),
        "+18005550201": Did("+18005550201", "main", SMITH),
    },
    lines={
        LineId("acme"): Line(id=LineId("acme"), name="Acme Service", queue=Q),
        SMITH: Line(
            id=SMITH,
            name="Dr. Smith's office",
            queue=Q,
            after_hours=AfterHours(
                AfterHoursKind.ON_CALL,
                chain=(
                    OnCallStep("Dr. Smith", "Local/103"),
                    OnCallStep("Dr. Jones", "Local/104"),
                ),
            ),
        ),
    },
    queues={Q: Queue(id=Q, name="Acme")},
    agents={
        AgentId("a1"): Agent(id=AgentId("a1"), name="Alice", endpoint="Local/101@x", queues=(Q,)),
        AgentId("a2"): Agent(id=AgentId("a2"), name="Bob", endpoint="Local/102@x", queues=(Q,)),
    },
)
SMITH_ANSWERING = Answering(
    "Dr. Smith's office, good evening.", "Ask for name\nAsk for number", "Chest pain: 911"
)
FLOOR = Floor(PLAN, "US", ("sale", "support", "no-action"), {SMITH: SMITH_ANSWERING})
JANE_NUMBER = "+14155550123"
JANE = CustomerOverview(
    Customer(
        id=7,
        name="Jane Doe",
        company="Doe Plumbing",
        email=None,
        language="en",
        tier="vip",
        tags=("plumber",),
        notes=None,
        external_id=None,
        phones=(PhoneNumber(JANE_NUMBER, PhoneKind.MOBILE),),
        created_at=EPOCH,
        updated_at=EPOCH,
    ),
    Account(Decimal("1250.50"), "USD", Decimal("1000.00"), AccountStatus.ON_HOLD, date(2026, 10, 1)),
    (),
    (),
    (),
)
CALL_CONTROL = (
    ev.AgentHungUp,
    ev.HoldRequested,
    ev.ResumeRequested,
    ev.TransferRequested,
    ev.EscalationRequested,
    ev.WarmPatchDecided,
)


class FixedDirectory:
    """Knows one customer, by number; ``slow`` makes it answer only when ``release`` is set."""

    def __init__(self) -> None:
        self.slow = False
        self.release = asyncio.Event()
        self.number_of: dict[CallId, str] = {}
        self.lookups: list[CallId] = []  # each ``caller`` asked: a read of the store

    async def caller(self, call: CallId, number: str | None) -> Caller:
        self.lookups.append(call)
        if self.slow:
            await self.release.wait()
        return Caller(JANE, (JANE.card,)) if number == JANE_NUMBER else Caller(None)

    def peek_caller(self, call: CallId) -> tuple[bool, Caller | None]:
        if self.slow:
            return False, None
        # As the real cache: the lookup started at the call's arrival and has finished by ringing time.
        known = self.number_of.get(call) == JANE_NUMBER
        return True, Caller(JANE, (JANE.card,)) if known else Caller(None)


class RecordingAsk:
    """The router's ``ask``, recording every event; call control answered with [] or ``refusal``."""

    def __init__(self, loop: RouterLoop) -> None:
        self._loop = loop
        self.events: list[ev.Event] = []
        self.refusal: Exception | None = None

    async def __call__(self, event: ev.Event) -> list[cmd.Command]:
        self.events.append(event)
        if isinstance(event, CALL_CONTROL):
            if self.refusal is not None:
                raise self.refusal
            return []
        return await self._loop.ask(event)


class Tab:
    """One browser tab's websocket; every message received is checked against its schema."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.snapshot: dict[str, Any] = {}

    async def receive_json(self, timeout: float = 2) -> dict[str, Any]:
        message: dict[str, Any] = await self.ws.receive_json(timeout=timeout)
        problem = server_problem(message)
        assert problem is None, (problem, message)
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ws, name)


@dataclass
class Console:
    client: TestClient[Any, Any]
    loop: RouterLoop
    bus: LocalBus
    hub: ConsoleHub
    ask: RecordingAsk
    now: list[float]
    directory: FixedDirectory
    users: FakeUsers
    store: SqlStore | None = None
    recorder: CallRecorder | None = None
    desk: Desk | None = None
    backend: ConsoleBackend | None = None
    feed: WallboardFeed | None = None
    tabs: list[Tab] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")

    async def sign_in(self, username: str = "alice", password: str = PASSWORD) -> Any:
        async with self.client.post("/login", json={"username": username, "password": password}) as r:
            return r.status, await r.json()

    async def ws(self, login: bool = True) -> Tab:
        if not self.client.session.cookie_jar.filter_cookies(self.client.make_url("/")):
            assert (await self.sign_in())[0] == 200
        tab = Tab(await self.client.ws_connect("/ws", origin=self.origin))
        assert (await tab.receive_json())["type"] == "hello"
        if login:
            await tab.send_json({"type": "login"})
            tab.snapshot = await tab.receive_json()
            assert tab.snapshot["type"] == "snapshot"
        return tab

    def ring(self, caller: str | None = JANE_NUMBER, did: str = "+18005550101", call: str = "c1") -> None:
        if caller is not None:
            self.directory.number_of[CallId(call)] = caller
        self.loop.submit(ev.CallArrived(CallId(call), did, caller, None, self.now[0]))
        self.loop.submit(ev.OfferRinging(OfferId(f"sb-{call}-1"), self.now[0] + 0.01))

    def answer(self, call: str = "c1") -> None:
        self.loop.submit(ev.OfferAnswered(OfferId(f"sb-{call}-1"), self.now[0] + 1))

    def hang_up(self, call: str = "c1") -> None:
        self.loop.submit(ev.CallerHungUp(CallId(call), self.now[0] + 30))


def restarted(before: Console, after: Console) -> None:
    """``after`` is ``before`` started again: the router's books as a snapshot keeps them (pickled,
    switchboard/journal.py), a hub that has seen nothing, and what the consoles showed told again (as the
    bootstrap's ``_restore`` does). ``after`` must run the same plan."""
    after.loop.router.book = pickle.loads(pickle.dumps(before.loop.router.book))
    after.now[0] = before.now[0]
    after.hub.restate(after.loop.router.restated(after.now[0]))


def elsewhere(command: cmd.PbxCommand | cmd.IdentifyCaller | cmd.EscalationAttempt) -> None:
    """The consumers of what no console shows: there is no PBX, no caller identification and no store
    of escalation attempts here."""


@contextlib.asynccontextmanager
async def make_console(
    users: FakeUsers,
    store: SqlStore | None = None,
    call_log: CallLog | None = None,
    notifier: Notifier | None = None,
    wait_s: float = 2.0,
    wallboard: bool = False,
    plan: Plan = PLAN,
    sweep_s: float = 3600,
) -> AsyncIterator[Console]:
    """With ``store``, the real caller cache, call-log writer and desk run against it too. With
    ``wallboard``, a feed whose pushes the test drives (``feed.tick()``): its own task never ticks. ``plan``
    is the router's (the hub's floor keeps ``PLAN``). ``sweep_s``: how often the app reads the users of
    its open sockets again (``OpenSockets.sweep``; tests call it themselves unless they set it short)."""
    now = [1000.0]
    router = Router(plan)
    bus = LocalBus()
    loop = RouterLoop(router, lambda: now[0], bus, tick_s=3600)
    directory = FixedDirectory()
    recorder, desk, tasks = None, None, []
    if store is None:
        hub = ConsoleHub(directory, FLOOR)
    else:
        callers = CallerCache(store, store)
        hub = ConsoleHub(callers, FLOOR)
        recorder = CallRecorder(store if call_log is None else call_log, callers, retry_s=0.01)
        desk = Desk(DeskStore(store, store.calls, store.cases, store.customers, store), recorder, callers,
                    notifier, lambda: now[0], wait_s=wait_s)  # fmt: skip
        loop.observers.append(lambda e: callers.prefetch(e.call, e.caller_number)
                              if isinstance(e, ev.CallArrived) else None)  # fmt: skip
        tasks.append(asyncio.create_task(recorder.run()))
        DeliveryCatchUp(store.deliveries, lambda: now[0]).attach(hub)  # as the bootstrap wires it
    consumers: dict[str, Handler] = {"console": hub.notice, "elsewhere": elsewhere}
    if recorder is not None:
        consumers["call-log"] = recorder.notice
    shared = {cmd.LogCall: ("console", "call-log")} if recorder is not None else {}
    bus.route(CommandTable(consumers, shared))
    ask = RecordingAsk(loop)
    feed = None
    if wallboard:
        feed = WallboardFeed(
            Wallboard(plan, router, ZoneInfo("UTC")), lambda: now[0], 3600, plan.pause_reasons
        )
        feed.board.load([], [], now[0])
        bus.subscribe(feed.notice)
    backend = ConsoleBackend(ask, router, lambda: now[0], users, lambda: {"ok": True}, desk, feed,
                             sessions=MemorySessionStore(), sweep_s=sweep_s)  # fmt: skip
    tasks.append(asyncio.create_task(loop.run()))
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(hub, backend)))
    await client.start_server()
    try:
        yield Console(
            client, loop, bus, hub, ask, now, directory, users, store, recorder, desk, backend, feed
        )
    finally:
        await client.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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
