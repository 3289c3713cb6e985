"""The JSON-lines protocol of `cmd:` seats: one request line out, one answer line back.

A request is the seat's whole observation (every event it may see, serialized exactly as in
the transcript) plus the decision and its legal options as strings. Sending the whole view
each time, not only what is new, keeps a bot stateless if it likes and makes a restarted
process lose nothing. Options are written as `str(option)`: names, "abstain", bids "0"-"4",
and day moves "wait", "say", "dm NAME"; an answer names one of them back.
"""

from __future__ import annotations

import json
from typing import Any

from mafia.decisions import Answer, Option, Request
from mafia.events import BaseEvent


class WireError(ValueError):
    """An answer line that is not an answer object (bad JSON, wrong types)."""


class EventCache:
    """Each event's JSON, made once: events are frozen, and every request repeats them."""

    def __init__(self) -> None:
        self._json: dict[int, tuple[BaseEvent, str]] = {}

    def __call__(self, event: BaseEvent) -> str:
        hit = self._json.get(event.seq)
        if hit is None or hit[0] is not event:  # `is`: a new game reuses the numbers
            hit = (event, json.dumps(event.model_dump(mode="json"), separators=(",", ":")))
            self._json[event.seq] = hit
        return hit[1]

    def clear(self) -> None:
        self._json.clear()


def encode_request(request: Request, *, seed: int, seat: int, timeout_s: float,
                   events: EventCache) -> bytes:
    """One request line (ASCII JSON, newline-terminated)."""
    obs = request.observation
    head: dict[str, Any] = {
        "request": request.index, "seed": seed, "seat": seat,
        "player": request.player, "role": obs.role.value, "teammates": list(obs.teammates),
        "day": obs.day, "phase": obs.phase.value, "seats": list(obs.seats),
        "alive": list(obs.alive), "decision": request.kind.value,
        "options": [str(o) for o in request.options], "wants_text": request.wants_text,
        "max_chars": request.max_chars, "timeout_s": timeout_s,
        "rules": request.rules.model_dump(mode="json"),
    }
    text = json.dumps(head, separators=(",", ":"))
    body = ",".join(events(e) for e in obs.events)
    return f'{text[:-1]},"events":[{body}]}}\n'.encode("ascii")


def decode_answer(line: bytes, request: Request) -> Answer:
    """The answer a line holds. A choice that names no legal option is passed on as the
    string it is: refusing it is the engine's job (an invalid_action and a fallback)."""
    try:
        data = json.loads(line)
    except ValueError:
        raise WireError(f"not JSON: {_clip(line)}") from None
    if not isinstance(data, dict):
        raise WireError(f"not a JSON object: {_clip(line)}")
    choice, text = data.get("choice"), data.get("text", "")
    if choice is not None and not isinstance(choice, str):
        raise WireError(f'"choice" must be a string or null, got {_clip(line)}')
    if not isinstance(text, str):
        raise WireError(f'"text" must be a string, got {_clip(line)}')
    return Answer(_option(choice, request.options), text)


def _option(choice: str | None, options: tuple[Option, ...]) -> Option | None:
    if choice is None:
        return None
    return next((o for o in options if str(o) == choice), choice)


def _clip(line: bytes, limit: int = 120) -> str:
    text = line.decode("utf-8", "backslashreplace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")
