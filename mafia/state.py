"""Game state, changed only by applying events: the engine's log and a replayed transcript
build the same state, which is how tests check that a transcript is complete."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from mafia.enums import Channel, Phase, Role, Winner
from mafia.events import (
    BaseEvent, GameOver, GameStarted, Message, NightAction, PhaseStarted, PlayerDied,
    RoleAssigned,
)


@dataclass
class GameState:
    seats: tuple[str, ...] = ()
    roles: dict[str, Role] = field(default_factory=dict)
    alive: list[str] = field(default_factory=list)  # seat order
    order: tuple[str, ...] = ()  # this round's public order of every seat (PhaseStarted.order)
    day: int = 0
    phase: Phase = Phase.SETUP
    last_protected: dict[str, str] = field(default_factory=dict)  # doctor -> last target
    shots_fired: Counter[str] = field(default_factory=Counter)  # vigilante -> shots so far
    public_messages_today: int = 0
    dms_sent_today: Counter[str] = field(default_factory=Counter)
    deaths: list[tuple[str, str, int]] = field(default_factory=list)  # (name, cause, day)
    winner: Winner | None = None
    events_applied: int = 0

    def apply(self, event: BaseEvent) -> None:
        if event.seq != self.events_applied:
            raise ValueError(f"event seq {event.seq}, expected {self.events_applied}")
        self.events_applied += 1
        if isinstance(event, GameStarted):
            self.seats = tuple(p["name"] for p in event.players)
            self.alive = list(self.seats)
        elif isinstance(event, RoleAssigned):
            self.roles[event.player] = Role(event.role)
        elif isinstance(event, PhaseStarted):
            if event.phase is Phase.DAY:  # day budgets start afresh
                self.public_messages_today = 0
                self.dms_sent_today.clear()
            self.day, self.phase = event.day, event.phase
            self.order = event.order
        elif isinstance(event, Message) and event.phase is Phase.DAY:
            if event.channel is Channel.PUBLIC:
                self.public_messages_today += 1
            elif event.channel is Channel.DM:
                self.dms_sent_today[event.sender] += 1
        elif isinstance(event, NightAction) and event.action == "protect":
            self.last_protected[event.actor] = event.target
        elif isinstance(event, NightAction) and event.action == "shoot":
            self.shots_fired[event.actor] += 1
        elif isinstance(event, PlayerDied):
            self.alive.remove(event.player)
            self.deaths.append((event.player, event.cause, event.day))
        elif isinstance(event, GameOver):
            self.winner = event.winner
            self.phase = Phase.END

    def is_alive(self, name: str) -> bool:
        return name in self.alive

    def living_with_role(self, role: Role) -> list[str]:
        return [p for p in self.alive if self.roles[p] is role]

    def living_with_power(self, power: str) -> list[str]:
        """Living players whose role has this night power and uses of it left, seat order."""
        out = []
        for p in self.alive:
            spec = self.roles[p].spec
            if spec.night == power and (spec.shots is None or self.shots_fired[p] < spec.shots):
                out.append(p)
        return out


def rebuild_state(events: Iterable[BaseEvent]) -> GameState:
    """The state a sequence of events leads to; used to check transcripts and in replay."""
    state = GameState()
    for event in events:
        state.apply(event)
    return state
