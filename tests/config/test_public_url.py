"""``[http] public_url``: read as an origin, refused when it is more or less than one, and what follows
from it: the origins a browser may send, and ``Secure`` cookies."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.public_url import console_origins
from config.settings import ConfigError, load
from switchboard.bootstrap import normaliser

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "switchboard.toml"
LOOPBACK_8080 = ("http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080")


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://Calls.Example.com/", "https://calls.example.com"),
        ("https://calls.example.com:443", "https://calls.example.com"),
        ("https://calls.example.com:8443", "https://calls.example.com:8443"),
        ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
        ("https://[2001:db8::1]", "https://[2001:db8::1]"),
    ],
)
def test_given_a_public_url_when_loaded_then_it_is_kept_as_its_origin(given: str, origin: str) -> None:
    settings = load(EXAMPLE, normaliser, env={"SWITCHBOARD_PUBLIC_URL": given})
    assert settings.public_url == origin
    assert settings.console_origins == (origin, *LOOPBACK_8080)  # the example listens on 127.0.0.1:8080
    assert settings.secure_cookies is origin.startswith("https://")


@pytest.mark.parametrize(
    "given",
    ["calls.example.com", "ftp://calls.example.com", "https://", "https://calls.example.com/console",
     "https://user:pw@calls.example.com", "https://calls.example.com/?a=1", "https://calls.example.com:x"],
)  # fmt: skip
def test_given_a_public_url_that_is_not_an_origin_then_the_config_is_refused_naming_it(given: str) -> None:
    with pytest.raises(ConfigError, match=r"^SWITCHBOARD_PUBLIC_URL: "):
        load(EXAMPLE, normaliser, env={"SWITCHBOARD_PUBLIC_URL": given})


def test_given_no_public_url_then_a_loopback_listener_allows_its_own_origins_and_cookies_are_not_secure() -> (
    None
):
    settings = load(EXAMPLE, normaliser, env={})
    assert settings.public_url is None and not settings.secure_cookies
    assert settings.console_origins == LOOPBACK_8080


def test_given_no_public_url_on_a_public_listener_then_no_origin_is_known() -> None:
    """Beyond loopback the service knows no name of its own: the request's Host is compared (docs)."""
    assert console_origins(None, "0.0.0.0", 8080) == ()
    assert console_origins(None, "127.0.0.1", 0) == ()  # the port the system will pick is not known yet
    assert console_origins("https://calls.example.com", "10.0.0.5", 8080) == ("https://calls.example.com",)


def test_given_a_public_url_in_the_file_that_is_no_string_then_refused_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "switchboard.toml"
    config.write_text(EXAMPLE.read_text().replace("port = 8080", "port = 8080\npublic_url = 443"))
    with pytest.raises(ConfigError, match=r"^http\.public_url: "):
        load(config, normaliser, env={})
