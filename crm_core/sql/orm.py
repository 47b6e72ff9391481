"""The tables, as SQLAlchemy 2 declarative rows. Only ``crm_core.sql`` and its migrations import this.

Row classes are separate from the domain dataclasses in ``model`` so the domain never sees SQLAlchemy.
Every string column is unbounded and every timestamp goes through ``UtcDateTime``, so SQLite and
PostgreSQL accept and return exactly the same values. Constraint and index names come from one naming
convention, so the hand-written migrations can name them and Alembic can compare them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from crm_core.sql.dialect import dialect_named

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, an aware UTC datetime out, on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so the value is stored as naive UTC text
    (which also sorts correctly) and given its zone back when read. Naive datetimes are refused: a
    timestamp without a zone is a bug waiting to shift by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}; the store keeps aware UTC timestamps only")
        return dialect_named(dialect.name).stored_instant(value.astimezone(UTC))

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TagList(TypeDecorator[tuple[str, ...]]):
    """A customer's tags as one JSON array in a text column: identical on both backends, read in the same
    query as the customer, and never searched by the store."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...] | None:
        return None if value is None else tuple(json.loads(value))


def Money() -> Numeric[Decimal]:
    """Exact decimal amounts with two places; below 10**12 they round-trip exactly on SQLite too."""
    return Numeric(14, 2, asdecimal=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String)
    company: Mapped[str | None] = mapped_column(String)
    email: Mapped[str | None] = mapped_column(String)
    tier: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    language: Mapped[str | None] = mapped_column(String)
    tags: Mapped[tuple[str, ...]] = mapped_column(TagList, server_default="[]")
    notes: Mapped[str | None] = mapped_column(String)
    # Unique but nullable: any number of customers may have none (both backends agree on that).
    external_id: Mapped[str | None] = mapped_column(String, index=True, unique=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # name, company and email case-folded by the store (see customers.search_text); what search matches.
    search_text: Mapped[str] = mapped_column(String, server_default="")

    # lazy="raise": under asyncio an accidental lazy load is an error, so loads must be explicit.
    phones: Mapped[list[PhoneNumberRow]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PhoneNumberRow.id",
        lazy="raise",
    )


class PhoneNumberRow(Base):
    __tablename__ = "phone_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Indexed too: selectinload fetches a customer's phones by customer_id on the screen-pop path.
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String, index=True)
    kind: Mapped[str] = mapped_column(String)

    customer: Mapped[CustomerRow] = relationship(back_populates="phones", lazy="raise")


class CallRow(Base):
    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String, primary_key=True)
    did: Mapped[str] = mapped_column(String)
    source: Mapped[str | None] = mapped_column(String)
    line_id: Mapped[str | None] = mapped_column(String)
    line_name: Mapped[str | None] = mapped_column(String)
    queue_id: Mapped[str | None] = mapped_column(String)
    caller_number: Mapped[str | None] = mapped_column(String, index=True)
    caller_name: Mapped[str | None] = mapped_column(String)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    agent_id: Mapped[str | None] = mapped_column(String, index=True)
    arrived_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    wait_s: Mapped[float] = mapped_column(Float)
    talk_s: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String)
    hung_up_by: Mapped[str] = mapped_column(String)
    offers: Mapped[int] = mapped_column(Integer)
    disposition: Mapped[str | None] = mapped_column(String)
    agent_notes: Mapped[str | None] = mapped_column(String)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    # Since 0003; the server defaults are what calls logged before it read as.
    priority: Mapped[int] = mapped_column(Integer, server_default="0")
    after_hours: Mapped[bool] = mapped_column(Boolean, server_default=false())
    on_call: Mapped[str | None] = mapped_column(String)  # who of the on-call chain took the call
    recording: Mapped[str | None] = mapped_column(String)  # the message left, for voicemail
    callback_of: Mapped[str | None] = mapped_column(String)  # for a callback: the call that asked for it
    # Since 0005: for one agent's stretch of a call they handed on, the call it was part of.
    part_of: Mapped[str | None] = mapped_column(String, index=True)
    # Since 0010: why the call ended, where nobody saw it end (routing.records.EndReason); else NULL.
    end_reason: Mapped[str | None] = mapped_column(String)
    # Since 0014: ``demo`` or ``training`` for a simulated caller's call (crm_core.domain.calls.Practice);
    # NULL for a real one. Reports and service levels count only the real ones.
    practice: Mapped[str | None] = mapped_column(String)


