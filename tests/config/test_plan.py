"""The routing plan's keys in the config file: queues, overflow rules, hours, after-hours, agents."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from config.settings import ConfigError, load, parse
from routing.hours import Closure, Span
from routing.ids import LineId, QueueId
from routing.plan import (
    Action,
    AfterHours,
    AfterHoursKind,
    NoAnswerPolicy,
    OnCallStep,
    Plan,
    Priorities,
    Rule,
    Strategy,
)
from routing.router import Router
from switchboard.bootstrap import normaliser

ROOT = Path(__file__).resolve().parents[2]
NEW_YORK = dt.timezone(dt.timedelta(hours=-5))  # December: EST


def plan_of(
    queue: dict[str, Any] | None = None,
    line: dict[str, Any] | None = None,
    agent: dict[str, Any] | None = None,
    routing: dict[str, Any] | None = None,
) -> Plan:
    raw: dict[str, Any] = {
        "ari": {"password": "secret"},
        "queues": {"q": {"name": "Q", **(queue or {})}, "other": {}},
        "lines": {"acme": {"queue": "q", "dids": {"radio": "8005550101"}, **(line or {})}},
        "agents": {"1001": {"endpoint": "PJSIP/1001", "queues": ["q"], **(agent or {})}},
    }
    if routing is not None:
        raw["routing"] = routing
    return parse(raw, normaliser, env={}).plan


def test_given_the_shipped_example_when_loaded_then_it_shows_the_new_plan_and_a_router_takes_it() -> None:
    plan = load(ROOT / "config" / "switchboard.toml", normaliser, env={}).plan
    acme, smith = plan.lines[LineId("acme")], plan.lines[LineId("smith")]
    assert acme.after_hours == AfterHours(AfterHoursKind.QUEUE, QueueId("answering"))
    assert acme.hours is not None and acme.hours.timezone == "America/New_York"
    assert acme.hours.holiday_country == "US"
    assert sorted(acme.hours.weekly) == [0, 1, 2, 3, 4]
    assert acme.hours.weekly[0] == (Span(dt.time(8), dt.time(18)),)
    assert acme.hours.is_open(dt.datetime(2026, 11, 23, 10, tzinfo=NEW_YORK).timestamp())  # a Monday
    assert not acme.hours.is_open(dt.datetime(2026, 11, 26, 10, tzinfo=NEW_YORK).timestamp())  # Thanksgiving
    assert smith.after_hours.kind is AfterHoursKind.ON_CALL
    assert [step.endpoint.startswith("Local/") for step in smith.after_hours.chain] == [True, True]
    assert [step.name for step in smith.on_call] == ["Dr. Smith", "Nurse Patel"]
    assert 1 <= sum(d.line == "smith" for d in plan.dids.values()) <= 2
    q = plan.queues["acme"]
    assert q.priorities.tiers == {"vip": 10} and q.wrap_up_s > 0
    assert [(r.after_s, r.action) for r in q.rules] == [(60, Action.CALLBACK), (300, Action.VOICEMAIL)]
    assert "answering" in plan.queues
    Router(plan)


def test_given_no_new_keys_when_parsed_then_every_default_holds() -> None:
    plan = plan_of()
    q, line, agent = plan.queues["q"], plan.lines["acme"], plan.agents["1001"]
    assert (q.strategy, q.rules, q.skills, q.max_length, q.when_full) == (
        Strategy.LONGEST_IDLE, (), {}, 0, Action.VOICEMAIL,
    )  # fmt: skip
    assert (q.priorities, q.no_answer, q.wrap_up_s, q.sticky_s) == (Priorities(), NoAnswerPolicy(), 0, 0)
    assert (line.hours, line.after_hours) == (None, AfterHours())
    assert (agent.penalties, agent.skills) == ({}, {})
    assert (plan.identify_timeout_s, plan.timezone) == (1.0, "UTC")


@pytest.mark.parametrize(
    ("queue", "field", "expected"),
    [
        ({"strategy": "skills-based"}, "strategy", Strategy.SKILLS_BASED),
        ({"skills": {"spanish": 2}}, "skills", {"spanish": 2}),
        ({"max_length": 5}, "max_length", 5),
        ({"when_full": "hang-up"}, "when_full", Action.HANG_UP),
        ({"when_full": "move", "full_queue": "other"}, "full_queue", "other"),
        ({"wrap_up_s": 30}, "wrap_up_s", 30.0),
        ({"sticky_s": 20}, "sticky_s", 20.0),
        ({"announce_every_s": 0}, "announce_every_s", 0.0),
        ({"expected_handle_s": 240}, "expected_handle_s", 240.0),
        ({"voicemail_max_s": 60}, "voicemail_max_s", 60.0),
        ({"no_answer": {"misses": 3, "pause_s": 60}}, "no_answer", NoAnswerPolicy(3, 60.0)),
        (
            {"priorities": {"tiers": {"vip": 10}, "repeat_within_s": 3600, "repeat": 5, "callback": 2}},
            "priorities",
            Priorities({"vip": 10}, 3600.0, 5, 2),
        ),
        (
            {"rules": [
                {"after_s": 300, "action": "voicemail"},
                {"after_s": 30, "action": "widen", "skills": {"spanish": 0}},
                {"after_s": 60, "action": "add-queue", "queue": "other"},
                {"after_s": 90, "action": "move", "queue": "other"},
                {"after_s": 120, "action": "callback"},
                {"after_s": 600, "action": "hang-up"},
            ]},
            "rules",
            (
                Rule(30.0, Action.WIDEN, None, {"spanish": 0}),
                Rule(60.0, Action.ADD_QUEUE, QueueId("other")),
                Rule(90.0, Action.MOVE, QueueId("other")),
                Rule(120.0, Action.CALLBACK),
                Rule(300.0, Action.VOICEMAIL),
                Rule(600.0, Action.HANG_UP),
            ),
        ),
    ],
)  # fmt: skip
def test_given_a_queue_key_when_parsed_then_the_queue_has_it(
    queue: dict[str, Any], field: str, expected: object
) -> None:
    assert getattr(plan_of(queue=queue).queues["q"], field) == expected


@pytest.mark.parametrize(
    ("agent", "queues", "penalties", "skills"),
    [
        ({"queues": ["q"]}, ("q",), {}, {}),
        ({"queues": [], "penalties": {"q": 0, "other": 2}}, ("q", "other"), {"q": 0, "other": 2}, {}),
        ({"queues": ["other"], "penalties": {"q": 1}}, ("other", "q"), {"q": 1}, {}),
        ({"skills": {"spanish": 3}}, ("q",), {}, {"spanish": 3}),
    ],
)
def test_given_agent_queues_penalties_and_skills_when_parsed_then_the_agent_has_them(
    agent: dict[str, Any], queues: tuple[str, ...], penalties: dict[str, int], skills: dict[str, int]
) -> None:
    parsed = plan_of(agent=agent).agents["1001"]
    assert (parsed.queues, parsed.penalties, parsed.skills) == (queues, penalties, skills)


def test_given_hours_when_parsed_then_spans_holidays_and_closures_are_in_the_lines_time_zone() -> None:
    hours = {
        "timezone": "America/New_York", "mon": ["09:00-12:00", "13:00-17:30"], "sat": [],
        "sun": ["10:00-24:00"], "holidays": {"country": "US", "subdivision": "NY"},
        "closures": [{"start": "2026-12-24T14:00", "end": "2026-12-24T16:00", "reason": "training"}],
    }  # fmt: skip
    parsed = plan_of(line={"hours": hours}).lines["acme"].hours
    assert parsed is not None
    assert parsed.weekly == {
        0: (Span(dt.time(9), dt.time(12)), Span(dt.time(13), dt.time(17, 30))),
        6: (Span(dt.time(10), dt.time.max),),
    }
    assert (parsed.holiday_country, parsed.holiday_subdivision) == ("US", "NY")
    start = dt.datetime(2026, 12, 24, 14, tzinfo=NEW_YORK).timestamp()
    assert parsed.closures == (Closure(start, start + 7200, "training"),)


@pytest.mark.parametrize(
    ("after_hours", "expected"),
    [
        ({}, AfterHours()),
        ({"kind": "hang-up"}, AfterHours(AfterHoursKind.HANG_UP)),
        ({"kind": "voicemail"}, AfterHours(AfterHoursKind.VOICEMAIL)),
        ({"kind": "queue", "queue": "other"}, AfterHours(AfterHoursKind.QUEUE, QueueId("other"))),
        (
            {"kind": "on-call", "chain": [{"name": "Dr. A", "endpoint": "PJSIP/9"},
                                          {"name": "Dr. B", "endpoint": "PJSIP/8", "ring_timeout_s": 30}]},
            AfterHours(AfterHoursKind.ON_CALL, None, (OnCallStep("Dr. A", "PJSIP/9"),
                                                      OnCallStep("Dr. B", "PJSIP/8", 30.0))),
        ),
    ],
)  # fmt: skip
def test_given_an_after_hours_policy_when_parsed_then_the_line_has_it(
    after_hours: dict[str, Any], expected: AfterHours
) -> None:
    assert plan_of(line={"after_hours": after_hours}).lines["acme"].after_hours == expected


def test_given_an_on_call_chain_when_parsed_then_the_line_escalates_to_it_in_order() -> None:
    chain = [
        {"name": "Dr. A", "endpoint": "PJSIP/9", "ring_timeout_s": 15},
        {"name": "Dr. B", "endpoint": "PJSIP/8"},
    ]
    line = plan_of(line={"on_call": chain}).lines[LineId("acme")]
    assert line.on_call == (OnCallStep("Dr. A", "PJSIP/9", 15), OnCallStep("Dr. B", "PJSIP/8", 20))
    assert line.escalation_chain == line.on_call
    assert plan_of().lines[LineId("acme")].on_call == ()


def test_given_escalation_rounds_then_the_line_goes_round_its_chain_so_often_and_twice_by_default() -> None:
    assert plan_of(line={"escalation_rounds": 3}).lines[LineId("acme")].escalation_rounds == 3
    assert plan_of().lines[LineId("acme")].escalation_rounds == 2
    for bad in (0, 1.5, "2", True):
        with pytest.raises(
            ConfigError, match=r"lines\.acme\.escalation_rounds: .* must be a whole number of at least 1"
        ):
            plan_of(line={"escalation_rounds": bad})


def test_given_only_an_after_hours_chain_then_escalation_falls_back_to_it() -> None:
    after = {"kind": "on-call", "chain": [{"name": "Dr. A", "endpoint": "PJSIP/9"}]}
    line = plan_of(line={"after_hours": after}).lines[LineId("acme")]
    assert (line.on_call, line.escalation_chain) == ((), (OnCallStep("Dr. A", "PJSIP/9", 20),))


def test_given_a_routing_table_when_parsed_then_the_plan_has_it() -> None:
    plan = plan_of(
        routing={"identify_timeout_s": 0.5, "pause_reasons": ["coffee"], "timezone": "Europe/Paris"}
    )
    assert (plan.identify_timeout_s, plan.pause_reasons, plan.timezone) == (0.5, ("coffee",), "Europe/Paris")


HOURS = {"timezone": "America/New_York"}


@pytest.mark.parametrize(
    ("part", "value", "message"),
    [
        # unknown keys: typos must not pass silently
        ("queue", {"wrapup_s": 30}, "queues.q.wrapup_s: unknown key"),
        ("line", {"hour": {}}, "lines.acme.hour: unknown key"),
        ("agent", {"skill": {"a": 1}}, "agents.1001.skill: unknown key"),
        ("routing", {"identify_s": 1}, "routing.identify_s: unknown key"),
        ("queue", {"priorities": {"tier": {}}}, "queues.q.priorities.tier: unknown key"),
        ("queue", {"no_answer": {"miss": 2}}, "queues.q.no_answer.miss: unknown key"),
        ("queue", {"rules": [{"after_s": 1, "action": "voicemail", "when": 2}]}, "queues.q.rules[0].when"),
        ("line", {"hours": {**HOURS, "monday": []}}, "lines.acme.hours.monday: unknown key"),
        ("line", {"after_hours": {"knd": "queue"}}, "lines.acme.after_hours.knd: unknown key"),
        # queues
        ("queue", {"strategy": "fastest"}, "strategy: 'fastest' is not one of longest-idle, round-robin"),
        ("queue", {"skills": {"spanish": -1}}, "queues.q.skills.spanish"),
        ("queue", {"skills": {"spanish": "fluent"}}, "queues.q.skills.spanish"),
        ("queue", {"max_length": -1}, "queues.q.max_length"),
        ("queue", {"when_full": "callback"}, "queues.q.when_full: 'callback' is not one of voicemail"),
        ("queue", {"when_full": "move"}, "queues.q.full_queue: when_full = 'move' needs"),
        ("queue", {"full_queue": "nope", "when_full": "move"}, "queues.q.full_queue: no queue named 'nope'"),
        ("queue", {"wrap_up_s": -1}, "queues.q.wrap_up_s"),
        ("queue", {"sticky_s": "long"}, "queues.q.sticky_s"),
        ("queue", {"announce_every_s": -5}, "queues.q.announce_every_s"),
        ("queue", {"expected_handle_s": 0}, "queues.q.expected_handle_s"),
        ("queue", {"voicemail_max_s": 0}, "queues.q.voicemail_max_s"),
        ("queue", {"no_answer": {"misses": 0}}, "queues.q.no_answer.misses"),
        ("queue", {"no_answer": {"pause_s": -1}}, "queues.q.no_answer.pause_s"),
        ("queue", {"priorities": {"tiers": {"vip": "high"}}}, "queues.q.priorities.tiers.vip"),
        ("queue", {"priorities": {"repeat_within_s": -1}}, "queues.q.priorities.repeat_within_s"),
        ("queue", {"priorities": "vip"}, "queues.q.priorities must be a table"),
        # rules
        ("queue", {"rules": {"after_s": 1}}, "queues.q.rules: a list"),
        ("queue", {"rules": [{"after_s": 1}]}, "queues.q.rules[0].action: required (one of widen, add-queue"),
        ("queue", {"rules": [{"after_s": 1, "action": "panic"}]}, "action: 'panic' is not one of widen"),
        ("queue", {"rules": [{"after_s": -1, "action": "voicemail"}]}, "queues.q.rules[0].after_s"),
        ("queue", {"rules": [{"action": "move"}]}, "queues.q.rules[0].queue: action 'move' needs a queue"),
        ("queue", {"rules": [{"action": "add-queue"}]}, "queues.q.rules[0].queue: action 'add-queue' needs"),
        ("queue", {"rules": [{"action": "move", "queue": "nope"}]}, "rules[0].queue: no queue named 'nope'"),
        ("queue", {"rules": [{"action": "voicemail", "queue": "other"}]}, "rules[0].queue: only move"),
        ("queue", {"rules": [{"action": "widen"}]}, "queues.q.rules[0].skills: a widen rule needs"),
        ("queue", {"rules": [{"action": "callback", "skills": {"a": 0}}]}, "rules[0].skills: only widen"),
        # hours
        ("line", {"hours": {}}, "lines.acme.hours.timezone: a time zone name"),
        ("line", {"hours": {"timezone": "Mars/Olympus"}}, "hours.timezone: 'Mars/Olympus' is not a known"),
        ("line", {"hours": {**HOURS, "mon": "09:00-17:00"}}, "lines.acme.hours.mon: a list"),
        ("line", {"hours": {**HOURS, "tue": ["9-5"]}}, "lines.acme.hours.tue: '9-5' is not a span"),
        ("line", {"hours": {**HOURS, "wed": ["17:00-09:00"]}}, "hours.wed: '17:00-09:00' ends before"),
        ("line", {"hours": {**HOURS, "thu": ["25:00-26:00"]}}, "lines.acme.hours.thu"),
        ("line", {"hours": {**HOURS, "holidays": {"country": "XX"}}}, "hours.holidays.country: 'XX'"),
        ("line", {"hours": {**HOURS, "holidays": {"subdivision": "NY"}}}, "hours.holidays.country"),
        ("line", {"hours": {**HOURS, "holidays": {"country": "US", "subdivision": "ZZ"}}},
         "lines.acme.hours.holidays.subdivision: 'ZZ'"),
        ("line", {"hours": {**HOURS, "closures": {"start": "x"}}}, "lines.acme.hours.closures: a list"),
        ("line", {"hours": {**HOURS, "closures": [{"start": "soon", "end": "2026-01-01T10:00"}]}},
         "lines.acme.hours.closures[0].start: 'soon'"),
        ("line", {"hours": {**HOURS, "closures": [{"start": "2026-01-01T10:00"}]}},
         "lines.acme.hours.closures[0].end"),
        ("line", {"hours": {**HOURS, "closures": [{"start": "2026-01-01T10:00", "end": "2026-01-01T09:00"}]}},
         "lines.acme.hours.closures[0].end: the closure ends before"),
        # after hours
        ("line", {"after_hours": {"kind": "pager"}}, "after_hours.kind: 'pager' is not one of queue"),
        ("line", {"after_hours": {"kind": "queue"}}, "lines.acme.after_hours.queue: a non-empty string"),
        ("line", {"after_hours": {"kind": "queue", "queue": "nope"}}, "after_hours.queue: no queue"),
        ("line", {"after_hours": {"kind": "voicemail", "queue": "q"}}, "lines.acme.after_hours.queue: only"),
        ("line", {"after_hours": {"kind": "on-call"}}, "after_hours.chain: kind = 'on-call' needs"),
        ("line", {"after_hours": {"kind": "on-call", "chain": [{"name": "A"}]}},
         "lines.acme.after_hours.chain[0].endpoint"),
        ("line", {"after_hours": {"kind": "on-call",
                                  "chain": [{"name": "A", "endpoint": "x", "ring_timeout_s": 0}]}},
         "lines.acme.after_hours.chain[0].ring_timeout_s"),
        ("line", {"after_hours": {"chain": "Dr. A"}}, "lines.acme.after_hours.chain: a list"),
        ("line", {"on_call": {"name": "Dr. A"}}, "lines.acme.on_call: a list"),
        ("line", {"on_call": [{"name": "A"}]}, "lines.acme.on_call[0].endpoint"),
        ("line", {"on_call": [{"name": "A", "endpoint": "x", "rings": 3}]}, "on_call[0].rings: unknown"),
        # agents
        ("agent", {"penalties": {"nope": 1}}, "agents.1001.penalties: no queue named 'nope'"),
        ("agent", {"penalties": {"q": -1}}, "agents.1001.penalties.q"),
        ("agent", {"skills": {"spanish": "native"}}, "agents.1001.skills.spanish"),
        ("agent", {"queues": "q"}, "agents.1001.queues: a list of queue names"),
        # the routing table
        ("routing", {"identify_timeout_s": 0}, "routing.identify_timeout_s"),
        ("routing", {"timezone": "Nowhere/City"}, "routing.timezone: 'Nowhere/City' is not a known"),
        ("routing", {"pause_reasons": [""]}, "routing.pause_reasons"),
    ],
)  # fmt: skip
def test_given_a_mistake_in_the_plan_when_parsed_then_config_error_names_the_key(
    part: str, value: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        plan_of(**{part: value})
