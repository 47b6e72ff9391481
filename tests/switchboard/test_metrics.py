"""/metrics figures read from a real router driven through a known sequence, and pop latency from acks."""

from __future__ import annotations

import dataclasses

from prometheus_client.parser import text_string_to_metric_families

from routing import commands as cmd
from switchboard.cluster.fenced import Standing
from switchboard.metrics import Metrics
from switchboard.practice import counted, real_calls
from tests.routing.routing_harness import Scenario


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_given_a_ringing_agent_and_a_waiting_caller_when_scraped_then_live_figures_match() -> None:
    sc = Scenario(agents=2)
    clock, mono = Clock(), Clock()
    connected = [True]
    metrics = Metrics(sc.router, sc.plan, lambda: connected[0], clock, mono)
    sc.staff("a1", at=0.0)
    sc.arrive("c1", at=10.0)
    sc.ring(sc.offer_of("c1").offer, at=11.0)
    sc.arrive("c2", at=12.0)  # a1 is taken, a2 never logged in: c2 waits
    clock.now = 42.0
    connected[0] = False

    got = samples(metrics)

    assert got[("switchboard_queue_waiting_calls", (("queue", "sales"),))] == 1
    assert got[("switchboard_queue_longest_wait_seconds", (("queue", "sales"),))] == 30.0
    assert got[("switchboard_queue_waiting_calls", (("queue", "support"),))] == 0
    assert got[("switchboard_agents", (("state", "ringing"),))] == 1
    assert got[("switchboard_agents", (("state", "logged-out"),))] == 1
    assert got[("switchboard_active_calls", ())] == 2
    assert got[("switchboard_ari_connected", ())] == 0


def test_given_pops_and_acks_when_scraped_then_latency_and_call_counts_are_recorded() -> None:
    sc = Scenario(agents=1)
    mono = Clock()
    metrics = Metrics(sc.router, sc.plan, lambda: True, Clock(), mono)
    sc.staff("a1", at=0.0)
    sc.arrive("c1", at=1.0)
    offer = sc.offer_of("c1").offer
    for command in sc.ring(offer, at=2.0):
        metrics.notice(command)
    mono.now = 0.030
    metrics.pop_acknowledged(offer)
    metrics.pop_acknowledged(offer)  # a second tab's ack: counted once
    metrics.pop_acknowledged("never-popped")
    sc.answer(offer, at=3.0)
    for command in sc.hang_up("c1", at=33.0):
        metrics.notice(command)

    got = samples(metrics)

    assert got[("switchboard_pop_latency_seconds_count", ())] == 1
    assert got[("switchboard_pop_latency_seconds_bucket", (("le", "0.025"),))] == 0
    assert got[("switchboard_pop_latency_seconds_bucket", (("le", "0.05"),))] == 1
    assert got[("switchboard_calls_total", (("outcome", "answered"), ("queue", "sales")))] == 1
    assert got[("switchboard_call_wait_seconds_sum", (("queue", "sales"),))] == 2.0


def test_given_a_withdrawn_pop_when_acknowledged_late_then_no_latency_is_recorded() -> None:
    sc = Scenario(agents=1)
    metrics = Metrics(sc.router, sc.plan, lambda: True, Clock(), Clock())
    sc.staff("a1", at=0.0)
    sc.arrive("c1", at=1.0)
    offer = sc.offer_of("c1").offer
    for command in [*sc.ring(offer, at=2.0), *sc.hang_up("c1", at=3.0)]:
        metrics.notice(command)
    assert any(isinstance(c, cmd.WithdrawOffer) for c in sc.emitted)

    metrics.pop_acknowledged(offer)

    assert samples(metrics)[("switchboard_pop_latency_seconds_count", ())] == 0


def test_given_several_instances_then_only_the_leader_counts_calls_and_each_says_whether_it_leads() -> None:
    sc = Scenario(agents=1)
    standing = Standing(leading=False)
    metrics = Metrics(sc.router, sc.plan, lambda: True, Clock(), Clock(), standing=standing)
    sc.staff("a1", at=0.0)
    ended = []
    for call, at in (("c1", 1.0), ("c2", 10.0)):
        sc.arrive(call, at=at)
        sc.answer(sc.offer_of(call).offer, at=at + 1)
        ended.append(sc.hang_up(call, at=at + 2))
    for command in ended[0]:  # seen by a follower's router: the leader counts it
        metrics.notice(command)
    standing.leading, standing.term, standing.ari_requests = True, 4, 17
    for command in ended[1]:
        metrics.notice(command)

    got = samples(metrics)

    assert got[("switchboard_calls_total", (("outcome", "answered"), ("queue", "sales")))] == 1
    assert got[("switchboard_leader", ())] == 1
    assert got[("switchboard_cluster_term", ())] == 4
    assert got[("switchboard_ari_requests_total", ())] == 17


def test_given_a_practice_call_when_logged_then_it_is_not_counted_and_a_real_one_is() -> None:
    sc = Scenario(agents=1)
    practice = {"c1"}  # as the service's Classify says of a trainee's practice caller
    metrics = Metrics(
        sc.router, sc.plan, lambda: True, Clock(), Clock(), counted=lambda r: r.call not in practice
    )
    sc.staff("a1", at=0.0)
    for call, at in (("c1", 1.0), ("c2", 10.0)):
        sc.arrive(call, at=at)
        sc.answer(sc.offer_of(call).offer, at=at + 1)
        for command in sc.hang_up(call, at=at + 2):
            metrics.notice(command)

    got = samples(metrics)

    assert got[("switchboard_calls_total", (("outcome", "answered"), ("queue", "sales")))] == 1
    assert got[("switchboard_call_wait_seconds_count", (("queue", "sales"),))] == 1


def test_given_the_service_when_a_trainees_call_is_logged_then_its_metrics_leave_it_out() -> None:
    sc = Scenario(agents=1)
    metrics = Metrics(sc.router, sc.plan, lambda: True, Clock(), Clock(), counted=counted(real_calls))
    sc.staff("a1", at=0.0)
    sc.arrive("c1", at=1.0)
    sc.answer(sc.offer_of("c1").offer, at=2.0)
    for command in sc.hang_up("c1", at=3.0):
        if isinstance(command, cmd.LogCall):
            command = cmd.LogCall(dataclasses.replace(command.record, training=True))
        metrics.notice(command)

    assert (
        samples(metrics).get(("switchboard_calls_total", (("outcome", "answered"), ("queue", "sales"))))
        is None
    )
