"""Cursor pagination: pages of a list in a stable order, each pointing at the next by an opaque cursor.

A cursor is the sort key of the last item on a page, with the name of the list it belongs to, as
URL-safe base64 of a small JSON array. It carries no state on the server, stays valid while rows are
added, and a cursor of one list is refused by another (``InvalidCursor``) rather than misread.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from crm_core.domain.errors import InvalidCursor

T = TypeVar("T")
Key = tuple[str | int, ...]

DEFAULT_PAGE = 50
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None  # None: this is the last page


def encode_cursor(list_name: str, key: Key) -> str:
    raw = json.dumps([list_name, *key], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, list_name: str, shape: Sequence[type]) -> Key:
    """The key in ``cursor``, checked to belong to ``list_name`` and to match ``shape`` type by type."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor(cursor) from None
    if not isinstance(decoded, list) or len(decoded) != len(shape) + 1 or decoded[0] != list_name:
        raise InvalidCursor(cursor)
    key = tuple(decoded[1:])
    if not all(type(value) is kind for value, kind in zip(key, shape, strict=True)):
        raise InvalidCursor(cursor)
    return key


def page(fetched: Sequence[T], limit: int, list_name: str, key: Callable[[T], Key]) -> Page[T]:
    """A page from ``fetched``, which a query read with ``LIMIT limit + 1``: the extra row, if any, only
    says there is a next page."""
    items = tuple(fetched[:limit])
    more = len(fetched) > limit and items
    return Page(items, encode_cursor(list_name, key(items[-1])) if more else None)
