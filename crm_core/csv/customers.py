"""The customer CSV format that ``import`` reads and ``export`` writes. Pure: text in, domain values out.

Columns (the header line names them; any order; only ``name`` is required, a missing column reads as
empty in every row):

    external_id        the business's own id; the upsert key when present
    name               required
    company, email, language, tier (default "standard"), notes
    tags               semicolon-separated:  vip;wholesale
    phones             semicolon-separated ``kind:number`` pairs or bare numbers (kind "other"):
                       mobile:+14155550123;office:(415) 555-0199;+442079460018
                       kind is mobile, office, home or other; numbers in any format (default region)
    balance, currency, credit_limit, account_status, last_payment_date
                       the account; all empty: the row says nothing about the account. Otherwise
                       currency is required, balance and credit_limit default to 0.00 (plain decimals,
                       at most two places: -12.50), account_status to ok (ok, overdue, on-hold),
                       last_payment_date is YYYY-MM-DD or empty.

A row is matched to a stored customer by ``external_id`` when it has one, else by its phone numbers; a
row with neither is rejected, since re-importing it could only ever add a duplicate. Line numbers are
1-based with the header as line 1; a record with a quoted line break is reported at its first line.

Cells that would start a spreadsheet formula are written with a single quote in front and read back
without it (``crm_core.domain.spreadsheet_cells``): a cell of quotes and then ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return loses exactly one quote on import.

``parse_records`` is what the store's import runs per chunk of records, in a worker process or a thread:
it hands back ``PackedRow``s, the validated rows as plain tuples in the store's column order. A tuple
pickles in a tenth of the time of the ``Profile`` and ``Account`` dataclasses, and the store writes and
compares it as it is, so the process that writes does no per-field work of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple, overload

from crm_core.csv.remapping import Remapping, remap
from crm_core.domain import validation
from crm_core.domain.accounts import Account, AccountStatus
from crm_core.domain.customers import TAG_SEPARATOR, Profile, RejectedLine, profile_of, search_text
from crm_core.domain.errors import (
    InvalidCsvHeader,
    InvalidInput,
    InvalidPhoneKind,
    InvalidPhoneNumber,
    ValidationFailed,
)
from crm_core.domain.phones import PhoneKind
from crm_core.domain.spreadsheet_cells import restored

COLUMNS = (
    "external_id",
    "name",
    "company",
    "email",
    "language",
    "tier",
    "tags",
    "notes",
    "phones",
    "balance",
    "currency",
    "credit_limit",
    "account_status",
    "last_payment_date",
)
REQUIRED = ("name",)
_STATUSES = frozenset(status.value for status in AccountStatus)
ACCOUNT_COLUMNS = ("balance", "currency", "credit_limit", "account_status", "last_payment_date")
PHONE_SEPARATOR = ";"
KIND_SEPARATOR = ":"


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    profile: Profile
    account: Account | None  # None: leave the stored account as it is


# A customer's columns as the store writes them, in this order (the external id aside, since it is a
# match key): the ``Profile`` fields but the phones, then the search text derived from them.
CUSTOMER_FIELDS = ("name", "company", "email", "language", "tier", "tags", "notes", "search_text")
ACCOUNT_FIELDS = ("balance", "currency", "credit_limit", "status", "last_payment_on")  # ``Account``'s
CustomerValues = tuple[str, str | None, str | None, str | None, str, tuple[str, ...], str | None, str]
# The account as an import file writes it: ("120.50", "USD", "500.00", "on-hold", "2026-01-15" or None).
# Text pickles several times faster than Decimal and date, and it is what SQLite is sent anyway.
AccountValues = tuple[str, str, str, str, str | None]


class PackedRow(NamedTuple):
    """An ``ImportRow`` as plain values (see ``pack``): what crosses from the validating process and
    what the store writes and compares. Two packed rows are equal exactly when their rows are."""

    line: int
    external_id: str | None
    customer: CustomerValues  # ``CUSTOMER_FIELDS`` order
    phones: tuple[tuple[str, str], ...]  # (E.164, kind), in the row's order
    account: AccountValues | None  # ``ACCOUNT_FIELDS`` order; None: leave the stored account as it is

    @property
    def name(self) -> str:
        return self.customer[0]

    def same_profile(self, other: PackedRow) -> bool:
        """The customer's own fields and numbers are the same (the line and the account aside)."""
        return (self.external_id, self.customer, self.phones) == (
            other.external_id,
            other.customer,
            other.phones,
        )


