"""How taken messages are delivered: each business's rules, the mail server, the SMS provider, the worker.

    [lines.smith.answering.delivery.urgent]   # urgent messages, at once
    on_call = ["sms", "email"]     # the person on call now (primary tier; else backup, else manager),
                                   # by these of their contact methods (mobile for sms, email)
    email = ["dr.smith@example.com"]   # and/or fixed addresses
    sms = ["+1 415 555 0100"]          # and/or fixed mobile numbers
    webhook = true                 # and/or the line's webhook_url (signed, as before)

    [lines.smith.answering.delivery.routine]  # every other message; required when there is a delivery
    email = ["frontdesk@example.com"]         # table. Without ``urgent``, urgent messages follow it.

    [smtp]          # needed by any rule that sends email
    host = "127.0.0.1"; port = 25; from = "answering@example.com"
    starttls = false; user = "..."; password = "..."   # SWITCHBOARD_SMTP_PASSWORD overrides

    [sms]           # needed by any rule that sends SMS
    provider = "form"   # the one implemented: a form POST with HTTP basic auth, Twilio's shape
    url = "https://..."; account = "..."; token = "..."; from = "+18005550199"
                        # SWITCHBOARD_SMS_TOKEN overrides token

    [deliveries]    # the worker; every key optional
    attempts = 6; backoff_s = 30; max_backoff_s = 3600; lease_s = 60; batch = 50
    link_secret = "..." # signs the read links; SWITCHBOARD_DELIVERY_LINK_SECRET overrides

A line with no ``delivery`` table keeps the old behaviour: its webhook, if it has one, is told at once.
Every mistake is a ``ConfigError`` naming its key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from config.answering import Answering
from config.values import ConfigError, integer, known_keys, positive, string, strings, table, tables
from routing.ids import LineId

RULE_KEYS = ("on_call", "email", "sms", "webhook")
SMTP_KEYS = ("host", "port", "from", "starttls", "user", "password")
SMS_KEYS = ("provider", "url", "account", "token", "from")
WORKER_KEYS = ("attempts", "backoff_s", "max_backoff_s", "lease_s", "batch", "link_secret")
ON_CALL_CHANNELS = ("sms", "email")
SMS_PROVIDERS = ("form",)
DEV_LINK_SECRET = "dev-only-insecure-token"  # refused beyond loopback (config/exposure.py)
EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class Rule:
    """Who is told of one kind of message (urgent or routine) and how."""

    on_call: tuple[str, ...] = ()  # "sms", "email": the on-call person's contacts of those kinds
    email: tuple[str, ...] = ()
    sms: tuple[str, ...] = ()  # E.164
    webhook: bool = False

    def uses(self, channel: str) -> bool:
        return channel in self.on_call or bool(getattr(self, channel))


@dataclass(frozen=True, slots=True)
class DeliveryRules:
    urgent: Rule
    routine: Rule


@dataclass(frozen=True, slots=True, kw_only=True)
class Smtp:
    host: str
    port: int
    sender: str
    starttls: bool = False
    user: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class SmsProvider:
    provider: str
    url: str
    account: str
    token: str
    sender: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliveries:
    rules: Mapping[LineId, DeliveryRules] = field(default_factory=dict)
    smtp: Smtp | None = None
    sms: SmsProvider | None = None
    attempts: int = 6
    backoff_s: float = 30.0
    max_backoff_s: float = 3600.0
    lease_s: float = 60.0
    batch: int = 50
    link_secret: str = DEV_LINK_SECRET


def deliveries(
    raw: Mapping[str, Any],
    env: Mapping[str, str],
    normalise: Callable[[str], str | None],
    answering: Mapping[LineId, Answering],
) -> Deliveries:
    """The delivery settings; a rule that needs the mail server, the SMS provider or a webhook the
    config does not have is refused."""
    rules = {
        LineId(key): _rules(key, table(line["answering"], "delivery"), normalise, answering[LineId(key)])
        for key, line in tables(raw, "lines").items()
        if isinstance(line.get("answering"), Mapping) and "delivery" in line["answering"]
    }
    smtp = _smtp(table(raw, "smtp"), env) if "smtp" in raw else None
    sms = _sms(table(raw, "sms"), env) if "sms" in raw else None
    for line, found in rules.items():
        for kind, rule in (("routine", found.routine), ("urgent", found.urgent)):
            rule_key = f"lines.{line}.answering.delivery.{kind}"
            if rule.uses("email") and smtp is None:
                raise ConfigError(f"{rule_key}: sends email, but there is no [smtp]")
            if rule.uses("sms") and sms is None:
                raise ConfigError(f"{rule_key}: sends SMS, but there is no [sms]")
    worker = table(raw, "deliveries")
    known_keys(worker, WORKER_KEYS, "deliveries.")
    where = "deliveries."
    return Deliveries(
        rules=rules, smtp=smtp, sms=sms,
        attempts=integer(worker, "attempts", 6, where, minimum=1),
        backoff_s=positive(worker.get("backoff_s", 30.0), f"{where}backoff_s"),
        max_backoff_s=positive(worker.get("max_backoff_s", 3600.0), f"{where}max_backoff_s"),
        lease_s=positive(worker.get("lease_s", 60.0), f"{where}lease_s"),
        batch=integer(worker, "batch", 50, where, minimum=1),
        link_secret=env.get("SWITCHBOARD_DELIVERY_LINK_SECRET")
        or string(worker, "link_secret", DEV_LINK_SECRET, where),
    )  # fmt: skip


def _rules(
    key: str, raw: Mapping[str, Any], normalise: Callable[[str], str | None], profile: Answering
) -> DeliveryRules:
    where = f"lines.{key}.answering.delivery."
    known_keys(raw, ("urgent", "routine"), where)
    if "routine" not in raw:
        raise ConfigError(f"{where}routine: required (who is told of a message that is not urgent)")
    routine = _rule(table(raw, "routine", where), f"{where}routine.", normalise, profile)
    urgent = (
        _rule(table(raw, "urgent", where), f"{where}urgent.", normalise, profile)
        if "urgent" in raw
        else routine
    )
    return DeliveryRules(urgent=urgent, routine=routine)


def _rule(
    raw: Mapping[str, Any], where: str, normalise: Callable[[str], str | None], profile: Answering
) -> Rule:
    known_keys(raw, RULE_KEYS, where)
    on_call = strings(raw, "on_call", (), where)
    if bad := [c for c in on_call if c not in ON_CALL_CHANNELS]:
        raise ConfigError(f"{where}on_call: {bad[0]!r} is not one of {', '.join(ON_CALL_CHANNELS)}")
    emails = strings(raw, "email", (), where)
    if bad := [e for e in emails if EMAIL.fullmatch(e) is None]:
        raise ConfigError(f"{where}email: {bad[0]!r} is not an email address")
    numbers = tuple(_number(n, where, normalise) for n in strings(raw, "sms", (), where))
    webhook = raw.get("webhook", False)
    if not isinstance(webhook, bool):
        raise ConfigError(f"{where}webhook: true or false")
    if webhook and profile.webhook_url is None:
        raise ConfigError(f"{where}webhook: true, but the line's answering profile has no webhook_url")
    rule = Rule(on_call=tuple(dict.fromkeys(on_call)), email=emails, sms=numbers, webhook=webhook)
    if not (rule.on_call or rule.email or rule.sms or rule.webhook):
        raise ConfigError(f"{where[:-1]}: tells nobody; name on_call, email, sms or webhook")
    return rule


def _number(raw: str, where: str, normalise: Callable[[str], str | None]) -> str:
    number = normalise(raw)
    if number is None:
        raise ConfigError(f"{where}sms: {raw!r} is not a phone number")
    return number


def _smtp(raw: Mapping[str, Any], env: Mapping[str, str]) -> Smtp:
    known_keys(raw, SMTP_KEYS, "smtp.")
    sender = string(raw, "from", None, "smtp.")
    if EMAIL.fullmatch(sender) is None:
        raise ConfigError(f"smtp.from: {sender!r} is not an email address")
    starttls = raw.get("starttls", False)
    if not isinstance(starttls, bool):
        raise ConfigError("smtp.starttls: true or false")
    password = env.get("SWITCHBOARD_SMTP_PASSWORD") or raw.get("password")
    user = raw.get("user")
    if (user is None) != (password is None):
        raise ConfigError("smtp.user, smtp.password: give both or neither")
    return Smtp(
        host=string(raw, "host", None, "smtp."), port=_port(raw), sender=sender, starttls=starttls,
        user=None if user is None else string(raw, "user", None, "smtp."),
        password=None if password is None else str(password),
    )  # fmt: skip


def _port(raw: Mapping[str, Any]) -> int:
    port = integer(raw, "port", 25, "smtp.", minimum=1)
    if port > 65535:
        raise ConfigError(f"smtp.port: {port} is not a port")
    return port


def _sms(raw: Mapping[str, Any], env: Mapping[str, str]) -> SmsProvider:
    known_keys(raw, SMS_KEYS, "sms.")
    provider = string(raw, "provider", "form", "sms.")
    if provider not in SMS_PROVIDERS:
        raise ConfigError(f"sms.provider: {provider!r} is not one of {', '.join(SMS_PROVIDERS)}")
    url = string(raw, "url", None, "sms.")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"sms.url: {url!r} must be an http or https URL")
    return SmsProvider(
        provider=provider, url=url, account=string(raw, "account", None, "sms."),
        token=env.get("SWITCHBOARD_SMS_TOKEN") or string(raw, "token", None, "sms."),
        sender=string(raw, "from", None, "sms."),
    )  # fmt: skip
