"""Who may do what, proved end to end: every API route and every console message type, for every role.

``EXPECTED`` is written out by hand (it is the specification); the tests check the one table in
``agent_console.access`` against it, and then the running app against it, through a real store.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from agent_console.access import ANY_CALL, API_ACTIONS, API_TOKEN, CONSOLE_ACTIONS, authorize, markdown
from agent_console.api.context import ApiConfig
from agent_console.api.routes import ROUTES
from agent_console.app import ConsoleBackend, create_app
from agent_console.contract import client_types
from agent_console.hub import ConsoleHub
from agent_console.protocol import KINDS
from crm_core.domain.customers import CustomerDraft
from crm_core.domain.users import Role
from crm_core.sql.migrate import upgrade_async
from crm_core.sql.store import SqlStore
from routing.ids import AgentId, CallId, LineId, QueueId
from routing.records import CallRecord, Outcome, Party
from routing.router import Router
from tests.agent_console.fakes import PASSWORD, FakeUsers, user
from tests.agent_console.harness import PLAN, FixedDirectory, Tab, make_console

TOKEN = "matrix-token"
ALL = {"agent", "answering", "supervisor", "admin", API_TOKEN}
STAFF = {"supervisor", "admin", API_TOKEN}
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/openapi.json"): ALL,
    ("POST", "/customers"): ALL,
    ("GET", "/customers"): ALL,
    ("POST", "/customers/import"): STAFF,
    ("GET", "/customers/by-number/{number}"): ALL,
    ("GET", "/customers/{id}"): ALL,
    ("PATCH", "/customers/{id}"): ALL,
    ("DELETE", "/customers/{id}"): STAFF,
    ("POST", "/customers/{id}/anonymise"): STAFF,
    ("GET", "/customers/{id}/overview"): ALL,
    ("GET", "/customers/{id}/account"): ALL,
    ("PATCH", "/customers/{id}/account"): STAFF,
    ("GET", "/customers/{id}/orders"): ALL,
    ("POST", "/customers/{id}/orders"): STAFF,
    ("POST", "/cases"): ALL,
    ("GET", "/cases"): ALL,
    ("GET", "/cases/{id}"): ALL,
    ("PATCH", "/cases/{id}"): ALL,
    ("POST", "/cases/{id}/comments"): ALL,
    ("POST", "/cases/{id}/close"): ALL,
    ("GET", "/calls"): ALL,
    ("GET", "/calls/export.csv"): STAFF,
    ("PATCH", "/calls/{id}"): ALL,
    ("GET", "/reports/calls"): STAFF,
    ("GET", "/reports/calls.csv"): STAFF,
    ("GET", "/reports/agents"): STAFF,
    ("GET", "/reports/escalations"): STAFF,
    ("GET", "/messages/{id}/deliveries"): ALL,
    ("GET", "/oncall/{business}/people"): ALL,
    ("POST", "/oncall/{business}/people"): STAFF,
    ("PATCH", "/oncall/{business}/people/{id}"): STAFF,
    ("GET", "/oncall/{business}/schedule"): ALL,
    ("PUT", "/oncall/{business}/schedule"): STAFF,
    ("PUT", "/oncall/{business}/rotations/{tier}"): STAFF,
    ("DELETE", "/oncall/{business}/rotations/{tier}"): STAFF,
    ("POST", "/oncall/{business}/overrides"): STAFF,
    ("PATCH", "/oncall/{business}/overrides/{id}"): STAFF,
    ("DELETE", "/oncall/{business}/overrides/{id}"): STAFF,
    ("GET", "/oncall/{business}/on-call"): ALL,
    ("GET", "/oncall/{business}/gaps"): ALL,
    ("GET", "/oncall/{business}/changes"): ALL,
    ("GET", "/training"): STAFF,
    ("PUT", "/training/{agent}"): STAFF,  # an agent never puts anyone, themselves included, in training
    ("DELETE", "/training/{agent}"): STAFF,
}
SUPERVISING = {
    "watch-wallboard", "unwatch-wallboard", "set-agent-state", "supervise", "stop-supervising", "move-call",
    "call-to-front",
}  # fmt: skip
CONSOLE_EXPECTED = {kind: ALL - {API_TOKEN} for kind in KINDS.keys() - SUPERVISING} | {
    kind: {"supervisor", "admin"} for kind in SUPERVISING
}
# One valid message of every type (the fields after "type").
SAMPLES: dict[str, dict[str, Any]] = {
    "login": {}, "ready": {}, "pause": {"reason": "x"}, "logout": {}, "ack": {"offer": "x"},
    "extend-wrap-up": {"seconds": 5}, "hang-up": {}, "hold": {}, "resume": {}, "escalate": {},
    "connect-caller": {}, "back-to-caller": {},
    "transfer": {"to": "queue", "target": "q"},
    "wrap-up": {"call": "c9", "disposition": "sale", "notes": "", "case": None, "callback_at": None},
    "take-message": {"call": "c9", "urgent": False, "message": "hi", "caller_name": None,
                     "callback_number": None, "call_type": None, "form": None, "values": None},
    "message-form": {"call": "c9", "call_type": None},
    "attach-customer": {"call": "c9", "customer_id": 1},
    "pick-customer": {"call": "c9", "customer_id": 1},
    "watch-wallboard": {}, "unwatch-wallboard": {},
    "set-agent-state": {"agent": "a2", "state": "not-ready", "reason": "break"},
    "supervise": {"agent": "a2", "mode": "listen"}, "stop-supervising": {},
    "move-call": {"call": "c9", "queue": "q"}, "call-to-front": {"call": "c9"},
}  # fmt: skip
ROLES = sorted(ALL)
# Who may act on a call another agent took (the others only on their own: not-your-call).
ANY_CALL_EXPECTED: dict[str, set[str]] = {"calls.read": STAFF, "calls.wrap-up": STAFF, "console.desk": set()}


def test_every_route_and_message_type_has_an_action_and_an_expectation() -> None:
    assert set(API_ACTIONS) == {(m, p) for m, p, _ in ROUTES} == set(EXPECTED)
    assert set(CONSOLE_ACTIONS) == set(KINDS) == set(CONSOLE_EXPECTED) == set(SAMPLES) == client_types()


@pytest.mark.parametrize("role", ROLES)
def test_given_a_role_then_the_table_allows_exactly_the_expected_routes_and_messages(role: str) -> None:
    assert {r for r, action in API_ACTIONS.items() if authorize(role, action)} == {
        r for r, roles in EXPECTED.items() if role in roles
    }
    assert {k for k, action in CONSOLE_ACTIONS.items() if authorize(role, action)} == {
        k for k, roles in CONSOLE_EXPECTED.items() if role in roles
    }


@contextlib.asynccontextmanager
async def _served(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], SqlStore]]:
    url = f"sqlite+aiosqlite:///{tmp_path}/crm.db"
    await upgrade_async(url)
    store = SqlStore.open(url, "US")
    for role in Role:
        await store.users.add(f"{role}-user", PASSWORD, str(role), agent="a1")
    router = Router(PLAN)

    async def ask(_: object) -> list[Any]:
        return []

    backend = ConsoleBackend(ask, router, lambda: 0.0, store.users, lambda: {}, sessions=store.sessions)
    app = create_app(ConsoleHub(FixedDirectory()), backend, ApiConfig(store, (TOKEN,), "US"))
    test_client: TestClient[Any, Any] = TestClient(TestServer(app))
    await test_client.start_server()
    try:
        yield test_client, store
    finally:
        await test_client.close()
        await store.close()


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    async with _served(tmp_path) as (test_client, _):
        yield test_client


def _concrete(path: str) -> str:
    return (
        path.replace("{number}", "4155550123")
        .replace("{id}", "1")
        .replace("{business}", "smith")
        .replace("{tier}", "primary")
        .replace("{agent}", "a1")
    )


@pytest.mark.parametrize("role", ROLES)
async def test_given_a_role_when_calling_every_api_route_then_forbidden_exactly_where_expected(
    client: TestClient[Any, Any], role: str
) -> None:
    origin = str(client.make_url("/")).rstrip("/")
    headers = {"Origin": origin}
    if role == API_TOKEN:
        headers["Authorization"] = f"Bearer {TOKEN}"
    else:
        async with client.post("/login", json={"username": f"{role}-user", "password": PASSWORD}) as r:
            assert r.status == 200
    refused = set()
    for method, path in EXPECTED:
        async with client.request(method, f"/api/v1{_concrete(path)}", json={}, headers=headers) as r:
            assert r.status != 401, (method, path)
            if r.status == 403:
                assert (await r.json())["error"] == "forbidden"
                refused.add((method, path))
    assert refused == {route for route, roles in EXPECTED.items() if role not in roles}


@pytest.mark.parametrize("role", [r for r in ROLES if r != API_TOKEN])
@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_given_a_role_when_sending_a_console_message_then_allowed_as_expected(
    role: str, kind: str
) -> None:
    async with make_console(FakeUsers(user("u", Role(role), "a1"))) as console:
        assert (await console.sign_in("u"))[0] == 200
        ws = Tab(await console.client.ws_connect("/ws", origin=console.origin))  # replies checked too
        await ws.receive_json()  # hello
        message = {"type": kind, **SAMPLES[kind]}
        await ws.send_json(message)
        await ws.send_json({"type": "end-of-test"})  # its bad-message reply marks the end of the replies
        replies = []
        while not replies or replies[-1].get("error") != "bad-message":
            replies.append(await ws.receive_json(timeout=2))
        assert all(r.get("error") != "bad-message" for r in replies[:-1]), replies  # the sample is valid
        forbidden = any(r.get("error") == "forbidden" for r in replies)
        assert forbidden == (role not in CONSOLE_EXPECTED[kind]), replies


def test_the_docs_print_the_table_the_code_uses() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "access.md").read_text(encoding="utf-8")
    assert markdown() in docs


async def test_given_a_session_when_changing_through_the_api_from_another_origin_then_bad_origin(
    client: TestClient[Any, Any],
) -> None:
    async with client.post("/login", json={"username": "admin-user", "password": PASSWORD}) as r:
        assert r.status == 200
    async with client.post("/api/v1/cases", json={}, headers={"Origin": "http://evil.example"}) as r:
        assert (r.status, (await r.json())["error"]) == (403, "bad-origin")
    async with client.get("/api/v1/cases", headers={"Origin": "http://evil.example"}) as r:
        assert r.status == 200  # reading is safe: SameSite=Strict keeps the cookie off cross-site requests


async def test_given_no_token_and_no_session_when_calling_the_api_then_unauthorized(
    client: TestClient[Any, Any],
) -> None:
    async with client.get("/api/v1/customers") as r:
        assert (r.status, (await r.json())["error"]) == (401, "unauthorized")


@pytest.mark.parametrize("role", ROLES)
def test_given_a_role_then_the_table_lets_it_act_on_another_agents_call_exactly_as_expected(
    role: str,
) -> None:
    assert set(ANY_CALL) == set(ANY_CALL_EXPECTED)
    assert {a for a, roles in ANY_CALL.items() if role in roles} == {
        a for a, roles in ANY_CALL_EXPECTED.items() if role in roles
    }


def _record(call: str, agent: str, customer_id: int | None = None) -> tuple[CallRecord, int | None]:
    return CallRecord(
        call=CallId(call), did="+18005550101", source="radio", line=LineId("acme"), line_name="Acme",
        queue=QueueId("q"), caller_number="+14155550123", caller_name=None, agent=AgentId(agent),
        arrived_at=1_700_000_000.0, answered_at=1_700_000_010.0, ended_at=1_700_000_100.0,
        outcome=Outcome.ANSWERED, hung_up_by=Party.CALLER, offers=1,
    ), customer_id  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
async def test_given_a_role_when_wrapping_up_and_listing_calls_through_the_api_then_whose_call_it_is_decides(
    tmp_path: Path, role: str
) -> None:
    """Every user acts as a1: c-mine is theirs, c-theirs is a2's (whose customer is Jane)."""
    async with _served(tmp_path) as (client, store):
        jane = await store.customers.create(CustomerDraft(name="Jane Doe"))
        for record, customer in (_record("c-mine", "a1"), _record("c-theirs", "a2", jane.id)):
            await store.record(record, customer)
        headers = {"Origin": str(client.make_url("/")).rstrip("/")}
        if role == API_TOKEN:
            headers["Authorization"] = f"Bearer {TOKEN}"
        else:
            async with client.post("/login", json={"username": f"{role}-user", "password": PASSWORD}) as r:
                assert r.status == 200
        anyones = role in ANY_CALL_EXPECTED["calls.wrap-up"]

        async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
            async with client.request(method, f"/api/v1{path}", json=body, headers=headers) as r:
                return r.status, await r.json()

        assert (await call("PATCH", "/calls/c-mine", {"disposition": "sale"}))[0] == 200
        status, body = await call("PATCH", "/calls/c-theirs", {"disposition": "sale"})
        assert (status, body.get("error")) == ((200, None) if anyones else (403, "not-your-call"))
        logged = await store.get_call("c-theirs")
        assert logged is not None and (logged.disposition == "sale") == anyones  # refused: nothing written
        assert (await call("PATCH", "/calls/no-such-call", {"disposition": "sale"}))[0] == 404

        _, listed = await call("GET", "/calls")
        assert {c["call_id"] for c in listed["items"]} == ({"c-mine", "c-theirs"} if anyones else {"c-mine"})
        status, body = await call("GET", "/calls?agent=a2")
        assert (status, body.get("error")) == ((200, None) if anyones else (403, "not-your-call"))
        status, body = await call("GET", f"/calls?customer_id={jane.id}")  # a customer's history: anyone's
        assert (status, [c["call_id"] for c in body["items"]]) == (200, ["c-theirs"])
