"""The human seat: a Player that hands each request to a front end (the app or the line mode)
and waits for the person, for as long as `timeout_s` allows (None: as long as it takes)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from mafia.decisions import Answer, NoAnswer, Request
from mafia.events import BaseEvent


class FrontEnd(Protocol):
    """What shows the game to the person and collects their answers. It is handed only the
    events its seat may see (see `seat_sink`) and the seat's own requests."""

    def show(self, event: BaseEvent) -> None:
        ...

    def waiting(self, who: frozenset[str]) -> None:
        """The seats the engine waits on; a front end must not show what this gives away."""
        ...

    async def answer(self, request: Request) -> Answer:
        """The person's answer; may raise NoAnswer (their input closed)."""
        ...


class HumanPlayer:
    def __init__(self, front: FrontEnd, timeout_s: float | None = None) -> None:
        self.front = front
        self.timeout_s = timeout_s

    def describe(self) -> dict[str, Any]:
        return {"kind": "human", "spec": "human"}

    async def act(self, request: Request) -> Answer:
        try:
            return await asyncio.wait_for(self.front.answer(request), self.timeout_s)
        except asyncio.TimeoutError:
            raise NoAnswer(f"no answer within {self.timeout_s:g} s (human)") from None


def seat_sink(seat: str, show: Callable[[BaseEvent], None]) -> Callable[[BaseEvent], None]:
    """An engine sink that passes on only the events `seat` may see: the one gate between
    the omniscient event stream and what the person is shown."""

    def sink(event: BaseEvent) -> None:
        if event.visible_for(seat):
            show(event)

    return sink


def draw_seat(seats: Sequence[str], seed: int) -> str:
    """`--human` without a name: a seat drawn from the game seed (its own stream, so the
    game itself draws exactly as it would without a person)."""
    return random.Random(f"human-seat:{seed}").choice(list(seats))


def pick_seat(name: str, seats: Sequence[str]) -> str | None:
    """The seat called `name` (any case), or None."""
    return next((s for s in seats if s.lower() == name.strip().lower()), None)
