"""``SqlOnCall``: the on-call tables (``oncall_*``): people and their contacts, schedules, rotations with
their turns, overrides, and the audit of every change.

Every write names ``who`` made it and writes one ``oncall_changes`` row in the same transaction, so the
audit holds exactly the changes that landed. The checks (people of the business, overlapping overrides,
a time zone that exists) run inside that transaction, before anything is written; ``crm_core.domain``
decides, this module reads and writes. Reading a schedule back builds the domain ``Schedule``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.domain import validation
from crm_core.domain.coverage import check_overrides
from crm_core.domain.oncall import (
    BusinessNotFound,
    Contact,
    OnCallChange,
    Override,
    OverrideNotFound,
    PatchMethod,
    Person,
    PersonNotFound,
    Rotation,
    Schedule,
    Tier,
    checked_contact,
    zone,
)
from crm_core.sql.database import Database
from crm_core.sql.oncall_reads import read_people, read_schedules
from crm_core.sql.orm_oncall import (
    OnCallChangeRow,
    OnCallContactRow,
    OnCallOverrideRow,
    OnCallPersonRow,
    OnCallRotationRow,
    OnCallScheduleRow,
    OnCallTurnRow,
)
from crm_core.sql.rows import built, field_names
from routing.ids import LineId

MAX_CHANGES = 1_000


class SqlOnCall:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- people ---------------------------------------------------------------------------------------
    async def add_person(
        self, business: LineId, name: str, patch: PatchMethod, contacts: Sequence[Contact], *, who: str
    ) -> Person:
        person = self._checked(
            Person(id=0, business=business, name=name, patch=patch, contacts=tuple(contacts))
        )
        now = self._db.clock()
        values = {
            "business": business,
            "name": person.name,
            "patch": str(patch),
            "created_at": now,
            "updated_at": now,
        }
        async with self._db.engine.begin() as connection:
            row = await connection.execute(
                insert(OnCallPersonRow).values(values).returning(OnCallPersonRow.id)
            )
            person = replace(person, id=row.scalar_one())
            await _write_contacts(connection, person)
            await _audit(
                connection, now, who, business, "person.created", str(person.id), _person_detail(person)
            )
        return person

    async def change_person(self, person: Person, *, who: str) -> Person:
        """``person`` (found by its id and business) takes the name, patch method and contacts given."""
        person = self._checked(person)
        now = self._db.clock()
        async with self._db.engine.begin() as connection:
            p = OnCallPersonRow
            changed = await connection.execute(
                update(p)
                .where(p.id == person.id, p.business == person.business)
                .values(name=person.name, patch=str(person.patch), updated_at=now)
            )
            if changed.rowcount != 1:
                raise PersonNotFound(person.business, person.id)
            await connection.execute(delete(OnCallContactRow).where(OnCallContactRow.person_id == person.id))
            await _write_contacts(connection, person)
            detail = _person_detail(person)
            await _audit(connection, now, who, person.business, "person.changed", str(person.id), detail)
        return person

    async def people(self, business: LineId) -> list[Person]:
        return await self._db.read(lambda sync: read_people(sync, business))

    async def person(self, business: LineId, person_id: int) -> Person:
        for person in await self.people(business):
            if person.id == person_id:
                return person
        raise PersonNotFound(business, person_id)

    def _checked(self, person: Person) -> Person:
        name = validation.text("name", person.name)
        contacts = tuple(checked_contact(c, self._db.region) for c in person.contacts)
        return replace(person, name=name, contacts=contacts)

    # --- the schedule ---------------------------------------------------------------------------------
    async def set_timezone(self, business: LineId, timezone: str, *, who: str) -> Schedule:
        """Creates the business's schedule, or moves it to another zone (its rotations keep their
        wall-clock hand-offs)."""
        zone(timezone)
        now = self._db.clock()
        s = OnCallScheduleRow
        async with self._db.engine.begin() as connection:
            changed = await connection.execute(
                update(s).where(s.business == business).values(timezone=timezone, updated_at=now)
            )
            if changed.rowcount == 0:
                await connection.execute(
                    insert(s).values(business=business, timezone=timezone, updated_at=now)
                )
            await _audit(connection, now, who, business, "schedule.set", business, {"timezone": timezone})
        return await self.schedule(business)

    async def set_rotation(self, business: LineId, rotation: Rotation, *, who: str) -> Schedule:
        """``rotation`` becomes its tier's, in place of any before it."""
        now = self._db.clock()
        r = OnCallRotationRow
        async with self._db.engine.begin() as connection:
            await _schedule_exists(connection, business, now)
            await _people_of(connection, business, rotation.people)
            await connection.execute(delete(r).where(r.business == business, r.tier == str(rotation.tier)))
            values = {
                "business": business,
                "tier": str(rotation.tier),
                "cadence": str(rotation.cadence),
                "handoff": rotation.handoff.isoformat(),
                "starts_on": rotation.starts_on,
                "ends_on": rotation.ends_on,
            }
            rotation_id = (await connection.execute(insert(r).values(values).returning(r.id))).scalar_one()
            turns = [
                {"rotation_id": rotation_id, "position": i, "person_id": p}
                for i, p in enumerate(rotation.people)
            ]
            await connection.execute(insert(OnCallTurnRow), turns)
            detail = {**_jsonable(values), "people": list(rotation.people)}
            await _audit(connection, now, who, business, "rotation.set", str(rotation.tier), detail)
        return await self.schedule(business)

    async def remove_rotation(self, business: LineId, tier: Tier, *, who: str) -> Schedule:
        now = self._db.clock()
        r = OnCallRotationRow
        async with self._db.engine.begin() as connection:
            await _schedule_exists(connection, business, now)
            # The turns go with it (ON DELETE CASCADE is not on by default on SQLite, so say it).
            ids = select(r.id).where(r.business == business, r.tier == str(tier)).scalar_subquery()
            await connection.execute(delete(OnCallTurnRow).where(OnCallTurnRow.rotation_id == ids))
            await connection.execute(delete(r).where(r.business == business, r.tier == str(tier)))
            await _audit(connection, now, who, business, "rotation.removed", str(tier), {})
        return await self.schedule(business)

    async def add_override(self, business: LineId, override: Override, *, who: str) -> Override:
        """``override`` (its id is ignored) stored with an id of its own; ``OverlappingOverrides`` when
        it shares a moment with another of its tier."""
        now = self._db.clock()
        async with self._db.engine.begin() as connection:
            await _schedule_exists(connection, business, now)
            await _fits(connection, business, override, ignoring=None)
            values = _override_values(override)
            o = OnCallOverrideRow
            new_id = (
                await connection.execute(insert(o).values(business=business, **values).returning(o.id))
            ).scalar_one()
            stored = _in_utc(replace(override, id=new_id))
            await _audit(connection, now, who, business, "override.created", str(new_id), _jsonable(values))
        return stored

    async def change_override(self, business: LineId, override: Override, *, who: str) -> Override:
        """The override with ``override.id`` takes the tier, person, window and reason given."""
        now = self._db.clock()
        o = OnCallOverrideRow
        async with self._db.engine.begin() as connection:
            await _schedule_exists(connection, business, now)
            await _fits(connection, business, override, ignoring=override.id)
            values = _override_values(override)
            changed = await connection.execute(
                update(o).where(o.id == override.id, o.business == business).values(**values)
            )
            if changed.rowcount != 1:
                raise OverrideNotFound(business, override.id)
            await _audit(
                connection, now, who, business, "override.changed", str(override.id), _jsonable(values)
            )
        return _in_utc(override)

    async def remove_override(self, business: LineId, override_id: int, *, who: str) -> None:
        now = self._db.clock()
        o = OnCallOverrideRow
        async with self._db.engine.begin() as connection:
            gone = await connection.execute(delete(o).where(o.id == override_id, o.business == business))
            if gone.rowcount != 1:
                raise OverrideNotFound(business, override_id)
            await _audit(connection, now, who, business, "override.removed", str(override_id), {})

    async def schedule(self, business: LineId, *, at: datetime | None = None) -> Schedule:
        """The business's schedule; ``BusinessNotFound`` when it has none. With ``at``, its overrides are
        only those in force at that instant: enough to ask who is on call then, and far less to read."""
        # One trip to a thread and back (Database.read), where aiosqlite hops for every row.
        found = await self._db.read(lambda sync: read_schedules(sync, business, at))
        if business not in found:
            raise BusinessNotFound(business)
        return found[business]

    async def schedules(self) -> dict[LineId, Schedule]:
        """Every business's schedule, in one read (the escalation's and the bench's)."""
        return await self._db.read(lambda sync: read_schedules(sync, None))

    async def changes(self, business: LineId, limit: int = 100) -> list[OnCallChange]:
        """The newest ``limit`` changes to the business's people and schedule, newest first."""
        validation.limit(limit, MAX_CHANGES)
        c = OnCallChangeRow
        columns = (getattr(c, name) for name in field_names(OnCallChange))
        query = select(*columns).where(c.business == business).order_by(c.at.desc(), c.id.desc()).limit(limit)
        async with self._db.reads.connect() as connection:
            return [
                built(OnCallChange, row, business=LineId(row.business))
                for row in await connection.execute(query)
            ]


