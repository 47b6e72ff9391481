"""Redis is for several instances: only switchboard/cluster/ imports it, and a service that runs alone
never loads it (the start-up of a restart pays for every import: README, "What survives a restart")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("switchboard", "routing", "telephony", "agent_console", "crm_core", "config")
# The cluster's modules that a lone service imports too: they must not reach Redis.
LOADED_ALONE = {"switchboard/cluster/__init__.py", "switchboard/cluster/fenced.py"}


def _imports_redis(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        if any(name.partition(".")[0] == "redis" for name in names):
            return True
    return False


def test_given_the_packages_then_only_the_cluster_imports_redis() -> None:
    importers = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if _imports_redis(path)
    }
    assert importers, "the cluster's modules import redis: the walk found none"
    assert all(name.startswith("switchboard/cluster/") for name in importers), importers
    assert not importers & LOADED_ALONE


def test_given_a_service_alone_then_building_it_loads_no_redis() -> None:
    code = "import sys, switchboard.cli, switchboard.bootstrap; print('redis' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False", found.stderr
