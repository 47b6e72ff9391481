"""One cluster shared by the failure tests of a module: three members, six agents, a stream of calls.

Starting three services, a store and Redis costs seconds, so the failure tests share one ``Rig``. Each
test begins with ``heal`` (every member running, one leader, two ready consoles on each member) and ends
with ``settle``: the stream stopped, then the checks read from Asterisk and the store, over every call
placed since the rig started — each in the call log once, answered by an agent who hung up (a 3XX phone
hangs up 2 s after answering: a call cut by a failover would say otherwise), nothing of ours left in
Asterisk, no caller on two phones at once, and every member's router at rest (no agent ringing or on a
call, all six ready, no call active or waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from telephony.ari_client import AriClient
from tests.integration.cluster.cluster_calls import CallStream, OfferWatch, call_log, hang_up_all, leftovers
from tests.integration.cluster.cluster_harness import Cluster, Member
from tests.integration.cluster.cluster_seats import Seat, seated
from tests.integration.cluster.private_redis import PrivateRedis
from tests.integration.conftest import ari_reachable, phone
from tests.support import postgres_database

# 3XX: answers after 300 ms, hangs up 2 s later; six agents keep up with a call every 0.6 s.
AGENTS = {f"a{n}": phone(f"30{n}") for n in range(1, 7)}
AT_REST = {'switchboard_agents{state="ringing"}': 0.0, 'switchboard_agents{state="on-call"}': 0.0,
           'switchboard_agents{state="ready"}': float(len(AGENTS)), "switchboard_active_calls": 0.0,
           'switchboard_queue_waiting_calls{queue="q"}': 0.0}  # fmt: skip


@dataclass
class Rig:
    cluster: Cluster
    http: aiohttp.ClientSession
    ari: AriClient
    seats: list[Seat]
    stream: CallStream
    watch: OfferWatch | None = None
    since: int = 0  # the first of this test's calls in the stream's list

    async def heal(self) -> Member:
        """Every member running (started again where a test killed it), two ready consoles on each,
        the stream running and watched; the leader."""
        cluster = self.cluster
        await self._stop_watching()  # after a test that failed half-way: its calls ended, then ours
        await hang_up_all(self.ari, cluster.app, self.stream.placed)
        self.since = len(self.stream.placed)
        if cluster.redis.process is None or cluster.redis.process.poll() is not None:
            cluster.redis.start()
        await cluster.start(*[m for m in cluster.members if not m.alive])
        leader = await cluster.leader(self.http)
        for n, seat in enumerate(self.seats):
            home = cluster.members[n % len(cluster.members)]
            if seat.member is not home or seat.closed.is_set():
                await seat.connect(home, ready=True)
        self.watch = OfferWatch(self.ari, self.stream)
        self.watch.start()
        self.stream.start()
        return leader

    async def _stop_watching(self) -> None:
        try:
            await self.stream.stop()
        finally:
            if self.watch is not None:
                await self.watch.stop()

    async def settle(self, timeout: float = 45.0) -> None:
        """Stop the stream and check everything the module docstring lists, for this test's calls."""
        await self.stream.stop()
        placed = self.stream.placed[self.since :]
        await self._wait(lambda: self._all_logged(placed), timeout, "every call placed in the call log")
        rows = [r for r in await call_log(self.cluster.store_url) if r["call_id"] in placed]
        assert sorted(r["call_id"] for r in rows) == sorted(placed)  # each exactly once
        wrong = [r for r in rows if (r["outcome"], r["hung_up_by"]) != ("answered", "agent")]
        assert not wrong and {r["agent_id"] for r in rows} <= set(AGENTS), wrong
        await self._wait(lambda: self._nothing_left(placed), 15, "no channel or bridge of ours in Asterisk")
        await self._wait(self._at_rest, 15, "every member's router at rest")
        assert self.watch is not None
        await self.watch.stop()
        print(f"{len(placed)} calls; {self.watch.samples} samples of Asterisk, "
              f"up to {self.watch.most_legs} agent legs at once")  # fmt: skip
        assert self.watch.most_legs > 0 and not self.watch.doubles, self.watch.doubles

    async def _wait(self, check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
        try:
            await _until(check, timeout, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await self.describe()}") from None

    async def describe(self) -> str:
        """What a failed check needs: this test's calls missing from the log, what Asterisk holds of
        ours, and each member's health and router figures."""
        placed = self.stream.placed[self.since :]
        logged = {r["call_id"] for r in await call_log(self.cluster.store_url)} & set(placed)
        lines = [f"{len(placed)} placed, {len(logged)} logged; missing: {sorted(set(placed) - logged)}"]
        lines += await leftovers(self.ari, self.cluster.app, placed)
        for member in self.cluster.alive:
            figures = await member.metrics(self.http)
            rest = {k: figures.get(k) for k in AT_REST}
            lines.append(f"{member.name}: {await member.health(self.http)} {rest}")
        return "\n".join(lines)

    async def _all_logged(self, placed: list[str]) -> bool:
        return {r["call_id"] for r in await call_log(self.cluster.store_url)} >= set(placed)

    async def _nothing_left(self, placed: list[str]) -> bool:
        return not await leftovers(self.ari, self.cluster.app, placed)

    async def _at_rest(self) -> bool:
        for member in self.cluster.alive:
            figures = await member.metrics(self.http)
            if any(figures.get(name) != value for name, value in AT_REST.items()):
                return False
        return True

    def others(self, member: Member) -> list[Member]:
        return [m for m in self.cluster.members if m is not member]

    def seats_on(self, member: Member) -> list[Seat]:
        return [s for s in self.seats if s.member is member]


async def _until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.2)


@asynccontextmanager
async def rig(workdir: Path) -> AsyncIterator[Rig]:
    """The cluster up (store migrated once by the CLI, as the service's deploy does; agents' users
    made), six consoles dealt over the three members; everything stopped and dropped afterwards."""
    ari = await ari_reachable()
    redis = PrivateRedis(workdir)
    redis.start()
    stream = CallStream(ari, "")
    try:
        async with postgres_database("sb_cluster") as url, aiohttp.ClientSession() as http:
            cluster = Cluster(workdir, redis, url, AGENTS)
            stream.app = cluster.app
            for name in ("a", "b", "c"):
                cluster.add(name)
            made = Rig(cluster, http, ari, [], stream)
            try:
                cluster.members[0].cli("migrate")
                cluster.members[0].add_agent_users(*AGENTS)
                await cluster.start(*cluster.members)
                await cluster.leader(http)
                made.seats = await seated(http, list(AGENTS), cluster.members)
                yield made
                for seat in made.seats:
                    await seat.close()
            finally:
                # The members stop whatever else fails here: a serve left running outlives the test.
                try:
                    with contextlib.suppress(AssertionError):  # a failed stream failed its test already
                        await made._stop_watching()
                    await hang_up_all(ari, cluster.app, stream.placed)
                finally:
                    cluster.stop()
    finally:
        redis.stop()
        await ari.close()