async def _write_contacts(connection: AsyncConnection, person: Person) -> None:
    if person.contacts:
        rows = [{"person_id": person.id, "kind": str(c.kind), "value": c.value} for c in person.contacts]
        await connection.execute(insert(OnCallContactRow), rows)


async def _schedule_exists(connection: AsyncConnection, business: LineId, now: datetime) -> None:
    """``BusinessNotFound`` unless the business has a schedule, which is stamped as changed ``now``.

    The stamp is the lock: an UPDATE first in the transaction makes a second writer of the same schedule
    wait for the first to commit, on PostgreSQL (the row's lock) and on SQLite (the database's write
    lock, taken at the first write, where a SELECT takes none), so its overlap check sees the first's
    override. A check by SELECT alone let two overlapping overrides in at once on SQLite."""
    s = OnCallScheduleRow
    stamped = await connection.execute(update(s).where(s.business == business).values(updated_at=now))
    if stamped.rowcount != 1:
        raise BusinessNotFound(business)


async def _people_of(connection: AsyncConnection, business: LineId, people: Iterable[int]) -> None:
    """``PersonNotFound`` for the first of ``people`` who is not one of the business's people."""
    p = OnCallPersonRow
    wanted = set(people)
    rows = await connection.execute(select(p.id).where(p.business == business, p.id.in_(wanted)))
    missing = wanted - set(rows.scalars())
    if missing:
        raise PersonNotFound(business, min(missing))


