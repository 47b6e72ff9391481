"""``bench/sip_latency.py``'s figures from SIPp's logs, on log lines written as phone.xml and caller.xml
write them (no SIPp, no Asterisk)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.integration.sip.harness import parse_steps

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _sip_figures import match, pop_distribution, ring_distribution, windows

CALLER_LOG = """\
2026-12-04\t04:05:00.000000\t1796357100.000000 invite-sent 1-1@127.0.0.2 18005550101 +14155550000
2026-12-04\t04:05:00.010000\t1796357100.010000 answered 1-1@127.0.0.2 18005550101 +14155550000
2026-12-04\t04:05:00.200000\t1796357100.200000 invite-sent 2-1@127.0.0.2 18005550102 +14155550001
2026-12-04\t04:05:12.000000\t1796357112.000000 invite-sent 3-1@127.0.0.2 18005550103 +14155550002
"""
PHONE_LOG = """\
2026-12-04\t04:04:50.000000\t1796357090.000000 invite 9-2@127.0.0.1  <sip:sip-bench-1@127.0.0.1:5085>  <sip:+14155550001@127.0.0.1>;tag=x
2026-12-04\t04:05:00.008000\t1796357100.008000 invite 1-2@127.0.0.1  <sip:sip-bench-2@127.0.0.1:5085>  "Jane" <sip:+14155550000@127.0.0.1>;tag=a
2026-12-04\t04:05:00.308000\t1796357100.308000 answer 1-2@127.0.0.1  <sip:sip-bench-2@127.0.0.1:5085>  "Jane" <sip:+14155550000@127.0.0.1>;tag=a
2026-12-04\t04:05:00.215000\t1796357100.215000 invite 2-2@127.0.0.1  <sip:sip-bench-1@127.0.0.1:5085>  <sip:+14155550001@127.0.0.1>;tag=b
"""  # noqa: E501
NUMBERS = ["+14155550000", "+14155550001", "+14155550002"]


def test_given_phone_and_caller_logs_then_each_step_names_the_phone_and_the_caller() -> None:
    phone = parse_steps(PHONE_LOG)[1]
    caller = parse_steps(CALLER_LOG)[0]
    assert (phone.step, phone.target, phone.party, phone.at) == (
        "invite", "sip-bench-2", "+14155550000", 1796357100.008,
    )  # fmt: skip
    assert (caller.step, caller.target, caller.party) == ("invite-sent", "18005550101", "+14155550000")


def test_given_the_logs_then_calls_are_joined_by_the_caller_number_and_older_invites_ignored() -> None:
    calls = match(parse_steps(CALLER_LOG), parse_steps(PHONE_LOG), NUMBERS)
    first, second, third = calls
    assert first.ring_ms == pytest.approx(8.0, abs=1e-3) and first.answered and first.phone == "sip-bench-2"
    assert (
        second.ring_ms == pytest.approx(15.0, abs=1e-3) and not second.answered
    )  # the 04:04:50 INVITE was older
    assert third.ring is None
    ring = ring_distribution("ring", calls)
    assert ring.ms == pytest.approx([8.0, 15.0], abs=1e-3)
    assert (ring.served, ring.lost) == (1, 2)


def test_given_pops_then_they_are_timed_from_the_agent_s_invite() -> None:
    calls = match(parse_steps(CALLER_LOG), parse_steps(PHONE_LOG), NUMBERS)
    calls[0].pop = calls[0].invite + 0.0095
    pops = pop_distribution("pop", calls)
    assert pops.ms == pytest.approx([1.5], abs=1e-3)
    assert pops.lost == 1  # the second call rang but got no pop


def test_given_a_sustained_run_then_windows_hold_their_calls_and_the_memory_at_their_end() -> None:
    calls = match(parse_steps(CALLER_LOG), parse_steps(PHONE_LOG), NUMBERS)
    memory = [(1796357101.0, {"asterisk": 80.0}), (1796357109.0, {"asterisk": 81.0})]
    found = windows(calls, 1796357100.0, 10.0, memory)
    assert [len(w.calls) for w in found] == [2, 1]
    assert [w.rss_mib for w in found] == [{"asterisk": 81.0}, {"asterisk": 81.0}]
