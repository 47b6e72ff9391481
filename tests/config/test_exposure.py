"""A listener beyond loopback refuses the shipped placeholder secrets and short ones; loopback keeps them,
so the README's first call still works with the example config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.exposure import MIN_SECRET_BYTES, is_loopback
from config.settings import ConfigError, load, parse
from switchboard.bootstrap import normaliser
from switchboard.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "switchboard.toml"
STRONG = "k" * MIN_SECRET_BYTES
PUBLIC = {"SWITCHBOARD_HTTP_HOST": "0.0.0.0"}


def raw(*, host: str = "0.0.0.0", token: str = STRONG, ari: str = STRONG, webhook: str = STRONG) -> Any:
    answering = {"greeting": "Hello", "script": "Ask", "webhook_url": "https://x.example/m",
                 "webhook_secret": webhook}  # fmt: skip
    return {
        "ari": {"password": ari},
        "http": {"host": host},
        "api": {"tokens": [STRONG, token]},
        "queues": {"q": {"name": "Q"}},
        "lines": {"acme": {"queue": "q", "dids": {"radio": "8005550101"}, "answering": answering}},
        "agents": {"1001": {"endpoint": "PJSIP/1001", "queues": ["q"]}},
    }


def test_given_the_shipped_example_on_a_public_host_when_loaded_then_refused_naming_the_token() -> None:
    with pytest.raises(ConfigError) as refused:
        load(EXAMPLE, normaliser, env=PUBLIC)
    message = str(refused.value)
    assert message.startswith("api.tokens[0] is the shipped placeholder 'dev-only-insecure-token'")
    assert "'0.0.0.0' (not loopback)" in message and "\n" not in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LocalHost"])
def test_given_the_shipped_example_on_loopback_when_loaded_then_its_placeholders_still_work(
    host: str,
) -> None:
    settings = load(EXAMPLE, normaliser, env={"SWITCHBOARD_HTTP_HOST": host})
    assert settings.api_tokens == ("dev-only-insecure-token",)
    assert settings.ari.password == "switchboard-test"


@pytest.mark.parametrize(
    ("secrets", "env", "named"),
    [
        ({"token": "dev-only-insecure-token"}, {}, "api.tokens[1] is the shipped placeholder"),
        ({"token": "k" * (MIN_SECRET_BYTES - 1)}, {}, "api.tokens[1] is shorter than 32 bytes"),
        ({"ari": "switchboard-test"}, {}, "ari.password is the shipped placeholder 'switchboard-test'"),
        ({"ari": "hunter2"}, {}, "ari.password is shorter than 32 bytes"),
        ({"webhook": "change-me"}, {}, "lines.acme.answering.webhook_secret is the shipped placeholder"),
        ({}, {"SWITCHBOARD_API_TOKEN": "short"}, "SWITCHBOARD_API_TOKEN is shorter"),
        ({}, {"SWITCHBOARD_ARI_PASSWORD": "switchboard-test"}, "SWITCHBOARD_ARI_PASSWORD is the shipped"),
        ({}, {"SWITCHBOARD_WEBHOOK_SECRET_ACME": "short"}, "SWITCHBOARD_WEBHOOK_SECRET_ACME is shorter"),
    ],
)
def test_given_a_weak_secret_on_a_public_host_when_parsed_then_refused_naming_its_key_not_its_value(
    secrets: dict[str, str], env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse(raw(**secrets), normaliser, env=env)
    assert str(refused.value).startswith(named)
    assert "hunter2" not in str(refused.value) and "'short'" not in str(refused.value)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "::ffff:10.0.0.1", "switchboard.example"])
def test_given_a_host_beyond_loopback_when_a_secret_is_weak_then_refused(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ConfigError, match="not loopback"):
        parse(raw(host=host, ari="switchboard-test"), normaliser, env={})


def test_given_secrets_of_32_bytes_on_a_public_host_when_parsed_then_accepted() -> None:
    settings = parse(raw(token="é" * (MIN_SECRET_BYTES // 2)), normaliser, env={})  # 32 bytes in UTF-8
    assert settings.http_host == "0.0.0.0" and len(settings.api_tokens) == 2


def test_given_the_shipped_example_on_a_public_host_when_serving_then_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in ("SWITCHBOARD_API_TOKEN", "SWITCHBOARD_ARI_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SWITCHBOARD_HTTP_HOST", "0.0.0.0")
    assert main(["--config", str(EXAMPLE), "serve"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("switchboard: config: api.tokens[0] is the shipped placeholder")
