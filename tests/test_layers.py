"""The shells' dependency rules (routing's own, stricter rule is tests/test_architecture.py).

Each package's ``__init__`` docstring says what it must not import; this keeps those sentences true,
and keeps the environment read in one place (config/).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MUST_NOT_IMPORT = {
    "telephony": {"agent_console", "crm_core", "switchboard", "config"},
    "crm_core": {"telephony", "agent_console", "switchboard", "config"},
    "agent_console": {"telephony", "switchboard", "config"},
    "config": {"telephony", "agent_console", "crm_core", "switchboard"},
}


def imported_packages(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def reads_environment(source: str) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
        for node in ast.walk(ast.parse(source))
    )


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(MUST_NOT_IMPORT))
def test_given_a_shell_package_then_it_imports_none_of_its_forbidden_neighbours(package: str) -> None:
    assert modules(package), f"no modules found under {package}/"
    broken = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path.read_text()) & MUST_NOT_IMPORT[package])
        for path in modules(package)
    }
    assert {k: v for k, v in broken.items() if v} == {}


def test_given_any_package_then_only_config_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for package in ("routing", "telephony", "crm_core", "agent_console", "switchboard")
        for path in modules(package)
        if reads_environment(path.read_text())
    ]
    # The CLI reads SWITCHBOARD_CONFIG only to find the config file.
    assert readers == ["switchboard/cli.py"]


def test_given_a_module_breaking_the_rule_then_the_checks_see_it() -> None:
    assert imported_packages("import telephony.pbx\nfrom agent_console import app") == {
        "telephony",
        "agent_console",
    }
    assert reads_environment("import os\nx = os.environ['A']")
    assert not reads_environment("x = 1")