async def _fits(
    connection: AsyncConnection, business: LineId, override: Override, ignoring: int | None
) -> None:
    """The override's person is the business's and it overlaps no other override of its tier."""
    await _people_of(connection, business, [override.person])
    o = OnCallOverrideRow
    query = select(o.id, o.person_id, o.starts_at, o.ends_at, o.reason).where(
        o.business == business,
        o.tier == str(override.tier),
        o.starts_at < override.ends_at,
        o.ends_at > override.starts_at,
    )
    if ignoring is not None:
        query = query.where(o.id != ignoring)
    near = [
        Override(id=r.id, tier=override.tier, person=r.person_id, starts_at=r.starts_at, ends_at=r.ends_at)
        for r in await connection.execute(query)
    ]
    check_overrides(override.tier, [*near, override])


def _in_utc(override: Override) -> Override:
    """As the store gives it back when read: its window in UTC."""
    return replace(
        override, starts_at=override.starts_at.astimezone(UTC), ends_at=override.ends_at.astimezone(UTC)
    )


def _override_values(override: Override) -> dict[str, object]:
    return {
        "tier": str(override.tier),
        "person_id": override.person,
        "starts_at": override.starts_at.astimezone(UTC),
        "ends_at": override.ends_at.astimezone(UTC),
        "reason": validation.storable("reason", override.reason, 1000),
    }


def _person_detail(person: Person) -> dict[str, object]:
    contacts = [{"kind": str(c.kind), "value": c.value} for c in person.contacts]
    return {"name": person.name, "patch": str(person.patch), "contacts": contacts}


def _jsonable(values: dict[str, Any]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, date | datetime | time) else v for k, v in values.items()}


async def _audit(
    connection: AsyncConnection,
    at: datetime,
    who: str,
    business: LineId,
    action: str,
    target: str,
    detail: dict[str, object],
) -> None:
    values = {
        "business": business,
        "at": at,
        "who": validation.text("who", who),
        "action": action,
        "target": target,
        "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
    }
    await connection.execute(insert(OnCallChangeRow).values(values))
