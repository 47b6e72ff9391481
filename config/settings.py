"""Load and validate ``switchboard.toml``; secrets may come from the environment instead of the file.

Environment variables (each overrides the file):
    SWITCHBOARD_ARI_URL, SWITCHBOARD_ARI_USER, SWITCHBOARD_ARI_PASSWORD, SWITCHBOARD_ARI_APP,
    SWITCHBOARD_DATABASE_URL, SWITCHBOARD_HTTP_HOST, SWITCHBOARD_HTTP_PORT
    SWITCHBOARD_PUBLIC_URL (``[http] public_url``: ``config/public_url.py``)
    SWITCHBOARD_API_TOKEN (adds one token to [api].tokens rather than replacing them)
    SWITCHBOARD_WEBHOOK_SECRET_<LINE> (the answering webhook's secret of line <LINE>, upper case)
    SWITCHBOARD_REDIS_URL, SWITCHBOARD_INSTANCE (several instances: ``config/cluster.py``)

A listener beyond loopback refuses the shipped placeholder secrets and short ones (``exposure``).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.answering import (
    DEFAULT_DISPOSITION_CODES,
    Answering,
    answering,
    disposition_codes,
    without_answering,
)
from config.cluster import ClusterSettings, cluster
from config.deliveries import Deliveries, deliveries
from config.exposure import check_exposed
from config.forms import forms
from config.plan import Normalise, plan
from config.public_url import console_origins, public_url
from config.service_levels import (
    DEFAULT_SERVICE_LEVEL,
    ServiceLevel,
    service_levels,
    without_service_levels,
)
from config.values import ConfigError, string, table, whole
from routing.forms import FormBook
from routing.ids import LineId, QueueId
from routing.plan import Plan

__all__ = [
    "Answering", "AriSettings", "ConfigError", "Normalise", "ServiceLevel", "Settings", "load", "parse",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class AriSettings:
    url: str
    user: str
    password: str
    app: str
    # What a callback dials: ``{number}`` is the customer's E.164 number (e.g. "PJSIP/{number}@trunk").
    outbound_endpoint: str = "Local/{number}@switchboard-outbound"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    ari: AriSettings
    database_url: str
    http_host: str
    http_port: int
    region: str  # default region for numbers written without a country code
    caller_context: str  # dialplan context the caller's side of `switchboard call` waits in
    inbound_context: str  # dialplan context whose extensions are the DIDs
    plan: Plan
    api_tokens: tuple[str, ...] = ()  # bearer tokens the customer API accepts; none: the API refuses all
    disposition_codes: tuple[str, ...] = DEFAULT_DISPOSITION_CODES  # [console]
    answering: Mapping[LineId, Answering] = dataclasses.field(default_factory=dict)
    forms: Mapping[LineId, FormBook] = dataclasses.field(default_factory=dict)  # answering.forms
    # [queues.<id>.service_level]: every queue of the plan, the defaults where the table is absent
    service_targets: Mapping[QueueId, ServiceLevel] = dataclasses.field(default_factory=dict)
    default_target: ServiceLevel = DEFAULT_SERVICE_LEVEL  # reports not grouped by queue, and totals
    cluster: ClusterSettings | None = None  # [cluster]: None runs alone
    public_url: str | None = None  # [http] public_url, as an origin: where browsers reach the console
    deliveries: Deliveries = dataclasses.field(
        default_factory=Deliveries
    )  # taken messages: rules per line, SMTP, SMS, the worker
    source: Path | None = None

    @property
    def console_origins(self) -> tuple[str, ...]:
        """What a browser's ``Origin`` may name (``config/public_url.py``)."""
        return console_origins(self.public_url, self.http_host, self.http_port)

    @property
    def secure_cookies(self) -> bool:
        """Browsers reach the console over HTTPS (a TLS proxy in front): its cookies are ``Secure``."""
        return (self.public_url or "").startswith("https://")

    @property
    def report_zone(self) -> ZoneInfo:
        """Where a report's days begin and end: the center's, ``[routing].timezone``."""
        return ZoneInfo(self.plan.timezone)


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
    ari = table(raw, "ari")
    db = table(raw, "database")
    http = table(raw, "http")
    region = string(raw, "region", "US")
    database_url = env.get("SWITCHBOARD_DATABASE_URL") or string(
        db, "url", "sqlite+aiosqlite:///switchboard.db"
    )
    http_port = whole(env.get("SWITCHBOARD_HTTP_PORT") or http.get("port", 8080), "http.port")
    plan_ = plan(without_service_levels(without_answering(raw)), normalise_for(region))
    settings = Settings(
        ari=AriSettings(
            url=env.get("SWITCHBOARD_ARI_URL") or string(ari, "url", "http://127.0.0.1:8088", "ari."),
            user=env.get("SWITCHBOARD_ARI_USER") or string(ari, "user", "switchboard"),
            password=env.get("SWITCHBOARD_ARI_PASSWORD") or string(ari, "password", None, "ari."),
            app=env.get("SWITCHBOARD_ARI_APP") or string(ari, "app", "switchboard"),
            outbound_endpoint=_outbound(ari),
        ),
        database_url=database_url,
        http_host=env.get("SWITCHBOARD_HTTP_HOST") or string(http, "host", "127.0.0.1"),
        http_port=http_port,
        public_url=public_url(http, env),
        region=region,
        caller_context=string(ari, "caller_context", "switchboard-caller"),
        inbound_context=string(ari, "inbound_context", "switchboard-inbound"),
        plan=plan_,
        api_tokens=_api_tokens(table(raw, "api"), env),
        disposition_codes=disposition_codes(raw),
        answering=answering(raw, env),
        forms=forms(raw),
        service_targets=service_levels(raw),
        cluster=cluster(raw, env, database_url, http_port),
    )
    settings = dataclasses.replace(
        settings, deliveries=deliveries(raw, env, normalise_for(region), settings.answering)
    )
    check_exposed(settings.http_host, _secrets(settings, raw, env))
    return settings


