"""What one heuristic player has read so far: facts taken from the events it saw.

The observation's event list only grows at its end, so the table reads each event once (a
cursor into `Observation.events`). Claims in public chat and last words come from the shared
claim detector (mafia.claims); the only other text read in the mafia channel is a
night's first kill proposal ("Kill NAME.") and vote plan ("Tomorrow we vote NAME."), the lines
heuristic mafia use to agree on a target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from mafia.claims import Claim, detect_claims
from mafia.config import Rules
from mafia.enums import Channel, Phase, Role, Team
from mafia.events import (
    GameStarted, InvestigationResult, KillDecided, LastWords, Message, NobodyDied, PlayerDied,
    VoteCast, VoteResult,
)
from mafia.observation import Observation
from mafia.text import normalise


@dataclass(frozen=True)
class Said:
    """One claim made in public (a message or last words)."""

    seq: int
    day: int
    claim: Claim


@lru_cache(maxsize=64)
def _kill_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\bkill\s+{re.escape(name)}\b", re.I)


def _vote_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\bvote\s+(?:for\s+)?{re.escape(name)}\b", re.I)


def team_of(shown: str) -> Team | None:
    """A revealed role or team word as a team (None: not revealed or not a word we know)."""
    if shown in {t.value for t in Team}:
        return Team(shown)
    if shown in {r.value for r in Role}:
        return Role(shown).team
    return None


@dataclass
class Table:
    me: str
    rules: Rules  # the game's rules, as every request carries them
    seed: int = 0
    seats: tuple[str, ...] = ()
    said: list[Said] = field(default_factory=list)
    detective_claims: dict[str, int] = field(default_factory=dict)  # claimant -> first seq
    role_claims: dict[str, str] = field(default_factory=dict)  # player -> latest role claimed
    revealed: dict[str, Team] = field(default_factory=dict)  # dead player -> team shown
    revealed_role: dict[str, str] = field(default_factory=dict)  # ... and role, if shown
    night_killed: set[str] = field(default_factory=set)  # always town: kills skip mafia
    votes: dict[int, dict[str, str | None]] = field(default_factory=dict)  # day -> votes
    eliminated: dict[int, str] = field(default_factory=dict)  # day -> voted out
    findings: dict[str, Team] = field(default_factory=dict)  # this detective's results
    proposals: dict[int, str] = field(default_factory=dict)  # night's day -> first "Kill X"
    plans: dict[int, str] = field(default_factory=dict)  # night's day -> first "vote X"
    last_kill: str | None = None  # mafia: the last kill_decided target
    last_kill_failed: bool = False  # ... and nobody died at the dawn after it
    heard: set[str] = field(default_factory=set)  # every message and last words seen, normalised
    read: int = 0

    def update(self, obs: Observation) -> None:
        for event in obs.events[self.read:]:
            self._read(event, obs)
        self.read = len(obs.events)

    def _read(self, e: object, obs: Observation) -> None:
        if isinstance(e, (Message, LastWords)):
            self.heard.add(normalise(e.text))
        if isinstance(e, GameStarted):
            self.seed = e.seed
            self.seats = tuple(p["name"] for p in e.players)
        elif isinstance(e, Message) and e.channel is Channel.PUBLIC:
            self._claims(e.seq, e.day, e.sender, e.text)
        elif isinstance(e, LastWords):
            self._claims(e.seq, e.day, e.player, e.text)
        elif isinstance(e, Message) and e.channel is Channel.MAFIA and e.phase is Phase.NIGHT:
            for found, pattern in ((self.proposals, _kill_pattern), (self.plans, _vote_pattern)):
                named = [n for n in self.seats if pattern(n).search(e.text)]
                if e.day not in found and len(named) == 1:
                    found[e.day] = named[0]
        elif isinstance(e, PlayerDied):
            shown = e.role or (e.team.value if e.team else "unknown")
            team = team_of(shown)
            if team is not None:
                self.revealed[e.player] = team
            if e.role:
                self.revealed_role[e.player] = e.role
            if e.cause == "night":
                self.night_killed.add(e.player)
        elif isinstance(e, VoteCast):
            self.votes.setdefault(e.day, {})[e.voter] = e.target
        elif isinstance(e, VoteResult) and e.eliminated is not None:
            self.eliminated[e.day] = e.eliminated
        elif isinstance(e, InvestigationResult):
            self.findings[e.target] = team_of(e.result) or Team.TOWN
        elif isinstance(e, KillDecided):
            self.last_kill, self.last_kill_failed = e.target, False
        elif isinstance(e, NobodyDied):
            self.last_kill_failed = self.last_kill is not None

    def _claims(self, seq: int, day: int, speaker: str, text: str) -> None:
        for claim in detect_claims(text, speaker, self.seats):
            self.said.append(Said(seq, day, claim))
            if claim.kind == "role":
                self.role_claims[speaker] = claim.value
                if claim.value == "detective":
                    self.detective_claims.setdefault(speaker, seq)

    def count(self, role: str) -> int:
        """How many seats the rules deal this role."""
        return self.rules.count(Role(role))

    @property
    def shooters(self) -> bool:
        """A role that kills at night besides the mafia is in play (so a night victim may
        be mafia)."""
        return any(n and r.spec.night == "shoot" for r, n in self.rules.roles.items())

    def rule(self, name: str) -> object:
        return getattr(self.rules, name)
