"""Load and validate ``switchboard.toml``; secrets may come from the environment instead of the file.

Environment variables (each overrides the file):
    SWITCHBOARD_ARI_URL, SWITCHBOARD_ARI_USER, SWITCHBOARD_ARI_PASSWORD, SWITCHBOARD_ARI_APP,
    SWITCHBOARD_DATABASE_URL, SWITCHBOARD_HTTP_HOST, SWITCHBOARD_HTTP_PORT
    SWITCHBOARD_API_TOKEN (adds one token to [api].tokens rather than replacing them)
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing.ids import AgentId, LineId, QueueId
from routing.plan import Agent, Did, Line, Plan, Queue

Normalise = Callable[[str], str | None]


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True, slots=True)
class AriSettings:
    url: str
    user: str
    password: str
    app: str


@dataclass(frozen=True, slots=True)
class Settings:
    ari: AriSettings
    database_url: str
    http_host: str
    http_port: int
    region: str  # default region for numbers written without a country code
    caller_context: str  # dialplan context the caller's side of `switchboard call` waits in
    inbound_context: str  # dialplan context whose extensions are the DIDs
    plan: Plan
    agent_pins: Mapping[AgentId, str]
    api_tokens: tuple[str, ...] = ()  # bearer tokens the customer API accepts; none: the API refuses all
    source: Path | None = None


def load(
    path: Path, normalise_for: Callable[[str], Normalise], env: Mapping[str, str] | None = None
) -> Settings:
    """Read ``path``; ``normalise_for(region)`` gives the phone-number normaliser (E.164) for DIDs."""
    env = os.environ if env is None else env
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return dataclasses.replace(parse(raw, normalise_for, env), source=path)


def parse(
    raw: Mapping[str, Any], normalise_for: Callable[[str], Normalise], env: Mapping[str, str]
) -> Settings:
    ari = _table(raw, "ari")
    db = _table(raw, "database")
    http = _table(raw, "http")
    region = _str(raw, "region", "US")
    database_url = env.get("SWITCHBOARD_DATABASE_URL") or _str(
        db, "url", "sqlite+aiosqlite:///switchboard.db"
    )
    plan, pins = _plan(raw, normalise_for(region))
    return Settings(
        ari=AriSettings(
            url=env.get("SWITCHBOARD_ARI_URL") or _str(ari, "url", "http://127.0.0.1:8088", "ari."),
            user=env.get("SWITCHBOARD_ARI_USER") or _str(ari, "user", "switchboard"),
            password=env.get("SWITCHBOARD_ARI_PASSWORD") or _str(ari, "password", None, "ari."),
            app=env.get("SWITCHBOARD_ARI_APP") or _str(ari, "app", "switchboard"),
        ),
        database_url=database_url,
        http_host=env.get("SWITCHBOARD_HTTP_HOST") or _str(http, "host", "127.0.0.1"),
        http_port=_int(env.get("SWITCHBOARD_HTTP_PORT") or http.get("port", 8080), "http.port"),
        region=region,
        caller_context=_str(ari, "caller_context", "switchboard-caller"),
        inbound_context=_str(ari, "inbound_context", "switchboard-inbound"),
        plan=plan,
        agent_pins=pins,
        api_tokens=_api_tokens(_table(raw, "api"), env),
    )


def _api_tokens(api: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str, ...]:
    tokens = api.get("tokens", [])
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t.strip() for t in tokens):
        raise ConfigError("api.tokens: a list of non-empty strings is required")
    extra = env.get("SWITCHBOARD_API_TOKEN", "").strip()
    return tuple(dict.fromkeys([*(t.strip() for t in tokens), *([extra] if extra else [])]))


def _plan(raw: Mapping[str, Any], normalise: Normalise) -> tuple[Plan, dict[AgentId, str]]:
    queues: dict[QueueId, Queue] = {}
    for key, q in _tables(raw, "queues").items():
        qid = QueueId(key)
        queues[qid] = Queue(
            qid,
            _str(q, "name", key),
            ring_timeout_s=_positive(q.get("ring_timeout_s", 15), f"queues.{key}.ring_timeout_s"),
            max_wait_s=_positive(q.get("max_wait_s", 900), f"queues.{key}.max_wait_s"),
        )
    lines: dict[LineId, Line] = {}
    dids: dict[str, Did] = {}
    for key, ln in _tables(raw, "lines").items():
        queue = QueueId(_str(ln, "queue", None, f"lines.{key}."))
        if queue not in queues:
            raise ConfigError(f"lines.{key}.queue: no queue named {queue!r}")
        lines[LineId(key)] = Line(LineId(key), _str(ln, "name", key), queue)
        for source, number in _table(ln, "dids").items():
            e164 = normalise(str(number))
            if e164 is None:
                raise ConfigError(f"lines.{key}.dids.{source}: {number!r} is not a phone number")
            if e164 in dids:
                raise ConfigError(f"lines.{key}.dids.{source}: {e164} is already on line {dids[e164].line!r}")
            dids[e164] = Did(e164, source, LineId(key))
    agents: dict[AgentId, Agent] = {}
    pins: dict[AgentId, str] = {}
    for key, a in _tables(raw, "agents").items():
        member_of = tuple(QueueId(q) for q in a.get("queues", []))
        for member in member_of:
            if member not in queues:
                raise ConfigError(f"agents.{key}.queues: no queue named {member!r}")
        agents[AgentId(key)] = Agent(
            AgentId(key), _str(a, "name", key), _str(a, "endpoint", None, f"agents.{key}."), member_of
        )
        pins[AgentId(key)] = _str(a, "pin", None, f"agents.{key}.")
    return Plan(dids=dids, lines=lines, queues=queues, agents=agents), pins


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a table")
    return value


def _tables(raw: Mapping[str, Any], key: str) -> Mapping[str, Mapping[str, Any]]:
    value = _table(raw, key)
    for name, item in value.items():
        if not isinstance(item, Mapping):
            raise ConfigError(f"{key}.{name} must be a table")
    return value


def _str(raw: Mapping[str, Any], key: str, default: str | None, where: str = "") -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}{key}: a non-empty string is required")
    return value


def _int(value: Any, key: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: {value!r} is not a whole number") from None


def _positive(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key}: {value!r} must be a positive number of seconds")
    return float(value)
