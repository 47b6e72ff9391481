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
    pop_legs,
    pops_by_role,
    ring_to_pop,
    ring_to_pop_by_role,
    ringing_lines,
    unread,
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


def ringing_line(offer: str) -> str:
    return json.dumps({"k": "OfferRinging", "offer": offer, "at": T0}, separators=(",", ":"))


def test_given_pops_read_after_their_leg_rang_then_ring_to_pop_splits_by_role_from_the_first_read() -> None:
    who = Leadership()
    who.note(T0, ["a"])
    seen = seen_of(*leg(CALL, 1, T0 + 1.0, T0 + 1.050, None), *leg(OTHER, 2, T0 + 2.0, T0 + 2.020, None))
    pops = [Pop(CALL, T0 + 1.054, "a", f"sb-{CALL}-1"), Pop(CALL, T0 + 9.0, "b", f"sb-{CALL}-1"),
            Pop(OTHER, T0 + 2.027, "b", f"sb-{OTHER}-2"), Pop(OTHER, T0 + 2.5, "c", f"sb-{OTHER}-1"),
            Pop("not-ours;2", T0 + 2.0, "b", "sb-not-ours;2-1")]  # fmt: skip
    split, unringed = ring_to_pop_by_role(pops, seen, [CALL, OTHER], who)
    assert [round(ms) for ms in split["leader"]] == [4]  # the reconnect's second read is not counted
    assert [round(ms) for ms in split["follower"]] == [7]
    assert unringed == 1  # OTHER's first leg never rang


def test_given_ringing_lines_read_from_the_stream_then_each_pop_splits_at_its_line() -> None:
    first, second = f"sb-{CALL}-1", f"sb-{OTHER}-2"
    read = [(T0 + 1.051, ringing_line(first)), (T0 + 1.052, '{"k":"Tick","at":1.0}'),
            (T0 + 2.022, ringing_line(second)), (T0 + 3.0, ringing_line(first))]  # fmt: skip
    lines = ringing_lines(read)
    assert lines == {f"sb-{CALL}-1": T0 + 1.051, f"sb-{OTHER}-2": T0 + 2.022}
    who = Leadership()
    who.note(T0, ["a"])
    seen = seen_of(*leg(CALL, 1, T0 + 1.0, T0 + 1.050, None), *leg(OTHER, 2, T0 + 2.0, T0 + 2.020, None))
    pops = [Pop(CALL, T0 + 1.0505, "a", f"sb-{CALL}-1"), Pop(OTHER, T0 + 2.027, "b", f"sb-{OTHER}-2")]
    legs = pop_legs(pops, seen, lines, [CALL, OTHER], who)
    assert [[round(ms, 1) for ms in half] for half in legs["leader"]] == [[1.0], [-0.5]]
    assert [[round(ms, 1) for ms in half] for half in legs["follower"]] == [[2.0], [5.0]]


def test_given_consoles_on_three_instances_then_pops_split_by_instance_and_role_and_unread_are_lost() -> None:
    who = Leadership()
    for at, leading in ((T0, ["a"]), (T0 + 5, ["b"])):
        who.note(at, leading)
    third, fourth = "clu1-00003;2", "clu1-00004;2"
    seen = seen_of(*leg(CALL, 1, T0 + 1.0, T0 + 1.050, None), *leg(OTHER, 1, T0 + 6.0, T0 + 6.020, None),
                   *leg(third, 1, T0 + 4.9, T0 + 4.910, None), *leg(fourth, 1, T0, None, None))  # fmt: skip
    pops = [Pop(CALL, T0 + 1.060, "c", f"sb-{CALL}-1"), Pop(OTHER, T0 + 6.023, "b", f"sb-{OTHER}-1")]
    split, unringed = ring_to_pop(pops, seen, [CALL, OTHER, third], who)
    assert {k: [round(ms) for ms in v] for k, v in split.items()} == {
        ("c", "follower"): [10],
        ("b", "leader"): [3],
    }
    assert unringed == 0
    answered = {CALL: "301", OTHER: "302", third: "303", fourth: "301", "clu1-00005;2": "309"}
    seats = {"301": "c", "302": "b", "303": "a"}
    # third rang for a console on a while a led and was never read; fourth never rang; 309 has no console
    assert unread(pops, answered, seats, seen, who) == {("a", "leader"): 1}


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
