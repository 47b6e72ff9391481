"""Cases (tickets): what a customer needs done, who owns it, and an append-only history of every change.

The status lifecycle is the table ``TRANSITIONS``; a change it does not list raises
``IllegalCaseTransition`` and changes nothing. A closed case takes no change but reopening (status
open); comments are always welcome. ``planned_changes`` is the pure decision; the store writes what it
returns, together with one history event, in one transaction.

    open ⇄ pending ⇄ escalated ⇄ open     (every active status may go to any other active one)
    open | pending | escalated → closed   (closing stamps closed_at)
    closed → open                         (reopening clears closed_at)
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from crm_core.domain import validation
from crm_core.domain.customers import KEEP, Keep
from crm_core.domain.errors import CaseClosed, IllegalCaseTransition, ValidationFailed
from routing.ids import CallId


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"  # waiting for the customer or a third party
    ESCALATED = "escalated"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.PENDING, CaseStatus.ESCALATED, CaseStatus.CLOSED}),
    CaseStatus.PENDING: frozenset({CaseStatus.OPEN, CaseStatus.ESCALATED, CaseStatus.CLOSED}),
    CaseStatus.ESCALATED: frozenset({CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN}),
}


class CaseEventKind(enum.StrEnum):
    OPENED = "opened"
    CHANGED = "changed"
    COMMENTED = "commented"
    CALL_LINKED = "call-linked"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCase:
    customer_id: int
    subject: str
    description: str = ""
    priority: Priority = Priority.NORMAL
    owner: str | None = None  # an agent id, or a team
    due_at: datetime | None = None
    calls: Sequence[str] = ()  # the call(s) the case came from


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseChanges:
    subject: str | Keep = KEEP
    description: str | Keep = KEEP
    status: CaseStatus | Keep = KEEP
    priority: Priority | Keep = KEEP
    owner: str | Keep | None = KEEP
    due_at: datetime | Keep | None = KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    id: int
    customer_id: int
    subject: str
    description: str
    status: CaseStatus
    priority: Priority
    owner: str | None
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    calls: tuple[CallId, ...] = ()  # the calls linked to it, oldest first


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: str | None  # as text: the history outlives the types
    new: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseEvent:
    id: int
    case_id: int
    at: datetime
    author: str | None
    kind: CaseEventKind
    changes: tuple[FieldChange, ...] = ()
    comment: str | None = None


ERASED = "[erased]"
# The case fields whose text a customer may have dictated; anonymising replaces them with ERASED.
PERSONAL_FIELDS = frozenset({"subject", "description"})


def erased_changes(changes: tuple[FieldChange, ...]) -> tuple[FieldChange, ...]:
    """The history entries with every personal text replaced, so old subjects do not survive in the log.

    A value that was empty stays empty: erasing must not invent text that never existed.
    """
    return tuple(
        FieldChange(c.field, c.old and ERASED, c.new and ERASED) if c.field in PERSONAL_FIELDS else c
        for c in changes
    )


def checked_new_case(case: NewCase) -> NewCase:
    return NewCase(
        customer_id=case.customer_id,
        subject=validation.text("subject", case.subject),
        description=validation.optional_text("description", case.description, validation.LONG_TEXT) or "",
        priority=_priority(case.priority),
        owner=validation.optional_text("owner", case.owner),
        due_at=validation.aware("due_at", case.due_at),
        calls=tuple(dict.fromkeys(validation.text("calls", call) for call in case.calls)),
    )


def checked_comment(comment: str) -> str:
    return validation.text("comment", comment, validation.LONG_TEXT)


def checked_author(author: str | None) -> str | None:
    return validation.optional_text("author", author)


@dataclass(frozen=True, slots=True)
class CasePlan:
    """What a change set really changes: checked new values by field, and the same as history entries."""

    values: dict[str, object]
    diff: tuple[FieldChange, ...]


def planned_changes(case: Case, changes: CaseChanges) -> CasePlan:
    """The fields ``changes`` really changes on ``case``, checked against the lifecycle table.

    Values equal to the current ones are dropped, so an empty plan means "nothing to write".
    """
    wanted: dict[str, object] = {}
    if changes.subject is not KEEP:
        wanted["subject"] = validation.text("subject", changes.subject)
    if changes.description is not KEEP:
        checked = validation.optional_text("description", changes.description, validation.LONG_TEXT)
        wanted["description"] = checked or ""
    if changes.status is not KEEP:
        wanted["status"] = _status(changes.status)
    if changes.priority is not KEEP:
        wanted["priority"] = _priority(changes.priority)
    if changes.owner is not KEEP:
        wanted["owner"] = validation.optional_text("owner", changes.owner)
    if changes.due_at is not KEEP:
        wanted["due_at"] = validation.aware("due_at", changes.due_at)
    values = {field: value for field, value in wanted.items() if getattr(case, field) != value}
    diff = tuple(
        FieldChange(field, _text(getattr(case, field)), _text(value)) for field, value in values.items()
    )
    _check_lifecycle(case, diff)
    return CasePlan(values, diff)


def _check_lifecycle(case: Case, diff: tuple[FieldChange, ...]) -> None:
    status = next((change.new for change in diff if change.field == "status"), None)
    if status is not None and CaseStatus(status) not in TRANSITIONS[case.status]:
        raise IllegalCaseTransition(case.id, case.status.value, status)
    if case.status is CaseStatus.CLOSED and diff and status is None:
        raise CaseClosed(case.id)


def _status(value: CaseStatus | str) -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError:
        raise ValidationFailed("status", "must be open, pending, escalated or closed") from None


def _priority(value: Priority | str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise ValidationFailed("priority", "must be low, normal, high or urgent") from None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
