"""What a discussion protocol may use of the engine, and the protocol interface.

A protocol decides *when* each living player is asked to speak during the day, and in what
order what they say lands. It never writes state itself: it asks players and publishes
their messages through the host (the engine), which validates answers, enforces the caps
and emits every event."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol

from mafia.config import Rules
from mafia.decisions import Answer, DayAction, Option
from mafia.enums import DecisionKind
from mafia.events import BaseEvent, Message

Ask = tuple[str, DecisionKind, tuple[Option, ...]]


class DayHost(Protocol):
    """The engine, as a discussion protocol sees it."""

    rules: Rules
    rng: random.Random  # the game's one generator: every seeded order and tie-break

    def alive(self) -> list[str]:
        """Living players in seat order."""
        ...

    async def ask(self, asks: Sequence[Ask]) -> list[Answer]:
        """Ask several players at once; validated answers (fallbacks where invalid)."""
        ...

    def day_options(self, player: str) -> tuple[Option, ...]:
        """The legal moves now: wait, speak (unless the public cap is reached), DM others."""
        ...

    def speech(self, player: str, answer: Answer) -> str:
        """The answer's text as it would be published (cleaned and cut), '' if nothing."""
        ...

    def publish(self, player: str, action: DayAction, text: str,
                **timing: Any) -> Message | None:
        """Post a cleaned message (public or DM); None if a cap refuses it now."""
        ...

    def emit(self, cls: type[BaseEvent], visible_to: Sequence[str] | None = None,
             **fields: Any) -> BaseEvent:
        ...


class Discussion(Protocol):
    """One day's discussion, from the dawn announcement to the vote."""

    def active(self, rules: Rules) -> bool:
        """Whether players are asked anything during the day under these rules."""
        ...

    async def run(self, host: DayHost, day: int) -> None:
        ...


def commit(host: DayHost, player: str, answer: Answer, **timing: Any) -> Message | None:
    """Publish a day action's message if it is one (wait, or no text, publishes nothing)."""
    action = answer.choice
    if not isinstance(action, DayAction) or action.action == "wait":
        return None
    text = host.speech(player, answer)
    return host.publish(player, action, text, **timing) if text else None
