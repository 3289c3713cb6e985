"""Play quality, from the events alone: votes that follow a public accusation, whether a
detective uses what they found, doctor saves, and the claims players make in chat (checked
against the real roles). Hit rates come with what uniform random play over the same living
players would give (behaviour.VoteTally). Claims are read by mafia.claims; speech figures live
in report.speech. Public speech is public messages and last words."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mafia.claims import Claim, detect_claims
from mafia.enums import Phase, Role, Team
from mafia.events import (
    GameOver, InvestigationResult, KillDecided, NightAction, NobodyDied, PhaseStarted, PlayerDied,
    VoteCast,
)
from mafia.report.behaviour import VoteTally
from mafia.report.load import Game, Seat
from mafia.report.speech import SpeechTally, names_in, speech, spoken
from mafia.rules import protect_options
from mafia.stats import Proportion


@dataclass
class Split:
    """One tally overall and per spec and team of the seats it is about."""

    all: VoteTally = field(default_factory=VoteTally)
    spec: dict[str, VoteTally] = field(default_factory=dict)
    team: dict[str, VoteTally] = field(default_factory=dict)

    def add(self, seats: Iterable[Seat], hit: bool, chance: float) -> None:
        self.all.add(hit, chance)
        for s in seats:
            self.spec.setdefault(s.spec, VoteTally()).add(hit, chance)
            self.team.setdefault(s.team.value, VoteTally()).add(hit, chance)

    def to_json(self, unit: str, teams: bool = False) -> dict[str, object]:
        out = {**self.all.to_json(unit),
               "by_spec": {s: t.to_json(unit) for s, t in sorted(self.spec.items())}}
        if teams:
            out["by_team"] = {s: t.to_json(unit) for s, t in sorted(self.team.items())}
        return out


@dataclass
class Share:
    """k of n overall and per spec (no random reference)."""

    all: list[int] = field(default_factory=lambda: [0, 0])
    spec: dict[str, list[int]] = field(default_factory=dict)

    def add(self, spec: str, hit: bool) -> None:
        for kn in (self.all, self.spec.setdefault(spec, [0, 0])):
            kn[0] += hit
            kn[1] += 1

    def to_json(self) -> dict[str, object]:
        return {**Proportion(*self.all).to_json(),
                "by_spec": {s: Proportion(*kn).to_json() for s, kn in sorted(self.spec.items())}}


@dataclass
class Quality:
    follow: Split = field(default_factory=Split)  # votes; hits: on a player accused that day
    names_known: Split = field(default_factory=Split)  # detective-days; hits: named a found mafia
    accuses_known: Split = field(default_factory=Split)  # the same; hits: accused one
    saves: Split = field(default_factory=Split)  # nights with a kill target; hits: prevented
    town_accusations: Split = field(default_factory=Split)  # public, by town; hits: on mafia
    mafia_lies: Share = field(default_factory=Share)  # public claims by mafia; hits: false
    # "where/team" -> messages, messages with a claim; "where/team/kind" -> claims, true ones
    messages: Counter[str] = field(default_factory=Counter)
    with_claims: Counter[str] = field(default_factory=Counter)
    claims: Counter[str] = field(default_factory=Counter)
    true: Counter[str] = field(default_factory=Counter)
    speech: SpeechTally = field(default_factory=SpeechTally)
    speech_by_spec: dict[str, SpeechTally] = field(default_factory=dict)


def quality(games: Sequence[Game]) -> Quality:
    q = Quality()
    for game in games:
        _Pass(q, game).run()
    q.speech, q.speech_by_spec = speech(games)
    return q


def chance_to_name(others: int, sought: int, named: int) -> float:
    """P(a uniformly random set of `named` of `others` players holds one of `sought`)."""
    if named <= 0 or others <= 0:
        return 0.0
    return 1 - math.comb(others - sought, named) / math.comb(others, named)


@dataclass
class _Day:
    alive: list[str]  # at the day's start, after the dawn death
    said: defaultdict[str, list[tuple[str, list[Claim]]]] = field(
        default_factory=lambda: defaultdict(list))  # public speech of each speaker


class _Pass:
    """One game, event by event."""

    def __init__(self, q: Quality, game: Game) -> None:
        self.q, self.game, self.seats = q, game, game.seats
        self.roles: dict[str, Role] = {n: s.role for n, s in game.seats.items()}
        self.mafia = {n for n, s in game.seats.items() if s.team is Team.MAFIA}
        self.alive = list(game.seats)
        self.found: defaultdict[str, set[str]] = defaultdict(set)  # detective -> mafia found
        self.accused: set[str] = set()  # accused in public speech so far this phase
        self.day: _Day | None = None
        self.protects: dict[str, str] = {}  # doctor -> target, tonight
        self.last_protect: dict[str, str] = {}  # doctor -> target, the night before
        self.kill: tuple[str, float, list[Seat]] | None = None  # target, chance, doctors

    def run(self) -> None:
        for event in self.game.events:
            if isinstance(event, (PhaseStarted, GameOver)):
                self._end_day()
                self.accused = set()
                if isinstance(event, PhaseStarted) and event.phase is Phase.NIGHT:
                    self.last_protect.update(self.protects)
                    self.protects = {}
                if isinstance(event, PhaseStarted) and event.phase is Phase.DAY:
                    self.day = _Day(list(self.alive))
            elif isinstance(event, PlayerDied):
                _drop(self.alive, event.player)
                if event.cause == "night":  # at dawn: the day starts without them
                    _drop(self.day.alive if self.day else [], event.player)
                    self._dawn(prevented=False)
            elif isinstance(event, NobodyDied):
                self._dawn(prevented=True)
            elif isinstance(event, InvestigationResult) and event.result == Role.MAFIA.value:
                self.found[event.detective].add(event.target)
            elif isinstance(event, NightAction) and event.action == "protect":
                self.protects[event.actor] = event.target
            elif isinstance(event, KillDecided) and event.target is not None:
                self._kill_decided(event.target)
            elif isinstance(event, VoteCast):
                self._vote(event)
            said = spoken(event)
            if said is not None and said[0] in self.seats:
                self._speech(*said)

    def _others(self, player: str) -> list[str]:
        return [p for p in self.alive if p != player]

    def _kill_decided(self, target: str) -> None:
        cfg = self.game.config
        doctors = [self.seats[p] for p in self.alive if self.roles[p] is Role.DOCTOR]
        miss = 1.0  # P(no random doctor protects the target)
        for d in doctors:
            opts = protect_options(d.name, self.alive, self.last_protect.get(d.name),
                                   bool(cfg.get("doctor_self_save", True)),
                                   bool(cfg.get("doctor_repeat_save", True)))
            miss *= 1 - (target in opts) / len(opts)
        self.kill = (target, 1 - miss, doctors)

    def _dawn(self, prevented: bool) -> None:
        if self.kill is None:
            return
        target, chance, doctors = self.kill
        hit = prevented and target in self.protects.values()
        self.q.saves.add(doctors, hit, chance)
        self.kill = None

    def _vote(self, event: VoteCast) -> None:
        voter = self.seats.get(event.voter)
        others = self._others(event.voter)
        if voter is None or event.target is None or not others:
            return
        chance = len(self.accused.intersection(others)) / len(others)
        self.q.follow.add([voter], event.target in self.accused, chance)

    def _speech(self, speaker: str, where: str, text: str) -> None:
        q, seat = self.q, self.seats[speaker]
        claims = detect_claims(text, speaker, list(self.seats))
        key = f"{where}/{seat.team.value}"
        q.messages[key] += 1
        q.with_claims[key] += bool(claims)
        for c in claims:
            q.claims[f"{key}/{c.kind}"] += 1
            q.true[f"{key}/{c.kind}"] += c.true_for(self.roles)
        if where != "public":
            return
        self.accused.update(c.subject for c in claims if c.kind == "accuse")
        if self.day is not None:
            self.day.said[speaker].append((text, claims))
        others = self._others(speaker)
        for c in claims:
            if seat.team is Team.MAFIA:
                q.mafia_lies.add(seat.spec, not c.true_for(self.roles))
            elif seat.team is Team.TOWN and c.kind == "accuse" and c.subject in others:
                chance = len(self.mafia.intersection(others)) / len(others)
                q.town_accusations.add([seat], c.subject in self.mafia, chance)

    def _end_day(self) -> None:
        """Each detective alive at the day's start who knew a living mafia: did they name one
        (and accuse one) in public that day?"""
        day, self.day = self.day, None
        if day is None:
            return
        for name in day.alive:
            known = self.found[name].intersection(day.alive)
            if self.roles[name] is not Role.DETECTIVE or not known:
                continue
            others = [p for p in day.alive if p != name]
            named: set[str] = set()
            accused: set[str] = set()
            for text, claims in day.said[name]:
                named |= names_in(text, others)
                accused |= {c.subject for c in claims if c.kind == "accuse"} & set(others)
            seat = [self.seats[name]]
            self.q.names_known.add(seat, bool(named & known),
                                   chance_to_name(len(others), len(known), len(named)))
            self.q.accuses_known.add(seat, bool(accused & known),
                                     chance_to_name(len(others), len(known), len(accused)))


def _drop(players: list[str], player: str) -> None:
    if player in players:  # a hand-edited transcript must not crash the report
        players.remove(player)
