"""On-call schedules of the answering service's businesses: the vocabulary, and its errors.

A business is an answering line (``LineId``): the doctor's office or the HVAC company whose phones the
service picks up after hours. It has people, each with contact methods and a patch method (how a caller
reaches them), and one schedule: a time zone, at most one rotation per tier and any number of overrides.
``rotations`` says whom a rotation puts on at a time; ``coverage`` answers "who is on call at T" and finds
overlapping overrides (an error) and gaps (a warning). Everything here is pure: times come in as aware
datetimes, nothing reads a clock.

    CrmError (crm_core.domain.errors)
    ├── InvalidInput ─ InvalidSchedule         a rotation, override or zone that cannot be (with the field)
    ├── NotFound ─ BusinessNotFound            a business with no schedule and no people
    │            ├── PersonNotFound            a person id that is not one of the business's people
    │            └── OverrideNotFound          an override id that is not the business's
    └── Conflict ─ OverlappingOverrides        two overrides of one tier share a moment
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_core.domain import validation
from crm_core.domain.errors import Conflict, InvalidInput, InvalidPhoneNumber, NotFound
from crm_core.domain.phones import to_e164
from routing.ids import LineId

MAX_ROTATION_PEOPLE = 100


class PatchMethod(enum.StrEnum):
    """How a caller reaches the person once they accept."""

    WARM = "warm"  # the agent calls the person, announces the caller, then connects
    COLD = "cold"  # the caller is connected directly
    MESSAGE_ONLY = "message-only"  # never patched: the message is delivered to them


class ContactKind(enum.StrEnum):
    PHONE = "phone"  # rung for a patch
    MOBILE = "mobile"  # rung, and texted (SMS)
    EMAIL = "email"


class Tier(enum.StrEnum):
    """Escalation order: the primary first, then the backup, then the manager."""

    PRIMARY = "primary"
    BACKUP = "backup"
    MANAGER = "manager"


class Cadence(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


SHIFT_DAYS = {Cadence.DAILY: 1, Cadence.WEEKLY: 7}


@dataclass(frozen=True, slots=True)
class Contact:
    kind: ContactKind
    value: str  # an E.164 number for phone and mobile, an address for email


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    id: int
    business: LineId
    name: str
    patch: PatchMethod
    contacts: tuple[Contact, ...] = ()

    def numbers(self) -> tuple[str, ...]:
        """The numbers to ring, in the order given."""
        return tuple(c.value for c in self.contacts if c.kind in (ContactKind.PHONE, ContactKind.MOBILE))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    """People taking turns in one tier: the first from ``starts_on`` at ``handoff`` (the business's wall
    clock), the next one shift later, round and round; nobody before ``starts_on`` or from ``ends_on``.

    A weekly rotation hands off on the weekday of ``starts_on``.
    """

    tier: Tier
    cadence: Cadence
    people: tuple[int, ...]
    starts_on: date
    handoff: time = time(9, 0)
    ends_on: date | None = None

    def __post_init__(self) -> None:
        if not self.people:
            raise InvalidSchedule("people", "a rotation needs at least one person")
        if len(self.people) > MAX_ROTATION_PEOPLE:
            raise InvalidSchedule("people", f"at most {MAX_ROTATION_PEOPLE} people in a rotation")
        if self.handoff.tzinfo is not None:
            raise InvalidSchedule("handoff", "a wall-clock time in the business's zone, without a zone")
        if self.ends_on is not None and self.ends_on <= self.starts_on:
            raise InvalidSchedule("ends_on", "must be after starts_on")


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """``person`` is on call in ``tier`` from ``starts_at`` up to (not including) ``ends_at``, whatever
    the rotation says: a swap, a vacation's replacement, "Dr. Jones covers Friday night"."""

    id: int
    tier: Tier
    person: int
    starts_at: datetime
    ends_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise InvalidSchedule("starts_at", "override times must carry a time zone")
        if self.ends_at <= self.starts_at:
            raise InvalidSchedule("ends_at", "must be after starts_at")

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    business: LineId
    timezone: str
    rotations: Mapping[Tier, Rotation] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        zone(self.timezone)
        for tier, rotation in self.rotations.items():
            if rotation.tier != tier:
                raise InvalidSchedule("rotations", f"the {rotation.tier} rotation filed under {tier}")

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def tiers(self) -> tuple[Tier, ...]:
        """The tiers this schedule staffs at some time, in escalation order."""
        used = set(self.rotations) | {o.tier for o in self.overrides}
        return tuple(t for t in Tier if t in used)

    def people(self) -> frozenset[int]:
        """Every person the schedule names."""
        named = {p for r in self.rotations.values() for p in r.people}
        return frozenset(named | {o.person for o in self.overrides})


@dataclass(frozen=True, slots=True, kw_only=True)
class OnCallChange:
    """One change to a business's people or schedule, as the audit keeps it."""

    at: datetime
    who: str
    business: LineId
    action: str  # person.created, person.changed, schedule.set, rotation.set, rotation.removed, override.*
    target: str  # the person's or override's id, the tier, or the business
    detail: str  # the values written (or removed), as JSON


def checked_contact(contact: Contact, region: str) -> Contact:
    """``contact`` with its number in E.164 (``region`` reads one without a country code), or its
    address checked; ``InvalidPhoneNumber`` or ``ValidationFailed`` names the field ``contacts``."""
    if contact.kind is ContactKind.EMAIL:
        address = validation.email(contact.value)
        if address is None:
            raise InvalidSchedule("contacts", "an email contact needs an address")
        return Contact(contact.kind, address)
    number = to_e164(contact.value, region)
    if number is None:
        raise InvalidPhoneNumber(contact.value, "contacts")
    return Contact(contact.kind, number)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``InvalidSchedule`` for one that does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidSchedule("timezone", f"not a time zone: {name[:80]!r}") from error


class InvalidSchedule(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class BusinessNotFound(NotFound):
    def __init__(self, business: str) -> None:
        super().__init__(f"no on-call schedule or people for business {business!r}")
        self.business = business


class PersonNotFound(NotFound):
    def __init__(self, business: str, person: int) -> None:
        super().__init__(f"business {business!r} has no person {person}")
        self.business = business
        self.person = person


class OverrideNotFound(NotFound):
    def __init__(self, business: str, override: int) -> None:
        super().__init__(f"business {business!r} has no override {override}")
        self.business = business
        self.override = override


class OverlappingOverrides(Conflict):
    def __init__(self, tier: Tier, first: Override, second: Override) -> None:
        super().__init__(
            f"{tier} overrides overlap: {first.id} ({first.starts_at.isoformat()} to "
            f"{first.ends_at.isoformat()}) and {second.id} ({second.starts_at.isoformat()} to "
            f"{second.ends_at.isoformat()})"
        )
        self.tier = tier
        self.first = first
        self.second = second
