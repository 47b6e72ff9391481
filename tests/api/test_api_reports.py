"""``/reports``: the supervisors' figures over HTTP, on SQLite and PostgreSQL, against hand-computed values.

The center is in New York. Queue ``sales`` has the default target (20 s, ``offered``, short abandons
under 5 s); queue ``support`` has its own (30 s, ``answered``, short abandons under 10 s). The calls, in
New York time (wait, talk):

    10 Nov  s1 09:00:00 sales   radio acme   answered   10 s, 100 s  a1 (then 30 s of wrap-up)
            s2 09:10:00 sales   radio acme   answered   25 s,  50 s  a2
            s3 09:20:00 sales   web   acme   abandoned  15 s
            s4 10:05:00 sales   web   acme   abandoned   3 s         (a short abandon)
            s5 10:30:00 sales   web   acme   abandoned  40 s
            s6 10:45:00 sales   radio acme   voicemail 300 s
            p1 14:00:00 support radio smith  answered   28 s,  60 s  a1
            p2 14:30:00 support web   smith  abandoned   8 s         (short for support, not by default)
    11 Nov  s7 09:05:00 sales   web   acme   answered    5 s,  40 s  a1
            s8 09:30:00 sales   web   acme   callback   70 s
            cb 11:00:00 sales   web   acme   the callback we placed for s8 (unreached)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from agent_console.api.context import ApiConfig, Reporting
from agent_console.api.reports import label, reporting
from agent_console.app import ConsoleBackend, create_app
from agent_console.hub import ConsoleHub
from config.service_levels import ServiceLevel
from crm_core.domain.calls import Practice
from crm_core.domain.escalations import Attempt
from crm_core.domain.figures import ServiceLevelFormula, ServiceTarget
from crm_core.sql.store import SqlStore
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.plan import Plan
from routing.records import CallRecord, Outcome, Party
from routing.router import Router
from tests.api.conftest import AUTH, REGION, TOKEN, Api, NoCallers
from tests.api.test_api_openapi_schemas import DocumentedApi

NEW_YORK = ZoneInfo("America/New_York")
SUPPORT = ServiceTarget(
    answer_within_s=30, goal=0.9, formula=ServiceLevelFormula.ANSWERED, short_abandon_s=10
)
REPORTING = Reporting(NEW_YORK, ServiceTarget(), {"sales": ServiceTarget(), "support": SUPPORT})
DEFAULT = {"formula": "offered", "answer_within_s": 20.0, "goal": 0.8, "short_abandon_s": 5.0}
OWN = {"formula": "answered", "answer_within_s": 30.0, "goal": 0.9, "short_abandon_s": 10.0}
RANGE = "from=2026-11-10&to=2026-11-11"


def at(day: int, clock: str) -> float:
    hour, minute, second = (int(part) for part in clock.split(":"))
    return datetime(2026, 11, day, hour, minute, second, tzinfo=NEW_YORK).timestamp()


def call(
    name: str,
    day: int,
    clock: str,
    queue: str,
    source: str,
    outcome: Outcome,
    wait: float,
    talk: float = 0.0,
    agent: str | None = None,
    callback_of: str | None = None,
) -> CallRecord:
    arrived = at(day, clock)
    line = "acme" if queue == "sales" else "smith"
    return CallRecord(
        call=CallId(name), did="+18005550101", source=source, line=LineId(line), line_name=line,
        queue=QueueId(queue), caller_number="+14155550123", caller_name=None,
        agent=None if agent is None else AgentId(agent), arrived_at=arrived,
        answered_at=arrived + wait if outcome is Outcome.ANSWERED else None,
        ended_at=arrived + wait + talk, outcome=outcome, hung_up_by=Party.CALLER, offers=1,
        callback_of=None if callback_of is None else CallId(callback_of),
    )  # fmt: skip


CALLS = [
    call("s1", 10, "09:00:00", "sales", "radio", Outcome.ANSWERED, 10, 100, "a1"),
    call("s2", 10, "09:10:00", "sales", "radio", Outcome.ANSWERED, 25, 50, "a2"),
    call("s3", 10, "09:20:00", "sales", "web", Outcome.ABANDONED, 15),
    call("s4", 10, "10:05:00", "sales", "web", Outcome.ABANDONED, 3),
    call("s5", 10, "10:30:00", "sales", "web", Outcome.ABANDONED, 40),
    call("s6", 10, "10:45:00", "sales", "radio", Outcome.VOICEMAIL, 300),
    call("p1", 10, "14:00:00", "support", "radio", Outcome.ANSWERED, 28, 60, "a1"),
    call("p2", 10, "14:30:00", "support", "web", Outcome.ABANDONED, 8),
    call("s7", 11, "09:05:00", "sales", "web", Outcome.ANSWERED, 5, 40, "a1"),
    call("s8", 11, "09:30:00", "sales", "web", Outcome.CALLBACK, 70),
    call("cb", 11, "11:00:00", "sales", "web", Outcome.UNREACHED, 20, callback_of="s8"),
]
# a1 on 10 Nov: ready 08:50:00, on s1 09:00:10-09:01:50, wrap-up 30 s, lunch 600 s, ready 09:12:20,
# a ring it let go 09:20:00-09:20:10, ready again, logged out 09:30:00.
STATES = [
    ("ready", None, "08:50:00", None), ("on-call", None, "09:00:10", None),
    ("wrap-up", None, "09:01:50", None), ("not-ready", "lunch", "09:02:20", None),
    ("ready", None, "09:12:20", None), ("ringing", None, "09:20:00", None),
    ("ready", None, "09:20:10", "no-answer"), ("logged-out", None, "09:30:00", None),
]  # fmt: skip


async def load(store: SqlStore) -> None:
    for record in CALLS:
        await store.record(record, None)
    for state, reason, clock, ring_ended in STATES:
        when = datetime.fromtimestamp(at(10, clock), NEW_YORK)
        await store.agent_states.change("a1", state, reason, when, ring_ended)


async def serve(url: str) -> AsyncIterator[Api]:
    store = SqlStore.open(url, REGION)
    router = Router(Plan(dids={}, lines={}, queues={}, agents={}))

    async def ask(_: object) -> list[Any]:
        return []

    backend = ConsoleBackend(
        ask, router.agent_view, lambda: 0.0, store.users, lambda: {"ok": True}, sessions=store.sessions
    )
    config = ApiConfig(store, (TOKEN,), REGION, reporting=REPORTING)
    client: TestClient[Any, Any] = TestClient(
        TestServer(create_app(ConsoleHub(NoCallers()), backend, config))
    )
    await client.start_server()
    try:
        yield Api(client, store, url)
    finally:
        await client.close()
        await store.close()


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async for served in serve(database_url):
        await load(served.store)
        yield served


def counts(row: dict[str, Any]) -> tuple[int, ...]:
    names = ("entered", "short_abandons", "offered", "answered", "answered_within", "abandoned",
             "abandoned_within", "callbacks_chosen", "voicemail", "no_agent", "callbacks_placed")  # fmt: skip
    return tuple(row[name] for name in names)


def times(row: dict[str, Any]) -> tuple[Any, ...]:
    names = ("service_level", "asa_s", "aht_s", "abandonment_rate", "longest_wait_s")
    return tuple(row[name] for name in names)


async def test_given_two_days_of_calls_when_reported_by_day_then_each_figure_is_the_hand_computed_one(
    api: Api,
) -> None:
    status, report = await api.call("GET", f"/reports/calls?{RANGE}&by=day")

    assert status == 200
    assert [row["group"] for row in report["rows"]] == ["2026-11-10", "2026-11-11"]
    first, second = report["rows"]
    # 8 entered, s4 short; answered s1 (within), s2, p1; abandoned s3 (within), s5, p2 (within); s6 voicemail
    assert counts(first) == (8, 1, 7, 3, 1, 3, 2, 0, 1, 0, 0)
    # SL 1 / (3 + 3); ASA (10 + 25 + 28) / 3; AHT (100 + 30 wrap-up + 50 + 60) / 3; 3 abandons / 7 offered
    assert times(first) == (0.166667, 21.0, 80.0, 0.428571, 300.0)
    assert counts(second) == (2, 0, 2, 1, 1, 0, 0, 1, 0, 0, 1)
    assert times(second) == (1.0, 5.0, 40.0, 0.0, 70.0)
    total = report["total"]
    assert total["group"] is None
    assert counts(total) == (10, 1, 9, 4, 2, 3, 2, 1, 1, 0, 1)
    assert times(total) == (0.285714, 17.0, 70.0, 0.333333, 300.0)  # 2/7; 68/4; 280/4; 3/9
    assert all(row["target"] == DEFAULT for row in [*report["rows"], total])
    assert report["formula"] == {
        **DEFAULT, "zone": "America/New_York", "applies_to": "every row",
        "label": "service level = answered within 20 s / (answered + abandoned), goal 80%; callers who "
                 "hung up within 5 s are not counted; days in America/New_York",
    }  # fmt: skip
    assert (report["from"], report["to"], report["by"]) == ("2026-11-10", "2026-11-11", "day")


async def test_given_a_queue_with_its_own_target_when_reported_by_queue_then_its_row_uses_it(
    api: Api,
) -> None:
    status, report = await api.call("GET", f"/reports/calls?{RANGE}&by=queue")

    assert status == 200
    sales, support = report["rows"]
    assert (sales["group"], sales["target"]) == ("sales", DEFAULT)
    assert counts(sales) == (8, 1, 7, 3, 2, 2, 1, 1, 1, 0, 1)
    assert times(sales) == (0.4, 13.333, 73.333, 0.285714, 300.0)  # 2/5; 40/3; 220/3; 2/7
    # support by its own target: p2's 8 s is a short abandon, p1's 28 s is within 30 s, SL = 1 / 1 answered
    assert (support["group"], support["target"]) == ("support", OWN)
    assert counts(support) == (2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0)
    assert times(support) == (1.0, 28.0, 60.0, 0.0, 28.0)
    assert report["formula"]["applies_to"] == "total and queues without their own target"
    assert counts(report["total"]) == (10, 1, 9, 4, 2, 3, 2, 1, 1, 0, 1)  # by the default target


async def test_given_calls_when_grouped_by_hour_source_or_line_then_each_group_has_its_calls(
    api: Api,
) -> None:
    found = {}
    for by in ("hour", "source", "line"):
        status, report = await api.call("GET", f"/reports/calls?{RANGE}&by={by}")
        assert status == 200
        found[by] = {row["group"]: (row["entered"], row["callbacks_placed"]) for row in report["rows"]}

    assert found["hour"] == {"09": (5, 0), "10": (3, 0), "11": (0, 1), "14": (2, 0)}
    assert found["source"] == {"radio": (4, 0), "web": (6, 1)}
    assert found["line"] == {"acme": (8, 1), "smith": (2, 0)}


async def test_given_a_one_day_range_when_reported_then_only_that_days_calls_count(api: Api) -> None:
    status, report = await api.call("GET", "/reports/calls?from=2026-11-11&to=2026-11-11")

    assert status == 200
    assert [row["group"] for row in report["rows"]] == ["2026-11-11"]  # by=day is the default
    assert counts(report["total"]) == (2, 0, 2, 1, 1, 0, 0, 1, 0, 0, 1)


async def test_given_agent_states_when_the_agent_report_is_read_then_its_figures_are_hand_computed(
    api: Api,
) -> None:
    status, report = await api.call("GET", f"/reports/agents?{RANGE}")

    assert status == 200
    assert (report["zone"], [a["agent"] for a in report["agents"]]) == ("America/New_York", ["a1", "a2"])
    a1 = report["agents"][0]
    assert a1 == {
        "agent": "a1", "handled": 3, "talk_s": 200.0, "average_talk_s": 66.667, "average_wrap_up_s": 10.0,
        "occupancy": 0.072222,  # (100 on call + 30 wrap-up) / (2400 logged in - 600 not ready)
        "rings_unanswered": 1,
        "seconds_in": {"not-ready": 600.0, "on-call": 100.0, "ready": 1660.0, "ringing": 10.0,
                       "wrap-up": 30.0},
        "not_ready_by_reason": {"lunch": 600.0},
    }  # fmt: skip
    assert report["agents"][1]["handled"] == 1 and report["agents"][1]["occupancy"] is None


async def test_given_a_range_when_exported_as_csv_then_one_line_per_group_and_the_total(api: Api) -> None:
    async with api.client.get(f"/api/v1/reports/calls.csv?{RANGE}&by=queue", headers=AUTH) as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        text = await response.text()

    assert text.split("\r\n") == [
        "group,entered,offered,short_abandons,answered,answered_within,abandoned,abandoned_within,"
        "callbacks_chosen,voicemail,no_agent,callbacks_placed,service_level,asa_s,aht_s,abandonment_rate,"
        "longest_wait_s,formula,answer_within_s,short_abandon_s",
        "sales,8,7,1,3,2,2,1,1,1,0,1,0.4,13.333,73.333,0.285714,300.0,offered,20,5",
        "support,2,1,1,1,1,0,0,0,0,0,0,1.0,28.0,60.0,0.0,28.0,answered,30,10",
        "total,10,9,1,4,2,3,2,1,1,0,1,0.285714,17.0,70.0,0.333333,300.0,offered,20,5",
        "",
    ]


async def test_given_a_source_named_like_a_formula_when_exported_as_csv_then_its_group_is_quoted(
    api: Api,
) -> None:
    await api.store.record(call("f1", 10, "12:00:00", "sales", "=HYPERLINK(1)", Outcome.ABANDONED, 9), None)
    async with api.client.get(f"/api/v1/reports/calls.csv?{RANGE}&by=source", headers=AUTH) as response:
        groups = [line.partition(",")[0] for line in (await response.text()).split("\r\n")]

    assert "'=HYPERLINK(1)" in groups and "=HYPERLINK(1)" not in groups


async def test_given_no_calls_in_the_range_when_exported_then_undefined_figures_are_empty_fields(
    api: Api,
) -> None:
    async with api.client.get("/api/v1/reports/calls.csv?from=2026-01-01&to=2026-01-01", headers=AUTH) as r:
        lines = (await r.text()).split("\r\n")

    assert lines[1:] == ["total,0,0,0,0,0,0,0,0,0,0,0,,,,,0.0,offered,20,5", ""]


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("to=2026-11-11", "invalid-date", "from"),
        ("from=2026-11-10", "invalid-date", "to"),
        ("from=2026-11-31&to=2026-12-01", "invalid-date", "from"),
        ("from=20261110&to=2026-11-11", "invalid-date", "from"),
        ("from=2026-11-10&to=yesterday", "invalid-date", "to"),
        ("from=2026-11-11&to=2026-11-10", "invalid-range", "to"),
        ("from=2025-01-01&to=2026-01-02", "invalid-range", "to"),  # 367 days
        (f"{RANGE}&by=week", "invalid-grouping", "by"),
    ],
)
@pytest.mark.parametrize("path", ["/reports/calls", "/reports/calls.csv"])
async def test_given_bad_dates_ranges_or_groupings_when_asked_then_400_with_a_stable_code(
    sqlite_api: Api, path: str, query: str, code: str, field: str
) -> None:
    status, body = await sqlite_api.call("GET", f"{path}?{query}")

    assert (status, body["error"], body["field"]) == (400, code, field)


async def test_given_the_agent_report_with_bad_dates_or_an_unknown_parameter_then_refused(
    sqlite_api: Api,
) -> None:
    assert (await sqlite_api.call("GET", "/reports/agents?from=2026-11-12&to=2026-11-10"))[1]["error"] == (
        "invalid-range"
    )
    status, body = await sqlite_api.call("GET", f"/reports/agents?{RANGE}&by=day")
    assert (status, body["error"], body["field"]) == (422, "invalid-input", "by")


async def test_given_a_full_year_when_asked_then_366_days_are_accepted(sqlite_api: Api) -> None:
    status, report = await sqlite_api.call("GET", "/reports/calls?from=2024-01-01&to=2024-12-31")

    assert (status, report["rows"], report["total"]["service_level"]) == (200, [], None)


async def test_given_every_report_when_served_then_it_matches_its_documented_schema(api: Api) -> None:
    status, document = await api.call("GET", "/openapi.json")
    assert status == 200
    d = DocumentedApi(api, document)

    for by in ("day", "hour", "queue", "line", "source"):
        await d.call("GET", f"/reports/calls?{RANGE}&by={by}")
    await d.call("GET", "/reports/calls?from=2026-01-01&to=2026-01-01")
    await d.call("GET", f"/reports/agents?{RANGE}")
    await d.call("GET", f"/reports/escalations?{RANGE}")
    await d.call("GET", "/reports/calls?from=2026-11-11&to=2026-11-10")

    assert {status for _, _, status in d.checked} == {200, 400}


def attempt(call: str, day: int, clock: str, person: str, result: str) -> Attempt:
    began = datetime.fromtimestamp(at(day, clock), NEW_YORK)
    return Attempt(call=call, person=person, number="+14155550100", round=1, step=1, started_at=began,
                   ended_at=began + timedelta(seconds=15), result=result)  # fmt: skip


async def test_given_escalations_when_reported_then_counted_per_business_per_person_and_in_all(
    api: Api,
) -> None:
    await api.store.record(
        call("t1", 10, "15:00:00", "support", "web", Outcome.ANSWERED, 5, 30, "a1"), None, Practice.TRAINING
    )
    for made in (
        attempt("p1", 10, "14:00:40", "Dr. Lee", "declined"),
        attempt("p1", 10, "14:01:00", "Dr. Kim", "accepted"),
        attempt("p2", 10, "14:30:05", "Dr. Lee", "no-answer"),
        attempt("s1", 10, "09:00:30", "Dr. Kim", "voicemail-or-no-key"),
        attempt("s7", 12, "09:00:00", "Dr. Lee", "busy"),  # its call is in the log, but the day is not asked
        attempt("gone", 10, "12:00:00", "Dr. Lee", "busy"),  # its call is not in the call log (yet)
        attempt("t1", 10, "15:00:10", "Dr. Lee", "accepted"),  # a trainee's practice call
    ):
        await api.store.escalations.record(made)

    status, report = await api.call("GET", f"/reports/escalations?{RANGE}")

    assert status == 200
    assert (report["from"], report["to"], report["zone"]) == ("2026-11-10", "2026-11-11", "America/New_York")
    assert report["total"] == {
        "attempts": 4,
        "calls": 3,
        "accepted": 1,
        "results": {"declined": 1, "accepted": 1, "no-answer": 1, "voicemail-or-no-key": 1},
    }
    assert [(r["line"], r["attempts"], r["calls"], r["accepted"]) for r in report["lines"]] == [
        ("acme", 1, 1, 0),
        ("smith", 3, 2, 1),
    ]
    assert [(r["person"], r["attempts"], r["accepted"], r["results"]) for r in report["people"]] == [
        ("Dr. Kim", 2, 1, {"accepted": 1, "voicemail-or-no-key": 1}),
        ("Dr. Lee", 2, 0, {"declined": 1, "no-answer": 1}),
    ]  # fmt: skip


async def test_given_the_escalation_report_with_bad_dates_then_refused(sqlite_api: Api) -> None:
    status, body = await sqlite_api.call("GET", "/reports/escalations?from=2026-11-11&to=2026-11-10")
    assert (status, body["error"]) == (400, "invalid-range")
    status, body = await sqlite_api.call("GET", "/reports/escalations?from=11/10/2026&to=2026-11-10")
    assert (status, body["error"]) == (400, "invalid-date")


def test_given_the_config_targets_when_handed_to_the_api_then_they_become_the_figures_targets() -> None:
    configured = {QueueId("support"): ServiceLevel(30, 0.9, "answered", 10)}

    assert reporting(configured, ServiceLevel(), NEW_YORK) == Reporting(NEW_YORK, ServiceTarget(),
                                                                        {"support": SUPPORT})  # fmt: skip


@pytest.mark.parametrize(
    ("formula", "short", "words"),
    [
        ("answered", 5, "service level = answered within 30 s / answered, goal 90%; callers who hung up "
                        "within 5 s are not counted"),
        ("offered", 5, "answered within 30 s / (answered + abandoned), goal 90%"),
        ("late-abandons", 5, "answered within 30 s / (answered + abandoned after 30 s), goal 90%"),
        ("within-both", 0, "(answered + abandoned within 30 s) / (answered + abandoned), goal 90%; every "
                           "abandon is counted; days in Europe/Paris"),
    ],
)  # fmt: skip
def test_given_each_formula_when_labelled_then_the_label_says_what_is_divided_by_what(
    formula: str, short: float, words: str
) -> None:
    used = ServiceTarget(30, 0.9, ServiceLevelFormula(formula), short)

    assert words in label(used, "Europe/Paris")
