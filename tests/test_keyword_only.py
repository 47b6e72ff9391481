"""Records with more than five fields are keyword-only (issue 13).

Past five, a positional construction is a row of values nobody can check by eye, and a field added or
moved shifts every argument after it into the wrong slot without a type error when the types agree.

Unlike tests/test_architecture.py this imports the modules: what counts is the dataclass as built
(inherited fields, ``KW_ONLY``, ``init=False``), which the source alone does not say.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

PACKAGES = ("routing", "telephony", "agent_console", "crm_core", "config", "switchboard")
# Alembic's environment and revisions import only when alembic runs them.
NOT_IMPORTED = ("crm_core.sql.migrations",)
MOST_POSITIONAL_FIELDS = 5


def modules(package: str) -> Iterator[ModuleType]:
    """``package`` and every module below it, but for those in ``NOT_IMPORTED`` and below."""
    module = importlib.import_module(package)
    yield module
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), f"{package}."):
        if not any(info.name == skipped or info.name.startswith(f"{skipped}.") for skipped in NOT_IMPORTED):
            yield from modules(info.name)


def defined_dataclasses(module: ModuleType) -> Iterator[type]:
    """The dataclasses that ``module`` itself defines (not those it imports), nested ones too."""
    classes = [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__]
    while classes:
        cls = classes.pop()
        yield from [cls] if dataclasses.is_dataclass(cls) else []
        classes += [
            v
            for v in vars(cls).values()
            if isinstance(v, type) and v.__qualname__.startswith(f"{cls.__qualname__}.")
        ]


def positional_record(cls: type) -> str | None:
    """How ``cls`` breaks the rule, or None: more than five init fields and not all keyword-only."""
    init = [f for f in dataclasses.fields(cls) if f.init]
    positional = [f.name for f in init if not f.kw_only]
    if len(init) <= MOST_POSITIONAL_FIELDS or not positional:
        return None
    return (
        f"{cls.__module__}.{cls.__qualname__} ({len(init)} init fields, positional: {', '.join(positional)})"
    )


CHECKED = sorted(
    {cls for package in PACKAGES for module in modules(package) for cls in defined_dataclasses(module)},
    key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
)


def test_given_the_packages_when_walked_then_their_records_are_found() -> None:
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in CHECKED}
    assert {"routing.records.CallRecord", "routing.plan.Queue", "routing.commands.PopScreen"} <= names
    assert {cls.__module__.partition(".")[0] for cls in CHECKED} >= {"routing", "crm_core", "agent_console"}
    assert not any(cls.__module__.startswith(NOT_IMPORTED) for cls in CHECKED)


def test_given_a_dataclass_with_more_than_five_init_fields_then_all_of_them_are_keyword_only() -> None:
    offenders = [found for cls in CHECKED if (found := positional_record(cls)) is not None]
    assert not offenders, (
        "make these @dataclass(kw_only=True) and name their fields where they are built:\n"
        + "\n".join(offenders)
    )


# --- the check itself can fail -------------------------------------------------------------------------
@dataclasses.dataclass
class _Five:
    a: int
    b: int
    c: int
    d: int
    e: int


@dataclasses.dataclass
class _Six(_Five):  # five inherited, one of its own
    f: int = 0


_SixByKeyword = dataclasses.make_dataclass(
    "_SixByKeyword",
    [(f.name, f.type) for f in dataclasses.fields(_Six)],
    kw_only=True,
    namespace={"__module__": __name__},
)


@dataclasses.dataclass
class _FiveAndOneNotInInit(_Five):
    f: int = dataclasses.field(default=0, init=False)


@dataclasses.dataclass
class _TwoBeforeKwOnly:
    a: int
    b: int
    _: dataclasses.KW_ONLY
    c: int
    d: int
    e: int
    f: int


class _Holder:
    @dataclasses.dataclass
    class Nested(_Six):
        pass


@pytest.mark.parametrize("cls", [_Six, _TwoBeforeKwOnly, _Holder.Nested])
def test_given_a_record_with_positional_fields_past_five_when_checked_then_it_is_named(cls: type) -> None:
    found = positional_record(cls)
    assert found is not None
    assert found.startswith(f"{__name__}.{cls.__qualname__} (6 init fields, positional: a, b")


@pytest.mark.parametrize("cls", [_SixByKeyword, _FiveAndOneNotInInit, _Five])
def test_given_a_short_or_keyword_only_record_when_checked_then_it_passes(cls: type) -> None:
    assert positional_record(cls) is None


def test_given_a_module_when_listed_then_its_own_dataclasses_count_nested_ones_too() -> None:
    found = set(defined_dataclasses(sys.modules[__name__]))
    assert {_Five, _Six, _SixByKeyword, _Holder.Nested} <= found
    assert _Holder not in found
    assert not any(cls.__module__ != __name__ for cls in found)  # not what it imports