class AccountRow(Base):
    __tablename__ = "accounts"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    balance: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String)
    credit_limit: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String)
    last_payment_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OrderRow(Base):
    __tablename__ = "orders"
    # A customer's newest orders first is the only way orders are read.
    __table_args__ = (Index("ix_orders_customer_id", "customer_id", "ordered_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    ordered_on: Mapped[date] = mapped_column(Date)
    item: Mapped[str] = mapped_column(String)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money())
    special_price: Mapped[Decimal | None] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String)
    description: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String, index=True)
    priority: Mapped[str] = mapped_column(String)
    owner: Mapped[str | None] = mapped_column(String, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CaseEventRow(Base):
    """Append-only: the store inserts these rows and never deletes one; it updates one only to erase
    personal text when the customer is anonymised (``sql.cases.erase_case_texts``)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    author: Mapped[str | None] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    changes: Mapped[str | None] = mapped_column(String)  # JSON: [[field, old, new], ...]
    comment: Mapped[str | None] = mapped_column(String)


class UserRow(Base):
    """A person who signs in: the console's agents and supervisors, the API's people (``domain.users``)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String, index=True, unique=True)
    name: Mapped[str] = mapped_column(String)
    role: Mapped[str] = mapped_column(String)
    password_hash: Mapped[str] = mapped_column(String)  # argon2id, in its own encoded form
    agent_id: Mapped[str | None] = mapped_column(String)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgentStateRow(Base):
    """One interval an agent spent in one state (since 0005); ``ended_at`` is None while it runs."""

    __tablename__ = "agent_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String, index=True)
    state: Mapped[str] = mapped_column(String)
    reason: Mapped[str | None] = mapped_column(String)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SupervisorActionRow(Base):
    """One supervisor's order and how it ended (since 0006)."""

    __tablename__ = "supervisor_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    who: Mapped[str] = mapped_column(String)  # the supervisor's username
    action: Mapped[str] = mapped_column(String)  # e.g. not-ready, logged-out, listen
    target: Mapped[str] = mapped_column(String)  # the agent id (or call id)
    detail: Mapped[str | None] = mapped_column(String)  # e.g. the pause reason
    outcome: Mapped[str] = mapped_column(String)  # "done", or the error code the supervisor got


class JournalRow(Base):
    """One event the router handled, as the service's codec wrote it (since 0008)."""

    __tablename__ = "router_journal"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event: Mapped[str] = mapped_column(String)


class FenceRow(Base):
    """The newest leadership that started on this store, one row (since 0013): a journal write of an older
    one is refused (``SqlJournal``, several instances)."""

    __tablename__ = "router_fence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[int] = mapped_column(BigInteger)
    instance: Mapped[str] = mapped_column(String)
    raised_at: Mapped[float] = mapped_column(Float)


class SnapshotRow(Base):
    """The router's latest snapshot, one row (since 0008); the journal lines after its ``seq`` follow it."""

    __tablename__ = "router_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[int] = mapped_column(Integer)
    plan_key: Mapped[str] = mapped_column(String)
    taken_at: Mapped[float] = mapped_column(Float)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ConsoleSessionRow(Base):
    """A console's sign-in session (since 0009), by the SHA-256 of its id: the id itself is never stored."""

    __tablename__ = "console_sessions"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    username: Mapped[str] = mapped_column(String)
    started: Mapped[float] = mapped_column(Float)  # Unix seconds, as the console's clock gives them
    last_used: Mapped[float] = mapped_column(Float)


# The on-call schedules' rows live in their own module (this one had grown past 400 lines); importing it
# here registers them on ``Base.metadata`` wherever the rows are known.
from crm_core.sql import delivery_rows as _deliveries  # noqa: E402, F401  (likewise, since 0012)
from crm_core.sql import orm_escalations as _escalations  # noqa: E402, F401  (likewise, since 0015)
from crm_core.sql import orm_oncall as _oncall  # noqa: E402, F401
