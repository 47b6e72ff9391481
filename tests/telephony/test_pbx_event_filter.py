"""The ARI events the adapter reads, and Asterisk asked to send no other (issue 19: a served call brought
56 messages, 34 of them ``ChannelVarset``; with the filter, 13)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from crm_core.domain.phones import to_e164
from routing import events as ev
from telephony.ari_client import AriClient
from telephony.errors import AriRequestError
from telephony.pbx import AriPbx
from telephony.translate import USED_EVENTS, translate

NORMALISE = functools.partial(to_e164, region="US")


class FilterAri(AriClient):
    """Records the event filter asked for; ``refuse``: answers it as an Asterisk without one would (404)."""

    def __init__(self, refuse: bool = False) -> None:
        super().__init__("http://127.0.0.1:1", "u", "p", "sb app")
        self.asked: list[tuple[str, str, Any]] = []
        self.refuse = refuse

    async def request(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        self.asked.append((method, path, body))
        if self.refuse:
            raise AriRequestError(method, path, 404, '{"message":"Not found"}')
        return None


def adapter(ari: FilterAri) -> tuple[AriPbx, list[ev.Event]]:
    events: list[ev.Event] = []
    return AriPbx(ari, events.append, lambda: 1.0, NORMALISE), events


async def test_given_a_connect_then_asterisk_is_asked_for_the_events_read_and_no_other() -> None:
    ari = FilterAri()
    pbx, _ = adapter(ari)
    await pbx._filter_events()
    (method, path, body) = ari.asked[0]
    assert (method, path) == ("PUT", "/applications/sb%20app/eventFilter")
    assert {a["type"] for a in body["allowed"]} == USED_EVENTS


async def test_given_an_asterisk_without_event_filters_then_the_connect_goes_on() -> None:
    pbx, events = adapter(FilterAri(refuse=True))
    await pbx._filter_events()  # logged, not raised: every event still comes, and is dropped below
    assert events == []


def test_given_an_event_nobody_reads_when_it_comes_anyway_then_it_is_dropped_before_translation() -> None:
    pbx, events = adapter(FilterAri())
    leg = {"id": "sb-c1-1", "state": "Ringing"}
    pbx.on_message(json.dumps({"type": "ChannelVarset", "variable": "X", "channel": leg}))
    pbx.on_message(json.dumps({"type": "ChannelStateChange", "channel": leg}).encode())  # bytes too
    assert [type(e).__name__ for e in events] == ["OfferRinging"]


def test_given_every_event_type_translate_reads_then_it_is_in_the_filter() -> None:
    # An event read but not in the filter would never arrive: each type translate turns into an event.
    leg = {"id": "sb-c1-1", "state": "Ringing"}
    samples = {
        "StasisStart": {"args": ["inbound", "18005550101"], "channel": {"id": "c1", "caller": {}}},
        "StasisEnd": {"channel": leg},
        "ChannelStateChange": {"channel": leg},
        "Dial": {"dialstatus": "RINGING", "peer": leg},
        "ChannelDtmfReceived": {"digit": "1", "channel": {"id": "c1"}},
    }
    for kind, body in samples.items():
        assert translate({"type": kind, **body}, 1.0, NORMALISE), kind
        assert kind in USED_EVENTS
