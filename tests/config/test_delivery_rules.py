"""``[lines.<id>.answering.delivery]``, ``[smtp]``, ``[sms]``, ``[deliveries]``: read, checked, every mistake
named by its key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from config.deliveries import DEV_LINK_SECRET, Rule
from config.settings import ConfigError, load, parse
from routing.ids import LineId
from switchboard.bootstrap import normaliser

ROOT = Path(__file__).resolve().parents[2]
SMTP = {"host": "127.0.0.1", "port": 2525, "from": "answering@example.com"}
SMS = {"url": "https://sms.example.com/Messages.json", "account": "AC1", "token": "t", "from": "+18005550199"}
PROFILE = {"greeting": "Hello.", "script": "Ask.", "webhook_url": "https://example.com/hook"}
URGENT = {"on_call": ["sms", "email"], "webhook": True}
ROUTINE = {"email": ["frontdesk@example.com"]}


def raw(delivery: dict[str, Any] | None, **tables: Any) -> dict[str, Any]:
    answering: dict[str, Any] = dict(PROFILE)
    if delivery is not None:
        answering["delivery"] = delivery
    line = {"name": "Smith", "queue": "q", "dids": {"main": "(800) 555-0201"}, "answering": answering}
    return {
        "ari": {"password": "secret"}, "queues": {"q": {"name": "Q"}}, "lines": {"smith": line},
        "agents": {"1001": {"endpoint": "PJSIP/1001", "queues": ["q"]}}, **tables,
    }  # fmt: skip


def test_given_rules_when_parsed_then_urgent_and_routine_as_written() -> None:
    settings = parse(raw({"urgent": URGENT, "routine": ROUTINE}, smtp=SMTP, sms=SMS), normaliser, env={})
    rules = settings.deliveries.rules[LineId("smith")]
    assert rules.urgent == Rule(on_call=("sms", "email"), webhook=True)
    assert rules.routine == Rule(email=("frontdesk@example.com",))
    assert settings.deliveries.smtp is not None and settings.deliveries.smtp.port == 2525
    assert settings.deliveries.link_secret == DEV_LINK_SECRET


def test_given_only_routine_then_urgent_messages_follow_it() -> None:
    settings = parse(raw({"routine": {"sms": ["(415) 555-0100"]}}, sms=SMS), normaliser, env={})
    rules = settings.deliveries.rules[LineId("smith")]
    assert rules.urgent == rules.routine == Rule(sms=("+14155550100",))


def test_given_no_delivery_table_then_no_rules() -> None:
    assert parse(raw(None), normaliser, env={}).deliveries.rules == {}


def test_given_the_environment_then_it_overrides_the_secrets() -> None:
    env = {"SWITCHBOARD_SMS_TOKEN": "from-env", "SWITCHBOARD_DELIVERY_LINK_SECRET": "link-from-env"}
    settings = parse(raw({"routine": {"sms": ["+14155550100"]}}, sms=SMS), normaliser, env=env)
    assert settings.deliveries.sms is not None and settings.deliveries.sms.token == "from-env"
    assert settings.deliveries.link_secret == "link-from-env"


@pytest.mark.parametrize(
    ("delivery", "tables", "message"),
    [
        ({"urgent": URGENT}, {"smtp": SMTP, "sms": SMS}, "delivery.routine: required"),
        ({"routine": {}}, {}, "delivery.routine: tells nobody"),
        ({"routine": {"email": ["not an address"]}}, {"smtp": SMTP}, "routine.email: 'not an address'"),
        ({"routine": {"sms": ["call me"]}}, {"sms": SMS}, "routine.sms: 'call me' is not a phone number"),
        ({"routine": {"on_call": ["fax"]}}, {}, "routine.on_call: 'fax' is not one of sms, email"),
        ({"routine": ROUTINE}, {}, "delivery.routine: sends email, but there is no [smtp]"),
        ({"routine": {"on_call": ["sms"]}}, {}, "delivery.routine: sends SMS, but there is no [sms]"),
        ({"routine": ROUTINE, "later": {}}, {"smtp": SMTP}, "unknown key"),
        ({"routine": {"pager": ["1"]}}, {}, "unknown key"),
        ({"routine": {"webhook": "yes"}}, {}, "routine.webhook: true or false"),
        ({"routine": ROUTINE}, {"smtp": {**SMTP, "from": "nobody"}}, "smtp.from: 'nobody'"),
        ({"routine": ROUTINE}, {"smtp": {**SMTP, "port": 70000}}, "smtp.port: 70000 is not a port"),
        ({"routine": ROUTINE}, {"smtp": {**SMTP, "user": "u"}}, "give both or neither"),
        ({"routine": {"sms": ["+14155550100"]}}, {"sms": {**SMS, "provider": "pigeon"}}, "sms.provider"),
        ({"routine": {"sms": ["+14155550100"]}}, {"sms": {**SMS, "url": "ftp://x"}}, "sms.url"),
        ({"routine": ROUTINE}, {"smtp": SMTP, "deliveries": {"attempts": 0}}, "deliveries.attempts"),
    ],
)
def test_given_a_bad_delivery_config_then_a_clear_error(
    delivery: dict[str, Any], tables: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(raw(delivery, **tables), normaliser, env={})


def test_given_a_webhook_rule_without_a_webhook_url_then_refused() -> None:
    found = raw({"routine": {"webhook": True}})
    del found["lines"]["smith"]["answering"]["webhook_url"]
    with pytest.raises(ConfigError, match="has no webhook_url"):
        parse(found, normaliser, env={})


def test_given_rules_beyond_loopback_then_the_placeholder_link_secret_is_refused() -> None:
    exposed = raw({"routine": ROUTINE}, smtp=SMTP, http={"host": "0.0.0.0"}, api={"tokens": []})
    exposed["ari"]["password"] = "x" * 40
    with pytest.raises(ConfigError, match=r"deliveries\.link_secret"):
        parse(exposed, normaliser, env={})


def test_given_the_shipped_config_then_it_loads_with_its_delivery_rules() -> None:
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    assert LineId("smith") in settings.deliveries.rules
