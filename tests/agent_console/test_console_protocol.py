"""The console's websocket with aiohttp's test client, over a real router (no PBX): sessions, origin,
login, actions, pops, hostile input."""

from __future__ import annotations

import json

import pytest

from routing import events as ev
from routing.ids import AgentId, CallId
from tests.agent_console.harness import Console, next_of, ready


async def test_given_a_ready_agent_when_the_phone_rings_then_the_pop_carries_customer_line_and_source(
    console: Console,
) -> None:
    ws = await console.ws()
    await ready(ws)
    console.ring()
    offer = await next_of(ws, "offer")
    assert offer["customer"]["name"] == "Jane Doe" and offer["customer"]["tier"] == "vip"
    assert (offer["line"]["name"], offer["source"], offer["did"]) == ("Acme Service", "radio", "+18005550101")
    assert offer["waited_s"] == pytest.approx(0.01)
    assert offer["customer"]["account"] == {
        "status": "on-hold", "balance": "1250.50", "currency": "USD", "credit_limit": "1000.00",
        "on_credit_hold": True, "last_payment_on": "2026-10-01",
    }  # fmt: skip
    await ws.send_json({"type": "ack", "offer": offer["offer"]})
    await ws.send_json({"type": "ready"})  # refused while ringing: a round trip, so the ack was handled
    assert (await next_of(ws, "error"))["error"] == "not-allowed-now"
    assert console.hub.acked == {"sb-c1-1": "a1"}


async def test_given_an_unknown_caller_when_the_phone_rings_then_the_pop_says_unknown(
    console: Console,
) -> None:
    ws = await console.ws()
    await ready(ws)
    console.ring(caller="+12125550100")
    offer = await next_of(ws, "offer")
    assert offer["customer"] is None and offer["caller"]["number"] == "+12125550100"


async def test_given_a_pending_pop_when_a_second_tab_logs_in_then_it_gets_the_pop_too(
    console: Console,
) -> None:
    first = await console.ws()
    await ready(first)
    console.ring()
    offer = await next_of(first, "offer")
    second = await console.ws()
    assert second.snapshot["call"]["offer"] == offer


async def test_given_a_withdrawn_pop_when_the_console_reconnects_then_it_is_not_shown_again(
    console: Console,
) -> None:
    ws = await console.ws()
    await ready(ws)
    console.ring()
    await next_of(ws, "offer")
    console.loop.submit(ev.CallerHungUp(CallId("c1"), 1001.0))
    assert (await next_of(ws, "offer-withdrawn"))["reason"] == "caller-hung-up"
    again = await console.ws()
    await again.send_json({"type": "ready"})  # already ready: no state change, but proves the order
    await again.send_json({"type": "nonsense"})
    assert (await again.receive_json(timeout=2))["type"] == "error"


async def test_given_a_session_when_acting_before_the_login_message_then_not_logged_in(
    console: Console,
) -> None:
    ws = await console.ws(login=False)
    await ws.send_json({"type": "ready"})
    assert (await ws.receive_json())["error"] == "not-logged-in"


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        json.dumps({"kind": "ready"}),
        json.dumps({"type": "dance"}),
        json.dumps({"type": "ready", "extra": 1}),
        json.dumps({"type": "pause", "reason": "x" * 41}),
        json.dumps({"type": "pause", "reason": 5}),
        json.dumps({"type": "login", "agent": "a1", "pin": "1234"}),  # the old login: the session says who
        json.dumps({"type": "login", "agent": "a1" * 5000}),
        "\"'; DROP TABLE customers; --",
        # v2: schemas, sizes, nesting, numbers, text
        json.dumps({"type": "ready", "pad": "x" * 17000}),  # over 16384 bytes
        json.dumps({"type": "extend-wrap-up", "seconds": "5"}),
        json.dumps({"type": "extend-wrap-up", "seconds": 5.5}),
        json.dumps({"type": "extend-wrap-up", "seconds": True}),
        json.dumps({"type": "extend-wrap-up", "seconds": 10**300}),
        '{"type": "extend-wrap-up", "seconds": ' + "9" * 5000 + "}",  # past Python's int-from-text limit
        '{"type": "extend-wrap-up", "seconds": 1e999}',
        '{"type": "extend-wrap-up", "seconds": NaN}',
        json.dumps({"type": "attach-customer", "call": "c1", "customer_id": 2**80}),
        json.dumps({"type": "transfer", "to": "moon", "target": "x"}),
        json.dumps({"type": "transfer", "to": "queue"}),
        json.dumps({"type": "hang-up", "call": "c1"}),
        json.dumps(
            {
                "type": "wrap-up",
                "call": "c1",
                "disposition": "sale",
                "notes": "n" * 4001,
                "case": None,
                "callback_at": None,
            }
        ),
        json.dumps(
            {
                "type": "wrap-up",
                "call": "c1",
                "disposition": "sale",
                "notes": "",
                "callback_at": None,
                "case": {"action": "create", "subject": "", "priority": "normal"},
            }
        ),
        json.dumps(
            {
                "type": "wrap-up",
                "call": "c1",
                "disposition": "sale",
                "notes": "",
                "case": None,
                "callback_at": "tomorrow at ten",
            }
        ),
        json.dumps(
            {
                "type": "wrap-up",
                "call": "c1",
                "disposition": "sale",
                "notes": "",
                "case": None,
                "callback_at": "2026-12-01T10:00:00",
            }
        ),  # no offset: whose ten o'clock?
        json.dumps(
            {
                "type": "take-message",
                "call": "c1",
                "urgent": "yes",
                "message": "m",
                "caller_name": None,
                "callback_number": None,
            }
        ),
        json.dumps(
            {
                "type": "take-message",
                "call": {"$ne": 1},
                "urgent": False,
                "message": "m",
                "caller_name": None,
                "callback_number": None,
            }
        ),
        "[" * 5000 + "]" * 5000,  # nested deeper than the parser recurses
        json.dumps({"type": "pause", "reason": {"a": {"b": {"c": {"d": [[[[[[1]]]]]]}}}}}),
        '{"type": "pause", "reason": "\\ud800"}',  # a lone surrogate
        json.dumps({"type": ["ready"]}),
        json.dumps({"type": "snapshot"}),  # a server message sent back
    ],
)
async def test_given_a_malformed_message_when_sent_then_error_reply_and_connection_survives(
    console: Console, raw: str
) -> None:
    ws = await console.ws()
    await ws.send_str(raw)
    reply = await ws.receive_json()
    assert reply["type"] == "error" and reply["error"] == "bad-message"
    await ws.send_json({"type": "ready"})
    assert (await next_of(ws, "state"))["state"] == "ready"


