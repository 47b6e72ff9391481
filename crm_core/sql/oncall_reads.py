"""Reading the on-call tables back into domain values, in one trip of a synchronous connection.

``read_schedules`` reads one business's schedule, or every business's at once (four queries, however many
businesses): the rotations with their turns in order and the overrides, grouped by business.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, bindparam, select

from crm_core.domain.oncall import (
    Cadence,
    Contact,
    ContactKind,
    Override,
    PatchMethod,
    Person,
    Rotation,
    Schedule,
    Tier,
)
from crm_core.sql.orm_oncall import (
    OnCallContactRow,
    OnCallOverrideRow,
    OnCallPersonRow,
    OnCallRotationRow,
    OnCallScheduleRow,
    OnCallTurnRow,
)
from routing.ids import LineId


def read_people(connection: Connection, business: LineId) -> list[Person]:
    p, c = OnCallPersonRow, OnCallContactRow
    people = connection.execute(
        select(p.id, p.name, p.patch).where(p.business == business).order_by(p.id)
    ).all()
    contacts: dict[int, list[Contact]] = defaultdict(list)
    query = select(c.person_id, c.kind, c.value).join(p, p.id == c.person_id).where(p.business == business)
    for row in connection.execute(query.order_by(c.id)):
        contacts[row.person_id].append(Contact(ContactKind(row.kind), row.value))
    return [
        Person(
            id=r.id,
            business=business,
            name=r.name,
            patch=PatchMethod(r.patch),
            contacts=tuple(contacts[r.id]),
        )
        for r in people
    ]


def _statements(one: bool, at: bool) -> tuple[Select[Any], ...]:
    """The four reads of ``read_schedules``: of one business or all, with the overrides of an instant or
    all. Built once: building them per call cost more than running them (bench/oncall.py)."""
    s, r, t, o = OnCallScheduleRow, OnCallRotationRow, OnCallTurnRow, OnCallOverrideRow
    zones = select(s.business, s.timezone)
    rotations = select(r.id, r.business, r.tier, r.cadence, r.handoff, r.starts_on, r.ends_on)
    turns = (
        select(t.rotation_id, t.person_id).join(r, r.id == t.rotation_id).order_by(t.rotation_id, t.position)
    )
    overrides = select(o.id, o.business, o.tier, o.person_id, o.starts_at, o.ends_at, o.reason).order_by(
        o.starts_at
    )
    if one:
        business: BindParameter[str] = bindparam("business")
        zones, rotations = zones.where(s.business == business), rotations.where(r.business == business)
        turns, overrides = turns.where(r.business == business), overrides.where(o.business == business)
    if at:
        overrides = overrides.where(o.starts_at <= bindparam("at"), o.ends_at > bindparam("at"))
    return zones, rotations, turns, overrides


STATEMENTS = {(one, at): _statements(one, at) for one in (False, True) for at in (False, True)}


def read_schedules(
    connection: Connection, business: LineId | None, at: datetime | None = None
) -> dict[LineId, Schedule]:
    """``business``'s schedule (absent when it has none), or every business's for None; with ``at``,
    only the overrides in force at that instant (all that "who is on call at T" needs of a year of them)."""
    zones, rotations, turns, overrides = STATEMENTS[business is not None, at is not None]
    params = {"business": business, "at": at}
    people: dict[int, list[int]] = defaultdict(list)
    for turn in connection.execute(turns, params):
        people[turn.rotation_id].append(turn.person_id)
    by_business: dict[str, dict[Tier, Rotation]] = defaultdict(dict)
    for row in connection.execute(rotations, params):
        tier = Tier(row.tier)
        by_business[row.business][tier] = Rotation(
            tier=tier,
            cadence=Cadence(row.cadence),
            people=tuple(people[row.id]),
            starts_on=row.starts_on,
            handoff=time.fromisoformat(row.handoff),
            ends_on=row.ends_on,
        )
    found: dict[str, list[Override]] = defaultdict(list)
    for over in connection.execute(overrides, params):
        found[over.business].append(
            Override(
                id=over.id,
                tier=Tier(over.tier),
                person=over.person_id,
                starts_at=over.starts_at,
                ends_at=over.ends_at,
                reason=over.reason,
            )
        )
    return {
        LineId(b): Schedule(
            business=LineId(b), timezone=zone, rotations=by_business[b], overrides=tuple(found[b])
        )
        for b, zone in connection.execute(zones, params)
    }
