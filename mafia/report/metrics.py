"""Outcomes: wins per team, and per model (seat spec) and role: wins, survival, invalid
actions, tokens and model time. Counted per seat-game: one seat in one game."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mafia.events import InvalidAction, ModelCall, NightAction, PlayerDied, VoteCast
from mafia.report.load import Game
from mafia.stats import Proportion

# Decisions that always end in a vote_cast / night_action event, the fallback included.
LOGGED_CHOICES = frozenset({"vote", "kill", "protect", "investigate"})


SPEECH_ONLY = frozenset({"mafia_chat", "last_words"})  # requests without options


@dataclass
class SeatFigures:
    """One seat in one game."""

    survived: bool = True
    invalid: int = 0
    decisions: int = 0
    tokens: int = 0
    prompt_tokens: int = 0  # evaluated: not reused from the seat's cache nor copied
    seconds: float = 0.0


def seat_figures(game: Game) -> dict[str, SeatFigures]:
    """Decisions of an llm seat: its requests with options that it answered with at least one
    model call of purpose "choice" (a request may need several: calibration at the seat's
    first request, whom a message is about), plus its invalid actions of requests without
    such a call (a refused model answer is one decision, not two). Other seats log no calls
    and their discussion moves leave no event, so their decisions are their vote_cast and
    night_action events (a refused vote or night choice still ends in one: the fallback)
    plus their other invalid actions."""
    figs = {name: SeatFigures() for name in game.seats}
    llm = {name for name, seat in game.seats.items() if seat.kind == "llm"}
    chosen: set[tuple[str, int]] = set()  # (seat, request) answered by a choice call
    for event in game.events:
        if isinstance(event, ModelCall) and event.player in figs:
            f = figs[event.player]
            f.tokens += event.generated_tokens
            f.prompt_tokens += max(0, event.prompt_tokens - event.reused_tokens
                                   - event.shared_tokens)
            f.seconds += event.latency_ms / 1000
            key = (event.player, event.request)
            if (event.purpose == "choice" and event.player in llm and key not in chosen
                    and event.decision not in SPEECH_ONLY):
                f.decisions += 1
                chosen.add(key)
            continue
        if isinstance(event, InvalidAction) and event.player in figs:
            figs[event.player].invalid += 1
            if event.player in llm:
                counted = (event.player, event.request) in chosen
            else:
                counted = event.decision in LOGGED_CHOICES
            figs[event.player].decisions += not counted
        elif isinstance(event, VoteCast) and event.voter in figs and event.voter not in llm:
            figs[event.voter].decisions += 1
        elif isinstance(event, NightAction) and event.actor in figs and event.actor not in llm:
            figs[event.actor].decisions += 1
        elif isinstance(event, PlayerDied) and event.player in figs:
            figs[event.player].survived = False
    return figs


@dataclass
class SeatTally:
    seat_games: int = 0
    wins: int = 0
    survived: int = 0
    invalid: int = 0
    decisions: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    seconds: float = 0.0

    def add(self, won: bool, f: SeatFigures) -> None:
        self.seat_games += 1
        self.wins += won
        self.survived += f.survived
        self.invalid += f.invalid
        self.decisions += f.decisions
        self.tokens += f.tokens
        self.prompt_tokens += f.prompt_tokens
        self.seconds += f.seconds

    @property
    def win(self) -> Proportion:
        return Proportion(self.wins, self.seat_games)

    @property
    def invalid_rate(self) -> Proportion:
        return Proportion(self.invalid, self.decisions)

    def per_game(self, total: float) -> float:
        return total / self.seat_games if self.seat_games else 0.0

    def to_json(self) -> dict[str, object]:
        return {"seat_games": self.seat_games, "win": self.win.to_json(),
                "survival": Proportion(self.survived, self.seat_games).rate,
                "invalid_actions": self.invalid, "decisions": self.decisions,
                "invalid_rate": self.invalid_rate.rate,
                "tokens_per_game": self.per_game(self.tokens),
                "prompt_tokens_per_game": self.per_game(self.prompt_tokens),
                "seconds_per_game": self.per_game(self.seconds)}


@dataclass
class ModelStats:
    spec: str
    overall: SeatTally = field(default_factory=SeatTally)
    roles: dict[str, SeatTally] = field(default_factory=dict)
    teams: dict[str, SeatTally] = field(default_factory=dict)
    games: int = 0  # games with at least one seat of this spec
    # Games with at least one town seat of this spec, and how many of them town won: one
    # observation per game, since all town seats of a game share its outcome.
    town_games: Proportion = Proportion(0, 0)


@dataclass(frozen=True)
class TeamStats:
    games: int
    town: Proportion
    mafia: Proportion
    draw: Proportion
    mean_days: float
    # Roles with a side of their own (the jester) that sat in these games: side -> wins.
    own: dict[str, Proportion] = field(default_factory=dict)

    def sides(self) -> dict[str, Proportion]:
        """Every outcome in report order: town, mafia, own sides, draw."""
        return {"town": self.town, "mafia": self.mafia, **self.own, "draw": self.draw}


def team_stats(games: Sequence[Game]) -> TeamStats:
    n = len(games)
    own = sorted({s.team.value for g in games for s in g.seats.values()} - {"town", "mafia"})
    wins = {w: sum(g.winner.value == w for g in games) for w in ("town", "mafia", "draw", *own)}
    days = sum(g.days for g in games) / n if n else 0.0
    return TeamStats(n, Proportion(wins["town"], n), Proportion(wins["mafia"], n),
                     Proportion(wins["draw"], n), days, {s: Proportion(wins[s], n) for s in own})


def model_stats(games: Sequence[Game]) -> dict[str, ModelStats]:
    """Per spec, sorted by name: tallies over all its seats, per role and per team."""
    out: dict[str, ModelStats] = {}
    town: dict[str, list[int]] = {}  # spec -> [town games won, town games]
    for game in games:
        figs = seat_figures(game)
        for name, seat in game.seats.items():
            m = out.setdefault(seat.spec, ModelStats(seat.spec))
            won = game.won(seat)
            m.overall.add(won, figs[name])
            m.roles.setdefault(seat.role.value, SeatTally()).add(won, figs[name])
            m.teams.setdefault(seat.team.value, SeatTally()).add(won, figs[name])
        for spec in {s.spec for s in game.seats.values()}:
            out[spec].games += 1
        for spec in {s.spec for s in game.seats.values() if s.team.value == "town"}:
            t = town.setdefault(spec, [0, 0])
            t[0] += game.winner.value == "town"
            t[1] += 1
    for spec, (k, n) in town.items():
        out[spec].town_games = Proportion(k, n)
    return dict(sorted(out.items()))
