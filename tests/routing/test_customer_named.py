"""The customer an agent names for a call (picked among those sharing the caller's number, or attached):
kept with the call and carried by its records, whoever ends it; a call already over is left alone.

Times: c1 arrives at 10 and a1 answers it at 15; the agent names the customer at 18."""

from __future__ import annotations

from routing_harness import SALES, SUPPORT, Scenario, make_plan, of_type

from routing import commands as cmd
from routing import events as ev
from routing.ids import AgentId, CallId, OfferId
from routing.views import named_customers

C1, LEG, NEXT = CallId("c1"), OfferId("sb-c1-1"), OfferId("sb-c1-2")


def connected() -> Scenario:
    sc = Scenario(make_plan({"a1": (SALES,), "b1": (SUPPORT,)}))
    sc.staff("a1", "b1", at=1)
    sc.arrive("c1", at=10)
    sc.answer(LEG, at=15)
    return sc


def named(sc: Scenario, customer: str, call: CallId = C1, at: float = 18) -> list[cmd.Command]:
    return sc.feed(ev.CustomerNamed(call, AgentId("a1"), customer, at))


def logged(out: list[cmd.Command]) -> list[tuple[str, str | None]]:
    return [(c.record.call, c.customer) for c in of_type(out, cmd.LogCall)]


def test_given_a_connected_call_when_the_customer_is_named_then_nothing_to_do_and_the_record_names_it() -> (
    None
):
    sc = connected()
    assert named(sc, "42") == []
    assert named_customers(sc.router.book) == [(C1, sc.router.book.calls[C1].caller_number, "42")]
    assert logged(sc.hang_up("c1", at=30)) == [("c1", "42")]
    assert named_customers(sc.router.book) == []


def test_given_a_call_named_twice_then_the_last_name_counts() -> None:
    sc = connected()
    named(sc, "42")
    named(sc, "43", at=19)
    assert logged(sc.hang_up("c1", at=30)) == [("c1", "43")]


def test_given_no_name_then_the_record_names_none_and_the_lookup_decides() -> None:
    sc = connected()
    assert named_customers(sc.router.book) == []
    assert logged(sc.hang_up("c1", at=30)) == [("c1", None)]


def test_given_a_named_call_transferred_then_the_stretch_and_the_whole_call_name_it() -> None:
    sc = connected()
    named(sc, "42")
    assert logged(sc.transfer("a1", "queue", SUPPORT, at=20)) == [("c1~1", "42")]
    sc.answer(NEXT, at=25)
    assert logged(sc.hang_up("c1", at=40)) == [("c1", "42")]


def test_given_a_call_over_or_unknown_when_named_then_nothing_changes() -> None:
    sc = connected()
    sc.hang_up("c1", at=30)
    before = sc.snapshot()
    assert named(sc, "42", at=31) == [] and named(sc, "42", CallId("ghost"), at=31) == []
    assert sc.snapshot() == before
