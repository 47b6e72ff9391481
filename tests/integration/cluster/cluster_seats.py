"""Agents' consoles on the cluster's members, as browsers hold them: each signed in once, reconnecting.

A ``Seat`` signs its agent in over HTTP on one member, keeps the session cookie, and opens the console's
websocket there. A reader task keeps every message (the console must be read, or the server closes it
as too slow). When the member goes away the seat reconnects, as the console's page does, with the same
cookie to another member: a session shared by the cluster lets it in without a new sign-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.integration.cluster.cluster_harness import Member
from tests.integration.conftest import PASSWORD

Message = dict[str, Any]


@dataclass
class Seat:
    agent: str
    http: aiohttp.ClientSession
    cookie: str = ""
    member: Member | None = None  # where the websocket is (or was, until it closed)
    seen: list[Message] = field(default_factory=list)
    connects: int = 0
    ws: aiohttp.ClientWebSocketResponse | None = None
    _reader: asyncio.Task[None] | None = None
    _news: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def sign_in(self, member: Member) -> None:
        """POST /login on ``member``: the session cookie this seat keeps for good."""
        login = {"username": self.agent, "password": PASSWORD}
        async with self.http.post(f"{member.url}/login", json=login) as r:
            assert r.status == 200, await r.text()
            self.cookie = r.cookies["sb_session"].value
        self.http.cookie_jar.clear()

    async def connect(self, member: Member, ready: bool = False) -> Message:
        """Open the console on ``member`` with the kept cookie, join the ACD as the page does on
        ``hello``; the snapshot it got. With ``ready``, the agent also says ready."""
        await self.close()
        self.ws = await self.http.ws_connect(
            f"{member.url}/ws", origin=member.url, headers={"Cookie": f"sb_session={self.cookie}"}
        )
        self.member, self.connects = member, self.connects + 1
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read(self.ws))
        start = len(self.seen)
        await self.expect("hello", since=start)
        await self.send(type="login")
        snapshot = await self.expect("snapshot", since=start, agent=self.agent)
        if ready and snapshot["state"] != "ready":
            await self.send(type="ready")
            await self.expect("state", since=start, state="ready")
        return snapshot

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self.seen.append(json.loads(msg.data))
                    self._news.set()
        finally:
            self.closed.set()
            self._news.set()

    async def send(self, **message: Any) -> None:
        assert self.ws is not None
        await self.ws.send_json(message)

    async def expect(self, kind: str, since: int = 0, timeout: float = 10.0, **match: Any) -> Message:
        """The first message of ``kind`` (matching ``match``) at or after index ``since`` of ``seen``."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.seen[since:]:
                if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed.is_set():  # closed: every message it got is in seen
                where = self.member.name if self.member else None
                raise AssertionError(
                    f"{self.agent} on {where}: no {kind!r} matching {match}; "
                    f"saw {[_brief(m) for m in self.seen[since:]]}, closed={self.closed.is_set()}"
                )
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), remaining)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        self.ws = self._reader = None


def _brief(message: Message) -> str:
    """A message's type, and an error's code and text (what a failure needs to say)."""
    if message["type"] == "error":
        return f"error {message.get('error')}: {message.get('message')}"
    return str(message["type"])


async def seated(http: aiohttp.ClientSession, agents: list[str], members: list[Member]) -> list[Seat]:
    """One ready console per agent, dealt over ``members`` in turn (signed in where it connects)."""
    seats = [Seat(agent, http) for agent in agents]
    for n, seat in enumerate(seats):
        member = members[n % len(members)]
        await seat.sign_in(member)
        await seat.connect(member, ready=True)
    return seats


async def follow(seat: Seat, members: list[Member], timeout: float = 10.0) -> Message:
    """Once the seat's websocket has closed, reconnect to the first other member in ``members`` that
    lets it in, with the same cookie (no new sign-in); the snapshot it got there."""
    await asyncio.wait_for(seat.closed.wait(), timeout)
    gone = seat.member
    for member in members:
        if member is not gone and member.alive:
            return await seat.connect(member)
    raise AssertionError(f"{seat.agent}: no member left to reconnect to")
