"""The demo's simulated callers: the same seed, the same callers; drawn from the store's customers and
the numbers open at the moment, at about the chosen rate."""

from __future__ import annotations

import statistics

import pytest

from switchboard.demo_callers import FIRST_AFTER_S, UNKNOWN_SHARE, Caller, Callers, Known

KNOWN = [Known("+14155550123", "Jane Doe"), Known("+14155550124", "Raj Patel")]
DIDS = ["+18005550100", "+18005550101"]


def draw(seed: int, count: int = 200, rate: float = 6.0, known: list[Known] = KNOWN) -> list[Caller]:
    callers = Callers(known, rate_per_min=rate, seed=seed)
    return [callers.next_caller(DIDS) for _ in range(count)]


def test_given_the_same_seed_when_drawn_twice_then_the_callers_are_the_same() -> None:
    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_given_customers_when_drawn_then_most_callers_are_customers_and_the_rest_unknown() -> None:
    callers = draw(1, count=2000)

    known = [c for c in callers if c.name is not None]
    assert {(c.number, c.name) for c in known} == {(k.number, k.name) for k in KNOWN}
    unknown = [c for c in callers if c.name is None]
    assert all(c.number not in {k.number for k in KNOWN} for c in unknown)
    assert len(unknown) / len(callers) == pytest.approx(UNKNOWN_SHARE, abs=0.03)


def test_given_an_empty_store_when_drawn_then_every_caller_is_unknown() -> None:
    assert all(c.name is None for c in draw(1, known=[]))


def test_given_a_rate_when_drawn_then_the_gaps_average_its_inverse() -> None:
    first, *rest = draw(3, count=4000, rate=12.0)
    assert first.after_s == FIRST_AFTER_S  # a new user sees a call at once, whatever the rate
    assert statistics.fmean(c.after_s for c in rest) == pytest.approx(5.0, rel=0.06)


def test_given_open_numbers_when_drawn_then_each_caller_dials_one_of_them_and_has_a_script() -> None:
    callers = Callers(KNOWN, rate_per_min=6, seed=2)
    only = [callers.next_caller(["+18005550113"]) for _ in range(20)]
    mixed = draw(2, count=500)

    assert {c.did for c in only} == {"+18005550113"}
    assert {c.did for c in mixed} == set(DIDS)
    assert [c.call for c in only[:3]] == ["demo-000001", "demo-000002", "demo-000003"]
    assert all(10 <= c.talk_s <= 30 and 45 <= c.patience_s <= 120 for c in mixed)
    assert 0 < sum(c.hold for c in mixed) < len(mixed) and 0 < sum(c.transfer for c in mixed) < len(mixed)


def test_given_no_number_or_no_rate_then_it_is_refused() -> None:
    with pytest.raises(ValueError, match="no number"):
        Callers(KNOWN, rate_per_min=6).next_caller([])
    with pytest.raises(ValueError, match="rate"):
        Callers(KNOWN, rate_per_min=0)
