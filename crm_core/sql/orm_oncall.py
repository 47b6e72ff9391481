"""The on-call schedules' rows (since 0011): people of a business, their contacts, schedules, rotations,
turns, overrides and the audit of every change. Split from ``crm_core.sql.orm``, which imports this module
so that the rows are on ``Base.metadata`` wherever it is."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.sql.orm import Base, UtcDateTime


class OnCallPersonRow(Base):
    """One person of a business's on-call schedule (since 0011); the business is an answering line id."""

    __tablename__ = "oncall_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business: Mapped[str] = mapped_column(String, index=True)
    name: Mapped[str] = mapped_column(String)
    patch: Mapped[str] = mapped_column(String)  # crm_core.domain.oncall.PatchMethod
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OnCallContactRow(Base):
    """A way to reach an on-call person (since 0011), in the order given (by id)."""

    __tablename__ = "oncall_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("oncall_people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String)  # crm_core.domain.oncall.ContactKind
    value: Mapped[str] = mapped_column(String)


class OnCallScheduleRow(Base):
    """A business's schedule (since 0011): its time zone; the rotations and overrides name the business."""

    __tablename__ = "oncall_schedules"

    business: Mapped[str] = mapped_column(String, primary_key=True)
    timezone: Mapped[str] = mapped_column(String)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OnCallRotationRow(Base):
    """A tier's rotation (since 0011), at most one per business and tier; its people in ``oncall_turns``."""

    __tablename__ = "oncall_rotations"
    # A unique index rather than a constraint: both backends then list it alike.
    __table_args__ = (Index("ix_oncall_rotations_business", "business", "tier", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business: Mapped[str] = mapped_column(ForeignKey("oncall_schedules.business", ondelete="CASCADE"))
    tier: Mapped[str] = mapped_column(String)
    cadence: Mapped[str] = mapped_column(String)
    handoff: Mapped[str] = mapped_column(String)  # HH:MM:SS on the business's wall clock
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class OnCallTurnRow(Base):
    """One place in a rotation's order (since 0011): ``position`` 0 takes the first shift."""

    __tablename__ = "oncall_turns"

    rotation_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_rotations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # RESTRICT: a person still taking turns cannot vanish from under the rotation.
    person_id: Mapped[int] = mapped_column(ForeignKey("oncall_people.id", ondelete="RESTRICT"), index=True)


class OnCallOverrideRow(Base):
    """Someone on call in a tier for a window, whatever the rotation says (since 0011)."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_business", "business", "tier", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business: Mapped[str] = mapped_column(ForeignKey("oncall_schedules.business", ondelete="CASCADE"))
    tier: Mapped[str] = mapped_column(String)
    person_id: Mapped[int] = mapped_column(ForeignKey("oncall_people.id", ondelete="RESTRICT"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(String, server_default="")


class OnCallChangeRow(Base):
    """The audit of on-call changes (since 0011): who changed what of which business, and when."""

    __tablename__ = "oncall_changes"
    __table_args__ = (Index("ix_oncall_changes_business", "business", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business: Mapped[str] = mapped_column(String)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    who: Mapped[str] = mapped_column(String)  # the username, or "token" for a bearer token
    action: Mapped[str] = mapped_column(String)  # e.g. person.created, override.removed
    target: Mapped[str] = mapped_column(String)  # what it acted on: a person, a tier, an override id
    detail: Mapped[str] = mapped_column(String)  # the values written (or removed), as JSON