def _secrets(settings: Settings, raw: Mapping[str, Any], env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every secret of ``settings``, each with the key or the variable it came from."""
    extra = env.get("SWITCHBOARD_API_TOKEN", "").strip()
    in_file = [t.strip() for t in table(raw, "api").get("tokens", [])]
    found = [
        ("SWITCHBOARD_API_TOKEN" if t == extra else f"api.tokens[{in_file.index(t)}]", t)
        for t in settings.api_tokens
    ]
    ari = "SWITCHBOARD_ARI_PASSWORD" if env.get("SWITCHBOARD_ARI_PASSWORD") else "ari.password"
    found.append((ari, settings.ari.password))
    for line, profile in settings.answering.items():
        variable = f"SWITCHBOARD_WEBHOOK_SECRET_{line.upper()}"
        key = variable if env.get(variable) else f"lines.{line}.answering.webhook_secret"
        if profile.webhook_secret is not None:
            found.append((key, profile.webhook_secret))
    delivery = settings.deliveries
    if delivery.rules:  # its read links are signed with it
        found.append(("deliveries.link_secret", delivery.link_secret))
    if delivery.sms is not None:
        found.append(("sms.token", delivery.sms.token))
    if delivery.smtp is not None and delivery.smtp.password is not None:
        found.append(("smtp.password", delivery.smtp.password))
    return found


def _api_tokens(api: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str, ...]:
    tokens = api.get("tokens", [])
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t.strip() for t in tokens):
        raise ConfigError("api.tokens: a list of non-empty strings is required")
    extra = env.get("SWITCHBOARD_API_TOKEN", "").strip()
    return tuple(dict.fromkeys([*(t.strip() for t in tokens), *([extra] if extra else [])]))


def _outbound(ari: Mapping[str, Any]) -> str:
    endpoint = string(ari, "outbound_endpoint", "Local/{number}@switchboard-outbound", "ari.")
    if "{number}" not in endpoint:
        raise ConfigError("ari.outbound_endpoint: must contain {number}, where the customer's number goes")
    return endpoint