@pytest.mark.parametrize(
    "frame", [b"\x00\x01", b"\xff\xfe{not utf-8}", json.dumps({"type": "ready"}).encode()]
)
async def test_given_a_binary_frame_when_sent_then_error_and_the_connection_survives(
    console: Console, frame: bytes
) -> None:
    ws = await console.ws()
    await ws.send_bytes(frame)
    assert (await ws.receive_json())["error"] == "bad-message"
    await ws.send_json({"type": "ready"})
    assert (await next_of(ws, "state"))["state"] == "ready"


async def test_given_a_ringing_phone_when_the_agent_pauses_then_the_call_is_declined_and_the_agent_paused(
    console: Console,
) -> None:
    ws = await console.ws()
    await ready(ws)
    console.ring()
    offer = await next_of(ws, "offer")
    await ws.send_json({"type": "pause", "reason": "break"})
    withdrawn = await next_of(ws, "offer-withdrawn")
    assert (withdrawn["offer"], withdrawn["reason"]) == (offer["offer"], "declined")
    assert (await next_of(ws, "state"))["state"] == "not-ready"
    assert console.loop.router.agent_view(AgentId("a1")).state == "not-ready"


async def test_given_a_ready_agent_when_pausing_with_an_unknown_reason_then_refused(console: Console) -> None:
    ws = await console.ws()
    await ready(ws)
    await ws.send_json({"type": "pause", "reason": "nap"})
    assert (await next_of(ws, "error"))["error"] == "unknown-reason"
    assert console.loop.router.agent_view(AgentId("a1")).state == "ready"


async def test_given_the_service_when_health_is_asked_then_json(console: Console) -> None:
    resp = await console.client.get("/healthz")
    assert resp.status == 200 and await resp.json() == {"ok": True}


async def test_given_the_page_when_fetched_then_html_and_module_are_served(console: Console) -> None:
    page = await console.client.get("/")
    assert page.status == 200 and "console.js" in await page.text()
    script = await console.client.get("/static/console.js")
    assert script.status == 200


async def test_given_a_slow_customer_store_when_the_phone_rings_then_pop_now_and_record_follows(
    console: Console,
) -> None:
    console.directory.slow = True
    ws = await console.ws()
    await ready(ws)
    console.ring()
    offer = await next_of(ws, "offer")
    assert offer["customer_pending"] is True and offer["customer"] is None
    assert offer["caller"]["number"] == "+14155550123" and offer["source"] == "radio"
    console.directory.release.set()
    follow_up = await next_of(ws, "offer-customer")
    assert follow_up["offer"] == offer["offer"] and follow_up["customer"]["name"] == "Jane Doe"
    # A console that reconnects now gets the whole pop at once.
    again = await console.ws()
    resent = again.snapshot["call"]["offer"]
    assert resent["customer_pending"] is False and resent["customer"]["name"] == "Jane Doe"


async def test_given_a_frame_over_four_times_the_limit_then_the_socket_is_closed_as_too_big(
    console: Console,
) -> None:
    ws = await console.ws()
    await ws.send_str(json.dumps({"type": "ready", "pad": "x" * 70000}))
    closing = await ws.ws.receive(timeout=2)
    assert closing.type.name in ("CLOSE", "CLOSED", "CLOSING") and ws.ws.close_code == 1009
