"""``SqlCases``: opening, changing, commenting on and closing cases, each write with its history event."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.domain import validation
from crm_core.domain.cases import (
    ERASED,
    Case,
    CaseChanges,
    CaseEvent,
    CaseEventKind,
    CasePlan,
    CaseStatus,
    FieldChange,
    NewCase,
    Priority,
    checked_author,
    checked_comment,
    checked_new_case,
    erased_changes,
    planned_changes,
)
from crm_core.domain.errors import CallNotFound, CaseNotFound, CustomerNotFound, IllegalCaseTransition
from crm_core.domain.pagination import DEFAULT_PAGE, MAX_PAGE, Page, decode_cursor, page
from crm_core.sql.database import Database, first_or_none
from crm_core.sql.orm import CallRow, CaseEventRow, CaseRow, CustomerRow
from crm_core.sql.rows import CASE_COLUMNS, EVENT_COLUMNS, case, case_event, changes_json
from routing.ids import CallId

CASE_LIST = "cases"


class SqlCases:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(self, new: NewCase, author: str | None = None) -> Case:
        """Open a case for ``new.customer_id``, linking the calls it came from.

        Raises ``CustomerNotFound``, ``CallNotFound`` or ``ValidationFailed`` before writing anything.
        """
        checked = checked_new_case(new)
        who = checked_author(author)
        now = self._db.clock()
        async with self._db.engine.begin() as connection:
            if (
                await connection.scalar(select(CustomerRow.id).where(CustomerRow.id == checked.customer_id))
                is None
            ):
                raise CustomerNotFound(checked.customer_id)
            await _check_calls(connection, checked.calls)
            values = {
                "customer_id": checked.customer_id,
                "subject": checked.subject,
                "description": checked.description,
                "status": CaseStatus.OPEN.value,
                "priority": checked.priority.value,
                "owner": checked.owner,
                "due_at": checked.due_at,
                "created_at": now,
                "updated_at": now,
                "closed_at": None,
            }
            case_id: int = (
                await connection.execute(insert(CaseRow).values(values).returning(CaseRow.id))
            ).scalar_one()
            await _link_calls(connection, case_id, checked.calls)
            await _append(connection, case_id, now, who, CaseEventKind.OPENED, (), None)
            return await _load(connection, case_id)

    async def get(self, case_id: int) -> Case:
        """Raises ``CaseNotFound``."""
        async with self._db.reads.connect() as connection:
            return await _load(connection, case_id)

    async def update(self, case_id: int, changes: CaseChanges, author: str | None = None) -> Case:
        """Apply ``changes`` and record them in the history; changing nothing writes nothing.

        Raises ``CaseNotFound``, ``ValidationFailed``, ``IllegalCaseTransition`` or ``CaseClosed``.
        """
        who = checked_author(author)
        async with self._db.engine.begin() as connection:
            current = await _load(connection, case_id, lock=True)
            plan = planned_changes(current, changes)
            if not plan.diff:
                return current
            await self._write(connection, current.id, plan, who, None)
            return await _load(connection, case_id)

    async def comment(self, case_id: int, text: str, author: str | None = None) -> CaseEvent:
        """Append a comment (also to a closed case). Raises ``CaseNotFound`` or ``ValidationFailed``."""
        comment, who = checked_comment(text), checked_author(author)
        now = self._db.clock()
        async with self._db.engine.begin() as connection:
            await _load(connection, case_id, lock=True)
            await connection.execute(update(CaseRow).where(CaseRow.id == case_id).values(updated_at=now))
            return await _append(connection, case_id, now, who, CaseEventKind.COMMENTED, (), comment)

    async def close(self, case_id: int, author: str | None = None, comment: str | None = None) -> Case:
        """Close the case, with an optional closing comment in the same history event.

        Raises ``CaseNotFound``, ``IllegalCaseTransition`` (already closed) or ``ValidationFailed``.
        """
        note = None if comment is None else checked_comment(comment)
        who = checked_author(author)
        async with self._db.engine.begin() as connection:
            current = await _load(connection, case_id, lock=True)
            if current.status is CaseStatus.CLOSED:  # the lifecycle table has no closed -> closed
                raise IllegalCaseTransition(case_id, current.status.value, CaseStatus.CLOSED.value)
            plan = planned_changes(current, CaseChanges(status=CaseStatus.CLOSED))
            await self._write(connection, case_id, plan, who, note)
            return await _load(connection, case_id)

    async def link_call(self, case_id: int, call_id: str, author: str | None = None) -> Case:
        """Link a call to the case (moving it from any other case).

        Raises ``CaseNotFound`` or ``CallNotFound``.
        """
        who = checked_author(author)
        now = self._db.clock()
        async with self._db.engine.begin() as connection:
            current = await _load(connection, case_id, lock=True)
            if call_id in current.calls:
                return current
            await _check_calls(connection, [call_id])
            await _link_calls(connection, case_id, [call_id])
            await connection.execute(update(CaseRow).where(CaseRow.id == case_id).values(updated_at=now))
            change = (FieldChange("call", None, call_id),)
            await _append(connection, case_id, now, who, CaseEventKind.CALL_LINKED, change, None)
            return await _load(connection, case_id)

    async def history(self, case_id: int) -> list[CaseEvent]:
        """Every event of the case, oldest first. Raises ``CaseNotFound``."""
        async with self._db.reads.connect() as connection:
            await _load(connection, case_id)
            query = select(*EVENT_COLUMNS).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
            return [case_event(row) for row in await connection.execute(query)]

    async def list(
        self,
        *,
        customer_id: int | None = None,
        status: CaseStatus | None = None,
        owner: str | None = None,
        limit: int = DEFAULT_PAGE,
        cursor: str | None = None,
    ) -> Page[Case]:
        """Cases matching every filter given, newest first.

        Raises ``ValidationFailed`` or ``InvalidCursor``.
        """
        validation.limit(limit, MAX_PAGE)
        query = select(*CASE_COLUMNS).order_by(CaseRow.id.desc()).limit(limit + 1)
        if cursor is not None:
            (before,) = decode_cursor(cursor, CASE_LIST, (int,))
            query = query.where(CaseRow.id < before)
        if customer_id is not None:
            query = query.where(CaseRow.customer_id == customer_id)
        if status is not None:
            query = query.where(CaseRow.status == CaseStatus(status).value)
        if owner is not None:
            query = query.where(CaseRow.owner == owner)
        async with self._db.reads.connect() as connection:
            rows = list(await connection.execute(query))
            linked = await calls_of_cases(connection, [row.id for row in rows])
        return page([case(row, linked.get(row.id, ())) for row in rows], limit, CASE_LIST, lambda c: (c.id,))

    async def _write(
        self,
        connection: AsyncConnection,
        case_id: int,
        plan: CasePlan,
        author: str | None,
        comment: str | None,
    ) -> None:
        now = self._db.clock()
        values: dict[str, object] = {"updated_at": now}
        for field, value in plan.values.items():
            values[field] = value.value if isinstance(value, CaseStatus | Priority) else value
        if "status" in plan.values:
            values["closed_at"] = now if plan.values["status"] is CaseStatus.CLOSED else None
        await connection.execute(update(CaseRow).where(CaseRow.id == case_id).values(values))
        await _append(connection, case_id, now, author, CaseEventKind.CHANGED, plan.diff, comment)


async def erase_case_texts(connection: AsyncConnection, customer_id: int) -> None:
    """Replace the personal text of the customer's cases (subject, description, comments, and the same
    fields in the history) with ``ERASED``; statuses, priorities, owners and every timestamp stay, so case
    statistics are unchanged. Anonymisation is the one writer allowed to touch history events.
    """
    case_ids = select(CaseRow.id).where(CaseRow.customer_id == customer_id).scalar_subquery()
    await connection.execute(
        update(CaseRow).where(CaseRow.customer_id == customer_id).values(subject=ERASED, description=ERASED)
    )
    await connection.execute(
        update(CaseEventRow)
        .where(CaseEventRow.case_id.in_(case_ids), CaseEventRow.comment.is_not(None))
        .values(comment=ERASED)
    )
    query = select(*EVENT_COLUMNS).where(
        CaseEventRow.case_id.in_(case_ids), CaseEventRow.changes.is_not(None)
    )
    rewritten = []
    for row in await connection.execute(query):
        changes = case_event(row).changes
        erased = erased_changes(changes)
        if erased != changes:
            rewritten.append({"event_id": row.id, "changes": changes_json(erased)})
    if rewritten:
        await connection.execute(
            update(CaseEventRow).where(CaseEventRow.id == bindparam("event_id")), rewritten
        )


async def calls_of_cases(
    connection: AsyncConnection, case_ids: Sequence[int]
) -> dict[int, tuple[CallId, ...]]:
    if not case_ids:
        return {}
    return linked_calls(await connection.execute(cases_calls_query(case_ids)))


def cases_calls_query(case_ids: Sequence[int]) -> Select[Any]:
    """The calls each of ``case_ids`` came from, for ``linked_calls``."""
    # Sorted by linked_calls, not by ORDER BY: given one, SQLite's planner prefers walking
    # ix_calls_arrived_at through the whole call log to a lookup in ix_calls_case_id and a sort of a few rows.
    return select(CallRow.case_id, CallRow.call_id, CallRow.arrived_at).where(
        CallRow.case_id.in_(list(case_ids))
    )


def linked_calls(rows: Iterable[Row[Any]]) -> dict[int, tuple[CallId, ...]]:
    """Case id -> its calls, oldest first, from the rows of ``cases_calls_query``."""
    linked: dict[int, list[tuple[datetime, str]]] = {}
    for row in rows:
        linked.setdefault(row.case_id, []).append((row.arrived_at, row.call_id))
    return {case_id: tuple(CallId(call) for _, call in sorted(calls)) for case_id, calls in linked.items()}


async def _load(connection: AsyncConnection, case_id: int, *, lock: bool = False) -> Case:
    query = select(*CASE_COLUMNS).where(CaseRow.id == case_id)
    if lock:
        query = query.with_for_update()
    row: Row[Any] | None = first_or_none(await connection.execute(query))
    if row is None:
        raise CaseNotFound(case_id)
    linked = await calls_of_cases(connection, [case_id])
    return case(row, linked.get(case_id, ()))


async def _check_calls(connection: AsyncConnection, call_ids: Sequence[str]) -> None:
    if not call_ids:
        return
    found = set(await connection.scalars(select(CallRow.call_id).where(CallRow.call_id.in_(list(call_ids)))))
    missing = [call for call in call_ids if call not in found]
    if missing:
        raise CallNotFound(missing[0])


async def _link_calls(connection: AsyncConnection, case_id: int, call_ids: Sequence[str]) -> None:
    if call_ids:
        await connection.execute(
            update(CallRow).where(CallRow.call_id.in_(list(call_ids))).values(case_id=case_id)
        )


async def _append(
    connection: AsyncConnection,
    case_id: int,
    at: datetime,
    author: str | None,
    kind: CaseEventKind,
    changes: tuple[FieldChange, ...],
    comment: str | None,
) -> CaseEvent:
    values = {
        "case_id": case_id,
        "at": at,
        "author": author,
        "kind": kind.value,
        "changes": changes_json(changes),
        "comment": comment,
    }
    event_id: int = (
        await connection.execute(insert(CaseEventRow).values(values).returning(CaseEventRow.id))
    ).scalar_one()
    return CaseEvent(
        id=event_id, case_id=case_id, at=at, author=author, kind=kind, changes=changes, comment=comment
    )
