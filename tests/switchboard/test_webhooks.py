"""The answering webhook against a real local HTTP server: signed, retried with backoff, bounded."""

from __future__ import annotations

import socket

from switchboard.webhooks import Webhooks
from tests.switchboard.hook_server import SECRET, hook_server

PAYLOAD = {"line": "smith", "case_id": 12, "message": "Fever since noon", "urgent": True}


async def test_given_a_webhook_that_accepts_when_posting_then_one_signed_attempt() -> None:
    webhooks = Webhooks(timeout_s=2, backoff_s=0.01)
    async with hook_server([200]) as hook:
        delivery = await webhooks.post(hook.url, SECRET, PAYLOAD)
    await webhooks.close()
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 1, None)
    assert hook.received == [PAYLOAD] and hook.signatures_ok == [True]


async def test_given_a_webhook_failing_once_when_posting_then_the_second_attempt_delivers() -> None:
    webhooks = Webhooks(timeout_s=2, backoff_s=0.01)
    async with hook_server([500, 200]) as hook:
        delivery = await webhooks.post(hook.url, SECRET, PAYLOAD)
    await webhooks.close()
    assert (delivery.ok, delivery.attempts) == (True, 2)
    assert hook.received == [PAYLOAD, PAYLOAD] and hook.signatures_ok == [True, True]


async def test_given_a_webhook_that_never_answers_when_posting_then_three_timed_out_attempts() -> None:
    webhooks = Webhooks(timeout_s=0.2, backoff_s=0.01)
    async with hook_server([None, None, None]) as hook:
        delivery = await webhooks.post(hook.url, SECRET, PAYLOAD)
    await webhooks.close()
    assert (delivery.ok, delivery.attempts, delivery.error) == (False, 3, "no answer within 0.2 s")
    assert len(hook.received) == 3


async def test_given_a_webhook_that_always_fails_when_posting_then_it_gives_up_after_three() -> None:
    webhooks = Webhooks(timeout_s=2, backoff_s=0.01)
    async with hook_server([503, 500, 502, 200]) as hook:
        delivery = await webhooks.post(hook.url, SECRET, PAYLOAD)
    await webhooks.close()
    assert (delivery.ok, delivery.attempts, delivery.error) == (False, 3, "HTTP 502")
    assert len(hook.received) == 3


async def test_given_nothing_listening_when_posting_then_refused_three_times() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    webhooks = Webhooks(timeout_s=1, backoff_s=0.01)
    delivery = await webhooks.post(f"http://127.0.0.1:{port}/hook", None, PAYLOAD)
    await webhooks.close()
    assert (delivery.ok, delivery.attempts) == (False, 3) and delivery.error is not None
