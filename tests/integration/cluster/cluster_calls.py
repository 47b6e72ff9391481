"""A steady stream of callers into the cluster, and what Asterisk and the store say about them.

``CallStream`` places a carrier's call to the line's DID every ``every_s`` (G.711 callers, as
``AriClient.originate`` places them), into the cluster's one app. ``OfferWatch`` samples Asterisk's own
channels and bridges while calls run: an agent leg is the channel ``sb-<call>-<attempt>`` (routing/ids),
its phone is in the channel's name, and a caller rung on two phones at once, or bridged with two agent
legs, is the split brain these tests look for. ``leftovers`` and ``call_log`` are the checks afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from telephony.ari_client import AriClient
from telephony.errors import TelephonyError
from tests.integration.restart.harness import DID

LEG = re.compile(r"^sb-(?P<call>.+)-\d+$")
PHONE = re.compile(r"^Local/(?P<phone>[^@]+)@")


@dataclass
class CallStream:
    ari: AriClient
    app: str
    every_s: float = 0.6
    placed: list[str] = field(default_factory=list)  # the call ids the router knows them by
    _task: asyncio.Task[None] | None = None

    async def place(self) -> str:
        channel = f"test-{uuid.uuid4().hex[:12]}"
        endpoint = f"Local/{DID.lstrip('+')}@switchboard-inbound/n"
        caller = f"+1415555{len(self.placed) % 10000:04d}"
        await self.ari.originate(endpoint, "switchboard-caller", "s", caller, channel,
                                 variables={"_SB_APP": self.app})  # fmt: skip
        call = f"{channel};2"  # the Local channel's second half is the one that enters Stasis
        self.placed.append(call)
        return call

    def start(self) -> None:
        assert self._task is None
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self.place()
            await asyncio.sleep(self.every_s)

    async def stop(self) -> None:
        """Stop placing calls; a call that could not be placed fails the test here."""
        await _stopped(self._task)
        self._task = None


async def _stopped(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    (ended,) = await asyncio.gather(task, return_exceptions=True)
    if not isinstance(ended, asyncio.CancelledError | None):
        raise AssertionError(f"the stream or the watch failed: {ended!r}") from ended


@dataclass
class OfferWatch:
    """Samples Asterisk every ``every_s`` until stopped; ``doubles`` lists what should never be seen."""

    ari: AriClient
    stream: CallStream
    every_s: float = 0.1
    samples: int = 0
    most_legs: int = 0  # the most agent legs of ours up at once, to show the watch saw calls
    doubles: list[str] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TelephonyError):
                channels, bridges = await asyncio.gather(self.ari.channels(), self.ari.bridges())
                self.look(channels, bridges)
            await asyncio.sleep(self.every_s)

    def look(self, channels: list[dict[str, Any]], bridges: list[dict[str, Any]]) -> None:
        ours = set(self.stream.placed)
        phones: dict[str, set[str]] = {}
        legs = 0
        for channel in channels:
            leg = LEG.match(str(channel["id"]))
            if leg is None or leg["call"] not in ours:
                continue
            legs += 1
            phone = PHONE.match(str(channel.get("name", "")))
            phones.setdefault(leg["call"], set()).add(phone["phone"] if phone else str(channel["id"]))
        self.doubles += [f"{call} rung on {sorted(p)}" for call, p in phones.items() if len(p) > 1]
        for bridge in bridges:
            members = [c for c in bridge.get("channels", []) if _leg_of(c, ours)]
            if len(members) > 1:
                self.doubles.append(f"bridge {bridge['id']} holds agent legs {members}")
        self.samples += 1
        self.most_legs = max(self.most_legs, legs)

    async def stop(self) -> None:
        await _stopped(self._task)
        self._task = None


def _leg_of(channel: str, ours: set[str]) -> bool:
    leg = LEG.match(channel)
    return leg is not None and leg["call"] in ours


async def leftovers(ari: AriClient, app: str, calls: list[str]) -> list[str]:
    """Every channel and bridge of these calls (or in the cluster's app) that Asterisk still holds."""
    ours = set(calls)
    callers = {c.removesuffix(";2") for c in calls}
    left = []
    for channel in await ari.channels():
        cid = str(channel["id"])
        in_app = str((channel.get("dialplan") or {}).get("app_data", "")).startswith(f"{app},")
        if in_app or cid.split(";")[0] in callers or _leg_of(cid.removesuffix(";2"), ours):
            left.append(f"channel {cid} ({channel.get('state')}, {channel.get('name')})")
    for bridge in await ari.bridges():
        bid = str(bridge["id"])
        if bid.removeprefix("sb-bridge-") in ours or any(c in ours for c in bridge.get("channels", [])):
            left.append(f"bridge {bid} {bridge.get('channels')}")
    return left


async def hang_up_all(ari: AriClient, app: str, calls: list[str]) -> None:
    """After a failed test: nothing of ours may ring on in the shared sandbox."""
    for line in await leftovers(ari, app, calls):
        kind, name = line.split(" ")[:2]
        with contextlib.suppress(TelephonyError):
            await (ari.hangup(name) if kind == "channel" else ari.destroy_bridge(name))


async def call_log(store_url: str) -> list[dict[str, Any]]:
    """The call log's rows, read straight from the PostgreSQL store."""
    dsn = store_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    db = await asyncpg.connect(dsn, timeout=5)
    try:
        query = "SELECT call_id, outcome, agent_id, hung_up_by, end_reason FROM calls ORDER BY call_id"
        rows = await db.fetch(query)
    finally:
        await db.close()
    return [dict(r) for r in rows]
