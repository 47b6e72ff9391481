"""The domain types on their own: how a CallRecord becomes what the store keeps. No database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from crm_core.domain.calls import LoggedCall, utc
from routing.records import CallRecord, Outcome, Party


def test_given_unix_seconds_when_converted_then_aware_utc_to_the_microsecond() -> None:
    assert utc(1_700_000_000.25) == datetime(2023, 11, 14, 22, 13, 20, 250_000, tzinfo=UTC)
    assert utc(0.0).tzinfo is UTC


def test_given_answered_record_when_logged_then_times_are_utc_and_durations_are_the_records(
    answered_call: CallRecord,
) -> None:
    logged = LoggedCall.from_record(answered_call, customer_id=7)

    assert logged.arrived_at == datetime(2023, 11, 14, 22, 13, 20, 250_000, tzinfo=UTC)
    assert logged.answered_at == datetime(2023, 11, 14, 22, 13, 32, 500_000, tzinfo=UTC)
    assert logged.ended_at == datetime(2023, 11, 14, 22, 15, 0, 750_000, tzinfo=UTC)
    assert (logged.wait_s, logged.talk_s) == (12.25, 88.25)
    record = logged.record
    assert (record.call, record.line, record.queue, record.agent) == (
        "1700000000.42",
        "sales",
        "sales-q",
        "agent-7",
    )
    assert (record.outcome, record.hung_up_by, record.offers, logged.customer_id) == (
        Outcome.ANSWERED,
        Party.CALLER,
        2,
        7,
    )


def test_given_unanswered_record_when_logged_then_no_answer_time_and_no_talk(
    answered_call: CallRecord,
) -> None:
    abandoned = replace(answered_call, answered_at=None, agent=None, outcome=Outcome.ABANDONED)

    logged = LoggedCall.from_record(abandoned, customer_id=None)

    assert logged.answered_at is None
    assert (logged.wait_s, logged.talk_s) == (100.5, 0.0)
    assert logged.customer_id is None


def test_given_a_record_finer_than_a_microsecond_when_logged_then_it_is_held_as_the_store_keeps_it(
    answered_call: CallRecord,
) -> None:
    fine = replace(
        answered_call, arrived_at=1_700_000_000.1234567, answered_at=None, ended_at=1_700_000_005.0000004
    )

    logged = LoggedCall.from_record(fine, customer_id=None)

    assert logged.record == replace(fine, arrived_at=1_700_000_000.123457, ended_at=1_700_000_005.0)
    assert logged.arrived_at == datetime(2023, 11, 14, 22, 13, 20, 123_457, tzinfo=UTC)
    assert logged.wait_s == fine.wait_s  # the durations are the record's own, not of the rounded times
