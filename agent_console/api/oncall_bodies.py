"""The on-call API's bodies and views: JSON in, ``crm_core.domain.oncall`` values out, and back.

Types and field names are checked here; what the values may be (a zone that exists, a window that ends
after it starts, numbers that are numbers) is the domain's and the store's to say.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from agent_console.api.errors import invalid
from agent_console.api.fields import Fields
from crm_core.domain.coverage import Gap
from crm_core.domain.oncall import (
    Cadence,
    Contact,
    ContactKind,
    OnCallChange,
    Override,
    PatchMethod,
    Person,
    Rotation,
    Schedule,
    Tier,
)

Json = dict[str, Any]
E = TypeVar("E", bound=StrEnum)
CONTACT_FIELDS = frozenset({"kind", "value"})


def member(kind: type[E], field: str, value: str) -> E:
    try:
        return kind(value)
    except ValueError:
        *most, last = (m.value for m in kind)
        raise invalid(field, f"must be {', '.join(most)} or {last}") from None


def new_person(body: Fields) -> tuple[str, PatchMethod, list[Contact]]:
    found = body.text("name"), member(PatchMethod, "patch", body.text("patch", "warm")), _contacts(body) or []
    body.done()
    return found


def person_changes(body: Fields, current: Person) -> Person:
    contacts = _contacts(body)
    changed = replace(
        current,
        name=body.text("name", current.name),
        patch=member(PatchMethod, "patch", body.text("patch", current.patch.value)),
        contacts=current.contacts if contacts is None else tuple(contacts),
    )
    body.done()
    return changed


def _contacts(body: Fields) -> list[Contact] | None:
    """``[{"kind": "mobile", "value": "(415) 555-0123"}, ...]``: phone, mobile or email."""
    if "contacts" not in body:
        return None
    items = body.required("contacts")
    if not isinstance(items, list):
        raise invalid("contacts", "must be a list of {kind, value} objects")
    found = []
    for item in items:
        if (
            not isinstance(item, dict)
            or set(item) != CONTACT_FIELDS
            or not all(isinstance(v, str) for v in item.values())
        ):
            raise invalid("contacts", "each contact is an object with a kind and a value, both strings")
        found.append(Contact(member(ContactKind, "contacts", item["kind"]), item["value"]))
    return found


def timezone(body: Fields) -> str:
    name = body.text("timezone")
    body.done()
    return name


def rotation(body: Fields, tier: Tier) -> Rotation:
    people = body.required("people")
    if not isinstance(people, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) for p in people
    ):
        raise invalid("people", "must be a list of person ids")
    found = Rotation(
        tier=tier,
        cadence=member(Cadence, "cadence", body.text("cadence")),
        people=tuple(people),
        starts_on=body.day("starts_on"),
        handoff=_handoff(body.text("handoff", "09:00")),
        ends_on=body.optional_day("ends_on"),
    )
    body.done()
    return found


def _handoff(raw: str) -> time:
    if len(raw) != 5 or raw[2] != ":":
        raise invalid("handoff", "must be a wall-clock time as HH:MM")
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise invalid("handoff", "must be a wall-clock time as HH:MM") from None


def new_override(body: Fields) -> Override:
    found = Override(
        id=0,
        tier=member(Tier, "tier", body.text("tier")),
        person=body.integer("person"),
        starts_at=_instant(body, "starts_at"),
        ends_at=_instant(body, "ends_at"),
        reason=body.text("reason", ""),
    )
    body.done()
    return found


def override_changes(body: Fields, current: Override) -> Override:
    """``current`` with the fields ``body`` gives."""
    found = replace(
        current,
        tier=member(Tier, "tier", body.text("tier", current.tier.value)),
        person=body.integer("person") if "person" in body else current.person,
        starts_at=_instant(body, "starts_at") if "starts_at" in body else current.starts_at,
        ends_at=_instant(body, "ends_at") if "ends_at" in body else current.ends_at,
        reason=body.text("reason", current.reason),
    )
    body.done()
    return found


def _instant(body: Fields, name: str) -> datetime:
    value = body.instant(name)
    if value is None:
        raise invalid(name, "is required")
    return value


# --- views ------------------------------------------------------------------------------------------
def person(p: Person) -> Json:
    contacts = [{"kind": c.kind.value, "value": c.value} for c in p.contacts]
    return {"id": p.id, "business": p.business, "name": p.name, "patch": p.patch.value, "contacts": contacts}


def rotation_view(r: Rotation) -> Json:
    return {
        "tier": r.tier.value, "cadence": r.cadence.value, "people": list(r.people),
        "starts_on": r.starts_on.isoformat(), "handoff": r.handoff.strftime("%H:%M"),
        "ends_on": None if r.ends_on is None else r.ends_on.isoformat(),
    }  # fmt: skip


def override(o: Override) -> Json:
    return {
        "id": o.id, "tier": o.tier.value, "person": o.person, "starts_at": o.starts_at.isoformat(),
        "ends_at": o.ends_at.isoformat(), "reason": o.reason,
    }  # fmt: skip


def schedule(s: Schedule) -> Json:
    return {
        "business": s.business,
        "timezone": s.timezone,
        "rotations": [rotation_view(s.rotations[t]) for t in Tier if t in s.rotations],
        "overrides": [override(o) for o in sorted(s.overrides, key=lambda o: o.starts_at)],
    }


def gap(g: Gap, zone: ZoneInfo) -> Json:
    return {
        "tier": g.tier.value, "starts_at": g.starts_at.isoformat(), "ends_at": g.ends_at.isoformat(),
        "warning": g.describe(zone),
    }  # fmt: skip


def change(c: OnCallChange) -> Json:
    return {"at": c.at.isoformat(), "who": c.who, "action": c.action, "target": c.target, "detail": c.detail}
