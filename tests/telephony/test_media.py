"""The hold-music and prompt decisions (telephony/media.py), table-style: what the table was fed, one more
input, the steps it returns. How ``AriPbx`` carries them out: test_pbx_commands.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from telephony import media as media_module
from telephony.media import Media, StartMusic, StopMusic, StopPrompt
from tests.test_architecture import violations

C, AGENT, PB, LATER = "c1", "sb-c1-1", "sb-pb-1", "sb-pb-2"
Feed = tuple[str, tuple[Any, ...]]  # a ``Media`` method and its arguments

PLAYED: list[Feed] = [("started", (C, PB)), ("finished", (C, PB))]

CASES: list[tuple[str, list[Feed], Feed, object]] = [
    ("answered-music-starts", [], ("answered", (C,)), [StartMusic(C)]),
    ("held-music-starts", [], ("held", (C,)), [StartMusic(C)]),
    ("waiting-prompt-stops-the-music", [], ("prompt", (C,)), [StopMusic(C)]),
    ("let-go-prompt-is-out-of-date", [("let_go", (C,))], ("prompt", (C,)), None),
    ("held-again-after-let-go-prompts-play", [("let_go", (C,)), ("held", (C,))], ("prompt", (C,)),
     [StopMusic(C)]),
    ("prompt-over-waiting-and-live-music-back", PLAYED, ("prompt_over", (C, True)), [StartMusic(C)]),
    ("prompt-over-caller-gone-no-music", PLAYED, ("prompt_over", (C, False)), []),
    ("prompt-over-let-go-meanwhile-no-music", [("started", (C, PB)), ("let_go", (C,)), ("finished", (C, PB))],
     ("prompt_over", (C, True)), []),
    ("prompt-over-next-one-playing-it-resumes-itself", [*PLAYED, ("started", (C, LATER))],
     ("prompt_over", (C, True)), []),
    ("older-playback-finishing-leaves-the-current", [("started", (C, PB)), ("started", (C, LATER)),
     ("finished", (C, PB))], ("prompt_over", (C, True)), []),
    ("let-go-while-a-prompt-plays-it-stops-first", [("started", (C, PB))], ("let_go", (C,)),
     [StopPrompt(PB), StopMusic(C)]),
    ("let-go-nothing-playing-music-stops", [], ("let_go", (C,)), [StopMusic(C)]),
    ("let-go-after-the-prompt-finished", PLAYED, ("let_go", (C,)), [StopMusic(C)]),
    ("dialing-a-customer-the-agent-hears-music", [], ("dialing_customer", (AGENT,)), [StartMusic(AGENT)]),
    ("bridged-agent-who-heard-music-it-stops", [("dialing_customer", (AGENT,))], ("agent_bridged", (AGENT,)),
     [StopMusic(AGENT)]),
    ("bridged-agent-without-music-nothing", [], ("agent_bridged", (AGENT,)), []),
    ("bridged-again-music-stopped-once", [("dialing_customer", (AGENT,)), ("agent_bridged", (AGENT,))],
     ("agent_bridged", (AGENT,)), []),
    ("agent-leg-left-forgotten", [("dialing_customer", (AGENT,)), ("left", (AGENT,))],
     ("agent_bridged", (AGENT,)), []),
    ("caller-left-let-go-forgotten", [("let_go", (C,)), ("left", (C,))], ("prompt", (C,)), [StopMusic(C)]),
    ("another-callers-let-go-changes-nothing", [("let_go", ("c2",))], ("prompt", (C,)), [StopMusic(C)]),
    ("playing-names-the-current-prompt", [("started", (C, PB))], ("playing", (C,)), PB),
    ("playing-none-once-finished", PLAYED, ("playing", (C,)), None),
]  # fmt: skip


@pytest.mark.parametrize(("given", "when", "then"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_given_what_the_table_was_fed_when_fed_one_more_then_these_steps(
    given: list[Feed], when: Feed, then: object
) -> None:
    media = Media()
    for name, args in given:
        getattr(media, name)(*args)
    name, args = when
    assert getattr(media, name)(*args) == then


def test_given_a_playing_prompt_when_its_channel_left_then_only_finished_clears_it() -> None:
    """``left`` leaves prompts to ``finished``: the adapter finishes every playback of a channel that left."""
    media = Media()
    media.started(C, PB)
    media.left(C)
    assert media.playing(C) == PB
    media.finished(C, PB)
    assert media.playing(C) is None


def test_given_the_media_table_then_it_imports_no_io_no_clock_and_no_asyncio() -> None:
    path = Path(media_module.__file__)
    assert violations(path.read_text(encoding="utf-8"), path.name) == []
