"""The dependency rules of crm_core's docstring, checked on the source so they cannot quietly rot."""

from __future__ import annotations

import ast
from pathlib import Path

import crm_core

PACKAGE = Path(crm_core.__file__).parent
# Everything but the adapter (sql_*, orm, rows, engine, migrate, migrations) is domain: no SQL in it.
DOMAIN_MODULES = {
    "model.py",
    "ports.py",
    "errors.py",
    "customers.py",
    "accounts.py",
    "orders.py",
    "cases.py",
    "keep.py",
    "interactions.py",
    "overview.py",
    "pagination.py",
    "customer_csv.py",
    "record_validation.py",
    "phones.py",
    "validation.py",
    "users.py",
    "passwords.py",
    "agent_states.py",
    "figures.py",
}
ALLOWED_FROM_ROUTING = {"routing.records", "routing.ids"}
FORBIDDEN_PACKAGES = {"telephony", "agent_console", "switchboard"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_given_crm_core_when_scanned_then_only_routing_data_types_are_imported_from_routing() -> None:
    for path in _modules():
        from_routing = {name for name in _imports(path) if name.split(".")[0] == "routing"}
        assert from_routing <= ALLOWED_FROM_ROUTING, path


def test_given_crm_core_when_scanned_then_no_shell_package_is_imported() -> None:
    for path in _modules():
        shells = {name for name in _imports(path) if name.split(".")[0] in FORBIDDEN_PACKAGES}
        assert shells == set(), path


def test_given_domain_modules_when_scanned_then_no_sqlalchemy_or_alembic() -> None:
    for name in DOMAIN_MODULES:
        roots = {imported.split(".")[0] for imported in _imports(PACKAGE / name)}
        assert not roots & {"sqlalchemy", "alembic"}, name


def test_given_crm_core_when_scanned_then_every_module_is_either_domain_or_adapter() -> None:
    adapter = {"orm.py", "rows.py", "engine.py", "migrate.py", "__init__.py"}
    for path in PACKAGE.glob("*.py"):
        assert path.name in DOMAIN_MODULES | adapter or path.name.startswith("sql_"), path.name


def test_given_crm_core_when_measured_then_every_module_stays_under_400_lines() -> None:
    for path in _modules():
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name
