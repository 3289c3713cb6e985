"""Fault injection for the Ray executor's tests: games that stall, workers that die.

Set `MAFIA_RAY_CHAOS` for the driver (e.g. `slow=0.2,exit=3,raise=7`); it hands the plan to
every actor, which acts on it from inside a game, at event CHAOS_EVENT (mid-game):
- `slow=SECONDS`: every game sleeps that long (time to kill a worker while games run);
- `exit=I`: game I's worker process exits (`os._exit`) on the game's first attempt only;
- `crash=I`: game I's worker exits on every attempt (a game that kills whoever plays it);
- `raise=I`: game I raises, on every attempt (a bug in the engine, as the executor sees it).
Never set outside tests: it changes no game's transcript, only whether and when it ends.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from mafia.errors import MafiaError
from mafia.events import BaseEvent

CHAOS_ENV = "MAFIA_RAY_CHAOS"
CHAOS_EVENT = 8  # every game has more events than this, so the fault lands mid-game


class ChaosError(RuntimeError):
    """The exception a `raise=I` game raises."""


@dataclass(frozen=True)
class Chaos:
    slow_s: float = 0.0
    exit_at: frozenset[int] = frozenset()
    raise_at: frozenset[int] = frozenset()
    crash_at: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, text: str) -> "Chaos":
        slow: float = 0.0
        exits: set[int] = set()
        raises: set[int] = set()
        crashes: set[int] = set()
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, _, value = item.partition("=")
            try:
                if key == "slow":
                    slow = float(value)
                elif key == "exit":
                    exits.add(int(value))
                elif key == "raise":
                    raises.add(int(value))
                elif key == "crash":
                    crashes.add(int(value))
                else:
                    raise ValueError
            except ValueError:
                raise MafiaError(f"{CHAOS_ENV}: cannot read {item!r} (slow=S, exit=I, "
                                 "crash=I, raise=I)") from None
        return cls(slow, frozenset(exits), frozenset(raises), frozenset(crashes))

    @classmethod
    def from_env(cls) -> "Chaos":
        return cls.parse(os.environ.get(CHAOS_ENV, ""))

    def __bool__(self) -> bool:
        return bool(self.slow_s or self.exit_at or self.raise_at or self.crash_at)

    def sink(self, index: int, attempt: int) -> "ChaosSink":
        return ChaosSink(self, index, attempt)


@dataclass
class ChaosSink:
    """An event sink that acts once the game reaches CHAOS_EVENT."""

    chaos: Chaos
    index: int
    attempt: int

    def __call__(self, event: BaseEvent) -> None:
        if event.seq != CHAOS_EVENT:
            return
        if self.chaos.slow_s:
            time.sleep(self.chaos.slow_s)
        if (self.index in self.chaos.exit_at and self.attempt == 0
                or self.index in self.chaos.crash_at):
            os._exit(17)  # no cleanup, no reply: as if the process had crashed
        if self.index in self.chaos.raise_at:
            raise ChaosError(f"chaos: game {self.index} raised on purpose")
