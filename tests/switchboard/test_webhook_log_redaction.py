"""What the log says of a webhook's URL: never its userinfo (a password) nor its query (a token)."""

from __future__ import annotations

import socket

from structlog.testing import capture_logs
from yarl import URL

from switchboard.webhooks import Webhooks
from tests.switchboard.hook_server import SECRET, hook_server

PAYLOAD = {"line": "smith", "case_id": 12, "message": "Fever since noon", "urgent": False}
PASSWORD, TOKEN = "pw-9c1f0e", "tok-77ab31"


def _with_secrets(url: str) -> str:
    return str(URL(url).with_user("acme").with_password(PASSWORD).with_query({"token": TOKEN}))


async def test_given_a_url_with_credentials_when_delivered_then_the_log_names_it_without_them() -> None:
    webhooks = Webhooks(timeout_s=2, backoff_s=0.01)
    async with hook_server([500, 200]) as hook:
        with capture_logs() as entries:
            delivery = await webhooks.post(_with_secrets(hook.url), SECRET, PAYLOAD)
    await webhooks.close()
    assert delivery.ok and len(hook.received) == 2  # the secrets still went to the webhook
    assert [e["url"] for e in entries] == [hook.url, hook.url]
    assert PASSWORD not in repr(entries) and TOKEN not in repr(entries) and "acme" not in repr(entries)


async def test_given_a_url_with_credentials_when_nothing_listens_then_log_and_error_hide_them() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    webhooks = Webhooks(timeout_s=1, backoff_s=0.01, attempts=2)
    with capture_logs() as entries:
        delivery = await webhooks.post(_with_secrets(f"http://127.0.0.1:{port}/hook"), None, PAYLOAD)
    await webhooks.close()
    assert not delivery.ok and delivery.error is not None
    assert [e["event"] for e in entries] == ["webhook.attempt", "webhook.attempt", "webhook.failed"]
    assert {e["url"] for e in entries} == {f"http://127.0.0.1:{port}/hook"}
    shown = repr(entries) + delivery.error
    assert PASSWORD not in shown and TOKEN not in shown


async def test_given_an_unparseable_url_when_posted_then_the_log_does_not_repeat_it() -> None:
    webhooks = Webhooks(timeout_s=1, backoff_s=0.01, attempts=1)
    with capture_logs() as entries:
        delivery = await webhooks.post(f"http://acme:{PASSWORD}@host:99999/hook?token={TOKEN}", None, PAYLOAD)
    await webhooks.close()
    assert not delivery.ok and delivery.error is not None
    shown = repr(entries) + delivery.error
    assert PASSWORD not in shown and TOKEN not in shown
