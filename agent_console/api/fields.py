"""Reading JSON objects and query strings strictly: known fields only, each of the right type.

``Fields`` wraps one decoded object; each accessor takes a field by name and checks its type, and
``done()`` refuses whatever the parser did not ask for, so a misspelt field is an error, not a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from agent_console.api.errors import BadJson, InvalidField, TooLarge, invalid
from crm_core.domain import validation
from crm_core.domain.customers import KEEP, Keep

MAX_JSON_BYTES = 64 * 1024
# A JSON integer may be any size; the stores' integer columns are 64-bit (SQLite raised OverflowError: a 500).
INT64 = (-(2**63), 2**63 - 1)
CHUNK = 64 * 1024


async def read_capped(request: web.Request, cap: int) -> bytes:
    """The request body, or ``TooLarge`` as soon as it passes ``cap`` bytes (never read whole first)."""
    if request.content_length is not None and request.content_length > cap:
        raise TooLarge(cap)
    body = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > cap:
            raise TooLarge(cap)
    return bytes(body)


async def json_object(request: web.Request, *, optional: bool = False) -> Fields:
    raw = await read_capped(request, MAX_JSON_BYTES)
    if optional and not raw.strip():
        return Fields({})
    try:
        decoded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadJson("the body is not valid UTF-8 JSON") from None
    if not isinstance(decoded, dict):
        raise BadJson("the body must be a JSON object")
    return Fields(decoded)


class Fields:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data
        self._seen: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def _get(self, name: str) -> Any:
        self._seen.add(name)
        return self._data[name]

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise InvalidField(f"unknown field(s): {', '.join(unknown)}", unknown[0])

    def required(self, name: str) -> Any:
        if name not in self._data:
            raise invalid(name, "is required")
        return self._get(name)

    def text(self, name: str, default: str | None = None) -> str:
        if name not in self._data and default is not None:
            return default
        value = self.required(name)
        if not isinstance(value, str):
            raise invalid(name, "must be a string")
        return value

    def integer(self, name: str) -> int:
        value = self.required(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(name, "must be an integer")
        if not INT64[0] <= value <= INT64[1]:
            raise invalid(name, "must be a 64-bit integer")
        return value

    def optional_text(self, name: str) -> str | None:
        if name not in self._data or self._data[name] is None:
            self._seen.add(name)
            return None
        return self.text(name)

    def text_list(self, name: str) -> list[str]:
        if name not in self._data:
            return []
        value = self._get(name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid(name, "must be a list of strings")
        return value

    def change(self, name: str) -> str | Keep | None:
        """A PATCH field: absent is ``KEEP``; null erases."""
        if name not in self._data:
            return KEEP
        if self._data[name] is None:
            self._seen.add(name)
            return None
        return self.text(name)

    def required_change(self, name: str) -> str | Keep:
        """A PATCH field that cannot be erased: absent is ``KEEP``, null is refused."""
        return KEEP if name not in self._data else self.text(name)

    def optional_int(self, name: str) -> int | None:
        if name not in self._data or self._data[name] is None:
            self._seen.add(name)
            return None
        return self.integer(name)

    def instant(self, name: str) -> datetime | None:
        raw = self.optional_text(name)
        return None if raw is None else parse_instant(name, raw)

    def money(self, name: str) -> Decimal:
        """Money is a decimal string (``"12.50"``): a JSON number would pass through a float."""
        return validation.parse_money(name, self.text(name))

    def optional_money(self, name: str) -> Decimal | None:
        raw = self.optional_text(name)
        return None if raw is None else validation.parse_money(name, raw)

    def day(self, name: str) -> date:
        return parse_day(name, self.text(name))

    def optional_day(self, name: str) -> date | None:
        raw = self.optional_text(name)
        return None if raw is None else parse_day(name, raw)


def parse_day(name: str, raw: str) -> date:
    # fromisoformat also takes 20260131 and week dates; the API promises one spelling only.
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise invalid(name, "must be a date as YYYY-MM-DD")


def parse_instant(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(name, "must be an ISO 8601 date-time with a UTC offset") from None
    if value.utcoffset() is None:
        raise invalid(name, "must carry a UTC offset (e.g. 2026-01-31T09:00:00+00:00)")
    return value


class Query:
    """The query string, read as strictly as a body: unknown parameters are refused, and repeated ones but
    those ``repeatable`` names (read with ``texts``)."""

    def __init__(
        self, request: web.Request, allowed: tuple[str, ...], *, repeatable: tuple[str, ...] = ()
    ) -> None:
        query = request.rel_url.query
        unknown = sorted(set(query) - set(allowed) - set(repeatable))
        if unknown:
            raise InvalidField(f"unknown parameter(s): {', '.join(unknown)}", unknown[0])
        for name in query:
            if name not in repeatable and len(query.getall(name)) > 1:
                raise invalid(name, "must be given once")
        self._query = query

    def texts(self, name: str) -> list[str]:
        """Every value given for ``name``, in order (none: an empty list)."""
        return list(self._query.getall(name, []))

    def text(self, name: str) -> str | None:
        value = self._query.get(name)
        return value if value else None

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            raise invalid(name, "must be a whole number")
        return int(value)

    def instant(self, name: str) -> datetime | None:
        value = self.text(name)
        return None if value is None else parse_instant(name, value)

    def boolean(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise invalid(name, "must be true or false")
        return value == "true"
