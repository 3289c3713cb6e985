"""The player interface: one async method that answers a decision request.

A player that holds something for the game (a bot's process) may also define
`async aclose()`: the engine awaits it once when the game ends, also on Ctrl-C.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from mafia.decisions import Answer, Request


@runtime_checkable
class Player(Protocol):
    async def act(self, request: Request) -> Answer:
        """Answer `request` with one of `request.options` (and text where speech is wanted)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What this player is, for the transcript header (kind, and model details if any)."""
        ...
