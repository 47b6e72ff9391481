"""The console's quick-create: an agent signed in to the console (a session, no API token) may create
a customer and search for one, which is what ``attach-customer`` then names."""

from __future__ import annotations

from tests.api.conftest import Api

PASSWORD = "correct horse battery"


async def test_given_an_agent_session_when_creating_and_searching_customers_then_allowed(
    sqlite_api: Api,
) -> None:
    await sqlite_api.store.users.add("alice", PASSWORD, "agent", agent="1001")
    client = sqlite_api.client
    async with client.post("/login", json={"username": "alice", "password": PASSWORD}) as r:
        assert r.status == 200
    origin = {"Origin": str(client.make_url("/")).rstrip("/")}
    new = {"name": "Mary Major", "phones": [{"number": "(646) 555-0199", "kind": "mobile"}]}
    async with client.post("/api/v1/customers", json=new, headers=origin) as r:
        assert r.status == 201
        created = await r.json()
    assert created["phones"] == [{"number": "+16465550199", "kind": "mobile"}]
    async with client.get("/api/v1/customers", params={"q": "Mary"}) as r:
        assert r.status == 200
        found = await r.json()
    assert [c["id"] for c in found["items"]] == [created["id"]]
    async with client.get("/api/v1/customers/by-number/6465550199") as r:
        assert r.status == 200 and (await r.json())["id"] == created["id"]


async def test_given_an_agent_session_from_another_origin_when_creating_then_refused(sqlite_api: Api) -> None:
    await sqlite_api.store.users.add("alice", PASSWORD, "agent", agent="1001")
    client = sqlite_api.client
    async with client.post("/login", json={"username": "alice", "password": PASSWORD}) as r:
        assert r.status == 200
    async with client.post(
        "/api/v1/customers", json={"name": "X"}, headers={"Origin": "http://evil.example"}
    ) as r:
        assert (r.status, (await r.json())["error"]) == (403, "bad-origin")
