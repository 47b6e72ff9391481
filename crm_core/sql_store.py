"""``SqlStore``: the customer directory and the call log on SQLite or PostgreSQL (SQLAlchemy asyncio).

Every query is built with SQLAlchemy expressions, so values always travel as bound parameters. The
store never migrates: whoever opens it runs ``crm_core.migrate`` first, once, at startup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import selectinload

from crm_core.engine import open_engine
from crm_core.errors import CustomerNotFound, InvalidPhoneKind, InvalidPhoneNumber
from crm_core.model import CustomerCard, LoggedCall, PhoneKind
from crm_core.orm import CallRow, CustomerRow, PhoneNumberRow
from crm_core.rows import call_columns, customer_card, logged_call
from routing.records import CallRecord
from switchboard.phone import to_e164


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlStore:
    """Implements ``CustomerDirectory`` and ``CallLog``.

    ``region`` (ISO 3166 alpha-2) is how numbers typed without a country code are read. ``clock`` stamps
    customers' ``updated_at``; tests pass their own.
    """

    def __init__(self, engine: AsyncEngine, region: str, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._region = region
        self._clock = clock

    @classmethod
    def open(cls, url: str, region: str) -> SqlStore:
        """A store on ``url``; the schema must already be migrated (``crm_core.migrate.upgrade``)."""
        return cls(open_engine(url), region)

    async def close(self) -> None:
        await self._engine.dispose()

    async def find_by_number(self, e164: str) -> CustomerCard | None:
        # Normalising again is idempotent on E.164 and forgives a caller id that arrived as dialled.
        number = to_e164(e164, self._region)
        if number is None:
            return None
        query = (
            select(CustomerRow)
            .join(PhoneNumberRow, PhoneNumberRow.customer_id == CustomerRow.id)
            .where(PhoneNumberRow.e164 == number)
            .order_by(CustomerRow.updated_at.desc(), CustomerRow.id.desc())
            .limit(1)
            .options(selectinload(CustomerRow.phones))
        )
        async with self._sessions() as session:
            row = (await session.scalars(query)).first()
            return None if row is None else customer_card(row)

    async def add_customer(
        self,
        name: str,
        phones: Sequence[tuple[str, str]],
        company: str | None = None,
        email: str | None = None,
        tier: str = "standard",
    ) -> CustomerCard:
        numbers = self._normalised(phones)
        now = self._clock()
        row = CustomerRow(
            name=name,
            company=company,
            email=email,
            tier=tier,
            created_at=now,
            updated_at=now,
            phones=[PhoneNumberRow(e164=e164, kind=kind.value) for e164, kind in numbers.items()],
        )
        async with self._sessions.begin() as session:
            session.add(row)
        return customer_card(row)

    def _normalised(self, phones: Sequence[tuple[str, str]]) -> dict[str, PhoneKind]:
        """E.164 -> kind, first kind winning for a number given twice; raises before anything is written."""
        numbers: dict[str, PhoneKind] = {}
        for raw, kind in phones:
            e164 = to_e164(raw, self._region)
            if e164 is None:
                raise InvalidPhoneNumber(raw)
            try:
                phone_kind = PhoneKind(kind)
            except ValueError:
                raise InvalidPhoneKind(kind) from None
            numbers.setdefault(e164, phone_kind)
        return numbers

    async def record(self, record: CallRecord, customer_id: int | None) -> None:
        columns = call_columns(LoggedCall.from_record(record, customer_id))
        async with self._sessions.begin() as session:
            if customer_id is not None:
                found = await session.scalar(select(CustomerRow.id).where(CustomerRow.id == customer_id))
                if found is None:
                    raise CustomerNotFound(customer_id)
            await session.execute(self._upsert_call(columns))

    def _upsert_call(self, columns: dict[str, object]) -> Insert:
        """INSERT ... ON CONFLICT (call_id) DO UPDATE: one statement, so two writers cannot race."""
        changed = [name for name in columns if name != "call_id"]
        if self._engine.dialect.name == "postgresql":
            pg = postgresql.insert(CallRow).values(columns)
            return pg.on_conflict_do_update(
                index_elements=[CallRow.call_id], set_={name: pg.excluded[name] for name in changed}
            )
        lite = sqlite.insert(CallRow).values(columns)
        return lite.on_conflict_do_update(
            index_elements=[CallRow.call_id], set_={name: lite.excluded[name] for name in changed}
        )

    async def recent_calls(self, limit: int = 50, customer_id: int | None = None) -> list[LoggedCall]:
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        query = select(CallRow).order_by(CallRow.arrived_at.desc(), CallRow.call_id.desc()).limit(limit)
        if customer_id is not None:
            query = query.where(CallRow.customer_id == customer_id)
        async with self._sessions() as session:
            return [logged_call(row) for row in await session.scalars(query)]

    async def get_call(self, call_id: str) -> LoggedCall | None:
        async with self._sessions() as session:
            row = await session.get(CallRow, call_id)
            return None if row is None else logged_call(row)
