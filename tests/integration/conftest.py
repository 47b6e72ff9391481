"""The real Asterisk sandbox and a Switchboard service running in-process against it.

Each test gets its own Stasis application name (the sandbox dialplan takes it from the inherited
channel variable SB_APP), its own SQLite store, and a plan whose agents are the sandbox's simulated
phones: 1xx answer after 300 ms, 2xx never answer, 3xx answer and hang up after 2 s, 4xx are busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, async_playwright

from config.answering import Answering
from config.settings import AriSettings, Settings
from crm_core.domain.calls import LoggedCall
from routing import commands as cmd
from routing.ids import AgentId, LineId, QueueId
from routing.plan import Agent, Did, Line, Plan, Queue
from switchboard.bootstrap import Service, build
from telephony.ari_client import AriClient
from telephony.errors import AriRequestError, TelephonyError
from tests.integration.sip.fixtures import sip  # noqa: F401  (the SIPp phones and callers of test_sip_*)
from tests.support import unavailable

ARI_URL = os.environ.get("SWITCHBOARD_ARI_URL", "http://127.0.0.1:8088")
ARI_USER = os.environ.get("SWITCHBOARD_ARI_USER", "switchboard")
ARI_PASSWORD = os.environ.get("SWITCHBOARD_ARI_PASSWORD", "switchboard-test")
AGENTS_CONTEXT = "switchboard-agents"
PASSWORD = "integration-password"  # every test user's; the console signs in with it

DIDS = {
    "+18005550101": "radio",
    "+18005550102": "yellow-pages",
    "+18005550103": "web",
    "+18005550104": "google-ads",
}


def phone(ext: str) -> str:
    return f"Local/{ext}@{AGENTS_CONTEXT}/n"


def make_plan(agents: dict[str, str], ring_timeout_s: float = 10.0, max_wait_s: float = 120.0) -> Plan:
    q = QueueId("acme")
    return Plan(
        dids={n: Did(n, src, LineId("acme")) for n, src in DIDS.items()},
        lines={LineId("acme"): Line(id=LineId("acme"), name="Acme Service", queue=q)},
        queues={q: Queue(id=q, name="Acme Service", ring_timeout_s=ring_timeout_s, max_wait_s=max_wait_s)},
        agents={
            AgentId(a): Agent(id=AgentId(a), name=a, endpoint=ext, queues=(q,)) for a, ext in agents.items()
        },
    )


async def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class Console:
    """An agent's websocket, as a browser would hold it."""

    ws: aiohttp.ClientWebSocketResponse
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def expect(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no {kind!r} message matching {match}; saw {[m['type'] for m in self.seen]}"
                )
            try:
                message = json.loads(await self.ws.receive_str(timeout=remaining))
            except TimeoutError:
                continue
            self.seen.append(message)
            if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                return message

    async def send(self, **message: Any) -> None:
        await self.ws.send_json(message)


async def logged_in(ws: aiohttp.ClientWebSocketResponse, agent: str, ready: bool) -> Console:
    """The console on ``ws`` once its agent has logged in to the ACD (and, with ``ready``, said ready)."""
    console = Console(ws)
    await console.expect("hello")
    await console.send(type="login")
    await console.expect("snapshot", agent=agent)
    if ready:
        await console.send(type="ready")
        await console.expect("state", state="ready")
    return console


@dataclass
class Sandbox:
    """The service under test plus the tools to place and end calls on the real Asterisk."""

    service: Service
    client: TestClient[Any, Any]
    ari: AriClient
    app: str
    callers: list[str] = field(default_factory=list)

    async def sign_in(self, agent: str) -> str:
        """The session cookie of user ``agent`` (created on first use, acting as agent ``agent``).

        The cookie is taken out of the shared client's jar, so each console holds its own session."""
        if await self.service.store.users.get(agent) is None:
            await self.service.store.users.add(agent, PASSWORD, "agent", agent=agent)
        async with self.client.post("/login", json={"username": agent, "password": PASSWORD}) as r:
            assert r.status == 200, await r.text()
            session = r.cookies["sb_session"].value
        self.client.session.cookie_jar.clear()
        return session

    async def console(self, agent: str, ready: bool = True) -> Console:
        session = await self.sign_in(agent)
        origin = str(self.client.make_url("/")).rstrip("/")
        ws = await self.client.ws_connect("/ws", origin=origin, headers={"Cookie": f"sb_session={session}"})
        return await logged_in(ws, agent, ready)

    async def call(self, caller: str, did: str, keypad: bool = False) -> str:
        """Place a call as a carrier would deliver it; returns the id the router knows the call by.

        With ``keypad`` the caller's own half is parked in the app (args ``keypad``, which the service
        ignores) so the test can press keys on it: ARI sends DTMF only from a channel in Stasis."""
        channel = f"test-{uuid.uuid4().hex[:12]}"
        endpoint = f"Local/{did.lstrip('+')}@switchboard-inbound/n"
        if keypad:
            params = {"endpoint": endpoint, "callerId": caller, "channelId": channel, "app": self.app,
                      "appArgs": "keypad"}  # fmt: skip
            await self.ari.request("POST", "/channels", params, {"variables": {"_SB_APP": self.app}})
        else:
            await self.ari.originate(
                endpoint, "switchboard-caller", "s", caller, channel, variables={"_SB_APP": self.app}
            )
        self.callers.append(channel)
        return f"{channel};2"  # the Local channel's second half is the one that enters Stasis

    async def hang_up_caller(self, call: str) -> None:
        await self.ari.hangup(call.removesuffix(";2"))

    async def channels(self) -> set[str]:
        return {c["id"] for c in await self.ari.channels()}

    async def gone(self, channel: str, timeout: float = 5.0) -> None:
        """Wait until ``channel`` is hung up in Asterisk (hangups are carried out asynchronously)."""
        deadline = time.monotonic() + timeout
        while channel in await self.channels():
            if time.monotonic() > deadline:
                raise AssertionError(f"channel {channel} still up after {timeout} s")
            await asyncio.sleep(0.05)

    async def logged(self, call: str) -> LoggedCall:
        await self.service.recorder.flush()
        return await wait_until_async(
            lambda: self.service.store.get_call(call), what=f"call log row of {call}"
        )


