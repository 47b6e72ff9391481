"""Cases and the call log over HTTP on SQLite and PostgreSQL: the case flow, call queries with
cursors, the streamed CSV export and the agent's wrap-up."""

from __future__ import annotations

import csv
import io

from crm_core.csv.calls import CALL_CSV_COLUMNS
from routing import commands as cmd
from routing.ids import AgentId
from routing.records import Outcome
from switchboard.recorder import attempt_of
from tests.api.conftest import Api, MakeCall


async def customer(api: Api, name: str = "Case Owner") -> int:
    _, created = await api.call("POST", "/customers", {"name": name})
    return int(created["id"])


async def test_given_a_case_when_changed_commented_closed_reopened_then_history_tells_it(api: Api) -> None:
    cid = await customer(api)
    new = {
        "customer_id": cid,
        "subject": "No water",
        "priority": "high",
        "due_at": "2026-12-01T09:00:00+01:00",
    }
    status, case = await api.call("POST", "/cases", new)
    assert status == 201 and case["status"] == "open" and case["priority"] == "high"
    status, changed = await api.call(
        "PATCH", f"/cases/{case['id']}", {"status": "escalated", "owner": "team-b"}
    )
    assert status == 200 and (changed["status"], changed["owner"]) == ("escalated", "team-b")
    status, event = await api.call("POST", f"/cases/{case['id']}/comments", {"text": "Called back"})
    assert status == 201 and event["comment"] == "Called back" and event["author"] == "api-token-1"
    status, closed = await api.call("POST", f"/cases/{case['id']}/close", {"comment": "Fixed"})
    assert status == 200 and closed["status"] == "closed" and closed["closed_at"] is not None
    status, body = await api.call("PATCH", f"/cases/{case['id']}", {"subject": "Other"})
    assert (status, body["error"]) == (409, "conflict")
    status, reopened = await api.call("PATCH", f"/cases/{case['id']}", {"status": "open"})
    assert status == 200 and reopened["closed_at"] is None
    _, read = await api.call("GET", f"/cases/{case['id']}")
    kinds = [event["kind"] for event in read["history"]]
    assert kinds[0] == "opened" and "commented" in kinds and len(kinds) >= 5


async def test_given_cases_when_listed_by_filter_in_pages_then_each_once(api: Api) -> None:
    one, two = await customer(api, "One"), await customer(api, "Two")
    opened = [
        (await api.call("POST", "/cases", {"customer_id": one, "subject": f"S{n}", "owner": "ann"}))[1]["id"]
        for n in range(5)
    ]
    await api.call("POST", "/cases", {"customer_id": two, "subject": "Elsewhere"})
    await api.call("POST", f"/cases/{opened[0]}/close")
    seen: list[int] = []
    cursor = ""
    while True:
        status, page = await api.call("GET", f"/cases?customer_id={one}&status=open&limit=2{cursor}")
        assert status == 200
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert sorted(seen) == sorted(opened[1:]) and len(seen) == 4
    status, body = await api.call("GET", "/cases?status=sideways")
    assert (status, body["error"]) == (422, "invalid-input")


async def test_given_a_case_for_an_unknown_customer_when_opened_then_404_and_nothing_written(
    api: Api,
) -> None:
    before = await api.row_counts()
    status, body = await api.call("POST", "/cases", {"customer_id": 424242, "subject": "Ghost"})
    assert (status, body["error"]) == (404, "not-found")
    assert await api.row_counts() == before


