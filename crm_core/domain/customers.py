"""Customers as the store keeps them, what a caller may ask to create or change, the checks on both, and
what an import of customers reports (``RejectedLine``, ``ImportSummary``).

A ``Profile`` is the validated, normalised form of a customer's own fields; ``CustomerDraft`` and
``CustomerChanges`` are what callers hand in (phones as typed), ``Customer`` is what they get back.
``CustomerChanges`` leaves every field it does not mention as it is (``KEEP``), so an HTTP PATCH maps onto
it directly, and ``None`` means "erase" for the optional fields. ``KEEP`` is defined here, with the first
change set, and the others (``AccountChanges``, ``CaseChanges``, ``WrapUp``) take it from here.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from crm_core.domain import validation
from crm_core.domain.errors import ValidationFailed
from crm_core.domain.phones import PhoneKind, PhoneNumber, phone_numbers

MAX_TAGS = 50
TAG_LENGTH = 100
TAG_SEPARATOR = ";"  # tags are written joined by it in CSV files, so no tag may contain it


class Keep(enum.Enum):
    """The marker for "leave this field as it is" in a change set."""

    KEEP = "keep"


KEEP = Keep.KEEP
RawPhones = Sequence[tuple[str, str | PhoneKind]]  # (number as typed, kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A customer's own fields, validated and normalised; what a write stores."""

    name: str
    company: str | None = None
    email: str | None = None
    language: str | None = None
    tier: str = "standard"
    tags: tuple[str, ...] = ()
    notes: str | None = None
    external_id: str | None = None
    phones: tuple[PhoneNumber, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerDraft:
    name: str
    phones: RawPhones = ()
    company: str | None = None
    email: str | None = None
    language: str | None = None
    tier: str = "standard"
    tags: Sequence[str] = ()
    notes: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerChanges:
    name: str | Keep = KEEP
    phones: RawPhones | Keep = KEEP  # replaces the whole list
    company: str | Keep | None = KEEP
    email: str | Keep | None = KEEP
    language: str | Keep | None = KEEP
    tier: str | Keep = KEEP
    tags: Sequence[str] | Keep = KEEP  # replaces the whole list
    notes: str | Keep | None = KEEP
    external_id: str | Keep | None = KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    id: int
    name: str
    company: str | None
    email: str | None
    language: str | None
    tier: str
    tags: tuple[str, ...]
    notes: str | None
    external_id: str | None
    phones: tuple[PhoneNumber, ...]
    created_at: datetime
    updated_at: datetime
    anonymised_at: datetime | None = None

    @classmethod
    def of(
        cls,
        id: int,
        profile: Profile,
        created_at: datetime,
        updated_at: datetime,
        anonymised_at: datetime | None = None,
    ) -> Customer:
        return cls(
            id=id,
            name=profile.name,
            company=profile.company,
            email=profile.email,
            language=profile.language,
            tier=profile.tier,
            tags=profile.tags,
            notes=profile.notes,
            external_id=profile.external_id,
            phones=profile.phones,
            created_at=created_at,
            updated_at=updated_at,
            anonymised_at=anonymised_at,
        )

    @property
    def profile(self) -> Profile:
        return Profile(
            name=self.name,
            company=self.company,
            email=self.email,
            language=self.language,
            tier=self.tier,
            tags=self.tags,
            notes=self.notes,
            external_id=self.external_id,
            phones=self.phones,
        )


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    field: str | None  # None: the line as a whole (wrong number of fields, no key, ambiguous match)
    reason: str


class RowOutcome(enum.StrEnum):
    """What an import did, or a dry run would do, with a row it did not reject."""

    ADD = "add"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class ImportSummary:
    inserted: int = 0
    updated: int = 0  # rows that changed a stored customer
    unchanged: int = 0  # rows that matched a stored customer and said nothing new
    rejected: int = 0

    @property
    def lines(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.rejected


def checked_profile(draft: CustomerDraft, region: str) -> Profile:
    """``draft`` validated and normalised; raises ``ValidationFailed`` or a phone error at the first fault."""
    return profile_of(draft.name, draft.phones, draft.company, draft.email, draft.language, draft.tier,
                      draft.tags, draft.notes, draft.external_id, region)  # fmt: skip


def profile_of(
    name: str,
    phones: RawPhones,
    company: str | None,
    email: str | None,
    language: str | None,
    tier: str,
    tags: Sequence[str],
    notes: str | None,
    external_id: str | None,
    region: str,
) -> Profile:
    """``checked_profile`` of the fields themselves, for callers that have them loose (a CSV import
    builds no ``CustomerDraft`` per row: at a million rows, that object alone costs seconds)."""
    return Profile(
        name=validation.text("name", name),
        company=validation.optional_text("company", company),
        email=validation.email(email),
        language=validation.language(language),
        tier=validation.text("tier", tier, 100),
        tags=checked_tags(tags),
        notes=validation.optional_text("notes", notes, validation.LONG_TEXT),
        external_id=validation.optional_text("external_id", external_id, 200),
        phones=phone_numbers(phones, region),
    )


def changed_profile(current: Profile, changes: CustomerChanges, region: str) -> Profile:
    """``current`` with ``changes`` applied and the changed fields checked as ``checked_profile`` would."""
    draft = CustomerDraft(
        name=current.name if changes.name is KEEP else changes.name,
        company=current.company if changes.company is KEEP else changes.company,
        email=current.email if changes.email is KEEP else changes.email,
        language=current.language if changes.language is KEEP else changes.language,
        tier=current.tier if changes.tier is KEEP else changes.tier,
        tags=current.tags if changes.tags is KEEP else changes.tags,
        notes=current.notes if changes.notes is KEEP else changes.notes,
        external_id=current.external_id if changes.external_id is KEEP else changes.external_id,
    )
    checked = checked_profile(draft, region)
    if changes.phones is KEEP:
        return replace(checked, phones=current.phones)
    return replace(checked, phones=phone_numbers(changes.phones, region))


def checked_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Stripped, blanks dropped, duplicates kept once in first-seen order."""
    if isinstance(tags, str):
        raise ValidationFailed("tags", "must be a list of tags, not one string")
    kept: dict[str, None] = {}
    for tag in tags:
        checked = validation.optional_text("tags", tag, TAG_LENGTH)
        if checked is None:
            continue
        if TAG_SEPARATOR in checked:
            raise ValidationFailed("tags", f"a tag must not contain {TAG_SEPARATOR!r}")
        kept[checked] = None
    if len(kept) > MAX_TAGS:
        raise ValidationFailed("tags", f"more than {MAX_TAGS} tags")
    return tuple(kept)


def anonymised_name(customer_id: int) -> str:
    return f"anonymised #{customer_id}"


def search_text(name: str, company: str | None, email: str | None) -> str:
    """What a name/company/email search matches against: case-folded in Python, so SQLite (whose LOWER
    knows only ASCII) and PostgreSQL find exactly the same customers."""
    return "\n".join(part.casefold() for part in (name, company, email) if part)
