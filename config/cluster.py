"""``[cluster]``: several ``switchboard serve`` instances sharing one PostgreSQL store and one Redis.

Absent (and no ``SWITCHBOARD_REDIS_URL``), the service runs alone: the embedded default on SQLite or
PostgreSQL, where a second instance on the same store is refused. With ``redis_url``, every instance
pointed at the same Redis and store joins one cluster: one leader commands the PBX, the others replicate
its router and serve consoles (switchboard/cluster/). Several instances need a store they can all reach:
SQLite is refused.

Environment variables (each overrides the file): SWITCHBOARD_REDIS_URL, SWITCHBOARD_INSTANCE.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.values import ConfigError, optional_string, string, table, whole

DEFAULT_LEASE_MS = 1000  # a leader's lease; a standby takes over about this long after the leader dies
MIN_LEASE_MS = 300  # shorter than a few renewals on a busy host: leadership would flap


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSettings:
    redis_url: str
    instance: str  # this instance's name, unique in the cluster: in logs, /metrics and Redis
    lease_ms: int = DEFAULT_LEASE_MS
    key_prefix: str = "switchboard"  # every Redis key starts with it: several centers on one Redis


def cluster(
    raw: Mapping[str, Any], env: Mapping[str, str], database_url: str, http_port: int
) -> ClusterSettings | None:
    section = table(raw, "cluster")
    url = env.get("SWITCHBOARD_REDIS_URL") or optional_string(section, "redis_url", "cluster.")
    if url is None:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"cluster.redis_url {url!r} is not a redis://, rediss:// or unix:// URL")
    if database_url.startswith("sqlite"):
        raise ConfigError(
            "cluster.redis_url is set but the store is SQLite: several instances need one PostgreSQL "
            "store they all reach ([database].url = postgresql+asyncpg://...)"
        )
    lease_ms = whole(section.get("lease_ms", DEFAULT_LEASE_MS), "cluster.lease_ms")
    if lease_ms < MIN_LEASE_MS:
        raise ConfigError(f"cluster.lease_ms {lease_ms} is below {MIN_LEASE_MS}: leadership would flap")
    default_name = f"{socket.gethostname()}:{http_port}"
    instance = env.get("SWITCHBOARD_INSTANCE") or string(section, "instance", default_name, "cluster.")
    prefix = string(section, "key_prefix", "switchboard", "cluster.")
    return ClusterSettings(redis_url=url, instance=instance, lease_ms=lease_ms, key_prefix=prefix)
