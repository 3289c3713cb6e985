"""A time limit around one player. The engine's `timeout_s` holds for every seat; a game with
a person in it turns that off (the person has their own limit, or none) and gives each other
seat this wrapper instead, with the same limit and the same message."""

from __future__ import annotations

import asyncio
from typing import Any

from mafia.decisions import Answer, NoAnswer, Request

from mafia.decisions import Player


class TimedPlayer:
    def __init__(self, player: Player, timeout_s: float | None) -> None:
        self.player = player
        self.timeout_s = timeout_s

    def describe(self) -> dict[str, Any]:
        return self.player.describe()

    async def act(self, request: Request) -> Answer:
        try:
            return await asyncio.wait_for(self.player.act(request), self.timeout_s)
        except asyncio.TimeoutError:
            raise NoAnswer(f"no answer within {self.timeout_s} s") from None

    async def aclose(self) -> None:
        """Let the wrapped player go (a bot's process), as the engine would have."""
        close = getattr(self.player, "aclose", None)
        if close is not None:
            await close()
