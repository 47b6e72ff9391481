"""The call log as supervisors query it, the agent's wrap-up and the streamed CSV, on both databases."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crm_core.csv.calls import CALL_CSV_COLUMNS
from crm_core.domain.calls import CallFilter, LoggedCall, WrapUp
from crm_core.domain.cases import NewCase
from crm_core.domain.customers import CustomerDraft
from crm_core.domain.errors import CallNotFound, CaseNotFound, InvalidCursor, ValidationFailed
from crm_core.domain.pagination import encode_cursor
from crm_core.sql import calls as sql_calls
from crm_core.sql.store import SqlStore
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import CallRecord, Outcome

START = datetime.fromtimestamp(1_700_000_000, UTC)


def _call(base: CallRecord, n: int, minutes: float, **changes: object) -> CallRecord:
    shift = 60 * minutes
    shifted = replace(
        base,
        call=CallId(f"c{n:02d}"),
        arrived_at=base.arrived_at + shift,
        answered_at=None if base.answered_at is None else base.answered_at + shift,
        ended_at=base.ended_at + shift,
    )
    return replace(shifted, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def day(store: SqlStore, answered_call: CallRecord) -> tuple[int, list[CallRecord]]:
    """Eight calls: two lines, two queues, two agents, one abandon, one customer's; two arrive together."""
    ann = (await store.customers.create(CustomerDraft(name="Ann"))).id
    calls = [
        _call(answered_call, 0, 0),
        _call(answered_call, 1, 1, line=LineId("support"), queue=QueueId("support-q")),
        _call(answered_call, 2, 2, agent=AgentId("agent-9")),
        _call(answered_call, 3, 3, answered_at=None, agent=None, outcome=Outcome.ABANDONED),
        _call(answered_call, 4, 4, did="+18005550111", source="other-trunk"),
        _call(answered_call, 5, 5),
        _call(answered_call, 6, 5),  # same arrival as c05: the call id breaks the tie
        _call(answered_call, 7, 7, after_hours=True, on_call="Dr. Smith", priority=3),
    ]
    for n, call in enumerate(calls):
        await store.record(call, ann if n in (2, 5) else None)
    return ann, calls


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (CallFilter(), ["c07", "c06", "c05", "c04", "c03", "c02", "c01", "c00"]),
        (CallFilter(line="support"), ["c01"]),
        (CallFilter(queue="sales-q", agent="agent-9"), ["c02"]),
        (CallFilter(outcome=Outcome.ABANDONED), ["c03"]),
        (CallFilter(did="+18005550111"), ["c04"]),
        (CallFilter(source="other-trunk"), ["c04"]),
        (
            CallFilter(since=START + timedelta(minutes=2), until=START + timedelta(minutes=5)),
            ["c04", "c03", "c02"],
        ),
        (CallFilter(line="nope"), []),
        (CallFilter(after_hours=True), ["c07"]),
        (CallFilter(after_hours=False), ["c06", "c05", "c04", "c03", "c02", "c01", "c00"]),
    ],
)
async def test_given_a_day_of_calls_when_filtered_then_matching_calls_newest_first(
    store: SqlStore, day: tuple[int, list[CallRecord]], where: CallFilter, expected: list[str]
) -> None:
    page = await store.calls.query(where)

    assert [call.record.call for call in page.items] == expected


async def test_given_customer_filter_when_querying_then_only_their_calls(
    store: SqlStore, day: tuple[int, list[CallRecord]]
) -> None:
    ann, _ = day
    assert [c.record.call for c in (await store.calls.query(CallFilter(customer_id=ann))).items] == [
        "c05",
        "c02",
    ]


async def test_given_ties_when_paging_two_at_a_time_then_every_call_once_in_order(
    store: SqlStore, day: tuple[int, list[CallRecord]]
) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.calls.query(limit=2, cursor=cursor)
        seen += [call.record.call for call in page.items]
        if (cursor := page.next_cursor) is None:
            break

    assert seen == ["c07", "c06", "c05", "c04", "c03", "c02", "c01", "c00"]


@pytest.mark.parametrize(
    "cursor",
    [encode_cursor("calls", ("yesterday", "c01")), encode_cursor("calls", ("2026-01-01T00:00:00", "c"))],
)
async def test_given_bad_time_in_cursor_when_querying_then_invalid_cursor(
    store: SqlStore, cursor: str
) -> None:
    with pytest.raises(InvalidCursor):
        await store.calls.query(cursor=cursor)


