"""Prometheus metrics for ``GET /metrics``: queue depth and waits, agents by state, calls by outcome,
pop latency, the ARI connection.

Live figures (depth, longest wait, agents by state, ARI) are read from the router when Prometheus
scrapes, so they are never stale and cost nothing between scrapes; counters and histograms are fed by the
bus (``notice``) and by the console's acknowledgements (``pop_acknowledged``). Each service has its own
registry, so several services in one process (the tests) never share a metric. No customer data: only
queue and agent ids, counts and times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent_console.router_reader import RouterReader
from routing import commands as cmd
from routing.plan import Plan
from routing.records import CallRecord
from routing.states import AgentState
from switchboard.cluster.fenced import Standing

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WAIT_BUCKETS = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0)
POP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
MAX_PENDING_POPS = 10_000  # pops never acknowledged (a console closed) must not pile up for ever

MetricsCommand = cmd.PopScreen | cmd.WithdrawOffer | cmd.LogCall


class _Live(Collector):
    def __init__(
        self,
        router: RouterReader,
        plan: Plan,
        ari_connected: Callable[[], bool],
        clock: Callable[[], float],
    ):
        self._router = router
        self._plan = plan
        self._ari_connected = ari_connected
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        depth = GaugeMetricFamily(
            "switchboard_queue_waiting_calls", "Calls waiting in the queue", labels=["queue"]
        )
        longest = GaugeMetricFamily(
            "switchboard_queue_longest_wait_seconds", "Longest current wait in the queue", labels=["queue"]
        )
        for queue in self._plan.queues:
            waiting = [self._router.call_view(c) for c in self._router.waiting(queue)]
            arrived = [v.arrived_at for v in waiting if v is not None]
            depth.add_metric([queue], len(arrived))
            longest.add_metric([queue], max((now - a for a in arrived), default=0.0))
        yield depth
        yield longest
        agents = GaugeMetricFamily("switchboard_agents", "Agents in each state", labels=["state"])
        counts = dict.fromkeys((str(s) for s in AgentState), 0)
        for agent in self._plan.agents:
            counts[str(self._router.agent_view(agent).state)] += 1
        for state, count in counts.items():
            agents.add_metric([state], count)
        yield agents
        yield GaugeMetricFamily(
            "switchboard_active_calls", "Calls in progress", value=self._router.active_calls
        )
        yield GaugeMetricFamily(
            "switchboard_ari_connected",
            "1 while the ARI websocket is connected",
            value=int(self._ari_connected()),
        )


class _Standing(Collector):
    """Whether this instance leads (several instances: switchboard/cluster/), and what it sent Asterisk."""

    def __init__(self, standing: Standing) -> None:
        self._standing = standing

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "switchboard_leader", "1 while this instance leads: routes and commands the PBX",
            value=int(self._standing.leads_now()),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "switchboard_cluster_term", "The latest leadership this instance knows of (0: alone)",
            value=self._standing.term or 0,
        )  # fmt: skip
        yield CounterMetricFamily(
            "switchboard_ari_requests", "ARI requests this process sent to Asterisk",
            value=self._standing.ari_requests,
        )  # fmt: skip


class Metrics:
    def __init__(
        self,
        router: RouterReader,
        plan: Plan,
        ari_connected: Callable[[], bool],
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        standing: Standing | None = None,
        counted: Callable[[CallRecord], bool] = lambda record: True,
    ) -> None:
        self.registry = CollectorRegistry()
        self._counted = counted  # practice calls (demo, training) are left out, as in every other figure
        self._monotonic = monotonic
        self._standing = standing
        self._popped: dict[str, float] = {}
        self.calls = Counter(
            "switchboard_calls",
            "Calls logged, by queue and outcome",
            ["queue", "outcome"],
            registry=self.registry,
        )
        self.waits = Histogram(
            "switchboard_call_wait_seconds",
            "Queue wait of logged calls: arrival to answer, or to the end for calls not answered",
            ["queue"],
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self.pop_latency = Histogram(
            "switchboard_pop_latency_seconds",
            "From the router's pop (the agent's phone rings) to the console's acknowledgement",
            buckets=POP_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Live(router, plan, ari_connected, clock))
        if standing is not None:
            self.registry.register(_Standing(standing))

    def notice(self, command: MetricsCommand) -> None:
        """The bus hands it pops, withdrawn offers and logged calls (switchboard/command_table.py)."""
        match command:
            case cmd.PopScreen(offer=offer):
                if len(self._popped) >= MAX_PENDING_POPS:
                    self._popped.pop(next(iter(self._popped)))
                self._popped[offer] = self._monotonic()
            case cmd.WithdrawOffer(offer=offer):
                self._popped.pop(offer, None)
            case cmd.LogCall(record) if (
                record.part_of is None and self._counts_calls() and self._counted(record)
            ):
                queue = record.queue or "none"
                self.calls.labels(queue, str(record.outcome)).inc()
                self.waits.labels(queue).observe(record.wait_s)

    def _counts_calls(self) -> bool:
        """Several instances see every call (a follower's router replicates the leader's): only the
        leader counts it, so the instances' counters add up to the calls."""
        return self._standing is None or self._standing.leading

    def pop_acknowledged(self, offer: str) -> None:
        """A console displayed the pop for ``offer`` (its ``ack``); the first ack counts."""
        popped = self._popped.pop(offer, None)
        if popped is not None:
            self.pop_latency.observe(self._monotonic() - popped)

    def render(self) -> bytes:
        return generate_latest(self.registry)
