"""Three real ``switchboard serve`` processes in one cluster: one PostgreSQL store, one private Redis.

A ``Member`` is the restart tests' ``Served`` with a ``[cluster]`` section and the shared store: every
member has the same ARI app name (only the leader holds its websocket; while nobody does, the sandbox
dialplan tries ``Stasis()`` again every half second). ``Cluster`` starts and heals the three, and reads
who leads from each one's ``GET /healthz`` (``role``, ``instance``, ``term``) and ``GET /metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.cluster.private_redis import PrivateRedis
from tests.integration.restart.harness import Served

CLUSTER = """
[cluster]
redis_url = "{redis}"
instance = "{name}"
lease_ms = {lease_ms}
key_prefix = "{prefix}"
"""
LEASE_MS = 1000
PROBE_TIMEOUT = aiohttp.ClientTimeout(total=0.5)  # a frozen member must not hold a sample up
Health = dict[str, Any]


@dataclass
class Member(Served):
    """One instance; ``workdir`` is its own (its config and logs), the store is the cluster's."""

    name: str = "a"
    store_url: str = ""

    start_timeout_s = 90.0  # three start at once, on a machine that other tests may load too

    @property
    def database_url(self) -> str:
        return self.store_url

    def answered(self, health: Health) -> bool:
        # A follower never holds the ARI websocket: up is when it says which role it has.
        return health.get("role") in ("leader", "follower")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def freeze(self) -> None:
        """SIGSTOP: the process keeps its sockets and its lease key, and does nothing at all."""
        assert self.alive, self.log()
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.alive and self.process is not None, self.log()
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.alive and self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process cannot act on the SIGTERM
        super().stop()

    async def health(self, http: aiohttp.ClientSession) -> Health | None:
        """What ``/health`` says now; None if the member does not answer within half a second."""
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            async with http.get(f"{self.url}{self.health_path}", timeout=PROBE_TIMEOUT) as r:
                if r.status == 200:
                    found: Health = await r.json()
                    return found
        return None

    async def metrics(self, http: aiohttp.ClientSession) -> dict[str, float]:
        """``/metrics`` as ``{'name{labels}': value}``."""
        async with http.get(f"{self.url}/metrics", timeout=aiohttp.ClientTimeout(total=5)) as r:
            assert r.status == 200, await r.text()
            return parse_metrics(await r.text())

    async def ari_requests(self, http: aiohttp.ClientSession) -> float:
        return (await self.metrics(http))["switchboard_ari_requests_total"]


def parse_metrics(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def leaders(sample: dict[str, Health | None]) -> list[str]:
    """The members that say they lead, in one sample of every member's health."""
    return sorted(name for name, h in sample.items() if h is not None and h.get("role") == "leader")


@dataclass
class Cluster:
    workdir: Path
    redis: PrivateRedis
    store_url: str
    agents: dict[str, str]  # agent -> phone, the same plan on every member
    lease_ms: int = LEASE_MS
    app: str = field(default_factory=lambda: f"sbcluster-{uuid.uuid4().hex[:8]}")
    prefix: str = field(default_factory=lambda: f"sbtest-{uuid.uuid4().hex[:8]}")
    members: list[Member] = field(default_factory=list)

    def add(self, name: str) -> Member:
        workdir = self.workdir / name
        workdir.mkdir(exist_ok=True)
        extra = CLUSTER.format(redis=self.redis.url, name=name, lease_ms=self.lease_ms, prefix=self.prefix)
        member = Member(workdir, self.agents, wrap_up_s=0, app=self.app, extra=extra, name=name,
                        store_url=self.store_url)  # fmt: skip
        member.write_config()
        self.members.append(member)
        return member

    def member(self, name: str) -> Member:
        (found,) = [m for m in self.members if m.name == name]
        return found

    @property
    def alive(self) -> list[Member]:
        return [m for m in self.members if m.alive]

    async def start(self, *members: Member) -> None:
        await asyncio.gather(*(m.start() for m in members))

    async def sample(self, http: aiohttp.ClientSession) -> dict[str, Health | None]:
        """Every member's health, asked of all at once (a sample as near one instant as HTTP allows)."""
        found = await asyncio.gather(*(m.health(http) for m in self.members))
        return {m.name: h for m, h in zip(self.members, found, strict=True)}

    async def leader(
        self, http: aiohttp.ClientSession, timeout: float = 10.0, above: int = -1, connected: bool = True
    ) -> Member:
        """The one member that leads with a term above ``above`` (with ``connected``: and holds the ARI
        websocket, so it routes)."""
        deadline = time.monotonic() + timeout
        while True:
            sample = await self.sample(http)
            ruling = [n for n in leaders(sample) if _commands(sample[n], above, connected)]
            if len(ruling) == 1:
                return self.member(ruling[0])
            assert time.monotonic() < deadline, f"no single leader after {timeout} s: {sample}"
            await asyncio.sleep(0.02)

    def stop(self) -> None:
        for member in self.members:
            member.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {m.name}\n{m.log()}" for m in self.members)


def _commands(health: Health | None, above: int, connected: bool) -> bool:
    if health is None or term(health) <= above:
        return False
    return bool(health.get("ari_connected")) or not connected


def term(health: Health) -> int:
    """The leadership's token as the member knows it; -1 for none yet (a follower before any line)."""
    known = health.get("term")
    return -1 if known is None else int(known)
