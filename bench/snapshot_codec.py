"""What a snapshot in format 2 costs (switchboard/snapshot_codec.py) next to format 1 (the Book pickled).

A router is driven to a busy floor: ``--agents`` agents signed in, ``--talking`` of them on a call, and
``--waiting`` callers in line (each with its timers), plus the ids of ``--ended`` calls over. Its books
(and, in format 2, its plan) are written and read ``--rounds`` times in each format; the figures are the
best round of each (this machine's speed changes within minutes), and their ratio. A snapshot is
taken on the router's loop (``RouterLoop``), so its write time is a pause there, every ``SNAPSHOT_S``
(60 s) or ``SNAPSHOT_EVERY`` (20,000) events; its read time is paid once per start.

    .venv/bin/python bench/snapshot_codec.py [--agents 300] [--talking 250] [--waiting 500] [--rounds 7]
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Callable

from routing import events as ev
from routing.ids import AgentId, CallId, LineId, OfferId, QueueId
from routing.plan import Agent, Did, Line, Plan, Queue
from routing.router import Router
from switchboard import snapshot_codec

Q, LINE, DID = QueueId("q"), LineId("l"), "+18005550100"


def floor(agents: int, talking: int, waiting: int, ended: int) -> Router:
    plan = Plan(
        dids={DID: Did(DID, "web", LINE)},
        lines={LINE: Line(id=LINE, name="Line", queue=Q)},
        queues={Q: Queue(id=Q, name="Queue", announce_every_s=30.0, wrap_up_s=10.0)},
        agents={AgentId(f"a{i}"): Agent(id=AgentId(f"a{i}"), name=f"A{i}", endpoint=f"PJSIP/{i}", queues=(Q,))
                for i in range(agents)},
    )  # fmt: skip
    router = Router(plan)
    for a in plan.agents:
        router.handle(ev.AgentLoggedIn(a, 1.0))
        router.handle(ev.AgentBecameReady(a, 1.0))
    at = 2.0
    for n in range(ended):  # calls answered and over, so the books remember their ids
        call = CallId(f"gone{n}")
        router.handle(ev.CallArrived(call, DID, "+14155550100", None, at))
        router.handle(ev.OfferAnswered(OfferId(f"sb-{call}-1"), at))
        router.handle(ev.CallerHungUp(call, at))
        router.handle(ev.Tick(at + 11.0))
        at += 11.0
    for n in range(talking + waiting):
        call = CallId(f"c{n}")
        router.handle(ev.CallArrived(call, DID, "+14155550100", "Caller", at))
        if n < talking:
            router.handle(ev.OfferAnswered(OfferId(f"sb-{call}-1"), at + 0.5))
    return router


def best(rounds: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--talking", type=int, default=250)
    parser.add_argument("--waiting", type=int, default=500)
    parser.add_argument("--ended", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    router = floor(args.agents, min(args.talking, args.agents), args.waiting, args.ended)
    one = pickle.dumps(router.book, protocol=pickle.HIGHEST_PROTOCOL)
    two = snapshot_codec.dumps(router.plan, router.book)
    print(f"books: {len(router.book.calls)} calls, {len(router.book.agents)} agents, "
          f"{len(router.book.timers)} timers, {len(router.book.ended)} ended ids")  # fmt: skip
    write_one = best(args.rounds, lambda: pickle.dumps(router.book, protocol=pickle.HIGHEST_PROTOCOL))
    write_two = best(args.rounds, lambda: snapshot_codec.dumps(router.plan, router.book))
    read_one = best(args.rounds, lambda: pickle.loads(one))
    read_two = best(args.rounds, lambda: snapshot_codec.loads(two))
    figures = {"write": (write_one, write_two), "read": (read_one, read_two)}
    print(f"size        format 1 {len(one) / 1024:8.1f} KiB   format 2 {len(two) / 1024:8.1f} KiB")
    for what, (f1, f2) in figures.items():
        print(f"{what:<10}  format 1 {f1 * 1000:8.2f} ms     format 2 {f2 * 1000:8.2f} ms   x{f2 / f1:.1f}")


if __name__ == "__main__":
    main()
