"""The API's own refusals: what the HTTP layer decides before (or instead of) asking the store.

    ApiError                  (a ``ConsoleError``) ``field`` names the part of the request to blame
    ├── BadJson               the body is not UTF-8 JSON, or not a JSON object
    ├── InvalidField          an unknown field or parameter, a wrong type, a value out of range
    ├── UnreadableNumber      a phone number in the path that cannot be read as one
    ├── InvalidDate           a report's ``from`` or ``to`` missing or not ``YYYY-MM-DD``
    ├── InvalidRange          a report's ``to`` before its ``from``, or too long a range
    ├── InvalidGrouping       a report's ``by`` that is not one of its groupings
    ├── InvalidEncoding       an import that is not UTF-8
    ├── TooLarge              a body over its cap
    ├── Unauthorized          no bearer token and no session, or an unknown token
    └── NoSuchRecord          an id that cannot name a record, or a lookup that found none

Their statuses and codes are in ``agent_console.error_codes``, beside the store's and the console's.
"""

from __future__ import annotations

from agent_console.errors import ConsoleError


class ApiError(ConsoleError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BadJson(ApiError):
    pass


class InvalidField(ApiError):
    pass


class UnreadableNumber(ApiError):
    pass


class InvalidDate(ApiError):
    pass


class InvalidRange(ApiError):
    pass


class InvalidGrouping(ApiError):
    pass


class InvalidEncoding(ApiError):
    pass


class TooLarge(ApiError):
    def __init__(self, cap: int) -> None:
        super().__init__(f"the request body is larger than {cap} bytes")
        self.cap = cap


class Unauthorized(ApiError):
    pass


class NoSuchRecord(ApiError):
    pass


def invalid(field: str, reason: str) -> InvalidField:
    return InvalidField(f"{field}: {reason}", field)
