"""The baseline: every decision uniformly at random among the legal options."""

from __future__ import annotations

import random
from typing import Any

from mafia.decisions import ABSTAIN, Answer, DayAction, Request

_LINES = (
    "I have a bad feeling about {name}.",
    "Let's hear from {name}.",
    "{name} has been very quiet.",
    "I trust {name}.",
    "I'm just a villager, honest.",
    "We need to vote carefully today.",
)


class RandomPlayer:
    """Draws from its own seeded stream (derived from the game seed and the seat), so it is
    reproducible and independent of the engine's generator. Never abstains."""

    def __init__(self, seed: int, seat: int) -> None:
        self.rng = random.Random(f"random-player:{seed}:{seat}")

    def describe(self) -> dict[str, Any]:
        return {"kind": "random", "spec": "random"}

    async def act(self, request: Request) -> Answer:
        choice = None
        if request.options:
            legal = [o for o in request.options if o != ABSTAIN]
            choice = self.rng.choice(legal)
        wants_text = request.wants_text and not (
            isinstance(choice, DayAction) and choice.action == "wait"
        )
        text = self._line(request) if wants_text and self.rng.random() < 0.7 else ""
        return Answer(choice, text)

    def _line(self, request: Request) -> str:
        obs = request.observation
        others = [p for p in obs.alive if p != request.player] or [request.player]
        return self.rng.choice(_LINES).format(name=self.rng.choice(others))
