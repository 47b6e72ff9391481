"""Errors of the customer store.

    CrmError
    ├── InvalidInput              the caller's input is wrong (a 400 or 422 for the HTTP layer)
    │   ├── InvalidPhoneNumber    a number that cannot be read as a phone number
    │   ├── InvalidPhoneKind      a phone kind outside mobile/office/home/other
    │   ├── ValidationFailed      a field's value is not acceptable: carries the field name and why
    │   ├── InvalidCursor         a pagination cursor this store did not hand out (or for another list)
    │   ├── InvalidCsvHeader      an import file whose header names unknown, missing or doubled columns
    │   └── InvalidImportMapping  an import's column or value mapping that names no field, or no column
    │                             of the file, or says nothing usable
    ├── NotFound                  the caller's reference names nothing (a 404)
    │   ├── CustomerNotFound      a customer id that is not in the store
    │   ├── CaseNotFound          a case id that is not in the store
    │   └── CallNotFound          a call id that is not in the call log
    ├── Conflict                  the request is well formed but clashes with what is stored (a 409)
    │   ├── DuplicateExternalId   another customer already carries this external id
    │   ├── CustomerAnonymised    an anonymised customer cannot be changed back into a person
    │   ├── IllegalCaseTransition a case status change the lifecycle table does not allow
    │   └── CaseClosed            a change to a closed case other than reopening it
    └── UnsupportedDatabase       a database URL for a backend the store does not run on (configuration)

All of them are raised before anything is written, so the store is unchanged when one is raised.
Failures of the database itself are not wrapped: they are SQLAlchemy's, and mean the store is unwell,
not that the request was wrong.
"""

from __future__ import annotations


class CrmError(Exception):
    """Root of every error crm_core raises on purpose."""


class InvalidInput(CrmError):
    """The request itself is wrong; retrying it unchanged will fail again."""


class NotFound(CrmError):
    """The request names a record that is not in the store."""


class Conflict(CrmError):
    """The request is valid on its own but not against the store's current state."""


class InvalidPhoneNumber(InvalidInput):
    def __init__(self, raw: str, field: str = "phones") -> None:
        super().__init__(f"not a phone number: {raw!r}")
        self.raw = raw
        self.field = field


class InvalidPhoneKind(InvalidInput):
    def __init__(self, kind: str, field: str = "phones") -> None:
        super().__init__(f"not a phone kind: {kind!r} (expected mobile, office, home or other)")
        self.kind = kind
        self.field = field


class ValidationFailed(InvalidInput):
    """``field`` is the public field name (as in the CSV header and the domain dataclasses)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidCursor(InvalidInput):
    def __init__(self, cursor: str) -> None:
        super().__init__(f"not a cursor of this list: {cursor[:80]!r}")
        self.cursor = cursor


class InvalidCsvHeader(InvalidInput):
    def __init__(self, missing: tuple[str, ...], unknown: tuple[str, ...], doubled: tuple[str, ...]) -> None:
        parts = [
            f"{what}: {', '.join(names)}"
            for what, names in (("missing", missing), ("unknown", unknown), ("doubled", doubled))
            if names
        ]
        super().__init__(f"bad CSV header ({'; '.join(parts) or 'empty'})")
        self.missing = missing
        self.unknown = unknown
        self.doubled = doubled


class InvalidImportMapping(InvalidInput):
    """``item`` is the mapping as the user wrote it (``phone=phones``, ``credit_status:hold=on-hold``)."""

    def __init__(self, item: str, reason: str) -> None:
        super().__init__(f"mapping {item[:80]!r}: {reason}")
        self.item = item
        self.reason = reason


class CustomerNotFound(NotFound):
    def __init__(self, id: int) -> None:
        super().__init__(f"no customer with id {id}")
        self.id = id


class CaseNotFound(NotFound):
    def __init__(self, id: int) -> None:
        super().__init__(f"no case with id {id}")
        self.id = id


class CallNotFound(NotFound):
    def __init__(self, call_id: str) -> None:
        super().__init__(f"no call with id {call_id!r}")
        self.call_id = call_id


class DuplicateExternalId(Conflict):
    def __init__(self, external_id: str, customer_id: int | None) -> None:
        super().__init__(f"external id {external_id!r} already belongs to customer {customer_id}")
        self.external_id = external_id
        self.customer_id = customer_id


class CustomerAnonymised(Conflict):
    def __init__(self, id: int) -> None:
        super().__init__(f"customer {id} is anonymised and cannot be changed")
        self.id = id


class IllegalCaseTransition(Conflict):
    def __init__(self, case_id: int, current: str, requested: str) -> None:
        super().__init__(f"case {case_id} cannot go from {current} to {requested}")
        self.case_id = case_id
        self.current = current
        self.requested = requested


class CaseClosed(Conflict):
    def __init__(self, case_id: int) -> None:
        super().__init__(f"case {case_id} is closed; reopen it (status open) before changing it")
        self.case_id = case_id


class UnsupportedDatabase(CrmError):
    def __init__(self, backend: str) -> None:
        super().__init__(f"unsupported database backend {backend!r} (expected sqlite or postgresql)")
        self.backend = backend