def pack(line: int, profile: Profile, account: Account | None) -> PackedRow:
    """``profile`` and ``account`` as a ``PackedRow``: for a parsed record and for a stored customer alike,
    so comparing two packed rows compares what the dataclasses hold."""
    customer: CustomerValues = (
        profile.name, profile.company, profile.email, profile.language, profile.tier, profile.tags,
        profile.notes, search_text(profile.name, profile.company, profile.email),
    )  # fmt: skip
    phones = tuple((phone.e164, phone.kind.value) for phone in profile.phones)
    money = None if account is None else account_values(account)
    return PackedRow(line, profile.external_id, customer, phones, money)


def account_values(account: Account) -> AccountValues:
    return account_text(account.balance, account.currency, account.credit_limit, account.status.value,
                        account.last_payment_on)  # fmt: skip


def account_text(
    balance: Decimal, currency: str, credit_limit: Decimal, status: str, last_payment_on: date | None
) -> AccountValues:
    paid = None if last_payment_on is None else last_payment_on.isoformat()
    return money_text(balance), currency, money_text(credit_limit), status, paid


def money_text(value: Decimal) -> str:
    """Two places, zero without a sign: Decimal("-0.00") equals zero, so its text must too."""
    return f"{value + 0:.2f}"


def header_columns(header: Sequence[str]) -> tuple[str, ...]:
    """The header's column names; raises ``InvalidCsvHeader`` for unknown, doubled or missing ones."""
    names = [name.strip() for name in header]
    doubled = tuple(sorted({name for name in names if names.count(name) > 1}))
    unknown = tuple(name for name in dict.fromkeys(names) if name not in COLUMNS)
    missing = tuple(name for name in REQUIRED if name not in names)
    if doubled or unknown or missing:
        raise InvalidCsvHeader(missing, unknown, doubled)
    return tuple(names)


def parse_record(
    record: Sequence[str], columns: tuple[str, ...], line: int, region: str
) -> ImportRow | RejectedLine:
    """One record of a file whose header named ``columns``: an ``ImportRow``, or why it is rejected."""
    if len(record) != len(columns):
        return RejectedLine(line, None, f"expected {len(columns)} fields, found {len(record)}")
    record = [restored(field) for field in record]  # the quote export put before a formula
    at = _positions(columns)
    try:
        profile = profile_of(
            name=_field(record, at.name, ""),
            phones=_phones(_field(record, at.phones, "")),
            company=_field(record, at.company, None),
            email=_field(record, at.email, None),
            language=_field(record, at.language, None),
            tier=_field(record, at.tier, "").strip() or "standard",
            tags=_field(record, at.tags, "").split(TAG_SEPARATOR),
            notes=_field(record, at.notes, None),
            external_id=_field(record, at.external_id, None),
            region=region,
        )
        account = _account([_field(record, i, "").strip() for i in at.account])
    except InvalidPhoneNumber as error:
        return RejectedLine(line, "phones", f"not a phone number: {error.raw!r}")
    except InvalidPhoneKind as error:
        return RejectedLine(line, "phones", f"not a phone kind: {error.kind!r}")
    except InvalidInput as error:
        return RejectedLine(line, getattr(error, "field", None), getattr(error, "reason", str(error)))
    if profile.external_id is None and not profile.phones:
        return RejectedLine(line, None, "needs an external_id or a phone number to match on")
    return ImportRow(line, profile, account)


