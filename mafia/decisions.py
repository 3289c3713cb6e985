"""Decision requests (what the engine asks, with the legal options and the rules), answers,
and the player interface: one async method that answers a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Union, runtime_checkable

from mafia.config import Rules
from mafia.enums import ABSTAIN, DecisionKind
from mafia.observation import Observation

__all__ = ["ABSTAIN", "SAY", "WAIT", "Answer", "CallInfo", "DayAction", "NoAnswer", "Option",
           "Player", "Request", "SPEECH_KINDS"]


@dataclass(frozen=True)
class DayAction:
    """One move in a discussion moment: wait, say something publicly, or DM someone."""

    action: Literal["wait", "say", "dm"]
    to: str | None = None

    def __str__(self) -> str:
        return f"dm {self.to}" if self.action == "dm" else self.action


WAIT = DayAction("wait")
SAY = DayAction("say")

Option = Union[str, DayAction]

# Decisions answered with free text only (options are empty).
SPEECH_KINDS = frozenset({DecisionKind.MAFIA_CHAT, DecisionKind.LAST_WORDS})


@dataclass(frozen=True)
class Request:
    kind: DecisionKind
    player: str
    options: tuple[Option, ...]
    observation: Observation
    max_chars: int
    index: int  # how many requests this player got before this one (seeds per call)
    rules: Rules  # the game's rules (public: every seat plays under the same)

    @property
    def wants_text(self) -> bool:
        return self.kind in SPEECH_KINDS or self.kind is DecisionKind.DAY_ACTION


@dataclass(frozen=True)
class CallInfo:
    """Accounting for one language-model call, reported back so the engine can log it."""

    purpose: Literal["choice", "text"]
    prompt_tokens: int
    reused_tokens: int
    generated_tokens: int
    latency_ms: float
    prompt: str | None = None
    shared_tokens: int = 0  # prompt tokens copied from another seat's cache, not evaluated


class NoAnswer(Exception):
    """Raised by a player that gives no answer (a person's time ran out, their input
    closed): the engine records the message as the invalid action's error and falls back."""


@dataclass(frozen=True)
class Answer:
    choice: Option | None = None  # one of request.options (None for speech-only decisions)
    text: str = ""  # speech; empty means silence
    calls: tuple[CallInfo, ...] = field(default=())


@runtime_checkable
class Player(Protocol):
    """What the engine seats. A player that holds something for the game (a bot's process)
    may also define `async aclose()`: the engine awaits it once when the game ends, also on
    Ctrl-C."""

    async def act(self, request: Request) -> Answer:
        """Answer `request` with one of `request.options` (and text where speech is wanted)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What this player is, for the transcript header (kind, and model details if any)."""
        ...
