"""What "who is on call now" costs: 500 businesses, each with a year of rotations and overrides.

Each business (``--businesses``) has its own time zone (one of six, with and without summer time), eight
people, a weekly primary rotation and a daily backup rotation that began a year before ``now``, a
manager tier staffed only by overrides (one a month), and ``--overrides`` overrides a week in each of
the primary and backup tiers over the year (12 to 36 hours each, none overlapping another of its tier):
with the defaults, 220 overrides a business, 110,000 in all.

Three figures, each per business, nearest-rank percentiles over every business of every round:

- ``answer``: ``Roster.on_call(at)`` on a roster built once (what a service that keeps its rosters in
  memory pays per call); ``at`` is ``now`` and, in a second pass, a random instant of the year.
- ``cold``: ``Roster.of(schedule).on_call(now)``: checking and sorting the schedule's overrides first.
- ``store``: ``store.oncall.schedule(business, at=now)`` (the overrides in force then) read from a
  SQLite file, then the roster and the answer (the REST endpoint's path, less HTTP). The tables are
  filled with bulk inserts (the setup is not timed).

Also printed: reading every business's schedule at once (``store.oncall.schedules()``).

    .venv/bin/python bench/oncall.py [--businesses 500] [--overrides 2] [--rounds 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from crm_core.domain.coverage import Roster  # noqa: E402
from crm_core.domain.oncall import Cadence, Override, Rotation, Schedule, Tier  # noqa: E402
from crm_core.sql import orm  # noqa: E402
from crm_core.sql.engine import open_engine  # noqa: E402
from crm_core.sql.migrate import upgrade_async  # noqa: E402
from crm_core.sql.store import SqlStore  # noqa: E402
from routing.ids import LineId  # noqa: E402

NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Tokyo",
    "Australia/Sydney",
)
PEOPLE = 8


def schedule(n: int, first_person: int, overrides_a_week: int, rng: random.Random) -> Schedule:
    people = list(range(first_person, first_person + PEOPLE))
    start = (NOW - YEAR).date()
    rotations = {
        Tier.PRIMARY: Rotation(
            tier=Tier.PRIMARY, cadence=Cadence.WEEKLY, people=tuple(people[:4]), starts_on=start
        ),
        Tier.BACKUP: Rotation(
            tier=Tier.BACKUP, cadence=Cadence.DAILY, people=tuple(people[4:]), starts_on=start
        ),
    }
    found = [
        *_overrides(Tier.PRIMARY, people, overrides_a_week, rng),
        *_overrides(Tier.BACKUP, people, overrides_a_week, rng),
    ]
    found += [
        Override(
            id=0,
            tier=Tier.MANAGER,
            person=people[m % PEOPLE],
            starts_at=NOW - YEAR + timedelta(days=30 * m),
            ends_at=NOW - YEAR + timedelta(days=30 * (m + 1)),
            reason="manager of the month",
        )
        for m in range(13)
    ]
    return Schedule(
        business=LineId(f"b{n:04d}"),
        timezone=ZONES[n % len(ZONES)],
        rotations=rotations,
        overrides=tuple(found),
    )


def _overrides(tier: Tier, people: list[int], a_week: int, rng: random.Random) -> list[Override]:
    """``a_week`` overrides in each week of the year, one in each equal slot of it, so none overlap."""
    slot = timedelta(days=7) / a_week
    out = []
    for i in range(52 * a_week):
        begin = NOW - YEAR + slot * i + timedelta(hours=rng.randrange(0, 12))
        length = timedelta(hours=rng.randrange(12, 37))
        out.append(
            Override(
                id=0,
                tier=tier,
                person=rng.choice(people),
                starts_at=begin,
                ends_at=min(begin + length, NOW - YEAR + slot * (i + 1)),
                reason="swap",
            )
        )
    return out


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))] * 1e6

    mean = sum(ordered) / len(ordered) * 1e6
    return (
        f"mean {mean:7.1f} µs  p50 {rank(50):7.1f}  p99 {rank(99):7.1f}  max {ordered[-1] * 1e6:7.1f}"
        f"  (n={len(ordered)})"
    )


def timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def cold(s: Schedule) -> object:
    return Roster.of(s).on_call(NOW)


def phase(name: str, calls: list[Callable[[], object]]) -> None:
    """Times each call (wall clock), and the CPU time of them all: on a loaded machine the wall-clock
    tail is mostly time spent waiting for a core, which the CPU figure leaves out."""
    gc.collect()
    cpu = time.process_time()
    samples = [timed(call) for call in calls]
    cpu_each = (time.process_time() - cpu) / len(calls) * 1e6
    print(f"{name:<23} {percentiles(samples)}  cpu {cpu_each:.1f} µs each")


async def fill(store_url: str, schedules: list[Schedule]) -> None:
    """Bulk inserts straight into the tables: the store's own writes (one audited transaction each)
    would take minutes for 110,000 overrides and are not what is measured."""
    engine = open_engine(store_url)
    Rows = list[dict[str, object]]
    people: Rows = []
    zones: Rows = []
    rotations: Rows = []
    turns: Rows = []
    overrides: Rows = []
    for s in schedules:
        zones.append({"business": s.business, "timezone": s.timezone, "updated_at": NOW})
        people += [
            {
                "id": p,
                "business": s.business,
                "name": f"Person {p}",
                "patch": "warm",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for p in sorted(s.people())
        ]
        for r in s.rotations.values():
            rid = len(rotations) + 1
            rotations.append(
                {
                    "id": rid,
                    "business": s.business,
                    "tier": str(r.tier),
                    "cadence": str(r.cadence),
                    "handoff": r.handoff.isoformat(),
                    "starts_on": r.starts_on,
                    "ends_on": None,
                }
            )
            turns += [{"rotation_id": rid, "position": i, "person_id": p} for i, p in enumerate(r.people)]
        overrides += [
            {
                "business": s.business,
                "tier": str(o.tier),
                "person_id": o.person,
                "starts_at": o.starts_at,
                "ends_at": o.ends_at,
                "reason": o.reason,
            }
            for o in s.overrides
        ]
    async with engine.begin() as connection:
        for row, values in (
            (orm.OnCallPersonRow, people),
            (orm.OnCallScheduleRow, zones),
            (orm.OnCallRotationRow, rotations),
            (orm.OnCallTurnRow, turns),
            (orm.OnCallOverrideRow, overrides),
        ):
            await connection.execute(insert(row), values)
    await engine.dispose()


async def store_figures(url: str, businesses: list[LineId], rounds: int) -> tuple[list[float], float]:
    store = SqlStore.open(url, "US")
    samples = []
    try:
        began, cpu = time.perf_counter(), time.process_time()
        everything = await store.oncall.schedules()
        all_at_once = time.perf_counter() - began
        print(f"every schedule at once: cpu {time.process_time() - cpu:.1f} s")
        assert len(everything) == len(businesses)
        cpu = time.process_time()
        for _ in range(rounds):
            for business in businesses:
                began = time.perf_counter()
                Roster.of(await store.oncall.schedule(business, at=NOW)).on_call(NOW)
                samples.append(time.perf_counter() - began)
        print(f"store: cpu {(time.process_time() - cpu) / len(samples) * 1e6:.0f} µs each")
    finally:
        await store.close()
    return samples, all_at_once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--businesses", type=int, default=500)
    parser.add_argument("--overrides", type=int, default=2, help="overrides a week in each of two tiers")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    schedules = [schedule(n, 1 + n * PEOPLE, args.overrides, rng) for n in range(args.businesses)]
    rosters = [Roster.of(s) for s in schedules]
    total = sum(len(s.overrides) for s in schedules)
    each = total // args.businesses
    print(f"{args.businesses} businesses, {total} overrides ({each} each), {args.rounds} rounds")

    instants = [NOW - timedelta(seconds=rng.randrange(int(YEAR.total_seconds()))) for _ in rosters]
    rounds = range(args.rounds)
    phase("answer, at now", [partial(r.on_call, NOW) for _ in rounds for r in rosters])
    pairs = list(zip(rosters, instants, strict=True))
    phase("answer, at a random T", [partial(r.on_call, at) for _ in rounds for r, at in pairs])
    phase("cold (roster + answer)", [partial(cold, s) for _ in rounds for s in schedules])
    staffed = sum(len(r.on_call(NOW)) for r in rosters)
    print(f"{staffed} tiers staffed now of {3 * len(rosters)}")
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/oncall.db"
        asyncio.run(upgrade_async(url))
        asyncio.run(fill(url, schedules))
        samples, all_at_once = asyncio.run(store_figures(url, [s.business for s in schedules], args.rounds))
    print(f"store (SQLite file)     {percentiles(samples)}")
    print(
        f"every schedule at once  {all_at_once * 1e3:.1f} ms for {args.businesses} businesses "
        f"({all_at_once / args.businesses * 1e6:.1f} µs each)"
    )


if __name__ == "__main__":
    main()