async def test_given_logged_calls_when_queried_by_filters_then_newest_first_in_pages(
    api: Api, record_call: MakeCall
) -> None:
    cid = await customer(api)
    for n in range(5):
        await record_call(cid, arrived_at=1_700_000_000.0 + n, agent=AgentId("a1"))
    await record_call(
        None, arrived_at=1_700_000_100.0, outcome=Outcome.ABANDONED, answered_at=None, agent=None
    )
    seen: list[str] = []
    cursor = ""
    while True:
        status, page = await api.call("GET", f"/calls?customer_id={cid}&agent=a1&limit=2{cursor}")
        assert status == 200
        seen += [item["arrived_at"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    status, page = await api.call("GET", "/calls", params={"outcome": "abandoned"})
    assert [item["outcome"] for item in page["items"]] == ["abandoned"]
    status, page = await api.call(
        "GET", "/calls", params={"since": "2023-11-14T22:13:22+00:00", "until": "2023-11-14T22:13:24+00:00"}
    )
    assert status == 200 and len(page["items"]) == 2


async def test_given_after_hours_calls_when_queried_then_acd_fields_shown_and_filterable(
    api: Api, record_call: MakeCall
) -> None:
    day = await record_call(None, arrived_at=1_700_000_000.0)
    night = await record_call(
        None,
        arrived_at=1_700_000_010.0,
        outcome=Outcome.VOICEMAIL,
        priority=10,
        after_hours=True,
        on_call="Dr. Jones (backup)",
        recording="vm-1",
    )
    back = await record_call(
        None, arrived_at=1_700_000_020.0, outcome=Outcome.CALLBACK, callback_of=night.call
    )

    status, page = await api.call("GET", "/calls", params={"after_hours": "true"})
    assert status == 200 and [item["call_id"] for item in page["items"]] == [night.call]
    acd = ("priority", "after_hours", "on_call", "recording", "callback_of")
    assert [page["items"][0][name] for name in acd] == [10, True, "Dr. Jones (backup)", "vm-1", None]
    status, page = await api.call("GET", "/calls", params={"after_hours": "false"})
    assert [item["call_id"] for item in page["items"]] == [back.call, day.call]
    assert [page["items"][0][name] for name in acd] == [0, False, None, None, night.call]


async def test_given_a_bad_outcome_or_after_hours_filter_when_queried_then_422_naming_every_choice(
    api: Api,
) -> None:
    status, body = await api.call("GET", "/calls", params={"outcome": "lost"})
    assert (status, body["field"]) == (422, "outcome")
    assert all(outcome.value in body["message"] for outcome in Outcome)
    status, body = await api.call("GET", "/calls", params={"after_hours": "yes"})
    assert (status, body["field"]) == (422, "after_hours")


async def test_given_calls_when_exported_then_csv_streams_oldest_first_with_header(
    api: Api, record_call: MakeCall
) -> None:
    cid = await customer(api)
    notes = 'said "hi", then, left\nnew line'
    first = await record_call(cid, arrived_at=1_700_000_000.0)
    await record_call(cid, arrived_at=1_700_000_050.0)
    await record_call(None, arrived_at=1_700_000_070.0, queue=None)
    status, _ = await api.call("PATCH", f"/calls/{first.call}", {"agent_notes": notes})
    assert status == 200
    async with api.client.get(
        f"/api/v1/calls/export.csv?customer_id={cid}", headers={"Authorization": "Bearer second-token"}
    ) as response:
        assert response.status == 200 and response.content_type == "text/csv"
        text = await response.text()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CALL_CSV_COLUMNS
    assert len(rows) == 3 and rows[1][0] == first.call
    assert rows[1][CALL_CSV_COLUMNS.index("agent_notes")] == notes


async def test_given_a_bad_filter_when_exported_then_422_before_any_csv(api: Api) -> None:
    status, body = await api.call("GET", "/calls/export.csv?since=yesterday")
    assert (status, body["error"]) == (422, "invalid-input") and body["field"] == "since"
    status, body = await api.call("GET", "/calls/export.csv?since=2026-01-01T00:00:00")
    assert (status, body["error"]) == (422, "invalid-input")


async def test_given_a_call_when_wrapped_up_then_disposition_notes_case_kept(
    api: Api, record_call: MakeCall
) -> None:
    cid = await customer(api)
    call = await record_call(cid)
    _, case = await api.call("POST", "/cases", {"customer_id": cid, "subject": "From call"})
    status, wrapped = await api.call(
        "PATCH", f"/calls/{call.call}", {"disposition": "sale", "agent_notes": "ok", "case_id": case["id"]}
    )
    assert status == 200
    assert (wrapped["disposition"], wrapped["agent_notes"], wrapped["case_id"]) == ("sale", "ok", case["id"])
    status, erased = await api.call("PATCH", f"/calls/{call.call}", {"agent_notes": None})
    assert erased["agent_notes"] is None and erased["disposition"] == "sale"
    status, body = await api.call("PATCH", "/calls/no-such-call", {"disposition": "x"})
    assert (status, body["error"]) == (404, "not-found")
    status, body = await api.call("PATCH", f"/calls/{call.call}", {"case_id": 987654})
    assert status == 404


async def test_given_an_escalated_call_then_the_call_log_lists_its_attempts_and_a_count_per_result(
    api: Api, record_call: MakeCall
) -> None:
    escalated = await record_call(None, arrived_at=1_700_000_000.0, on_call="Dr. Kim")
    plain = await record_call(None, arrived_at=1_700_000_100.0)
    tried = [("Dr. Lee", "no-answer"), ("Dr. Kim", "voicemail-or-no-key"), ("Dr. Lee", "busy"),
             ("Dr. Kim", "accepted")]  # fmt: skip
    for n, (person, result) in enumerate(tried):
        await api.store.escalations.record(
            attempt_of(
                cmd.EscalationAttempt(
                    call=escalated.call,
                    person=person,
                    number=f"+1415555010{n % 2}",
                    round=1 + n // 2,
                    step=1 + n % 2,
                    started_at=1_700_000_030.0 + 20 * n,
                    ended_at=1_700_000_045.0 + 20 * n,
                    result=result,
                )
            )
        )
    status, page = await api.call("GET", "/calls")
    assert status == 200
    rows = {item["call_id"]: item for item in page["items"]}
    attempts = rows[escalated.call]["escalation_attempts"]
    assert [(a["person"], a["round"], a["step"], a["result"]) for a in attempts] == [
        ("Dr. Lee", 1, 1, "no-answer"), ("Dr. Kim", 1, 2, "voicemail-or-no-key"), ("Dr. Lee", 2, 1, "busy"),
        ("Dr. Kim", 2, 2, "accepted"),
    ]  # fmt: skip
    first = rows[escalated.call]["escalation_attempts"][0]
    assert (first["number"], first["started_at"], first["ended_at"]) == (
        "+14155550100", "2023-11-14T22:13:50+00:00", "2023-11-14T22:14:05+00:00",
    )  # fmt: skip
    assert rows[escalated.call]["escalation_results"] == {
        "no-answer": 1, "voicemail-or-no-key": 1, "busy": 1, "accepted": 1,
    }  # fmt: skip
    assert (rows[plain.call]["escalation_attempts"], rows[plain.call]["escalation_results"]) == ([], {})
