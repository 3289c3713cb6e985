"""The random-play baseline: the same rules played by uniformly random players, in-process and
without transcripts, to say what a town win rate means for these rules."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mafia.config import make_rules
from mafia.engine import Engine
from mafia.report.metrics import ModelStats
from mafia.stats import Proportion, two_proportion_z

from mafia.agents.random_player import RandomPlayer


@dataclass(frozen=True)
class Baseline:
    games: int
    first_seed: int
    winners: Counter[str]

    @property
    def town(self) -> Proportion:
        return Proportion(self.winners["town"], self.games)


@dataclass(frozen=True)
class Comparison:
    """A spec's town games (one per game in which it held a town seat) against the baseline."""

    spec: str
    town: Proportion
    z: float | None
    p: float | None

    @property
    def significant(self) -> bool:
        return self.p is not None and self.p < 0.05


def run_baseline(config: Mapping[str, Any], games: int, first_seed: int = 0,
                 on_game: Callable[[int], None] | None = None) -> Baseline:
    """Play `games` random games (seeds first_seed, first_seed + 1, ...) in one event loop."""
    rules = make_rules(**dict(config))
    winners: Counter[str] = Counter()

    async def play_all() -> None:
        for i in range(games):
            seed = first_seed + i
            players = [RandomPlayer(seed, seat) for seat in range(rules.players)]
            result = await Engine(rules, seed, players).run()
            winners[result.winner.value] += 1
            if on_game is not None:
                on_game(i + 1)

    asyncio.run(play_all())
    return Baseline(games, first_seed, winners)


def compare(models: Mapping[str, ModelStats], baseline: Baseline) -> list[Comparison]:
    out = []
    for spec, m in models.items():
        town = m.town_games
        test = two_proportion_z(town.k, town.n, baseline.town.k, baseline.town.n)
        out.append(Comparison(spec, town, *(test if test else (None, None))))
    return out
