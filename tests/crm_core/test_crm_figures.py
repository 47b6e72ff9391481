"""Supervisor figures against hand-computed values, at the boundaries too (docs/figures.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_core.domain.agent_states import AgentInterval
from crm_core.domain.calls import LoggedCall
from crm_core.domain.figures import (
    PlainCall,
    ServiceLevelFormula,
    ServiceTarget,
    agent_figures,
    call_figures,
    day_of,
    day_window,
    grouped,
    handling,
    hour_of,
    plain_call,
)
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import CallRecord, Outcome, Party

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
TARGET = ServiceTarget(answer_within_s=20, goal=0.8, short_abandon_s=5)
NEW_YORK = ZoneInfo("America/New_York")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call(
    call_id: str,
    outcome: Outcome,
    wait: float,
    talk: float = 0.0,
    *,
    start: float = 0.0,
    agent: str | None = None,
    part_of: str | None = None,
    callback_of: str | None = None,
    queue: str | None = "sales",
    source: str = "web",
) -> PlainCall:
    """A logged call as the figures read it (``plain_call``)."""
    answered = outcome in (Outcome.ANSWERED, Outcome.TRANSFERRED) and talk > 0
    record = CallRecord(
        call=CallId(call_id),
        did="+18005550100",
        source=source,
        line=LineId("acme"),
        line_name="Acme",
        queue=None if queue is None else QueueId(queue),
        caller_number="+14155550123",
        caller_name=None,
        agent=None if agent is None else AgentId(agent),
        arrived_at=at(start).timestamp(),
        answered_at=at(start + wait).timestamp() if answered else None,
        ended_at=at(start + wait + talk).timestamp(),
        outcome=outcome,
        hung_up_by=Party.CALLER,
        offers=1,
        part_of=None if part_of is None else CallId(part_of),
        callback_of=None if callback_of is None else CallId(callback_of),
    )
    return plain_call(LoggedCall(record=record, customer_id=None, wait_s=wait, talk_s=talk))


DAY = [
    call("c1", Outcome.ANSWERED, 10, 60, agent="a1"),
    call("c2", Outcome.ANSWERED, 20, 30, agent="a2"),  # answered at exactly the target: within
    call("c3", Outcome.ANSWERED, 20.5, 90, agent="a2"),  # just past it
    call("c4", Outcome.ABANDONED, 4.9),  # a short abandon: out of every count
    call("c5", Outcome.ABANDONED, 5.0),  # abandoned at exactly the threshold: an abandon, within target
    call("c6", Outcome.ABANDONED, 40),
    call("c7", Outcome.CALLBACK, 70),
    call("c8", Outcome.VOICEMAIL, 300),
    call("c9", Outcome.NO_AGENT, 900),
    call("c10", Outcome.ANSWERED, 3, 45, agent="a1", callback_of="c7"),  # the callback we placed
    call("c3~1", Outcome.TRANSFERRED, 20.5, 15, agent="a1", part_of="c3"),  # a1's stretch before a2
]


def test_given_a_known_day_when_counted_then_every_figure_is_the_hand_computed_one() -> None:
    f = call_figures(DAY, TARGET)

    assert (f.entered, f.short_abandons, f.offered) == (9, 1, 8)
    assert (f.answered, f.answered_within, f.abandoned, f.abandoned_within) == (3, 2, 2, 1)
    assert (f.callbacks_chosen, f.voicemail, f.no_agent, f.callbacks_placed) == (1, 1, 1, 1)
    assert f.service_level(ServiceLevelFormula.ANSWERED) == pytest.approx(2 / 3)
    assert f.service_level(ServiceLevelFormula.OFFERED) == pytest.approx(2 / 5)
    assert f.service_level(ServiceLevelFormula.LATE_ABANDONS) == pytest.approx(2 / 4)
    assert f.service_level(ServiceLevelFormula.WITHIN_BOTH) == pytest.approx(3 / 5)
    assert f.average_speed_of_answer_s == pytest.approx((10 + 20 + 20.5) / 3)
    assert f.abandonment_rate == pytest.approx(2 / 8)
    assert f.longest_wait_s == 900


def test_given_no_calls_when_counted_then_ratios_are_unknown_not_zero() -> None:
    f = call_figures([], TARGET)

    assert [f.service_level(formula) for formula in ServiceLevelFormula] == [None] * 4
    assert (f.average_speed_of_answer_s, f.average_handle_s, f.abandonment_rate) == (None, None, None)


def test_given_a_transferred_call_when_handle_time_is_computed_then_all_stretches_and_wrap_ups_count() -> (
    None
):
    intervals = [
        # a1 wrapped up c1 for 12 s and their stretch of c3 for 8 s; a2 wrapped up c3 for 30 s.
        AgentInterval(AgentId("a1"), "wrap-up", None, at(70), at(82)),
        AgentInterval(AgentId("a1"), "wrap-up", None, at(35.5), at(43.5)),
        AgentInterval(AgentId("a2"), "wrap-up", None, at(110.5), at(140.5)),
        AgentInterval(AgentId("a2"), "wrap-up", None, at(50), None),  # c2's, still running: not counted
    ]
    h = handling(DAY, intervals)

    assert h.talk_s["c3"] == 90 + 15
    assert h.wrap_up_s == {"c1": 12, "c3": 8 + 30}
    f = call_figures(DAY, TARGET, h.talk_s, h.wrap_up_s)
    assert f.average_handle_s == pytest.approx((60 + 30 + 105 + 12 + 38) / 3)


def test_given_calls_from_two_sources_when_grouped_then_each_source_has_its_own_figures() -> None:
    calls = [
        call("w1", Outcome.ANSWERED, 5, 10, agent="a1", source="web"),
        call("r1", Outcome.ABANDONED, 30, source="radio"),
        call("r2", Outcome.ANSWERED, 25, 10, agent="a1", source="radio"),
        call("x1", Outcome.ANSWERED, 5, 10, agent="a1", queue=None),
    ]

    by_source = grouped(calls, lambda c: c.source, TARGET)
    by_queue = grouped(calls, lambda c: c.queue, TARGET)

    assert {k: (v.entered, v.answered, v.abandoned) for k, v in by_source.items()} == {
        "web": (2, 2, 0),
        "radio": (2, 1, 1),
    }
    assert by_source["radio"].service_level(ServiceLevelFormula.OFFERED) == 0.0
    assert list(by_queue) == ["sales"]


def test_given_an_agents_day_when_counted_then_state_times_occupancy_and_missed_rings_are_exact() -> None:
    a1 = AgentId("a1")
    intervals = [
        AgentInterval(a1, "ready", None, at(0), at(10)),
        AgentInterval(a1, "ringing", None, at(10), at(15)),
        AgentInterval(a1, "on-call", None, at(15), at(75)),
        AgentInterval(a1, "wrap-up", None, at(75), at(90)),
        AgentInterval(a1, "ready", None, at(90), at(100)),
        AgentInterval(a1, "ringing", "ring-timeout", at(100), at(110)),  # rang out: a miss
        AgentInterval(a1, "not-ready", "ring-no-answer", at(110), at(200)),
        AgentInterval(a1, "not-ready", "lunch", at(200), at(400)),
        AgentInterval(a1, "ready", None, at(400), at(410)),
        AgentInterval(a1, "ringing", "caller-hung-up", at(410), at(415)),  # not the agent's miss
        AgentInterval(a1, "ready", None, at(415), None),  # still ready when the window closes
    ]
    calls = [
        call("k1", Outcome.ANSWERED, 15, 60, agent="a1"),
        call("k2", Outcome.ABANDONED, 15, start=400),  # ended at 415
    ]

    f = agent_figures(calls, intervals, at(0), at(500))[a1]

    assert f.seconds_in == {"ready": 10 + 10 + 10 + 85, "ringing": 20, "on-call": 60, "wrap-up": 15,
                            "not-ready": 290}  # fmt: skip
    assert f.not_ready_by_reason == {"ring-no-answer": 90, "lunch": 200}
    assert f.logged_in_s == 500
    assert f.occupancy == pytest.approx((60 + 15) / (500 - 290))
    assert (f.handled, f.average_talk_s, f.average_wrap_up_s) == (1, 60, 15)
    assert f.rings_unanswered == 1


def test_given_ring_all_answered_elsewhere_when_counted_then_only_a_failed_ring_is_a_miss() -> None:
    a1, a2 = AgentId("a1"), AgentId("a2")
    intervals = [
        AgentInterval(a1, "ringing", None, at(0), at(4)),
        AgentInterval(a1, "on-call", None, at(4), at(20)),
        AgentInterval(a2, "ringing", "answered-elsewhere", at(0), at(4)),
        AgentInterval(a2, "ready", None, at(4), at(30)),
        AgentInterval(a2, "ringing", "failed: busy", at(30), at(31)),  # the phone could not ring: a miss
        AgentInterval(a2, "ready", None, at(31), None),
    ]
    calls = [call("r", Outcome.ANSWERED, 4, 16, agent="a1")]

    figures = agent_figures(calls, intervals, at(0), at(60))

    assert (figures[a1].rings_unanswered, figures[a2].rings_unanswered) == (0, 1)
    assert figures[a2].handled == 0 and figures[a2].occupancy == 0.0


def test_given_an_agent_always_on_break_when_counted_then_occupancy_is_unknown() -> None:
    a1 = AgentId("a1")
    intervals = [AgentInterval(a1, "not-ready", "training", at(0), at(100))]

    assert agent_figures([], intervals, at(0), at(100))[a1].occupancy is None


def test_given_a_call_just_before_midnight_in_the_lines_zone_then_it_belongs_to_that_day() -> None:
    late = datetime(2026, 12, 1, 4, 59, 59, tzinfo=UTC)  # 23:59:59 on 30 November in New York
    early = datetime(2026, 12, 1, 5, 0, 0, tzinfo=UTC)  # midnight: the next day

    assert (day_of(late, NEW_YORK), hour_of(late, NEW_YORK)) == (date(2026, 11, 30), 23)
    assert (day_of(early, NEW_YORK), hour_of(early, NEW_YORK)) == (date(2026, 12, 1), 0)
    start, end = day_window(date(2026, 11, 30), NEW_YORK)
    assert start <= late < end <= early


def test_given_the_day_clocks_go_back_when_windowed_then_it_lasts_25_hours() -> None:
    start, end = day_window(date(2026, 11, 1), NEW_YORK)

    assert end - start == timedelta(hours=25)
    assert start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
