"""The delivery lifecycle and retry schedule, without I/O: the table, the backoff, what an attempt writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_core.domain.deliveries import (
    TERMINAL,
    TRANSITIONS,
    Accepted,
    Channel,
    DeliveryStatus,
    IllegalDeliveryTransition,
    InvalidDelivery,
    Refused,
    RetryPolicy,
    after_attempt,
    checked_recipient,
    checked_transition,
)

S = DeliveryStatus
NOW = datetime(2026, 12, 7, 3, tzinfo=UTC)
SENT_ONWARDS = frozenset({S.SENT, S.DELIVERED, S.READ, S.FILED})


def test_given_the_policy_then_the_delay_doubles_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=10, base_s=30, max_s=600)
    assert [policy.delay(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]


def test_given_a_transient_failure_when_attempts_remain_then_queued_again_after_the_delay() -> None:
    decision = after_attempt(1, Refused("HTTP 503", permanent=False), NOW, RetryPolicy(3, 10, 100))
    assert (decision.status, decision.attempts) == (S.QUEUED, 2)
    assert decision.next_attempt_at == NOW + timedelta(seconds=20)


def test_given_a_transient_failure_on_the_last_attempt_then_failed_saying_so() -> None:
    decision = after_attempt(2, Refused("HTTP 503", permanent=False), NOW, RetryPolicy(3, 10, 100))
    assert decision.status is S.FAILED and "attempt 3 of 3" in decision.detail


def test_given_a_permanent_refusal_then_failed_at_once() -> None:
    decision = after_attempt(0, Refused("HTTP 400: bad number", permanent=True), NOW, RetryPolicy())
    assert (decision.status, decision.attempts, decision.detail) == (S.FAILED, 1, "HTTP 400: bad number")


def test_given_an_accepted_attempt_then_its_status_and_the_far_ends_answer() -> None:
    decision = after_attempt(0, Accepted(S.SENT, "250 2.0.0 Ok"), NOW, RetryPolicy())
    assert (decision.status, decision.detail) == (S.SENT, "250 2.0.0 Ok")


@pytest.mark.parametrize(
    ("current", "new"), [(S.DELIVERED, S.QUEUED), (S.READ, S.SENT), (S.FILED, S.READ), (S.FAILED, S.SENT)]
)
def test_given_an_illegal_change_then_refused(current: DeliveryStatus, new: DeliveryStatus) -> None:
    with pytest.raises(IllegalDeliveryTransition):
        checked_transition(current, new)


def test_given_the_table_then_filed_is_the_only_end() -> None:
    assert frozenset({S.FILED}) == TERMINAL


@given(st.lists(st.sampled_from(list(DeliveryStatus)), max_size=30))
def test_given_any_changes_then_once_sent_a_delivery_never_goes_back_to_queued(
    wanted: list[DeliveryStatus],
) -> None:
    status, seen = S.QUEUED, [S.QUEUED]
    for new in wanted:
        try:
            status = checked_transition(status, new)
        except IllegalDeliveryTransition:
            continue
        seen.append(status)
    after_sent = seen[next((i for i, s in enumerate(seen) if s in SENT_ONWARDS), len(seen)) :]
    assert S.QUEUED not in after_sent


@given(st.lists(st.booleans(), max_size=40), st.integers(min_value=1, max_value=12))
def test_given_any_run_of_failures_then_it_ends_failed_within_the_attempts(
    permanence: list[bool], attempts: int
) -> None:
    policy = RetryPolicy(attempts=attempts, base_s=1, max_s=60)
    made, at, status = 0, NOW, S.QUEUED
    for permanent in [*permanence, *[False] * attempts]:
        decision = after_attempt(made, Refused("no", permanent), at, policy)
        assert decision.next_attempt_at >= at and decision.attempts == made + 1
        made, at, status = decision.attempts, decision.next_attempt_at, decision.status
        if status is S.FAILED:
            break
    assert status is S.FAILED and made <= attempts
    assert TRANSITIONS[S.QUEUED] >= {status}


@pytest.mark.parametrize(
    ("channel", "recipient"),
    [(Channel.EMAIL, "no-at-sign"), (Channel.EMAIL, "a@b"), (Channel.SMS, "555-0100"),
     (Channel.WEBHOOK, "ftp://x")],
)  # fmt: skip
def test_given_a_recipient_unfit_for_its_channel_then_refused(channel: Channel, recipient: str) -> None:
    with pytest.raises(InvalidDelivery):
        checked_recipient(channel, recipient)
