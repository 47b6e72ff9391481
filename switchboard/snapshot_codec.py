"""Snapshots a later release can read: the router's books and the plan they were built for, pickled
with every object of the routing core kept by field name (snapshot format 2, ``switchboard/journal.py``).

A plain pickle of a slotted dataclass writes its values by slot and reads them back into whatever the
class is today: a field added since is simply missing (an AttributeError long after the start), one
removed is an error at load. Here each dataclass, named tuple and slotted class of ``routing`` is written
as its name, its layout (each field's name and declared type, in order) and its values; the layout is the
same tuple object for every instance of a class, so pickle's memo writes it once per snapshot.

Loading matches the values to today's fields by name:

- a field the snapshot lacks takes its default (for the ``Book``'s slots, which have none: what a fresh
  ``Book`` for the snapshot's plan holds); a field today's class lacks is dropped;
- refused, naming class and field (``UnreadableSnapshot``): a new field without a default, a field whose
  declared type changed, a class that is gone.

Everything else (enums, ids, dicts, the time zone) is pickled as usual. The data comes from the
service's own store (the same trust as the password hashes kept there), as before.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import importlib
import io
import operator
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from routing.book import Book
from routing.plan import Plan

FORMAT = 2
PACKAGE = "routing"  # whose classes are kept by name
Layout = tuple[tuple[str, str], ...]  # (field name, declared type), in declaration order
Default = Callable[[], object]


class UnreadableSnapshot(ValueError):
    """A snapshot this release cannot read into its classes; the message says which field of which."""


@dataclass(frozen=True, slots=True)
class _Kind:
    """How a class of ours is written and read: its name, today's layout, the defaults of its fields."""

    name: str
    layout: Layout
    defaults: dict[str, Default]
    shape: str  # "dataclass", "tuple" (a NamedTuple) or "slots"
    values: Callable[[object], tuple[object, ...]] = field(init=False)

    def __post_init__(self) -> None:
        # One C-level call per object for its values: snapshots are taken on the router's loop.
        names = [name for name, _ in self.layout]
        get = operator.attrgetter(*names)
        one = len(names) == 1
        object.__setattr__(self, "values", (lambda obj: (get(obj),)) if one else get)


_kinds: dict[type, _Kind | None] = {}


def _kind(cls: type) -> _Kind | None:
    if cls not in _kinds:
        _kinds[cls] = _describe(cls)
    return _kinds[cls]


def _describe(cls: type) -> _Kind | None:
    if not (cls.__module__ == PACKAGE or cls.__module__.startswith(PACKAGE + ".")) or issubclass(cls, Enum):
        return None
    name = f"{cls.__module__}:{cls.__qualname__}"
    if dataclasses.is_dataclass(cls):
        fields = dataclasses.fields(cls)
        layout = tuple((f.name, _type(f.type)) for f in fields)
        return _Kind(name, layout, {f.name: d for f in fields if (d := _default(f)) is not None}, "dataclass")
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        notes = getattr(cls, "__annotations__", {})
        layout = tuple((n, _type(notes.get(n, ""))) for n in cls._fields)
        defaults = {n: _constant(v) for n, v in getattr(cls, "_field_defaults", {}).items()}
        return _Kind(name, layout, defaults, "tuple")
    slots = [s for c in reversed(cls.__mro__) for s in getattr(c, "__slots__", ())]
    return _Kind(name, tuple((s, "") for s in slots), {}, "slots") if slots else None


def _type(hint: object) -> str:
    """A declared type as written (annotations are strings here, a NamedTuple's forward references)."""
    text = getattr(hint, "__forward_arg__", None) or (hint if isinstance(hint, str) else None)
    return "".join(str(text or getattr(hint, "__name__", hint)).split())


