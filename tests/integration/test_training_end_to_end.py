"""Training mode (issue 17) on the real Asterisk sandbox: a supervisor puts an agent in training through
the API; a practice caller, placed by the service through the sandbox's ``switchboard-training`` dialplan,
rings that agent's phone; a real caller at the same time goes to the other agent, although the trainee
is the longest idle; the call log marks the practice call ``training`` and the real one not.

Needs the sandbox's dialplan of this tree: run under
``flock /tmp/asterisk.lock sh -c 'scripts/asterisk-sandbox reload && .venv/bin/pytest <this file>'``.
"""

from __future__ import annotations

import pytest

from crm_core.domain.calls import Practice
from routing import events as ev
from routing.ids import AgentId
from tests.integration.conftest import SandboxFactory, act, phone

pytestmark = pytest.mark.asterisk

CALLER, DID = "+14155550123", "+18005550101"
TOKEN = "training-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_given_an_agent_in_training_then_a_practice_caller_rings_them_and_a_real_caller_the_other_agent(
    sandbox: SandboxFactory,
) -> None:
    box = await sandbox({"t1": phone("101"), "a2": phone("102")}, more={"api_tokens": (TOKEN,)})
    trainee = await box.console("t1")  # ready first: the longest idle, whom a real caller would ring
    other = await box.console("a2")
    # One a minute: the first comes at once, the next most likely after the test is over.
    async with box.client.put("/api/v1/training/t1", json={"per_minute": 1}, headers=AUTH) as r:
        assert r.status == 200, await r.text()
    await trainee.expect("training", per_minute=1.0)

    real = await box.call(CALLER, DID)
    offer = await trainee.expect("offer", timeout=15)
    practice = offer["call"]
    assert practice.startswith("training-t1-") and practice.endswith(";2")  # the Local half in Stasis
    await trainee.expect("call-connected", call=practice)
    await other.expect("offer", call=real)
    await other.expect("call-connected", call=real)
    assert not [m for m in trainee.seen if m["type"] == "offer" and m["call"] == real]

    await act(box, ev.AgentHungUp, AgentId("t1"))
    await box.hang_up_caller(real)
    practiced, served = await box.logged(practice), await box.logged(real)
    assert (practiced.practice, practiced.record.agent, str(practiced.record.outcome)) == (
        Practice.TRAINING, "t1", "answered",
    )  # fmt: skip
    assert (served.practice, served.record.agent) == (None, "a2")
    async with box.client.delete("/api/v1/training/t1", headers=AUTH) as r:
        assert r.status == 204
    await trainee.expect("training", per_minute=None)
