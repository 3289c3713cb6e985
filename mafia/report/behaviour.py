"""How players behave, from the events alone: whom they vote for, whom they talk to, how
much they speak. Each vote graph (voter -> target) and DM graph (sender -> recipient) is built
per game day with networkx."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx

from mafia.enums import Channel, Phase, Role, Team
from mafia.events import (InvestigationResult, Message, NightAction, PlayerDied, VoteCast,
                          VoteResult)
from mafia.report.load import Game


@dataclass
class VoteTally:
    """Votes with a target, how many hit the sought players, and how many uniform random
    voting over the same living players would hit on average."""

    votes: int = 0
    hits: int = 0
    expected: float = 0.0

    def add(self, hit: bool, chance: float) -> None:
        self.votes += 1
        self.hits += hit
        self.expected += chance

    @property
    def rate(self) -> float | None:
        return self.hits / self.votes if self.votes else None

    @property
    def random(self) -> float | None:
        return self.expected / self.votes if self.votes else None

    def to_json(self, unit: str = "votes") -> dict[str, object]:
        """`unit` names the count for tallies of other things (days, nights, accusations)."""
        return {unit: self.votes, "hits": self.hits, "rate": self.rate, "random": self.random}


@dataclass
class DayVotes:
    """Per day number, summed over games (for charts)."""

    days: int = 0
    town: VoteTally = field(default_factory=VoteTally)
    distinct_targets: int = 0
    top_share: float = 0.0  # share of the day's votes on its most-accused player
    top_mafia: float = 0.0  # that player was mafia (ties: the share of the tied who were)


@dataclass
class Behaviour:
    town: VoteTally = field(default_factory=VoteTally)  # hits: votes on a mafia player
    town_by_spec: dict[str, VoteTally] = field(default_factory=dict)
    # (spec, "day 1" | "later"): day 1's votes rest on almost nothing; later days' on deaths,
    # revealed roles and votes, so the lift over random play means more there.
    town_by_spec_day: dict[tuple[str, str], VoteTally] = field(default_factory=dict)
    bus: VoteTally = field(default_factory=VoteTally)  # mafia votes; hits: on fellow mafia
    bus_by_spec_day: dict[tuple[str, str], VoteTally] = field(default_factory=dict)
    # Vote rounds in which two or more mafia voted (counted as days); hits: all on one
    # player. Two mafia who split their votes let a scattered town vote land on one of them.
    together: VoteTally = field(default_factory=VoteTally)
    detective: VoteTally = field(default_factory=VoteTally)  # hits: on a mafia they found
    detective_by_spec_day: dict[tuple[str, str], VoteTally] = field(default_factory=dict)
    # A detective who knows no living mafia but has cleared a living player; hits: a vote
    # on a cleared player (lower is better: it wastes what the detective found).
    detective_cleared: VoteTally = field(default_factory=VoteTally)
    # A detective's checks once a living other player has been checked; hits: one of those
    # again (lower is better: the night learns nothing new).
    rechecks: VoteTally = field(default_factory=VoteTally)
    abstains: int = 0
    per_day: dict[int, DayVotes] = field(default_factory=dict)
    vote_edges: int = 0
    vote_reciprocated: float = 0.0
    public: Counter[str] = field(default_factory=Counter)  # seat name -> public messages
    public_expected: defaultdict[str, float] = field(  # under equal shares
        default_factory=lambda: defaultdict(float))
    dms: Counter[str] = field(default_factory=Counter)  # "mafia-mafia", "town-town", "cross"
    living_player_days: int = 0
    dm_edges: int = 0
    dm_reciprocated: float = 0.0

    def add_vote_graph(self, day: int, graph: nx.DiGraph, mafia: set[str]) -> None:
        if graph.number_of_edges() == 0:
            return
        d = self.per_day.setdefault(day, DayVotes())
        indegree = dict(graph.in_degree())
        top = max(indegree.values())
        tops = [p for p, n in indegree.items() if n == top]
        d.days += 1
        d.distinct_targets += sum(1 for n in indegree.values() if n > 0)
        d.top_share += top / graph.number_of_edges()
        d.top_mafia += sum(p in mafia for p in tops) / len(tops)
        self.vote_edges += graph.number_of_edges()
        self.vote_reciprocated += nx.reciprocity(graph) * graph.number_of_edges()

    def add_dm_graph(self, graph: nx.DiGraph) -> None:
        if graph.number_of_edges():
            self.dm_edges += graph.number_of_edges()
            self.dm_reciprocated += nx.reciprocity(graph) * graph.number_of_edges()


def behaviour(games: Sequence[Game]) -> Behaviour:
    b = Behaviour()
    for game in games:
        _game(b, game)
    return b


def _game(b: Behaviour, game: Game) -> None:
    seats = game.seats
    mafia = {n for n, s in seats.items() if s.team is Team.MAFIA}
    alive = list(seats)
    found: dict[str, set[str]] = defaultdict(set)  # detective -> players found to be mafia
    cleared: dict[str, set[str]] = defaultdict(set)  # detective -> players found town
    votes = nx.DiGraph()
    mafia_votes: list[tuple[str, list[str]]] = []  # this vote round's (target, options)
    dm_graphs: dict[int, nx.DiGraph] = defaultdict(nx.DiGraph)
    public = 0
    for event in game.events:
        if isinstance(event, PlayerDied):
            if event.player in alive:  # a hand-edited transcript must not crash the report
                alive.remove(event.player)
        elif isinstance(event, NightAction) and event.action == "investigate":
            known = (found[event.actor] | cleared[event.actor]) & set(alive)
            others = [p for p in alive if p != event.actor]
            if known and others:
                b.rechecks.add(event.target in known, len(known) / len(others))
        elif isinstance(event, InvestigationResult):
            (found if event.result == Role.MAFIA.value else cleared)[event.detective].add(
                event.target)
        elif isinstance(event, Message) and event.channel is Channel.PUBLIC:
            b.public[event.sender] += 1
            public += 1
        elif isinstance(event, Message) and event.channel is Channel.DM:
            b.dms[_pair_kind(event.sender in mafia, event.recipient in mafia)] += 1
            if event.phase is Phase.DAY and event.recipient is not None:
                dm_graphs[event.day].add_edge(event.sender, event.recipient)
        elif isinstance(event, VoteCast):
            b.living_player_days += 1  # every living player casts one vote_cast a day
            _vote(b, game, event, alive, mafia, found, cleared)
            if event.target is not None:
                votes.add_edge(event.voter, event.target)
                if event.voter in mafia and event.voter in alive:
                    mafia_votes.append((event.target, [p for p in alive if p != event.voter]))
        elif isinstance(event, VoteResult):
            b.add_vote_graph(event.day, votes, mafia)
            votes = nx.DiGraph()
            _together(b, mafia_votes)
            mafia_votes = []
    for graph in dm_graphs.values():
        b.add_dm_graph(graph)
    for name in seats:
        b.public_expected[name] += public / len(seats)


def _vote(b: Behaviour, game: Game, event: VoteCast, alive: list[str], mafia: set[str],
          found: dict[str, set[str]], cleared: dict[str, set[str]]) -> None:
    if event.target is None:
        b.abstains += 1
        return
    voter = game.seats.get(event.voter)
    others = [p for p in alive if p != event.voter]
    if voter is None or not others:
        return  # not a seat of this game, or nobody to vote for: malformed, not countable
    when = "day 1" if event.day <= 1 else "later"
    if voter.team is Team.TOWN:
        chance = sum(p in mafia for p in others) / len(others)
        hit = event.target in mafia
        b.town.add(hit, chance)
        b.town_by_spec.setdefault(voter.spec, VoteTally()).add(hit, chance)
        b.town_by_spec_day.setdefault((voter.spec, when), VoteTally()).add(hit, chance)
        b.per_day.setdefault(event.day, DayVotes()).town.add(hit, chance)
    elif voter.team is Team.MAFIA:  # own-side roles (the jester) are neither
        fellows = [p for p in others if p in mafia]
        chance = len(fellows) / len(others)
        b.bus.add(event.target in mafia, chance)
        b.bus_by_spec_day.setdefault((voter.spec, when), VoteTally()).add(
            event.target in mafia, chance)
    known = found[event.voter] & set(alive)
    if voter.role is not Role.DETECTIVE:
        return
    if known:
        b.detective.add(event.target in known, len(known) / len(others))
        b.detective_by_spec_day.setdefault((voter.spec, when), VoteTally()).add(
            event.target in known, len(known) / len(others))
    elif safe := cleared[event.voter] & set(others):
        b.detective_cleared.add(event.target in safe, len(safe) / len(others))


def _together(b: Behaviour, mafia_votes: list[tuple[str, list[str]]]) -> None:
    """One vote round's mafia votes: whether they all went to one player, and the chance of
    that if each had voted uniformly over its own options (everyone living but itself)."""
    if len(mafia_votes) < 2:
        return
    chance = 0.0
    for target in mafia_votes[0][1]:
        p = 1.0
        for _, options in mafia_votes:
            p *= (target in options) / len(options)
        chance += p
    b.together.add(len({t for t, _ in mafia_votes}) == 1, chance)


def _pair_kind(sender_mafia: bool, recipient_mafia: bool) -> str:
    if sender_mafia != recipient_mafia:
        return "cross"
    return "mafia-mafia" if sender_mafia else "town-town"
