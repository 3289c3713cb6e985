"""What one player may know. Built in exactly one place (`observe`), from the events that player
saw; the engine hands players nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from mafia.enums import Phase, Role
from mafia.events import BaseEvent, InvestigationResult, PlayerDied
from mafia.state import GameState


@dataclass(frozen=True)
class Observation:
    player: str
    role: Role
    teammates: tuple[str, ...]  # fellow mafia-side players (empty for everyone else)
    day: int
    phase: Phase
    seats: tuple[str, ...]
    alive: tuple[str, ...]
    events: tuple[BaseEvent, ...]  # every event visible to this player, in order
    order: tuple[str, ...] = ()  # the round's public order of every seat (empty before 0.4.7)

    def revealed(self) -> dict[str, str]:
        """Publicly revealed identities of dead players (role, else team, else 'unknown')."""
        out: dict[str, str] = {}
        for e in self.events:
            if isinstance(e, PlayerDied):
                out[e.player] = e.role or (e.team.value if e.team else "unknown")
        return out

    def investigations(self) -> dict[str, str]:
        """Detective only: target -> what was learned."""
        return {
            e.target: e.result for e in self.events if isinstance(e, InvestigationResult)
        }


def observe(state: GameState, player: str, seen: list[BaseEvent]) -> Observation:
    """Observation of `state` from `player`'s point of view; `seen` is the engine's list of the
    events visible to that player (kept incrementally, filtered by `visible_to`)."""
    role = state.roles[player]
    teammates: tuple[str, ...] = ()
    if role.spec.knows_team:  # the mafia side: mafia, godfather
        teammates = tuple(p for p in state.seats
                          if p != player and state.roles[p].spec.knows_team)
    return Observation(
        player=player,
        role=role,
        teammates=teammates,
        day=state.day,
        phase=state.phase,
        seats=state.seats,
        alive=tuple(state.alive),
        events=tuple(seen),
        order=state.order,
    )