def _default(f: dataclasses.Field[Any]) -> Default | None:
    if f.default is not dataclasses.MISSING:
        return _constant(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory
    return None


def _constant(value: object) -> Default:
    return lambda: value


# --- writing --------------------------------------------------------------------------------------
class _Writer(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        kind = _kind(type(obj))
        if kind is None:
            return NotImplemented
        values = kind.values(obj)
        if kind.shape == "tuple":
            return (_tuple, (kind.name, kind.layout, values))
        # Built empty, then filled: pickle can then close a cycle through it (the Book's heaps hold
        # the Book's own bound methods).
        return (_blank, (kind.name,), (kind.layout, values), None, None, _fill)


def dumps(plan: Plan, book: Book) -> bytes:
    """The books and the plan they are bound to, in the layout-tolerant format."""
    out = io.BytesIO()
    _Writer(out, protocol=pickle.HIGHEST_PROTOCOL).dump((FORMAT, plan, book))
    return out.getvalue()


# --- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Match:
    """Where each of today's fields comes from, for one kept layout of a class."""

    taken: tuple[tuple[str, int], ...]  # (field, its position in the kept values)
    defaulted: tuple[tuple[str, Default], ...]
    later: tuple[str, ...]  # slots without a default: the Book's, filled after the load

    def pairs(self, values: tuple[object, ...]) -> list[tuple[str, object]]:
        return [(n, values[i]) for n, i in self.taken] + [(n, d()) for n, d in self.defaulted]


@dataclass(slots=True)
class _Load:
    """One load: the verdict on each layout met (once per class), the objects left with empty slots."""

    matches: dict[tuple[type, int], _Match] = field(default_factory=dict)
    layouts: list[Layout] = field(default_factory=list)  # held, so that their ids stay theirs
    unfilled: list[tuple[object, tuple[str, ...]]] = field(default_factory=list)


_loading: contextvars.ContextVar[_Load] = contextvars.ContextVar("snapshot_load")


def loads(data: bytes) -> tuple[Plan, Book]:
    """The plan and the books a snapshot holds, in today's classes; ``UnreadableSnapshot`` if it cannot."""
    with _load() as load:
        try:
            found = pickle.loads(data)
        except UnreadableSnapshot:
            raise
        except Exception as exc:  # a class or enum member gone, a module renamed, a truncated row
            raise UnreadableSnapshot(f"snapshot unreadable: {exc!r}") from exc
        if not (isinstance(found, tuple) and len(found) == 3 and found[0] == FORMAT):
            raise UnreadableSnapshot(f"snapshot holds no plan and books of format {FORMAT}")
        _, plan, book = found
        if not isinstance(plan, Plan) or not isinstance(book, Book):
            raise UnreadableSnapshot(f"snapshot holds no plan and books of format {FORMAT}")
        _fill_later(load, plan)
        return plan, book


@contextmanager
def _load() -> Iterator[_Load]:
    load = _Load()
    token = _loading.set(load)
    try:
        yield load
    finally:
        _loading.reset(token)


def _fill_later(load: _Load, plan: Plan) -> None:
    """The Book's slots added since the snapshot: as a fresh Book for its plan has them."""
    fresh: Book | None = None
    for obj, names in load.unfilled:
        if not isinstance(obj, Book):
            raise UnreadableSnapshot(f"{_kind_of(type(obj)).name}.{names[0]} is new and has no default")
        fresh = fresh or Book(plan)
        for name in names:
            setattr(obj, name, getattr(fresh, name))


def _kind_of(cls: type) -> _Kind:
    kind = _kind(cls)
    if kind is None:
        raise UnreadableSnapshot(f"{cls.__qualname__} is no longer kept by name")
    return kind


@functools.cache
def _class(name: str) -> type:
    module, _, qualname = name.partition(":")
    if not (module == PACKAGE or module.startswith(PACKAGE + ".")):
        raise UnreadableSnapshot(f"snapshot names a class outside {PACKAGE}: {name}")
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise UnreadableSnapshot(f"{name} is gone from this release") from None
    assert isinstance(found, type)
    return found


def _match(cls: type, layout: Layout) -> _Match:
    """Today's fields of ``cls`` matched by name with a kept layout; worked out once per load."""
    load = _loading.get()
    key = (cls, id(layout))
    found = load.matches.get(key)
    if found is None:
        found = load.matches[key] = _matched(_kind_of(cls), layout)
        load.layouts.append(layout)
    return found


def _matched(kind: _Kind, layout: Layout) -> _Match:
    kept = {name: (i, declared) for i, (name, declared) in enumerate(layout)}
    taken: list[tuple[str, int]] = []
    defaulted: list[tuple[str, Default]] = []
    later: list[str] = []
    for name, declared in kind.layout:
        if name in kept:
            i, was = kept[name]
            if was != declared:
                raise UnreadableSnapshot(f"{kind.name}.{name} was {was}, is {declared} in this release")
            taken.append((name, i))
        elif name in kind.defaults:
            defaulted.append((name, kind.defaults[name]))
        elif kind.shape == "slots":
            later.append(name)
        else:
            raise UnreadableSnapshot(f"{kind.name}.{name} is new in this release and has no default")
    return _Match(tuple(taken), tuple(defaulted), tuple(later))


def _blank(name: str) -> object:
    return object.__new__(_class(name))


def _fill(obj: object, state: tuple[Layout, tuple[object, ...]]) -> None:
    layout, values = state
    match = _match(type(obj), layout)
    for name, value in match.pairs(values):
        object.__setattr__(obj, name, value)  # frozen dataclasses too: this is their construction
    if match.later:
        _loading.get().unfilled.append((obj, match.later))


def _tuple(name: str, layout: Layout, values: tuple[object, ...]) -> object:
    cls = _class(name)
    return cls(**dict(_match(cls, layout).pairs(values)))
