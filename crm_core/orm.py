"""The tables, as SQLAlchemy 2 declarative rows. Only ``sql_store`` and the migrations import this.

Row classes are separate from the domain dataclasses in ``model`` so the domain never sees SQLAlchemy.
Every string column is unbounded and every timestamp goes through ``UtcDateTime``, so SQLite and
PostgreSQL accept and return exactly the same values. Constraint and index names come from one naming
convention, so the hand-written migrations can name them and Alembic can compare them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, Float, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

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
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
