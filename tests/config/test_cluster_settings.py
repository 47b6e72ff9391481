"""``[cluster]``: absent runs alone; present needs PostgreSQL, a Redis URL and a sane lease."""

from __future__ import annotations

from typing import Any

import pytest

from config.settings import ConfigError, parse
from switchboard.bootstrap import normaliser

PG = "postgresql+asyncpg://127.0.0.1/switchboard"
BASE: dict[str, Any] = {
    "ari": {"password": "secret"},
    "database": {"url": PG},
    "queues": {"q": {"name": "Q"}},
    "lines": {"acme": {"name": "Acme", "queue": "q", "dids": {"radio": "(800) 555-0101"}}},
    "agents": {"1001": {"endpoint": "PJSIP/1001", "queues": ["q"]}},
}


def _with(cluster: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {**BASE, "cluster": cluster, **top}


def test_given_no_cluster_section_then_the_service_runs_alone() -> None:
    assert parse(BASE, normaliser, {}).cluster is None


def test_given_a_redis_url_then_the_instance_joins_with_its_name_and_lease() -> None:
    raw = _with({"redis_url": "redis://127.0.0.1:6379/0", "instance": "a", "lease_ms": 1500})
    found = parse(raw, normaliser, {}).cluster
    assert found is not None
    assert (found.redis_url, found.instance, found.lease_ms, found.key_prefix) == (
        "redis://127.0.0.1:6379/0", "a", 1500, "switchboard",
    )  # fmt: skip


def test_given_the_environment_then_it_overrides_the_file() -> None:
    raw = _with({"redis_url": "redis://file:6379/0", "instance": "file"})
    env = {"SWITCHBOARD_REDIS_URL": "redis://env:6379/1", "SWITCHBOARD_INSTANCE": "env"}
    found = parse(raw, normaliser, env).cluster
    assert found is not None and (found.redis_url, found.instance) == ("redis://env:6379/1", "env")


def test_given_no_instance_name_then_it_is_the_host_and_port() -> None:
    found = parse(_with({"redis_url": "redis://r/0"}, http={"port": 8093}), normaliser, {}).cluster
    assert found is not None and found.instance.endswith(":8093")


@pytest.mark.parametrize(
    ("cluster", "database", "message"),
    [
        ({"redis_url": "redis://r/0"}, "sqlite+aiosqlite:///x.db", "several instances need one PostgreSQL"),
        ({"redis_url": "http://r/0"}, PG, "not a redis://"),
        ({"redis_url": "redis://r/0", "lease_ms": 100}, PG, "lease_ms 100 is below 300"),
        ({"redis_url": "redis://r/0", "lease_ms": "soon"}, PG, "cluster.lease_ms"),
        ({"redis_url": ""}, PG, "cluster.redis_url"),
    ],
)
def test_given_a_bad_cluster_section_then_one_clear_error(
    cluster: dict[str, Any], database: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(_with(cluster, database={"url": database}), normaliser, {})
