"""What each channel hears: the hold-music and prompt decisions, as one pure table.

``AriPbx`` tells ``Media`` what it is about to do (answer a caller, hold them, play them a prompt, let
them go) and what Asterisk reported (a prompt started or finished, a channel left the app), and carries
out the steps it gets back; it decides nothing about music itself. No I/O and no asyncio, so the table is
tested with plain synchronous calls (tests/telephony/test_media.py).

A caller is *waiting* (on hold music, prompts may interrupt it) until they are *let go*: bridged with an
agent, leaving a message, or ended with a farewell. Holding them again (a transfer) makes them waiting.

=============================  =================================================  =====================
fed                            steps returned                                     afterwards
=============================  =================================================  =====================
answered(caller)               StartMusic(caller); nothing once let go
held(caller)                   StartMusic(caller)                                 waiting
prompt(caller)                 StopMusic(caller); None when let go: play nothing
started(channel, playback)                                                        the channel's prompt
finished(channel, playback)                                                       no prompt, if that one
prompt_over(caller, live)      StartMusic(caller) if waiting, live, and no other
                               prompt plays (the one behind resumes it itself)
let_go(caller)                 StopPrompt(its prompt) if one plays, StopMusic     let go
dialing_customer(agent_leg)    StartMusic(agent_leg)                              the agent hears music
agent_bridged(agent_leg)       StopMusic(agent_leg) if the agent hears music      no music
left(channel)                                                                     forgotten
=============================  =================================================  =====================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StartMusic:
    channel: str


@dataclass(frozen=True, slots=True)
class StopMusic:
    channel: str


@dataclass(frozen=True, slots=True)
class StopPrompt:
    """Stop the playback; once stopped it counts as finished (``Media.finished``)."""

    playback: str


Step = StartMusic | StopMusic | StopPrompt


class Media:
    def __init__(self) -> None:
        self._let_go: set[str] = set()  # callers whose hold music must not come back after a prompt
        self._playing: dict[str, str] = {}  # channel -> its current prompt's playback id
        self._agent_music: set[str] = set()  # agent legs hearing music while a customer is dialed

    def answered(self, caller: str) -> list[Step]:
        # Answered after the agent's leg is dialled, a caller may be bridged already (a phone that
        # answers at once): no music into the conversation.
        return [] if caller in self._let_go else [StartMusic(caller)]

    def held(self, caller: str) -> list[Step]:
        self._let_go.discard(caller)  # waiting again after a transfer: prompts may play
        return [StartMusic(caller)]

    def prompt(self, caller: str) -> list[Step] | None:
        """The steps before a prompt plays; None when it is out of date (bridged, recording or ending)."""
        return None if caller in self._let_go else [StopMusic(caller)]

    def started(self, channel: str, playback: str) -> None:
        self._playing[channel] = playback

    def finished(self, channel: str, playback: str) -> None:
        if self._playing.get(channel) == playback:
            del self._playing[channel]

    def prompt_over(self, caller: str, live: bool) -> list[Step]:
        if caller in self._let_go or not live or caller in self._playing:
            return []
        return [StartMusic(caller)]

    def let_go(self, caller: str) -> list[Step]:
        """The caller leaves the hold: no more music, and no prompt that is still playing."""
        self._let_go.add(caller)
        playback = self._playing.get(caller)
        stop: list[Step] = [] if playback is None else [StopPrompt(playback)]
        return [*stop, StopMusic(caller)]

    def dialing_customer(self, agent_leg: str) -> list[Step]:
        """A callback: the agent hears music while the customer's phone rings."""
        self._agent_music.add(agent_leg)
        return [StartMusic(agent_leg)]

    def agent_bridged(self, agent_leg: str) -> list[Step]:
        if agent_leg not in self._agent_music:
            return []
        self._agent_music.discard(agent_leg)
        return [StopMusic(agent_leg)]

    def left(self, channel: str) -> None:
        """The channel left the app (its prompts end through ``finished``, as no PlaybackFinished comes)."""
        self._let_go.discard(channel)
        self._agent_music.discard(channel)

    def playing(self, channel: str) -> str | None:
        return self._playing.get(channel)
