"""The config file and the environment, validated into settings; every mistake named by its key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import ConfigError, load, parse
from switchboard.bootstrap import normaliser

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = {
    "ari": {"password": "secret"},
    "queues": {"q": {"name": "Q"}},
    "lines": {"acme": {"name": "Acme", "queue": "q", "dids": {"radio": "(800) 555-0101"}}},
    "agents": {"1001": {"endpoint": "PJSIP/1001", "queues": ["q"]}},
}


def test_given_the_shipped_example_when_loaded_then_thirteen_sources_on_the_acme_line() -> None:
    settings = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    dids = {number: did for number, did in settings.plan.dids.items() if did.line == "acme"}
    assert len(dids) == 13
    assert {d.line for d in settings.plan.dids.values()} == {"acme", "test", "smith"}
    assert len({d.source for d in dids.values()}) == 13
    assert dids["+18005550101"].source == "radio"
    assert settings.plan.lines["acme"].queue == "acme"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")


def test_given_numbers_in_any_format_when_parsed_then_dids_are_e164() -> None:
    settings = parse(MINIMAL, normaliser, env={})
    assert list(settings.plan.dids) == ["+18005550101"]


def test_given_environment_overrides_when_parsed_then_they_win_over_the_file() -> None:
    env = {"SWITCHBOARD_ARI_PASSWORD": "from-env", "SWITCHBOARD_DATABASE_URL": "postgresql+asyncpg://x/y",
           "SWITCHBOARD_HTTP_PORT": "9000", "SWITCHBOARD_ARI_APP": "other"}  # fmt: skip
    settings = parse(MINIMAL, normaliser, env=env)
    assert (settings.ari.password, settings.database_url, settings.http_port, settings.ari.app) == (
        "from-env", "postgresql+asyncpg://x/y", 9000, "other",
    )  # fmt: skip


def broken(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {**MINIMAL}
    raw.update(changes)
    return raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (broken(lines={"acme": {"queue": "nope", "dids": {}}}), "lines.acme.queue: no queue named 'nope'"),
        (broken(lines={"acme": {"queue": "q", "dids": {"radio": "not a number"}}}), "lines.acme.dids.radio"),
        (
            broken(
                lines={
                    "a": {"queue": "q", "dids": {"x": "8005550101"}},
                    "b": {"queue": "q", "dids": {"y": "+1 800 555 0101"}},
                }
            ),
            "already on line 'a'",
        ),
        (broken(agents={"1": {"endpoint": "PJSIP/1", "queues": ["zz"]}}), "agents.1.queues"),
        (broken(agents={"1": {"queues": ["q"]}}), "agents.1.endpoint"),
        (broken(queues={"q": {"ring_timeout_s": 0}}), "queues.q.ring_timeout_s"),
        (broken(queues={"q": {"max_wait_s": "long"}}), "queues.q.max_wait_s"),
        (broken(queues=["q"]), "queues must be a table"),
        (broken(ari={}), "ari.password"),
        (
            broken(agents={"1": {"endpoint": "PJSIP/1", "queues": ["q"], "pin": "1"}}),
            "agents.1.pin: console PINs",
        ),
        (
            broken(ari={"password": "x", "outbound_endpoint": "PJSIP/trunk"}),
            "ari.outbound_endpoint: must contain",
        ),
        (broken(http={"port": "eighty"}), "http.port"),
    ],
)
def test_given_a_mistake_when_parsed_then_config_error_names_the_key(
    raw: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(raw, normaliser, env={})


def test_given_a_missing_or_broken_file_when_loaded_then_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load(tmp_path / "nope.toml", normaliser, env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[ari\n")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load(bad, normaliser, env={})


def test_given_api_tokens_in_file_and_environment_when_parsed_then_both_accepted() -> None:
    shipped = load(ROOT / "config" / "switchboard.toml", normaliser, env={})
    assert len(shipped.api_tokens) == 1
    settings = parse(
        broken(api={"tokens": ["a-token"]}), normaliser, env={"SWITCHBOARD_API_TOKEN": "env-token"}
    )
    assert settings.api_tokens == ("a-token", "env-token")
    assert parse(MINIMAL, normaliser, env={}).api_tokens == ()


@pytest.mark.parametrize("tokens", ["one-string", [""], [42], {"a": "b"}])
def test_given_malformed_api_tokens_when_parsed_then_the_key_is_named(tokens: object) -> None:
    with pytest.raises(ConfigError, match=r"api\.tokens"):
        parse(broken(api={"tokens": tokens}), normaliser, env={})


def test_given_an_outbound_trunk_when_parsed_then_callbacks_dial_through_it() -> None:
    raw = broken(ari={"password": "x", "outbound_endpoint": "PJSIP/{number}@carrier"})
    assert parse(raw, normaliser, env={}).ari.outbound_endpoint == "PJSIP/{number}@carrier"
    assert parse(MINIMAL, normaliser, env={}).ari.outbound_endpoint == "Local/{number}@switchboard-outbound"