async def test_given_naive_time_when_querying_then_validation_failed(store: SqlStore) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await store.calls.query(CallFilter(since=datetime(2026, 1, 1)))

    assert raised.value.field == "since"


async def test_given_unknown_outcome_when_querying_then_message_lists_every_outcome(store: SqlStore) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await store.calls.query(CallFilter(outcome="lost"))  # type: ignore[arg-type]

    assert raised.value.field == "outcome"
    assert (
        raised.value.reason
        == "must be one of answered, abandoned, no-agent, voicemail, callback, unreached, transferred"
    )


async def test_given_call_when_wrapped_up_then_kept_through_a_rerecord_and_erasable(
    store: SqlStore, answered_call: CallRecord
) -> None:
    ann = (await store.customers.create(CustomerDraft(name="Ann"))).id
    await store.record(answered_call, ann)
    case = await store.cases.open(NewCase(customer_id=ann, subject="Follow up"))

    wrapped = await store.calls.wrap_up(answered_call.call, WrapUp("sale", " Sold 2 widgets ", case.id))
    await store.record(replace(answered_call, offers=3), ann)  # the router reports the call again
    kept = await store.get_call(answered_call.call)
    erased = await store.calls.wrap_up(answered_call.call, WrapUp(agent_notes=None))

    assert (wrapped.disposition, wrapped.agent_notes, wrapped.case_id) == ("sale", "Sold 2 widgets", case.id)
    assert kept is not None and (kept.record.offers, kept.disposition, kept.case_id) == (3, "sale", case.id)
    assert (erased.disposition, erased.agent_notes, erased.case_id) == ("sale", None, case.id)
    assert (await store.cases.get(case.id)).calls == (answered_call.call,)


async def test_given_bad_wrap_up_when_applied_then_typed_error_and_unchanged(
    store: SqlStore, answered_call: CallRecord
) -> None:
    await store.record(answered_call, None)

    with pytest.raises(CallNotFound):
        await store.calls.wrap_up("no-such-call", WrapUp("sale"))
    with pytest.raises(CaseNotFound):
        await store.calls.wrap_up(answered_call.call, WrapUp("sale", case_id=404))

    assert await store.get_call(answered_call.call) == LoggedCall.from_record(answered_call, None)


async def test_given_calls_when_exported_then_header_and_one_line_each_oldest_first_in_chunks(
    store: SqlStore, day: tuple[int, list[CallRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_calls, "EXPORT_CHUNK", 3)  # several chunks, one boundary inside the c05/c06 tie
    await store.calls.wrap_up("c02", WrapUp("sale", 'said "hi",\nthen left'))

    lines = [line async for line in store.calls.export_csv()]

    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows[0] == list(CALL_CSV_COLUMNS)
    assert [row[0] for row in rows[1:]] == ["c00", "c01", "c02", "c03", "c04", "c05", "c06", "c07"]
    c02 = dict(zip(CALL_CSV_COLUMNS, rows[3], strict=True))
    assert (c02["disposition"], c02["agent_notes"], c02["agent_id"]) == (
        "sale",
        'said "hi",\nthen left',
        "agent-9",
    )
    assert c02["arrived_at"] == (START + timedelta(minutes=2, seconds=0.25)).isoformat()
    assert all(line.endswith("\r\n") for line in lines)
    c07 = dict(zip(CALL_CSV_COLUMNS, rows[8], strict=True))
    acd = ("priority", "after_hours", "on_call", "recording", "callback_of", "part_of", "end_reason")
    assert CALL_CSV_COLUMNS[-7:] == acd  # added at the end: readers of the old columns keep working
    assert [c07[name] for name in acd] == ["3", "true", "Dr. Smith", "", "", "", ""]
    assert [c02[name] for name in acd] == ["0", "false", "", "", "", "", ""]


async def test_given_filter_when_exporting_then_only_matching_calls(
    store: SqlStore, day: tuple[int, list[CallRecord]]
) -> None:
    lines = [line async for line in store.calls.export_csv(CallFilter(outcome=Outcome.ABANDONED))]

    assert len(lines) == 2 and lines[1].startswith("c03,")


async def test_given_export_when_only_started_then_nothing_more_is_read(
    store: SqlStore, day: tuple[int, list[CallRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_calls, "EXPORT_CHUNK", 2)
    stream = store.calls.export_csv()

    header = await anext(stream)
    first = await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]

    assert header.startswith("call_id,") and first.startswith("c00,")
