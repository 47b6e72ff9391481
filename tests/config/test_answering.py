"""``[lines.<id>.answering]`` and ``[console]``: read, checked, every mistake named by its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.answering import DEFAULT_DISPOSITION_CODES, Answering
from config.settings import ConfigError, load, parse
from switchboard.bootstrap import normaliser

ROOT = Path(__file__).resolve().parents[2]
PROFILE = {"greeting": "Dr. Smith's office.", "script": "Ask for the name\nAsk for the number"}


def raw(answering: dict[str, Any] | None = None, console: dict[str, Any] | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"name": "Smith", "queue": "q", "dids": {"main": "(800) 555-0201"}}
    if answering is not None:
        line["answering"] = answering
    found: dict[str, Any] = {
        "ari": {"password": "secret"},
        "queues": {"q": {"name": "Q"}},
        "lines": {"smith": line},
        "agents": {"1001": {"endpoint": "PJSIP/1001", "queues": ["q"]}},
    }
    if console is not None:
        found["console"] = console
    return found


def test_given_no_answering_or_console_tables_then_no_profiles_and_the_default_codes() -> None:
    settings = parse(raw(), normaliser, env={})
    assert settings.answering == {}
    assert settings.disposition_codes == DEFAULT_DISPOSITION_CODES


def test_given_a_profile_when_parsed_then_the_line_has_it_and_the_plan_is_unchanged() -> None:
    profile = {**PROFILE, "instructions": "Chest pain: 911", "webhook_url": "https://example.com/hook",
               "webhook_secret": "from-file"}  # fmt: skip
    settings = parse(raw(profile, {"disposition_codes": ["booked", "message-taken"]}), normaliser, env={})
    assert settings.answering == {
        "smith": Answering("Dr. Smith's office.", "Ask for the name\nAsk for the number", "Chest pain: 911",
                           "https://example.com/hook", "from-file")
    }  # fmt: skip
    assert settings.plan.lines["smith"].queue == "q"
    assert settings.disposition_codes == ("booked", "message-taken")


def test_given_the_secret_in_the_environment_then_it_wins_over_the_file() -> None:
    profile = {**PROFILE, "webhook_url": "https://example.com/hook", "webhook_secret": "from-file"}
    env = {"SWITCHBOARD_WEBHOOK_SECRET_SMITH": "from-env"}
    assert parse(raw(profile), normaliser, env=env).answering["smith"].webhook_secret == "from-env"


@pytest.mark.parametrize(
    ("answering", "console", "message"),
    [
        ({**PROFILE, "greting": "x"}, None, "lines.smith.answering.greting: unknown key"),
        ({"script": "x"}, None, "lines.smith.answering.greeting: a non-empty string is required"),
        ({"greeting": "x"}, None, "lines.smith.answering.script: a non-empty string is required"),
        ({**PROFILE, "webhook_url": "ftp://example.com"}, None, "lines.smith.answering.webhook_url"),
        ({**PROFILE, "webhook_url": "example.com/hook"}, None, "lines.smith.answering.webhook_url"),
        ({**PROFILE, "webhook_secret": 42}, None, "lines.smith.answering.webhook_secret"),
        ("not a table", None, "lines.smith.answering must be a table"),
        (None, {"dispositions": ["x"]}, "console.dispositions: unknown key"),
        (None, {"disposition_codes": []}, "console.disposition_codes: at least one"),
        (None, {"disposition_codes": ["a", "a"]}, "console.disposition_codes: codes must be distinct"),
        (None, {"disposition_codes": "sale"}, "console.disposition_codes: a list of non-empty strings"),
    ],
)
def test_given_a_mistake_when_parsed_then_refused_naming_the_key(
    answering: Any, console: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse(raw(answering, console), normaliser, env={})
    assert message in str(refused.value)


def test_given_the_shipped_example_then_dr_smiths_office_has_an_answering_profile_without_webhook() -> None:
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    smith = settings.answering["smith"]
    assert smith.greeting.startswith("Dr. Smith's office") and "\n" in smith.script
    assert smith.webhook_url is None
    assert "acme" not in settings.answering
    assert settings.disposition_codes[:5] == ("sale", "support", "complaint", "wrong-number", "no-action")
