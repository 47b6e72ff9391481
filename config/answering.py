"""The answering service's profile of each line, ``[lines.<id>.answering]``, and ``[console]``.

    [lines.smith.answering]
    greeting = "Dr. Smith's office, how may I help you?"
    script = "..."            # multi-line: what the agent says and asks, in order
    instructions = "..."      # when to escalate, what counts as urgent
    webhook_url = "https://..."   # optional: where taken messages are posted (http or https)
    webhook_secret = "..."        # optional: signs the body; SWITCHBOARD_WEBHOOK_SECRET_<LINE> overrides it
    [lines.smith.answering.delivery]  # optional: who is told of a message, how (config/deliveries.py)
    [[lines.smith.answering.forms]]   # optional: the message forms the console shows (config/forms.py)

Unknown keys are refused, as everywhere in the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from config.values import ConfigError, known_keys, optional_string, string, strings, table, tables
from routing.ids import LineId

ANSWERING_KEYS = ("greeting", "script", "instructions", "webhook_url", "webhook_secret", "delivery", "forms")
CONSOLE_KEYS = ("disposition_codes",)
DEFAULT_DISPOSITION_CODES = ("sale", "support", "complaint", "wrong-number", "no-action", "message-taken")


@dataclass(frozen=True, slots=True)
class Answering:
    greeting: str
    script: str
    instructions: str
    webhook_url: str | None = None
    webhook_secret: str | None = None


def answering(raw: Mapping[str, Any], env: Mapping[str, str]) -> dict[LineId, Answering]:
    """Every line's answering profile; a line without ``[lines.<id>.answering]`` has none."""
    profiles: dict[LineId, Answering] = {}
    for key, line in tables(raw, "lines").items():
        if "answering" in line:
            profiles[LineId(key)] = _profile(key, table(line, "answering", f"lines.{key}."), env)
    return profiles


def _profile(key: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> Answering:
    where = f"lines.{key}.answering."
    known_keys(raw, ANSWERING_KEYS, where)
    url = optional_string(raw, "webhook_url", where)
    if url is not None and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise ConfigError(f"{where}webhook_url: {url!r} must be an http or https URL")
    secret = env.get(f"SWITCHBOARD_WEBHOOK_SECRET_{key.upper()}") or optional_string(
        raw, "webhook_secret", where
    )
    return Answering(
        greeting=string(raw, "greeting", None, where),
        script=string(raw, "script", None, where),
        instructions=optional_string(raw, "instructions", where) or "",
        webhook_url=url,
        webhook_secret=secret,
    )


def disposition_codes(raw: Mapping[str, Any]) -> tuple[str, ...]:
    console = table(raw, "console")
    known_keys(console, CONSOLE_KEYS, "console.")
    codes = strings(console, "disposition_codes", DEFAULT_DISPOSITION_CODES, "console.")
    if not codes:
        raise ConfigError("console.disposition_codes: at least one code is required")
    if len(set(codes)) != len(codes) or any(len(c) > 100 for c in codes):
        raise ConfigError("console.disposition_codes: codes must be distinct, up to 100 characters")
    return codes


def without_answering(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with the answering tables taken out of ``[lines]``, for the routing plan's reader."""
    lines = {
        key: {k: v for k, v in line.items() if k != "answering"} for key, line in tables(raw, "lines").items()
    }
    return {**raw, "lines": lines}
