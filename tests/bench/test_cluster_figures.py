"""``bench/cluster_run.py``'s figures from ARI events, pops and log lines written as Asterisk and
``switchboard serve`` write them (no Asterisk, no cluster)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _cluster_figures import (
    Leadership,
    Pop,
    doubles,
    first_ring_after,
    leadership_lines,
    logged,
    pops_by_role,
    windows,
)
from pop_latency import Seen

T0 = 1796626800.0  # 2026-12-07 07:00:00 UTC
CALL = "clu1-00001;2"
OTHER = "clu1-00002;2"


def stamp(at: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def event(kind: str, channel: str, at: float, **extra: object) -> str:
    return json.dumps({"type": kind, "timestamp": stamp(at), "channel": {"id": channel, **extra}})


def seen_of(*events: str) -> Seen:
    seen = Seen()
    for text in events:
        seen.record(text)
    return seen


def leg(call: str, attempt: int, created: float, ringing: float | None, destroyed: float | None) -> list[str]:
    name = f"sb-{call}-{attempt}"
    found = [event("ChannelCreated", name, created)]
    if ringing is not None:
        found.append(event("ChannelStateChange", name, ringing, state="Ringing"))
    if destroyed is not None:
        found.append(event("ChannelDestroyed", name, destroyed))
    return found


def test_given_a_leg_dialed_before_the_kill_when_it_rings_after_then_the_first_ring_is_the_new_leaders() -> (
    None
):
    seen = seen_of(
        *leg(CALL, 1, T0 + 9.990, T0 + 10.020, T0 + 12.0), *leg(OTHER, 1, T0 + 11.5, T0 + 11.512, None)
    )
    assert first_ring_after(seen, [CALL, OTHER], T0 + 10.0) == T0 + 11.512
    assert first_ring_after(seen, [CALL], T0 + 10.0) is None


def test_given_two_legs_of_a_call_alive_together_then_it_is_a_double_offer_but_in_turn_not() -> None:
    seen = seen_of(*leg(CALL, 1, T0, T0 + 0.01, T0 + 5.0), *leg(CALL, 2, T0 + 4.0, T0 + 4.01, None),
                   *leg(OTHER, 1, T0, T0 + 0.01, T0 + 2.0), *leg(OTHER, 2, T0 + 2.0, None, None))  # fmt: skip
    found = doubles(seen, [CALL, OTHER])
    assert len(found) == 1 and found[0].startswith(f"{CALL}: sb-{CALL}-1 alive until")


def test_given_three_logs_then_a_call_written_by_two_instances_counts_twice() -> None:
    a = f"2026-12-07 07:02:18 [\x1b[32minfo\x1b[0m] \x1b[1mcall.logged\x1b[0m agent=301 call={CALL} outcome=z"
    b = f"2026-12-07 07:02:19 [info     ] call.logged      agent=301 call={CALL} outcome=answered\n"
    c = f"2026-12-07 07:02:19 [info     ] call.logged      agent=302 call={OTHER} outcome=answered"
    counts = logged([a, b + c, "2026-12-07 07:02:19 [info     ] console.login agent=301"])
    assert counts == {CALL: 2, OTHER: 1}


def test_given_pops_on_each_instance_then_they_split_by_who_led_when_each_was_read() -> None:
    who = Leadership()
    for at, leading in ((T0, ["a"]), (T0 + 10, []), (T0 + 11, ["b"])):
        who.note(at, leading)
    start = {CALL: T0 + 1, OTHER: T0 + 12}
    pops = [Pop(CALL, T0 + 1.010, "a"), Pop(CALL, T0 + 1.013, "b"), Pop(OTHER, T0 + 12.004, "b"),
            Pop(OTHER, T0 + 12.009, "a"), Pop("not-ours;2", T0 + 12.0, "b")]  # fmt: skip
    split = pops_by_role(pops, start, [CALL, OTHER], who)
    assert [round(ms) for ms in split["leader"]] == [10, 4]
    assert [round(ms) for ms in split["follower"]] == [13, 9]
    assert (who.leader_at(T0 - 1), who.leader_at(T0 + 10.5)) == (None, None)


def test_given_health_samples_then_changes_and_samples_with_two_leaders_are_counted() -> None:
    who = Leadership()
    for at, leading in ((T0, ["a"]), (T0 + 1, ["a"]), (T0 + 2, ["b", "a"]), (T0 + 3, ["b"])):
        who.note(at, leading)
    assert who.changes() == [(T0, "a"), (T0 + 2, "a+b"), (T0 + 3, "b")]
    assert who.several() == 1


def test_given_entries_around_the_kill_then_they_fall_before_during_and_after() -> None:
    start = {"x": T0 + 9.9, "y": T0 + 10.0, "z": T0 + 14.9, "w": T0 + 15.0}
    assert windows(start, ["x", "y", "z", "w", "never"], T0 + 10, 5.0) == [["x"], ["y", "z"], ["w"]]


def test_given_the_instances_logs_then_leadership_lines_come_in_time_order_with_their_instance() -> None:
    logs = {"a": "2026-12-07 07:02:51 [info     ] member.leading   instance=a seq=0 token=5\n"
                 "2026-12-07 07:02:51 [info     ] console.login    agent=301",
            "b": "2026-12-07 07:02:50 [warning  ] stream.refused why='the lease is not ours'"}  # fmt: skip
    assert leadership_lines(logs) == [
        "2026-12-07 07:02:50 b: [warning ] stream.refused why='the lease is not ours'",
        "2026-12-07 07:02:51 a: [info ] member.leading instance=a seq=0 token=5",
    ]