async def wait_until_async(
    fetch: Callable[[], Awaitable[Any]], timeout: float = 10.0, what: str = "row"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await fetch()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


async def ari_reachable() -> AriClient:
    ari = AriClient(ARI_URL, ARI_USER, ARI_PASSWORD, "probe")
    try:
        await ari.info()
    except TelephonyError as exc:
        await ari.close()
        unavailable(f"Asterisk ARI at {ARI_URL} ({exc})", "start it with scripts/asterisk-sandbox up")
    return ari


SandboxFactory = Callable[..., Awaitable[Sandbox]]


def _in_app(channel: dict[str, Any], app: str) -> bool:
    dialplan = channel.get("dialplan") or {}
    return str(dialplan.get("app_data", "")).startswith(f"{app},")


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxFactory]:
    started: list[Sandbox] = []

    async def start(
        agents: dict[str, str],
        plan: Plan | None = None,
        answering: Mapping[LineId, Answering] | None = None,
        more: Mapping[str, Any] | None = None,
        outbound: str | None = None,
        **queue: float,
    ) -> Sandbox:
        """A service whose agents are ``agents`` (id -> phone); ``plan`` replaces the default one;
        ``answering`` gives lines the answering service's profile; ``more``: other settings (forms,
        deliveries); ``outbound``: the outbound endpoint (``{number}`` filled in) instead of the default."""
        probe = await ari_reachable()
        await probe.close()
        app = f"sbtest-{uuid.uuid4().hex[:8]}"
        settings = Settings(
            ari=AriSettings(
                ARI_URL, ARI_USER, ARI_PASSWORD, app, **({"outbound_endpoint": outbound} if outbound else {})
            ),
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}",
            http_host="127.0.0.1",
            http_port=0,
            region="US",
            caller_context="switchboard-caller",
            inbound_context="switchboard-inbound",
            plan=plan if plan is not None else make_plan(agents, **queue),
            answering=dict(answering or {}),
        )
        service = await build(dataclasses.replace(settings, **(more or {})))
        await service.start(http=False)
        await asyncio.wait_for(service.pbx.connected.wait(), 10)
        client: TestClient[Any, Any] = TestClient(TestServer(service.web))
        await client.start_server()
        ari = AriClient(ARI_URL, ARI_USER, ARI_PASSWORD, app)
        box = Sandbox(service, client, ari, app)
        started.append(box)
        return box

    yield start
    for box in started:
        # Leave nothing ringing or parked in the shared sandbox: the test's callers, and every channel
        # still in (or sent to) this test's app — agent legs, callbacks, on-call legs.
        ours = [c["id"] for c in await box.ari.channels() if _in_app(c, box.app)]
        for channel in [*box.callers, *ours]:
            with contextlib.suppress(TelephonyError):
                await box.ari.hangup(channel)
        await box.client.close()
        await box.service.stop()
        await box.ari.close()


# --- driving the service as its console does, and looking at Asterisk's bridges --------------------
def watch(box: Sandbox) -> list[cmd.Command]:
    """Every command the router publishes from now on."""
    seen: list[cmd.Command] = []
    box.service.bus.subscribe(seen.append)
    return seen


async def act(box: Sandbox, event_of: Any, *args: Any) -> list[cmd.Command]:
    """Submit a console event through the service's router loop, stamped with its clock."""
    result: list[cmd.Command] = await box.service.loop.ask(event_of(*args, box.service.loop.clock()))
    return result


async def bridge_members(box: Sandbox, bridge: str) -> set[str]:
    """The channels in ``bridge`` as Asterisk reports them; empty once it is gone."""
    try:
        found = await box.ari.request("GET", f"/bridges/{quote(bridge, safe='')}")
    except AriRequestError as exc:
        if exc.status == 404:
            return set()
        raise
    return set(found["channels"])


# --- the browser ------------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # screenshots the browser tests keep


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    if shutil.which(CHROMIUM) is None:
        unavailable("Chromium at /usr/bin/chromium", "apt-get install chromium, or run scripts/setup")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()
