"""One decision of a heuristic player: the request, what the player has read and remembers,
and its beliefs, computed on first use."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from mafia.decisions import ABSTAIN, Option, Request
from mafia.enums import Role, Team
from mafia.observation import Observation

from mafia.agents.heuristic import beliefs
from mafia.agents.heuristic.beliefs import View
from mafia.agents.heuristic.speech import Line, join
from mafia.agents.heuristic.table import Table


@dataclass
class Memory:
    """What the player itself did: lines already said, the moment of the day, plans."""

    said: set[tuple[int, str, str]] = field(default_factory=set)  # (day, template, name)
    announced: set[tuple[str, str]] = field(default_factory=set)  # detective: said for good
    day: int = -1
    moment: int = 0  # discussion moments of the current day so far, this one included
    fake_claim: bool | None = None  # mafia: drawn once per game
    counter: dict[str, bool] = field(default_factory=dict)  # mafia: claimant -> will counter
    # How it words things: a generator of its own, so phrasing never changes a decision.
    voice: random.Random = field(default_factory=random.Random)
    dm_day: int = -1  # the last day it sent a private message


@dataclass
class Turn:
    request: Request
    table: Table
    rng: random.Random
    memory: Memory

    @property
    def obs(self) -> Observation:
        return self.request.observation

    @property
    def me(self) -> str:
        return self.request.player

    @property
    def day(self) -> int:
        return self.obs.day

    @property
    def role(self) -> Role:
        return self.obs.role

    @property
    def alive(self) -> tuple[str, ...]:
        return self.obs.alive

    @cached_property
    def legal(self) -> list[Option]:
        """The options, abstaining only when nothing else is legal."""
        legal = [o for o in self.request.options if o != ABSTAIN]
        return legal or list(self.request.options)

    @cached_property
    def targets(self) -> list[str]:
        return [str(o) for o in self.legal]

    @cached_property
    def team(self) -> frozenset[str]:
        """The mafia side: the whole team (dead members included); anyone else: empty."""
        if self.role.team is not Team.MAFIA:
            return frozenset()
        return frozenset((self.me, *self.obs.teammates))

    @cached_property
    def order(self) -> dict[str, int]:
        return beliefs.focal_order(self.table, self.day, self.obs.order)

    @cached_property
    def mine(self) -> View:
        """Beliefs with what this player privately knows (town: itself, its findings)."""
        private: dict[str, Team] = {self.me: self.role.team}
        private.update({m: Team.MAFIA for m in self.team})
        private.update(self.table.findings)
        if self.role is Role.DETECTIVE and self.table.count("detective") == 1:
            private.update({c: Team.MAFIA for c in self.table.detective_claims if c != self.me})
        return beliefs.read(self.table, self.alive, private, self.day)

    @cached_property
    def neutral(self) -> View:
        """Beliefs from public facts only: what the table as a whole can conclude."""
        return beliefs.read(self.table, self.alive, {}, self.day)

    def said(self, key: str, name: str = "") -> bool:
        return (self.day, key, name) in self.memory.said

    def say(self, key: str, name: str = "") -> None:
        self.memory.said.add((self.day, key, name))

    def phrase(self, lines: "list[Line]") -> str:
        return join(lines, self.memory.voice, self.table.heard)

    def votes_today(self) -> Counter[str]:
        return Counter(t for t in self.table.votes.get(self.day, {}).values() if t)

    def claim_accusers(self, subject: str) -> list[str]:
        """Living detective claimants who named `subject` as mafia in their findings."""
        out = []
        for c in self.table.detective_claims:
            if c == self.me or c not in self.alive:
                continue
            if any(s.claim.kind == "accuse" and s.claim.subject == subject
                   for s in beliefs.results(self.table, c)):
                out.append(c)
        return out

    def band_wagon(self, candidates: list[str]) -> str | None:
        """Sequential votes: the candidate with the most votes so far today (2 or more)."""
        votes = self.votes_today()
        best = max(candidates, key=lambda p: (votes[p], -self.order.get(p, 0)), default=None)
        return best if best is not None and votes[best] >= 2 else None
