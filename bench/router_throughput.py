"""Routing decisions per second of the pure router, and how the cost of one grows with the agents.

A simulated day on one core: ``--agents`` agents (each in 3 of ``--queues`` queues, with a penalty per
queue and 3 of 10 skills at levels 1-5), every queue asking for one skill at a minimum level and
widening it after 30 s, the queues' strategies spread over longest-idle, round-robin, fewest-calls,
least-talk-time, random and skills-based. ``--calls`` calls arrive, each to a random queue, at a rate
that keeps about 90 % of the agents busy, so calls do wait and agents do queue up. Every offer is
answered after 2 s of ringing, talk lasts 60-300 s, wrap-up 10 s.

A *decision* is one ``OfferCall`` the router emits: choosing who gets which call. The figure is
decisions per second of time spent inside ``Router.handle`` for every event of the day (arrivals,
answers, hangups, agent changes, ticks), so it is the whole cost of routing divided by its decisions.

    .venv/bin/python bench/router_throughput.py                         # 2,000 agents, 100,000 calls
    .venv/bin/python bench/router_throughput.py --scaling                # 200 / 2,000 / 20,000 agents
"""

from __future__ import annotations

import argparse
import heapq
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from routing.plan import Action, Agent, Did, Line, Plan, Queue, Rule, Strategy
from routing.router import Router

STRATEGIES = [s for s in Strategy if s is not Strategy.RING_ALL]
SKILLS = [f"skill{i}" for i in range(10)]


def build_plan(agents: int, queues: int, rng: random.Random) -> Plan:
    qs = {}
    for i in range(queues):
        skill = SKILLS[i % len(SKILLS)]
        qs[QueueId(f"q{i}")] = Queue(
            id=QueueId(f"q{i}"), name=f"Queue {i}", strategy=STRATEGIES[i % len(STRATEGIES)],
            skills={skill: rng.randint(1, 3)}, rules=(Rule(30, Action.WIDEN, skills={skill: 1}),),
            wrap_up_s=10.0, max_wait_s=3600.0, announce_every_s=0.0,
        )  # fmt: skip
    lines = {
        LineId(f"l{i}"): Line(id=LineId(f"l{i}"), name=f"Line {i}", queue=QueueId(f"q{i}"))
        for i in range(queues)
    }
    dids = {f"+1555{i:07d}": Did(f"+1555{i:07d}", "ad", LineId(f"l{i}")) for i in range(queues)}
    people = {}
    for n in range(agents):
        member = tuple(QueueId(f"q{i}") for i in rng.sample(range(queues), 3))
        own = {SKILLS[(int(q[1:])) % len(SKILLS)]: rng.randint(1, 5) for q in member}
        people[AgentId(f"a{n}")] = Agent(
            id=AgentId(f"a{n}"),
            name=f"Agent {n}",
            endpoint=f"PJSIP/a{n}",
            queues=member,
            penalties={q: rng.randint(0, 2) for q in member},
            skills=own,
        )
    return Plan(dids=dids, lines=lines, queues=qs, agents=people)


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    event: ev.Event = field(compare=False)


class Day:
    """Feeds the router a day of calls and answers the PBX's part (ringing, answers, hangups)."""

    def __init__(self, agents: int, queues: int, calls: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.plan = build_plan(agents, queues, self.rng)
        self.router = Router(self.plan)
        self.calls, self.queues = calls, queues
        self.due: list[_Due] = []
        self.seq = 0
        self.in_router = 0.0
        self.events = 0
        self.decisions = 0
        self.answered = 0
        # Mean talk 180 s + 10 s wrap-up + 2 s ringing; arrivals keep ~90 % of agents busy.
        self.gap = 192.0 / (0.9 * agents)

    def later(self, at: float, event: ev.Event) -> None:
        self.seq += 1
        heapq.heappush(self.due, _Due(at, self.seq, event))

    def run(self) -> None:
        for a in self.plan.agents:  # the start of the shift is not counted: it is not routing
            self.router.handle(ev.AgentLoggedIn(a, 0.0))
            self.router.handle(ev.AgentBecameReady(a, 0.0))
        arrivals = self._arrivals()
        next_arrival = next(arrivals, None)
        next_tick = 1.0
        while next_arrival is not None or self.due:
            candidates = [d.at for d in self.due[:1]] + ([next_arrival.at] if next_arrival else [])
            now = min(candidates)
            if now >= next_tick:
                self.feed(ev.Tick(next_tick))
                next_tick += 1.0
                continue
            if next_arrival is not None and next_arrival.at == now:
                self.feed(next_arrival)
                next_arrival = next(arrivals, None)
            else:
                self.feed(heapq.heappop(self.due).event)

    def _arrivals(self) -> Iterator[ev.CallArrived]:
        at = 1.0
        for n in range(self.calls):
            at += self.rng.expovariate(1 / self.gap)
            did = f"+1555{self.rng.randrange(self.queues):07d}"
            yield ev.CallArrived(CallId(f"c{n}"), did, f"+1444{n:07d}", None, at)

    def feed(self, event: ev.Event) -> None:
        start = time.perf_counter()
        out = self.router.handle(event)
        self.in_router += time.perf_counter() - start
        self.events += 1
        for command in out:
            self._pbx(command, event.at)

    def _pbx(self, command: cmd.Command, now: float) -> None:
        if isinstance(command, cmd.OfferCall):
            self.decisions += 1
            self.later(now + 2.0, ev.OfferAnswered(command.offer, now + 2.0))
        elif isinstance(command, cmd.BridgeCall):
            self.answered += 1
            end = now + self.rng.uniform(60, 300)
            self.later(end, ev.CallerHungUp(command.call, end))
        elif isinstance(command, cmd.CancelOffer):
            self.later(now, ev.OfferEnded(OfferId(command.offer), now))


def measure(agents: int, queues: int, calls: int, seed: int) -> Day:
    day = Day(agents, queues, calls, seed)
    day.run()
    return day


def report(day: Day, agents: int) -> None:
    per = day.in_router / max(day.decisions, 1)
    print(
        f"{agents:>6} agents  {day.decisions:>7} decisions  {day.events:>8} events  "
        f"{day.decisions / day.in_router:>9,.0f} decisions/s  {per * 1e6:6.1f} µs/decision  "
        f"({day.in_router:.2f} s in the router, {day.answered} calls answered)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=100)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scaling", action="store_true", help="200, 2,000 and 20,000 agents, 20,000 calls each"
    )
    args = parser.parse_args()
    if args.scaling:
        for agents in (200, 2000, 20_000):
            report(measure(agents, args.queues, 20_000, args.seed), agents)
    else:
        report(measure(args.agents, args.queues, args.calls, args.seed), args.agents)


if __name__ == "__main__":
    main()