def parse_records(
    records: Sequence[tuple[int, Sequence[str]]],
    columns: tuple[str, ...],
    region: str,
    remapping: Remapping | None = None,
) -> list[PackedRow | RejectedLine]:
    """Each (first line, record) of a chunk parsed and packed; blank records are left out. Module-level and
    plain in and out, so a worker process can run it. ``remapping``: the records are the file's, to be
    turned into records of ``columns`` first (``crm_core.csv.mapping``)."""
    parsed: list[PackedRow | RejectedLine] = []
    for line, record in records:
        if not any(field.strip() for field in record):
            continue
        if remapping is not None:
            remapped = remap(remapping, record, line)
            if isinstance(remapped, RejectedLine):
                parsed.append(remapped)
                continue
            record = remapped
        row = parse_record(record, columns, line, region)
        parsed.append(row if isinstance(row, RejectedLine) else pack(line, row.profile, row.account))
    return parsed


class _Positions(NamedTuple):
    """Where each column stands in a record of a file (None: the file has no such column)."""

    external_id: int | None
    name: int | None
    company: int | None
    email: int | None
    language: int | None
    tier: int | None
    tags: int | None
    notes: int | None
    phones: int | None
    account: tuple[int | None, ...]  # ACCOUNT_COLUMNS' positions, in that order


@functools.lru_cache(maxsize=16)
def _positions(columns: tuple[str, ...]) -> _Positions:
    """Worked out once per header, not once per record."""
    at = {name: i for i, name in enumerate(columns)}
    return _Positions(at.get("external_id"), at.get("name"), at.get("company"), at.get("email"),
                      at.get("language"), at.get("tier"), at.get("tags"), at.get("notes"), at.get("phones"),
                      tuple(at.get(name) for name in ACCOUNT_COLUMNS))  # fmt: skip


@overload
def _field(record: Sequence[str], at: int | None, missing: str) -> str: ...
@overload
def _field(record: Sequence[str], at: int | None, missing: None) -> str | None: ...
def _field(record: Sequence[str], at: int | None, missing: str | None) -> str | None:
    return missing if at is None else record[at]


def _phones(raw: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in raw.split(PHONE_SEPARATOR):
        item = item.strip()
        if not item:
            continue
        kind, separator, number = item.partition(KIND_SEPARATOR)
        pairs.append((number, kind.strip().lower()) if separator else (item, PhoneKind.OTHER.value))
    return pairs


def _account(fields: list[str]) -> Account | None:
    """The account columns, in ``ACCOUNT_COLUMNS`` order, stripped."""
    if not any(fields):
        return None
    balance, currency, credit_limit, status, last_payment = fields
    if not currency:
        raise ValidationFailed("currency", "required when any account column is given")
    if status and status not in _STATUSES:
        raise ValidationFailed("account_status", "must be ok, overdue or on-hold")
    limit = validation.parse_money("credit_limit", credit_limit or "0")
    if limit < 0:
        raise ValidationFailed("credit_limit", "must not be negative")
    return Account(
        balance=validation.parse_money("balance", balance or "0"),
        currency=validation.currency(currency),
        credit_limit=limit,
        status=AccountStatus(status or AccountStatus.OK.value),
        last_payment_on=_date(last_payment),
    )


def _date(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad_date(raw)
    except ValueError:
        return _bad_date(raw)


def _bad_date(raw: str) -> date:
    raise ValidationFailed("last_payment_date", f"not a YYYY-MM-DD date: {raw[:40]!r}")


def export_fields(profile: Profile, account: Account | None) -> list[str]:
    """One record in ``COLUMNS`` order, readable by ``parse_record`` into the same profile and account
    once ``csv_line`` has written it (which quotes formulas)."""
    phones = PHONE_SEPARATOR.join(
        f"{phone.kind.value}{KIND_SEPARATOR}{phone.e164}" for phone in profile.phones
    )
    money = ["", "", "", "", ""] if account is None else [text or "" for text in account_values(account)]
    return [
        profile.external_id or "",
        profile.name,
        profile.company or "",
        profile.email or "",
        profile.language or "",
        profile.tier,
        TAG_SEPARATOR.join(profile.tags),
        profile.notes or "",
        phones,
        *money,
    ]
