"""Errors of the customer store.

    CrmError
    ├── InvalidPhoneNumber    a number that cannot be read as a phone number (the caller's input)
    ├── InvalidPhoneKind      a phone kind outside mobile/office/home/other (the caller's input)
    ├── CustomerNotFound      a customer id that is not in the store (the caller's reference)
    └── UnsupportedDatabase   a database URL for a backend the store does not run on (configuration)

All of them are raised before anything is written, so the store is unchanged when one is raised.
Failures of the database itself are not wrapped: they are SQLAlchemy's, and mean the store is unwell,
not that the request was wrong.
"""

from __future__ import annotations


class CrmError(Exception):
    """Root of every error crm_core raises on purpose."""


class InvalidPhoneNumber(CrmError):
    def __init__(self, raw: str) -> None:
        super().__init__(f"not a phone number: {raw!r}")
        self.raw = raw


class InvalidPhoneKind(CrmError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"not a phone kind: {kind!r} (expected mobile, office, home or other)")
        self.kind = kind


class CustomerNotFound(CrmError):
    def __init__(self, id: int) -> None:
        super().__init__(f"no customer with id {id}")
        self.id = id


class UnsupportedDatabase(CrmError):
    def __init__(self, backend: str) -> None:
        super().__init__(f"unsupported database backend {backend!r} (expected sqlite or postgresql)")
        self.backend = backend
