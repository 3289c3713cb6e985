"""Transcripts built by hand, event by event, for figures whose answers are worked out by
hand (report, play quality)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mafia.enums import Phase
from mafia.events import (
    BaseEvent, GameOver, GameStarted, Message, PlayerDied, RoleAssigned, VoteCast, VoteResult,
)


class HandTranscript:
    """Events in order, each stamped with its seq: the game start and the role deal first.
    `agents` maps seats to their agent record (random when absent)."""

    def __init__(self, config: dict[str, Any], roles: dict[str, str],
                 agents: dict[str, dict[str, Any]] | None = None, seed: int = 1) -> None:
        self.roles, self.ev = roles, []
        agents = agents or {}
        self.ev: list[BaseEvent] = []
        self.add(GameStarted, 0, "setup", seed=seed, version="t", config=config,
                 players=[{"name": n, "agent": agents.get(n, {"kind": "random"})}
                          for n in roles])
        for name, role in roles.items():
            self.add(RoleAssigned, 0, "setup", [name], player=name, role=role,
                     team=self.team(name))

    def team(self, name: str) -> str:
        return "mafia" if self.roles[name] == "mafia" else "town"

    def add(self, cls: type[BaseEvent], day: int, phase: str, seen: list[str] | None = None,
            **fields: Any) -> None:
        self.ev.append(cls(seq=len(self.ev), day=day, phase=Phase(phase),
                           visible_to=None if seen is None else tuple(seen), **fields))

    def say(self, day: int, sender: str, text: str, to: str | None = None,
            **timing: float) -> None:
        """A public message, or a DM when `to` is given (seen by both ends)."""
        self.add(Message, day, "day", None if to is None else [sender, to],
                 channel="public" if to is None else "dm", sender=sender, recipient=to,
                 text=text, **timing)

    def votes(self, day: int, pairs: list[tuple[str, str]], out: str,
              dies: bool = True) -> None:
        """The day's votes and result; `out` dies of it unless `dies` is False (the caller
        then adds last words before the death)."""
        tally: dict[str, int] = {}
        for voter, target in pairs:
            self.add(VoteCast, day, "day", voter=voter, target=target)
            tally[target] = tally.get(target, 0) + 1
        self.add(VoteResult, day, "day", tally=tally, eliminated=out,
                 tie=list(tally.values()).count(max(tally.values())) > 1)
        if dies:
            self.add(PlayerDied, day, "day", player=out, cause="vote", role=self.roles[out],
                     team=self.team(out))

    def write(self, path: Path, winner: str, days: int) -> Path:
        self.add(GameOver, days, "end", winner=winner, reason="test", roles=self.roles,
                 days=days)
        path.write_text("".join(e.model_dump_json() + "\n" for e in self.ev))
        return path
