"""Cases, against SQLite and PostgreSQL: the lifecycle table, the append-only history, the lists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crm_core.domain.cases import (
    TRANSITIONS,
    CaseChanges,
    CaseEventKind,
    CaseStatus,
    FieldChange,
    NewCase,
    Priority,
)
from crm_core.domain.customers import CustomerDraft
from crm_core.domain.errors import (
    CallNotFound,
    CaseClosed,
    CaseNotFound,
    CustomerNotFound,
    IllegalCaseTransition,
    ValidationFailed,
)
from crm_core.sql.engine import open_engine
from crm_core.sql.store import SqlStore
from routing.ids import CallId
from routing.records import CallRecord
from tests.crm_core.conftest import REGION, RowCounts

DUE = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
async def cases_store(database_url: str) -> AsyncIterator[SqlStore]:
    store = SqlStore(open_engine(database_url), REGION, clock=Clock())
    yield store
    await store.close()


@pytest.fixture
async def customer_id(cases_store: SqlStore) -> int:
    return (await cases_store.customers.create(CustomerDraft(name="Ann"))).id


async def test_given_call_when_case_opened_from_it_then_linked_and_history_starts(
    cases_store: SqlStore, customer_id: int, answered_call: CallRecord
) -> None:
    await cases_store.record(answered_call, customer_id)

    case = await cases_store.cases.open(
        NewCase(
            customer_id=customer_id,
            subject=" No heat ",
            description="Boiler out",
            priority=Priority.URGENT,
            owner="agent-7",
            due_at=DUE,
            calls=[answered_call.call],
        ),
        author="agent-7",
    )

    assert (case.subject, case.status, case.priority, case.owner, case.due_at) == (
        "No heat",
        CaseStatus.OPEN,
        Priority.URGENT,
        "agent-7",
        DUE,
    )
    assert case.calls == (answered_call.call,)
    assert await cases_store.cases.get(case.id) == case
    logged = await cases_store.get_call(answered_call.call)
    assert logged is not None and logged.case_id == case.id
    (opened,) = await cases_store.cases.history(case.id)
    assert (opened.kind, opened.author, opened.changes) == (CaseEventKind.OPENED, "agent-7", ())


async def test_given_open_case_when_changed_commented_and_closed_then_history_tells_it_all_in_order(
    cases_store: SqlStore, customer_id: int
) -> None:
    case = await cases_store.cases.open(NewCase(customer_id=customer_id, subject="No heat"))

    changed = await cases_store.cases.update(
        case.id,
        CaseChanges(status=CaseStatus.ESCALATED, owner="tier-2", due_at=DUE, subject="No heat"),
        "sup-1",
    )
    note = await cases_store.cases.comment(case.id, "Engineer booked", "tier-2")
    closed = await cases_store.cases.close(case.id, "tier-2", "Fixed")

    assert (changed.status, changed.owner, changed.due_at) == (CaseStatus.ESCALATED, "tier-2", DUE)
    assert changed.updated_at > case.updated_at
    assert closed.status is CaseStatus.CLOSED and closed.closed_at is not None
    history = await cases_store.cases.history(case.id)
    assert [event.kind for event in history] == [
        CaseEventKind.OPENED,
        CaseEventKind.CHANGED,
        CaseEventKind.COMMENTED,
        CaseEventKind.CHANGED,
    ]
    assert history[1].changes == (
        FieldChange("status", "open", "escalated"),
        FieldChange("owner", None, "tier-2"),
        FieldChange("due_at", None, DUE.isoformat()),
    )
    assert history[2] == note and note.comment == "Engineer booked"
    assert (history[3].changes, history[3].comment) == (
        (FieldChange("status", "escalated", "closed"),),
        "Fixed",
    )
    assert [e.at for e in history] == sorted(e.at for e in history)


@pytest.mark.parametrize("current", list(CaseStatus))
@pytest.mark.parametrize("requested", list(CaseStatus))
async def test_given_case_in_any_status_when_any_status_requested_then_exactly_the_table_allows_it(
    cases_store: SqlStore, customer_id: int, current: CaseStatus, requested: CaseStatus
) -> None:
    case = await cases_store.cases.open(NewCase(customer_id=customer_id, subject="Lifecycle"))
    if current is not CaseStatus.OPEN:
        case = await cases_store.cases.update(case.id, CaseChanges(status=current))
    events = len(await cases_store.cases.history(case.id))

    if requested is current or requested in TRANSITIONS[current]:
        after = await cases_store.cases.update(case.id, CaseChanges(status=requested))
        assert after.status is requested
        assert (after.closed_at is not None) == (requested is CaseStatus.CLOSED)
    else:
        with pytest.raises(IllegalCaseTransition) as raised:
            await cases_store.cases.update(case.id, CaseChanges(status=requested))
        assert (raised.value.current, raised.value.requested) == (current.value, requested.value)
        assert await cases_store.cases.get(case.id) == case
        assert len(await cases_store.cases.history(case.id)) == events


async def test_given_closed_case_when_edited_then_case_closed_until_reopened(
    cases_store: SqlStore, customer_id: int
) -> None:
    case = await cases_store.cases.close(
        (await cases_store.cases.open(NewCase(customer_id=customer_id, subject="Done"))).id
    )

    with pytest.raises(CaseClosed):
        await cases_store.cases.update(case.id, CaseChanges(priority=Priority.HIGH))
    with pytest.raises(IllegalCaseTransition):
        await cases_store.cases.close(case.id)
    await cases_store.cases.comment(case.id, "Customer called again")
    reopened = await cases_store.cases.update(
        case.id, CaseChanges(status=CaseStatus.OPEN, priority=Priority.HIGH)
    )

    assert (reopened.status, reopened.priority, reopened.closed_at) == (CaseStatus.OPEN, Priority.HIGH, None)


async def test_given_case_when_update_changes_nothing_then_no_history_event(
    cases_store: SqlStore, customer_id: int
) -> None:
    case = await cases_store.cases.open(
        NewCase(customer_id=customer_id, subject="Same", priority=Priority.LOW)
    )

    same = await cases_store.cases.update(case.id, CaseChanges(subject=" Same ", priority=Priority.LOW))

    assert same == case
    assert len(await cases_store.cases.history(case.id)) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (CaseChanges(subject=""), "subject"),
        (CaseChanges(status="done"), "status"),  # type: ignore[arg-type]
        (CaseChanges(priority="asap"), "priority"),  # type: ignore[arg-type]
        (CaseChanges(due_at=datetime(2026, 2, 1)), "due_at"),
    ],
)
async def test_given_bad_change_when_updating_then_validation_failed_and_unchanged(
    cases_store: SqlStore, customer_id: int, changes: CaseChanges, field: str
) -> None:
    case = await cases_store.cases.open(NewCase(customer_id=customer_id, subject="Valid"))

    with pytest.raises(ValidationFailed) as raised:
        await cases_store.cases.update(case.id, changes)

    assert raised.value.field == field
    assert await cases_store.cases.get(case.id) == case


async def test_given_bad_references_when_opening_then_typed_error_and_nothing_written(
    cases_store: SqlStore, customer_id: int, row_counts: RowCounts
) -> None:
    before = await row_counts()

    with pytest.raises(CustomerNotFound):
        await cases_store.cases.open(NewCase(customer_id=404, subject="Nobody"))
    with pytest.raises(CallNotFound) as raised:
        await cases_store.cases.open(
            NewCase(customer_id=customer_id, subject="Ghost call", calls=["no-such-call"])
        )
    with pytest.raises(CaseNotFound):
        await cases_store.cases.comment(404, "hello")

    assert raised.value.call_id == "no-such-call"
    assert await row_counts() == before


async def test_given_calls_when_linked_later_then_listed_oldest_first_and_logged(
    cases_store: SqlStore, customer_id: int, answered_call: CallRecord
) -> None:
    later = replace(answered_call, call=CallId("later"), arrived_at=answered_call.arrived_at + 600,
                    answered_at=None, ended_at=answered_call.ended_at + 600)  # fmt: skip
    await cases_store.record(later, customer_id)
    await cases_store.record(answered_call, customer_id)
    case = await cases_store.cases.open(
        NewCase(customer_id=customer_id, subject="Two calls", calls=["later"])
    )

    linked = await cases_store.cases.link_call(case.id, answered_call.call, "agent-7")
    again = await cases_store.cases.link_call(case.id, answered_call.call, "agent-7")

    assert linked.calls == again.calls == (answered_call.call, CallId("later"))
    assert [e.kind for e in await cases_store.cases.history(case.id)] == [
        CaseEventKind.OPENED,
        CaseEventKind.CALL_LINKED,
    ]


async def test_given_cases_when_listed_by_filters_then_matching_newest_first_and_paged(
    cases_store: SqlStore, customer_id: int
) -> None:
    other = (await cases_store.customers.create(CustomerDraft(name="Bo"))).id
    made = []
    for n, (who, owner) in enumerate(
        [(customer_id, "a1"), (other, "a1"), (customer_id, "a2"), (customer_id, None)]
    ):
        made.append(await cases_store.cases.open(NewCase(customer_id=who, subject=f"Case {n}", owner=owner)))
    await cases_store.cases.close(made[2].id)

    mine = await cases_store.cases.list(customer_id=customer_id)
    open_a1 = await cases_store.cases.list(status=CaseStatus.OPEN, owner="a1")
    first = await cases_store.cases.list(limit=3)
    rest = await cases_store.cases.list(limit=3, cursor=first.next_cursor)

    assert [c.id for c in mine.items] == [made[3].id, made[2].id, made[0].id]
    assert [c.id for c in open_a1.items] == [made[1].id, made[0].id]
    assert [c.id for c in first.items + rest.items] == [c.id for c in reversed(made)]
    assert rest.next_cursor is None


async def test_given_customer_with_cases_when_anonymised_then_case_texts_erased_and_statistics_kept(
    store: SqlStore, answered_call: CallRecord, row_counts: RowCounts
) -> None:
    ann = await store.customers.create(CustomerDraft(name="Ann"))
    bob = await store.customers.create(CustomerDraft(name="Bob"))
    await store.record(answered_call, ann.id)
    kept = await store.cases.open(
        NewCase(customer_id=bob.id, subject="Bob's router", description="Serial 77")
    )
    opened = await store.cases.open(
        NewCase(
            customer_id=ann.id,
            subject="Ann's card 4242",
            description="Lives at 1 Main St",
            calls=[answered_call.call],
        )
    )
    await store.cases.update(opened.id, CaseChanges(subject="Ann's card 4243", status=CaseStatus.PENDING))
    await store.cases.comment(opened.id, "Ann phoned from her mother's")
    closed = await store.cases.close(opened.id, "agent-7", "Refunded Ann")
    before_history = await store.cases.history(opened.id)
    before_counts = await row_counts()

    await store.customers.anonymise(ann.id)

    erased = await store.cases.get(opened.id)
    assert (erased.subject, erased.description) == ("[erased]", "[erased]")
    assert replace(erased, subject=closed.subject, description=closed.description) == closed
    history = await store.cases.history(opened.id)
    assert [(e.id, e.at, e.author, e.kind) for e in history] == [
        (e.id, e.at, e.author, e.kind) for e in before_history
    ]
    assert [e.comment for e in history] == [None, None, "[erased]", "[erased]"]
    changes = [c for e in history for c in e.changes]
    assert FieldChange("subject", "[erased]", "[erased]") in changes
    assert FieldChange("status", "open", "pending") in changes
    assert FieldChange("status", "pending", "closed") in changes
    assert not any("Ann" in (c.old or "") + (c.new or "") for c in changes)
    assert await row_counts() == before_counts
    assert await store.cases.get(kept.id) == kept
