"""Where a call goes, read from the plan and the time (``routing.destinations``): the line, open or closed
and why, and what takes the call; checked against ``Hours.is_open`` and against the router itself."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from routing_harness import CALLER, Scenario, of_type

from routing import commands as cmd
from routing.commands import CLOSED
from routing.destinations import Closed, Closing, Destination, Target, closing, destination
from routing.hours import Closure, Hours, Span
from routing.ids import CallId, LineId, QueueId
from routing.plan import AfterHours, AfterHoursKind, Did, Line, OnCallStep, Plan, Queue

NY = ZoneInfo("America/New_York")
DAY, NIGHT = QueueId("day"), QueueId("night")
OFFICE_DID, ALWAYS_DID, UNKNOWN_DID = "+18005550101", "+18005550100", "+18005550999"
CHAIN = (OnCallStep("Dr. Smith", "PJSIP/smith", 20), OnCallStep("Dr. Jones", "PJSIP/jones", 20))
# Weekdays 08:00-12:00 and 13:00-18:00, Saturday to midnight, New York holidays, one afternoon closed.
OFFICE = Hours(
    timezone="America/New_York",
    weekly={
        **{d: (Span(dt.time(8), dt.time(12)), Span(dt.time(13), dt.time(18))) for d in range(5)},
        5: (Span(dt.time(10), dt.time.max),),
    },
    holiday_country="US",
    holiday_subdivision="NY",
    closures=(
        Closure(
            dt.datetime(2026, 12, 24, 14, tzinfo=NY).timestamp(),
            dt.datetime(2026, 12, 24, 18, tzinfo=NY).timestamp(),
            "Christmas Eve",
        ),
    ),
)


def at(*when: int) -> float:
    """New York wall-clock time (year, month, day, hour[, minute]) as Unix seconds."""
    return dt.datetime(*when, tzinfo=NY).timestamp()


def plan(after_hours: AfterHours) -> Plan:
    office = Line(id=LineId("office"), name="Office", queue=DAY, hours=OFFICE, after_hours=after_hours)
    always = Line(id=LineId("test"), name="Test line", queue=DAY)  # no hours: never closes
    return Plan(
        dids={OFFICE_DID: Did(OFFICE_DID, "web", office.id), ALWAYS_DID: Did(ALWAYS_DID, "test", always.id)},
        lines={office.id: office, always.id: always},
        queues={q: Queue(id=q, name=q.title(), announce_every_s=0.0) for q in (DAY, NIGHT)},
    )


ANSWERING = AfterHours(AfterHoursKind.QUEUE, NIGHT)
TUESDAY_9 = at(2026, 12, 1, 9)
SUNDAY_3 = at(2026, 11, 29, 3)
THANKSGIVING_10 = at(2026, 11, 26, 10)


# --- why a line is closed -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("when", "why", "name"),
    [
        (at(2026, 12, 24, 15), Closed.CLOSURE, "Christmas Eve"),
        (THANKSGIVING_10, Closed.HOLIDAY, "Thanksgiving Day"),
        (SUNDAY_3, Closed.HOURS, None),
        (at(2026, 12, 1, 12, 30), Closed.HOURS, None),  # the lunch gap between two spans
        (at(2026, 12, 1, 18), Closed.HOURS, None),  # a span's end is not in it
    ],
)
def test_given_closed_hours_when_asked_then_the_reason_and_the_local_time_are_given(
    when: float, why: Closed, name: str | None
) -> None:
    found = closing(OFFICE, when)
    assert found is not None
    assert (found.why, found.name, found.local) == (why, name, dt.datetime.fromtimestamp(when, NY))
    assert found.spans == OFFICE.weekly.get(found.local.weekday(), ())


def test_given_hours_when_swept_over_two_weeks_then_closed_exactly_when_is_open_says_so() -> None:
    start = at(2026, 11, 22, 0)  # Sunday, through Thanksgiving, a Saturday to midnight, Christmas Eve
    for step in range(0, 14 * 24 * 4):
        when = start + step * 900 + 1
        assert (closing(OFFICE, when) is None) is OFFICE.is_open(when), dt.datetime.fromtimestamp(when, NY)
    for when in (at(2026, 12, 24, 13, 59), at(2026, 12, 24, 14), at(2026, 12, 5, 23, 59), at(2026, 12, 6)):
        assert (closing(OFFICE, when) is None) is OFFICE.is_open(when)


# --- where the call goes ------------------------------------------------------------------------------
def test_given_a_line_without_hours_when_called_at_any_hour_then_it_is_open_and_its_queue_takes_it() -> None:
    for when in (SUNDAY_3, THANKSGIVING_10, at(2026, 12, 24, 15), at(2026, 12, 31, 23, 30)):
        always = plan(ANSWERING)
        found = destination(always, ALWAYS_DID, when)
        line = always.lines[LineId("test")]
        assert found == Destination(did=ALWAYS_DID, target=Target.QUEUE, line=line, source="test", queue=DAY)
        assert found.open is True


def test_given_an_open_line_when_called_then_its_own_queue_takes_it() -> None:
    found = destination(plan(ANSWERING), OFFICE_DID, TUESDAY_9)
    assert (found.open, found.closing, found.target, found.queue, found.source) == (
        True, None, Target.QUEUE, DAY, "web",
    )  # fmt: skip


def test_given_a_number_outside_the_plan_when_called_then_rejected_with_no_line() -> None:
    found = destination(plan(ANSWERING), UNKNOWN_DID, TUESDAY_9)
    assert found == Destination(did=UNKNOWN_DID, target=Target.REJECTED)
    assert found.open is None


@pytest.mark.parametrize(
    ("policy", "target", "queue", "chain"),
    [
        (ANSWERING, Target.QUEUE, NIGHT, ()),
        (AfterHours(AfterHoursKind.ON_CALL, None, CHAIN), Target.ON_CALL, None, CHAIN),
        (AfterHours(AfterHoursKind.ON_CALL), Target.VOICEMAIL, None, ()),  # nobody on call
        (AfterHours(AfterHoursKind.QUEUE), Target.VOICEMAIL, None, ()),  # no queue named
        (AfterHours(AfterHoursKind.VOICEMAIL), Target.VOICEMAIL, None, ()),
        (AfterHours(AfterHoursKind.HANG_UP), Target.HANG_UP, None, ()),
    ],
)
def test_given_a_closed_line_when_called_then_its_after_hours_policy_is_the_target(
    policy: AfterHours, target: Target, queue: QueueId | None, chain: tuple[OnCallStep, ...]
) -> None:
    found = destination(plan(policy), OFFICE_DID, SUNDAY_3)
    assert (found.open, found.target, found.queue, found.chain) == (False, target, queue, chain)
    assert found.closing == Closing(Closed.HOURS, None, dt.datetime.fromtimestamp(SUNDAY_3, NY), ())


# --- the router agrees ----------------------------------------------------------------------------------
POLICIES = [
    ANSWERING,
    AfterHours(AfterHoursKind.ON_CALL, None, CHAIN),
    AfterHours(AfterHoursKind.ON_CALL),
    AfterHours(AfterHoursKind.QUEUE),
    AfterHours(AfterHoursKind.VOICEMAIL),
    AfterHours(AfterHoursKind.HANG_UP),
]
CALLS = [(OFFICE_DID, TUESDAY_9), (OFFICE_DID, SUNDAY_3), (OFFICE_DID, THANKSGIVING_10),
         (ALWAYS_DID, SUNDAY_3), (UNKNOWN_DID, TUESDAY_9)]  # fmt: skip


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(("did", "when"), CALLS)
def test_given_a_call_when_the_router_takes_it_then_it_goes_where_the_destination_said(
    policy: AfterHours, did: str, when: float
) -> None:
    sc = Scenario(plan(policy))
    found = destination(sc.plan, did, when)
    out = sc.arrive("c1", at=when, did=did, number=CALLER)
    view = sc.router.call_view(CallId("c1"))
    match found.target:
        case Target.QUEUE:
            assert view is not None and view.queue == found.queue
        case Target.ON_CALL:
            assert [o.endpoint for o in of_type(out, cmd.OfferCall)] == [found.chain[0].endpoint]
        case Target.VOICEMAIL:
            assert of_type(out, cmd.TakeMessage)
        case Target.HANG_UP:
            assert [e.farewell for e in of_type(out, cmd.EndCall)] == [CLOSED]
        case Target.REJECTED:
            assert of_type(out, cmd.RejectCall)
    if view is not None:
        assert view.after_hours is (found.open is False)
