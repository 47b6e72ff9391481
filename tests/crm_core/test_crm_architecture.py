"""The dependency rules of crm_core's docstring, checked on the source so they cannot quietly rot.

The layer of a module is its package: ``crm_core.sql`` (with its migrations) is the one place that may
speak to a database, so the rule is a prefix rule and no list of modules has to be kept up to date.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import crm_core

PACKAGE = Path(crm_core.__file__).parent
SQL_LAYER = PACKAGE / "sql"
# Each layer builds on the ones before it: the domain on nothing, the CSV format on the domain, the SQL
# adapter on both.
MAY_IMPORT = {"domain": {"domain"}, "csv": {"domain", "csv"}, "sql": {"domain", "csv", "sql"}}
BACKENDS = {"sqlite", "postgresql"}
DATABASE_LIBRARIES = {"sqlalchemy", "alembic", "asyncpg", "aiosqlite"}
ALLOWED_FROM_ROUTING = {"routing.records", "routing.ids"}
FORBIDDEN_PACKAGES = {"telephony", "agent_console", "switchboard"}


def _imports(path: Path) -> set[str]:
    return _imported(path.read_text(encoding="utf-8"))


def _imported(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _outside_sql_layer() -> list[Path]:
    return [path for path in _modules() if not path.is_relative_to(SQL_LAYER)]


def _speaks_to_a_database(imported: set[str]) -> set[str]:
    return {name for name in imported if name.split(".")[0] in DATABASE_LIBRARIES}


def test_given_crm_core_when_scanned_then_only_routing_data_types_are_imported_from_routing() -> None:
    for path in _modules():
        from_routing = {name for name in _imports(path) if name.split(".")[0] == "routing"}
        assert from_routing <= ALLOWED_FROM_ROUTING, path


def test_given_crm_core_when_scanned_then_no_shell_package_is_imported() -> None:
    for path in _modules():
        shells = {name for name in _imports(path) if name.split(".")[0] in FORBIDDEN_PACKAGES}
        assert shells == set(), path


def test_given_a_module_outside_crm_core_sql_when_scanned_then_no_database_library() -> None:
    outside = _outside_sql_layer()
    assert {path.parent.name for path in outside} >= {"domain", "csv"}  # the scan sees both other layers
    for path in outside:
        assert _speaks_to_a_database(_imports(path)) == set(), path


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_given_a_layer_when_scanned_then_it_imports_only_the_layers_below_it(layer: str) -> None:
    paths = sorted((PACKAGE / layer).rglob("*.py"))
    assert paths, layer
    for path in paths:
        layers = {name.split(".")[1] for name in _imports(path) if name.startswith("crm_core.")}
        assert layers <= MAY_IMPORT[layer], path


def test_given_the_shells_when_scanned_then_they_use_the_store_through_the_domain_only() -> None:
    """Only the wiring (switchboard/) opens the SQL store; the console and the rest see ports and types."""
    root = PACKAGE.parent
    for package in ("agent_console", "telephony", "routing", "config"):
        paths = sorted((root / package).rglob("*.py"))
        assert paths, package
        for path in paths:
            reaching = {name for name in _imports(path) if name.startswith(("crm_core.sql", "crm_core.csv"))}
            assert reaching == set(), path


def test_given_crm_core_when_scanned_then_every_module_is_in_a_layer() -> None:
    loose = {path.name for path in PACKAGE.glob("*.py")}
    assert loose == {"__init__.py"}
    assert {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"} == set(
        MAY_IMPORT
    )


def _names_a_backend(source: str) -> bool:
    """Whether ``source`` tells the backends apart itself: by name, or with a backend's own SQLAlchemy."""
    tree = ast.parse(source)
    named = any(isinstance(node, ast.Constant) and node.value in BACKENDS for node in ast.walk(tree))
    return named or any(name.startswith("sqlalchemy.dialects") for name in _imported(source))


def test_given_crm_core_when_scanned_then_only_the_dialect_tells_the_backends_apart() -> None:
    # The revisions are history, kept exactly as they ran.
    frozen = PACKAGE / "sql" / "migrations" / "versions"
    telling = [
        path.relative_to(PACKAGE).as_posix()
        for path in _modules()
        if not path.is_relative_to(frozen) and _names_a_backend(path.read_text(encoding="utf-8"))
    ]
    assert telling == ["sql/dialect.py"]


def test_given_a_module_breaking_the_rule_then_the_check_sees_it() -> None:
    assert _speaks_to_a_database(_imported("from sqlalchemy.orm import Session")) == {"sqlalchemy.orm"}
    assert _speaks_to_a_database(_imported("import asyncpg, aiosqlite")) == {"asyncpg", "aiosqlite"}
    assert _speaks_to_a_database(_imported("from alembic import command")) == {"alembic"}
    assert _speaks_to_a_database(_imported("import sqlite3\nfrom crm_core.domain import errors")) == set()
    assert _names_a_backend("if engine.dialect.name == 'sqlite':\n    pass")
    assert _names_a_backend("from sqlalchemy.dialects import postgresql")
    assert not _names_a_backend("dialect = dialect_named(engine.dialect.name)")


def test_given_crm_core_when_measured_then_every_module_stays_under_400_lines() -> None:
    for path in _modules():
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name
