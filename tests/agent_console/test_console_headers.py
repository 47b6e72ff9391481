"""Security headers on every response of the console (pages, static files, refusals, the websocket's), no
``Server`` version banner, and pages that need no inline script or style, so the policy can forbid them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest

from agent_console.app import STATIC
from tests.agent_console.harness import Console

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def assert_secured(headers: Mapping[str, str]) -> None:
    """``headers`` as aiohttp gives them (case-insensitive)."""
    directives = (d.partition(" ") for d in headers["Content-Security-Policy"].split("; "))
    policy = {name: value for name, _, value in directives}
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert {name: headers.get(name) for name in EXPECTED} == EXPECTED
    assert "Server" not in headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/wallboard", 200),
        ("GET", "/reports", 200),
        ("GET", "/static/console.js", 200),
        ("GET", "/static/console.css", 200),
        ("GET", "/healthz", 200),
        ("GET", "/protocol/schemas.json", 200),
        ("GET", "/session", 401),
        ("GET", "/no-such-page", 404),
        ("GET", "/static/no-such-file.js", 404),
        ("POST", "/", 405),
        ("POST", "/logout", 200),
    ],
)
async def test_given_any_request_when_answered_then_security_headers_and_no_server_banner(
    console: Console, method: str, path: str, status: int
) -> None:
    async with console.client.request(method, path) as r:
        assert r.status == status
        assert_secured(r.headers)


@pytest.mark.parametrize(
    ("body", "status"),
    [('{"username": "alice", "password": "wrong password"}', 401), ("{", 400), ("{}", 422)],
)
async def test_given_a_refused_login_when_answered_then_security_headers(
    console: Console, body: str, status: int
) -> None:
    async with console.client.post("/login", data=body) as r:
        assert r.status == status
        assert_secured(r.headers)


async def test_given_a_websocket_when_opened_or_refused_then_security_headers(console: Console) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await console.client.ws_connect("/ws", origin="http://evil.example")
    assert refused.value.headers is not None
    assert_secured(refused.value.headers)
    tab = await console.ws(login=False)
    assert_secured(tab.ws._response.headers)


class _Inline(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block: script bodies, scripts without a
    source, ``on*`` handlers, ``style`` attributes and elements, ``javascript:`` URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self._in_script = tag == "script"
        if tag == "script" and not named.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=...>")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script body")


@pytest.mark.parametrize("page", sorted(p.name for p in STATIC.glob("*.html")))
def test_given_a_console_page_then_it_has_no_inline_script_handler_or_style(page: str) -> None:
    parser = _Inline()
    parser.feed((STATIC / page).read_text(encoding="utf-8"))
    assert parser.found == []


@pytest.mark.parametrize("script", sorted(p.name for p in STATIC.glob("*.js")))
def test_given_a_console_script_then_it_builds_no_code_or_markup_from_strings(script: str) -> None:
    source = Path(STATIC / script).read_text(encoding="utf-8")
    risky = (r"\beval\(", r"new Function\b", r"\.(inner|outer)HTML\b", r"insertAdjacentHTML",
             r"setAttribute\(\s*[\"'](on|style)")  # fmt: skip
    assert [pattern for pattern in risky if re.search(pattern, source)] == []
